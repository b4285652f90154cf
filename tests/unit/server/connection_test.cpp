// The HTTP/1 driver in process: a real Server on a loop in this thread, and one Connection
// handed a socketpair's end, so that the test holds the other end and runs the loop between
// what it sends and what it reads. Nothing is timed: each wait is a bounded number of loop
// turns, and each test ends with the loop closed cleanly.
#include "server/connection.hpp"

#include <doctest/doctest.h>
#include <poll.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>
#include <unistd.h>
#include <uv.h>

#include <atomic>
#include <condition_variable>
#include <csignal>
#include <cstdlib>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "http/body_decoder.hpp"
#include "http/response_parser.hpp"
#include "server/server.hpp"
#include "support/process.hpp"

using httpfs::server::Server;
using httpfs::server::ServerOptions;
using httpfs::test::TempDir;

namespace {

struct Answer {
  int status = 0;
  std::string head;  // status line and fields, as sent
  std::string body;
  bool has(std::string_view field_line) const { return head.find(field_line) != std::string::npos; }
};

// Parses whole answers off the front of `in`; what is left is an incomplete answer.
std::vector<Answer> parse_answers(std::string& in, std::string_view method = "GET") {
  std::vector<Answer> out;
  for (;;) {
    httpfs::http::ResponseParser parser;
    const auto r = parser.parse(in, httpfs::http::method_from_token(method));
    if (r == httpfs::http::ResponseParser::Result::Incomplete) return out;
    REQUIRE(r != httpfs::http::ResponseParser::Result::Error);
    const auto& h = parser.head();
    Answer a;
    a.status = h.status;
    a.head = in.substr(0, h.head_size);
    auto body = h.framing == httpfs::http::ResponseFraming::Length
                    ? httpfs::http::BodyDecoder::length(h.content_length)
                : h.framing == httpfs::http::ResponseFraming::Chunked
                    ? httpfs::http::BodyDecoder::chunked()
                    : httpfs::http::BodyDecoder::none();
    std::string_view rest = std::string_view(in).substr(h.head_size);
    std::size_t used = h.head_size;
    while (!rest.empty() && !body.done()) {
      const auto step = body.decode(rest);
      a.body.append(step.data);
      rest.remove_prefix(step.consumed);
      used += step.consumed;
    }
    if (!body.done()) return out;
    in.erase(0, used);
    if (a.status >= 200) out.push_back(std::move(a));
  }
}

class Harness {
 public:
  explicit Harness(std::function<void(ServerOptions&)> tune = {}) {
    spdlog::set_level(spdlog::level::warn);
    root_.write("hello.txt", "hello");
    root_.mkdir("up");
    uv_loop_init(&loop_);
    ServerOptions o;
    o.dir = root_.path();
    o.port = 0;
    o.binds = {"127.0.0.1"};
    o.access_log = "off";
    o.durable = false;  // the disk is not under test here
    if (tune) tune(o);
    server_ = std::make_unique<Server>(&loop_, o);
    REQUIRE(server_->start().empty());
    // One turn registers every watcher with epoll, so that from now on events are handled in
    // the order they happen (a watcher added later is reported after those already there).
    uv_run(&loop_, UV_RUN_NOWAIT);
  }

  ~Harness() {
    if (client_ >= 0) ::close(client_);
    server_->shutdown();
    for (int i = 0; i < 100000 && uv_run(&loop_, UV_RUN_NOWAIT) != 0; ++i) wait_a_little(-1);
    server_.reset();
    uv_run(&loop_, UV_RUN_DEFAULT);
    CHECK(uv_loop_close(&loop_) == 0);
  }

  // Sends `bytes` first, then hands the server its end, as an accept would: the server
  // answers what is there before it ever waits.
  void connect(std::string_view bytes = {}) {
    int sv[2];
    REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) == 0);
    client_ = sv[0];
    send(bytes);
    server_->on_accept(sv[1], *httpfs::net::SocketAddress::parse("127.0.0.1", 1));
  }

  void send(std::string_view bytes) {
    while (!bytes.empty()) {
      const ssize_t n = ::send(client_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
      if (n < 0 && errno == EAGAIN) {
        turn();
        continue;
      }
      REQUIRE(n > 0);
      bytes.remove_prefix(static_cast<std::size_t>(n));
    }
  }

  // Runs the loop until `n` whole answers have arrived (or the peer closed).
  std::vector<Answer> answers(std::size_t n, std::string_view method = "GET") {
    std::vector<Answer> got;
    for (int i = 0; i < 20000 && got.size() < n && !closed_; ++i) {
      turn();
      pull();
      for (Answer& a : parse_answers(in_, method)) got.push_back(std::move(a));
    }
    return got;
  }

  // Runs the loop until the server closes its side: true when it did.
  bool server_closed() {
    for (int i = 0; i < 20000 && !closed_; ++i) {
      turn();
      pull();
    }
    return closed_;
  }

  void close_client() {
    ::close(client_);
    client_ = -1;
  }

  Server& server() { return *server_; }
  uv_loop_t* loop() { return &loop_; }
  const TempDir& root() const { return root_; }
  const std::string& leftover() const { return in_; }

  // One turn of the loop, waiting briefly for the server's end or its worker pool.
  void turn() {
    uv_run(&loop_, UV_RUN_NOWAIT);
    wait_a_little(client_);
  }

 private:
  static void wait_a_little(int fd) {
    pollfd p{fd, POLLIN, 0};
    ::poll(&p, fd >= 0 ? 1 : 0, 1);
  }

  void pull() {
    char buf[65536];
    for (;;) {
      const ssize_t n = ::recv(client_, buf, sizeof buf, MSG_DONTWAIT);
      if (n > 0) {
        in_.append(buf, static_cast<std::size_t>(n));
        continue;
      }
      if (n == 0) closed_ = true;
      return;
    }
  }

  TempDir root_;
  uv_loop_t loop_{};
  std::unique_ptr<Server> server_;
  int client_ = -1;
  std::string in_;
  bool closed_ = false;
};

// Occupies every thread of libuv's worker pool, so that a job queued meanwhile (an upload's
// commit) waits until the blocker goes: the test then decides what the loop sees first.
class PoolBlocker {
 public:
  explicit PoolBlocker(Harness& h) : h_(h), reqs_(static_cast<std::size_t>(pool_size())) {
    for (uv_work_t& r : reqs_) {
      r.data = this;
      REQUIRE(uv_queue_work(h_.loop(), &r, &PoolBlocker::on_work, &PoolBlocker::on_after) == 0);
    }
    for (int i = 0; i < 100000 && started_ < static_cast<int>(reqs_.size()); ++i) h_.turn();
    REQUIRE(started_ == static_cast<int>(reqs_.size()));
  }
  // Lets the pool go, and runs the loop until every blocker has been reaped.
  ~PoolBlocker() {
    {
      std::lock_guard<std::mutex> lock(m_);
      released_ = true;
    }
    cv_.notify_all();
    for (int i = 0; i < 100000 && reaped_ < static_cast<int>(reqs_.size()); ++i) h_.turn();
  }

 private:
  // As libuv sizes it: $UV_THREADPOOL_SIZE, else 4; at least 1, at most 1024.
  static int pool_size() {
    const char* v = std::getenv("UV_THREADPOOL_SIZE");
    const int n = v != nullptr ? std::atoi(v) : 4;
    return n <= 0 ? 1 : (n > 1024 ? 1024 : n);
  }
  static void on_work(uv_work_t* r) {
    auto* self = static_cast<PoolBlocker*>(r->data);
    std::unique_lock<std::mutex> lock(self->m_);
    ++self->started_;
    self->cv_.wait(lock, [self] { return self->released_; });
  }
  static void on_after(uv_work_t* r, int) { ++static_cast<PoolBlocker*>(r->data)->reaped_; }

  Harness& h_;
  std::vector<uv_work_t> reqs_;
  std::mutex m_;
  std::condition_variable cv_;
  bool released_ = false;
  std::atomic<int> started_{0};
  int reaped_ = 0;
};

constexpr std::string_view kGetHello = "GET /hello.txt HTTP/1.1\r\nHost: h\r\n\r\n";

}  // namespace

TEST_CASE("a request in, its answer out, and the connection stays for the next") {
  Harness h;
  h.connect(kGetHello);
  auto first = h.answers(1);
  REQUIRE(first.size() == 1);
  CHECK(first[0].status == 200);
  CHECK(first[0].body == "hello");
  CHECK_FALSE(first[0].has("Connection: close"));
  CHECK(h.server().connection_count() == 1);

  h.send(kGetHello);
  auto second = h.answers(1);
  REQUIRE(second.size() == 1);
  CHECK(second[0].status == 200);
  CHECK(second[0].body == "hello");
  CHECK(h.server().connection_count() == 1);
}

TEST_CASE("pipelined requests are answered in order") {
  Harness h;
  h.connect(std::string(kGetHello) + "GET /missing HTTP/1.1\r\nHost: h\r\n\r\n" +
            "HEAD /hello.txt HTTP/1.1\r\nHost: h\r\n\r\n");
  auto got = h.answers(2);
  REQUIRE(got.size() == 2);
  CHECK(got[0].status == 200);
  CHECK(got[0].body == "hello");
  CHECK(got[1].status == 404);
  // The HEAD answer has a Content-Length but no body: parse it as such.
  auto head = h.answers(1, "HEAD");
  REQUIRE(head.size() == 1);
  CHECK(head[0].status == 200);
  CHECK(head[0].has("Content-Length: 5"));
  CHECK(head[0].body.empty());
}

TEST_CASE("an error is answered, then the connection closes") {
  Harness h;
  h.connect("GET /hello.txt HTTP/1.1\r\nHost: h\r\nBad Header: x\r\n\r\n" + std::string(kGetHello));
  auto got = h.answers(1);
  REQUIRE(got.size() == 1);
  CHECK(got[0].status == 400);
  CHECK(got[0].has("Connection: close"));
  // Nothing after the malformed request is read as a request.
  CHECK(h.server_closed());
  CHECK(h.leftover().empty());
}

TEST_CASE("Connection: close is answered, then the connection closes") {
  Harness h;
  h.connect("GET /hello.txt HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n");
  auto got = h.answers(1);
  REQUIRE(got.size() == 1);
  CHECK(got[0].status == 200);
  CHECK(got[0].has("Connection: close"));
  CHECK(h.server_closed());
  h.close_client();
  for (int i = 0; i < 1000 && h.server().connection_count() > 0; ++i) h.turn();
  CHECK(h.server().connection_count() == 0);
}

TEST_CASE("an upload is committed before its answer, and the connection stays") {
  Harness h;
  h.connect("PUT /up/new.txt HTTP/1.1\r\nHost: h\r\nContent-Length: 11\r\n\r\nhello world");
  auto got = h.answers(1);
  REQUIRE(got.size() == 1);
  CHECK(got[0].status == 201);
  CHECK(got[0].body == "File Created\n");
  CHECK(httpfs::test::read_file(h.root() / "up/new.txt") == "hello world");
  h.send(kGetHello);
  CHECK(h.answers(1).size() == 1);
}

TEST_CASE("a refused upload's body is not read: the answer ends the connection") {
  Harness h([](ServerOptions& o) { o.read_only = true; });
  h.connect("PUT /up/x HTTP/1.1\r\nHost: h\r\nContent-Length: 100000\r\n\r\npartial");
  auto got = h.answers(1);
  REQUIRE(got.size() == 1);
  CHECK(got[0].status == 403);
  CHECK(got[0].has("Connection: close"));
  CHECK(h.server_closed());
  CHECK_FALSE(httpfs::test::file_exists(h.root() / "up/x"));
}

TEST_CASE("a small body nobody asked for is dropped and the connection goes on") {
  Harness h;
  h.connect("GET /hello.txt HTTP/1.1\r\nHost: h\r\nContent-Length: 4\r\n\r\nbody" +
            std::string(kGetHello));
  auto got = h.answers(2);
  REQUIRE(got.size() == 2);
  CHECK(got[0].status == 200);
  CHECK(got[1].status == 200);
  CHECK_FALSE(got[1].has("Connection: close"));
}

TEST_CASE(
    "SIGTERM while an upload is being committed: it is answered, then the connection "
    "closes without waiting for the grace period") {
  // A grace period no test would wait for: if the committing connection does not hear of
  // the shutdown, it stays open until then and the loop below never ends.
  Harness h([](ServerOptions& o) { o.shutdown_grace_ms = 600000; });
  {
    PoolBlocker pool(h);
    // The whole request is there at accept: the body is read at once and its commit waits
    // for a worker.
    h.connect("PUT /up/late.txt HTTP/1.1\r\nHost: h\r\nContent-Length: 4\r\n\r\nlate");
    REQUIRE(h.server().connection_count() == 1);
    REQUIRE(::kill(::getpid(), SIGTERM) == 0);
    for (int i = 0; i < 1000 && !h.server().shutting_down(); ++i) h.turn();
    REQUIRE(h.server().shutting_down());
    CHECK(h.server().connection_count() == 1);  // still committing: not closed under it
  }
  auto got = h.answers(1);
  REQUIRE(got.size() == 1);
  CHECK(got[0].status == 201);
  CHECK(got[0].has("Connection: close"));
  CHECK(httpfs::test::read_file(h.root() / "up/late.txt") == "late");
  CHECK(h.server_closed());
  // The server's loop runs out by itself: every handle closed, long before the grace period.
  h.close_client();
  int turns = 0;
  while (uv_run(h.loop(), UV_RUN_NOWAIT) != 0 && turns < 20000) {
    h.turn();
    ++turns;
  }
  CHECK(turns < 20000);
  CHECK(h.server().connection_count() == 0);
}

TEST_CASE(
    "a second SIGTERM closes a connection whose upload is being committed; the commit "
    "still completes") {
  Harness h([](ServerOptions& o) { o.shutdown_grace_ms = 600000; });
  {
    PoolBlocker pool(h);
    h.connect("PUT /up/cut.txt HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\ncut");
    REQUIRE(h.server().connection_count() == 1);
    // The first signal starts the shutdown, the second closes every connection at once, the
    // one whose commit is waiting included.
    REQUIRE(::kill(::getpid(), SIGTERM) == 0);
    REQUIRE(::kill(::getpid(), SIGTERM) == 0);
    CHECK(h.server_closed());
    CHECK(h.leftover().empty());  // closed without an answer
  }
  // The body arrived whole before the close: it is committed all the same.
  for (int i = 0; i < 20000 && !httpfs::test::file_exists(h.root() / "up/cut.txt"); ++i) h.turn();
  CHECK(httpfs::test::read_file(h.root() / "up/cut.txt") == "cut");
  for (int i = 0; i < 20000 && h.server().connection_count() > 0; ++i) h.turn();
  CHECK(h.server().connection_count() == 0);
}

TEST_CASE("a PROPFIND answer is made while it is sent: chunked, every member, then keep-alive") {
  Harness h;
  for (int i = 0; i < 300; ++i) h.root().write("up/f" + std::to_string(i), "x");
  h.connect("PROPFIND /up/ HTTP/1.1\r\nHost: h\r\nDepth: 1\r\n\r\n" + std::string(kGetHello));
  auto got = h.answers(2, "PROPFIND");
  REQUIRE(got.size() == 2);
  CHECK(got[0].status == 207);
  CHECK(got[0].has("Transfer-Encoding: chunked"));
  std::size_t responses = 0;
  for (std::size_t at = 0; (at = got[0].body.find("<D:response>", at)) != std::string::npos; ++at)
    ++responses;
  CHECK(responses == 301);  // the collection and its 300 members
  CHECK(got[0].body.ends_with("</D:multistatus>\n"));
  CHECK(got[1].status == 200);  // the pipelined GET behind it, on the same connection
}
