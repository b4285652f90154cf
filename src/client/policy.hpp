// httpc's decisions, as pure functions: what a redirect does to the request, when and after
// how long to try again, what an answer to a resumed download means, and whether a body
// matches the digests its answer sent. The Session (client/session.hpp) asks; nothing here
// touches the network, the clock or a file.
#pragma once

#include <cstdint>
#include <ctime>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "client/options.hpp"
#include "http/content_coding.hpp"
#include "http/url.hpp"

namespace httpfs::client {

using Headers = std::vector<std::pair<std::string, std::string>>;

// Whether `headers` has a field named `lower_name` (given in lower case), in any case.
bool has_header(const Headers& headers, std::string_view lower_name) noexcept;

// ---- redirects (RFC 9110 15.4)

struct Redirect {
  std::string method;      // the method of the next request
  bool drop_body = false;  // the next request has no body (nor Content-Type/-Length)
};
// 303 turns anything but HEAD into GET; 301 and 302 turn POST into GET (as browsers and
// curl do); 307, 308 and the rest keep the method and the body.
Redirect redirect(int status, std::string_view method);

bool same_origin(const http::Url& a, const http::Url& b) noexcept;
// The headers of the request that follows a redirect from `from` to `to`: without the
// body's fields when `drop_body`, without credentials (Authorization, Cookie) when the
// origin changes.
Headers redirected_headers(const Headers& headers, const http::Url& from, const http::Url& to,
                           bool drop_body);

// ---- retries

// Answers worth asking again: 408, 429, 500, 502, 503, 504.
bool retryable_status(int status) noexcept;
// Failures worth trying again (a refused connection, a timeout, a body cut short; with
// `all_errors`, --retry-all-errors, any failure of the exchange: not a local file, a usage
// or internal error, nor --max-filesize), when the request can be sent again: its body can
// be replayed, or it was never sent.
bool retryable_failure(int exit_code, bool body_replayable, bool request_sent,
                       bool all_errors = false) noexcept;
// RFC 9110 9.2.2: GET, HEAD, OPTIONS, TRACE, PUT and DELETE (case-sensitive). Only these go
// out on a reused keep-alive connection, since only these may be sent again when that
// connection turns out closed with nothing answered (RFC 9112 9.3.1.1): a POST or PATCH that
// a server may have applied before it closed is never sent twice.
bool idempotent_method(std::string_view method) noexcept;
// The wait before attempt `attempt` + 1 (1-based): 1 s, 2 s, 4 s, ..., at most kMaxRetryWait.
std::uint64_t backoff_ms(int attempt) noexcept;
// Retry-After (RFC 9110 10.2.3), delay-seconds or an HTTP-date, as a wait from `now`; at
// most kMaxRetryWait; nullopt when the value is neither.
std::optional<std::uint64_t> retry_after_ms(std::string_view value, std::time_t now);
inline constexpr std::uint64_t kMaxRetryWaitMs = 600 * 1000;

// ---- resuming a download (RFC 9110 14.4, 15.5.17)

enum class Resume : std::uint8_t {
  Fresh,     // the answer is the whole representation: write it from the start
  Append,    // 206 for exactly the rest (to the end, or an unknown end): append it
  Complete,  // 416 "bytes */N" with N what the .part file holds: it is whole already
  Refused,   // 416 for another length: the .part file is not what the server has
  Mismatch,  // 206 for a range that was not asked for: nothing may be spliced in
};
// `resume_from`: bytes the .part file held when the request asked for the rest (0: a
// request without Range).
Resume judge_resume(int status, std::string_view content_range, std::uint64_t resume_from);

// The validator a .part file is kept under: a strong ETag, else Last-Modified; empty when
// neither (such a download cannot be resumed safely).
std::string part_validator(std::string_view etag, std::string_view last_modified);

// ---- walks (--mirror, --upload-tree)

// The URL of a directory to walk: an http(s) URL without a query, its path made to end in
// '/'. nullopt and `error` otherwise.
std::optional<http::Url> parse_directory_url(std::string_view text, std::string& error);

// ---- segmented downloads (--segments N, client/segmented_download.hpp)

// How many segments an answer to a plain GET can be fetched in again: `wanted` when it is a
// 200 of known length with `Accept-Ranges: bytes`, no content coding (ranges are of the coded
// bytes then) and a validator to pin the ranges to (part_validator), else 1; fewer for a
// small file (plan_segments: none under kMinSegment).
int segments_for(int status, bool length_known, std::uint64_t length,
                 std::string_view accept_ranges, std::string_view content_encoding,
                 std::string_view validator, int wanted);
// A 206's Content-Range is exactly bytes first-last of a representation `length` long.
bool range_answers(std::string_view content_range, std::uint64_t first, std::uint64_t last,
                   std::uint64_t length);

// ---- resumable uploads (draft-ietf-httpbis-resumable-upload, interop version 8)

inline constexpr std::uint64_t kResumableThreshold = 8ull << 20;  // --resumable auto
// Whether an upload of a regular file of `size` bytes with `method` offers resumption.
bool offers_resumption(ResumableMode mode, std::string_view method, std::uint64_t size) noexcept;

// What follows one attempt to send (part of) a resumable upload: `exit_code` 0 when an
// answer came, with `status`; `have_upload` once the server has named the upload resource.
enum class UploadNext : std::uint8_t {
  Answer,  // the answer stands (success or a refusal): report it
  Probe,   // the transfer failed or the server erred: ask the upload's offset, then append
};
UploadNext after_upload_attempt(bool have_upload, int exit_code, int status) noexcept;

// What an offset probe (HEAD on the upload resource) found.
enum class Probe : std::uint8_t {
  Append,     // append from `offset`
  Completed,  // the server has it all: the last answer was lost on its way back
  Gone,       // 404 or 410: the upload is no more; start a new one
  Again,      // the probe failed (no answer, 5xx): ask again later
  Refused,    // any other answer (or an offset past the file): report it
};
Probe judge_probe(int exit_code, int status, std::string_view upload_offset,
                  std::string_view upload_complete, std::uint64_t size,
                  std::uint64_t& offset) noexcept;

// ---- digests (RFC 9530)

enum class Digest : std::uint8_t { Match, ContentMismatch, ReprMismatch };
// `*_expected` empty: no such header came. Content-Digest covers the bytes of this answer,
// Repr-Digest the whole file (after a resume: what the .part file held, then this answer).
// With a content coding both cover the coded bytes (RFC 9530 B.4: the selected
// representation is the coded one). Some servers hash the decoded bytes for Repr-Digest
// instead: `repr_decoded_actual`, the digest of what --compressed decoded, is accepted too.
// Either match proves the bytes, and neither reading fails a good download.
Digest judge_digests(std::string_view content_expected, std::string_view content_actual,
                     std::string_view repr_expected, std::string_view repr_actual,
                     std::string_view repr_decoded_actual = {});

// ---- content codings (--compressed; RFC 9110 8.4)

// The Accept-Encoding --compressed sends: every coding http::ContentDecoder decodes.
inline constexpr std::string_view kAcceptEncoding = "zstd, gzip, br";

// The content coding of an answer from its Content-Encoding fields (their values joined with
// ", "): identity when there are none or only "identity"; nullopt when it names a coding
// httpc cannot decode, or several codings, and then `what` says which, for the error line.
std::optional<http::Coding> answer_coding(std::string_view content_encoding, std::string& what);

// ---- names

// -O: the file name a URL's last path segment gives; empty when it gives none that is safe
// ("", ".", "..", an encoded "/" or NUL).
std::string remote_file_name(std::string_view target);

// An HTTP proxy, from -x or the environment: where to connect, and its credentials.
struct ProxySpec {
  std::string host;
  std::uint16_t port = 1080;  // curl's default when the text names none
  std::string user, password;
  bool has_credentials = false;
};
// Parses "[http://][user[:password]@]host[:port]" (user and password percent-decoded).
// nullopt, with `error` set, for another scheme (https and socks proxies are not spoken),
// a bad port or an empty host.
std::optional<ProxySpec> parse_proxy(std::string_view text, std::string& error);
// The proxy the environment names for a URL of `scheme`, as curl reads it: http_proxy (only
// in lower case, as curl: HTTP_PROXY may be set by a CGI request) for http, https_proxy or
// HTTPS_PROXY for https, then all_proxy or ALL_PROXY. "" for none. `env` is getenv's like.
std::string proxy_from_environment(std::string_view scheme, const char* (*env)(const char* name));
// Whether no_proxy (or --noproxy) says to go direct to host:port, as curl matches: a list
// split by commas (and blanks); "*" alone matches every host; an entry matches the host or
// its subdomains (a leading dot is ignored), an IP address the same address (brackets of
// IPv6 ignored), and "entry:port" only that port. Case-insensitive.
bool no_proxy_matches(std::string_view list, std::string_view host, std::uint16_t port);

// -J: the file name a Content-Disposition value offers (RFC 6266 4.3: filename* in UTF-8
// before filename; a quoted string unescaped), made safe to create here: only what follows
// the last '/' or '\\', and "" when that is empty, "." or "..", hidden (a leading dot),
// longer than 255 bytes, not UTF-8, holds a control byte, or is a device name of Windows
// (CON, PRN, AUX, NUL, COM1-9, LPT1-9, with any extension).
std::string disposition_file_name(std::string_view content_disposition);

}  // namespace httpfs::client
