#include "server/cross_site.hpp"

#include <doctest/doctest.h>

#include <string>

#include "server/ui.hpp"

using namespace httpfs;
using namespace httpfs::server;

namespace {

struct Req {
  std::string bytes;
  http::RequestParser parser;
  explicit Req(std::string_view fields, std::string_view method = "PUT",
               std::string_view host = "files.example:8080") {
    bytes = std::string(method) + " /f HTTP/1.1\r\nHost: " + std::string(host) + "\r\n" +
            std::string(fields) + "\r\n";
    REQUIRE(parser.parse(bytes) == http::RequestParser::Result::Complete);
  }
  const http::RequestHead& head() const { return parser.head(); }
};

}  // namespace

TEST_CASE("from_another_origin: the browser's Sec-Fetch-Site, else Origin against Host") {
  struct Case {
    std::string_view fields;
    bool tls;
    bool expected;
  };
  const Case cases[] = {
      {"", false, false},
      {"Origin: http://files.example:8080\r\n", false, false},
      {"Origin: HTTP://FILES.EXAMPLE:8080\r\n", false, false},
      {"Origin: https://files.example:8080\r\n", true, false},
      {"Origin: https://files.example:8080\r\n", false, true},
      {"Origin: http://files.example:8080\r\n", true, true},
      {"Origin: http://files.example\r\n", false, true},
      {"Origin: http://files.example:8080.evil\r\n", false, true},
      {"Origin: http://evil.example\r\n", false, true},
      {"Origin: null\r\n", false, true},
      {"Origin: \r\n", false, true},
      {"Sec-Fetch-Site: same-origin\r\n", false, false},
      {"Sec-Fetch-Site: none\r\n", false, false},
      {"Sec-Fetch-Site: same-site\r\n", false, true},
      {"Sec-Fetch-Site: cross-site\r\n", false, true},
      {"Sec-Fetch-Site: cross-site\r\nOrigin: http://files.example:8080\r\n", false, true},
      {"Sec-Fetch-Site: same-origin\r\nOrigin: http://evil.example\r\n", false, false},
  };
  for (const Case& c : cases) {
    CAPTURE(c.fields);
    CAPTURE(c.tls);
    Req r(c.fields);
    CHECK(from_another_origin(r.head(), c.tls) == c.expected);
  }
}

TEST_CASE("wants_ui_page: browsers naming text/html, no ?format=, --ui on, GET or HEAD") {
  ServerOptions o;
  const std::string chromium =
      "Accept: text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8\r\n";
  const std::string firefox =
      "Accept: text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8\r\n";
  CHECK(wants_ui_page(o, Req(chromium, "GET").head(), ""));
  CHECK(wants_ui_page(o, Req(firefox, "HEAD").head(), "sort=size"));
  CHECK_FALSE(wants_ui_page(o, Req(chromium, "GET").head(), "format=html"));
  CHECK_FALSE(wants_ui_page(o, Req(chromium, "PROPFIND").head(), ""));
  CHECK_FALSE(wants_ui_page(o, Req("Accept: */*\r\n", "GET").head(), ""));
  CHECK_FALSE(wants_ui_page(o, Req("", "GET").head(), ""));
  CHECK_FALSE(wants_ui_page(o, Req("Accept: text/*\r\n", "GET").head(), ""));
  CHECK_FALSE(wants_ui_page(o, Req("Accept: text/html;q=0\r\n", "GET").head(), ""));
  CHECK_FALSE(
      wants_ui_page(o, Req("Accept: text/html;q=0.5, application/json\r\n", "GET").head(), ""));
  CHECK(wants_ui_page(o, Req("Accept: TEXT/HTML\r\n", "GET").head(), ""));
  o.ui = false;
  CHECK_FALSE(wants_ui_page(o, Req(chromium, "GET").head(), ""));
  o.ui = true;
  o.listing = false;
  CHECK_FALSE(wants_ui_page(o, Req(chromium, "GET").head(), ""));
}

TEST_CASE("allowed_origin: the Origin when --cors lists it") {
  const std::vector<std::string> cors = {"https://app.example", "http://b.example:8080"};
  CHECK(allowed_origin(Req("Origin: https://app.example\r\n").head(), cors) ==
        "https://app.example");
  CHECK(allowed_origin(Req("Origin: HTTPS://APP.EXAMPLE\r\n").head(), cors) ==
        "HTTPS://APP.EXAMPLE");
  CHECK(allowed_origin(Req("Origin: http://b.example:8080\r\n").head(), cors) ==
        "http://b.example:8080");
  CHECK(allowed_origin(Req("Origin: http://b.example\r\n").head(), cors).empty());
  CHECK(allowed_origin(Req("Origin: https://app.example.evil\r\n").head(), cors).empty());
  CHECK(allowed_origin(Req("Origin: null\r\n").head(), cors).empty());
  CHECK(allowed_origin(Req("").head(), cors).empty());
  CHECK(allowed_origin(Req("Origin: https://app.example\r\n").head(), {}).empty());
}
