#include "http/date.hpp"

#include <doctest/doctest.h>

#include <ctime>
#include <string_view>

using namespace httpfs::http;

TEST_CASE("IMF-fixdate formatting") {
  CHECK(format_http_date(0) == "Thu, 01 Jan 1970 00:00:00 GMT");
  CHECK(format_http_date(784111777) == "Sun, 06 Nov 1994 08:49:37 GMT");
  CHECK(format_http_date(951782400) == "Tue, 29 Feb 2000 00:00:00 GMT");
  CHECK(format_http_date(4102444799) == "Thu, 31 Dec 2099 23:59:59 GMT");
  CHECK(format_rfc3339(784111777) == "1994-11-06T08:49:37Z");
}

TEST_CASE("RFC 3339 into a buffer writes exactly kRfc3339Length bytes") {
  char buf[kRfc3339Length + 2] = {'#', '#', '#', '#', '#', '#', '#', '#', '#', '#', '#',
                                  '#', '#', '#', '#', '#', '#', '#', '#', '#', '#', '#'};
  format_rfc3339(951782400, buf);
  CHECK(std::string_view(buf, sizeof buf) == "2000-02-29T00:00:00Z##");
  for (std::int64_t t = 0; t < 4102444800; t += 7919 * 3607) {
    format_rfc3339(t, buf);
    const std::time_t tt = static_cast<std::time_t>(t);
    std::tm tm{};
    gmtime_r(&tt, &tm);
    char want[32];
    std::strftime(want, sizeof want, "%Y-%m-%dT%H:%M:%SZ", &tm);
    CHECK(std::string_view(buf, kRfc3339Length) == want);
  }
}

TEST_CASE("the three HTTP-date forms are parsed") {
  CHECK(parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT") == 784111777);
  CHECK(parse_http_date("Sunday, 06-Nov-94 08:49:37 GMT") == 784111777);
  CHECK(parse_http_date("Sun Nov  6 08:49:37 1994") == 784111777);
  CHECK(parse_http_date("Tue Feb 29 00:00:00 2000") == 951782400);
  // Round trip over a range of times.
  for (std::int64_t t = 0; t < 4102444800; t += 7919 * 3607)
    CHECK(parse_http_date(format_http_date(t)) == t);
}

TEST_CASE("anything else is not a date") {
  for (const char* bad :
       {"", "yesterday", "Sun, 06 Nov 1994 08:49:37 UTC", "Sun, 6 Nov 1994 08:49:37 GMT",
        "Sun, 06 Foo 1994 08:49:37 GMT", "Sun, 06 Nov 1994 25:49:37 GMT",
        "Sun, 06 Nov 1994 08:49:37 GMT ", "Sun, 32 Nov 1994 08:49:37 GMT",
        "Xyz, 06 Nov 1994 08:49:37 GMT", "Sunday, 06-Nov-94 08:49:37 PST"})
    CHECK_MESSAGE(!parse_http_date(bad).has_value(), bad);
}
