// libFuzzer target: Structured Field Items (http/structured_field.hpp) and the resumable
// upload fields built on them (http/upload_fields.hpp).
// Input: field lines separated by "\n"; a line's first byte picks its name (one of the four
// upload fields in some letter case, or a field that is none of them), the rest is its value.
// Checks, for every value and for the whole input as one value: parse_sf_integer and
// parse_sf_boolean agree with a plain transcription of RFC 8941 4.2 (Item, Parameters, bare
// items); an integer is within +-kSfIntegerMax; serialised again (decimal digits,
// sf_boolean(), with or without surrounding SP) it parses to itself. parse_upload_fields()
// gives each field what its single value parses to, malformed when it came more than once,
// was of the wrong type or negative, and nothing when absent. upload_limit_field(), for
// limits taken from the input, is an RFC 8941 Dictionary of Integers whose keys and values
// are what was asked for.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <iterator>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "http/fields.hpp"
#include "http/structured_field.hpp"
#include "http/upload_fields.hpp"

using namespace httpfs::http;

namespace {

// A broken invariant: which one, then a crash libFuzzer reports.
[[noreturn]] void fail(int line, const char* what) {
  std::fprintf(stderr, "fuzz_upload_fields.cpp:%d: check failed: %s\n", line, what);
  __builtin_trap();
}
#define check(ok) ((ok) ? void() : fail(__LINE__, #ok))

// RFC 8941 4.2, written out step by step, as independent of the code under test as it can be.
class Rfc8941 {
 public:
  explicit Rfc8941(std::string_view s) : s_(s) {}

  // 4.2 with "item" as the top-level type. `kind`: 'i' integer or 'b' boolean wanted.
  template <class T>
  std::optional<T> item(char kind) {
    discard_sp();
    std::optional<T> out;
    if (kind == 'i') {
      auto n = number();
      if (!n || !n->second) return std::nullopt;
      out = static_cast<T>(n->first);
    } else {
      auto b = boolean();
      if (!b) return std::nullopt;
      out = static_cast<T>(*b);
    }
    if (!parameters()) return std::nullopt;
    discard_sp();
    if (!s_.empty()) return std::nullopt;
    return out;
  }

  // 4.2.2: a Dictionary whose every member is an Integer without parameters (what
  // Upload-Limit is); nullopt when it is anything else.
  std::optional<std::vector<std::pair<std::string, std::int64_t>>> integer_dictionary() {
    std::vector<std::pair<std::string, std::int64_t>> out;
    discard_sp();
    while (!s_.empty()) {
      auto k = key();
      if (!k || !eat('=')) return std::nullopt;
      auto n = number();
      if (!n || !n->second) return std::nullopt;
      if (!s_.empty() && s_.front() == ';') return std::nullopt;
      for (auto& [name, value] : out)
        if (name == *k) return std::nullopt;  // a duplicate would overwrite: not ours to send
      out.emplace_back(*k, n->first);
      while (!s_.empty() && (s_.front() == ' ' || s_.front() == '\t')) s_.remove_prefix(1);
      if (s_.empty()) return out;
      if (!eat(',')) return std::nullopt;
      while (!s_.empty() && (s_.front() == ' ' || s_.front() == '\t')) s_.remove_prefix(1);
      if (s_.empty()) return std::nullopt;  // trailing comma
    }
    return std::nullopt;  // an empty field is no dictionary to send
  }

 private:
  static bool digit(char c) { return c >= '0' && c <= '9'; }
  static bool lcalpha(char c) { return c >= 'a' && c <= 'z'; }
  static bool alpha(char c) { return lcalpha(c) || (c >= 'A' && c <= 'Z'); }
  // tchar (RFC 9110 5.6.2).
  static bool tchar(char c) {
    return alpha(c) || digit(c) || std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
  }

  bool eat(char c) {
    if (s_.empty() || s_.front() != c) return false;
    s_.remove_prefix(1);
    return true;
  }
  void discard_sp() {
    while (!s_.empty() && s_.front() == ' ') s_.remove_prefix(1);
  }

  // 4.2.4; the value and whether it is an Integer.
  std::optional<std::pair<std::int64_t, bool>> number() {
    bool integer = true;
    std::int64_t sign = 1;
    std::string input_number;
    if (eat('-')) sign = -1;
    if (s_.empty() || !digit(s_.front())) return std::nullopt;
    while (!s_.empty()) {
      const char c = s_.front();
      s_.remove_prefix(1);
      if (digit(c)) {
        input_number += c;
      } else if (integer && c == '.') {
        if (input_number.size() > 12) return std::nullopt;
        input_number += c;
        integer = false;
      } else {
        s_ = std::string_view(s_.data() - 1, s_.size() + 1);
        break;
      }
      if (integer && input_number.size() > 15) return std::nullopt;
      if (!integer && input_number.size() > 16) return std::nullopt;
    }
    if (integer) return std::pair{sign * std::stoll(input_number), true};
    if (input_number.back() == '.') return std::nullopt;
    if (input_number.size() - input_number.find('.') - 1 > 3) return std::nullopt;
    return std::pair{std::int64_t{0}, false};
  }
  // 4.2.5.
  bool string() {
    if (!eat('"')) return false;
    while (!s_.empty()) {
      const auto c = static_cast<unsigned char>(s_.front());
      s_.remove_prefix(1);
      if (c == '\\') {
        if (s_.empty()) return false;
        const char next = s_.front();
        s_.remove_prefix(1);
        if (next != '"' && next != '\\') return false;
      } else if (c == '"') {
        return true;
      } else if (c <= 0x1f || c >= 0x7f) {
        return false;
      }
    }
    return false;
  }
  // 4.2.6.
  bool token() {
    if (s_.empty() || !(alpha(s_.front()) || s_.front() == '*')) return false;
    s_.remove_prefix(1);
    while (!s_.empty() && (tchar(s_.front()) || s_.front() == ':' || s_.front() == '/'))
      s_.remove_prefix(1);
    return true;
  }
  // 4.2.7 (the base64 alphabet only: padding is not judged, as 4.2.7 allows).
  bool byte_sequence() {
    if (!eat(':')) return false;
    const std::size_t end = s_.find(':');
    if (end == std::string_view::npos) return false;
    for (char c : s_.substr(0, end))
      if (!(alpha(c) || digit(c) || c == '+' || c == '/' || c == '=')) return false;
    s_.remove_prefix(end + 1);
    return true;
  }
  // 4.2.8.
  std::optional<bool> boolean() {
    if (!eat('?')) return std::nullopt;
    if (eat('1')) return true;
    if (eat('0')) return false;
    return std::nullopt;
  }
  // 4.2.3.1.
  bool bare_item() {
    if (s_.empty()) return false;
    const char c = s_.front();
    if (c == '-' || digit(c)) return number().has_value();
    if (c == '"') return string();
    if (c == '*' || alpha(c)) return token();
    if (c == ':') return byte_sequence();
    if (c == '?') return boolean().has_value();
    return false;
  }
  // 4.2.3.3.
  std::optional<std::string> key() {
    if (s_.empty() || !(lcalpha(s_.front()) || s_.front() == '*')) return std::nullopt;
    std::string out;
    while (!s_.empty()) {
      const char c = s_.front();
      if (!(lcalpha(c) || digit(c) || c == '_' || c == '-' || c == '.' || c == '*')) break;
      out += c;
      s_.remove_prefix(1);
    }
    return out;
  }
  // 4.2.3.2.
  bool parameters() {
    while (!s_.empty()) {
      if (s_.front() != ';') break;
      s_.remove_prefix(1);
      discard_sp();
      if (!key()) return false;
      if (eat('=') && !bare_item()) return false;
    }
    return true;
  }

  std::string_view s_;
};

void check_items(std::string_view v) {
  const std::optional<std::int64_t> n = parse_sf_integer(v);
  check(n == Rfc8941(v).item<std::int64_t>('i'));
  if (n) {
    check(*n >= -kSfIntegerMax && *n <= kSfIntegerMax);
    const std::string s = std::to_string(*n);
    check(parse_sf_integer(s) == n);
    check(parse_sf_integer("  " + s + " ") == n);
    check(parse_sf_integer(s + ";a=1") == n);
  }
  const std::optional<bool> b = parse_sf_boolean(v);
  check(b == Rfc8941(v).item<bool>('b'));
  if (b) {
    check(parse_sf_boolean(sf_boolean(*b)) == b);
    check(parse_sf_boolean(" " + std::string(sf_boolean(*b))) == b);
  }
  check(!(n && b));  // one item is never both
}

constexpr std::string_view kNames[] = {
    "Upload-Offset", "upload-offset",  "UPLOAD-LENGTH", "Upload-Length",
    "upload-complete", "Upload-Complete", "Upload-Draft-Interop-Version",
    "upload-draft-interop-version", "Upload-Limit", "Content-Length",
    "Upload-Offset-X", "Upload-Offse"};

// What parse_upload_fields() must make of one field: nothing when absent, malformed when
// repeated or not the Item it should be.
template <class T>
void expect_field(std::span<const Header> headers, std::string_view lower, char kind,
                  bool non_negative, const std::optional<T>& got, bool malformed) {
  std::optional<std::string_view> value;
  int count = 0;
  for (const Header& h : headers) {
    if (h.name.size() != lower.size()) continue;
    bool equal = true;
    for (std::size_t i = 0; i < lower.size(); ++i)
      equal = equal && (h.name[i] | 0x20) == (lower[i] | 0x20);
    if (!equal) continue;
    ++count;
    value = h.value;
  }
  if (count == 0) return check(!got && !malformed);
  if (count > 1) return check(!got && malformed);
  std::optional<T> want;
  if (kind == 'i') {
    const auto n = Rfc8941(*value).item<std::int64_t>('i');
    if (n && (!non_negative || *n >= 0)) want = static_cast<T>(*n);
  } else {
    const auto b = Rfc8941(*value).item<bool>('b');
    if (b) want = static_cast<T>(*b);
  }
  check(got == want && malformed == !want);
}

std::uint64_t take(std::string_view& in, std::size_t n) {
  std::uint64_t v = 0;
  for (std::size_t i = 0; i < n && !in.empty(); ++i) {
    v = v << 8 | static_cast<unsigned char>(in.front());
    in.remove_prefix(1);
  }
  return v;
}

// Upload-Limit for limits made of the input's first bytes. Values stay within sf-integer
// range, as the server's own do (upload sizes, seconds).
void check_limit_field(std::string_view in) {
  const std::uint64_t flags = take(in, 1);
  UploadLimits l;
  const auto value = [&] { return take(in, 7) % (static_cast<std::uint64_t>(kSfIntegerMax) + 1); };
  if (flags & 1) l.max_size = value();
  l.min_size = value();
  if (flags & 2) l.max_append_size = value();
  if (flags & 4) l.lifetime_s = value();
  const std::int64_t interop = flags & 8 ? 6 : 8;
  const std::string field = upload_limit_field(l, interop);
  auto dict = Rfc8941(field).integer_dictionary();
  check(dict.has_value());
  std::vector<std::pair<std::string, std::int64_t>> want;
  if (l.max_size) want.emplace_back("max-size", *l.max_size);
  want.emplace_back("min-size", l.min_size);
  if (l.max_append_size) want.emplace_back("max-append-size", *l.max_append_size);
  if (l.lifetime_s) want.emplace_back(interop == 6 ? "expires" : "max-age", *l.lifetime_s);
  check(*dict == want);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  check_items(in);
  std::vector<Header> headers;
  for (std::string_view rest = in; !rest.empty();) {
    const std::size_t nl = rest.find('\n');
    std::string_view line = rest.substr(0, nl);
    rest = nl == std::string_view::npos ? std::string_view{} : rest.substr(nl + 1);
    if (line.empty()) continue;
    const auto pick = static_cast<unsigned char>(line.front());
    line.remove_prefix(1);
    check_items(line);
    headers.push_back({kNames[pick % std::size(kNames)], line});
  }
  const UploadFields f = parse_upload_fields(headers);
  expect_field(headers, "upload-offset", 'i', true, f.offset, f.malformed_offset);
  expect_field(headers, "upload-length", 'i', true, f.length, f.malformed_length);
  expect_field(headers, "upload-draft-interop-version", 'i', false, f.interop, f.malformed_interop);
  expect_field(headers, "upload-complete", 'b', false, f.complete, f.malformed_complete);
  const bool any = f.offset || f.length || f.interop || f.complete || f.malformed_offset ||
                   f.malformed_length || f.malformed_interop || f.malformed_complete;
  check(f.any() == any);
  check_limit_field(in);
  return 0;
}
