#include "http/url.hpp"

#include <doctest/doctest.h>

using namespace httpfs::http;

TEST_CASE("authorities") {
  Authority a;
  CHECK(parse_authority("example.com:8080", a));
  CHECK(a.host == "example.com");
  CHECK(a.port == "8080");
  CHECK(parse_authority("[::1]:80", a));
  CHECK(a.host == "::1");
  CHECK(a.ip_literal);
  CHECK(parse_authority("[2001:db8::7]", a));
  CHECK(parse_authority("", a));
  CHECK(parse_authority("h:", a));
  CHECK_FALSE(parse_authority("h:65536", a));
  CHECK_FALSE(parse_authority("h:8x", a));
  CHECK_FALSE(parse_authority("a b", a));
  CHECK_FALSE(parse_authority("[::1", a));
  CHECK_FALSE(parse_authority("[::1]x", a));
  CHECK_FALSE(parse_authority("[zz]", a));
  CHECK_FALSE(parse_authority("a/b", a));
}

TEST_CASE("URLs for the client") {
  auto u = parse_url("http://example.com/a/b?c=d#frag");
  REQUIRE(u);
  CHECK(u->scheme == "http");
  CHECK(u->host == "example.com");
  CHECK(u->port == 80);
  CHECK(u->target == "/a/b?c=d");
  CHECK(u->host_header() == "example.com");
  u = parse_url("HTTPS://[::1]:8443");
  REQUIRE(u);
  CHECK(u->scheme == "https");
  CHECK(u->host == "::1");
  CHECK(u->port == 8443);
  CHECK(u->target == "/");
  CHECK(u->host_header() == "[::1]:8443");
  CHECK(u->to_string() == "https://[::1]:8443/");
  u = parse_url("localhost:8080?x");
  REQUIRE(u);
  CHECK(u->scheme == "http");
  CHECK(u->target == "/?x");
  u = parse_url("http://h/a b|c");
  REQUIRE(u);
  CHECK(u->target == "/a%20b%7Cc");  // encoded as curl does
  std::string err;
  CHECK_FALSE(parse_url("ftp://h/", &err));
  CHECK(err.find("scheme") != std::string::npos);
  CHECK_FALSE(parse_url("http://user:pw@h/", &err));
  CHECK_FALSE(parse_url("http:///x", &err));
  CHECK_FALSE(parse_url("http://h:0/", &err));
  CHECK_FALSE(parse_url("http://h:99999/", &err));
}

TEST_CASE("redirect targets are resolved against the request URL") {
  Url base = *parse_url("http://h:81/a/b/c?q");
  CHECK(resolve_reference(base, "/x")->to_string() == "http://h:81/x");
  CHECK(resolve_reference(base, "d")->to_string() == "http://h:81/a/b/d");
  CHECK(resolve_reference(base, "../d?e")->to_string() == "http://h:81/a/d?e");
  CHECK(resolve_reference(base, "../../../../d")->to_string() == "http://h:81/d");
  CHECK(resolve_reference(base, "?z")->to_string() == "http://h:81/a/b/c?z");
  CHECK(resolve_reference(base, "//other/p")->to_string() == "http://other/p");
  CHECK(resolve_reference(base, "https://s.example/")->to_string() == "https://s.example/");
  CHECK_FALSE(resolve_reference(base, "mailto:x@y"));
}
