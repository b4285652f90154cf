#include "client/cookie_jar.hpp"

#include <doctest/doctest.h>

#include <string>

using namespace httpfs::client;

namespace {

constexpr std::int64_t kNow = 1'800'000'000;

}  // namespace

TEST_CASE("cookies: domain and path matching (RFC 6265 5.1.3, 5.1.4)") {
  CHECK(domain_matches("example.com", "example.com", false));
  CHECK(domain_matches("EXAMPLE.com", "example.com", false));
  CHECK_FALSE(domain_matches("www.example.com", "example.com", false));
  CHECK(domain_matches("www.example.com", "example.com", true));
  CHECK_FALSE(domain_matches("badexample.com", "example.com", true));
  CHECK_FALSE(domain_matches("example.com", "www.example.com", true));
  CHECK(path_matches("/", "/"));
  CHECK(path_matches("/docs/a", "/docs"));
  CHECK(path_matches("/docs/", "/docs"));
  CHECK(path_matches("/docs/a", "/docs/"));
  CHECK(path_matches("/docs?x=1", "/docs"));
  CHECK_FALSE(path_matches("/docsx", "/docs"));
  CHECK_FALSE(path_matches("/", "/docs"));
}

TEST_CASE("cookies: Set-Cookie taken, refused or expired, and sent back where they match") {
  CookieJar jar;
  jar.receive("a=1", "www.example.com", "/dir/page", false, kNow);  // path /dir
  jar.receive("b=2; Path=/; HttpOnly", "www.example.com", "/dir/page", false, kNow);
  jar.receive("c=3; Domain=.example.com; Path=/", "www.example.com", "/", false, kNow);
  jar.receive("d=4; Domain=other.com", "www.example.com", "/", false, kNow);  // refused
  jar.receive("e=5; Secure", "www.example.com", "/", false, kNow);            // not over http
  jar.receive("f=6; Secure; Path=/", "www.example.com", "/", true, kNow);
  jar.receive("g=7; Max-Age=0", "www.example.com", "/", false, kNow);  // expired
  jar.receive("h=8; Expires=Wed, 21-Oct-2015 07:28:00 GMT", "www.example.com", "/", false,
              kNow);  // expired
  jar.receive("i=9; Max-Age=60; Path=/", "www.example.com", "/", false, kNow);
  jar.receive("novalue", "www.example.com", "/", false, kNow);  // no '='
  CHECK(jar.cookies().size() == 5);                             // a b c f i
  CHECK(jar.header_for("www.example.com", "/dir/x", false, kNow) == "a=1; b=2; c=3; i=9");
  CHECK(jar.header_for("www.example.com", "/", true, kNow) == "b=2; c=3; f=6; i=9");
  CHECK(jar.header_for("api.example.com", "/", false, kNow) == "c=3");
  CHECK(jar.header_for("other.com", "/", false, kNow).empty());
  CHECK(jar.header_for("www.example.com", "/", false, kNow + 61) == "b=2; c=3");
  // A cookie set again replaces its namesake; one set expired removes it.
  jar.receive("b=20; Path=/", "www.example.com", "/", false, kNow);
  jar.receive("i=0; Path=/; Max-Age=-1", "www.example.com", "/", false, kNow);
  CHECK(jar.header_for("www.example.com", "/", false, kNow) == "c=3; b=20");
  // An IP address host: its own cookies only.
  jar.receive("j=1; Domain=127.0.0.1", "127.0.0.1", "/", false, kNow);
  jar.receive("k=1; Domain=0.0.1", "127.0.0.1", "/", false, kNow);
  CHECK(jar.header_for("127.0.0.1", "/", false, kNow) == "j=1");
}

TEST_CASE("cookies: the Netscape file, read and written") {
  CookieJar jar;
  jar.load(
      "# Netscape HTTP Cookie File\n"
      "\n"
      ".example.com\tTRUE\t/\tFALSE\t0\tsession\ts1\n"
      "#HttpOnly_www.example.com\tFALSE\t/app\tTRUE\t1900000000\tid\tabc\n"
      "www.example.com\tFALSE\t/\tFALSE\t1000\told\tgone\n"  // expired
      "broken line\n"
      "example.com\tFALSE\t/\tFALSE\tx\tbad\texpiry\n",
      kNow);
  REQUIRE(jar.cookies().size() == 2);
  CHECK(jar.cookies()[0].include_subdomains);
  CHECK(jar.cookies()[1].http_only);
  CHECK(jar.header_for("www.example.com", "/app/x", true, kNow) == "id=abc; session=s1");
  CHECK(jar.header_for("www.example.com", "/app/x", false, kNow) == "session=s1");
  const std::string saved = jar.save(kNow);
  CHECK(saved.starts_with("# Netscape HTTP Cookie File\n"));
  CHECK(saved.find(".example.com\tTRUE\t/\tFALSE\t0\tsession\ts1\n") != std::string::npos);
  CHECK(saved.find("#HttpOnly_www.example.com\tFALSE\t/app\tTRUE\t1900000000\tid\tabc\n") !=
        std::string::npos);
  CookieJar again;
  again.load(saved, kNow);
  CHECK(again.save(kNow) == saved);
  CHECK(jar.save(1900000001).find("id\tabc") == std::string::npos);  // expired by then
}
