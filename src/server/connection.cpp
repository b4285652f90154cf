#include "server/connection.hpp"

#include <spdlog/spdlog.h>
#include <sys/socket.h>

#include <cassert>
#include <cerrno>
#include <utility>

#include "http/parse_error.hpp"
#include "http/status.hpp"
#include "net/tls.hpp"
#include "server/debug_log.hpp"
#include "server/http1_encoder.hpp"
#include "server/in_flight.hpp"
#include "server/server.hpp"

namespace httpfs::server {

namespace {

// After the last answer, leftovers are read and dropped up to this much.
constexpr std::size_t kMaxLinger = 1 << 20;

}  // namespace

Connection* Connection::create(Server& server, int fd, const net::SocketAddress& peer) {
  auto* c = new Connection(server, peer);
  c->stream_.init(server.loop(), fd, *c, server.ready_list());
  if (const net::TlsContext* tls = server.tls()) c->stream_.start_tls(*tls, "");
  c->timeout_node.owner = c;
  HTTPFS_DEBUG("{}: connected", peer.host());
  // A new connection that says nothing is on the head clock, not the keep-alive one.
  server.start_clock(c->timeout_node, Timeout::Head);
  // The request has usually arrived by the time the connection is accepted: answer it now,
  // and only set up polling if there is something to wait for.
  c->handle_idle();
  return c;
}

Connection::~Connection() = default;

Connection* Connection::from_timeout_node(TimeoutNode* n) noexcept {
  return static_cast<Connection*>(n->owner);
}

void Connection::end_soon() {
  // Not now: the sink asking is still running. The stream calls back on the next turn.
  if (state_ != State::ReadingBody) return;
  end_requested_ = true;
  stream_.wake();
}

void Connection::on_stream_ready(int events) {
  switch (state_) {
    case State::Idle:
      return handle_idle();
    case State::ReadingHead:
      return handle_reading_head();
    case State::ReadingBody:
      return handle_reading_body();
    case State::Writing:
      return handle_writing();
    case State::Committing:
      return handle_committing(events);
    case State::Finishing:
      return handle_finishing();
    case State::Lingering:
      return handle_lingering();
    case State::Http2:
      return handle_http2(events);
    case State::Closing:
      return;
  }
}

void Connection::on_stream_error(int) {
  close_now();
}

void Connection::on_stream_closed() {
  Server& server = server_;
  delete this;
  server.on_connection_closed();
}

// ---- the states

void Connection::handle_idle() {
  assert(state_ == State::Idle);
  if (in_ == nullptr) in_ = server_.acquire_in_flight();
  switch (read_input()) {
    case Read::Closed:
      return;
    case Read::End:
      return close_now();
    case Read::Nothing:
      // Nothing yet (a TLS handshake in progress, a spurious wake-up): wait, holding nothing.
      release_in_flight();
      if (!stream_.want(true, false)) close_now();
      return;
    case Read::Bytes:
      break;
  }
  // A request has begun: its head is on the clock from now. What to wait for next, if
  // anything, is for advance() to say: a request answered at once never needs polling.
  if (!server_.on_clock(timeout_node, Timeout::Head))
    server_.start_clock(timeout_node, Timeout::Head);
  if (switch_protocol()) return;
  advance();
}

void Connection::handle_reading_head() {
  assert(state_ == State::ReadingHead);
  switch (read_input()) {
    case Read::Closed:
      return;
    case Read::End:  // what is buffered is an incomplete head: nothing to answer
      return close_now();
    case Read::Nothing:
    case Read::Bytes:
      if (switch_protocol()) return;
      return advance();
  }
}

void Connection::handle_reading_body() {
  assert(state_ == State::ReadingBody);
  if (end_requested_) {
    // The sink asked (a newer request took over its upload): nothing more is read.
    end_requested_ = false;
    abandon_body("a newer request took over");
    return close_now();
  }
  if (in_->body.can_splice(stream_, in_->in)) return splice_body();
  read_body();
}

void Connection::read_body() {
  const Read r = read_input();
  switch (r) {
    case Read::Closed:
      return;
    case Read::End:  // the body is incomplete: the upload, if any, is abandoned
      return close_now();
    case Read::Nothing:  // a wake-up without bytes (a TLS record not yet whole) is judged too
    case Read::Bytes:
      if (body_progress(r == Read::Bytes)) advance();
      return;
  }
}

void Connection::handle_writing() {
  assert(state_ == State::Writing);
  advance();
}

void Connection::handle_committing(int events) {
  assert(state_ == State::Committing);
  // Answers queued before the job's request still go out meanwhile.
  if ((events & UV_WRITABLE) && send() == Sent::Done && !stream_.want(false, false)) close_now();
}

void Connection::on_job_done(Job& job) {
  assert(state_ == State::Committing);
  if (proceed(pipeline().answer_job(job))) advance();
}

void Connection::handle_finishing() {
  assert(state_ == State::Finishing);
  switch (send()) {
    case Sent::Failed:
      return;
    case Sent::Blocked:
      return enter(State::Finishing);  // the peer read something: the send clock restarts
    case Sent::Done:
      return end_connection(peer_may_send());
  }
}

void Connection::handle_lingering() {
  assert(state_ == State::Lingering);
  char scratch[16 * 1024];
  for (int i = 0; i < 4; ++i) {
    const ssize_t n = ::recv(stream_.fd(), scratch, sizeof scratch, MSG_DONTWAIT);
    if (n > 0) {
      linger_bytes_ += static_cast<std::uint32_t>(n);
      if (linger_bytes_ > kMaxLinger) break;
      continue;
    }
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) return;
    break;  // EOF or error: the peer is done
  }
  close_now();
}

void Connection::handle_http2(int events) {
  assert(state_ == State::Http2);
  h2_->on_ready(events);
}

bool Connection::switch_protocol() {
  if (requests_ != 0 || !server_.options().http2) return false;
  const net::TlsStream* tls = stream_.tls();
  const Preface p = tls != nullptr ? (tls->alpn() == "h2" ? Preface::Yes : Preface::No)
                                   : h2_preface(in_->in.view());
  if (p == Preface::No) return false;
  if (p == Preface::Maybe) {  // the first bytes of the preface: wait for the rest
    enter(State::ReadingHead);
    return true;
  }
  enter(State::Http2);
  H2Session::Owner& owner = *this;
  h2_ = std::make_unique<H2Session>(server_, stream_, peer_, timeout_node, owner);
  h2_->start(std::exchange(in_, nullptr));
  return true;
}

void Connection::on_session_end(bool linger) {
  end_connection(linger);
}

void Connection::enter(State s) {
  state_ = s;
  bool polled = true;
  switch (s) {
    case State::Idle:
      release_in_flight();
      stream_.release_buffers();
      server_.start_clock(timeout_node, Timeout::KeepAlive);
      polled = stream_.want(true, false);
      break;
    case State::ReadingHead:
      // The head's deadline runs from its first byte (or, for a new connection, from the
      // accept), however it trickles in: progress never pushes it back.
      if (!server_.on_clock(timeout_node, Timeout::Head))
        server_.start_clock(timeout_node, Timeout::Head);
      polled = stream_.want(true, false);
      break;
    case State::ReadingBody:
      // The idle clock runs from the last progress (body_progress), not from each wake-up.
      if (!server_.on_clock(timeout_node, Timeout::Body))
        server_.start_clock(timeout_node, Timeout::Body);
      polled = stream_.want(true, false);
      break;
    case State::Writing:
    case State::Finishing:
      // Each wake-up here means the peer read something: the send clock starts again. A
      // peer that stops reading lets it run out.
      server_.start_clock(timeout_node, Timeout::Send);
      polled = stream_.want(false, true);
      break;
    case State::Committing:
      // Server-side work: no clock runs out on it, and nothing is read meanwhile (the
      // requests behind it wait in the kernel). The Busy clock keeps it known to shutdown.
      server_.start_clock(timeout_node, Timeout::Busy);
      polled = stream_.want(false, !in_->out.empty());
      break;
    case State::Lingering:
      server_.start_clock(timeout_node, Timeout::Linger);
      polled = stream_.want(true, false);
      break;
    case State::Http2:  // the session sets the clock and the poll interest from here on
      break;
    case State::Closing:
      HTTPFS_DEBUG("{}: closed after {} request(s)", peer_.host(), requests_);
      server_.stop_clock(timeout_node);
      if (in_ != nullptr) {
        if (in_->job != nullptr) in_->job->detach();  // it finishes without us
        abandon_body("connection closed");
        // Answers queued but never sent get their log line too.
        in_->log_sent(in_->logs.size(), server_.access_log(), peer_);
        release_in_flight();
      }
      // Without a poll handle there is no close callback: the server frees the connection
      // after this loop iteration, when no member function of it is running any more.
      if (!stream_.close()) server_.retire(this);
      return;
  }
  if (!polled) close_now();
}

// ---- answering

void Connection::advance() {
  while (proceed(pipeline().answer_buffered())) {
  }
}

bool Connection::proceed(Next next) {
  if (closing()) return false;
  const Sent sent = send();
  if (sent == Sent::Failed) return false;
  if (next == Next::Commit) {
    enter(State::Committing);
    return false;
  }
  if (sent == Sent::Blocked) {
    enter(next == Next::End ? State::Finishing : State::Writing);
    return false;
  }
  switch (next) {
    case Next::More:
      return true;
    case Next::Head:
      enter(in_->in.empty() ? State::Idle : State::ReadingHead);
      return false;
    case Next::Body:
      enter(State::ReadingBody);
      return false;
    case Next::End:
      end_connection(peer_may_send());
      return false;
    case Next::Commit:
      break;
  }
  return false;
}

// ---- request bodies

void Connection::splice_body() {
  net::SpliceResult r;
  const BodyReader::Status status = in_->body.splice(stream_, r);
  switch (r.end) {
    case net::SpliceResult::End::NoPipe:  // no pipe to be had: read the ordinary way
      return read_body();
    case net::SpliceResult::End::Eof:  // the client closed mid-body
      return close_now();
    case net::SpliceResult::End::ReadFailed:
      HTTPFS_DEBUG("{}: splice from the socket failed: {}", peer_.host(),
                   stream_.describe(r.error));
      return close_now();
    default:
      break;
  }
  if (status == BodyReader::Status::Incomplete && !body_progress(r.moved > 0)) return;
  if (proceed(pipeline().body_next(status))) advance();
}

bool Connection::body_progress(bool arrived) {
  // Bytes arrived: the idle clock starts over. Either way the minimum rate is judged, so
  // that wake-ups that bring nothing usable (a TLS record trickled) cannot hold it off.
  if (arrived) server_.start_clock(timeout_node, Timeout::Body);
  const ServerOptions& o = server_.options();
  std::string why;
  if (in_->body.progress(server_.now(), o.min_body_rate, o.body_timeout_ms, why)) return true;
  HTTPFS_DEBUG("{}: request body {}", peer_.host(), why);
  abandon_body(why);
  close_now();
  return false;
}

void Connection::abandon_body(const std::string& why) {
  if (std::unique_ptr<BodySink> sink = in_->body.take_sink()) sink->abandon(why);
}

// ---- answers and their log lines

// ---- the stream

Connection::Read Connection::read_input() {
  if (!in_->make_room()) return Read::Bytes;  // full: the parser or the body drains it first
  const long n = stream_.read(in_->in);
  if (n > 0) return Read::Bytes;
  if (n == -EAGAIN) return Read::Nothing;
  if (n == 0) return Read::End;  // the peer closed (or half-closed) its side
  if (stream_.tls() != nullptr && stream_.tls()->plain_http()) {
    refuse_plain_http();
    return Read::Closed;
  }
  HTTPFS_DEBUG("{}: read failed: {}", peer_.host(), stream_.describe(static_cast<int>(n)));
  close_now();
  return Read::Closed;
}

Connection::Sent Connection::send() {
  if (in_->out.empty() && !stream_.output_pending()) return Sent::Done;
  std::size_t completed = 0;
  const net::OutputQueue::Flush r = stream_.flush(in_->out, completed);
  in_->log_sent(completed, server_.access_log(), peer_);
  switch (r) {
    case net::OutputQueue::Flush::Done:
      return Sent::Done;
    case net::OutputQueue::Flush::Blocked:
    case net::OutputQueue::Flush::Yield:
      return Sent::Blocked;
    case net::OutputQueue::Flush::Error:
      break;
  }
  HTTPFS_DEBUG("{}: send failed: {}", peer_.host(), stream_.describe(in_->out.error()));
  close_now();
  return Sent::Failed;
}

void Connection::refuse_plain_http() {
  // A plain request on the HTTPS port: say so in plain text (a browser shows it), as nginx
  // does, rather than drop the connection without a word.
  static constexpr std::string_view kBody = "This port speaks HTTPS: use an https:// URL.\n";
  const std::string answer =
      "HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain; charset=utf-8\r\n"
      "Content-Length: " +
      std::to_string(kBody.size()) + "\r\nConnection: close\r\n\r\n" + std::string(kBody);
  [[maybe_unused]] const ssize_t sent =
      ::send(stream_.fd(), answer.data(), answer.size(), MSG_NOSIGNAL);
  HTTPFS_DEBUG("{}: plain HTTP on the HTTPS port", peer_.host());
  if (server_.access_log().enabled())
    server_.access_log().log(peer_.host(), {},
                             std::string(first_line(stream_.tls()->input().view())), 400,
                             kBody.size());
  end_connection(true);
}

bool Connection::peer_may_send() const noexcept {
  // Unparsed bytes, or a body left unread: the client may be sending still.
  return in_ != nullptr && (!in_->in.empty() || in_->body.unread());
}

void Connection::end_connection(bool linger) {
  // Closing with unread bytes in the kernel's receive queue makes it send RST, and an RST
  // can destroy the answer still on its way to the peer. So when the peer may still be
  // sending, half-close, then read and drop what comes until it closes or the linger clock
  // runs out (RFC 9112 9.6). A peer that asked for the close itself sends no more.
  release_in_flight();
  stream_.end_tls();
  if (!linger) return close_now();
  stream_.shutdown_write();
  enter(State::Lingering);
}

void Connection::release_in_flight() noexcept {
  if (in_ == nullptr) return;
  server_.release_in_flight(in_);
  in_ = nullptr;
}

void Connection::close_now() {
  if (state_ != State::Closing) enter(State::Closing);
}

void Connection::on_timeout() {
  switch (state_) {
    case State::ReadingHead:
      if (in_ != nullptr && !in_->in.empty()) {
        HTTPFS_DEBUG("{}: request head not complete in time", peer_.host());
        pipeline().queue_last_error(
            PendingAnswer{std::string(first_line(in_->in.view())), {}, false, false, false}, false,
            http::status::kRequestTimeout, "The request took too long to arrive.");
        send();  // best effort
      }
      return close_now();
    case State::ReadingBody:
      HTTPFS_DEBUG("{}: request body stalled", peer_.host());
      abandon_body("no data within the body timeout");
      return close_now();
    case State::Committing:
      return server_.start_clock(timeout_node, Timeout::Busy);  // not a client's fault
    case State::Writing:
    case State::Finishing:
      HTTPFS_DEBUG("{}: peer stopped reading", peer_.host());
      return close_now();
    case State::Http2:
      return h2_->on_timeout();
    case State::Idle:
    case State::Lingering:
    case State::Closing:
      return close_now();
  }
}

void Connection::begin_shutdown() {
  switch (state_) {
    case State::Idle:
    case State::ReadingHead:
    case State::Lingering:
      return close_now();
    case State::ReadingBody:  // the answer after the body says Connection: close
    case State::Writing:      // answer_buffered() takes no new request: it ends after this
    case State::Committing:   // the job's answer says Connection: close
    case State::Finishing:
    case State::Closing:
      return;
    case State::Http2:
      return h2_->begin_shutdown();
  }
}

}  // namespace httpfs::server
