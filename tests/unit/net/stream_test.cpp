#include "net/stream.hpp"

#include <doctest/doctest.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>
#include <uv.h>

#include <cerrno>
#include <string>
#include <vector>

#include "net/byte_buffer.hpp"
#include "net/output_queue.hpp"
#include "net/ready_list.hpp"
#include "support/process.hpp"

using httpfs::net::ByteBuffer;
using httpfs::net::OutputQueue;
using httpfs::net::ReadyList;
using httpfs::net::SplicePipe;
using httpfs::net::SpliceResult;
using httpfs::net::SpliceSink;
using httpfs::net::Stream;

namespace {

// Records what the stream tells its owner.
class Recorder final : public Stream::Owner {
 public:
  void on_stream_ready(int events) override { ready.push_back(events); }
  void on_stream_error(int status) override { errors.push_back(status); }
  void on_stream_closed() override { ++closed; }

  std::vector<int> ready;
  std::vector<int> errors;
  int closed = 0;
};

// Splices into a file, as the upload sink does.
class FileSink final : public SpliceSink {
 public:
  explicit FileSink(int fd) : fd_(fd) {}
  long splice_out(int pipe_fd, std::size_t n) override {
    const ssize_t m = ::splice(pipe_fd, nullptr, fd_, nullptr, n, SPLICE_F_MOVE);
    return m < 0 ? -errno : static_cast<long>(m);
  }

 private:
  int fd_;
};

// A loop, its ready list, and a socket pair: `stream` owns one end, the test plays the peer
// on the other.
struct Fixture {
  uv_loop_t loop{};
  ReadyList ready_list;
  Recorder owner;
  Stream stream;
  int peer = -1;

  Fixture() {
    REQUIRE(uv_loop_init(&loop) == 0);
    ready_list.init(&loop);
    int sv[2];
    REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv) == 0);
    stream.init(&loop, sv[0], owner, ready_list);
    peer = sv[1];
  }

  // Closes everything the test left open; the loop must then close cleanly.
  void finish() {
    if (!stream.closing()) stream.close();
    if (peer >= 0) ::close(peer);
    peer = -1;
    ready_list.close(nullptr, nullptr);
    uv_run(&loop, UV_RUN_DEFAULT);
    CHECK(uv_loop_close(&loop) == 0);
  }

  void peer_write(const std::string& bytes) const {
    REQUIRE(::write(peer, bytes.data(), bytes.size()) == static_cast<ssize_t>(bytes.size()));
  }

  std::string peer_drain() const {
    std::string out;
    char buf[65536];
    for (ssize_t n; (n = ::recv(peer, buf, sizeof buf, MSG_DONTWAIT)) > 0;)
      out.append(buf, static_cast<std::size_t>(n));
    return out;
  }

  // A few non-blocking turns of the loop, until the owner heard something.
  void turn() {
    for (int i = 0; i < 10 && owner.ready.empty(); ++i) uv_run(&loop, UV_RUN_NOWAIT);
  }
};

}  // namespace

TEST_CASE("read: bytes, then -EAGAIN, then 0 at the peer's end") {
  Fixture f;
  ByteBuffer buf;
  REQUIRE(buf.make_room(64, 64));
  CHECK(f.stream.read(buf) == -EAGAIN);
  CHECK(buf.empty());

  f.peer_write("hello");
  CHECK(f.stream.read(buf) == 5);
  CHECK(buf.view() == "hello");
  CHECK(f.stream.read(buf) == -EAGAIN);

  f.peer_write(" world");
  CHECK(f.stream.read(buf) == 6);
  CHECK(buf.view() == "hello world");  // appended at the tail

  // Only the tail room is filled.
  ByteBuffer small;
  REQUIRE(small.make_room(4, 4));
  f.peer_write("0123456789");
  CHECK(f.stream.read(small) == 4);
  CHECK(small.view() == "0123");
  char rest[16];
  CHECK(f.stream.read(rest, sizeof rest) == 6);
  CHECK(std::string(rest, 6) == "456789");

  ::shutdown(f.peer, SHUT_WR);
  CHECK(f.stream.read(buf) == 0);
  CHECK(buf.view() == "hello world");
  CHECK(f.owner.ready.empty());  // no want(): the loop never watched the socket
  f.finish();
}

TEST_CASE("flush sends the queue in order and counts completed responses") {
  Fixture f;
  OutputQueue q;
  q.append("HTTP/1.1 200 OK\r\n\r\n");
  q.append("first");
  q.end_response();
  q.append("HTTP/1.1 204 No Content\r\n\r\n");
  q.end_response();
  q.append("unfinished");  // not marked: a response still being written
  std::size_t completed = 0;
  CHECK(f.stream.flush(q, completed) == OutputQueue::Flush::Done);
  CHECK(completed == 2);
  CHECK(q.empty());
  CHECK(f.peer_drain() == "HTTP/1.1 200 OK\r\n\r\nfirstHTTP/1.1 204 No Content\r\n\r\nunfinished");
  f.finish();
}

TEST_CASE("flush of more than the socket takes blocks, then resumes where it stopped") {
  Fixture f;
  const std::string body = httpfs::test::random_bytes(4 << 20, 7);
  OutputQueue q;
  q.append("HEAD|");
  q.append(body);
  q.end_response();
  q.append("|NEXT");
  q.end_response();
  std::size_t completed = 0;
  std::string got;
  OutputQueue::Flush r = f.stream.flush(q, completed);
  CHECK(r == OutputQueue::Flush::Blocked);  // 4 MiB does not fit in a socket buffer
  CHECK(completed == 0);
  for (int i = 0; i < 10000 && r != OutputQueue::Flush::Done; ++i) {
    got += f.peer_drain();
    r = f.stream.flush(q, completed);
    REQUIRE(r != OutputQueue::Flush::Error);
  }
  got += f.peer_drain();
  CHECK(r == OutputQueue::Flush::Done);
  CHECK(completed == 2);
  CHECK(got.size() == body.size() + 10);
  CHECK(got == "HEAD|" + body + "|NEXT");
  f.finish();
}

TEST_CASE("splice_to moves exactly limit bytes into the sink, then Eof") {
  Fixture f;
  httpfs::test::TempDir dir;
  const std::string path = dir / "spliced";
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  REQUIRE(fd >= 0);
  FileSink sink(fd);
  SplicePipe pipe;
  const std::string data = httpfs::test::random_bytes(100000, 3);
  f.peer_write(data);

  SpliceResult r = f.stream.splice_to(pipe, sink, 60000);
  CHECK(r.end == SpliceResult::End::Drained);
  CHECK(r.moved == 60000);
  CHECK(r.error == 0);
  CHECK(httpfs::test::read_file(path) == data.substr(0, 60000));

  // The rest, asking for more than there is: drained when the socket is empty.
  r = f.stream.splice_to(pipe, sink, 1 << 20);
  CHECK(r.end == SpliceResult::End::Drained);
  CHECK(r.moved == 40000);

  // Nothing waiting: drained with nothing moved.
  r = f.stream.splice_to(pipe, sink, 1 << 20);
  CHECK(r.end == SpliceResult::End::Drained);
  CHECK(r.moved == 0);

  f.peer_write("tail");
  ::close(f.peer);
  f.peer = -1;
  r = f.stream.splice_to(pipe, sink, 1 << 20);
  CHECK(r.end == SpliceResult::End::Eof);
  CHECK(r.moved == 4);  // what came before the end still reached the sink
  CHECK(httpfs::test::read_file(path) == data + "tail");

  // A limit of 0 moves nothing, not even an end.
  r = f.stream.splice_to(pipe, sink, 0);
  CHECK(r.end == SpliceResult::End::Drained);
  CHECK(r.moved == 0);
  ::close(fd);
  f.finish();
}

TEST_CASE("want(readable) reports the peer's bytes through the loop") {
  Fixture f;
  REQUIRE(f.stream.want(true, false));
  CHECK(f.stream.wants_read());
  uv_run(&f.loop, UV_RUN_NOWAIT);
  CHECK(f.owner.ready.empty());  // nothing to read yet

  f.peer_write("x");
  f.turn();
  REQUIRE(f.owner.ready.size() >= 1);
  CHECK(f.owner.ready.front() == UV_READABLE);
  CHECK(f.owner.errors.empty());

  // Once read, and no longer wanted, nothing more is reported.
  char c;
  CHECK(f.stream.read(&c, 1) == 1);
  REQUIRE(f.stream.want(false, false));
  CHECK_FALSE(f.stream.wants_read());
  f.owner.ready.clear();
  f.peer_write("y");
  uv_run(&f.loop, UV_RUN_NOWAIT);
  CHECK(f.owner.ready.empty());
  f.finish();
  CHECK(f.owner.closed == 1);
}

TEST_CASE("want(writable) reports an empty socket buffer") {
  Fixture f;
  REQUIRE(f.stream.want(false, true));
  f.turn();
  REQUIRE(f.owner.ready.size() >= 1);
  CHECK(f.owner.ready.front() == UV_WRITABLE);
  f.finish();
}

TEST_CASE("a posted stream resumes as readable while it wants to read") {
  Fixture f;
  REQUIRE(f.stream.want(true, false));
  f.ready_list.post(&f.stream);
  uv_run(&f.loop, UV_RUN_NOWAIT);
  REQUIRE(f.owner.ready.size() == 1);  // no bytes on the socket: only the list woke it
  CHECK(f.owner.ready.front() == UV_READABLE);

  // Posted, then unposted: nothing.
  f.owner.ready.clear();
  f.ready_list.post(&f.stream);
  f.ready_list.unpost(&f.stream);
  uv_run(&f.loop, UV_RUN_NOWAIT);
  CHECK(f.owner.ready.empty());

  // Posted while not reading: nothing either.
  REQUIRE(f.stream.want(false, false));
  f.ready_list.post(&f.stream);
  uv_run(&f.loop, UV_RUN_NOWAIT);
  CHECK(f.owner.ready.empty());
  f.finish();
}

TEST_CASE("close after want(): on_stream_closed follows from the loop") {
  Fixture f;
  REQUIRE(f.stream.want(true, false));
  CHECK(f.stream.close());
  CHECK(f.stream.closing());
  CHECK(f.stream.fd() == -1);
  CHECK(f.owner.closed == 0);  // not from within close()
  uv_run(&f.loop, UV_RUN_NOWAIT);
  CHECK(f.owner.closed == 1);
  f.finish();
  CHECK(f.owner.closed == 1);
  CHECK(f.owner.ready.empty());
}

TEST_CASE("close without a poll handle: false, and nothing follows") {
  Fixture f;
  ByteBuffer buf;
  REQUIRE(buf.make_room(16, 16));
  f.peer_write("data");
  CHECK(f.stream.read(buf) == 4);        // used without ever waiting
  REQUIRE(f.stream.want(false, false));  // wanting nothing makes no handle either
  CHECK_FALSE(f.stream.close());
  CHECK(f.stream.closing());
  CHECK(f.stream.fd() == -1);
  // The socket is closed: the peer sees the end.
  char c;
  CHECK(::read(f.peer, &c, 1) == 0);
  f.finish();
  CHECK(f.owner.closed == 0);
}
