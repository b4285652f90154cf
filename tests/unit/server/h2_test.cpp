// The HTTP/2 driver's decisions and its response body, without a socket: the preface check,
// the GOAWAY code of each fatal nghttp2 error, the flood guard's bucket, and how a body's
// pieces become DATA frames (sizes, END_STREAM on the last one only, waiting for more, a
// short body reset). The frames are judged by the output queue's bytes.
#include <doctest/doctest.h>
#include <fcntl.h>
#include <nghttp2/nghttp2.h>
#include <unistd.h>

#include <memory>
#include <string>

#include "server/flood_guard.hpp"
#include "server/h2_response.hpp"
#include "server/h2_session.hpp"
#include "support/process.hpp"

using namespace httpfs::server;

TEST_CASE("the h2c preface is told apart from HTTP/1 by its first 16 bytes") {
  struct Case {
    std::string_view bytes;
    Preface want;
  };
  const Case cases[] = {
      {"", Preface::Maybe},
      {"P", Preface::Maybe},
      {"PRI * HTTP/2.0\r", Preface::Maybe},
      {"PRI * HTTP/2.0\r\n", Preface::Yes},
      {"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", Preface::Yes},
      {"PRI * HTTP/2.0\r\n\r\nXX", Preface::Yes},  // nghttp2 refuses the rest: GOAWAY
      {"GET / HTTP/1.1\r\n", Preface::No},
      {"PRI * HTTP/1.1\r\n", Preface::No},
      {"PUT", Preface::No},
      {"\x16\x03\x01", Preface::No},
  };
  for (const Case& c : cases) {
    INFO(c.bytes);
    CHECK(h2_preface(c.bytes) == c.want);
  }
}

TEST_CASE("each fatal nghttp2 error has its GOAWAY code") {
  CHECK(goaway_code(NGHTTP2_ERR_FLOODED) == NGHTTP2_ENHANCE_YOUR_CALM);
  CHECK(goaway_code(NGHTTP2_ERR_TOO_MANY_CONTINUATIONS) == NGHTTP2_ENHANCE_YOUR_CALM);
  CHECK(goaway_code(NGHTTP2_ERR_TOO_MANY_SETTINGS) == NGHTTP2_ENHANCE_YOUR_CALM);
  CHECK(goaway_code(NGHTTP2_ERR_HEADER_COMP) == NGHTTP2_COMPRESSION_ERROR);
  CHECK(goaway_code(NGHTTP2_ERR_CALLBACK_FAILURE) == NGHTTP2_INTERNAL_ERROR);
  CHECK(goaway_code(NGHTTP2_ERR_NOMEM) == NGHTTP2_INTERNAL_ERROR);
  CHECK(goaway_code(NGHTTP2_ERR_BAD_CLIENT_MAGIC) == NGHTTP2_PROTOCOL_ERROR);
  CHECK(goaway_code(NGHTTP2_ERR_PROTO) == NGHTTP2_PROTOCOL_ERROR);
}

TEST_CASE("a stream is stalled on its own window only while the connection's is open") {
  struct Row {
    bool data_waiting;
    std::int32_t stream_window, connection_window;
    bool stalled;
  };
  const Row rows[] = {
      {true, 0, 65535, true},        // its window is closed, the connection's open
      {true, -100, 65535, true},     // SETTINGS shrank it below zero (RFC 9113 6.9.2)
      {true, 1, 65535, false},       // it can send a byte
      {true, 0, 0, false},           // every stream waits: the connection's clock
      {true, 0, -1, false},          //
      {false, 0, 65535, false},      // nothing to send: waiting for its source or done
      {false, 65535, 65535, false},  //
  };
  for (const Row& r : rows) {
    CAPTURE(r.data_waiting);
    CAPTURE(r.stream_window);
    CAPTURE(r.connection_window);
    CHECK(stream_window_stalled(r.data_waiting, r.stream_window, r.connection_window) == r.stalled);
  }
}

TEST_CASE("the flood guard: a burst, then a steady rate") {
  FloodGuard g(3, 10);  // 3 at once, then one per 100 ms
  CHECK(g.take(1000));
  CHECK(g.take(1000));
  CHECK(g.take(1000));
  CHECK_FALSE(g.take(1000));
  CHECK_FALSE(g.take(1050));  // half a token
  CHECK(g.take(1100));
  CHECK_FALSE(g.take(1100));
  // An idle minute refills up to the burst, no more.
  CHECK(g.take(61000));
  CHECK(g.take(61000));
  CHECK(g.take(61000));
  CHECK_FALSE(g.take(61000));
  // A clock that does not move refills nothing; one that went back is ignored.
  CHECK_FALSE(g.take(500));
  // No overflow after a very long idle time.
  CHECK(g.take(1ull << 50));
}

namespace {

// A real nghttp2 server session with no peer: the encoder's submissions go to streams that do
// not exist, which nghttp2 refuses, while the body's pieces are kept as for a real stream.
struct Frames {
  Frames() {
    nghttp2_session_callbacks* cb = nullptr;
    nghttp2_session_callbacks_new(&cb);
    nghttp2_session_server_new(&session, cb, nullptr);
    nghttp2_session_callbacks_del(cb);
  }
  ~Frames() { nghttp2_session_del(session); }
  H2Encoder encoder(bool head_only = false) {
    return H2Encoder(session, 1, response, {"Wed, 02 Dec 2026 12:00:00 GMT", {}, head_only});
  }
  // The next frame as nghttp2 would ask for it: payload length and flags.
  ssize_t next(std::size_t max, std::uint32_t& flags) {
    flags = 0;
    return response.next_frame(max, &flags);
  }
  // Writes the frame of `n` bytes into a queue and returns the payload that went out.
  std::string take(std::size_t n) {
    httpfs::net::OutputQueue out;
    const std::uint8_t header[9] = {};
    response.write_frame(out, header, n);
    std::string bytes;
    char scratch[1 << 16];
    for (;;) {
      const std::string_view v = out.peek(scratch, sizeof scratch, sizeof scratch);
      if (v.empty()) break;
      bytes.append(v);
      std::size_t done = 0;
      out.consume(v.size(), done);
    }
    REQUIRE(bytes.size() == 9 + n);
    return bytes.substr(9);
  }
  nghttp2_session* session = nullptr;
  H2Response response;
};

// A body made in pieces of `step` bytes, `count` of them.
class Counting final : public BodySource {
 public:
  Counting(std::size_t step, int count) : step_(step), left_(count) {}
  bool next(std::string& out, std::size_t, int&) override {
    out.append(step_, static_cast<char>('a' + left_ % 26));
    return --left_ > 0;
  }

 private:
  std::size_t step_;
  int left_;
};

}  // namespace

TEST_CASE("a body's pieces become DATA frames; END_STREAM only on the last") {
  Frames f;
  H2Encoder e = f.encoder();
  e.begin(200);
  CHECK(e.end_head(200, 10, true) == 200);
  std::uint32_t flags = 0;
  // Nothing yet: nghttp2 is told to wait.
  CHECK(f.next(16384, flags) == NGHTTP2_ERR_DEFERRED);
  CHECK(f.response.take_deferred());
  CHECK_FALSE(f.response.take_deferred());
  e.body("01234");
  auto keep = std::make_shared<std::string>("56789");
  e.body_external(keep->data(), keep->size(), keep);
  // Both pieces in one frame, no copy asked of nghttp2, not the end: finish() has not come.
  CHECK(f.next(16384, flags) == 10);
  CHECK((flags & NGHTTP2_DATA_FLAG_NO_COPY) != 0);
  CHECK((flags & NGHTTP2_DATA_FLAG_EOF) == 0);
  CHECK(f.take(10) == "0123456789");
  e.finish(true);
  CHECK(f.next(16384, flags) == 0);
  CHECK((flags & NGHTTP2_DATA_FLAG_EOF) != 0);
}

TEST_CASE("frames are cut at the size nghttp2 allows, across pieces and files") {
  httpfs::test::TempDir dir;
  std::string content;
  for (int i = 0; i < 40000; ++i) content += static_cast<char>('A' + i % 23);
  dir.write("f.bin", content);
  const int fd = ::open((dir.path() + "/f.bin").c_str(), O_RDONLY | O_CLOEXEC);
  REQUIRE(fd >= 0);
  Frames f;
  H2Encoder e = f.encoder();
  e.begin(200);
  e.end_head(200, 3 + 30000, true);
  e.body("xyz");
  e.body_file(fd, 5000, 30000, true);
  e.finish(true);
  std::string got;
  std::uint32_t flags = 0;
  int frames = 0;
  for (;;) {
    const ssize_t n = f.next(16384, flags);
    REQUIRE(n >= 0);
    CHECK(n <= 16384);
    got += f.take(static_cast<std::size_t>(n));
    ++frames;
    if (flags & NGHTTP2_DATA_FLAG_EOF) break;
    REQUIRE(frames < 10);
  }
  CHECK(frames == 2);  // 16384, then the last 13619 with END_STREAM: no empty last frame
  CHECK(got == "xyz" + content.substr(5000, 30000));
}

TEST_CASE("a streamed body is asked for more only as frames need it") {
  Frames f;
  H2Encoder e = f.encoder();
  e.begin(200);
  e.end_head_streamed(200);
  e.body_source(std::make_unique<Counting>(20000, 3));
  e.finish(true);
  std::string got;
  std::uint32_t flags = 0;
  for (int i = 0; i < 20; ++i) {
    const ssize_t n = f.next(16384, flags);
    REQUIRE(n >= 0);
    got += f.take(static_cast<std::size_t>(n));
    if (flags & NGHTTP2_DATA_FLAG_EOF) break;
  }
  CHECK((flags & NGHTTP2_DATA_FLAG_EOF) != 0);
  CHECK(got == std::string(20000, 'd') + std::string(20000, 'c') + std::string(20000, 'b'));
}

TEST_CASE("a body shorter than its head promised resets the stream instead of ending it") {
  Frames f;
  H2Encoder e = f.encoder();
  e.begin(200);
  e.end_head(200, 100, true);
  e.body("short");
  e.finish(false);
  std::uint32_t flags = 0;
  CHECK(f.next(16384, flags) == 5);
  CHECK((flags & NGHTTP2_DATA_FLAG_EOF) == 0);
  CHECK(f.take(5) == "short");
  CHECK(f.next(16384, flags) == NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE);
}

TEST_CASE("HEAD and bodiless statuses end with the head; a body after it is dropped") {
  Frames f;
  H2Encoder e = f.encoder(true);
  e.begin(200);
  e.end_head(200, 5, true);
  CHECK(f.response.ended());
  e.body("hello");
  e.finish(true);
  std::uint32_t flags = 0;
  CHECK(f.next(16384, flags) == 0);
  CHECK((flags & NGHTTP2_DATA_FLAG_EOF) != 0);
}
