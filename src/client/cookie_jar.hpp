// The cookies of one run (-b, -c): read from a file in the Netscape format curl and wget
// write, taken from Set-Cookie fields (RFC 6265 5.2), sent back where they match (5.4:
// domain, path, Secure, expiry), and written out at the end.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace httpfs::client {

struct Cookie {
  std::string name, value;
  std::string domain;               // lower case, without a leading dot
  bool include_subdomains = false;  // a Domain attribute was given (or TRUE in the file)
  std::string path = "/";
  bool secure = false;
  bool http_only = false;
  std::int64_t expires = 0;  // unix seconds; 0: a session cookie
};

class CookieJar {
 public:
  // Reads a Netscape cookie file's lines ("#HttpOnly_" prefixes too); other lines are
  // skipped. Cookies already expired at `now` are dropped.
  void load(std::string_view text, std::int64_t now);
  // Takes a Set-Cookie value received from `host` for a request to `path` (over https or
  // not). A cookie for another domain than the host's own (or one it belongs to) is refused;
  // one that is already expired removes its namesake.
  void receive(std::string_view set_cookie, std::string_view host, std::string_view path,
               bool https, std::int64_t now);
  // The Cookie field value for a request, "" when nothing matches: longer paths first.
  std::string header_for(std::string_view host, std::string_view path, bool https,
                         std::int64_t now) const;
  // The Netscape file of every cookie that has not expired (session cookies too, as curl).
  std::string save(std::int64_t now) const;

  const std::vector<Cookie>& cookies() const noexcept { return cookies_; }

 private:
  void put(Cookie c);
  std::vector<Cookie> cookies_;
};

// RFC 6265 5.1.3: `host` is `domain`, or a subdomain of it when `subdomains`.
bool domain_matches(std::string_view host, std::string_view domain, bool subdomains) noexcept;
// RFC 6265 5.1.4: `request_path` is within `cookie_path`.
bool path_matches(std::string_view request_path, std::string_view cookie_path) noexcept;

}  // namespace httpfs::client
