#include "client/transfer.hpp"

#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <unistd.h>

#include <cassert>
#include <cerrno>
#include <cstdio>
#include <cstring>

#include "client/connection_pool.hpp"
#include "client/h2_exchange.hpp"
#include "client/options.hpp"
#include "client/policy.hpp"
#include "http/chars.hpp"
#include "http/parse_error.hpp"
#include "net/address.hpp"
#include "net/errors.hpp"

namespace httpfs::client {

namespace {

constexpr std::size_t kBuffer = 256 * 1024;
constexpr std::uint64_t kContinueWaitMs = 1000;  // as curl: send the body anyway after 1 s

// Spliced body bytes go into the Handler's file.
struct FileSplice final : net::SpliceSink {
  explicit FileSplice(int f) : fd(f) {}
  long splice_out(int pipe_fd, std::size_t n) override {
    for (;;) {
      const ssize_t m = ::splice(pipe_fd, nullptr, fd, nullptr, n, SPLICE_F_MOVE);
      if (m >= 0) return m;
      if (errno != EINTR) return -errno;
    }
  }
  int fd;
};

// A failed handshake as an exit code and a line, with the advice a user needs.
std::pair<int, std::string> tls_failure(const net::Stream& s, int r, const std::string& host) {
  int code = kTls;
  switch (s.tls()->failure()) {
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
  std::string why = r == -EPROTO ? s.tls()->error_text()
                                 : "TLS handshake with " + host + " failed: " + s.describe(r);
  if (code == kTlsUntrusted)
    why += ": use --cacert FILE to trust its CA, or -k to skip verification";
  return {code, why};
}

}  // namespace

std::string TransferResult::header(std::string_view lower_name) const {
  for (const auto& [n, v] : headers)
    if (http::chars::iequals_lower(n, lower_name)) return v;
  return {};
}

Transfer* Transfer::start(uv_loop_t* loop, RequestSpec spec, Handler& handler) {
  auto* t = new Transfer(loop, std::move(spec), handler);
  t->resolve();
  return t;
}

void Transfer::resolve() {
  if (reuse_pooled()) return;
  addrinfo hints{};
  hints.ai_family = spec_.ip_family != 0 ? spec_.ip_family : AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_ADDRCONFIG;
  const std::string port = std::to_string(peer_port());
  if (int r = uv_getaddrinfo(loop_, &resolve_, &Transfer::on_resolved, peer_host().c_str(),
                             port.c_str(), &hints);
      r != 0) {
    enter(State::Connecting);  // no answer is due: nothing to wait for
    finish(kDns, "cannot resolve " + peer_name() + ": " + uv_strerror(r));
  }
}

bool Transfer::reuse_pooled() {
  // What cannot be sent twice never risks a connection the server may have closed: a body
  // from a pipe, or a method that is not idempotent.
  if (spec_.pool == nullptr || spec_.body == RequestSpec::Body::Stream ||
      !idempotent_method(spec_.method) || retried_fresh_)
    return false;
  std::unique_ptr<net::Stream> s = spec_.pool->take(ConnectionPool::key_for(spec_));
  if (!s) return false;
  streams_.push_back(std::move(s));
  stream_ = streams_.back().get();
  stream_->rebind(*this, ready_);
  reused_ = true;
  if (spec_.verbose)
    std::fprintf(stderr, "* Reusing the connection to %s port %u\n", peer_name().c_str(),
                 peer_port());
  // Writable at once: handle_connecting() then starts the exchange from the loop, as for a
  // new connection (never from within start()).
  enter(State::Connecting);
  if (!stream_->want(false, true)) finish(kInternal, "cannot poll the socket");
  return true;
}

bool Transfer::reusable() const {
  return spec_.pool != nullptr && stream_ != nullptr && h2_ == nullptr && keep_alive_ &&
         state_ == State::ReceivingBody && body_.done() && in_.empty() && out_.empty() &&
         framing_ != http::ResponseFraming::Close && framing_ != http::ResponseFraming::Tunnel &&
         framing_ != http::ResponseFraming::Upgrade && !stream_->output_pending() &&
         (stream_->tls() == nullptr || !stream_->tls()->has_buffered_input());
}

bool Transfer::retry_fresh(int exit_code) {
  // Only a failure that a closed idle connection explains: nothing of an answer came.
  if (!reused_ || exit_code != kPartial || received_ != 0 ||
      (state_ != State::Sending && state_ != State::AwaitingHead &&
       state_ != State::AwaitingContinue))
    return false;
  if (spec_.verbose) std::fprintf(stderr, "* The reused connection was closed; a new one\n");
  reused_ = false;
  retried_fresh_ = true;  // a new connection now, not another idle one that may be as stale
  drop_stream();
  stdin_.stop();
  out_.clear();
  in_.clear(0);
  parser_.reset();
  result_ = TransferResult{};
  enter(State::Resolving);
  resolve();
  return true;
}

Transfer::Transfer(uv_loop_t* loop, RequestSpec spec, Handler& handler)
    : loop_(loop), spec_(std::move(spec)), handler_(handler) {
  resolve_.data = this;
  uv_timer_init(loop_, &connect_timer_);
  uv_timer_init(loop_, &continue_timer_);
  uv_timer_init(loop_, &rate_timer_);
  uv_timer_init(loop_, &send_timer_);
  connect_timer_.data = continue_timer_.data = rate_timer_.data = send_timer_.data = this;
  ready_.init(loop_);
  open_handles_ = 5;
}

Transfer::~Transfer() = default;

void Transfer::on_stream_ready(int events) {
  // Resolving and Done poll nothing; the sending states read too (an early answer).
  if (state_ == State::Connecting) return handle_connecting();
  if (state_ == State::Handshaking) return handle_handshaking();
  if (state_ == State::AwaitingContinue || state_ == State::Sending) return handle_sending(events);
  if (state_ == State::AwaitingHead || state_ == State::ReceivingBody)
    return handle_receiving(events);
  if (state_ == State::Http2) return handle_http2(events);
  if (state_ == State::Tunneling) return handle_tunneling(events);
}

void Transfer::on_stream_error(int status) {
  switch (state_) {
    case State::Connecting:
      return handle_connecting();  // SO_ERROR says what failed
    case State::Handshaking:
      return handle_handshaking();  // the handshake reads the socket's error
    case State::Tunneling:
      return finish(kConnect, std::string("the proxy's connection failed: ") + uv_strerror(status));
    case State::Resolving:
    case State::Done:
      return;
    default:
      return finish(kPartial, std::string("connection failed: ") + uv_strerror(status));
  }
}

void Transfer::on_stream_closed() {
  --open_handles_;
  maybe_free();
}

void Transfer::on_closed(uv_handle_t* h) {
  auto* self = static_cast<Transfer*>(h->data);
  --self->open_handles_;
  self->maybe_free();
}

// ---- resolving and connecting

void Transfer::on_resolved(uv_getaddrinfo_t* req, int status, addrinfo* res) {
  static_cast<Transfer*>(req->data)->handle_resolved(status, res);
}

void Transfer::handle_resolved(int status, addrinfo* res) {
  if (state_ == State::Done) {  // cancelled meanwhile: this callback was awaited like a close
    uv_freeaddrinfo(res);
    --open_handles_;
    return maybe_free();
  }
  assert(state_ == State::Resolving);
  enter(State::Connecting);
  if (status != 0) {
    uv_freeaddrinfo(res);
    return finish(kDns, "cannot resolve " + peer_name() + ": " + uv_strerror(status));
  }
  for (addrinfo* a = res; a != nullptr; a = a->ai_next) {
    sockaddr_storage ss{};
    std::memcpy(&ss, a->ai_addr, a->ai_addrlen);
    addresses_.emplace_back(ss, a->ai_addrlen);
  }
  uv_freeaddrinfo(res);
  try_next_address();
}

void Transfer::drop_stream() {
  if (stream_ == nullptr) return;
  if (stream_->close()) ++open_handles_;
  stream_ = nullptr;
}

void Transfer::try_next_address() {
  drop_stream();  // the previous attempt's, if any
  while (next_address_ < addresses_.size()) {
    const auto& [ss, len] = addresses_[next_address_++];
    address_text_ = net::SocketAddress::from(reinterpret_cast<const sockaddr*>(&ss), len).host();
    const int fd = ::socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
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
    streams_.push_back(std::make_unique<net::Stream>());
    stream_ = streams_.back().get();
    stream_->init(loop_, fd, *this, ready_);
    // Writable: the connection is made (or failed).
    if (!stream_->want(false, true)) return finish(kInternal, "cannot poll the socket");
    uv_timer_start(&connect_timer_, &Transfer::on_connect_timer,
                   static_cast<std::uint64_t>(spec_.connect_timeout * 1000), 0);
    return;
  }
  const bool timed_out = last_connect_error_ == "timed out";
  finish(timed_out ? kTimeout : kConnect,
         "cannot connect to " + peer_name() + " port " + std::to_string(peer_port()) + ": " +
             (last_connect_error_.empty() ? "no address" : last_connect_error_));
}

const std::string& Transfer::peer_host() const noexcept {
  return spec_.proxy ? spec_.proxy->host : spec_.url.host;
}

std::uint16_t Transfer::peer_port() const noexcept {
  return spec_.proxy ? spec_.proxy->port : spec_.url.port;
}

std::string Transfer::peer_name() const {
  return spec_.proxy ? "proxy " + spec_.proxy->host : spec_.url.host;
}

void Transfer::on_connect_timer(uv_timer_t* t) {
  auto* self = static_cast<Transfer*>(t->data);
  if (self->state_ == State::Tunneling)
    return self->finish(kTimeout,
                        "the proxy did not open a tunnel within " +
                            std::to_string(static_cast<int>(self->spec_.connect_timeout)) + " s");
  if (self->state_ == State::Handshaking)
    return self->finish(kTimeout,
                        "TLS handshake with " + self->spec_.url.host + " timed out after " +
                            std::to_string(static_cast<int>(self->spec_.connect_timeout)) + " s");
  if (self->state_ != State::Connecting) return;
  self->last_connect_error_ = "timed out";
  self->try_next_address();  // give up on this address
}

void Transfer::handle_connecting() {
  assert(state_ == State::Connecting);
  int err = 0;
  socklen_t len = sizeof err;
  ::getsockopt(stream_->fd(), SOL_SOCKET, SO_ERROR, &err, &len);
  if (err == EINPROGRESS || err == EALREADY) return;
  if (err != 0) {
    uv_timer_stop(&connect_timer_);
    last_connect_error_ = net::errno_text(err);
    return try_next_address();
  }
  result_.connected = true;
  if (reused_) return start_exchange();  // from the pool: connected, its TLS session on
  if (spec_.verbose)
    std::fprintf(stderr, "* Connected to %s (%s) port %u\n", peer_name().c_str(),
                 address_text_.c_str(), peer_port());
  if (spec_.url.scheme != "https") {
    uv_timer_stop(&connect_timer_);
    return start_exchange();
  }
  if (spec_.proxy) return start_tunnel();  // the connect timer runs on: it covers the tunnel
  // The connect timer keeps running: it covers the handshake too.
  stream_->start_tls(*spec_.tls, spec_.url.host);
  enter(State::Handshaking);
  handle_handshaking();
}

void Transfer::handle_handshaking() {
  assert(state_ == State::Handshaking);
  const int r = stream_->handshake();
  if (r == -EAGAIN) {
    if (!stream_->want(true, false)) finish(kInternal, "cannot poll the socket");
    return;
  }
  if (r < 0) {
    auto [code, why] = tls_failure(*stream_, r, spec_.url.host);
    return finish(code, why);
  }
  uv_timer_stop(&connect_timer_);
  if (spec_.verbose) std::fprintf(stderr, "* TLS: %s\n", stream_->tls()->description().c_str());
  start_exchange();
}

void Transfer::start_tunnel() {
  const std::string head = connect_head(spec_);
  if (spec_.verbose) print_verbose("> ", std::string_view(head).substr(0, head.size() - 2));
  out_.append(head);
  enter(State::Tunneling);
  flush();
}

void Transfer::handle_tunneling(int events) {
  assert(state_ == State::Tunneling);
  if ((events & UV_WRITABLE) && !flush()) return;
  if ((events & UV_READABLE) == 0) return;
  for (;;) {
    if (!in_.make_room(kBuffer, kBuffer))
      return finish(kProtocol, "the proxy's answer to CONNECT is too large");
    const long n = stream_->read(in_);
    if (n == -EAGAIN) return update_interest();
    if (n <= 0) return finish(kConnect, "the proxy closed the connection before answering CONNECT");
    const http::ResponseParser::Result r = parser_.parse(in_.view(), http::Method::Connect);
    if (r == http::ResponseParser::Result::Incomplete) continue;
    if (r == http::ResponseParser::Result::Error)
      return finish(kProtocol, std::string("invalid answer from the proxy: ") +
                                   std::string(http::error_message(parser_.error())));
    const http::ResponseHead& h = parser_.head();
    if (spec_.verbose) print_verbose("< ", in_.view().substr(0, h.head_size - 2));
    const int status = h.status;
    const std::string reason(h.reason);
    in_.consume(h.head_size);
    parser_.reset();
    if (r == http::ResponseParser::Result::Interim) continue;
    if (status < 200 || status >= 300)
      return finish(status >= 500 ? kHttp5xx : kHttp4xx,
                    "the proxy answered CONNECT " + spec_.url.host + ":" +
                        std::to_string(spec_.url.port) + " with " + std::to_string(status) + " " +
                        reason);
    // The tunnel is open: TLS with the origin, verified as without a proxy.
    stream_->start_tls(*spec_.tls, spec_.url.host);
    enter(State::Handshaking);
    return handle_handshaking();
  }
}

void Transfer::start_exchange() {
  const net::TlsStream* tls = stream_->tls();
  const bool h2 = tls != nullptr ? tls->alpn() == "h2" : spec_.h2_prior_knowledge;
  if (spec_.verbose && tls != nullptr) {
    const std::string_view alpn = tls->alpn();
    std::fprintf(stderr, "* ALPN: %.*s\n", static_cast<int>(alpn.size()),
                 alpn.empty() ? "none" : alpn.data());
  }
  if (!h2) return start_request();
  handler_.on_http2();
  h2_ = std::make_unique<H2Exchange>(spec_, handler_, result_, *stream_, in_, out_);
  enter(State::Http2);
  H2Exchange::Outcome o = h2_->start();
  after_h2(o.done, o.exit_code, std::move(o.error));
}

void Transfer::handle_http2(int events) {
  assert(state_ == State::Http2);
  H2Exchange::Outcome o = h2_->step(events);
  after_h2(o.done, o.exit_code, std::move(o.error));
}

void Transfer::after_h2(bool done, int exit_code, std::string error) {
  if (done) return finish(exit_code, std::move(error));
  if (!stream_->want(true, h2_->wants_write())) finish(kInternal, "cannot poll the socket");
}

// ---- sending

void Transfer::start_request() {
  const std::string head = request_head(spec_);
  if (spec_.verbose) print_verbose("> ", std::string_view(head).substr(0, head.size() - 2));
  out_.append(head);
  body_starts_ = out_.sent() + head.size();
  result_.request_sent = true;
  if (spec_.expect_continue)
    enter(State::AwaitingContinue);
  else
    send_body();
  flush();
}

void Transfer::send_body() {
  switch (spec_.body) {
    case RequestSpec::Body::None:
      break;
    case RequestSpec::Body::Bytes:
      out_.append(spec_.bytes);
      break;
    case RequestSpec::Body::File:
      // Zero-copy: sendfile(2) from the file to the socket, the caller keeps the fd.
      out_.add_file(spec_.file_fd, spec_.file_offset, spec_.file_size, /*owns_fd=*/false);
      break;
    case RequestSpec::Body::Stream:
      if (!stdin_.start(loop_, spec_.stream_fd, this, &Transfer::on_stdin))
        return finish(kLocalFile, "cannot read the standard input");
      break;
    case RequestSpec::Body::Parts:
      queue_parts(out_, spec_.parts, 0, parts_length(spec_.parts));
      break;
  }
  enter(State::Sending);
}

void Transfer::on_stdin(uv_poll_t* handle, int, int) {
  auto* self = static_cast<Transfer*>(handle->data);
  if (self->state_ == State::Sending) self->pump_stdin();
}

void Transfer::pump_stdin() {
  switch (stdin_.pump(out_)) {
    case StdinBody::Pump::Chunk:
      flush();
      return;
    case StdinBody::Pump::Wait:
      return;
    case StdinBody::Pump::Failed:
      return finish(kLocalFile, stdin_.error());
  }
}

std::uint64_t Transfer::rate_wait_ms() {
  if (spec_.limit_rate == 0) return 0;
  const std::uint64_t now = uv_now(loop_);
  if (!rate_started_) {
    rate_started_ = true;
    rate_start_ms_ = now;
  }
  // When the bytes read so far are due at the rate, from the first read on.
  const std::uint64_t due = received_ * 1000 / spec_.limit_rate;
  const std::uint64_t elapsed = now - rate_start_ms_;
  return due > elapsed ? due - elapsed : 0;
}

std::uint64_t Transfer::send_allowance(std::uint64_t& wait_ms) {
  wait_ms = 0;
  const std::uint64_t sent = out_.sent();
  if (spec_.limit_rate == 0 || state_ != State::Sending || body_starts_ == UINT64_MAX)
    return net::kRoundBudget;
  if (sent < body_starts_) return body_starts_ - sent;  // the head first, unlimited
  const std::uint64_t now = uv_now(loop_);
  if (!send_started_) {
    send_started_ = true;
    send_start_ms_ = now;
  }
  // What is due by now, from the first body byte on, and a first piece of 64 KiB.
  constexpr std::uint64_t kBurst = 64 << 10;
  const std::uint64_t body = sent - body_starts_;
  const std::uint64_t due = (now - send_start_ms_) * spec_.limit_rate / 1000 + kBurst;
  if (due > body) return due - body;
  wait_ms = std::max<std::uint64_t>(1, (body - due + 1) * 1000 / spec_.limit_rate);
  return 0;
}

void Transfer::on_send_timer(uv_timer_t* t) {
  auto* self = static_cast<Transfer*>(t->data);
  self->send_paused_ = false;
  if (self->state_ == State::Sending) self->flush();
}

void Transfer::on_rate_timer(uv_timer_t* t) {
  auto* self = static_cast<Transfer*>(t->data);
  self->rate_paused_ = false;
  if (self->state_ != State::AwaitingHead && self->state_ != State::ReceivingBody) return;
  self->update_interest();
  self->receive();
}

void Transfer::on_continue_timer(uv_timer_t* t) {
  auto* self = static_cast<Transfer*>(t->data);
  if (self->state_ != State::AwaitingContinue) return;
  // No answer within a second: the server may not know 100-continue. Send the body.
  self->send_body();
  self->flush();
}

bool Transfer::flush() {
  if (state_ == State::Done) return false;
  if (send_paused_) return true;  // --limit-rate: send_timer_ resumes it
  std::uint64_t wait_ms = 0;
  const std::uint64_t budget = send_allowance(wait_ms);
  if (budget == 0) {
    send_paused_ = true;
    uv_timer_start(&send_timer_, &Transfer::on_send_timer, wait_ms, 0);
    update_interest();
    return true;
  }
  std::size_t completed = 0;
  const net::OutputQueue::Flush r = stream_->flush(out_, completed, budget);
  if (r == net::OutputQueue::Flush::Error) {
    const int err = out_.error();
    if (state_ == State::Tunneling) {
      finish(kConnect, "cannot send CONNECT to the proxy: " + stream_->describe(err));
      return false;
    }
    if (err != EPIPE && err != ECONNRESET) {
      finish(kPartial, "send failed: " + stream_->describe(err));
      return false;
    }
    // The server may have answered and closed early (an error before the whole body): read
    // what it said before calling it a failure.
    out_.clear();
    stdin_.stop();
    if (state_ != State::ReceivingBody) enter(State::AwaitingHead);
    receive();
    return false;
  }
  if (out_.sent() > body_starts_) handler_.on_body_sent(out_.sent() - body_starts_);
  if (r == net::OutputQueue::Flush::Done && state_ == State::Sending) {
    if (spec_.body != RequestSpec::Body::Stream || stdin_.ended())
      enter(State::AwaitingHead);
    else
      stdin_.resume();  // the socket took what was read: read on
  }
  update_interest();
  return true;
}

void Transfer::update_interest() {
  if (state_ == State::Done) return;
  // Reading all along: a server may answer (an error, 100 Continue) before the body is sent;
  // not while --limit-rate holds reading back (rate_timer_ starts it again).
  if (!stream_->want(!rate_paused_, !out_.empty() && !send_paused_))
    finish(kInternal, "cannot poll the socket");
}

void Transfer::handle_sending(int events) {
  assert(state_ == State::AwaitingContinue || state_ == State::Sending);
  if ((events & UV_WRITABLE) && !flush()) return;
  if (state_ != State::Done && (events & UV_READABLE)) receive();
}

// ---- receiving

void Transfer::handle_receiving(int events) {
  assert(state_ == State::AwaitingHead || state_ == State::ReceivingBody);
  if (events & UV_WRITABLE) flush();  // TLS records of its own (a key update, an alert)
  if (state_ != State::Done && (events & UV_READABLE)) receive();
}

void Transfer::receive() {
  if (rate_paused_) return;
  if (spec_.limit_rate == 0 && state_ == State::ReceivingBody && !stream_->tls() && in_.empty() &&
      body_.raw_data_available() >= net::kSpliceMinimum && handler_.splice_fd() >= 0 &&
      splice_body())
    return;
  for (int round = 0; state_ != State::Done; ++round) {
    if (round == 16) {
      // Let timers and the progress bar run; the stream posts itself to the ready list when
      // TLS holds records the socket will not announce.
      return update_interest();
    }
    if (const std::uint64_t wait = rate_wait_ms(); wait > 0) {  // --limit-rate: later
      rate_paused_ = true;
      uv_timer_start(&rate_timer_, &Transfer::on_rate_timer, wait, 0);
      return update_interest();
    }
    if (!in_.make_room(kBuffer, kBuffer))
      return finish(kProtocol, "the response head is too large");
    const long n = stream_->read(in_);
    if (n == -EAGAIN) return;
    if (n > 0) received_ += static_cast<std::uint64_t>(n);
    if (n < 0) {
      if (n == -ECONNRESET && state_ == State::ReceivingBody &&
          framing_ == http::ResponseFraming::Close)
        return finish(kPartial, "connection reset before the end of the body");
      return finish(kPartial, "receive failed: " + stream_->describe(static_cast<int>(n)));
    }
    if (n == 0) return (void)end_of_stream();
    if (!process_input()) return;
    // Plain: a short read means the socket is drained for now. Under TLS the stream reads
    // records until the buffer is full or the socket is drained: read on.
    if (!stream_->tls() && static_cast<std::size_t>(n) < kBuffer / 2) return;
  }
}

bool Transfer::end_of_stream() {
  // Complete for a read-until-close body, else too early. Under TLS only a close_notify
  // ends such a body: a bare close may be a truncation.
  const bool until_close = framing_ == http::ResponseFraming::Close;
  if (state_ != State::ReceivingBody) {
    const bool partial_head = !in_.empty();
    finish(partial_head ? kProtocol : kPartial,
           partial_head ? "the connection closed in the middle of the response head"
                        : "the server closed the connection without answering");
  } else if (until_close && stream_->tls() && !stream_->tls()->clean_close()) {
    finish(kPartial, "the connection closed without a TLS close_notify after " +
                         std::to_string(body_.body_bytes()) +
                         " body bytes: the body may be truncated");
  } else if (until_close) {
    finish(0, {});
  } else {
    finish(kPartial, "the connection closed after " + std::to_string(body_.body_bytes()) +
                         (body_.chunked_framing()
                              ? " body bytes (chunked body unfinished)"
                              : " of " + std::to_string(body_.body_bytes() + body_.remaining()) +
                                    " body bytes"));
  }
  return false;
}

bool Transfer::process_input() {
  while (state_ != State::Done && state_ != State::ReceivingBody) {
    const http::ResponseParser::Result r =
        parser_.parse(in_.view(), http::method_from_token(spec_.method));
    if (r == http::ResponseParser::Result::Incomplete) return true;
    if (r == http::ResponseParser::Result::Error) {
      finish(kProtocol,
             std::string("invalid response: ") + std::string(http::error_message(parser_.error())));
      return false;
    }
    if (!take_head(parser_.head(), r)) return false;
  }
  return state_ == State::ReceivingBody && take_body();
}

bool Transfer::take_head(const http::ResponseHead& h, http::ResponseParser::Result r) {
  if (spec_.verbose) print_verbose("< ", in_.view().substr(0, h.head_size - 2));
  if (r == http::ResponseParser::Result::Interim) {
    handler_.on_interim(h);
    const bool go_ahead = h.status == 100 && state_ == State::AwaitingContinue;
    in_.consume(h.head_size);
    parser_.reset();
    if (!go_ahead) return true;
    uv_timer_stop(&continue_timer_);
    send_body();
    return flush();
  }
  // The final answer. If it came before the body went out (a refusal after Expect, or an
  // early error), the rest of the body is not sent.
  uv_timer_stop(&continue_timer_);
  if (state_ == State::AwaitingContinue || state_ == State::Sending) {
    out_.clear();
    stdin_.stop();
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
  framing_ = h.framing;
  keep_alive_ = h.keep_alive;
  switch (h.framing) {
    case http::ResponseFraming::Length:
      body_ = http::BodyDecoder::length(h.content_length);
      break;
    case http::ResponseFraming::Chunked:
      body_ = http::BodyDecoder::chunked();
      break;
    case http::ResponseFraming::Close:
      body_ = http::BodyDecoder::length(UINT64_MAX);
      break;
    case http::ResponseFraming::None:
    case http::ResponseFraming::Tunnel:
    case http::ResponseFraming::Upgrade:
      body_ = http::BodyDecoder::none();
      break;
  }
  in_.consume(h.head_size);  // the head's views end here
  enter(State::ReceivingBody);
  if (!body_.done()) return true;
  finish(0, {});
  return false;
}

bool Transfer::take_body() {
  while (!in_.empty() && !body_.done() && !body_.failed()) {
    const http::BodyDecoder::Step s = body_.decode(in_.view());
    in_.consume(s.consumed);
    if (!s.data.empty()) {
      result_.body_bytes += s.data.size();
      if (int code = handler_.on_body(s.data); code != 0) {
        finish(code, {});
        return false;
      }
    }
    if (s.consumed == 0) break;
  }
  if (body_.failed()) {
    finish(kPartial,
           std::string("broken body: ") + std::string(http::error_message(body_.error())));
    return false;
  }
  if (!body_.done()) return true;
  finish(0, {});
  return false;
}

bool Transfer::splice_body() {
  // Body bytes socket -> pipe -> file without passing through user space.
  FileSplice file(handler_.splice_fd());
  const net::SpliceResult r = stream_->splice_to(pipe_, file, body_.raw_data_available());
  body_.skip_raw_data(r.moved);
  result_.body_bytes += r.moved;
  if (r.moved > 0) handler_.on_spliced(r.moved);
  switch (r.end) {
    case net::SpliceResult::End::NoPipe:
      return false;  // no pipe to be had: read the ordinary way
    case net::SpliceResult::End::Eof:
      if (framing_ == http::ResponseFraming::Close)
        finish(0, {});
      else
        finish(kPartial, "the connection closed after " + std::to_string(body_.body_bytes()) +
                             " of " + std::to_string(body_.body_bytes() + body_.remaining()) +
                             " body bytes");
      break;
    case net::SpliceResult::End::ReadFailed:
      finish(kPartial, "receive failed: " + net::errno_text(r.error));
      break;
    case net::SpliceResult::End::WriteFailed:
      finish(kLocalFile, "cannot write the output: " + net::errno_text(r.error));
      break;
    case net::SpliceResult::End::Drained:
    case net::SpliceResult::End::Budget:
      if (body_.done()) finish(0, {});
      break;
  }
  return true;
}

// ---- the end

void Transfer::enter(State s) {
  state_ = s;
  switch (s) {
    case State::Resolving:
    case State::Connecting:
    case State::Tunneling:
    case State::Handshaking:
    case State::Sending:
      break;  // their interest is set where they begin to wait
    case State::AwaitingContinue:
      uv_timer_start(&continue_timer_, &Transfer::on_continue_timer, kContinueWaitMs, 0);
      break;
    case State::AwaitingHead:
    case State::ReceivingBody:
      update_interest();
      break;
    case State::Http2:
      break;  // the exchange says what it waits for (after_h2)
    case State::Done:
      out_.clear();
      uv_close(reinterpret_cast<uv_handle_t*>(&connect_timer_), &Transfer::on_closed);
      uv_close(reinterpret_cast<uv_handle_t*>(&continue_timer_), &Transfer::on_closed);
      uv_close(reinterpret_cast<uv_handle_t*>(&rate_timer_), &Transfer::on_closed);
      uv_close(reinterpret_cast<uv_handle_t*>(&send_timer_), &Transfer::on_closed);
      ready_.close(&Transfer::on_closed, this);
      if (stdin_.close(&Transfer::on_closed)) ++open_handles_;
      drop_stream();
      break;
  }
}

void Transfer::cancel(int exit_code, std::string why) {
  if (state_ != State::Done) finish(exit_code, std::move(why));
}

void Transfer::finish(int exit_code, std::string error) {
  if (state_ == State::Done) return;
  if (exit_code != 0 && retry_fresh(exit_code)) return;
  if (exit_code == 0 && reusable()) {
    // The connection goes back to the pool instead of closing (its streams_ entry moves).
    for (auto& s : streams_)
      if (s.get() == stream_) spec_.pool->put(ConnectionPool::key_for(spec_), std::move(s));
    stream_ = nullptr;
  }
  // A resolution still in flight: its callback will come (with UV_ECANCELED if the cancel
  // was in time, with the answer otherwise) and is waited for like a handle's close.
  if (state_ == State::Resolving) {
    ++open_handles_;
    uv_cancel(reinterpret_cast<uv_req_t*>(&resolve_));
  }
  result_.exit_code = exit_code;
  result_.error = std::move(error);
  enter(State::Done);
}

void Transfer::maybe_free() {
  if (open_handles_ > 0) return;
  Handler& handler = handler_;
  TransferResult result = std::move(result_);
  delete this;
  handler.on_finished(std::move(result));
}

}  // namespace httpfs::client
