// The fields every response carries, whatever protocol carries it: Date (RFC 9110 6.6.1),
// Server, and, for a request whose Origin --cors allows, the CORS fields that let that
// origin read the answer (server/cross_site.hpp).
#pragma once

#include <string_view>

#include "server/cross_site.hpp"

namespace httpfs::server {

inline constexpr std::string_view kServerName = "httpfs/" HTTPFS_VERSION;

// Calls `field(name, value)` for each; the views are static or the caller's.
template <typename Fn>
void common_fields(std::string_view date, std::string_view cors_origin, Fn&& field) {
  field("Date", date);
  field("Server", kServerName);
  if (cors_origin.empty()) return;
  field("Access-Control-Allow-Origin", cors_origin);
  field("Access-Control-Allow-Credentials", "true");
  field("Access-Control-Expose-Headers", kCorsExposed);
  field("Vary", "Origin");
}

}  // namespace httpfs::server
