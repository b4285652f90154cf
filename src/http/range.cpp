#include "http/range.hpp"

#include <algorithm>

#include "http/chars.hpp"
#include "http/fields.hpp"

namespace httpfs::http {

namespace {

bool parse_u64(std::string_view s, std::uint64_t& out) {
  if (s.empty() || s.size() > 19) return false;  // 19 digits always fit
  std::uint64_t v = 0;
  for (char c : s) {
    if (!chars::is_digit(c)) return false;
    v = v * 10 + static_cast<std::uint64_t>(c - '0');
  }
  out = v;
  return true;
}

}  // namespace

RangeRequest parse_range(std::string_view value, std::uint64_t size, std::size_t max_ranges,
                         std::uint64_t merge_gap) {
  RangeRequest out;
  // ranges-specifier = range-unit "=" range-set; only "bytes" is known (case-insensitive).
  std::size_t eq = value.find('=');
  if (eq == std::string_view::npos ||
      !chars::iequals_lower(chars::trim_ows(value.substr(0, eq)), "bytes"))
    return out;
  std::vector<ByteRange> ranges;
  bool malformed = false, any = false;
  // Bound the parsing work too, not just the result: a Range field is at most a field line.
  const std::size_t max_specs = std::max<std::size_t>(max_ranges * 8, 64);
  std::size_t specs = 0;
  for_each_list_element(value.substr(eq + 1), [&](std::string_view spec) {
    if (++specs > max_specs) {
      malformed = true;
      return false;
    }
    any = true;
    std::size_t dash = spec.find('-');
    if (dash == std::string_view::npos) {
      malformed = true;
      return false;
    }
    std::string_view a = spec.substr(0, dash), b = spec.substr(dash + 1);
    std::uint64_t first = 0, last = 0;
    if (a.empty()) {  // suffix-range "-N": the last N bytes
      if (!parse_u64(b, last)) {
        malformed = true;
        return false;
      }
      if (last == 0 || size == 0) return true;  // unsatisfiable on its own
      std::uint64_t n = std::min(last, size);
      ranges.push_back({size - n, n});
      return true;
    }
    if (!parse_u64(a, first) || (!b.empty() && !parse_u64(b, last)) ||
        (!b.empty() && last < first)) {
      malformed = true;
      return false;
    }
    if (first >= size) return true;  // unsatisfiable on its own
    std::uint64_t end = b.empty() ? size - 1 : std::min(last, size - 1);
    ranges.push_back({first, end - first + 1});
    return true;
  });
  if (malformed || !any) return out;  // an invalid Range is ignored (RFC 9110 14.2)
  if (ranges.empty()) {
    out.kind = RangeRequest::Kind::Unsatisfiable;
    return out;
  }
  std::sort(ranges.begin(), ranges.end(),
            [](const ByteRange& x, const ByteRange& y) { return x.first < y.first; });
  std::vector<ByteRange> merged;
  for (const ByteRange& r : ranges) {
    if (!merged.empty() && r.first <= merged.back().first + merged.back().length + merge_gap) {
      ByteRange& m = merged.back();
      std::uint64_t end = std::max(m.first + m.length, r.first + r.length);
      m.length = end - m.first;
    } else {
      merged.push_back(r);
    }
  }
  if (merged.size() > max_ranges) return out;
  out.kind = RangeRequest::Kind::Satisfiable;
  out.ranges = std::move(merged);
  return out;
}

}  // namespace httpfs::http
