#include "http/content_digest.hpp"

#include "http/base64.hpp"
#include "http/chars.hpp"
#include "http/fields.hpp"

namespace httpfs::http {

std::optional<std::string> sha256_from_digest_field(std::string_view value, bool& malformed) {
  malformed = false;
  std::optional<std::string> found;
  for_each_list_element(value, [&](std::string_view member) {
    // member = key "=" ":" base64 ":" [ parameters ]
    std::size_t eq = member.find('=');
    if (eq == std::string_view::npos) {
      malformed = true;
      return false;
    }
    std::string_view key = chars::trim_ows(member.substr(0, eq));
    std::string_view rest = chars::trim_ows(member.substr(eq + 1));
    std::size_t semi = rest.find(';');
    std::string_view item = chars::trim_ows(rest.substr(0, semi));
    if (item.size() < 2 || item.front() != ':' || item.back() != ':') {
      malformed = true;
      return false;
    }
    if (chars::iequals_lower(key, "sha-256")) {
      auto bytes = base64_decode(item.substr(1, item.size() - 2));
      if (!bytes || bytes->size() != 32) {
        malformed = true;
        return false;
      }
      found = std::move(*bytes);
    }
    return true;
  });
  if (malformed) return std::nullopt;
  return found;
}

std::string digest_field_sha256(std::string_view digest) {
  return "sha-256=:" + base64_encode(digest) + ":";
}

}  // namespace httpfs::http
