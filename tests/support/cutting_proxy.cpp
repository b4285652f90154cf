#include "cutting_proxy.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <stdexcept>

namespace httpfs::test {

namespace {

int connect_loopback(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<std::uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

bool send_all(int fd, const char* p, std::size_t n) {
  while (n > 0) {
    const ssize_t w = ::send(fd, p, n, MSG_NOSIGNAL);
    if (w <= 0) return false;
    p += w;
    n -= static_cast<std::size_t>(w);
  }
  return true;
}

}  // namespace

CuttingProxy::CuttingProxy(int target_port, std::uint64_t after, int faults, Fault fault,
                           Direction direction)
    : target_port_(target_port),
      after_(after),
      fault_(fault),
      direction_(direction),
      left_(faults) {
  listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
      ::listen(listen_fd_, 64) != 0 ||
      ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&a), &len) != 0)
    throw std::runtime_error("CuttingProxy: cannot listen");
  port_ = ntohs(a.sin_port);
  acceptor_ = std::thread([this] { accept_loop(); });
}

CuttingProxy::~CuttingProxy() {
  stop_ = true;
  ::shutdown(listen_fd_, SHUT_RDWR);
  acceptor_.join();
  ::close(listen_fd_);
  std::lock_guard<std::mutex> lock(mutex_);
  for (std::thread& t : threads_) t.join();
}

void CuttingProxy::release_held() {
  ++release_epoch_;
}

void CuttingProxy::accept_loop() {
  while (!stop_) {
    pollfd p{listen_fd_, POLLIN, 0};
    if (::poll(&p, 1, 50) <= 0) continue;
    const int client = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (client < 0) continue;
    const int server = connect_loopback(target_port_);
    if (server < 0) {
      ::close(client);
      continue;
    }
    std::lock_guard<std::mutex> lock(mutex_);
    threads_.emplace_back([this, client, server] { forward(client, server); });
  }
}

// Both directions on one thread, with poll; a 50 ms tick notices stop_ and releases.
void CuttingProxy::forward(int client, int server) {
  std::uint64_t counted = 0;  // bytes in the direction that faults
  bool faulted = false, holding = false;
  const int epoch = release_epoch_.load();
  char buf[65536];
  // Moves what `from` has to `to`: false when the connection is over (or cut).
  auto pass = [&](int from, int to, bool counts) {
    std::size_t want = sizeof buf;
    // Stop exactly at the fault's byte, if this connection is to suffer it.
    const bool armed = counts && !faulted && left_.load() > 0;
    if (armed && after_ - counted < want) want = static_cast<std::size_t>(after_ - counted);
    const ssize_t n = want == 0 ? 0 : ::recv(from, buf, want, 0);
    if (want != 0 && n <= 0) return false;
    if (n > 0 && !send_all(to, buf, static_cast<std::size_t>(n))) return false;
    if (counts) counted += static_cast<std::uint64_t>(n > 0 ? n : 0);
    if (armed && counted >= after_ && left_.fetch_sub(1) > 0) {
      faulted = true;
      ++done_;
      if (fault_ == Fault::Cut) return false;
      holding = true;
    }
    return true;
  };
  const bool upload = direction_ == Direction::Upload;
  while (!stop_) {
    if (holding) {
      if (release_epoch_.load() != epoch) break;
      ::usleep(20000);
      continue;
    }
    pollfd p[2] = {{client, POLLIN, 0}, {server, POLLIN, 0}};
    if (::poll(p, 2, 50) <= 0) continue;
    if (p[0].revents != 0 && !pass(client, server, upload)) break;
    if (holding) continue;
    if (p[1].revents != 0 && !pass(server, client, !upload)) break;
  }
  ::shutdown(client, SHUT_RDWR);
  ::shutdown(server, SHUT_RDWR);
  ::close(client);
  ::close(server);
}

}  // namespace httpfs::test
