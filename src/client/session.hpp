// One httpc run: the request the options describe, carried out as one or more Transfers
// (redirects with -L, retries with --retry, a resume with -C -), with the body written where
// it belongs (a .part file renamed when complete, or stdout), digests checked, and one exit
// code. What each answer means is decided by client/policy.hpp.
//
// Lifetime: owned by the run's Batch (client/batch.hpp) with its options, which outlive it;
// at most one Transfer at a time, which calls back here until its on_finished(). After
// finish() its timers close; closed() says when it may be freed.
#pragma once

#include <sys/stat.h>
#include <uv.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "client/cookie_jar.hpp"
#include "client/file_output.hpp"
#include "client/options.hpp"
#include "client/progress.hpp"
#include "client/segmented_download.hpp"
#include "client/transfer.hpp"
#include "client/upload_memo.hpp"
#include "client/write_out.hpp"
#include "http/content_decoder.hpp"
#include "io/sha256.hpp"
#include "net/tls.hpp"

namespace httpfs::client {

class ConnectionPool;
class Session;

// What the Sessions of one run share, owned by the run (client/batch.hpp).
struct RunShared {
  ConnectionPool* pool = nullptr;  // idle connections for the next request to an origin
  CookieJar* jar = nullptr;        // -b FILE and -c: loaded before and saved after the run
  int dump_fd = -1;                // -D: where heads go (1 for "-"), opened once
  bool progress = true;            // a progress line on a terminal (not with -Z)
  // The run's TLS settings, made on first use (without and with h2 offered by ALPN): one
  // context for every URL, so that connections to an origin are reused across them.
  std::unique_ptr<net::TlsContext> tls[2];
  std::function<void(Session&)> on_done;  // after finish(): exit_code() is known
};

class Session final : public Transfer::Handler, public SegmentedDownload::Owner {
 public:
  Session(uv_loop_t* loop, const ClientOptions& o, RunShared& shared)
      : loop_(loop), o_(o), shared_(shared) {}

  // Writes all of `data` to `fd` (waiting when it is non-blocking): 0 or an errno value.
  static int write_all(int fd, std::string_view data);

  // The proxy for a request to `url` (-x, --noproxy, the environment): 0 or kUsage.
  static int proxy_for(const ClientOptions& o, const http::Url& url,
                       std::optional<RequestSpec::Proxy>& proxy);
  // A request of a walk (--mirror's listings, --upload-tree's MKCOLs) to `url`: the -H
  // fields, -u USER:PASS as Basic credentials, timeouts, the pool, the proxy and TLS. An
  // empty string, or why it cannot be made.
  static std::string walk_spec(const ClientOptions& o, RunShared& shared, const http::Url& url,
                               RequestSpec& spec);
  // The run's TLS context for https (made on first use): nullptr and `error` when it fails.
  static const net::TlsContext* run_tls(RunShared& shared, const ClientOptions& o, bool offer_h2,
                                        std::string& error);

  // Sets up and starts the first transfer: -1 while running, else the exit code.
  int start();
  int exit_code() const noexcept { return exit_; }
  // The failure's line (empty on success, or when start() reported it itself).
  const std::string& error() const noexcept { return facts_.errormsg; }
  // The final answer's status (0 without one).
  int last_status() const noexcept { return facts_.http_code; }
  // finish() came and every handle is closed: the Session may be freed.
  bool closed() const noexcept { return !timers_open_ && timers_closing_ == 0 && !current_; }

  // Transfer::Handler
  void on_interim(const http::ResponseHead& head) override;
  void on_http2() override { http2_ = true; }
  int on_head(const http::ResponseHead& head) override;
  int on_body(std::string_view data) override;
  int splice_fd() override;
  void on_spliced(std::uint64_t n) override;
  void on_body_sent(std::uint64_t n) override;
  void on_finished(TransferResult r) override;

 private:
  // SegmentedDownload::Owner
  void on_segment_bytes(std::uint64_t n) override;
  void on_segment_head(const http::ResponseHead& head) override;
  void on_segments_done(int code, bool restart, std::string why) override;
  // --segments: the answer `h` is fetched again as ranges into the .part file; its own
  // transfer ends (kSegmented). 0 when it is not worth it, else the code on_head returns.
  int maybe_segment(const http::ResponseHead& h);
  // -C - with a segment record beside the .part file: every segment continues. False when
  // there is none to trust (the record is removed then; the download starts as usual).
  bool resume_segments();
  // Starts the ranges `map` still needs into the open .part file, recorded in `record`:
  // 0 or kLocalFile.
  int start_segments(SegmentMap map, std::string record);
  // `spec` with the Cookie field the run's cookies give it (unless -H gave one).
  RequestSpec with_cookies(RequestSpec spec) const;
  // The finished file against the digest the server sent: 0 or kIntegrity (reported).
  int check_file_digest();
  static void on_retry_timer(uv_timer_t* t);
  static void on_max_timer(uv_timer_t* t);
  static void on_timer_closed(uv_handle_t* h);
  // -u and the netrc file: an Authorization field for the URL's origin, unless -H gave one.
  int add_credentials();
  // -d, --data-urlencode and --json joined (files read): 0 or an exit code.
  int join_data(std::string& out, bool& json);
  // -z and --etag-compare: the conditional fields.
  int add_conditions();
  // -b NAME=VALUE strings, for the URL's origin (files are the run's jar).
  void load_cookies();
  // The proxy for a request to `url` (-x, --noproxy, the environment): spec_.proxy.
  int route(const http::Url& url);
  // The Cookie field for a request to spec's URL: the -b string (the URL's origin only) and
  // the jar's cookies that match.
  std::string cookie_field(const RequestSpec& spec) const;
  // --max-filesize was passed (`bytes`: the length, or what arrived): the exit code.
  int too_large(std::uint64_t bytes);
  // --etag-save: the answer's ETag (or nothing) kept in the file: 0 or kLocalFile.
  int save_etag(const TransferResult& r);
  int prepare_body();
  // -F: the multipart/form-data body as parts, file fields as file ranges (form_fds_).
  int prepare_form();
  int prepare_output();
  void begin_transfer();
  int open_file(const http::ResponseHead& h);
  // -J: the output takes the name Content-Disposition offers, when it is safe.
  int name_from_disposition(const http::ResponseHead& h);
  void note_digests(const http::ResponseHead& h);
  int start_decoding(const http::ResponseHead& h, bool append);
  int emit(std::string_view data);
  std::string decoding_problem() const;
  void failed(const TransferResult& r);
  void follow(const TransferResult& r);
  void complete(const TransferResult& r);
  void retry_or_fail(int code, const std::string& why, std::uint64_t wait_ms);
  void finish(int code, const std::string& message);
  void close_handles();
  int write_stdout(std::string_view data);

  void print_head(const TransferResult& r);
  // The TLS settings for https URLs, made once. An empty string, or the reason it failed.
  std::string ensure_tls();
  // "HTTP/1.1 200 OK", or "HTTP/2 200" once the connection speaks HTTP/2.
  std::string status_line(int version_minor, int status, std::string_view reason) const;

  // Resumable uploads (draft-ietf-httpbis-resumable-upload, interop 8): the first request
  // offers resumption; when the server named the upload (104) and the transfer then fails,
  // the offset is asked (HEAD) and the rest appended (PATCH) until done or out of tries.
  enum class UploadStep : std::uint8_t {
    Send,    // the PUT or POST itself, with Upload-Complete: ?1
    Probe,   // HEAD on the upload: its offset
    Append,  // PATCH from that offset to the end
    Cancel,  // DELETE: the source changed, the upload cannot be finished
  };
  void start_resumable(const struct stat& st);
  RequestSpec upload_spec() const;
  bool upload_finished(const TransferResult& r);  // false: the ordinary rules apply
  void probe_finished(const TransferResult& r);
  void probe_soon();
  void upload_give_up(int code, const std::string& why);
  void cancel_upload(std::string why);
  bool source_changed() const;
  void remember_upload();
  void forget_upload();
  void schedule(std::uint64_t wait_ms);

  uv_loop_t* loop_;
  const net::TlsContext* tls_ = nullptr;  // one of shared_.tls
  const ClientOptions& o_;
  RunShared& shared_;
  RequestSpec spec_;
  int upload_fd_ = -1;
  std::vector<int> form_fds_;  // -F files, open until the run ends
  bool body_replayable_ = true;
  std::unique_ptr<FileOutput> file_;
  bool to_stdout_ = false;
  int stream_fd_ = 1;  // where a body for the standard output goes (or -o DEVICE)
  bool explicit_stdout_ = false;
  bool named_by_server_ = false;  // -J named the file: it never replaces one
  bool length_known_ = false;     // the answer's head gave its length
  std::string cookie_string_;     // -b NAME=VALUE...: for the origin named
  http::Url first_url_;           // the URL given (for the origin of -b strings)
  std::string heads_;             // -i: heads not yet written, written before the body
  // -w: what the run did, gathered as it goes; printed by finish().
  RunFacts facts_;
  std::uint64_t started_ns_ = 0;
  void write_out();
  Transfer* current_ = nullptr;
  Progress progress_;
  uv_timer_t retry_timer_{};
  uv_timer_t max_timer_{};
  bool timers_open_ = false;
  int timers_closing_ = 0;
  int retries_left_ = 0;
  int redirects_ = 0;
  int attempt_ = 0;
  int exit_ = 0;
  bool done_ = false;

  // Per attempt.
  bool writing_ = false;  // this answer's body goes to the output
  bool first_chunk_ = true;
  bool http2_ = false;             // the current transfer's connection speaks HTTP/2
  std::uint64_t resume_from_ = 0;  // bytes of the .part file this attempt asked to continue
  std::unique_ptr<io::Sha256> content_sha_, repr_sha_;
  std::string content_digest_, repr_digest_;
  // --compressed: the answer's content coding, undone on the way to the output. Digests and
  // the progress line count the coded bytes as they came; repr_decoded_sha_ hashes the
  // decoded ones too (see judge_digests).
  std::unique_ptr<http::ContentDecoder> decoder_;
  std::string decoded_;  // one decode() call's output: at most ContentDecoder::kMaxOutput
  std::unique_ptr<io::Sha256> repr_decoded_sha_;
  std::optional<std::int64_t> last_modified_;

  // Resumable uploads.
  bool resumable_ = false;
  UploadStep step_ = UploadStep::Send;
  std::optional<http::Url> upload_at_;  // the upload resource, once known
  std::uint64_t upload_offset_ = 0;     // where the server's offset was last
  bool probed_ = false;                 // an offset has been seen
  int upload_tries_ = 5;                // stalled attempts allowed (--retry)
  int stalled_ = 0;                     // appends in a row that brought no progress
  int probe_failures_ = 0;              // probes in a row that got no answer
  struct stat source_ {};               // the file when the upload began
  std::unique_ptr<UploadMemos> memos_;  // -C -'s memory of unfinished uploads

  // --segments: the ranges in flight (kept until the Session ends once started).
  std::unique_ptr<SegmentedDownload> segments_;
  bool segmenting_ = false;    // segments_ drives the download now
  bool segments_off_ = false;  // the server would not serve ranges of one version: one stream
  std::string cancel_reason_;
};

}  // namespace httpfs::client
