#include "client/policy.hpp"

#include <algorithm>
#include <charconv>
#include <initializer_list>
#include <optional>
#include <vector>

#include "client/options.hpp"
#include "client/segment_map.hpp"
#include "http/chars.hpp"
#include "http/date.hpp"
#include "http/percent.hpp"

namespace httpfs::client {

bool has_header(const Headers& headers, std::string_view lower_name) noexcept {
  for (const auto& [name, value] : headers)
    if (http::chars::iequals_lower(name, lower_name)) return true;
  return false;
}

Redirect redirect(int status, std::string_view method) {
  const bool to_get =
      (status == 303 && method != "HEAD") || ((status == 301 || status == 302) && method == "POST");
  if (to_get) return Redirect{"GET", true};
  return Redirect{std::string(method), false};
}

bool same_origin(const http::Url& a, const http::Url& b) noexcept {
  // Host names are case-insensitive (RFC 3986 3.2.2); schemes are lower case once parsed.
  return a.scheme == b.scheme && http::chars::iequals(a.host, b.host) && a.port == b.port;
}

Headers redirected_headers(const Headers& headers, const http::Url& from, const http::Url& to,
                           bool drop_body) {
  const bool other_origin = !same_origin(from, to);
  Headers out;
  for (const auto& [name, value] : headers) {
    using http::chars::iequals;
    if (drop_body && (iequals(name, "content-type") || iequals(name, "content-length"))) continue;
    // Credentials are for the origin they were given for.
    if (other_origin && (iequals(name, "authorization") || iequals(name, "cookie"))) continue;
    out.emplace_back(name, value);
  }
  return out;
}

bool retryable_status(int s) noexcept {
  return s == 408 || s == 429 || s == 500 || s == 502 || s == 503 || s == 504;
}

bool retryable_failure(int exit_code, bool body_replayable, bool request_sent,
                       bool all_errors) noexcept {
  // --retry-all-errors: any failure of the transfer itself, not a local file or a usage error.
  const bool transient = exit_code == kConnect || exit_code == kTimeout || exit_code == kPartial ||
                         (all_errors && exit_code != kLocalFile && exit_code != kUsage &&
                          exit_code != kInternal && exit_code != kTooLarge);
  return transient && (body_replayable || !request_sent);
}

bool idempotent_method(std::string_view method) noexcept {
  for (const std::string_view m : {"GET", "HEAD", "OPTIONS", "TRACE", "PUT", "DELETE"})
    if (method == m) return true;
  return false;
}

std::uint64_t backoff_ms(int attempt) noexcept {
  const int doublings = attempt <= 1 ? 0 : std::min(attempt - 1, 20);
  return std::min<std::uint64_t>(1000ull << doublings, kMaxRetryWaitMs);
}

std::optional<std::uint64_t> retry_after_ms(std::string_view value, std::time_t now) {
  value = http::chars::trim_ows(value);
  if (!value.empty() && value.size() < 9 &&
      std::all_of(value.begin(), value.end(), http::chars::is_digit)) {
    std::uint64_t seconds = 0;
    for (char c : value) seconds = seconds * 10 + static_cast<std::uint64_t>(c - '0');
    return std::min(seconds * 1000, kMaxRetryWaitMs);
  }
  if (auto when = http::parse_http_date(value)) {
    const std::uint64_t wait = *when > now ? static_cast<std::uint64_t>(*when - now) * 1000 : 0;
    return std::min(wait, kMaxRetryWaitMs);
  }
  return std::nullopt;
}

namespace {

// "bytes FIRST-LAST/COMPLETE" (RFC 9110 14.4); COMPLETE may be "*" (unknown).
struct ContentRange {
  std::uint64_t first = 0, last = 0;
  std::optional<std::uint64_t> complete;
};

std::optional<std::uint64_t> parse_number(std::string_view s) {
  if (s.empty() || s.size() > 19 || !std::all_of(s.begin(), s.end(), http::chars::is_digit))
    return std::nullopt;
  std::uint64_t n = 0;
  for (char c : s) n = n * 10 + static_cast<std::uint64_t>(c - '0');
  return n;
}

std::optional<ContentRange> parse_content_range(std::string_view v) {
  if (!v.starts_with("bytes ")) return std::nullopt;
  v.remove_prefix(6);
  const std::size_t dash = v.find('-'), slash = v.find('/');
  if (dash == std::string_view::npos || slash == std::string_view::npos || slash < dash)
    return std::nullopt;
  const auto first = parse_number(v.substr(0, dash));
  const auto last = parse_number(v.substr(dash + 1, slash - dash - 1));
  if (!first || !last || *last < *first) return std::nullopt;
  ContentRange r{*first, *last, std::nullopt};
  const std::string_view complete = v.substr(slash + 1);
  if (complete == "*") return r;
  r.complete = parse_number(complete);
  if (!r.complete || *r.complete <= *last) return std::nullopt;
  return r;
}

}  // namespace

Resume judge_resume(int status, std::string_view content_range, std::uint64_t resume_from) {
  if (status == 206) {
    // Only the part that runs from where the .part file ends to the end of the file (or an
    // end the server does not know) continues it.
    const auto r = parse_content_range(content_range);
    const bool rest = resume_from > 0 && r && r->first == resume_from &&
                      (!r->complete || r->last + 1 == *r->complete);
    return rest ? Resume::Append : Resume::Mismatch;
  }
  if (status == 416 && resume_from > 0)
    return content_range == "bytes */" + std::to_string(resume_from) ? Resume::Complete
                                                                     : Resume::Refused;
  return Resume::Fresh;
}

std::string part_validator(std::string_view etag, std::string_view last_modified) {
  if (!etag.empty() && !etag.starts_with("W/")) return std::string(etag);
  return std::string(last_modified);
}

std::optional<http::Url> parse_directory_url(std::string_view text, std::string& error) {
  auto url = http::parse_url(text, &error);
  if (!url) return std::nullopt;
  if (url->target.find('?') != std::string::npos) {
    error = "the URL of a directory has no query";
    return std::nullopt;
  }
  if (!url->target.ends_with('/')) url->target += '/';
  return url;
}

int segments_for(int status, bool length_known, std::uint64_t length,
                 std::string_view accept_ranges, std::string_view content_encoding,
                 std::string_view validator, int wanted) {
  if (wanted <= 1 || status != 200 || !length_known || validator.empty() ||
      !http::chars::iequals(http::chars::trim_ows(accept_ranges), "bytes"))
    return 1;
  const std::string_view coding = http::chars::trim_ows(content_encoding);
  if (!coding.empty() && !http::chars::iequals(coding, "identity")) return 1;
  return static_cast<int>(plan_segments(length, wanted, {}).segments.size());
}

bool range_answers(std::string_view content_range, std::uint64_t first, std::uint64_t last,
                   std::uint64_t length) {
  const auto r = parse_content_range(content_range);
  return r && r->first == first && r->last == last && r->complete && *r->complete == length;
}

Digest judge_digests(std::string_view content_expected, std::string_view content_actual,
                     std::string_view repr_expected, std::string_view repr_actual,
                     std::string_view repr_decoded_actual) {
  if (!content_expected.empty() && content_expected != content_actual)
    return Digest::ContentMismatch;
  if (!repr_expected.empty() && repr_expected != repr_actual &&
      (repr_decoded_actual.empty() || repr_expected != repr_decoded_actual))
    return Digest::ReprMismatch;
  return Digest::Match;
}

std::optional<http::Coding> answer_coding(std::string_view content_encoding, std::string& what) {
  std::vector<std::string_view> codings;
  while (!content_encoding.empty()) {
    const std::size_t comma = content_encoding.find(',');
    const std::string_view token = http::chars::trim_ows(content_encoding.substr(0, comma));
    content_encoding.remove_prefix(comma == std::string_view::npos ? content_encoding.size()
                                                                   : comma + 1);
    // "identity" changes nothing (RFC 9110 8.4.1); empty list elements are allowed (5.6.1).
    if (!token.empty() && !http::chars::iequals(token, "identity")) codings.push_back(token);
  }
  if (codings.empty()) return http::Coding::Identity;
  what.clear();
  for (std::string_view c : codings) what.append(what.empty() ? "" : ", ").append(c);
  // Several codings would each need undoing in turn; no server sends that to a client that
  // asked for one of zstd, gzip or br.
  if (codings.size() > 1) return std::nullopt;
  return http::coding_from_name(codings.front());
}

std::string remote_file_name(std::string_view target) {
  const std::string_view path = target.substr(0, target.find('?'));
  const std::string_view seg = path.substr(path.rfind('/') + 1);
  std::string decoded;
  if (!http::percent_decode(seg, decoded)) return {};
  if (decoded == "." || decoded == ".." || decoded.find('/') != std::string::npos ||
      decoded.find('\0') != std::string::npos)
    return {};
  return decoded;
}

namespace {

// The value of parameter `name` (lower case) in a Content-Disposition value: a token or a
// quoted string (unescaped). nullopt when absent.
std::optional<std::string> disposition_param(std::string_view v, std::string_view name) {
  auto skip_blanks = [&](std::size_t i) {
    while (i < v.size() && (v[i] == ' ' || v[i] == '\t')) ++i;
    return i;
  };
  std::size_t i = v.find(';');
  while (i != std::string_view::npos) {
    i = skip_blanks(i + 1);
    const std::size_t eq = v.find('=', i);
    if (eq == std::string_view::npos) return std::nullopt;
    const std::string_view key = http::chars::trim_ows(v.substr(i, eq - i));
    i = skip_blanks(eq + 1);
    std::string value;
    if (i < v.size() && v[i] == '"') {
      for (++i; i < v.size() && v[i] != '"'; ++i) {
        if (v[i] == '\\' && i + 1 < v.size()) ++i;
        value.push_back(v[i]);
      }
      i = v.find(';', std::min(i + 1, v.size()));
    } else {
      const std::size_t end = v.find(';', i);
      value = std::string(http::chars::trim_ows(
          v.substr(i, end == std::string_view::npos ? std::string_view::npos : end - i)));
      i = end;
    }
    if (http::chars::iequals(key, name)) return value;
  }
  return std::nullopt;
}

bool windows_device(std::string_view name) {
  const std::string_view stem = name.substr(0, name.find('.'));
  auto is = [&](std::string_view d) { return http::chars::iequals(stem, d); };
  if (is("con") || is("prn") || is("aux") || is("nul")) return true;
  return stem.size() == 4 &&
         (http::chars::iequals(stem.substr(0, 3), "com") ||
          http::chars::iequals(stem.substr(0, 3), "lpt")) &&
         stem[3] >= '1' && stem[3] <= '9';
}

}  // namespace

std::string disposition_file_name(std::string_view cd) {
  std::string name;
  // filename*=UTF-8'[language]'percent-encoded (RFC 8187); other charsets are not taken.
  if (std::optional<std::string> ext = disposition_param(cd, "filename*")) {
    const std::size_t q1 = ext->find('\'');
    const std::size_t q2 = q1 == std::string::npos ? q1 : ext->find('\'', q1 + 1);
    if (q2 == std::string::npos || !http::chars::iequals(ext->substr(0, q1), "utf-8") ||
        !http::percent_decode(std::string_view(*ext).substr(q2 + 1), name))
      name.clear();
  }
  if (name.empty()) name = disposition_param(cd, "filename").value_or("");
  const std::size_t cut = name.find_last_of("/\\");
  if (cut != std::string::npos) name.erase(0, cut + 1);
  if (name.empty() || name == "." || name == ".." || name.front() == '.' || name.size() > 255 ||
      !http::valid_utf8(name) || windows_device(name))
    return {};
  for (const char c : name)
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) return {};
  return name;
}

std::optional<ProxySpec> parse_proxy(std::string_view text, std::string& error) {
  ProxySpec p;
  std::string_view rest = text;
  if (const std::size_t sep = rest.find("://"); sep != std::string_view::npos) {
    if (!http::chars::iequals(rest.substr(0, sep), "http")) {
      error = "only http:// proxies are spoken, not " + std::string(rest.substr(0, sep));
      return std::nullopt;
    }
    rest.remove_prefix(sep + 3);
  }
  rest = rest.substr(0, rest.find('/'));
  if (const std::size_t at = rest.rfind('@'); at != std::string_view::npos) {
    const std::string_view userinfo = rest.substr(0, at);
    const std::size_t colon = userinfo.find(':');
    if (!http::percent_decode(userinfo.substr(0, colon), p.user) ||
        (colon != std::string_view::npos &&
         !http::percent_decode(userinfo.substr(colon + 1), p.password))) {
      error = "bad percent-encoding in the proxy's credentials";
      return std::nullopt;
    }
    p.has_credentials = true;
    rest.remove_prefix(at + 1);
  }
  std::string_view host = rest;
  std::string_view port;
  if (!rest.empty() && rest.front() == '[') {  // [v6]:port
    const std::size_t close = rest.find(']');
    if (close == std::string_view::npos) {
      error = "an IPv6 proxy address needs its closing ']'";
      return std::nullopt;
    }
    host = rest.substr(1, close - 1);
    if (close + 1 < rest.size() && rest[close + 1] == ':') port = rest.substr(close + 2);
  } else if (const std::size_t colon = rest.rfind(':'); colon != std::string_view::npos) {
    host = rest.substr(0, colon);
    port = rest.substr(colon + 1);
  }
  if (host.empty()) {
    error = "the proxy has no host";
    return std::nullopt;
  }
  p.host = std::string(host);
  if (!port.empty()) {
    unsigned n = 0;
    auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), n);
    if (ec != std::errc() || end != port.data() + port.size() || n == 0 || n > 65535) {
      error = "bad proxy port '" + std::string(port) + "'";
      return std::nullopt;
    }
    p.port = static_cast<std::uint16_t>(n);
  }
  return p;
}

std::string proxy_from_environment(std::string_view scheme, const char* (*env)(const char*)) {
  auto first = [&](std::initializer_list<const char*> names) -> std::string {
    for (const char* n : names)
      if (const char* v = env(n); v != nullptr && *v != '\0') return v;
    return {};
  };
  std::string p = scheme == "https" ? first({"https_proxy", "HTTPS_PROXY"}) : first({"http_proxy"});
  return p.empty() ? first({"all_proxy", "ALL_PROXY"}) : p;
}

bool no_proxy_matches(std::string_view list, std::string_view host, std::uint16_t port) {
  if (!host.empty() && host.front() == '[') host = host.substr(1, host.find(']') - 1);
  std::size_t at = 0;
  while (at < list.size()) {
    const std::size_t end = std::min(list.find_first_of(", \t", at), list.size());
    std::string_view entry = list.substr(at, end - at);
    at = end + 1;
    if (entry.empty()) continue;
    if (entry == "*") return true;
    // "host:port" (not an IPv6 address, which has more than one colon).
    if (const std::size_t colon = entry.rfind(':');
        colon != std::string_view::npos && entry.find(':') == colon) {
      if (entry.substr(colon + 1) != std::to_string(port)) continue;
      entry = entry.substr(0, colon);
    }
    if (!entry.empty() && entry.front() == '[') entry = entry.substr(1, entry.find(']') - 1);
    if (!entry.empty() && entry.front() == '.') entry.remove_prefix(1);
    if (http::chars::iequals(host, entry)) return true;
    if (host.size() > entry.size() && host[host.size() - entry.size() - 1] == '.' &&
        http::chars::iequals(host.substr(host.size() - entry.size()), entry))
      return true;
  }
  return false;
}

bool offers_resumption(ResumableMode mode, std::string_view method, std::uint64_t size) noexcept {
  if (method != "PUT" && method != "POST") return false;
  switch (mode) {
    case ResumableMode::Always:
      return true;
    case ResumableMode::Never:
      return false;
    case ResumableMode::Auto:
      break;
  }
  return size >= kResumableThreshold;
}

UploadNext after_upload_attempt(bool have_upload, int exit_code, int status) noexcept {
  if (!have_upload) return UploadNext::Answer;
  // A failed transfer (cut, timeout), a server error, or 409 (an offset the server does not
  // have): the bytes the server kept are what its offset says.
  const bool transient = exit_code == kConnect || exit_code == kTimeout || exit_code == kPartial;
  if (exit_code != 0) return transient ? UploadNext::Probe : UploadNext::Answer;
  return status >= 500 || status == 409 ? UploadNext::Probe : UploadNext::Answer;
}

Probe judge_probe(int exit_code, int status, std::string_view upload_offset,
                  std::string_view upload_complete, std::uint64_t size,
                  std::uint64_t& offset) noexcept {
  if (exit_code != 0 || status >= 500 || status == 409 || status == 423) return Probe::Again;
  if (status == 404 || status == 410) return Probe::Gone;
  if (status < 200 || status >= 300) return Probe::Refused;
  if (http::chars::trim_ows(upload_complete) == "?1") return Probe::Completed;
  upload_offset = http::chars::trim_ows(upload_offset);
  if (upload_offset.empty() || upload_offset.size() > 19 ||
      !std::all_of(upload_offset.begin(), upload_offset.end(), http::chars::is_digit))
    return Probe::Refused;
  std::uint64_t n = 0;
  for (char c : upload_offset) n = n * 10 + static_cast<std::uint64_t>(c - '0');
  if (n > size) return Probe::Refused;
  offset = n;
  return Probe::Append;
}

}  // namespace httpfs::client
