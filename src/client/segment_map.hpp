// The plan of a segmented download (--segments N) and its record beside the .part file: the
// representation's length and strong validator, and per segment the byte range it covers
// and the next byte it still needs. Pure: no I/O; the text is written and read by the
// caller (client/segmented_download.hpp).
//
// The record's text, one item per line:
//   httpc-segments 1
//   length 1073741824
//   validator "abc"                    (the ETag or Last-Modified value, as the server sent it)
//   segment 0 268435455 1048576        (first byte, last byte, next byte needed)
//   ...
// A record is believed only when its segments cover [0, length) exactly, in order, and each
// next byte lies within its segment (or one past it: done): anything else is refused, and
// the download starts again rather than trusting bytes it cannot account for.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace httpfs::client {

struct Segment {
  std::uint64_t first = 0, last = 0;  // the byte range, inclusive
  std::uint64_t next = 0;             // the next byte needed: last + 1 when done
  bool done() const noexcept { return next > last; }
  std::uint64_t remaining() const noexcept { return done() ? 0 : last + 1 - next; }
};

struct SegmentMap {
  std::uint64_t length = 0;
  std::string validator;
  std::vector<Segment> segments;

  std::uint64_t remaining() const noexcept;
  bool done() const noexcept { return remaining() == 0; }
};

// A segment is at least this long: below it another connection costs more than it brings.
inline constexpr std::uint64_t kMinSegment = 1 << 20;
inline constexpr int kMaxSegments = 16;

// `length` cut into at most `n` segments of near-equal size, none shorter than kMinSegment
// (so fewer for a small file: one means "not worth segmenting").
SegmentMap plan_segments(std::uint64_t length, int n, std::string validator);

std::string segment_map_text(const SegmentMap& map);
std::optional<SegmentMap> parse_segment_map(std::string_view text);

}  // namespace httpfs::client
