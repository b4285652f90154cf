#include "server/body_rate.hpp"

#include <doctest/doctest.h>

#include <cstdint>
#include <string>

#include "http/method.hpp"
#include "http/request_parser.hpp"
#include "server/body_reader.hpp"

using namespace httpfs::server;
namespace http = httpfs::http;

namespace {

std::string show(RateVerdict v) {
  switch (v) {
    case RateVerdict::Open:
      return "Open";
    case RateVerdict::Passed:
      return "Passed";
    case RateVerdict::TooSlow:
      return "TooSlow";
  }
  return "?";
}

std::string show(UnreadBody u) {
  switch (u) {
    case UnreadBody::None:
      return "None";
    case UnreadBody::Drop:
      return "Drop";
    case UnreadBody::Close:
      return "Close";
  }
  return "?";
}

}  // namespace

TEST_CASE("judge_rate") {
  constexpr std::uint64_t kGiB = 1ull << 30;
  struct Row {
    const char* what;
    RateWindow window;
    std::uint64_t now, total, min_rate, window_ms;
    RateVerdict expected;
  };
  const Row rows[] = {
      {"min_rate 0 never judges", {0, 0}, 1000000, 0, 0, 10000, RateVerdict::Open},
      {"min_rate 0, window long over", {1000, 0}, 99000, 5, 0, 1, RateVerdict::Open},
      {"window not over", {1000, 0}, 10999, 0, 100, 10000, RateVerdict::Open},
      {"window just begun", {1000, 0}, 1000, 0, 100, 10000, RateVerdict::Open},
      {"exactly min_rate over the window", {1000, 0}, 11000, 1000, 100, 10000, RateVerdict::Passed},
      {"one byte short", {1000, 0}, 11000, 999, 100, 10000, RateVerdict::TooSlow},
      {"nothing at all", {1000, 0}, 11000, 0, 100, 10000, RateVerdict::TooSlow},
      {"well above", {1000, 0}, 11000, 50000, 100, 10000, RateVerdict::Passed},
      // Only the bytes since the window began count.
      {"window bytes subtracted, short",
       {1000, 500},
       11000,
       1499,
       100,
       10000,
       RateVerdict::TooSlow},
      {"window bytes subtracted, enough",
       {1000, 500},
       11000,
       1500,
       100,
       10000,
       RateVerdict::Passed},
      {"a total below the window's count is no progress",
       {0, 500},
       10000,
       100,
       1,
       10000,
       RateVerdict::TooSlow},
      // A late judgement divides by the real elapsed time, not the window.
      {"twice the window, short", {0, 0}, 20000, 1999, 100, 10000, RateVerdict::TooSlow},
      {"twice the window, enough", {0, 0}, 20000, 2000, 100, 10000, RateVerdict::Passed},
      // A clock that reads earlier than the window start is no time elapsed.
      {"now before the start", {5000, 0}, 1000, 0, 100, 10000, RateVerdict::Open},
      {"now before the start, no window", {5000, 0}, 1000, 0, 100, 0, RateVerdict::Passed},
      // The largest documented rate over two windows of a minute: no overflow.
      {"2^30 B/s over 120 s, exactly",
       {0, 0},
       120000,
       kGiB * 120,
       kGiB,
       60000,
       RateVerdict::Passed},
      {"2^30 B/s over 120 s, one short",
       {0, 0},
       120000,
       kGiB * 120 - 1,
       kGiB,
       60000,
       RateVerdict::TooSlow},
      {"1 B/s over a 1 s window", {7, 3}, 1007, 4, 1, 1000, RateVerdict::Passed},
      {"1 B/s over a 1 s window, none", {7, 3}, 1007, 3, 1, 1000, RateVerdict::TooSlow},
  };
  for (const Row& row : rows) {
    INFO(row.what);
    CAPTURE(row.window.start_ms);
    CAPTURE(row.window.bytes);
    CAPTURE(row.now);
    CAPTURE(row.total);
    CAPTURE(row.min_rate);
    CAPTURE(row.window_ms);
    CHECK(show(judge_rate(row.window, row.now, row.total, row.min_rate, row.window_ms)) ==
          show(row.expected));
  }
}

TEST_CASE("unread_body") {
  using http::BodyFraming;
  using http::Method;
  struct Row {
    const char* method_name;
    Method method;
    BodyFraming framing;
    std::uint64_t content_length;
    bool expect_continue;
    UnreadBody expected;
  };
  const Row rows[] = {
      // No body.
      {"GET", Method::Get, BodyFraming::None, 0, false, UnreadBody::None},
      {"HEAD", Method::Head, BodyFraming::None, 0, false, UnreadBody::None},
      {"PUT", Method::Put, BodyFraming::None, 0, false, UnreadBody::None},
      {"POST", Method::Post, BodyFraming::None, 0, false, UnreadBody::None},
      {"DELETE", Method::Delete, BodyFraming::None, 0, true, UnreadBody::None},
      {"CONNECT", Method::Connect, BodyFraming::None, 0, false, UnreadBody::None},
      {"PUT", Method::Put, BodyFraming::Length, 0, false, UnreadBody::None},
      {"POST", Method::Post, BodyFraming::Length, 0, true, UnreadBody::None},
      {"GET", Method::Get, BodyFraming::Length, 0, false, UnreadBody::None},
      // An upload nobody took: not read, whatever its size.
      {"PUT", Method::Put, BodyFraming::Length, 1, false, UnreadBody::Close},
      {"PUT", Method::Put, BodyFraming::Length, 10, false, UnreadBody::Close},
      {"PUT", Method::Put, BodyFraming::Chunked, 0, false, UnreadBody::Close},
      {"POST", Method::Post, BodyFraming::Length, 10, false, UnreadBody::Close},
      {"POST", Method::Post, BodyFraming::Chunked, 0, false, UnreadBody::Close},
      {"PUT", Method::Put, BodyFraming::Length, 10, true, UnreadBody::Close},
      {"PATCH", Method::Patch, BodyFraming::Length, 10, false, UnreadBody::Close},
      {"PATCH", Method::Patch, BodyFraming::Chunked, 0, false, UnreadBody::Close},
      // The client waits for permission to send: it never gets it.
      {"GET", Method::Get, BodyFraming::Length, 10, true, UnreadBody::Close},
      {"DELETE", Method::Delete, BodyFraming::Chunked, 0, true, UnreadBody::Close},
      {"OPTIONS", Method::Options, BodyFraming::Length, 1, true, UnreadBody::Close},
      // Small or chunked bodies of other methods: read and dropped.
      {"GET", Method::Get, BodyFraming::Length, 10, false, UnreadBody::Drop},
      {"GET", Method::Get, BodyFraming::Length, kMaxDiscard, false, UnreadBody::Drop},
      {"GET", Method::Get, BodyFraming::Chunked, 0, false, UnreadBody::Drop},
      {"HEAD", Method::Head, BodyFraming::Chunked, 0, false, UnreadBody::Drop},
      {"DELETE", Method::Delete, BodyFraming::Length, 100, false, UnreadBody::Drop},
      {"OPTIONS", Method::Options, BodyFraming::Length, 1, false, UnreadBody::Drop},
      {"FOO", Method::Unknown, BodyFraming::Length, 5, false, UnreadBody::Drop},
      // Larger ones are not worth reading.
      {"GET", Method::Get, BodyFraming::Length, kMaxDiscard + 1, false, UnreadBody::Close},
      {"DELETE", Method::Delete, BodyFraming::Length, 1ull << 40, false, UnreadBody::Close},
  };
  for (const Row& row : rows) {
    http::RequestHead head;
    head.method = row.method;
    head.method_token = row.method_name;
    head.framing = row.framing;
    head.content_length = row.content_length;
    head.expect_continue = row.expect_continue;
    CAPTURE(row.method_name);
    CAPTURE(static_cast<int>(row.framing));
    CAPTURE(row.content_length);
    CAPTURE(row.expect_continue);
    CHECK(show(unread_body(head)) == show(row.expected));
  }
}

TEST_CASE("read_before_dispatch: bodies to drop are read first, except where a handler reads") {
  using http::BodyFraming;
  using http::Method;
  struct Row {
    const char* method_name;
    Method method;
    BodyFraming framing;
    std::uint64_t content_length;
    bool expect_continue;
    bool expected;
  };
  const Row rows[] = {
      // No body: nothing to wait for.
      {"GET", Method::Get, BodyFraming::None, 0, false, false},
      {"DELETE", Method::Delete, BodyFraming::Length, 0, false, false},
      // Bodies no handler of the method takes: read (and dropped) before dispatch.
      {"GET", Method::Get, BodyFraming::Chunked, 0, false, true},
      {"GET", Method::Get, BodyFraming::Length, kMaxDiscard, false, true},
      {"HEAD", Method::Head, BodyFraming::Length, 3, false, true},
      {"DELETE", Method::Delete, BodyFraming::Chunked, 0, false, true},
      {"OPTIONS", Method::Options, BodyFraming::Length, 1, false, true},
      {"MKCOL", Method::Mkcol, BodyFraming::Length, 10, false, true},
      {"COPY", Method::Copy, BodyFraming::Chunked, 0, false, true},
      {"MOVE", Method::Move, BodyFraming::Length, 2, false, true},
      {"UNLOCK", Method::Unlock, BodyFraming::Length, 2, false, true},
      {"TRACE", Method::Trace, BodyFraming::Length, 2, false, true},
      {"FOO", Method::Unknown, BodyFraming::Chunked, 0, false, true},
      // XML-bodied methods: their handlers read the body (or refuse before it).
      {"PROPFIND", Method::Propfind, BodyFraming::Length, 100, false, false},
      {"PROPPATCH", Method::Proppatch, BodyFraming::Chunked, 0, false, false},
      {"LOCK", Method::Lock, BodyFraming::Length, 100, false, false},
      // Uploads, and bodies not worth reading or not sent yet: never read first.
      {"PUT", Method::Put, BodyFraming::Length, 10, false, false},
      {"POST", Method::Post, BodyFraming::Chunked, 0, false, false},
      {"PATCH", Method::Patch, BodyFraming::Length, 10, false, false},
      {"GET", Method::Get, BodyFraming::Length, kMaxDiscard + 1, false, false},
      {"GET", Method::Get, BodyFraming::Length, 10, true, false},
  };
  for (const Row& row : rows) {
    http::RequestHead head;
    head.method = row.method;
    head.method_token = row.method_name;
    head.framing = row.framing;
    head.content_length = row.content_length;
    head.expect_continue = row.expect_continue;
    CAPTURE(row.method_name);
    CAPTURE(static_cast<int>(row.framing));
    CAPTURE(row.content_length);
    CHECK(read_before_dispatch(head) == row.expected);
  }
}
