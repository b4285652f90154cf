#include "client/transfer.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "client/options.hpp"
#include "http/chars.hpp"
#include "http/parse_error.hpp"
#include "net/address.hpp"
#include "net/errors.hpp"

namespace httpfs::client {

namespace {

constexpr std::size_t kBuffer = 256 * 1024;
constexpr std::uint64_t kFlushBudget = 8ull << 20;
constexpr std::uint64_t kContinueWaitMs = 1000;  // as curl: send the body anyway after 1 s
constexpr std::uint64_t kSpliceMinimum = 64 * 1024;
constexpr std::size_t kPipeSize = 1 << 20;
constexpr std::size_t kStreamChunk = 64 * 1024;

bool has_header(const RequestSpec& spec, std::string_view lower) {
  for (const auto& [n, v] : spec.headers)
    if (http::chars::iequals_lower(n, lower)) return true;
  return false;
}

void verbose_lines(std::string_view prefix, std::string_view text) {
  while (!text.empty()) {
    std::size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    std::fprintf(stderr, "%.*s%.*s\n", static_cast<int>(prefix.size()), prefix.data(),
                 static_cast<int>(line.size()), line.data());
    if (nl == std::string_view::npos) break;
    text.remove_prefix(nl + 1);
  }
}

}  // namespace

std::string TransferResult::header(std::string_view lower_name) const {
  for (const auto& [n, v] : headers)
    if (http::chars::iequals_lower(n, lower_name)) return v;
  return {};
}

Transfer* Transfer::start(uv_loop_t* loop, RequestSpec spec, Handler& handler) {
  auto* t = new Transfer(loop, std::move(spec), handler);
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_ADDRCONFIG;
  const std::string port = std::to_string(t->spec_.url.port);
  if (int r = uv_getaddrinfo(loop, &t->resolve_, &Transfer::on_resolved, t->spec_.url.host.c_str(),
                             port.c_str(), &hints);
      r != 0) {
    t->finish(kDns, "cannot resolve " + t->spec_.url.host + ": " + uv_strerror(r));
    return t;
  }
  t->resolving_ = true;
  return t;
}

Transfer::Transfer(uv_loop_t* loop, RequestSpec spec, Handler& handler)
    : loop_(loop), spec_(std::move(spec)), handler_(handler) {
  resolve_.data = this;
  uv_timer_init(loop_, &connect_timer_);
  uv_timer_init(loop_, &continue_timer_);
  uv_timer_init(loop_, &resume_timer_);
  connect_timer_.data = continue_timer_.data = resume_timer_.data = this;
  open_handles_ = 3;
}

Transfer::~Transfer() {
  if (pipe_r_ >= 0) ::close(pipe_r_);
  if (pipe_w_ >= 0) ::close(pipe_w_);
}

// ---- resolving and connecting

void Transfer::on_resolved(uv_getaddrinfo_t* req, int status, addrinfo* res) {
  static_cast<Transfer*>(req->data)->handle_resolved(status, res);
}

void Transfer::handle_resolved(int status, addrinfo* res) {
  resolving_ = false;
  if (finished_) {  // cancelled meanwhile: this callback was awaited like a handle's close
    uv_freeaddrinfo(res);
    --open_handles_;
    maybe_free();
    return;
  }
  if (status != 0) {
    uv_freeaddrinfo(res);
    finish(kDns, "cannot resolve " + spec_.url.host + ": " + uv_strerror(status));
    return;
  }
  for (addrinfo* a = res; a != nullptr; a = a->ai_next) {
    sockaddr_storage ss{};
    std::memcpy(&ss, a->ai_addr, a->ai_addrlen);
    addresses_.emplace_back(ss, a->ai_addrlen);
  }
  uv_freeaddrinfo(res);
  state_ = State::Connecting;
  try_next_address();
}

void Transfer::drop_socket() {
  tls_.reset();
  if (sock_ == nullptr) return;
  if (sock_->close(&Transfer::on_closed)) ++open_handles_;
  sock_ = nullptr;
}

void Transfer::try_next_address() {
  drop_socket();  // the previous attempt's, if any
  while (next_address_ < addresses_.size()) {
    const auto& [ss, len] = addresses_[next_address_++];
    address_text_ = net::SocketAddress::from(reinterpret_cast<const sockaddr*>(&ss), len).host();
    int fd = ::socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
      last_connect_error_ = net::errno_text(errno);
      continue;
    }
    int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (::connect(fd, reinterpret_cast<const sockaddr*>(&ss), len) != 0 && errno != EINPROGRESS) {
      last_connect_error_ = net::errno_text(errno);
      ::close(fd);
      continue;
    }
    sockets_.push_back(std::make_unique<net::PollSocket>());
    sock_ = sockets_.back().get();
    sock_->init(loop_, fd, this, &Transfer::on_poll);
    sock_->want(false, true);  // writable: the connection is made (or failed)
    uv_timer_start(&connect_timer_, &Transfer::on_connect_timer,
                   static_cast<std::uint64_t>(spec_.connect_timeout * 1000), 0);
    return;
  }
  const bool timed_out = last_connect_error_ == "timed out";
  finish(timed_out ? kTimeout : kConnect,
         "cannot connect to " + spec_.url.host + " port " + std::to_string(spec_.url.port) + ": " +
             (last_connect_error_.empty() ? "no address" : last_connect_error_));
}

void Transfer::on_connect_timer(uv_timer_t* t) {
  auto* self = static_cast<Transfer*>(t->data);
  if (self->state_ == State::Handshaking) {
    self->finish(kTimeout, "TLS handshake with " + self->spec_.url.host + " timed out after " +
                               std::to_string(static_cast<int>(self->spec_.connect_timeout)) +
                               " s");
    return;
  }
  if (self->state_ != State::Connecting) return;
  self->last_connect_error_ = "timed out";
  self->try_next_address();  // give up on this address
}

void Transfer::on_poll(uv_poll_t* handle, int status, int events) {
  auto* self = static_cast<Transfer*>(handle->data);
  if (self->finished_) return;
  if (status < 0 && self->state_ != State::Connecting) {
    self->finish(kPartial, std::string("connection failed: ") + uv_strerror(status));
    return;
  }
  switch (self->state_) {
    case State::Connecting:
      self->handle_connecting(events);
      break;
    case State::Handshaking:
      self->handle_handshaking(events);
      break;
    case State::Sending:
    case State::AwaitingContinue:
      self->handle_sending(events);
      break;
    case State::Receiving:
      self->handle_receiving(events);
      break;
    case State::Resolving:
    case State::Closing:
      break;
  }
}

void Transfer::handle_connecting(int) {
  int err = 0;
  socklen_t len = sizeof err;
  ::getsockopt(sock_->fd(), SOL_SOCKET, SO_ERROR, &err, &len);
  if (err == EINPROGRESS || err == EALREADY) return;
  if (err != 0) {
    uv_timer_stop(&connect_timer_);
    last_connect_error_ = net::errno_text(err);
    try_next_address();
    return;
  }
  connected();
}

void Transfer::connected() {
  result_.connected = true;
  if (spec_.verbose)
    std::fprintf(stderr, "* Connected to %s (%s) port %u\n", spec_.url.host.c_str(),
                 address_text_.c_str(), spec_.url.port);
  if (spec_.url.scheme != "https") {
    uv_timer_stop(&connect_timer_);
    start_request();
    return;
  }
  // The connect timer keeps running: it covers the handshake too.
  tls_ = std::make_unique<net::TlsStream>(*spec_.tls, spec_.url.host);
  state_ = State::Handshaking;
  handle_handshaking(0);
}

void Transfer::handle_handshaking(int) {
  const int r = tls_->handshake(sock_->fd());
  if (r == -EAGAIN) {
    if (!sock_->want(true, tls_->wants_write())) finish(kInternal, "cannot poll the socket");
    return;
  }
  if (r < 0) {
    int code = kTls;
    switch (tls_->failure()) {
      case net::TlsStream::Failure::Untrusted:
        code = kTlsUntrusted;
        break;
      case net::TlsStream::Failure::Expired:
        code = kTlsExpired;
        break;
      case net::TlsStream::Failure::WrongHost:
        code = kTlsWrongHost;
        break;
      case net::TlsStream::Failure::Handshake:
      case net::TlsStream::Failure::None:
        break;
    }
    std::string why = r == -EPROTO ? tls_->error_text()
                                   : "TLS handshake with " + spec_.url.host +
                                         " failed: " + net::errno_text(-r);
    if (code == kTlsUntrusted)
      why += ": use --cacert FILE to trust its CA, or -k to skip verification";
    finish(code, why);
    return;
  }
  uv_timer_stop(&connect_timer_);
  if (spec_.verbose) std::fprintf(stderr, "* TLS: %s\n", tls_->description().c_str());
  start_request();
}

void Transfer::start_request() {
  buf_ = std::make_unique_for_overwrite<char[]>(kBuffer);
  cap_ = kBuffer;
  queue_head();
  if (spec_.expect_continue) {
    state_ = State::AwaitingContinue;
    uv_timer_start(&continue_timer_, &Transfer::on_continue_timer, kContinueWaitMs, 0);
  } else {
    queue_body();
    state_ = State::Sending;
  }
  flush();
}

// ---- sending

void Transfer::queue_head() {
  std::string head;
  head.reserve(256);
  head += spec_.method;
  head += ' ';
  head += spec_.url.target;
  head += " HTTP/1.1\r\n";
  auto add = [&](std::string_view n, std::string_view v) {
    head.append(n).append(": ").append(v).append("\r\n");
  };
  if (!has_header(spec_, "host")) add("Host", spec_.url.host_header());
  if (!has_header(spec_, "user-agent")) add("User-Agent", "httpc/" HTTPFS_VERSION);
  if (!has_header(spec_, "accept")) add("Accept", "*/*");
  for (const auto& [n, v] : spec_.headers) add(n, v);
  switch (spec_.body) {
    case RequestSpec::Body::None:
      if (spec_.method == "POST" || spec_.method == "PUT") add("Content-Length", "0");
      break;
    case RequestSpec::Body::Bytes:
      add("Content-Length", std::to_string(spec_.bytes.size()));
      break;
    case RequestSpec::Body::File:
      add("Content-Length", std::to_string(spec_.file_size));
      break;
    case RequestSpec::Body::Stream:
      add("Transfer-Encoding", "chunked");
      break;
  }
  if (spec_.expect_continue) add("Expect", "100-continue");
  head += "\r\n";
  if (spec_.verbose) verbose_lines("> ", std::string_view(head).substr(0, head.size() - 2));
  out_.append(head);
  result_.request_sent = true;
}

void Transfer::queue_body() {
  if (body_queued_) return;
  body_queued_ = true;
  switch (spec_.body) {
    case RequestSpec::Body::None:
      break;
    case RequestSpec::Body::Bytes:
      out_.append(spec_.bytes);
      break;
    case RequestSpec::Body::File:
      // Zero-copy: sendfile(2) from the file to the socket, the caller keeps the fd.
      out_.add_file(spec_.file_fd, 0, spec_.file_size, /*owns_fd=*/false);
      break;
    case RequestSpec::Body::Stream:
      if (uv_poll_init(loop_, &stream_poll_, spec_.stream_fd) == 0) {
        stream_poll_.data = this;
        ++open_handles_;
        stream_polling_ = true;
        uv_poll_start(&stream_poll_, UV_READABLE, &Transfer::on_stream_poll);
      } else {
        finish(kLocalFile, "cannot read the standard input");
      }
      break;
  }
}

void Transfer::on_stream_poll(uv_poll_t* handle, int, int) {
  auto* self = static_cast<Transfer*>(handle->data);
  if (!self->finished_) self->pump_stream();
}

void Transfer::pump_stream() {
  // One chunk of the streamed body per readiness, framed as chunked; reading pauses while
  // the socket has not taken the previous chunk (backpressure).
  if (out_.memory_bytes() > 4 * kStreamChunk) {
    uv_poll_stop(&stream_poll_);
    return;
  }
  char buf[kStreamChunk];
  ssize_t n = ::read(spec_.stream_fd, buf, sizeof buf);
  if (n < 0) {
    if (errno == EAGAIN || errno == EINTR) return;
    finish(kLocalFile, "cannot read the standard input: " + net::errno_text(errno));
    return;
  }
  if (n == 0) {
    out_.append("0\r\n\r\n");
    stream_eof_ = true;
    uv_poll_stop(&stream_poll_);
  } else {
    char size[24];
    int len = std::snprintf(size, sizeof size, "%zx\r\n", static_cast<std::size_t>(n));
    out_.append(std::string_view(size, static_cast<std::size_t>(len)));
    out_.append(std::string_view(buf, static_cast<std::size_t>(n)));
    out_.append("\r\n");
  }
  flush();
}

void Transfer::on_continue_timer(uv_timer_t* t) {
  auto* self = static_cast<Transfer*>(t->data);
  if (self->state_ != State::AwaitingContinue || self->finished_) return;
  // No answer within a second: the server may not know 100-continue. Send the body.
  self->queue_body();
  self->state_ = State::Sending;
  self->flush();
}

bool Transfer::flush() {
  std::size_t completed = 0;
  net::OutputQueue::Flush r = tls_ ? tls_->flush(sock_->fd(), out_, kFlushBudget, completed)
                                   : out_.flush(sock_->fd(), kFlushBudget, completed);
  if (r == net::OutputQueue::Flush::Error) {
    // The server may have answered and closed early (an error before the whole body):
    // read what it said before calling it a failure.
    if (out_.error() == EPIPE || out_.error() == ECONNRESET) {
      out_.clear();
      body_sent_ = true;
      state_ = State::Receiving;
      update_interest();
      receive();
      return false;
    }
    finish(kPartial,
           "send failed: " + (tls_ && out_.error() == EPROTO ? tls_->error_text()
                                                             : net::errno_text(out_.error())));
    return false;
  }
  const bool stream_done = spec_.body != RequestSpec::Body::Stream || stream_eof_;
  if (r == net::OutputQueue::Flush::Done && body_queued_ && stream_done &&
      state_ == State::Sending) {
    body_sent_ = true;
    state_ = State::Receiving;
  }
  if (r == net::OutputQueue::Flush::Done && stream_polling_ && !stream_eof_ &&
      state_ == State::Sending)
    uv_poll_start(&stream_poll_, UV_READABLE, &Transfer::on_stream_poll);
  update_interest();
  return true;
}

void Transfer::update_interest() {
  if (finished_) return;
  // Reading all along: a server may answer (an error, 100 Continue) before the body is sent.
  const bool want_write = !out_.empty() || (tls_ && tls_->wants_write());
  if (!sock_->want(true, want_write)) finish(kInternal, "cannot poll the socket");
}

void Transfer::handle_sending(int events) {
  if (events & UV_WRITABLE) {
    if (!flush() || finished_) return;
  }
  if (events & UV_READABLE) receive();
}

// ---- receiving

void Transfer::handle_receiving(int events) {
  if (events & UV_WRITABLE) flush();
  if (!finished_ && (events & UV_READABLE)) receive();
}

long Transfer::read_some(char* buf, std::size_t len) {
  if (tls_) {
    // Record after record until the buffer is full or the socket is drained, so that the
    // body is handed on in big pieces, as from a plain socket.
    std::size_t got = 0;
    while (got < len) {
      const long n = tls_->read(sock_->fd(), buf + got, len - got);
      if (n <= 0) return got > 0 ? static_cast<long>(got) : n;  // the end or error comes next
      got += static_cast<std::size_t>(n);
    }
    return static_cast<long>(got);
  }
  for (;;) {
    ssize_t n = ::read(sock_->fd(), buf, len);
    if (n >= 0) return n;
    if (errno == EINTR) continue;
    return errno == EWOULDBLOCK ? -EAGAIN : -errno;
  }
}

void Transfer::on_resume_timer(uv_timer_t* t) {
  auto* self = static_cast<Transfer*>(t->data);
  if (!self->finished_ && self->state_ == State::Receiving) self->receive();
}

void Transfer::receive() {
  if (head_done_ && splice_body()) return;
  for (int round = 0; !finished_; ++round) {
    if (round == 16) {
      // Let timers and the progress bar run. The socket's readiness brings us back, but
      // records TLS already holds would not: a zero timer does.
      if (tls_ && tls_->has_buffered_input())
        uv_timer_start(&resume_timer_, &Transfer::on_resume_timer, 0, 0);
      return;
    }
    if (end_ == cap_) {
      if (begin_ > 0) {
        std::memmove(buf_.get(), buf_.get() + begin_, end_ - begin_);
        end_ -= begin_;
        begin_ = 0;
      } else {
        finish(kProtocol, "the response head is too large");
        return;
      }
    }
    const long n = read_some(buf_.get() + end_, cap_ - end_);
    if (n < 0) {
      if (n == -EAGAIN) return;
      if (n == -ECONNRESET && head_done_ && until_close_) {
        finish(kPartial, "connection reset before the end of the body");
        return;
      }
      finish(kPartial,
             "receive failed: " + (tls_ && n == -EPROTO ? tls_->error_text()
                                                        : net::errno_text(static_cast<int>(-n))));
      return;
    }
    if (n == 0) {
      // End of stream: complete for a read-until-close body, else too early. Under TLS
      // only a close_notify ends such a body: a bare close may be a truncation.
      if (head_done_ && until_close_ && tls_ && !tls_->clean_close()) {
        finish(kPartial, "the connection closed without a TLS close_notify after " +
                             std::to_string(body_.body_bytes()) +
                             " body bytes: the body may be truncated");
      } else if (head_done_ && until_close_) {
        finish(0, {});
      } else if (head_done_) {
        finish(kPartial,
               "the connection closed after " + std::to_string(body_.body_bytes()) +
                   (body_.chunked_framing()
                        ? " body bytes (chunked body unfinished)"
                        : " of " + std::to_string(body_.body_bytes() + body_.remaining()) +
                              " body bytes"));
      } else {
        finish(end_ > begin_ ? kProtocol : kPartial,
               end_ > begin_ ? "the connection closed in the middle of the response head"
                             : "the server closed the connection without answering");
      }
      return;
    }
    end_ += static_cast<std::size_t>(n);
    if (!process_input()) return;
    // Plain: a short read means the socket is drained for now. TLS reads one record at a
    // time, so it reads on until -EAGAIN.
    if (!tls_ && static_cast<std::size_t>(n) < cap_ / 2) return;
  }
}

bool Transfer::process_input() {
  while (!finished_) {
    if (!head_done_) {
      std::string_view in(buf_.get() + begin_, end_ - begin_);
      http::ResponseParser::Result r = parser_.parse(in, http::method_from_token(spec_.method));
      if (r == http::ResponseParser::Result::Incomplete) return true;
      if (r == http::ResponseParser::Result::Error) {
        finish(kProtocol, std::string("invalid response: ") +
                              std::string(http::error_message(parser_.error())));
        return false;
      }
      const http::ResponseHead& h = parser_.head();
      if (spec_.verbose) verbose_lines("< ", in.substr(0, h.head_size - 2));
      if (r == http::ResponseParser::Result::Interim) {
        const bool go_ahead = h.status == 100;
        begin_ += h.head_size;
        parser_.reset();
        if (go_ahead && state_ == State::AwaitingContinue) {
          uv_timer_stop(&continue_timer_);
          queue_body();
          state_ = State::Sending;
          if (!flush()) return false;
        }
        continue;
      }
      // The final answer. If it came before the body went out (a refusal after Expect, or an
      // early error), the body is not sent.
      uv_timer_stop(&continue_timer_);
      if (!body_sent_) {
        out_.clear();
        if (stream_polling_) uv_poll_stop(&stream_poll_);
        state_ = State::Receiving;
        update_interest();
      }
      result_.status = h.status;
      result_.reason = std::string(h.reason);
      result_.version_minor = h.version_minor;
      for (const http::Header& f : h.headers)
        result_.headers.emplace_back(std::string(f.name), std::string(f.value));
      if (int code = handler_.on_head(h); code != 0) {
        finish(code, {});
        return false;
      }
      head_done_ = true;
      begin_ += h.head_size;
      switch (h.framing) {
        case http::ResponseFraming::Length:
          body_ = http::BodyDecoder::length(h.content_length);
          break;
        case http::ResponseFraming::Chunked:
          body_ = http::BodyDecoder::chunked();
          break;
        case http::ResponseFraming::Close:
          body_ = http::BodyDecoder::length(UINT64_MAX);
          until_close_ = true;
          break;
        case http::ResponseFraming::None:
        case http::ResponseFraming::Tunnel:
        case http::ResponseFraming::Upgrade:
          body_ = http::BodyDecoder::none();
          break;
      }
      if (body_.done()) {
        finish(0, {});
        return false;
      }
    }
    while (begin_ < end_ && !body_.done() && !body_.failed()) {
      http::BodyDecoder::Step s =
          body_.decode(std::string_view(buf_.get() + begin_, end_ - begin_));
      begin_ += s.consumed;
      if (!s.data.empty()) {
        result_.body_bytes += s.data.size();
        if (int code = handler_.on_body(s.data); code != 0) {
          finish(code, {});
          return false;
        }
      }
      if (s.consumed == 0) break;
    }
    if (begin_ == end_) begin_ = end_ = 0;
    if (body_.failed()) {
      finish(kPartial,
             std::string("broken body: ") + std::string(http::error_message(body_.error())));
      return false;
    }
    if (body_.done()) {
      finish(0, {});
      return false;
    }
    return true;
  }
  return false;
}

bool Transfer::splice_body() {
  // Body bytes socket -> pipe -> file without passing through user space, when the handler
  // offers a file and nothing is buffered ahead of them.
  if (tls_) return false;  // the bytes must be decrypted
  const int fd = handler_.splice_fd();
  if (fd < 0 || begin_ != end_ || body_.raw_data_available() < kSpliceMinimum) return false;
  if (pipe_w_ < 0) {
    int fds[2];
    if (::pipe2(fds, O_NONBLOCK | O_CLOEXEC) != 0) return false;
    pipe_r_ = fds[0];
    pipe_w_ = fds[1];
    ::fcntl(pipe_w_, F_SETPIPE_SZ, static_cast<int>(kPipeSize));
  }
  std::uint64_t moved = 0;
  while (moved < kFlushBudget) {
    const auto want =
        static_cast<std::size_t>(std::min<std::uint64_t>(body_.raw_data_available(), kPipeSize));
    if (want == 0) break;
    ssize_t n =
        ::splice(sock_->fd(), nullptr, pipe_w_, nullptr, want, SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN) break;
      finish(kPartial, "receive failed: " + net::errno_text(errno));
      return true;
    }
    if (n == 0) {
      if (until_close_)
        finish(0, {});
      else
        finish(kPartial, "the connection closed after " + std::to_string(body_.body_bytes()) +
                             " of " + std::to_string(body_.body_bytes() + body_.remaining()) +
                             " body bytes");
      return true;
    }
    for (auto left = static_cast<std::size_t>(n); left > 0;) {
      ssize_t m = ::splice(pipe_r_, nullptr, fd, nullptr, left, SPLICE_F_MOVE);
      if (m <= 0) {
        if (m < 0 && errno == EINTR) continue;
        finish(kLocalFile, "cannot write the output: " + net::errno_text(m < 0 ? errno : EIO));
        return true;
      }
      left -= static_cast<std::size_t>(m);
    }
    body_.skip_raw_data(static_cast<std::uint64_t>(n));
    result_.body_bytes += static_cast<std::uint64_t>(n);
    handler_.on_spliced(static_cast<std::uint64_t>(n));
    moved += static_cast<std::uint64_t>(n);
  }
  if (body_.done()) finish(0, {});
  return true;
}

// ---- the end

void Transfer::cancel(int exit_code, std::string why) {
  if (!finished_) finish(exit_code, std::move(why));
}

void Transfer::finish(int exit_code, std::string error) {
  if (finished_) return;
  finished_ = true;
  state_ = State::Closing;
  result_.exit_code = exit_code;
  result_.error = std::move(error);
  out_.clear();
  // A resolution still in flight: its callback will come (with UV_ECANCELED if the cancel
  // was in time, with the answer otherwise) and is waited for like a handle's close.
  if (resolving_) {
    ++open_handles_;
    uv_cancel(reinterpret_cast<uv_req_t*>(&resolve_));
  }
  uv_close(reinterpret_cast<uv_handle_t*>(&connect_timer_), &Transfer::on_closed);
  uv_close(reinterpret_cast<uv_handle_t*>(&continue_timer_), &Transfer::on_closed);
  uv_close(reinterpret_cast<uv_handle_t*>(&resume_timer_), &Transfer::on_closed);
  if (stream_polling_)
    uv_close(reinterpret_cast<uv_handle_t*>(&stream_poll_), &Transfer::on_closed);
  stream_polling_ = false;
  drop_socket();
}

void Transfer::on_closed(uv_handle_t* h) {
  auto* self = static_cast<Transfer*>(h->data);
  --self->open_handles_;
  self->maybe_free();
}

void Transfer::maybe_free() {
  if (open_handles_ > 0) return;
  Handler& handler = handler_;
  TransferResult result = std::move(result_);
  delete this;
  handler.on_finished(std::move(result));
}

}  // namespace httpfs::client
