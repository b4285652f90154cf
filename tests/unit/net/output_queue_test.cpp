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
  CHECK(q.has_file_piece());
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
  // A closed peer: an error, not a signal.
  q.append("late");
  q.end_response();
  ::close(sv[1]);
  CHECK(q.flush(sv[0], 1 << 20, completed) == OutputQueue::Flush::Error);
  CHECK(q.error() == EPIPE);
  q.clear();
  ::close(sv[0]);
}
