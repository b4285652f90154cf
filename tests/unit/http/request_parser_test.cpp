// RequestParser: hand-written cases beyond the shared vectors. Every case goes through
// parse() below, which feeds the bytes in every way (one piece, byte by byte, every
// two-piece split, random pieces), each call against a guard page, and insists that all
// feedings agree.
#include "http/request_parser.hpp"

#include <doctest/doctest.h>

#include <string>

#include "support/guarded_buffer.hpp"
#include "support/message_stream.hpp"

using namespace httpfs::http;
using httpfs::test::After;
using httpfs::test::StreamResult;

namespace {

StreamResult parse(std::string_view raw, RequestParser::Policy policy = RequestParser::Policy{},
                   RequestParser::Limits limits = RequestParser::Limits{}) {
  bool consistent = false;
  std::string differs;
  StreamResult r =
      httpfs::test::run_requests_all_feedings(raw, consistent, &differs, policy, limits);
  CHECK_MESSAGE(consistent, "feeding '" << differs << "' differs from one piece");
  return r;
}

ParseError rejects(std::string_view raw, RequestParser::Policy policy = RequestParser::Policy{},
                   RequestParser::Limits limits = RequestParser::Limits{}) {
  StreamResult r = parse(raw, policy, limits);
  CHECK(r.messages.empty());
  CHECK(r.after == After::Reject);
  return r.error;
}

}  // namespace

TEST_CASE("a plain GET is parsed into views of the caller's buffer") {
  std::string raw = "GET /index.html?x=1 HTTP/1.1\r\nHost: example.com\r\nAccept: */*\r\n\r\n";
  httpfs::test::GuardedBuffer guard(raw.size());
  std::string_view data = guard.place(raw);
  RequestParser p;
  REQUIRE(p.parse(data) == RequestParser::Result::Complete);
  const RequestHead& h = p.head();
  CHECK(h.method == Method::Get);
  CHECK(h.target == "/index.html?x=1");
  CHECK(h.version_minor == 1);
  CHECK(h.form == TargetForm::Origin);
  CHECK(h.host == "example.com");
  CHECK(h.keep_alive);
  CHECK(h.framing == BodyFraming::None);
  CHECK(h.head_size == raw.size());
  REQUIRE(h.headers.size() == 2);
  // Zero-copy: every view points into the buffer that was parsed.
  for (std::string_view v : {h.target, h.method_token, h.headers[0].name, h.headers[1].value}) {
    CHECK(v.data() >= data.data());
    CHECK(v.data() + v.size() <= data.data() + data.size());
  }
  CHECK(h.find("accept")->value == "*/*");
  CHECK(h.find("content-type") == nullptr);
}

TEST_CASE("the buffer may move between calls: only offsets are kept") {
  std::string raw = "PUT /a HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\nabc";
  RequestParser p;
  std::string first(raw.substr(0, 20));
  REQUIRE(p.parse(first) == RequestParser::Result::Incomplete);
  std::string second = raw;         // a different allocation holding the same prefix and more
  first.assign(first.size(), 'X');  // the old bytes are gone
  REQUIRE(p.parse(second) == RequestParser::Result::Complete);
  CHECK(p.head().target == "/a");
  CHECK(p.head().content_length == 3);
  CHECK(p.head().framing == BodyFraming::Length);
  CHECK(second.substr(p.head().head_size) == "abc");
}

TEST_CASE("an error is sticky until reset, and reset allows reuse") {
  RequestParser p;
  REQUIRE(p.parse("GET / HTTP/1.1\r\nBad Name: x\r\n\r\n") == RequestParser::Result::Error);
  CHECK(p.error() == ParseError::BadFieldName);
  CHECK(p.parse("GET / HTTP/1.1\r\nHost: a\r\n\r\n") == RequestParser::Result::Error);
  p.reset();
  CHECK(p.parse("GET / HTTP/1.1\r\nHost: a\r\n\r\n") == RequestParser::Result::Complete);
}

TEST_CASE("keep-alive rules of RFC 9112 9.3") {
  CHECK(parse("GET / HTTP/1.1\r\nHost: a\r\n\r\n").messages.at(0).keep_alive);
  CHECK_FALSE(
      parse("GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n").messages.at(0).keep_alive);
  CHECK_FALSE(parse("GET / HTTP/1.1\r\nHost: a\r\nConnection: keep-alive, CLOSE\r\n\r\n")
                  .messages.at(0)
                  .keep_alive);
  CHECK_FALSE(parse("GET / HTTP/1.0\r\n\r\n").messages.at(0).keep_alive);
  CHECK(parse("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n").messages.at(0).keep_alive);
  CHECK(parse("GET / HTTP/1.2\r\nHost: a\r\n\r\n").messages.at(0).version == "HTTP/1.1");
}

TEST_CASE("Expect, Host and the server policy") {
  RequestParser p;
  REQUIRE(
      p.parse("PUT /f HTTP/1.1\r\nHost: a\r\nExpect: 100-Continue\r\nContent-Length: 9\r\n\r\n") ==
      RequestParser::Result::Complete);
  CHECK(p.head().expect_continue);
  CHECK_FALSE(p.head().expect_other);
  p.reset();
  REQUIRE(p.parse("PUT /f HTTP/1.1\r\nHost: a\r\nExpect: something-else\r\n\r\n") ==
          RequestParser::Result::Complete);
  CHECK(p.head().expect_other);

  CHECK(rejects("GET / HTTP/1.1\r\n\r\n") == ParseError::MissingHost);
  CHECK(rejects("GET / HTTP/1.1\r\nHost: a\r\nHost: a\r\n\r\n") == ParseError::MultipleHost);
  CHECK(rejects("GET / HTTP/1.0\r\nHost: a\r\nhost: b\r\n\r\n") == ParseError::MultipleHost);
  CHECK(rejects("GET / HTTP/1.1\r\nHost: a b\r\n\r\n") == ParseError::BadHost);
  CHECK(rejects("GET / HTTP/1.1\r\nHost: a:70000\r\n\r\n") == ParseError::BadHost);
  CHECK(rejects("GET / HTTP/1.1\r\nHost: [::1\r\n\r\n") == ParseError::BadHost);
  CHECK(parse("GET / HTTP/1.1\r\nHost: [::1]:8080\r\n\r\n").messages.size() == 1);
  CHECK(parse("GET / HTTP/1.1\r\nHost:\r\n\r\n").messages.size() == 1);  // empty Host is valid
  CHECK(parse("GET / HTTP/1.0\r\n\r\n").messages.size() == 1);           // 1.0 needs no Host
  // Without the policy the same bytes are syntactically fine.
  RequestParser::Policy syntax{false, false};
  CHECK(parse("GET / HTTP/1.1\r\n\r\n", syntax).messages.size() == 1);
  CHECK(parse("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n",
              syntax)
            .messages.size() == 1);
  CHECK(
      rejects("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n") ==
      ParseError::UnknownTransferCoding);
  CHECK(error_status(ParseError::UnknownTransferCoding) == 501);
}

TEST_CASE("framing: Content-Length and Transfer-Encoding") {
  StreamResult r = parse("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhelloGET");
  REQUIRE(r.messages.size() == 1);
  CHECK(r.messages[0].body == "hello");
  CHECK(r.after == After::Incomplete);  // "GET" starts the next request

  r = parse(
      "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n");
  REQUIRE(r.messages.size() == 1);
  CHECK(r.messages[0].body == "hello");
  CHECK(r.after == After::End);

  CHECK(rejects("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\nx") ==
        ParseError::MultipleContentLength);
  CHECK(rejects("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1, 1\r\n\r\nx") ==
        ParseError::BadContentLength);
  CHECK(rejects("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: +1\r\n\r\nx") ==
        ParseError::BadContentLength);
  CHECK(rejects("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 9223372036854775808\r\n\r\n") ==
        ParseError::ContentLengthOverflow);
  CHECK(parse("PUT / HTTP/1.1\r\nHost: a\r\nContent-Length: 9223372036854775807\r\n\r\n").after ==
        After::Incomplete);
  CHECK(rejects("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nTransfer-Encoding: "
                "chunked\r\n\r\n") == ParseError::TransferEncodingWithContentLength);
  CHECK(rejects("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n") ==
        ParseError::TransferEncodingInHttp10);
  CHECK(rejects("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, gzip\r\n\r\n") ==
        ParseError::ChunkedNotFinal);
  CHECK(rejects("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: "
                "chunked\r\n\r\n") == ParseError::ChunkedTwice);
  CHECK(rejects("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding:\r\n\r\n") ==
        ParseError::BadTransferEncoding);
  CHECK(rejects("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked;q=1\r\n\r\n") ==
        ParseError::BadTransferEncoding);
  // CONNECT never has a body, whatever its fields say.
  RequestParser p;
  REQUIRE(p.parse("CONNECT a:443 HTTP/1.1\r\nHost: a:443\r\nContent-Length: 5\r\n\r\n") ==
          RequestParser::Result::Complete);
  CHECK(p.head().framing == BodyFraming::None);
  CHECK(p.head().form == TargetForm::Authority);
}

TEST_CASE("request-line syntax") {
  CHECK(rejects("GET  / HTTP/1.1\r\nHost: a\r\n\r\n") == ParseError::EmptyTarget);
  CHECK(rejects("GET / HTTP/1.1 \r\nHost: a\r\n\r\n") == ParseError::BadVersion);
  CHECK(rejects("GET /\r\n\r\n") == ParseError::MissingVersion);
  CHECK(rejects("GET\r\n\r\n") == ParseError::MissingVersion);
  CHECK(rejects("GET / http/1.1\r\nHost: a\r\n\r\n") == ParseError::BadVersion);
  CHECK(rejects("GET / HTTP/1.10\r\nHost: a\r\n\r\n") == ParseError::BadVersion);
  CHECK(rejects("GET / HTTP/2.0\r\nHost: a\r\n\r\n") == ParseError::UnsupportedVersion);
  CHECK(error_status(ParseError::UnsupportedVersion) == 505);
  CHECK(rejects("G(T / HTTP/1.1\r\nHost: a\r\n\r\n") == ParseError::BadMethod);
  CHECK(rejects("GET\t/ HTTP/1.1\r\nHost: a\r\n\r\n") == ParseError::BadRequestLine);
  CHECK(rejects("GET /a b HTTP/1.1\r\nHost: a\r\n\r\n") == ParseError::BadVersion);
  CHECK(rejects("GET /a#frag HTTP/1.1\r\nHost: a\r\n\r\n") == ParseError::BadTarget);
  CHECK(rejects("GET /a\\b HTTP/1.1\r\nHost: a\r\n\r\n") == ParseError::BadTarget);
  CHECK(rejects("GET /%zz HTTP/1.1\r\nHost: a\r\n\r\n") == ParseError::BadPercentEncoding);
  CHECK(rejects("GET /%2 HTTP/1.1\r\nHost: a\r\n\r\n") == ParseError::BadPercentEncoding);
  CHECK(rejects("GET * HTTP/1.1\r\nHost: a\r\n\r\n") == ParseError::BadTargetForm);
  CHECK(parse("OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n").messages.size() == 1);
  CHECK(rejects("GET a.com:80 HTTP/1.1\r\nHost: a\r\n\r\n") == ParseError::BadTargetForm);
  CHECK(rejects("GET http://u@a.com/ HTTP/1.1\r\nHost: a\r\n\r\n") == ParseError::UserinfoInTarget);
  CHECK(rejects("GET http:///x HTTP/1.1\r\nHost: a\r\n\r\n") == ParseError::BadAbsoluteTarget);
  CHECK(rejects("GET ftp://a.com/ HTTP/1.1\r\nHost: a\r\n\r\n") == ParseError::BadTargetForm);
  StreamResult r = parse("GET http://a.com:81/x?y HTTP/1.1\r\nHost: a.com:81\r\n\r\n");
  REQUIRE(r.messages.size() == 1);
  CHECK(r.messages[0].target == "http://a.com:81/x?y");
  // Leading empty lines are skipped, a few of them.
  CHECK(parse("\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n").messages.size() == 1);
  std::string crlf8, crlf9;
  for (int i = 0; i < 8; ++i) crlf8 += "\r\n";
  crlf9 = crlf8 + "\r\n";
  CHECK(parse(crlf8 + "GET / HTTP/1.1\r\nHost: a\r\n\r\n").messages.size() == 1);
  CHECK(rejects(crlf9 + "GET / HTTP/1.1\r\nHost: a\r\n\r\n") == ParseError::TooManyEmptyLines);
}

TEST_CASE("a byte that cannot start a request is refused as it arrives, without a line end") {
  using namespace std::string_literals;
  const std::string request = "GET / HTTP/1.1\r\nHost: a\r\n\r\n";
  struct Row {
    std::string tail;
    ParseError error;
  };
  const Row rows[] = {
      {"\0"s, ParseError::BadMethod},     {"\x01", ParseError::BadMethod},
      {"\x7f", ParseError::BadMethod},    {"\xff", ParseError::BadMethod},
      {"GE\x01", ParseError::BadMethod},  {"{", ParseError::BadMethod},
      {"\t", ParseError::BadRequestLine}, {"\r\n\x02", ParseError::BadMethod},
  };
  for (const Row& row : rows) {
    CAPTURE(row.tail);
    // After a complete request (pipelined), and as the first bytes of a connection.
    StreamResult r = parse(request + row.tail);
    CHECK(r.messages.size() == 1);
    CHECK(r.after == After::Reject);
    CHECK(r.error == row.error);
    CHECK(rejects(row.tail) == row.error);
  }
  // What may still become a request waits for more.
  for (const std::string tail : {"G", "GET", "GET ", "GET /\r", "\r\nGE"}) {
    CAPTURE(tail);
    CHECK(parse(request + tail).after == After::Incomplete);
  }
}

TEST_CASE("field-line syntax") {
  CHECK(rejects("GET / HTTP/1.1\r\nHost : a\r\n\r\n") == ParseError::WhitespaceBeforeColon);
  CHECK(rejects("GET / HTTP/1.1\r\n Host: a\r\n\r\n") == ParseError::WhitespaceBeforeFirstField);
  CHECK(rejects("GET / HTTP/1.1\r\nHost: a\r\nX: 1\r\n 2\r\n\r\n") == ParseError::ObsFold);
  CHECK(rejects("GET / HTTP/1.1\r\nHost: a\r\n: x\r\n\r\n") == ParseError::EmptyFieldName);
  CHECK(rejects("GET / HTTP/1.1\r\nHost: a\r\nX-Y\r\n\r\n") == ParseError::MissingColon);
  CHECK(rejects("GET / HTTP/1.1\r\nHost: a\r\nX(Y): 1\r\n\r\n") == ParseError::BadFieldName);
  static constexpr char kNul[] = "GET / HTTP/1.1\r\nHost: a\r\nX: a\0b\r\n\r\n";
  CHECK(rejects(std::string(kNul, sizeof kNul - 1)) == ParseError::BadFieldValue);
  CHECK(rejects("GET / HTTP/1.1\r\nHost: a\r\nX: a\x7f\r\n\r\n") == ParseError::BadFieldValue);
  CHECK(rejects("GET / HTTP/1.1\r\nHost: a\r\nX: a\rb\r\n\r\n") == ParseError::BareCr);
  CHECK(rejects("GET / HTTP/1.1\nHost: a\r\n\r\n") == ParseError::BareLf);
  CHECK(rejects("GET / HTTP/1.1\r\nHost: a\n\r\n") == ParseError::BareLf);
  // A bare CR is caught even when no LF ever follows.
  CHECK(rejects("GET / HTTP/1.1\r\nHost: a\r\n\rabc") == ParseError::BareCr);
  // Values: surrounding whitespace trimmed, inner kept, tabs allowed, obs-text byte-exact.
  StreamResult r =
      parse("GET / HTTP/1.1\r\nHost: a\r\nX: \t a \t b \t\r\nY: caf\xe9\r\nZ:\r\n\r\n");
  REQUIRE(r.messages.size() == 1);
  CHECK(r.messages[0].headers[1].second == "a \t b");
  CHECK(r.messages[0].headers[2].second == "caf\xe9");
  CHECK(r.messages[0].headers[3].second.empty());
}

TEST_CASE("limits are parameters and give 414 / 431") {
  RequestParser::Limits small{};
  small.max_request_line = 32;
  small.max_field_line = 24;
  small.max_head = 100;
  small.max_fields = 3;
  // "GET /012345678901234567 HTTP/1.1" is exactly 32 bytes.
  CHECK(parse("GET /012345678901234567 HTTP/1.1\r\nHost: a\r\n\r\n", {}, small).messages.size() ==
        1);
  ParseError e = rejects("GET /0123456789012345678 HTTP/1.1\r\nHost: a\r\n\r\n", {}, small);
  CHECK(e == ParseError::RequestLineTooLong);
  CHECK(error_status(e) == 414);
  // "X: 012345678901234567890" is 24 bytes: allowed; one more is not.
  CHECK(parse("GET / HTTP/1.1\r\nHost: a\r\nX: 012345678901234567890\r\n\r\n", {}, small)
            .messages.size() == 1);
  e = rejects("GET / HTTP/1.1\r\nHost: a\r\nX: 0123456789012345678901\r\n\r\n", {}, small);
  CHECK(e == ParseError::FieldLineTooLong);
  CHECK(error_status(e) == 431);
  e = rejects("GET / HTTP/1.1\r\nHost: a\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n", {}, small);
  CHECK(e == ParseError::TooManyFields);
  CHECK(error_status(e) == 431);
  RequestParser::Limits head_only{};
  head_only.max_head = 60;
  // 16 + 9 + 16 + 17 + 2 = 60 bytes: allowed; one byte more in a value is not.
  CHECK(
      parse("GET / HTTP/1.1\r\nHost: a\r\nA: 01234567890\r\nB: 012345678901\r\n\r\n", {}, head_only)
          .messages.size() == 1);
  e = rejects("GET / HTTP/1.1\r\nHost: a\r\nA: 01234567890\r\nB: 0123456789012\r\n\r\n", {},
              head_only);
  CHECK(e == ParseError::HeadTooLarge);
  // A line over the limit is refused before its end arrives: no unbounded buffering.
  RequestParser p(small, {});
  CHECK(p.parse("GET /" + std::string(40, 'a')) == RequestParser::Result::Error);
  CHECK(p.error() == ParseError::RequestLineTooLong);
  // Defaults match the documented ones.
  RequestParser::Limits d{};
  CHECK(d.max_request_line == 8192);
  CHECK(d.max_field_line == 8192);
  CHECK(d.max_head == 32768);
  CHECK(d.max_fields == 100);
}

TEST_CASE("pipelined requests come out in order") {
  StreamResult r = parse(
      "GET /1 HTTP/1.1\r\nHost: a\r\n\r\n"
      "PUT /2 HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n"
      "POST /3 HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\n\r\nxy"
      "GET /4 HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"
      "GET /never HTTP/1.1\r\nHost: a\r\n\r\n");
  REQUIRE(r.messages.size() == 4);
  CHECK(r.messages[0].target == "/1");
  CHECK(r.messages[1].body == "abc");
  CHECK(r.messages[2].body == "xy");
  CHECK(r.messages[3].target == "/4");
  CHECK(r.after == After::Close);  // nothing after "Connection: close" is parsed
}
