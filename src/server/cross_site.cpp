#include "server/cross_site.hpp"

#include "http/chars.hpp"

namespace httpfs::server {

bool from_another_origin(const http::RequestHead& req, bool tls) {
  if (const http::Header* site = req.find("sec-fetch-site")) {
    const std::string_view v = http::chars::trim_ows(site->value);
    // "none": the user's own action (typed URL, bookmark); "same-origin": this page.
    return !(http::chars::iequals(v, "same-origin") || http::chars::iequals(v, "none"));
  }
  const http::Header* origin = req.find("origin");
  if (origin == nullptr) return false;
  const std::string_view o = http::chars::trim_ows(origin->value);
  const std::string_view scheme = tls ? "https://" : "http://";
  // An origin is scheme "://" host [":" port], compared with the Host the request names
  // (RFC 6454 4; case-insensitive: hosts are).
  return !(o.size() == scheme.size() + req.host.size() && !req.host.empty() &&
           http::chars::iequals(o.substr(0, scheme.size()), scheme) &&
           http::chars::iequals(o.substr(scheme.size()), req.host));
}

std::string_view allowed_origin(const http::RequestHead& req,
                                const std::vector<std::string>& allowed) {
  if (allowed.empty()) return {};
  const http::Header* origin = req.find("origin");
  if (origin == nullptr) return {};
  const std::string_view o = http::chars::trim_ows(origin->value);
  for (const std::string& a : allowed)
    if (http::chars::iequals(o, a)) return o;
  return {};
}

}  // namespace httpfs::server
