#include "net/output_queue.hpp"

#include <doctest/doctest.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <memory>
#include <string>

#include "support/process.hpp"

using httpfs::net::OutputQueue;

namespace {

std::string drain(int fd) {
  std::string out;
  char buf[65536];
  for (ssize_t n; (n = ::recv(fd, buf, sizeof buf, MSG_DONTWAIT)) > 0;)
    out.append(buf, static_cast<std::size_t>(n));
  return out;
}

}  // namespace

TEST_CASE("memory, external and file pieces leave in order, responses are counted") {
  int sv[2];
  REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv) == 0);
  httpfs::test::TempDir t;
  const std::string file = httpfs::test::random_bytes(300000, 1);
  t.write("f", file);
  OutputQueue q;
  char* head = q.reserve(64);
  std::memcpy(head, "HEAD1", 5);
  q.commit(5);
  q.append("+body1");
  q.end_response();
  auto keep = std::make_shared<std::string>("external");
  q.add_external(keep->data(), keep->size(), keep);
  q.end_response();
  q.append("HEAD3");
  q.add_file(::open((t / "f").c_str(), O_RDONLY), 0, file.size(), true);
  q.end_response();
  CHECK(q.queued_responses() == 3);
  CHECK(q.has_deferred_body());
  std::string got;
  std::size_t completed = 0;
  for (int i = 0; i < 1000 && !q.empty(); ++i) {
    OutputQueue::Flush r = q.flush(sv[0], 1 << 20, completed);
    CHECK(r != OutputQueue::Flush::Error);
    got += drain(sv[1]);  // the peer reads; the queue resumes where the socket stopped
  }
  got += drain(sv[1]);
  CHECK(q.empty());
  CHECK(completed == 3);
  CHECK(got == "HEAD1+body1externalHEAD3" + file);
  CHECK(q.sent() == got.size());  // every byte that left, memory and file alike
  // A closed peer: an error, not a signal.
  q.append("late");
  q.end_response();
  ::close(sv[1]);
  CHECK(q.flush(sv[0], 1 << 20, completed) == OutputQueue::Flush::Error);
  CHECK(q.error() == EPIPE);
  q.clear();
  ::close(sv[0]);
}

namespace {

// Counts up in pieces: "0,1,2,...", `pieces` of them, each as one generate() call.
class Counter final : public OutputQueue::Generator {
 public:
  Counter(int pieces, int fail_at, int* alive) : pieces_(pieces), fail_at_(fail_at), alive_(alive) {
    ++*alive_;
  }
  ~Counter() override { --*alive_; }
  bool generate(std::string& out, std::size_t hint, int& error) override {
    CHECK(out.empty());
    CHECK(hint > 0);
    if (next_ == fail_at_) {
      error = EIO;
      return false;
    }
    out = std::to_string(next_++) + ",";
    return next_ < pieces_;
  }
  int asked() const { return next_; }

 private:
  int pieces_, fail_at_, next_ = 0;
  int* alive_;
};

}  // namespace

TEST_CASE("a generated body is asked for more only as it is sent, between other pieces") {
  int sv[2];
  REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv) == 0);
  int alive = 0;
  OutputQueue q;
  q.append("HEAD|");
  q.add_generator(std::make_unique<Counter>(500, -1, &alive));
  q.end_response();
  q.append("|NEXT");
  q.end_response();
  CHECK(q.has_deferred_body());
  std::string got;
  std::size_t completed = 0;
  for (int i = 0; i < 100000 && !q.empty(); ++i) {
    const OutputQueue::Flush r = q.flush(sv[0], 1 << 20, completed);
    REQUIRE(r != OutputQueue::Flush::Error);
    got += drain(sv[1]);
  }
  got += drain(sv[1]);
  std::string want = "HEAD|";
  for (int i = 0; i < 500; ++i) want += std::to_string(i) + ",";
  CHECK(got == want + "|NEXT");
  CHECK(completed == 2);
  CHECK(alive == 0);  // the generator is gone once it has ended and been sent
  CHECK_FALSE(q.has_deferred_body());
  ::close(sv[0]);
  ::close(sv[1]);
}

TEST_CASE("peek and consume (the TLS path) take a generated body in order too") {
  int alive = 0;
  OutputQueue q;
  q.append("A");
  q.end_response();
  q.add_generator(std::make_unique<Counter>(3, -1, &alive));
  q.end_response();
  std::string got;
  std::size_t completed = 0;
  char scratch[64];
  for (int i = 0; i < 100 && !q.empty(); ++i) {
    const std::string_view v = q.peek(scratch, sizeof scratch, 16);
    REQUIRE(q.error() == 0);
    got.append(v);
    q.consume(v.size(), completed);
  }
  CHECK(got == "A0,1,2,");
  CHECK(q.sent() == got.size());
  CHECK(completed == 2);
  CHECK(alive == 0);
}

TEST_CASE("peek gathers short memory pieces and the file ranges after them into one view") {
  httpfs::test::TempDir t;
  const std::string file = httpfs::test::random_bytes(100000, 3);
  t.write("f", file);
  const int fd = ::open((t / "f").c_str(), O_RDONLY | O_CLOEXEC);
  REQUIRE(fd >= 0);
  // HTTP/2 DATA frames: 9 bytes of header, then a range of the file, four times; then a
  // second response of memory only.
  OutputQueue q;
  std::string want;
  for (int i = 0; i < 4; ++i) {
    const std::string header(9, static_cast<char>('a' + i));
    q.append(header);
    q.add_file(fd, static_cast<std::uint64_t>(i) * 16384, 16384, false);
    want += header + file.substr(static_cast<std::size_t>(i) * 16384, 16384);
  }
  q.end_response();
  q.append("next");
  q.end_response();
  want += "next";
  std::string got;
  std::size_t completed = 0;
  static char scratch[40000];
  int views = 0;
  for (; views < 100 && !q.empty(); ++views) {
    const std::string_view v = q.peek(scratch, sizeof scratch, 16);
    REQUIRE(q.error() == 0);
    REQUIRE_FALSE(v.empty());
    got.append(v);
    q.consume(v.size(), completed);
  }
  CHECK(got == want);
  // Full views, not one or two per frame: 40000 + 25576 bytes.
  CHECK(views == 2);
  CHECK(completed == 2);
  ::close(fd);
}

TEST_CASE("a generator that fails makes the flush fail, and clear() destroys it") {
  int sv[2];
  REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv) == 0);
  int alive = 0;
  OutputQueue q;
  q.add_generator(std::make_unique<Counter>(10, 3, &alive));
  q.end_response();
  std::size_t completed = 0;
  OutputQueue::Flush r = OutputQueue::Flush::Done;
  for (int i = 0; i < 100 && r != OutputQueue::Flush::Error && !q.empty(); ++i) {
    r = q.flush(sv[0], 1 << 20, completed);
    drain(sv[1]);
  }
  CHECK(r == OutputQueue::Flush::Error);
  CHECK(q.error() == EIO);
  CHECK(completed == 0);
  CHECK(alive == 1);
  q.clear();
  CHECK(alive == 0);
  ::close(sv[0]);
  ::close(sv[1]);
}

namespace {

// Alternates bytes and ranges of one file: "<i>|", then the file's bytes [i * 1000, +1000),
// `pieces` times; the descriptor is the generator's, as an archive's would be.
class Interleaved final : public OutputQueue::Generator {
 public:
  Interleaved(int fd, int pieces) : fd_(fd), pieces_(pieces) {}
  ~Interleaved() override { ::close(fd_); }
  bool generate(std::string&, std::size_t, int& error) override {
    error = ENOTSUP;  // the queue must ask generate_piece
    return false;
  }
  bool generate_piece(std::string& out, OutputQueue::FileRange& file, std::size_t, int&) override {
    CHECK(out.empty());
    if (step_ % 2 == 0)
      out = std::to_string(step_ / 2) + "|";
    else
      file = {fd_, static_cast<std::uint64_t>(step_ / 2) * 1000, 1000};
    ++step_;
    return step_ < 2 * pieces_;
  }

 private:
  int fd_, pieces_, step_ = 0;
};

std::string interleaved_expected(const std::string& file, int pieces) {
  std::string want = "H";
  for (int i = 0; i < pieces; ++i) want += std::to_string(i) + "|" + file.substr(i * 1000, 1000);
  return want + "T";
}

}  // namespace

TEST_CASE("a generator may hand file ranges, sent with sendfile or read for peek") {
  httpfs::test::TempDir t;
  const std::string file = httpfs::test::random_bytes(200 * 1000, 3);
  t.write("f", file);
  const std::string want = interleaved_expected(file, 200);

  SUBCASE("flush") {
    int sv[2];
    REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv) == 0);
    OutputQueue q;
    q.append("H");
    q.add_generator(std::make_unique<Interleaved>(::open((t / "f").c_str(), O_RDONLY), 200));
    q.append("T");
    q.end_response();
    std::string got;
    std::size_t completed = 0;
    for (int i = 0; i < 100000 && !q.empty(); ++i) {
      REQUIRE(q.flush(sv[0], 4096, completed) != OutputQueue::Flush::Error);
      got += drain(sv[1]);
    }
    got += drain(sv[1]);
    CHECK(got == want);
    CHECK(completed == 1);
    CHECK(q.sent() == want.size());
    ::close(sv[0]);
    ::close(sv[1]);
  }
  SUBCASE("peek and consume, a few bytes at a time") {
    OutputQueue q;
    q.append("H");
    q.add_generator(std::make_unique<Interleaved>(::open((t / "f").c_str(), O_RDONLY), 200));
    q.append("T");
    q.end_response();
    std::string got;
    std::size_t completed = 0;
    char scratch[333];
    for (int i = 0; i < 100000 && !q.empty(); ++i) {
      const std::string_view v = q.peek(scratch, sizeof scratch, 16);
      REQUIRE(q.error() == 0);
      got.append(v.substr(0, 100));  // take part of what is offered
      q.consume(std::min<std::size_t>(v.size(), 100), completed);
    }
    CHECK(got == want);
    CHECK(completed == 1);
  }
}

TEST_CASE("a generator's file range that turns out short fails the flush") {
  httpfs::test::TempDir t;
  t.write("f", std::string(1500, 'x'));  // the second range runs past the end
  int sv[2];
  REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv) == 0);
  OutputQueue q;
  q.add_generator(std::make_unique<Interleaved>(::open((t / "f").c_str(), O_RDONLY), 3));
  q.end_response();
  std::size_t completed = 0;
  OutputQueue::Flush r = OutputQueue::Flush::Done;
  for (int i = 0; i < 1000 && r != OutputQueue::Flush::Error && !q.empty(); ++i) {
    r = q.flush(sv[0], 1 << 20, completed);
    drain(sv[1]);
  }
  CHECK(r == OutputQueue::Flush::Error);
  CHECK(q.error() == EIO);
  CHECK(completed == 0);
  ::close(sv[0]);
  ::close(sv[1]);
}
