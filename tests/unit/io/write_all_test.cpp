// write_all: the whole buffer through short writes, and the count kept right on failure.
#include "io/write_all.hpp"

#include <doctest/doctest.h>
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <string>

using httpfs::io::write_all;

TEST_CASE("write_all writes everything, through the short writes of a small pipe") {
  int p[2];
  REQUIRE(::pipe2(p, O_CLOEXEC) == 0);
  REQUIRE(::fcntl(p[1], F_SETPIPE_SZ, 4096) >= 0);
  const std::string data(100000, 'w');
  std::string got;
  // A reader drains the pipe while the writer blocks on it, so writes come back short.
  int fds[2] = {p[0], p[1]};
  pid_t child = ::fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    ::close(fds[0]);
    std::uint64_t written = 0;
    _exit(write_all(fds[1], data, written) == 0 && written == data.size() ? 0 : 1);
  }
  ::close(fds[1]);
  char buf[8192];
  for (ssize_t n; (n = ::read(fds[0], buf, sizeof buf)) > 0;)
    got.append(buf, static_cast<std::size_t>(n));
  ::close(fds[0]);
  int status = 0;
  ::waitpid(child, &status, 0);
  CHECK(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
  CHECK(got == data);
}

TEST_CASE("write_all reports -errno and counts only what was taken") {
  int p[2];
  REQUIRE(::pipe2(p, O_CLOEXEC | O_NONBLOCK) == 0);
  const int capacity = ::fcntl(p[1], F_GETPIPE_SZ);
  REQUIRE(capacity > 0);
  const std::string data(static_cast<std::size_t>(capacity) * 2, 'x');
  std::uint64_t written = 7;  // added to, not reset
  CHECK(write_all(p[1], data, written) == -EAGAIN);
  CHECK(written == 7 + static_cast<std::uint64_t>(capacity));
  ::close(p[0]);
  ::close(p[1]);
  std::uint64_t none = 0;
  CHECK(write_all(p[1], "y", none) == -EBADF);
  CHECK(none == 0);
}
