#include "http/fields.hpp"

#include "http/chars.hpp"

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace httpfs::http {

const Header* find_header(std::span<const Header> headers, std::string_view lower_name) noexcept {
  for (const Header& h : headers)
    if (chars::iequals_lower(h.name, lower_name)) return &h;
  return nullptr;
}

std::size_t find_non_field_value_byte(const char* p, const char* end,
                                      const char* readable_end) noexcept {
  const char* const start = p;
#if defined(__SSE2__)
  // 16 bytes per step. A byte is bad when it is a CTL other than HTAB (0x00-0x1f as signed
  // non-negative) or DEL. Bytes >= 0x80 are negative as int8 and are obs-text: allowed.
  const __m128i k20 = _mm_set1_epi8(0x20);
  const __m128i kTab = _mm_set1_epi8('\t');
  const __m128i kDel = _mm_set1_epi8(0x7f);
  const __m128i kZero = _mm_setzero_si128();
  auto bad_mask = [&](const char* at) {
    __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(at));
    __m128i ctl = _mm_andnot_si128(_mm_cmplt_epi8(v, kZero), _mm_cmplt_epi8(v, k20));
    __m128i bad =
        _mm_or_si128(_mm_andnot_si128(_mm_cmpeq_epi8(v, kTab), ctl), _mm_cmpeq_epi8(v, kDel));
    return static_cast<unsigned>(_mm_movemask_epi8(bad));
  };
  while (end - p >= 16) {
    if (unsigned mask = bad_mask(p); mask != 0)
      return static_cast<std::size_t>(p - start) + static_cast<std::size_t>(__builtin_ctz(mask));
    p += 16;
  }
  if (p < end && readable_end - p >= 16) {
    // A short tail: one load that may look past `end` (still inside the readable buffer),
    // with the bytes past `end` masked off.
    unsigned mask = bad_mask(p) & ((1u << (end - p)) - 1u);
    return static_cast<std::size_t>(mask != 0 ? p - start + __builtin_ctz(mask) : end - start);
  }
#else
  (void)readable_end;
#endif
  while (p < end && chars::is_field_value(*p)) ++p;
  return static_cast<std::size_t>(p - start);
}

ParseError parse_field_line(const char* line, std::size_t len, std::size_t readable,
                            FieldLineParts& out) noexcept {
  std::size_t i = 0;
  while (i < len && chars::is_token(line[i])) ++i;
  if (i == len) return i == 0 ? ParseError::EmptyFieldName : ParseError::MissingColon;
  if (line[i] != ':') {
    if (i == 0) return line[i] == '\r' ? ParseError::BareCr : ParseError::EmptyFieldName;
    if (chars::is_ows(line[i])) {
      // "Name :" is a smuggling classic (RFC 9112 5.1: MUST 400). Tell it apart from a
      // name that simply has a space in the middle.
      std::size_t j = i;
      while (j < len && chars::is_ows(line[j])) ++j;
      return (j < len && line[j] == ':') ? ParseError::WhitespaceBeforeColon
                                         : ParseError::BadFieldName;
    }
    return line[i] == '\r' ? ParseError::BareCr : ParseError::BadFieldName;
  }
  if (i == 0) return ParseError::EmptyFieldName;
  out.name_len = i;
  std::size_t v = i + 1;
  while (v < len && chars::is_ows(line[v])) ++v;
  std::size_t bad = v + find_non_field_value_byte(line + v, line + len, line + readable);
  if (bad != len) return line[bad] == '\r' ? ParseError::BareCr : ParseError::BadFieldValue;
  std::size_t e = len;
  while (e > v && chars::is_ows(line[e - 1])) --e;
  out.value_begin = v;
  out.value_end = e;
  return ParseError::None;
}

bool list_contains_token(std::string_view list, std::string_view lower_token) noexcept {
  bool found = false;
  for_each_list_element(list, [&](std::string_view e) {
    if (chars::iequals_lower(e, lower_token)) found = true;
    return !found;
  });
  return found;
}

ParseError parse_content_length(std::string_view value, std::uint64_t& out) noexcept {
  if (value.empty()) return ParseError::BadContentLength;
  constexpr std::uint64_t kMax = (std::uint64_t{1} << 63) - 1;
  std::uint64_t n = 0;
  for (char c : value) {
    if (!chars::is_digit(c)) return ParseError::BadContentLength;
    auto d = static_cast<std::uint64_t>(c - '0');
    if (n > (kMax - d) / 10) return ParseError::ContentLengthOverflow;
    n = n * 10 + d;
  }
  out = n;
  return ParseError::None;
}

ParseError FramingFields::add(std::string_view name, std::string_view value) noexcept {
  // Dispatch on length first: most fields are rejected by one integer compare.
  switch (name.size()) {
    case 14:
      if (chars::iequals_lower_validated(name, "content-length")) {
        // Several Content-Length lines, even identical ones, are refused: RFC 9112 6.3
        // allows a recipient to reject them and any tolerance here is a smuggling surface.
        if (++content_length_count_ > 1) return ParseError::MultipleContentLength;
        return parse_content_length(value, content_length_);
      }
      break;
    case 17:
      if (chars::iequals_lower_validated(name, "transfer-encoding")) {
        te_seen_ = true;
        if (chars::iequals_lower_validated(value, "chunked")) {  // the usual value
          ++te_elements_;
          ++te_chunked_count_;
          te_last_chunked_ = true;
          return ParseError::None;
        }
        ParseError err = ParseError::None;
        for_each_list_element(value, [&](std::string_view coding) {
          // transfer-coding = token *( OWS ";" OWS transfer-parameter )
          std::size_t n = 0;
          while (n < coding.size() && chars::is_token(coding[n])) ++n;
          std::string_view name_part = coding.substr(0, n);
          std::string_view rest = chars::trim_ows(coding.substr(n));
          if (name_part.empty() || (!rest.empty() && rest.front() != ';')) {
            err = ParseError::BadTransferEncoding;
            return false;
          }
          ++te_elements_;
          if (chars::iequals_lower(name_part, "chunked")) {
            if (!rest.empty()) {  // chunked takes no parameters
              err = ParseError::BadTransferEncoding;
              return false;
            }
            ++te_chunked_count_;
            te_last_chunked_ = true;
          } else {
            te_other_ = true;
            te_last_chunked_ = false;
          }
          return true;
        });
        return err;
      }
      break;
    case 10:
      if (chars::iequals_lower_validated(name, "connection")) {
        if (chars::iequals_lower_validated(value, "keep-alive")) {  // the usual values
          conn_keep_alive_ = true;
          break;
        }
        if (chars::iequals_lower_validated(value, "close")) {
          conn_close_ = true;
          break;
        }
        for_each_list_element(value, [&](std::string_view option) {
          if (chars::iequals_lower(option, "close"))
            conn_close_ = true;
          else if (chars::iequals_lower(option, "keep-alive"))
            conn_keep_alive_ = true;
          else if (chars::iequals_lower(option, "upgrade"))
            conn_upgrade_ = true;
          return true;
        });
      }
      break;
    default:
      break;
  }
  return ParseError::None;
}

}  // namespace httpfs::http
