// Range requests (RFC 9110 14): parsing "Range: bytes=..." against a representation length.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

namespace httpfs::http {

struct ByteRange {
  std::uint64_t first = 0;
  std::uint64_t length = 0;  // never 0 in a satisfiable range
  std::uint64_t last() const noexcept { return first + length - 1; }
};

struct RangeRequest {
  enum class Kind {
    Ignore,         // no Range, not "bytes", malformed, or too many ranges: send 200 in full
    Satisfiable,    // send 206 with `ranges`
    Unsatisfiable,  // send 416 with Content-Range: bytes */size
  };
  Kind kind = Kind::Ignore;
  std::vector<ByteRange> ranges;  // sorted, overlapping and near ranges merged
};

// `max_ranges` bounds the work a request can ask for (README "Security", row 27): more ranges than
// that, after merging, and the Range field is ignored. Ranges closer than `merge_gap` bytes
// are merged, which RFC 9110 14.3 allows (a part header costs about that much).
RangeRequest parse_range(std::string_view value, std::uint64_t size, std::size_t max_ranges,
                         std::uint64_t merge_gap = 80);

}  // namespace httpfs::http
