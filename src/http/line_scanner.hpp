// Splits a message head into CRLF-terminated lines, resumably, and judges line structure.
//
// The scanner keeps only offsets relative to the start of the caller's buffer, so the caller
// may move or grow that buffer between calls as long as the bytes already given stay in
// front. Bytes searched once are never searched again: feeding a head one byte at a time
// costs O(n) in total.
//
// Split invariance: when a line has several faults (a bare CR, too many bytes for the line,
// too many bytes for the head, a bare LF), the one reported is the one at the lowest byte
// position, whether the bytes came at once or one by one. A partial line is judged only on
// what is certain: a CR that is the last byte received may still be followed by its LF.
#pragma once

#include <cstddef>
#include <string_view>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace httpfs::http {

class LineScanner {
 public:
  enum class Outcome { Line, NeedMore, BareCr, BareLf, LineTooLong, HeadTooLarge };

  // Finds the next complete line in `data` (the whole head so far). On Line, [begin, end) is
  // the line without its CRLF and the scanner moves past it. `line_limit` bounds a line's
  // content, `head_limit` every byte of the head up to and including the line's LF.
  Outcome next(std::string_view data, std::size_t line_limit, std::size_t head_limit,
               std::size_t& begin, std::size_t& end) noexcept {
    const std::size_t n = data.size();
    const char* d = data.data();
    const std::size_t p = find_cr_or_lf(d, scan_, n);

    // What the bytes say: where the line's content ends, how many head bytes it holds, and
    // the structural fault (if any) with its position.
    std::size_t content_end, head_end, fault = kNone;
    Outcome fault_kind = Outcome::NeedMore;
    bool complete = false;
    if (p == n) {  // no CR or LF yet
      content_end = head_end = n;
    } else if (d[p] == '\n') {
      content_end = p, head_end = p + 1, fault = p, fault_kind = Outcome::BareLf;
    } else if (p + 1 == n) {  // a final CR: maybe the start of CRLF
      content_end = p, head_end = n;
    } else if (d[p + 1] == '\n') {
      content_end = p, head_end = p + 2, complete = true;
    } else {  // the CR is content, and bare
      content_end = p + 1, head_end = p + 1, fault = p, fault_kind = Outcome::BareCr;
    }

    // Lowest position wins; at equal positions a limit wins (in a byte-at-a-time feed, the
    // byte that breaks a limit is seen before anything that follows it).
    const std::size_t line_pos = line_start_ + line_limit;  // first byte past the line limit
    Outcome outcome = Outcome::NeedMore;
    std::size_t first = kNone;
    if (content_end > line_pos) first = line_pos, outcome = Outcome::LineTooLong;
    if (head_end > head_limit && head_limit < first)
      first = head_limit, outcome = Outcome::HeadTooLarge;
    if (fault < first) outcome = fault_kind;
    if (outcome != Outcome::NeedMore) return outcome;

    if (!complete) {
      scan_ = content_end;  // a final CR is looked at again with the next byte
      return Outcome::NeedMore;
    }
    begin = line_start_;
    end = content_end;
    line_start_ = scan_ = p + 2;
    return Outcome::Line;
  }

  // Offset of the first byte not yet part of a complete line.
  std::size_t line_start() const noexcept { return line_start_; }
  void reset() noexcept { line_start_ = scan_ = 0; }

 private:
  static constexpr std::size_t kNone = static_cast<std::size_t>(-1);

  // Offset of the first CR or LF in d[from, n), or n. Never reads outside [from, n).
  static std::size_t find_cr_or_lf(const char* d, std::size_t from, std::size_t n) noexcept {
    std::size_t i = from;
#if defined(__SSE2__)
    const __m128i cr = _mm_set1_epi8('\r');
    const __m128i lf = _mm_set1_epi8('\n');
    for (; i + 16 <= n; i += 16) {
      __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(d + i));
      int mask = _mm_movemask_epi8(_mm_or_si128(_mm_cmpeq_epi8(v, cr), _mm_cmpeq_epi8(v, lf)));
      if (mask != 0)
        return i + static_cast<std::size_t>(__builtin_ctz(static_cast<unsigned>(mask)));
    }
#endif
    for (; i < n; ++i)
      if (d[i] == '\r' || d[i] == '\n') return i;
    return n;
  }

  std::size_t line_start_ = 0;  // start of the line being assembled
  std::size_t scan_ = 0;        // bytes in [line_start_, scan_) hold no CR and no LF
};

}  // namespace httpfs::http
