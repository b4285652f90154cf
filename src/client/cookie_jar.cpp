#include "client/cookie_jar.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <charconv>
#include <optional>

#include "http/chars.hpp"
#include "http/date.hpp"

namespace httpfs::client {

namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c + 32);
  return out;
}

bool is_ip(std::string_view host) {
  const std::string h(host);
  unsigned char buf[16];
  return inet_pton(AF_INET, h.c_str(), buf) == 1 || inet_pton(AF_INET6, h.c_str(), buf) == 1;
}

// Cookie dates (RFC 6265 5.1.1) as browsers send them: the HTTP forms, and the Netscape one
// with dashes ("Wed, 21-Oct-2015 07:28:00 GMT").
std::optional<std::int64_t> cookie_date(std::string_view v) {
  if (auto t = http::parse_http_date(v)) return t;
  std::string spaced(v);
  std::replace(spaced.begin(), spaced.end(), '-', ' ');
  return http::parse_http_date(spaced);
}

// The directory of a request path (RFC 6265 5.1.4): up to, not including, its last '/'.
std::string default_path(std::string_view path) {
  path = path.substr(0, path.find('?'));
  if (path.empty() || path.front() != '/') return "/";
  const std::size_t slash = path.rfind('/');
  return slash == 0 ? "/" : std::string(path.substr(0, slash));
}

std::vector<std::string_view> split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  for (std::size_t at = 0;;) {
    const std::size_t next = s.find(sep, at);
    out.push_back(
        s.substr(at, next == std::string_view::npos ? std::string_view::npos : next - at));
    if (next == std::string_view::npos) return out;
    at = next + 1;
  }
}

}  // namespace

bool domain_matches(std::string_view host, std::string_view domain, bool subdomains) noexcept {
  if (http::chars::iequals(host, domain)) return true;
  if (!subdomains || host.size() <= domain.size()) return false;
  return host[host.size() - domain.size() - 1] == '.' &&
         http::chars::iequals(host.substr(host.size() - domain.size()), domain);
}

bool path_matches(std::string_view request, std::string_view cookie) noexcept {
  request = request.substr(0, request.find('?'));
  if (request == cookie) return true;
  if (!request.starts_with(cookie)) return false;
  return cookie.back() == '/' || request[cookie.size()] == '/';
}

void CookieJar::put(Cookie c) {
  std::erase_if(cookies_, [&](const Cookie& o) {
    return o.name == c.name && o.domain == c.domain && o.path == c.path;
  });
  cookies_.push_back(std::move(c));
}

void CookieJar::load(std::string_view text, std::int64_t now) {
  for (std::string_view line : split(text, '\n')) {
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    Cookie c;
    constexpr std::string_view kHttpOnly = "#HttpOnly_";
    if (line.starts_with(kHttpOnly)) {
      c.http_only = true;
      line.remove_prefix(kHttpOnly.size());
    } else if (line.empty() || line.front() == '#') {
      continue;
    }
    const std::vector<std::string_view> f = split(line, '\t');
    if (f.size() != 7 || f[0].empty() || f[5].empty()) continue;
    std::string_view domain = f[0];
    if (domain.front() == '.') domain.remove_prefix(1);
    c.domain = lower(domain);
    c.include_subdomains = f[1] == "TRUE";
    c.path = f[2].empty() ? "/" : std::string(f[2]);
    c.secure = f[3] == "TRUE";
    if (std::from_chars(f[4].data(), f[4].data() + f[4].size(), c.expires).ec != std::errc())
      continue;
    c.name = std::string(f[5]);
    c.value = std::string(f[6]);
    if (c.expires != 0 && c.expires <= now) continue;
    put(std::move(c));
  }
}

void CookieJar::receive(std::string_view set_cookie, std::string_view host, std::string_view path,
                        bool https, std::int64_t now) {
  const std::vector<std::string_view> parts = split(set_cookie, ';');
  const std::string_view pair = parts[0];
  const std::size_t eq = pair.find('=');
  if (eq == std::string_view::npos) return;
  Cookie c;
  c.name = std::string(http::chars::trim_ows(pair.substr(0, eq)));
  c.value = std::string(http::chars::trim_ows(pair.substr(eq + 1)));
  if (c.name.empty()) return;
  c.domain = lower(host);
  c.path = default_path(path);
  std::optional<std::int64_t> max_age, expires;
  for (std::size_t i = 1; i < parts.size(); ++i) {
    const std::string_view a = http::chars::trim_ows(parts[i]);
    const std::size_t e = a.find('=');
    const std::string key = lower(http::chars::trim_ows(a.substr(0, e)));
    const std::string_view val =
        e == std::string_view::npos ? std::string_view{} : http::chars::trim_ows(a.substr(e + 1));
    if (key == "domain" && !val.empty()) {
      std::string d = lower(val.front() == '.' ? val.substr(1) : val);
      // Only the host's own domain or one it belongs to (an IP address: itself only).
      if (!domain_matches(host, d, !is_ip(host))) return;
      c.include_subdomains = !is_ip(host);
      c.domain = std::move(d);
    } else if (key == "path" && !val.empty() && val.front() == '/') {
      c.path = std::string(val);
    } else if (key == "secure") {
      c.secure = true;
    } else if (key == "httponly") {
      c.http_only = true;
    } else if (key == "max-age") {
      std::int64_t s = 0;
      if (std::from_chars(val.data(), val.data() + val.size(), s).ec == std::errc()) max_age = s;
    } else if (key == "expires") {
      expires = cookie_date(val);
    }
  }
  if (c.secure && !https) return;  // only a secure origin may set a secure cookie
  if (max_age)
    c.expires = *max_age <= 0 ? 1 : now + *max_age;
  else if (expires)
    c.expires = std::max<std::int64_t>(*expires, 1);
  if (c.expires != 0 && c.expires <= now) {
    std::erase_if(cookies_, [&](const Cookie& o) {
      return o.name == c.name && o.domain == c.domain && o.path == c.path;
    });
    return;
  }
  put(std::move(c));
}

std::string CookieJar::header_for(std::string_view host, std::string_view path, bool https,
                                  std::int64_t now) const {
  std::vector<const Cookie*> sent;
  for (const Cookie& c : cookies_)
    if ((c.expires == 0 || c.expires > now) && (!c.secure || https) &&
        domain_matches(host, c.domain, c.include_subdomains) && path_matches(path, c.path))
      sent.push_back(&c);
  std::stable_sort(sent.begin(), sent.end(), [](const Cookie* a, const Cookie* b) {
    return a->path.size() > b->path.size();
  });
  std::string out;
  for (const Cookie* c : sent) {
    if (!out.empty()) out += "; ";
    out += c->name + "=" + c->value;
  }
  return out;
}

std::string CookieJar::save(std::int64_t now) const {
  std::string out = "# Netscape HTTP Cookie File\n# Written by httpc.\n\n";
  for (const Cookie& c : cookies_) {
    if (c.expires != 0 && c.expires <= now) continue;
    out += (c.http_only ? "#HttpOnly_" : "") + std::string(c.include_subdomains ? "." : "") +
           c.domain + "\t" + (c.include_subdomains ? "TRUE" : "FALSE") + "\t" + c.path + "\t" +
           (c.secure ? "TRUE" : "FALSE") + "\t" + std::to_string(c.expires) + "\t" + c.name + "\t" +
           c.value + "\n";
  }
  return out;
}

}  // namespace httpfs::client
