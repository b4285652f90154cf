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
#include <cstring>
#include <string_view>

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
    const void* lf_ptr = scan_ < n ? std::memchr(d + scan_, '\n', n - scan_) : nullptr;
    const bool complete = lf_ptr != nullptr;
    const std::size_t lf =
        complete ? static_cast<std::size_t>(static_cast<const char*>(lf_ptr) - d) : n;
    const bool crlf = complete && lf > line_start_ && d[lf - 1] == '\r';
    // Content of the line: up to the CR of a CRLF, up to a bare LF, or all received bytes.
    const std::size_t content_end = crlf ? lf - 1 : lf;
    // A CR is certainly bare when a byte other than LF follows it.
    const std::size_t judged_end = complete ? content_end : (n > line_start_ ? n - 1 : n);

    std::size_t cr = kNone;
    if (cr_scan_ < judged_end) {
      const void* p = std::memchr(d + cr_scan_, '\r', judged_end - cr_scan_);
      if (p != nullptr)
        cr = static_cast<std::size_t>(static_cast<const char*>(p) - d);
      else
        cr_scan_ = judged_end;
    }
    const std::size_t line_pos = line_start_ + line_limit;  // first byte past the line limit
    const std::size_t line_over = content_end > line_pos ? line_pos : kNone;
    const std::size_t head_end = complete ? lf + 1 : n;  // head bytes present in this line
    const std::size_t head_over = head_end > head_limit ? head_limit : kNone;
    const std::size_t bare_lf = complete && !crlf ? lf : kNone;

    // Lowest position wins; at equal positions a limit wins (in a byte-at-a-time feed, the
    // byte that breaks a limit is seen before anything that follows it).
    std::size_t first = kNone;
    Outcome outcome = Outcome::NeedMore;
    auto consider = [&](std::size_t pos, Outcome o) {
      if (pos < first) first = pos, outcome = o;
    };
    consider(line_over, Outcome::LineTooLong);
    consider(head_over, Outcome::HeadTooLarge);
    consider(cr, Outcome::BareCr);
    consider(bare_lf, Outcome::BareLf);
    if (first != kNone) return outcome;

    if (!complete) {
      scan_ = n;
      return Outcome::NeedMore;
    }
    begin = line_start_;
    end = content_end;
    line_start_ = scan_ = cr_scan_ = lf + 1;
    return Outcome::Line;
  }

  // Offset of the first byte not yet part of a complete line.
  std::size_t line_start() const noexcept { return line_start_; }
  void reset() noexcept { line_start_ = scan_ = cr_scan_ = 0; }

 private:
  static constexpr std::size_t kNone = static_cast<std::size_t>(-1);

  std::size_t line_start_ = 0;  // start of the line being assembled
  std::size_t scan_ = 0;        // bytes in [line_start_, scan_) hold no LF
  std::size_t cr_scan_ = 0;     // bytes in [line_start_, cr_scan_) hold no CR
};

}  // namespace httpfs::http
