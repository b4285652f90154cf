// Opens N keep-alive connections to 127.0.0.1:PORT, makes one GET on each, reads each
// response, prints "ready N" and then holds every connection open (idle) until stdin closes
// or SECONDS pass. Used to measure a server's memory per idle keep-alive connection.
//   idle_clients PORT PATH N [SECONDS]
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

int main(int argc, char** argv) {
  if (argc < 4) {
    std::fprintf(stderr, "usage: idle_clients PORT PATH N [SECONDS]\n");
    return 2;
  }
  const int port = std::atoi(argv[1]);
  const std::string req = std::string("GET ") + argv[2] + " HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
  const int n = std::atoi(argv[3]);
  const int seconds = argc > 4 ? std::atoi(argv[4]) : 600;
  rlimit rl{};
  getrlimit(RLIMIT_NOFILE, &rl);
  rl.rlim_cur = rl.rlim_max;
  setrlimit(RLIMIT_NOFILE, &rl);

  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<std::uint16_t>(port));
  inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
  std::vector<int> fds;
  int done = 0;
  // In batches, so that the listen backlog never overflows.
  for (int base = 0; base < n; base += 500) {
    const int count = std::min(500, n - base);
    std::vector<int> batch;
    for (int i = 0; i < count; ++i) {
      int fd = ::socket(AF_INET, SOCK_STREAM, 0);
      if (fd < 0 || ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
        std::perror("connect");
        return 1;
      }
      if (::send(fd, req.data(), req.size(), 0) != static_cast<ssize_t>(req.size())) return 1;
      batch.push_back(fd);
    }
    for (int fd : batch) {
      // Read the head and as much body as Content-Length says.
      std::string got;
      char buf[8192];
      std::size_t need = std::string::npos;
      while (need == std::string::npos || got.size() < need) {
        ssize_t r = ::recv(fd, buf, sizeof buf, 0);
        if (r <= 0) {
          std::fprintf(stderr, "connection closed early\n");
          return 1;
        }
        got.append(buf, static_cast<std::size_t>(r));
        std::size_t end = got.find("\r\n\r\n");
        if (end != std::string::npos && need == std::string::npos) {
          std::size_t cl = got.find("Content-Length: ");
          if (cl == std::string::npos) cl = got.find("content-length: ");
          need = end + 4 +
                 (cl == std::string::npos ? 0 : std::strtoul(got.c_str() + cl + 16, nullptr, 10));
        }
      }
      fds.push_back(fd);
      ++done;
    }
  }
  std::printf("ready %d\n", done);
  std::fflush(stdout);
  pollfd p{0, POLLIN, 0};
  ::poll(&p, 1, seconds * 1000);
  for (int fd : fds) ::close(fd);
  return 0;
}
