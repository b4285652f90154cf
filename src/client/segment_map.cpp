#include "client/segment_map.hpp"

#include <algorithm>
#include <charconv>

namespace httpfs::client {

namespace {

constexpr std::string_view kMagic = "httpc-segments 1";
constexpr std::size_t kMaxValidator = 1024;

bool parse_u64(std::string_view& s, std::uint64_t& out) {
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  const auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  if (ec != std::errc() || p == s.data()) return false;
  s.remove_prefix(static_cast<std::size_t>(p - s.data()));
  return true;
}

bool valid(const SegmentMap& m) {
  if (m.length == 0 || m.segments.empty() || m.validator.empty()) return false;
  std::uint64_t expect = 0;
  for (const Segment& s : m.segments) {
    if (s.first != expect || s.last < s.first || s.last >= m.length) return false;
    if (s.next < s.first || s.next > s.last + 1) return false;
    expect = s.last + 1;
  }
  return expect == m.length;
}

}  // namespace

std::uint64_t SegmentMap::remaining() const noexcept {
  std::uint64_t n = 0;
  for (const Segment& s : segments) n += s.remaining();
  return n;
}

SegmentMap plan_segments(std::uint64_t length, int n, std::string validator) {
  SegmentMap m;
  m.length = length;
  m.validator = std::move(validator);
  if (length == 0) return m;
  const std::uint64_t most = std::max<std::uint64_t>(1, length / kMinSegment);
  const std::uint64_t count = std::min<std::uint64_t>(std::clamp(n, 1, kMaxSegments), most);
  const std::uint64_t size = length / count, extra = length % count;
  std::uint64_t at = 0;
  for (std::uint64_t i = 0; i < count; ++i) {
    const std::uint64_t len = size + (i < extra ? 1 : 0);
    m.segments.push_back({at, at + len - 1, at});
    at += len;
  }
  return m;
}

std::string segment_map_text(const SegmentMap& m) {
  std::string t(kMagic);
  t += "\nlength " + std::to_string(m.length) + "\nvalidator " + m.validator + "\n";
  for (const Segment& s : m.segments)
    t += "segment " + std::to_string(s.first) + " " + std::to_string(s.last) + " " +
         std::to_string(s.next) + "\n";
  return t;
}

std::optional<SegmentMap> parse_segment_map(std::string_view text) {
  SegmentMap m;
  bool magic = false, length = false, validator = false;
  while (!text.empty()) {
    const std::size_t nl = text.find('\n');
    if (nl == std::string_view::npos) return std::nullopt;  // cut short: not trusted
    std::string_view line = text.substr(0, nl);
    text.remove_prefix(nl + 1);
    if (!magic) {
      if (line != kMagic) return std::nullopt;
      magic = true;
    } else if (line.starts_with("length ")) {
      line.remove_prefix(6);
      if (length || !parse_u64(line, m.length) || !line.empty()) return std::nullopt;
      length = true;
    } else if (line.starts_with("validator ")) {
      line.remove_prefix(10);
      if (validator || line.empty() || line.size() > kMaxValidator) return std::nullopt;
      for (const char c : line)
        if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) return std::nullopt;
      m.validator = std::string(line);
      validator = true;
    } else if (line.starts_with("segment ")) {
      line.remove_prefix(7);
      Segment s;
      if (!parse_u64(line, s.first) || !parse_u64(line, s.last) || !parse_u64(line, s.next) ||
          !line.empty() || m.segments.size() >= kMaxSegments)
        return std::nullopt;
      m.segments.push_back(s);
    } else {
      return std::nullopt;
    }
  }
  if (!magic || !length || !validator || !valid(m)) return std::nullopt;
  return m;
}

}  // namespace httpfs::client
