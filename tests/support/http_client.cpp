#include "http_client.hpp"

#include <arpa/inet.h>
#include <doctest/doctest.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <thread>

#include "http/body_decoder.hpp"
#include "http/chars.hpp"
#include "http/response_parser.hpp"

namespace httpfs::test {

std::string Response::header(std::string_view name) const {
  for (const auto& [n, v] : headers)
    if (http::chars::iequals(n, name)) return v;
  return {};
}

bool Response::has(std::string_view name) const {
  for (const auto& [n, v] : headers)
    if (http::chars::iequals(n, name)) return true;
  return false;
}

RawConnection::RawConnection(int port, const std::string& host) {
  const bool v6 = host.find(':') != std::string::npos;
  fd_ = ::socket(v6 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd_ < 0) throw std::runtime_error("socket failed");
  int one = 1;
  ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  int r;
  if (v6) {
    sockaddr_in6 a{};
    a.sin6_family = AF_INET6;
    a.sin6_port = htons(static_cast<std::uint16_t>(port));
    inet_pton(AF_INET6, host.c_str(), &a.sin6_addr);
    r = ::connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a);
  } else {
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<std::uint16_t>(port));
    inet_pton(AF_INET, host.c_str(), &a.sin_addr);
    r = ::connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a);
  }
  if (r != 0) {
    int e = errno;
    ::close(fd_);
    throw std::runtime_error(std::string("connect failed: ") + std::strerror(e));
  }
}

RawConnection::~RawConnection() {
  if (fd_ >= 0) ::close(fd_);
}

bool RawConnection::send(std::string_view bytes) {
  std::size_t done = 0;
  while (done < bytes.size()) {
    ssize_t n = ::send(fd_, bytes.data() + done, bytes.size() - done, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    done += static_cast<std::size_t>(n);
  }
  return true;
}

void RawConnection::shutdown_write() {
  ::shutdown(fd_, SHUT_WR);
}

std::size_t RawConnection::unread() const {
  int n = 0;
  if (::ioctl(fd_, FIONREAD, &n) != 0) return 0;
  return static_cast<std::size_t>(n);
}

bool RawConnection::receive(std::chrono::milliseconds timeout) {
  if (eof_) return false;
  pollfd p{fd_, POLLIN, 0};
  int r = ::poll(&p, 1, static_cast<int>(timeout.count()));
  if (r <= 0) return false;
  char buf[65536];
  ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
  if (n <= 0) {
    eof_ = true;
    return false;
  }
  buffer_.append(buf, static_cast<std::size_t>(n));
  return true;
}

std::optional<Response> RawConnection::read_response(http::Method method,
                                                     std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  auto left = [&] {
    return std::max(std::chrono::milliseconds(0),
                    std::chrono::duration_cast<std::chrono::milliseconds>(
                        deadline - std::chrono::steady_clock::now()));
  };
  http::ResponseParser parser;
  Response resp;
  for (;;) {
    http::ResponseParser::Result r = parser.parse(buffer_, method);
    if (r == http::ResponseParser::Result::Error) return std::nullopt;
    if (r == http::ResponseParser::Result::Interim) {
      buffer_.erase(0, parser.head().head_size);
      parser.reset();
      continue;
    }
    if (r == http::ResponseParser::Result::Complete) break;
    if (!receive(left())) return std::nullopt;
  }
  const http::ResponseHead& h = parser.head();
  resp.status = h.status;
  resp.reason = std::string(h.reason);
  for (const http::Header& f : h.headers)
    resp.headers.emplace_back(std::string(f.name), std::string(f.value));
  resp.keep_alive = h.keep_alive;
  const http::ResponseFraming framing = h.framing;
  const std::uint64_t length = h.content_length;
  buffer_.erase(0, h.head_size);
  http::BodyDecoder dec =
      framing == http::ResponseFraming::Chunked  ? http::BodyDecoder::chunked()
      : framing == http::ResponseFraming::Length ? http::BodyDecoder::length(length)
      : framing == http::ResponseFraming::Close  ? http::BodyDecoder::length(UINT64_MAX)
                                                 : http::BodyDecoder::none();
  for (;;) {
    while (!buffer_.empty() && !dec.done() && !dec.failed()) {
      http::BodyDecoder::Step s = dec.decode(buffer_);
      resp.body.append(s.data);
      buffer_.erase(0, s.consumed);
    }
    if (dec.done()) return resp;
    if (dec.failed()) return std::nullopt;
    if (!receive(left())) {
      if (eof_ && framing == http::ResponseFraming::Close) return resp;
      return std::nullopt;
    }
  }
}

bool RawConnection::wait_closed(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!eof_) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return false;
    receive(left);
  }
  return true;
}

std::string RawConnection::read_until_close(std::chrono::milliseconds timeout) {
  wait_closed(timeout);
  return buffer_;
}

Response request(int port, std::string_view raw, http::Method method) {
  RawConnection c(port);
  c.send(raw);
  return c.read_response(method).value_or(Response{});
}

Response get(int port, std::string_view path, const std::vector<std::string>& headers,
             std::string_view method) {
  std::string raw =
      std::string(method) + " " + std::string(path) + " HTTP/1.1\r\nHost: 127.0.0.1\r\n";
  for (const std::string& h : headers) raw += h + "\r\n";
  raw += "\r\n";
  return request(port, raw, http::method_from_token(method));
}

ServerProcess::ServerProcess(const std::string& dir, std::vector<std::string> extra_args,
                             const std::vector<std::string>& env) {
  logdir_ = std::make_unique<TempDir>();
  std::vector<std::string> argv = {
      binary("httpfs"),       "-b", "127.0.0.1", "-p", "0", "-d", dir, "--access-log",
      *logdir_ / "access.log"};
  argv.insert(argv.end(), extra_args.begin(), extra_args.end());
  proc_ = std::make_unique<Process>(argv, env);
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (std::chrono::steady_clock::now() < deadline) {
    std::string out = proc_->out();
    std::size_t at = out.find("://127.0.0.1:");
    if (at != std::string::npos && out.find('/', at + 13) != std::string::npos) {
      port_ = std::stoi(out.substr(at + 13));
      scheme_ = at >= 5 && out.compare(at - 5, 5, "https") == 0 ? "https" : "http";
      return;
    }
    if (!proc_->running()) throw std::runtime_error("httpfs exited at start: " + proc_->err());
    std::this_thread::sleep_for(5ms);
  }
  throw std::runtime_error("httpfs did not print its URL: " + proc_->out() + proc_->err());
}

ServerProcess::~ServerProcess() {
  // Every server a test starts must end well: a clean exit on SIGTERM, and no report from
  // the sanitizers (ASan, UBSan, LeakSanitizer) in a sanitized build.
  if (!proc_) return;
  int status = proc_->running() ? stop() : proc_->wait(0ms).value_or(-1);
  const std::string err = proc_->err();
  const bool sanitizer =
      err.find("Sanitizer") != std::string::npos || err.find("runtime error:") != std::string::npos;
  CHECK_MESSAGE(!sanitizer, "httpfs reported:\n" << err);
  if (!expect_unclean_exit_)
    CHECK_MESSAGE(status == 0, "httpfs exited with " << status << ":\n" << err);
}

std::string ServerProcess::url(std::string_view path) const {
  return scheme_ + "://127.0.0.1:" + std::to_string(port_) + std::string(path);
}

int ServerProcess::stop(std::chrono::milliseconds timeout) {
  proc_->signal(SIGTERM);
  return proc_->wait(timeout).value_or(-1);
}

std::string ServerProcess::access_log() const {
  return read_file(*logdir_ / "access.log");
}

RunResult curl(std::vector<std::string> args, std::chrono::milliseconds timeout) {
  std::vector<std::string> argv = {"/usr/bin/curl", "-sS"};
  argv.insert(argv.end(), args.begin(), args.end());
  return run(std::move(argv), timeout);
}

void raise_fd_limit() {
  rlimit rl{};
  getrlimit(RLIMIT_NOFILE, &rl);
  rl.rlim_cur = rl.rlim_max;
  setrlimit(RLIMIT_NOFILE, &rl);
}

std::optional<Response> parse_response(const std::string& raw, http::Method method) {
  // Reuse the connection reader over a socketpair-free path: parse from the bytes directly.
  http::ResponseParser parser;
  if (parser.parse(raw, method) != http::ResponseParser::Result::Complete) return std::nullopt;
  const http::ResponseHead& h = parser.head();
  Response r;
  r.status = h.status;
  r.reason = std::string(h.reason);
  for (const http::Header& f : h.headers)
    r.headers.emplace_back(std::string(f.name), std::string(f.value));
  r.keep_alive = h.keep_alive;
  std::string_view rest = std::string_view(raw).substr(h.head_size);
  http::BodyDecoder dec =
      h.framing == http::ResponseFraming::Chunked  ? http::BodyDecoder::chunked()
      : h.framing == http::ResponseFraming::Length ? http::BodyDecoder::length(h.content_length)
      : h.framing == http::ResponseFraming::Close  ? http::BodyDecoder::length(rest.size())
                                                   : http::BodyDecoder::none();
  while (!rest.empty() && !dec.done() && !dec.failed()) {
    http::BodyDecoder::Step s = dec.decode(rest);
    r.body.append(s.data);
    rest.remove_prefix(s.consumed);
  }
  if (!dec.done()) return std::nullopt;
  return r;
}

std::vector<std::string> concurrent_requests(int port, int n, const std::string& raw,
                                             std::chrono::milliseconds timeout) {
  raise_fd_limit();
  struct Conn {
    int fd = -1;
    std::size_t sent = 0;
    bool done = false;
  };
  std::vector<Conn> conns(static_cast<std::size_t>(n));
  std::vector<std::string> out(static_cast<std::size_t>(n));
  int ep = ::epoll_create1(EPOLL_CLOEXEC);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<std::uint16_t>(port));
  inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
  int open = 0;
  for (int i = 0; i < n; ++i) {
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) continue;
    if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 && errno != EINPROGRESS) {
      ::close(fd);
      continue;
    }
    conns[static_cast<std::size_t>(i)].fd = fd;
    epoll_event ev{};
    ev.events = EPOLLIN | EPOLLOUT;
    ev.data.u32 = static_cast<std::uint32_t>(i);
    ::epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
    ++open;
  }
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  epoll_event events[256];
  while (open > 0 && std::chrono::steady_clock::now() < deadline) {
    int k = ::epoll_wait(ep, events, 256, 100);
    for (int e = 0; e < k; ++e) {
      const std::uint32_t i = events[e].data.u32;
      Conn& c = conns[i];
      if (c.done) continue;
      if ((events[e].events & EPOLLOUT) && c.sent < raw.size()) {
        ssize_t w = ::send(c.fd, raw.data() + c.sent, raw.size() - c.sent, MSG_NOSIGNAL);
        if (w > 0) c.sent += static_cast<std::size_t>(w);
        if (c.sent == raw.size()) {
          epoll_event ev{};
          ev.events = EPOLLIN;
          ev.data.u32 = i;
          ::epoll_ctl(ep, EPOLL_CTL_MOD, c.fd, &ev);
        }
      }
      if (events[e].events & (EPOLLIN | EPOLLHUP | EPOLLERR)) {
        char buf[65536];
        for (;;) {
          ssize_t r = ::recv(c.fd, buf, sizeof buf, 0);
          if (r > 0) {
            out[i].append(buf, static_cast<std::size_t>(r));
            continue;
          }
          if (r < 0 && (errno == EAGAIN || errno == EINTR)) break;
          c.done = true;  // EOF or error
          ::close(c.fd);
          --open;
          break;
        }
      }
    }
  }
  for (Conn& c : conns)
    if (!c.done && c.fd >= 0) ::close(c.fd);
  ::close(ep);
  return out;
}

}  // namespace httpfs::test
