#include "swarm.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <stdexcept>

namespace httpfs::test {

namespace {

constexpr std::size_t kBatch = 256;

int connect_nonblocking(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) throw std::runtime_error(std::string("socket: ") + std::strerror(errno));
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<std::uint16_t>(port));
  inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 && errno != EINPROGRESS) {
    int e = errno;
    ::close(fd);
    throw std::runtime_error(std::string("connect: ") + std::strerror(e));
  }
  return fd;
}

}  // namespace

Swarm::Swarm(int port, std::size_t n, std::string_view first) {
  fds_.reserve(n);
  for (std::size_t base = 0; base < n; base += kBatch) {
    const std::size_t count = std::min(kBatch, n - base);
    std::vector<pollfd> batch;
    for (std::size_t i = 0; i < count; ++i) {
      batch.push_back(pollfd{connect_nonblocking(port), POLLOUT, 0});
      fds_.push_back(batch.back().fd);
    }
    // Wait until every connect of the batch completed (10 s at most).
    for (int waited = 0; waited < 100; ++waited) {
      std::size_t pending = 0;
      for (pollfd& p : batch) pending += p.events != 0;
      if (pending == 0) break;
      if (::poll(batch.data(), batch.size(), 100) < 0 && errno != EINTR) break;
      for (pollfd& p : batch) {
        if (p.events == 0 || p.revents == 0) continue;
        int err = 0;
        socklen_t len = sizeof err;
        ::getsockopt(p.fd, SOL_SOCKET, SO_ERROR, &err, &len);
        if (err != 0) throw std::runtime_error(std::string("connect: ") + std::strerror(err));
        p.events = 0;      // connected
        p.fd = -p.fd - 1;  // poll ignores negative descriptors
      }
    }
    for (const pollfd& p : batch)
      if (p.events != 0) throw std::runtime_error("connect: timed out");
    if (!first.empty())
      for (std::size_t i = base; i < base + count; ++i)
        if (::send(fds_[i], first.data(), first.size(), MSG_NOSIGNAL) < 0) {
          ::close(fds_[i]);
          fds_[i] = -1;
        }
  }
}

Swarm::~Swarm() {
  close_all(false);
}

void Swarm::send_all(std::string_view bytes) {
  for (int& fd : fds_) {
    if (fd < 0) continue;
    if (::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL) < 0 && errno != EAGAIN) {
      ::close(fd);
      fd = -1;
    }
  }
}

std::size_t Swarm::poll_open() {
  std::size_t open = 0;
  char buf[16 * 1024];
  for (int& fd : fds_) {
    if (fd < 0) continue;
    for (;;) {
      ssize_t r = ::recv(fd, buf, sizeof buf, 0);
      if (r > 0) {
        received_ += static_cast<std::size_t>(r);
        continue;
      }
      if (r < 0 && (errno == EAGAIN || errno == EINTR)) {
        ++open;
      } else {  // EOF or reset
        ::close(fd);
        fd = -1;
      }
      break;
    }
  }
  return open;
}

void Swarm::close_all(bool reset) {
  for (int& fd : fds_) {
    if (fd < 0) continue;
    if (reset) {
      linger l{1, 0};
      ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof l);
    }
    ::close(fd);
    fd = -1;
  }
}

}  // namespace httpfs::test
