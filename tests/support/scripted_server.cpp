#include "scripted_server.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <stdexcept>

#include "http/body_decoder.hpp"
#include "http/chars.hpp"
#include "http/request_parser.hpp"

namespace httpfs::test {

using namespace std::chrono_literals;

std::string ReceivedRequest::header(std::string_view name) const {
  for (const auto& [n, v] : headers)
    if (http::chars::iequals(n, name)) return v;
  return {};
}

ScriptedServer::ScriptedServer(Script script, bool ipv6) : script_(std::move(script)), ipv6_(ipv6) {
  listen_fd_ = ::socket(ipv6 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int one = 1;
  ::setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (ipv6) {
    sockaddr_in6 a{};
    a.sin6_family = AF_INET6;
    a.sin6_addr = in6addr_loopback;
    if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0)
      throw std::runtime_error("bind ::1");
    socklen_t len = sizeof a;
    ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin6_port);
  } else {
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0)
      throw std::runtime_error("bind");
    socklen_t len = sizeof a;
    ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
  }
  ::listen(listen_fd_, 64);
  thread_ = std::thread([this] { run(); });
}

ScriptedServer::~ScriptedServer() {
  stop_ = true;
  ::shutdown(listen_fd_, SHUT_RDWR);
  thread_.join();
  ::close(listen_fd_);
}

std::string ScriptedServer::url(std::string_view path) const {
  return std::string(ipv6_ ? "http://[::1]:" : "http://127.0.0.1:") + std::to_string(port_) +
         std::string(path);
}

std::vector<ReceivedRequest> ScriptedServer::requests() const {
  std::lock_guard<std::mutex> lock(mu_);
  return requests_;
}

void ScriptedServer::run() {
  while (!stop_) {
    pollfd p{listen_fd_, POLLIN, 0};
    if (::poll(&p, 1, 50) <= 0) continue;
    int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) continue;
    ++connections_;
    timeval tv{0, 50000};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    for (bool first = true; !stop_ && serve(fd, first); first = false) {
    }
    ::close(fd);
  }
}

// Serves one request on fd; false when the connection is done. A kept-alive connection that
// is idle while another one waits to be accepted is closed, as a server at its connection
// limit closes idle ones: this one-connection-at-a-time server never blocks a client that
// holds an idle connection open and opens another.
bool ScriptedServer::serve(int fd, bool first) {
  std::string buf;
  auto fill = [&]() -> bool {
    char tmp[65536];
    for (;;) {
      if (stop_) return false;
      if (!first && buf.empty()) {
        pollfd waiting{listen_fd_, POLLIN, 0};
        if (::poll(&waiting, 1, 0) > 0) return false;
      }
      ssize_t n = ::recv(fd, tmp, sizeof tmp, 0);
      if (n > 0) {
        buf.append(tmp, static_cast<std::size_t>(n));
        return true;
      }
      if (n == 0) return false;
      if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) return false;
    }
  };
  http::RequestParser parser(http::RequestParser::Limits{},
                             http::RequestParser::Policy{false, false});
  while (parser.parse(buf) != http::RequestParser::Result::Complete) {
    if (parser.error() != http::ParseError::None) return false;
    if (!fill()) return false;
  }
  const http::RequestHead& h = parser.head();
  ReceivedRequest req;
  req.connection = connections_ - 1;
  req.method = std::string(h.method_token);
  req.target = std::string(h.target);
  req.version = h.version_minor ? "HTTP/1.1" : "HTTP/1.0";
  for (const http::Header& f : h.headers)
    req.headers.emplace_back(std::string(f.name), std::string(f.value));
  const bool expect = h.expect_continue;
  http::BodyDecoder body = h.framing == http::BodyFraming::Chunked ? http::BodyDecoder::chunked()
                           : h.framing == http::BodyFraming::Length
                               ? http::BodyDecoder::length(h.content_length)
                               : http::BodyDecoder::none();
  buf.erase(0, h.head_size);
  int index;
  {
    std::lock_guard<std::mutex> lock(mu_);
    index = static_cast<int>(requests_.size());
  }
  auto read_body = [&]() -> bool {
    while (!body.done()) {
      while (!buf.empty() && !body.done() && !body.failed()) {
        auto s = body.decode(buf);
        req.body.append(s.data);
        buf.erase(0, s.consumed);
      }
      if (body.failed()) return false;
      if (!body.done() && !fill()) break;
    }
    return true;
  };
  // The script sees the whole request, body included, unless the client waits for a
  // 100 Continue: then the script decides first whether to send it and read the body.
  ScriptedReply reply;
  if (!expect) {
    if (!read_body()) return false;
    reply = script_(req, index);
  } else {
    reply = script_(req, index);
    if (reply.send_continue && reply.read_body) {
      const std::string cont = "HTTP/1.1 100 Continue\r\n\r\n";
      ::send(fd, cont.data(), cont.size(), MSG_NOSIGNAL);
    }
    if (reply.read_body && !read_body()) return false;
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    requests_.push_back(req);
  }
  if (reply.never_answer) {
    while (!stop_ && fill()) {
    }
    return false;
  }
  for (const auto& [delay, bytes] : reply.pieces) {
    if (delay.count() > 0) std::this_thread::sleep_for(delay);
    if (::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL) < 0) return false;
  }
  return !reply.close;
}

NginxProcess::NginxProcess(const std::string& root, const std::string& tls_cert,
                           const std::string& tls_key)
    : tls_(!tls_cert.empty()) {
  port_ = unused_port();
  const std::string tls = tls_ ? " ssl;\n    ssl_certificate " + tls_cert +
                                     ";\n    ssl_certificate_key " + tls_key +
                                     ";\n    ssl_protocols TLSv1.2 TLSv1.3"
                               : std::string();
  const std::string body = dir_ / "body";
  dir_.mkdir("body");
  write_file(
      dir_ / "nginx.conf",
      "worker_processes 1;\nmaster_process off;\ndaemon off;\npid " + dir_ / "nginx.pid" +
          ";\nerror_log " + dir_ / "error.log" +
          " warn;\nevents { worker_connections 1024; }\n"
          "http {\n  access_log off;\n  sendfile on;\n  default_type application/octet-stream;\n"
          "  client_body_temp_path " +
          body + ";\n  proxy_temp_path " + body + ";\n  fastcgi_temp_path " + body +
          ";\n  uwsgi_temp_path " + body + ";\n  scgi_temp_path " + body +
          ";\n  server {\n    listen 127.0.0.1:" + std::to_string(port_) + tls + ";\n    root " +
          root +
          ";\n    location / {\n      autoindex on;\n      dav_methods PUT DELETE;\n      "
          "create_full_put_path on;\n"
          "      client_max_body_size 0;\n    }\n    location = /redirect { return 301 "
          "/target.txt; }\n  }\n}\n");
  proc_ = std::make_unique<Process>(
      std::vector<std::string>{"/usr/sbin/nginx", "-c", dir_ / "nginx.conf"});
  for (int i = 0; i < 400; ++i) {
    if (port_accepts(port_)) return;
    if (!proc_->running()) break;
    std::this_thread::sleep_for(10ms);
  }
  throw std::runtime_error("nginx did not start: " + proc_->err() + read_file(dir_ / "error.log"));
}

NginxProcess::~NginxProcess() {
  proc_->signal(SIGTERM);
  proc_->wait(5s);
}

std::string NginxProcess::url(std::string_view path) const {
  return (tls_ ? "https" : "http") + std::string("://127.0.0.1:") + std::to_string(port_) +
         std::string(path);
}

bool port_accepts(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<std::uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  const bool up = ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  ::close(fd);
  return up;
}

int unused_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  ::close(fd);
  return ntohs(a.sin_port);
}

}  // namespace httpfs::test
