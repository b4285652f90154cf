// Character classes of RFC 9110 / RFC 9112 / RFC 3986 as 256-entry tables.
//
// Every parser in this library classifies bytes through these tables, so a byte's meaning is
// decided in exactly one place. The tables are constexpr: no static initialisation order.
#pragma once

#include <array>
#include <cstdint>
#include <cstring>
#include <string_view>

namespace httpfs::http::chars {

using Table = std::array<bool, 256>;

namespace detail {
constexpr Table make(std::string_view members) {
  Table t{};
  for (char c : members) t[static_cast<unsigned char>(c)] = true;
  return t;
}
constexpr Table make_range(Table t, int lo, int hi) {
  for (int i = lo; i <= hi; ++i) t[static_cast<std::size_t>(i)] = true;
  return t;
}
constexpr std::string_view kAlpha = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
constexpr std::string_view kDigit = "0123456789";
}  // namespace detail

// tchar = "!" / "#" / "$" / "%" / "&" / "'" / "*" / "+" / "-" / "." / "^" / "_" / "`" / "|" /
//         "~" / DIGIT / ALPHA                                          (RFC 9110 5.6.2)
inline constexpr Table kToken =
    detail::make("!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz");

// field-vchar / SP / HTAB, obs-text included (RFC 9110 5.5). CR, LF, NUL, other CTLs and DEL
// are not field content.
inline constexpr Table kFieldValue =
    detail::make_range(detail::make_range(detail::make("\t"), 0x20, 0x7e), 0x80, 0xff);

// Bytes that may appear in a request-target (RFC 3986 pchar / query plus the gen-delims that
// separate components). '%' is allowed here and checked for two HEXDIG by the parser; '#'
// (fragment), '"', '<', '>', '\\', '^', '`', '{', '|', '}', SP, CTL and bytes >= 0x80 are not.
inline constexpr Table kTarget = detail::make(
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
    "-._~"         // unreserved
    "!$&'()*+,;="  // sub-delims
    ":@/?"         // pchar and path/query separators
    "%"            // pct-encoded, validated separately
    "[]");         // IP-literal in absolute- and authority-form hosts

// kTarget without '[' and ']': what an origin-form target (a path and query) may hold.
inline constexpr Table kOriginTarget = detail::make(
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
    "-._~!$&'()*+,;=:@/?%");

// unreserved (RFC 3986 2.3): never needs percent-encoding.
inline constexpr Table kUnreserved =
    detail::make("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~");

// Bytes that may stand unencoded in a path segment we generate (links in listings, Location).
// unreserved / sub-delims / ":" / "@", minus "'" and ";" so the result is also safe inside
// an HTML attribute and does not look like a path parameter.
inline constexpr Table kPathSafe =
    detail::make("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~!$&()*+,=:@");

// reg-name characters for a Host (RFC 3986 3.2.2) apart from pct-encoded.
inline constexpr Table kRegName =
    detail::make("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~!$&'()*+,;=");

inline constexpr bool is_token(char c) {
  return kToken[static_cast<unsigned char>(c)];
}
inline constexpr bool is_field_value(char c) {
  return kFieldValue[static_cast<unsigned char>(c)];
}
inline constexpr bool is_target(char c) {
  return kTarget[static_cast<unsigned char>(c)];
}
inline constexpr bool is_digit(char c) {
  return c >= '0' && c <= '9';
}
inline constexpr bool is_alpha(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}
inline constexpr bool is_ows(char c) {
  return c == ' ' || c == '\t';
}

// Value of a hex digit, or -1.
inline constexpr int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

inline constexpr char to_lower(char c) {
  return (c >= 'A' && c <= 'Z') ? char(c + 32) : c;
}

// ASCII case-insensitive equality; `lower` must already be lower case (a literal).
inline constexpr bool iequals_lower(std::string_view s, std::string_view lower) {
  if (s.size() != lower.size()) return false;
  for (std::size_t i = 0; i < s.size(); ++i)
    if (to_lower(s[i]) != lower[i]) return false;
  return true;
}

// The same as iequals_lower for `s` made of token or field-value bytes (validated input),
// eight bytes at a time. OR-ing 0x20 lower-cases letters; for the other bytes of a literal
// ('-' and digits) the only other byte with the same OR is a control byte, which validated
// input cannot hold. `lower` must be lower-case letters, digits and '-'.
inline bool iequals_lower_validated(std::string_view s, std::string_view lower) noexcept {
  const std::size_t n = s.size();
  if (n != lower.size()) return false;
  if (n >= 8) {
    // Overlapping 8-byte words cover any length >= 8.
    for (std::size_t i = 0;; i += 8) {
      if (i + 8 > n) i = n - 8;
      std::uint64_t a, b;
      std::memcpy(&a, s.data() + i, 8);
      std::memcpy(&b, lower.data() + i, 8);
      if ((a | 0x2020202020202020ull) != b) return false;
      if (i + 8 == n) return true;
    }
  }
  for (std::size_t i = 0; i < n; ++i)
    if ((s[i] | 0x20) != lower[i]) return false;
  return true;
}

// Value of a hex digit, or -1, by table.
inline constexpr std::array<std::int8_t, 256> kHexValue = [] {
  std::array<std::int8_t, 256> t{};
  for (int i = 0; i < 256; ++i)
    t[static_cast<std::size_t>(i)] = static_cast<std::int8_t>(hex_value(static_cast<char>(i)));
  return t;
}();

inline constexpr bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (to_lower(a[i]) != to_lower(b[i])) return false;
  return true;
}

// Strips optional whitespace (SP / HTAB) from both ends.
inline constexpr std::string_view trim_ows(std::string_view s) {
  while (!s.empty() && is_ows(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_ows(s.back())) s.remove_suffix(1);
  return s;
}

}  // namespace httpfs::http::chars
