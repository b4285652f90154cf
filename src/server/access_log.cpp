#include "server/access_log.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <stdexcept>

#include "http/request_parser.hpp"

namespace httpfs::server {

namespace {

// Apache's escaping of the request line: '"' and '\' and non-printable bytes as \xHH, so a
// hostile target cannot forge a log line.
void append_escaped(std::string& out, std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  for (char c : s) {
    auto u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\' || u < 0x20 || u >= 0x7f) {
      out += "\\x";
      out += kHex[u >> 4];
      out += kHex[u & 15];
    } else {
      out += c;
    }
  }
}

}  // namespace

std::string request_line(const http::RequestHead& h) {
  std::string line;
  line.reserve(h.method_token.size() + h.target.size() + 10);
  line.append(h.method_token)
      .append(" ")
      .append(h.target)
      .append(h.version_minor ? " HTTP/1.1" : " HTTP/1.0");
  return line;
}

std::string_view first_line(std::string_view raw) noexcept {
  const std::size_t end = raw.find_first_of("\r\n");
  return raw.substr(0,
                    std::min<std::size_t>(end == std::string_view::npos ? raw.size() : end, 256));
}

AccessLog::Destination::~Destination() {
  if (owned && fd >= 0) ::close(fd);
}

void AccessLog::open(const std::string& target) {
  out_.reset();
  if (target == "off") return;
  auto d = std::make_shared<Destination>();
  if (target == "-") {
    d->fd = STDOUT_FILENO;
  } else {
    d->fd = ::open(target.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    if (d->fd < 0) throw std::runtime_error(std::strerror(errno));
    d->owned = true;
  }
  out_ = std::move(d);
}

void AccessLog::log(std::string_view host, std::string_view user, std::string_view request_line,
                    int status, std::uint64_t bytes) {
  if (!out_) return;
  std::time_t now = std::time(nullptr);
  if (now != date_second_) {
    date_second_ = now;
    std::tm tm{};
    gmtime_r(&now, &tm);
    std::strftime(date_, sizeof date_, "%d/%b/%Y:%H:%M:%S +0000", &tm);
  }
  std::string& line = pending_;  // appended in place: one buffer for the iteration's lines
  line += host;
  line += " - ";
  line += user.empty() ? std::string_view("-") : user;
  line += " [";
  line += date_;
  line += "] \"";
  if (request_line.empty())
    line += '-';
  else
    append_escaped(line, request_line);
  line += "\" ";
  line += fmt::format_int(status).str();
  line += ' ';
  if (bytes == 0)
    line += '-';
  else
    line += fmt::format_int(bytes).str();
  line += '\n';
}

void AccessLog::flush() {
  if (pending_.empty() || !out_) return;
  std::lock_guard<std::mutex> hold(out_->mutex);
  std::string_view rest = pending_;
  while (!rest.empty()) {
    const ssize_t n = ::write(out_->fd, rest.data(), rest.size());
    if (n > 0) {
      rest.remove_prefix(static_cast<std::size_t>(n));
    } else if (n < 0 && errno == EAGAIN) {
      // A non-blocking stdout that is full: wait for its reader a little, as a blocking
      // descriptor would, rather than drop lines.
      pollfd p{out_->fd, POLLOUT, 0};
      if (::poll(&p, 1, 1000) <= 0) break;
    } else if (n < 0 && errno == EINTR) {
      continue;
    } else {
      break;  // EPIPE, ENOSPC, EIO: the lines are lost, the service goes on
    }
  }
  pending_.clear();
}

}  // namespace httpfs::server
