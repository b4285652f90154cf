#include "http/response_head_writer.hpp"

#include <doctest/doctest.h>

#include <string>

using namespace httpfs::http;

TEST_CASE("a head is written into the caller's buffer") {
  char buf[256];
  ResponseHeadWriter w(buf, sizeof buf);
  w.status_line(404);
  w.header("Content-Length", std::uint64_t{1234567890123});
  w.header("Content-Type", "text/plain");
  std::size_t n = w.finish();
  CHECK(std::string(buf, n) ==
        "HTTP/1.1 404 Not Found\r\nContent-Length: 1234567890123\r\nContent-Type: "
        "text/plain\r\n\r\n");
  ResponseHeadWriter z(buf, sizeof buf);
  z.status_line(200);
  z.header("Content-Length", std::uint64_t{0});
  CHECK(std::string(buf, z.finish()) == "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
}

TEST_CASE("CR, LF or NUL from request data never split a response") {
  char buf[256];
  for (std::string bad :
       {std::string("/a\r\nSet-Cookie: x"), std::string("/a\nb"), std::string("/a\0b", 4)}) {
    ResponseHeadWriter w(buf, sizeof buf);
    w.status_line(301);
    w.header("Location", bad);
    CHECK(w.finish() == 0);
  }
  ResponseHeadWriter w(buf, sizeof buf);
  w.status_line(200);
  w.header("Bad Name", "x");
  CHECK(w.finish() == 0);
}

TEST_CASE("overflow is reported, never written past the buffer") {
  char buf[32];
  ResponseHeadWriter w(buf, sizeof buf);
  w.status_line(200);
  w.header("Content-Type", "text/html; charset=utf-8");
  CHECK_FALSE(w.ok());
  CHECK(w.finish() == 0);
  CHECK(w.size() <= sizeof buf);
}
