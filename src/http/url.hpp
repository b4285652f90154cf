// URI authorities (RFC 3986 3.2) and http(s) URLs for the client.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace httpfs::http {

// host [":" port], as in a Host field, an absolute-form target or a URL.
struct Authority {
  std::string_view host;  // without the brackets of an IP-literal; may be empty
  std::string_view port;  // digits only; empty when absent
  bool ip_literal = false;
};

// Validates uri-host [ ":" port ] (no userinfo). An empty host is valid here: the Host field
// may be empty (RFC 9112 3.2); callers that need a host check it.
bool parse_authority(std::string_view text, Authority& out) noexcept;

struct Url {
  std::string scheme;  // "http" or "https", lower case
  std::string host;    // as given, without brackets for IPv6; percent-decoding not applied
  std::uint16_t port = 0;
  bool ip_literal = false;
  std::string target;  // origin-form: path (at least "/") plus "?query"; no fragment

  // "host" or "host:port" or "[v6]:port", omitting the scheme's default port.
  std::string host_header() const;
  // The URL back as text, without fragment.
  std::string to_string() const;
};

// Parses an absolute http:// or https:// URL. A missing scheme means http (like curl).
// Userinfo, other schemes, empty hosts and bad ports are rejected with a message in `error`.
std::optional<Url> parse_url(std::string_view text, std::string* error = nullptr);

// Resolves a Location value against the URL it came from (RFC 3986 5.2, enough for
// redirects: absolute URLs, scheme-relative "//host/x", absolute paths and relative paths).
std::optional<Url> resolve_reference(const Url& base, std::string_view reference,
                                     std::string* error = nullptr);

}  // namespace httpfs::http
