// Header fields: the Header view type, field-line syntax, list elements, and the framing
// fields (Content-Length, Transfer-Encoding, Connection) that request and response parsers
// both digest. Shared so that both directions apply the same RFC 9112 rules.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "http/parse_error.hpp"

namespace httpfs::http {

// A field as received: name as sent (case preserved), value with surrounding OWS removed.
// Both views point into the buffer the message was parsed from.
struct Header {
  std::string_view name;
  std::string_view value;
};

// First field whose name equals `lower_name` case-insensitively (`lower_name` in lower case).
const Header* find_header(std::span<const Header> headers, std::string_view lower_name) noexcept;

// Offsets of one parsed field line, relative to the start of the line.
struct FieldLineParts {
  std::size_t name_len = 0;
  std::size_t value_begin = 0;
  std::size_t value_end = 0;
};

// Parses one field line (without its CRLF): field-name ":" OWS field-value OWS.
// Rejects empty names, non-token name bytes, whitespace before the colon and any byte that
// is not field content (CTL, DEL, CR, NUL) in the value. A line that starts with SP/HTAB is
// not handled here (the caller decides between obs-fold and leading whitespace).
// `readable` (>= len) is how many bytes from `line` on may be read: the scan loads whole
// 16-byte words when they stay inside it.
ParseError parse_field_line(const char* line, std::size_t len, std::size_t readable,
                            FieldLineParts& out) noexcept;

// Index of the first byte in [p, end) that is not field content, or end - p.
// Vectorised with SSE2 where available; reads only inside [p, max(end, readable_end)).
std::size_t find_non_field_value_byte(const char* p, const char* end,
                                      const char* readable_end) noexcept;
inline std::size_t find_non_field_value_byte(const char* p, const char* end) noexcept {
  return find_non_field_value_byte(p, end, end);
}

// Calls fn(element) for each non-empty, OWS-trimmed element of a comma-separated list
// (RFC 9110 5.6.1). Quoted strings are not split on commas inside them. Stops and returns
// false as soon as fn returns false.
template <typename Fn>
bool for_each_list_element(std::string_view list, Fn&& fn) {
  std::size_t start = 0;
  bool in_quotes = false;
  for (std::size_t i = 0; i <= list.size(); ++i) {
    if (i < list.size()) {
      char c = list[i];
      if (in_quotes) {
        if (c == '\\' && i + 1 < list.size())
          ++i;
        else if (c == '"')
          in_quotes = false;
        continue;
      }
      if (c == '"') {
        in_quotes = true;
        continue;
      }
      if (c != ',') continue;
    }
    std::string_view element = list.substr(start, i - start);
    while (!element.empty() && (element.front() == ' ' || element.front() == '\t'))
      element.remove_prefix(1);
    while (!element.empty() && (element.back() == ' ' || element.back() == '\t'))
      element.remove_suffix(1);
    if (!element.empty() && !fn(element)) return false;
    start = i + 1;
  }
  return true;
}

// True when the comma-separated list contains `lower_token` (case-insensitive).
bool list_contains_token(std::string_view list, std::string_view lower_token) noexcept;

// Content-Length = 1*DIGIT, at most 2^63 - 1 (RFC 9110 8.6). No sign, no space, no list.
ParseError parse_content_length(std::string_view value, std::uint64_t& out) noexcept;

// Accumulates the framing-relevant fields of one message, in wire order.
class FramingFields {
 public:
  // Looks at one field; returns an error for syntax that must be rejected at once.
  ParseError add(std::string_view name, std::string_view value) noexcept;

  bool has_content_length() const noexcept { return content_length_count_ > 0; }
  std::uint64_t content_length() const noexcept { return content_length_; }
  bool has_transfer_encoding() const noexcept { return te_seen_; }
  // Transfer-Encoding ends in exactly one "chunked".
  bool chunked_final() const noexcept { return te_last_chunked_; }
  // "chunked" appears somewhere other than at the end, or more than once.
  bool chunked_misplaced() const noexcept { return te_chunked_count_ > (te_last_chunked_ ? 1 : 0); }
  int chunked_count() const noexcept { return te_chunked_count_; }
  // A coding other than chunked is listed (gzip, deflate, ...).
  bool other_codings() const noexcept { return te_other_; }
  bool te_empty() const noexcept { return te_seen_ && te_elements_ == 0; }
  bool connection_close() const noexcept { return conn_close_; }
  bool connection_keep_alive() const noexcept { return conn_keep_alive_; }
  bool connection_upgrade() const noexcept { return conn_upgrade_; }

 private:
  std::uint64_t content_length_ = 0;
  int content_length_count_ = 0;
  int te_chunked_count_ = 0;
  int te_elements_ = 0;
  bool te_seen_ = false;
  bool te_last_chunked_ = false;
  bool te_other_ = false;
  bool conn_close_ = false;
  bool conn_keep_alive_ = false;
  bool conn_upgrade_ = false;
};

}  // namespace httpfs::http
