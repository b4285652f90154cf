#include "server/http1_encoder.hpp"

#include <doctest/doctest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "support/http_client.hpp"
#include "support/process.hpp"

using httpfs::net::OutputQueue;
using httpfs::server::BodySource;
using httpfs::server::Http1Encoder;

namespace {

// Hands out the given pieces, one per call, whatever the hint.
class Pieces final : public BodySource {
 public:
  explicit Pieces(std::vector<std::string> pieces) : pieces_(std::move(pieces)) {}
  bool next(std::string& out, std::size_t, int&) override {
    out += pieces_[next_++];
    return next_ < pieces_.size();
  }

 private:
  std::vector<std::string> pieces_;
  std::size_t next_ = 0;
};

// Flushes the whole queue through a socket pair; the queue's flush result at the end.
OutputQueue::Flush send_all(OutputQueue& q, std::string& got) {
  int sv[2];
  REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv) == 0);
  std::size_t completed = 0;
  OutputQueue::Flush r = OutputQueue::Flush::Done;
  char buf[65536];
  for (int i = 0; i < 100000 && !q.empty(); ++i) {
    r = q.flush(sv[0], 1 << 20, completed);
    if (r == OutputQueue::Flush::Error) break;
    for (ssize_t n; (n = ::recv(sv[1], buf, sizeof buf, MSG_DONTWAIT)) > 0;)
      got.append(buf, static_cast<std::size_t>(n));
  }
  ::close(sv[0]);
  ::close(sv[1]);
  return r;
}

std::string streamed(const std::vector<std::string>& pieces, bool http10) {
  OutputQueue q;
  Http1Encoder enc(q, {.date = "Thu, 01 Jan 1970 00:00:00 GMT", .http10 = http10});
  enc.begin(207);
  enc.field("Content-Type", "application/xml; charset=utf-8");
  CHECK(enc.end_head_streamed(207) == 207);
  enc.body_source(std::make_unique<Pieces>(pieces));
  enc.finish(true);
  CHECK(enc.keep_alive() == !http10);
  std::string got;
  CHECK(send_all(q, got) != OutputQueue::Flush::Error);
  return got;
}

}  // namespace

TEST_CASE("a streamed body is chunked in place with fixed-width sizes and parses back") {
  std::vector<std::string> pieces;
  std::string whole;
  unsigned seed = 1;
  for (std::size_t size : {1, 15, 16, 255, 4096, 65536, 100000, 3}) {
    pieces.push_back(httpfs::test::random_bytes(size, seed++));
    whole += pieces.back();
  }
  pieces.push_back("");  // a last call that adds nothing
  const std::string raw = streamed(pieces, false);
  const std::size_t body_at = raw.find("\r\n\r\n") + 4;
  CHECK(raw.substr(0, body_at).find("Transfer-Encoding: chunked\r\n") != std::string::npos);
  CHECK(raw.compare(body_at, 10, "00000001\r\n") == 0);
  CHECK(raw.compare(body_at + 10 + 1, 12, "\r\n0000000f\r\n") == 0);
  CHECK(raw.ends_with("\r\n0\r\n\r\n"));
  CHECK(raw.find("000186a0\r\n") != std::string::npos);  // 100000
  const auto parsed = httpfs::test::parse_response(raw);
  REQUIRE(parsed.has_value());
  CHECK(parsed->status == 207);
  CHECK(parsed->body == whole);
  CHECK(parsed->keep_alive);
}

TEST_CASE("an empty streamed body is the last chunk alone") {
  const std::string raw = streamed({""}, false);
  CHECK(raw.ends_with("\r\n\r\n0\r\n\r\n"));
  const auto parsed = httpfs::test::parse_response(raw);
  REQUIRE(parsed.has_value());
  CHECK(parsed->body.empty());
}

TEST_CASE("HTTP/1.0 gets the body unframed, ended by the close") {
  const std::string raw = streamed({"abc", "def"}, true);
  CHECK(raw.find("Transfer-Encoding") == std::string::npos);
  CHECK(raw.find("Connection: close\r\n") != std::string::npos);
  CHECK(raw.ends_with("\r\n\r\nabcdef"));
}

TEST_CASE("a source that fails cuts the body off before the last chunk") {
  class Failing final : public BodySource {
   public:
    bool next(std::string& out, std::size_t, int& error) override {
      if (calls_++ == 0) {
        out += "first";
        return true;
      }
      error = EIO;
      return false;
    }

   private:
    int calls_ = 0;
  };
  OutputQueue q;
  Http1Encoder enc(q, {.date = "Thu, 01 Jan 1970 00:00:00 GMT"});
  enc.begin(200);
  enc.end_head_streamed(200);
  enc.body_source(std::make_unique<Failing>());
  enc.finish(true);
  std::string got;
  CHECK(send_all(q, got) == OutputQueue::Flush::Error);
  // What left (the queue may gather the failing piece with the ones before it) is a prefix
  // of the response without the last chunk.
  const std::string whole = "00000005\r\nfirst\r\n";
  CHECK(got.find("0\r\n\r\n") == std::string::npos);
  CHECK(whole.starts_with(got.substr(std::min(got.size(), got.find("\r\n\r\n") + 4))));
  CHECK_FALSE(httpfs::test::parse_response(got).has_value());
}

TEST_CASE("interim responses go ahead of the final one; never to HTTP/1.0") {
  for (bool http10 : {false, true}) {
    CAPTURE(http10);
    OutputQueue q;
    Http1Encoder enc(q, {.date = "Thu, 01 Jan 1970 00:00:00 GMT", .http10 = http10});
    const httpfs::server::Field fields[] = {{"Location", "/.uploads/abc"},
                                            {"Upload-Draft-Interop-Version", "8"}};
    enc.informational(104, fields);
    const httpfs::server::Field bad[] = {{"Location", "/x\r\nSet-Cookie: a=b"}};
    enc.informational(104, bad);  // not writable: dropped whole
    enc.begin(201);
    CHECK(enc.end_head(201, 0, true) == 201);
    enc.finish(true);
    std::string got;
    CHECK(send_all(q, got) != OutputQueue::Flush::Error);
    if (http10) {
      CHECK(got.starts_with("HTTP/1.1 201 Created\r\n"));
    } else {
      CHECK(
          got.starts_with("HTTP/1.1 104 Upload Resumption Supported\r\n"
                          "Location: /.uploads/abc\r\nUpload-Draft-Interop-Version: 8\r\n\r\n"
                          "HTTP/1.1 201 Created\r\n"));
    }
    CHECK(got.find("Set-Cookie") == std::string::npos);
  }
}
