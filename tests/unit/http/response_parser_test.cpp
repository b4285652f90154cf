// ResponseParser: framing by RFC 9112 6.3, interim responses, strictness. Every case is fed
// in every way (see message_stream.hpp) and all feedings must agree.
#include "http/response_parser.hpp"

#include <doctest/doctest.h>

#include "support/message_stream.hpp"

using namespace httpfs::http;
using httpfs::test::After;
using httpfs::test::StreamResult;

namespace {

StreamResult parse(std::string_view raw, Method method = Method::Get, bool eof = true) {
  bool consistent = false;
  std::string differs;
  StreamResult r = httpfs::test::run_responses_all_feedings(raw, method, eof, consistent, &differs);
  CHECK_MESSAGE(consistent, "feeding '" << differs << "' differs from one piece");
  return r;
}

}  // namespace

TEST_CASE("framing follows RFC 9112 6.3") {
  StreamResult r = parse("HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc");
  REQUIRE(r.messages.size() == 1);
  CHECK(r.messages[0].framing == "length");
  CHECK(r.messages[0].body == "abc");

  r = parse("HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\n", Method::Head);
  REQUIRE(r.messages.size() == 1);
  CHECK(r.messages[0].framing == "none");

  for (const char* s : {"HTTP/1.1 204 No Content\r\nContent-Length: 5\r\n\r\n",
                        "HTTP/1.1 304 Not Modified\r\nContent-Length: 5\r\n\r\n"}) {
    r = parse(s);
    REQUIRE(r.messages.size() == 1);
    CHECK(r.messages[0].framing == "none");
    CHECK(r.messages[0].body.empty());
  }

  r = parse("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nab\r\n0\r\nX-T: 1\r\n\r\n");
  REQUIRE(r.messages.size() == 1);
  CHECK(r.messages[0].framing == "chunked");
  CHECK(r.messages[0].body == "ab");
  CHECK(r.messages[0].trailers.at(0).second == "1");

  // No length at all: the body runs until the server closes.
  r = parse("HTTP/1.1 200 OK\r\n\r\nuntil the end");
  REQUIRE(r.messages.size() == 1);
  CHECK(r.messages[0].framing == "close");
  CHECK(r.messages[0].body == "until the end");
  CHECK_FALSE(r.messages[0].keep_alive);
  // Transfer-Encoding that does not end in chunked: also until close.
  r = parse("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\nzzz");
  REQUIRE(r.messages.size() == 1);
  CHECK(r.messages[0].framing == "close");

  // Without EOF, a close-delimited or short body is not complete.
  CHECK(parse("HTTP/1.1 200 OK\r\n\r\nmore", Method::Get, false).after == After::Incomplete);
  r = parse("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort");
  CHECK(r.messages.empty());
  CHECK(r.after == After::Incomplete);
}

TEST_CASE("interim responses are reported, then the final one") {
  StreamResult r = parse(
      "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: <a>\r\n\r\n"
      "HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n");
  REQUIRE(r.messages.size() == 3);
  CHECK(r.messages[0].status == 100);
  CHECK(r.messages[1].status == 103);
  CHECK(r.messages[2].status == 201);

  ResponseParser p;
  REQUIRE(p.parse("HTTP/1.1 100 Continue\r\n\r\n", Method::Put) == ResponseParser::Result::Interim);
  CHECK(p.head().interim());
  CHECK(p.head().head_size == 25);
}

TEST_CASE("keep-alive and versions") {
  CHECK(parse("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n").messages.at(0).keep_alive);
  CHECK_FALSE(parse("HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
                  .messages.at(0)
                  .keep_alive);
  CHECK_FALSE(parse("HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n").messages.at(0).keep_alive);
  CHECK(parse("HTTP/1.0 200 OK\r\nContent-Length: 0\r\nConnection: keep-alive\r\n\r\n")
            .messages.at(0)
            .keep_alive);
  // Transfer-Encoding in an HTTP/1.0 response: read it, but do not trust the connection.
  CHECK_FALSE(parse("HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\nConnection: "
                    "keep-alive\r\n\r\n0\r\n\r\n")
                  .messages.at(0)
                  .keep_alive);
}

TEST_CASE("malformed responses are refused") {
  auto error_of = [](std::string_view raw) {
    StreamResult r = parse(raw);
    CHECK(r.after == After::Reject);
    return r.error;
  };
  CHECK(error_of("HTTP/1.1 200\r\n\r\n") == ParseError::BadStatusLine);
  CHECK(error_of("HTTP/1.1 20 OK\r\n\r\n") == ParseError::BadStatusLine);
  CHECK(error_of("HTTP/2.0 200 OK\r\n\r\n") == ParseError::UnsupportedVersion);
  CHECK(error_of("SSH-2.0-OpenSSH\r\n") == ParseError::BadStatusLine);
  CHECK(error_of("<html>") == ParseError::BadStatusLine);  // refused before any line ends
  CHECK(error_of("HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n") ==
        ParseError::MultipleContentLength);
  CHECK(error_of("HTTP/1.1 200 OK\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n") ==
        ParseError::TransferEncodingWithContentLength);
  CHECK(error_of("HTTP/1.1 200 OK\r\nX: a\r\n b\r\n\r\n") == ParseError::ObsFold);
  CHECK(error_of("HTTP/1.1 200 OK\r\nX : a\r\n\r\n") == ParseError::WhitespaceBeforeColon);
  CHECK(error_of("HTTP/1.1 200 OK\nX: a\r\n\r\n") == ParseError::BadStatusLine);
  CHECK(error_of("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n") ==
        ParseError::BadChunkSize);
  // An empty reason phrase is fine; the SP before it is not optional.
  CHECK(parse("HTTP/1.1 200 \r\nContent-Length: 0\r\n\r\n").messages.size() == 1);
}
