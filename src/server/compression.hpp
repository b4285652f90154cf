// Which content coding a response is sent in (RFC 9110 8.4, 12.5.3): the decisions, as pure
// functions of the options and the request. The bytes are made by server/compressed_body
// (on the fly) or come from a precompressed file (server/precompressed).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "http/content_coding.hpp"
#include "http/request_parser.hpp"
#include "server/options.hpp"

namespace httpfs::server {

// What a body is: a file of `size` bytes, or a listing (made in memory, no upper bound but
// --max-listing).
enum class BodyKind { File, Listing };

// The codings this server can make on the fly for a body of `type` and `size`: zstd and gzip
// when --compress is on, the type compresses (http::is_compressible_type), the size is
// within --compress-min and (files only) --compress-max, and the request has no Range (a
// range is served from the identity bytes, which are stable; coded ones are not).
http::CodingSet on_the_fly_codings(const ServerOptions& o, const http::RequestHead& req,
                                   std::string_view type, std::uint64_t size, BodyKind kind);

// True when the answer for such a file may depend on Accept-Encoding: precompressed
// siblings are looked for (one may appear at any time), or it can be coded on the fly. Such
// answers carry `Vary: Accept-Encoding` (RFC 9110 12.5.5), a 304 included.
bool varies_by_coding(const ServerOptions& o, std::string_view type, std::uint64_t size);

// The coding `req` accepts best among `available`: identity without Accept-Encoding.
http::Coding negotiate_coding(const http::RequestHead& req, http::CodingSet available);

// One way to send a file in a coding: from its precompressed sibling, or coded on the fly.
struct CodingChoice {
  http::Coding coding;
  bool precompressed;
  bool operator==(const CodingChoice&) const = default;
};
// The ways to try, best first, for codings that may have a sibling (`precompressed`) and
// those that can be made on the fly: by the client's q, highest first; at equal q a sibling
// before coding on the fly (made once, offline, often smaller, and it costs no CPU), then by
// kCodingPreference. Codings the client does not accept are left out; identity comes after
// the list. Empty without Accept-Encoding.
std::vector<CodingChoice> coding_choices(const http::RequestHead& req,
                                         http::CodingSet precompressed, http::CodingSet on_the_fly);

// The entity-tag of a body coded on the fly from the representation tagged `etag`: weak
// (RFC 9110 8.8.1), since two runs of a coder need not give the same bytes, and distinct per
// coding: "\"abc\"" and gzip give W/"abc-gzip".
std::string coded_etag(std::string_view etag, http::Coding coding);

}  // namespace httpfs::server
