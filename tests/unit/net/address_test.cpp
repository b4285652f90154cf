#include "net/address.hpp"

#include <doctest/doctest.h>

using httpfs::net::SocketAddress;

TEST_CASE("addresses and URLs") {
  auto a = SocketAddress::parse("127.0.0.1", 8080);
  REQUIRE(a);
  CHECK(a->url() == "http://127.0.0.1:8080/");
  auto b = SocketAddress::parse("[::1]", 443);
  REQUIRE(b);
  CHECK(b->url("https") == "https://[::1]:443/");
  CHECK(SocketAddress::parse("::", 1)->is_wildcard());
  CHECK_FALSE(SocketAddress::parse("localhost", 1));
  auto m = SocketAddress::parse("::ffff:10.1.2.3", 9);
  REQUIRE(m);
  CHECK(m->host() == "10.1.2.3");  // IPv4-mapped shows as IPv4 (logs)
}
