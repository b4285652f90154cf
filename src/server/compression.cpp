#include "server/compression.hpp"

#include <algorithm>
#include <optional>

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

namespace {

// The request's Accept-Encoding value; a list field may come as several lines (RFC 9110
// 5.3): their values joined with commas. nullopt when there is none.
std::optional<std::string> accept_encoding(const http::RequestHead& req) {
  std::optional<std::string> joined;
  for (const http::Header& h : req.headers) {
    if (h.name.size() != 15 || !http::chars::iequals_lower(h.name, "accept-encoding")) continue;
    if (joined)
      *joined += ',';
    else
      joined.emplace();
    *joined += h.value;
  }
  return joined;
}

}  // namespace

http::Coding negotiate_coding(const http::RequestHead& req, http::CodingSet available) {
  const std::optional<std::string> ae = accept_encoding(req);
  return http::choose_coding(ae ? *ae : std::string_view{}, ae.has_value(), available);
}

std::vector<CodingChoice> coding_choices(const http::RequestHead& req,
                                         http::CodingSet precompressed,
                                         http::CodingSet on_the_fly) {
  std::vector<CodingChoice> out;
  const std::optional<std::string> ae = accept_encoding(req);
  if (!ae) return out;
  const http::CodingWeights w = http::coding_weights(*ae);
  for (bool pre : {true, false})
    for (http::Coding c : http::kCodingPreference)
      if ((pre ? precompressed : on_the_fly).has(c) && w.acceptable(c)) out.push_back({c, pre});
  // Stable: at equal q the order above (siblings first, then preference) stays.
  std::stable_sort(out.begin(), out.end(), [&](const CodingChoice& a, const CodingChoice& b) {
    return w.of(a.coding) > w.of(b.coding);
  });
  return out;
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
