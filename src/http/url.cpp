#include "http/url.hpp"

#include "http/chars.hpp"

namespace httpfs::http {

namespace {

bool valid_ip_literal(std::string_view s) noexcept {
  // IPvFuture = "v" 1*HEXDIG "." 1*( unreserved / sub-delims / ":" )
  if (!s.empty() && (s.front() == 'v' || s.front() == 'V')) {
    std::size_t i = 1;
    while (i < s.size() && chars::hex_value(s[i]) >= 0) ++i;
    if (i == 1 || i >= s.size() || s[i] != '.' || i + 1 == s.size()) return false;
    for (++i; i < s.size(); ++i)
      if (!chars::kRegName[static_cast<unsigned char>(s[i])] && s[i] != ':') return false;
    return true;
  }
  // IPv6address: hex groups, colons, an optional dotted IPv4 tail. The structure (one "::",
  // at most 8 groups) is checked loosely; what matters here is that no other byte gets in.
  int colons = 0;
  for (char c : s) {
    if (c == ':')
      ++colons;
    else if (chars::hex_value(c) < 0 && c != '.')
      return false;
  }
  return colons >= 2 && colons <= 7 && s.find(":::") == std::string_view::npos;
}

std::uint16_t default_port(std::string_view scheme) {
  return scheme == "https" ? 443 : 80;
}

// remove_dot_segments (RFC 3986 5.2.4) for reference resolution in redirects.
std::string remove_dots(std::string_view path) {
  std::string out;
  while (!path.empty()) {
    if (path.substr(0, 3) == "../")
      path.remove_prefix(3);
    else if (path.substr(0, 2) == "./")
      path.remove_prefix(2);
    else if (path.substr(0, 3) == "/./")
      path.remove_prefix(2);
    else if (path == "/.")
      path = "/";
    else if (path.substr(0, 4) == "/../" || path == "/..") {
      path = path.size() == 3 ? std::string_view("/") : path.substr(3);
      auto slash = out.rfind('/');
      out.erase(slash == std::string::npos ? 0 : slash);
    } else if (path == "." || path == "..") {
      path = {};
    } else {
      std::size_t next = path.find('/', path.front() == '/' ? 1 : 0);
      out.append(path.substr(0, next));
      path = next == std::string_view::npos ? std::string_view{} : path.substr(next);
    }
  }
  return out;
}

}  // namespace

bool parse_authority(std::string_view text, Authority& out) noexcept {
  out = Authority{};
  std::string_view port;
  if (!text.empty() && text.front() == '[') {
    std::size_t close = text.find(']');
    if (close == std::string_view::npos) return false;
    std::string_view literal = text.substr(1, close - 1);
    if (!valid_ip_literal(literal)) return false;
    out.host = literal;
    out.ip_literal = true;
    std::string_view rest = text.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':') return false;
      port = rest.substr(1);
    }
  } else {
    // reg-name cannot hold ':', so the first one starts the port. One pass for the host.
    std::size_t i = 0;
    for (; i < text.size(); ++i) {
      const char c = text[i];
      if (chars::kRegName[static_cast<unsigned char>(c)]) continue;
      if (c == ':') break;
      if (c != '%' || i + 2 >= text.size() || chars::hex_value(text[i + 1]) < 0 ||
          chars::hex_value(text[i + 2]) < 0)
        return false;
      i += 2;
    }
    out.host = text.substr(0, i);
    if (i < text.size()) port = text.substr(i + 1);
  }
  // port = *DIGIT; a TCP port is at most 65535.
  if (port.size() > 5) return false;
  unsigned value = 0;
  for (char c : port) {
    if (!chars::is_digit(c)) return false;
    value = value * 10 + static_cast<unsigned>(c - '0');
  }
  if (value > 65535) return false;
  out.port = port;
  return true;
}

std::string Url::host_header() const {
  std::string h = ip_literal ? "[" + host + "]" : host;
  if (port != default_port(scheme)) h += ":" + std::to_string(port);
  return h;
}

std::string Url::to_string() const {
  return scheme + "://" + host_header() + target;
}

std::optional<Url> parse_url(std::string_view text, std::string* error) {
  auto fail = [&](const char* why) -> std::optional<Url> {
    if (error) *error = why;
    return std::nullopt;
  };
  Url url;
  std::size_t sep = text.find("://");
  if (sep == std::string_view::npos) {
    url.scheme = "http";
  } else {
    std::string_view scheme = text.substr(0, sep);
    if (chars::iequals_lower(scheme, "http"))
      url.scheme = "http";
    else if (chars::iequals_lower(scheme, "https"))
      url.scheme = "https";
    else
      return fail("unsupported URL scheme (only http and https)");
    text.remove_prefix(sep + 3);
  }
  if (std::size_t hash = text.find('#'); hash != std::string_view::npos)
    text = text.substr(0, hash);
  std::size_t auth_end = text.find_first_of("/?");
  std::string_view authority = text.substr(0, auth_end);
  if (authority.find('@') != std::string_view::npos)
    return fail("credentials in the URL are not supported");
  Authority a;
  if (!parse_authority(authority, a)) return fail("malformed host or port in URL");
  if (a.host.empty()) return fail("URL has no host");
  url.host = std::string(a.host);
  url.ip_literal = a.ip_literal;
  if (a.port.empty()) {
    url.port = default_port(url.scheme);
  } else {
    unsigned long p = std::stoul(std::string(a.port));
    if (p == 0 || p > 65535) return fail("port out of range in URL");
    url.port = static_cast<std::uint16_t>(p);
  }
  std::string_view rest =
      auth_end == std::string_view::npos ? std::string_view{} : text.substr(auth_end);
  url.target = rest.empty() || rest.front() == '?' ? "/" + std::string(rest) : std::string(rest);
  // Bytes a request-target may not carry are percent-encoded, as browsers and curl do.
  std::string encoded;
  for (char c : url.target) {
    if (chars::is_target(c) && c != '[' && c != ']') {
      encoded += c;
    } else {
      static constexpr char kHex[] = "0123456789ABCDEF";
      auto u = static_cast<unsigned char>(c);
      encoded += '%';
      encoded += kHex[u >> 4];
      encoded += kHex[u & 15];
    }
  }
  url.target = std::move(encoded);
  return url;
}

std::optional<Url> resolve_reference(const Url& base, std::string_view ref, std::string* error) {
  if (std::size_t hash = ref.find('#'); hash != std::string_view::npos) ref = ref.substr(0, hash);
  // Absolute URL: has a scheme.
  std::size_t colon = ref.find(':');
  std::size_t first_delim = ref.find_first_of("/?");
  if (colon != std::string_view::npos && colon > 0 &&
      (first_delim == std::string_view::npos || colon < first_delim)) {
    bool scheme_ok = chars::is_alpha(ref[0]);
    for (std::size_t i = 1; i < colon && scheme_ok; ++i)
      scheme_ok = chars::is_alpha(ref[i]) || chars::is_digit(ref[i]) || ref[i] == '+' ||
                  ref[i] == '-' || ref[i] == '.';
    if (scheme_ok) {
      if (ref.substr(colon, 3) != "://") {
        if (error) *error = "unsupported redirect target";
        return std::nullopt;
      }
      return parse_url(ref, error);
    }
  }
  if (ref.substr(0, 2) == "//") return parse_url(base.scheme + ":" + std::string(ref), error);
  Url out = base;
  std::string_view base_path = std::string_view(base.target).substr(0, base.target.find('?'));
  std::string target;
  if (ref.empty()) {
    target = base.target;
  } else if (ref.front() == '/') {
    target = std::string(ref);
  } else if (ref.front() == '?') {
    target = std::string(base_path) + std::string(ref);
  } else {
    std::size_t slash = base_path.rfind('/');
    target = std::string(base_path.substr(0, slash + 1)) + std::string(ref);
  }
  std::size_t q = target.find('?');
  std::string path = remove_dots(std::string_view(target).substr(0, q));
  if (path.empty() || path.front() != '/') path.insert(0, "/");
  if (q != std::string::npos) path += target.substr(q);
  // Re-run through parse_url so the same percent-encoding rules apply.
  return parse_url(out.scheme + "://" + out.host_header() + path, error);
}

}  // namespace httpfs::http
