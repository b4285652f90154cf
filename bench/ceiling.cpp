// The ceiling of this machine for small responses: an epoll loop that answers every request
// with the same canned response and parses nothing but the blank line that ends a request
// head. No files, no dates, no validation: whatever a real server does costs more than this.
//   ceiling PORT FILE [close]
// FILE is the body (read once at start); with "close" every response says Connection: close
// and the connection is closed after it.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <unordered_map>

namespace {

struct Conn {
  std::string pending;  // responses the socket did not take yet
  int tail = 0;         // how many bytes of "\r\n\r\n" the previous read ended with
  bool closing = false;
};

// Counts request ends ("\r\n\r\n") in `data`, across reads.
int count_requests(const char* data, std::size_t n, int& tail) {
  static constexpr char kEnd[] = "\r\n\r\n";
  int count = 0;
  for (std::size_t i = 0; i < n; ++i) {
    if (data[i] == kEnd[tail]) {
      if (++tail == 4) {
        ++count;
        tail = 0;
      }
    } else {
      tail = data[i] == '\r' ? 1 : 0;
    }
  }
  return count;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: ceiling PORT FILE [close]\n");
    return 2;
  }
  std::signal(SIGPIPE, SIG_IGN);
  const bool close_mode = argc > 3 && std::strcmp(argv[3], "close") == 0;
  std::string body;
  if (FILE* f = std::fopen(argv[2], "rb")) {
    char buf[65536];
    for (std::size_t n; (n = std::fread(buf, 1, sizeof buf, f)) > 0;) body.append(buf, n);
    std::fclose(f);
  } else {
    std::perror(argv[2]);
    return 2;
  }
  const std::string response =
      "HTTP/1.1 200 OK\r\nServer: ceiling\r\nContent-Type: "
      "application/octet-stream\r\nContent-Length: " +
      std::to_string(body.size()) + "\r\n" + (close_mode ? "Connection: close\r\n" : "") + "\r\n" +
      body;
  // Up to 64 pipelined responses leave in one write.
  std::string batch;
  for (int i = 0; i < 64; ++i) batch += response;

  int lfd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
  int one = 1;
  ::setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  ::setsockopt(lfd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<std::uint16_t>(std::atoi(argv[1])));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::bind(lfd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || ::listen(lfd, 4096) != 0) {
    std::perror("listen");
    return 2;
  }
  int ep = ::epoll_create1(0);
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.fd = lfd;
  ::epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev);
  std::unordered_map<int, Conn> conns;
  auto drop = [&](int fd) {
    ::close(fd);  // also leaves the epoll set
    conns.erase(fd);
  };
  // Sends `bytes` (after what is pending); false when the connection is gone.
  auto send = [&](int fd, Conn& c, const char* bytes, std::size_t n) {
    if (c.pending.empty()) {
      ssize_t w = ::send(fd, bytes, n, MSG_NOSIGNAL);
      if (w < 0 && errno != EAGAIN) return false;
      const auto sent = static_cast<std::size_t>(w < 0 ? 0 : w);
      if (sent == n) return true;
      c.pending.assign(bytes + sent, n - sent);
      epoll_event out{};
      out.events = EPOLLIN | EPOLLOUT;
      out.data.fd = fd;
      ::epoll_ctl(ep, EPOLL_CTL_MOD, fd, &out);
      return true;
    }
    c.pending.append(bytes, n);
    return true;
  };

  epoll_event events[512];
  char buf[65536];
  for (;;) {
    int n = ::epoll_wait(ep, events, 512, -1);
    for (int i = 0; i < n; ++i) {
      const int fd = events[i].data.fd;
      if (fd == lfd) {
        for (int c; (c = ::accept4(lfd, nullptr, nullptr, SOCK_NONBLOCK)) >= 0;) {
          epoll_event cev{};
          cev.events = EPOLLIN;
          cev.data.fd = c;
          ::epoll_ctl(ep, EPOLL_CTL_ADD, c, &cev);
          conns.emplace(c, Conn{});
        }
        continue;
      }
      auto it = conns.find(fd);
      if (it == conns.end()) continue;
      Conn& c = it->second;
      if (events[i].events & EPOLLOUT) {
        ssize_t w = ::send(fd, c.pending.data(), c.pending.size(), MSG_NOSIGNAL);
        if (w < 0 && errno != EAGAIN) {
          drop(fd);
          continue;
        }
        if (w > 0) c.pending.erase(0, static_cast<std::size_t>(w));
        if (c.pending.empty()) {
          if (c.closing) {
            drop(fd);
            continue;
          }
          epoll_event in{};
          in.events = EPOLLIN;
          in.data.fd = fd;
          ::epoll_ctl(ep, EPOLL_CTL_MOD, fd, &in);
        }
      }
      if (!(events[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR))) continue;
      ssize_t r = ::read(fd, buf, sizeof buf);
      if (r <= 0) {
        if (r < 0 && errno == EAGAIN) continue;
        drop(fd);
        continue;
      }
      int requests = count_requests(buf, static_cast<std::size_t>(r), c.tail);
      if (requests == 0) continue;
      if (close_mode) requests = 1;
      bool ok = true;
      while (ok && requests > 0) {
        const int k = requests < 64 ? requests : 64;
        ok = send(fd, c, batch.data(), response.size() * static_cast<std::size_t>(k));
        requests -= k;
      }
      if (!ok) {
        drop(fd);
        continue;
      }
      if (close_mode) {
        if (c.pending.empty())
          drop(fd);
        else
          c.closing = true;
      }
    }
  }
}
