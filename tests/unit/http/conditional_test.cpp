#include "http/conditional.hpp"

#include <doctest/doctest.h>

#include <string>

using namespace httpfs::http;

namespace {

// Parses `fields` into a request head kept alive with its buffer.
struct Req {
  std::string bytes;
  RequestParser parser;
  explicit Req(std::string_view method, std::string_view fields) {
    bytes = std::string(method) + " /f HTTP/1.1\r\nHost: h\r\n" + std::string(fields) + "\r\n";
    REQUIRE(parser.parse(bytes) == RequestParser::Result::Complete);
  }
  const RequestHead& head() const { return parser.head(); }
};

constexpr std::int64_t kT = 784111777;  // Sun, 06 Nov 1994 08:49:37 GMT
const Validators kFile{true, "\"abc\"", kT};
const Validators kMissing{false, "", std::nullopt};

Precondition eval(std::string_view method, std::string_view fields, const Validators& v = kFile) {
  Req r(method, fields);
  return evaluate_preconditions(r.head(), v);
}

}  // namespace

TEST_CASE("entity-tag comparison") {
  CHECK(etag_strong_match("\"a\"", "\"a\""));
  CHECK_FALSE(etag_strong_match("W/\"a\"", "\"a\""));
  CHECK(etag_weak_match("W/\"a\"", "\"a\""));
  CHECK_FALSE(etag_weak_match("\"a\"", "\"b\""));
  CHECK(etag_list_matches("\"x\", W/\"abc\"", "\"abc\"", false));
  CHECK_FALSE(etag_list_matches("\"x\", W/\"abc\"", "\"abc\"", true));
  CHECK(etag_list_matches("*", "\"abc\"", true));
  CHECK_FALSE(etag_list_matches("*", "", true, false));
}

TEST_CASE("RFC 9110 13.2.2 order") {
  CHECK(eval("GET", "") == Precondition::Proceed);
  CHECK(eval("GET", "If-None-Match: \"abc\"\r\n") == Precondition::NotModified);
  CHECK(eval("GET", "If-None-Match: W/\"abc\"\r\n") == Precondition::NotModified);
  CHECK(eval("GET", "If-None-Match: \"zzz\"\r\n") == Precondition::Proceed);
  CHECK(eval("PUT", "If-None-Match: *\r\n") == Precondition::Failed);
  CHECK(eval("PUT", "If-None-Match: *\r\n", kMissing) == Precondition::Proceed);
  CHECK(eval("GET", "If-Modified-Since: Sun, 06 Nov 1994 08:49:37 GMT\r\n") ==
        Precondition::NotModified);
  CHECK(eval("GET", "If-Modified-Since: Sun, 06 Nov 1994 08:49:36 GMT\r\n") ==
        Precondition::Proceed);
  CHECK(eval("GET", "If-Modified-Since: garbage\r\n") == Precondition::Proceed);
  // If-None-Match takes precedence over If-Modified-Since.
  CHECK(eval("GET",
             "If-None-Match: \"zzz\"\r\nIf-Modified-Since: Sun, 06 Nov 1994 08:49:37 GMT\r\n") ==
        Precondition::Proceed);
  CHECK(eval("GET", "If-Match: \"abc\"\r\n") == Precondition::Proceed);
  CHECK(eval("GET", "If-Match: \"nope\"\r\n") == Precondition::Failed);
  CHECK(eval("GET", "If-Match: W/\"abc\"\r\n") == Precondition::Failed);  // strong comparison
  CHECK(eval("PUT", "If-Match: *\r\n", kMissing) == Precondition::Failed);
  CHECK(eval("GET", "If-Unmodified-Since: Sun, 06 Nov 1994 08:49:36 GMT\r\n") ==
        Precondition::Failed);
  CHECK(eval("GET", "If-Unmodified-Since: Sun, 06 Nov 1994 08:49:37 GMT\r\n") ==
        Precondition::Proceed);
  // If-Match wins over If-Unmodified-Since.
  CHECK(
      eval("GET", "If-Match: \"abc\"\r\nIf-Unmodified-Since: Sun, 06 Nov 1994 08:49:36 GMT\r\n") ==
      Precondition::Proceed);
}

TEST_CASE("If-Range") {
  CHECK(if_range_holds("\"abc\"", kFile));
  CHECK_FALSE(if_range_holds("W/\"abc\"", kFile));
  CHECK_FALSE(if_range_holds("\"old\"", kFile));
  CHECK(if_range_holds("Sun, 06 Nov 1994 08:49:37 GMT", kFile));
  CHECK_FALSE(if_range_holds("Sun, 06 Nov 1994 08:49:38 GMT", kFile));
  CHECK_FALSE(if_range_holds("nonsense", kFile));
}
