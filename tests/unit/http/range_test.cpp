#include "http/range.hpp"

#include <doctest/doctest.h>

#include <string>

using namespace httpfs::http;

namespace {

std::string show(const RangeRequest& r) {
  switch (r.kind) {
    case RangeRequest::Kind::Ignore:
      return "ignore";
    case RangeRequest::Kind::Unsatisfiable:
      return "416";
    case RangeRequest::Kind::Satisfiable:
      break;
  }
  std::string s;
  for (const ByteRange& b : r.ranges)
    s += (s.empty() ? "" : ",") + std::to_string(b.first) + "-" + std::to_string(b.last());
  return s;
}

std::string range(std::string_view v, std::uint64_t size = 1000, std::size_t max = 16) {
  return show(parse_range(v, size, max));
}

}  // namespace

TEST_CASE("single ranges") {
  CHECK(range("bytes=0-99") == "0-99");
  CHECK(range("bytes=500-") == "500-999");
  CHECK(range("bytes=-100") == "900-999");
  CHECK(range("bytes=-5000") == "0-999");
  CHECK(range("bytes=990-5000") == "990-999");
  CHECK(range("Bytes = 1-1") == "1-1");
  CHECK(range("bytes=0-0", 1) == "0-0");
}

TEST_CASE("unsatisfiable ranges give 416") {
  CHECK(range("bytes=1000-") == "416");
  CHECK(range("bytes=1000-2000") == "416");
  CHECK(range("bytes=-0") == "416");
  CHECK(range("bytes=0-", 0) == "416");
  CHECK(range("bytes=2000-,3000-4000") == "416");
}

TEST_CASE("malformed or foreign ranges are ignored") {
  CHECK(range("") == "ignore");
  CHECK(range("items=0-5") == "ignore");
  CHECK(range("bytes=") == "ignore");
  CHECK(range("bytes=5") == "ignore");
  CHECK(range("bytes=5-4") == "ignore");
  CHECK(range("bytes=a-b") == "ignore");
  CHECK(range("bytes=-") == "ignore");
  CHECK(range("bytes=0-1,x") == "ignore");
  CHECK(range("bytes=99999999999999999999-") == "ignore");
}

TEST_CASE("several ranges are sorted, merged and capped") {
  CHECK(range("bytes=500-599,0-99") == "0-99,500-599");
  CHECK(range("bytes=0-99,50-150") == "0-150");
  CHECK(range("bytes=0-99,120-150") == "0-150");  // a gap under the part overhead
  CHECK(range("bytes=0-9,900-909,2000-") == "0-9,900-909");
  // Apache Killer: many overlapping ranges collapse into one.
  std::string killer = "bytes=0-";
  for (int i = 1; i < 1000; ++i) killer += ",5-" + std::to_string(i);
  CHECK(range(killer) == "ignore");  // too many specs to even look at
  std::string many = "bytes=";
  for (int i = 0; i < 20; ++i)
    many += (i ? "," : "") + std::to_string(i * 100) + "-" + std::to_string(i * 100);
  CHECK(range(many, 10000, 16) == "ignore");  // 20 ranges > 16
  CHECK(range(many, 10000, 32).find(',') != std::string::npos);
}
