#include "client/segment_map.hpp"

#include <doctest/doctest.h>

#include <string>

using namespace httpfs::client;

TEST_CASE("plan_segments: near-equal parts covering the length, never under 1 MiB") {
  struct Case {
    std::uint64_t length;
    int n;
    std::size_t count;
  };
  const std::uint64_t M = kMinSegment;
  for (const Case c :
       {Case{1, 4, 1}, Case{M - 1, 4, 1}, Case{2 * M, 4, 2}, Case{4 * M, 4, 4},
        Case{4 * M + 3, 4, 4}, Case{100 * M, 4, 4}, Case{100 * M, 1, 1}, Case{100 * M, 0, 1},
        Case{100 * M, 99, 16}, Case{(1ull << 40) + 7, 16, 16}}) {
    CAPTURE(c.length);
    CAPTURE(c.n);
    const SegmentMap m = plan_segments(c.length, c.n, "\"v\"");
    REQUIRE(m.segments.size() == c.count);
    std::uint64_t at = 0, smallest = UINT64_MAX, largest = 0;
    for (const Segment& s : m.segments) {
      CHECK(s.first == at);
      CHECK(s.next == s.first);
      at = s.last + 1;
      smallest = std::min(smallest, s.last + 1 - s.first);
      largest = std::max(largest, s.last + 1 - s.first);
    }
    CHECK(at == c.length);
    CHECK(largest - smallest <= 1);
    CHECK(m.remaining() == c.length);
  }
  CHECK(plan_segments(0, 4, "x").segments.empty());
}

TEST_CASE("the segment record: written, read back, and refused when it cannot be trusted") {
  SegmentMap m = plan_segments(10 * kMinSegment + 5, 3, "\"etag-1\"");
  m.segments[0].next += 1000;
  m.segments[2].next = m.segments[2].last + 1;  // done
  const std::string text = segment_map_text(m);
  const auto back = parse_segment_map(text);
  REQUIRE(back.has_value());
  CHECK(back->length == m.length);
  CHECK(back->validator == "\"etag-1\"");
  REQUIRE(back->segments.size() == 3);
  CHECK(back->segments[0].next == m.segments[0].next);
  CHECK(back->segments[2].done());
  CHECK(back->remaining() == m.remaining());

  auto replaced = [&](const std::string& from, const std::string& to) {
    std::string t = text;
    t.replace(t.find(from), from.size(), to);
    return t;
  };
  const std::string first_line = "segment 0 ";
  for (const std::string& bad : {
           std::string(),
           text.substr(0, text.size() - 1),  // cut in the last line
           replaced("httpc-segments 1", "httpc-segments 2"),
           replaced("length ", "length x"),
           replaced("validator \"etag-1\"", "validator "),
           replaced("validator \"etag-1\"", "validator \"a\x01\""),
           replaced(first_line, "segment 1 "),                 // a gap at the start
           replaced("\nsegment", "\nsegment 0 0 0\nsegment"),  // overlapping
           text + "segment 0 1 1\n",                           // past the length
           text + "unknown line\n",
           replaced("length " + std::to_string(m.length), "length " + std::to_string(m.length + 1)),
       }) {
    CAPTURE(bad);
    CHECK_FALSE(parse_segment_map(bad).has_value());
  }
  // A next byte outside its segment.
  SegmentMap wrong = m;
  wrong.segments[1].next = wrong.segments[1].last + 2;
  CHECK_FALSE(parse_segment_map(segment_map_text(wrong)).has_value());
  wrong = m;
  wrong.segments[1].next = wrong.segments[1].first - 1;
  CHECK_FALSE(parse_segment_map(segment_map_text(wrong)).has_value());
}
