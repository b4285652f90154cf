#include "server/compression.hpp"

#include "http/chars.hpp"
#include "http/mime.hpp"

namespace httpfs::server {

namespace {

const http::CodingSet kOnTheFly{http::Coding::Zstd, http::Coding::Gzip};

bool type_and_size_qualify(const ServerOptions& o, std::string_view type, std::uint64_t size,
                           BodyKind kind) {
  return o.compress && http::is_compressible_type(type) && size >= o.compress_min &&
         (kind == BodyKind::Listing || size <= o.compress_max);
}

}  // namespace

http::CodingSet on_the_fly_codings(const ServerOptions& o, const http::RequestHead& req,
                                   std::string_view type, std::uint64_t size, BodyKind kind) {
  if (!type_and_size_qualify(o, type, size, kind) || req.find("range") != nullptr) return {};
  return kOnTheFly;
}

bool varies_by_coding(const ServerOptions& o, std::string_view type, std::uint64_t size) {
  return o.precompressed || type_and_size_qualify(o, type, size, BodyKind::File);
}

http::Coding negotiate_coding(const http::RequestHead& req, http::CodingSet available) {
  // A list field may come as several lines (RFC 9110 5.3): their values joined with commas.
  std::string joined;
  bool present = false;
  for (const http::Header& h : req.headers) {
    if (h.name.size() != 15 || !http::chars::iequals_lower(h.name, "accept-encoding")) continue;
    if (present) joined += ',';
    joined += h.value;
    present = true;
  }
  return http::choose_coding(joined, present, available);
}

std::string coded_etag(std::string_view etag, http::Coding coding) {
  std::string_view opaque = etag.substr(0, 2) == "W/" ? etag.substr(2) : etag;
  if (opaque.size() >= 2 && opaque.front() == '"' && opaque.back() == '"')
    opaque = opaque.substr(1, opaque.size() - 2);
  std::string out = "W/\"";
  out += opaque;
  out += '-';
  out += http::coding_name(coding);
  out += '"';
  return out;
}

}  // namespace httpfs::server
