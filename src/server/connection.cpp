#include "server/connection.hpp"

#include <spdlog/spdlog.h>
#include <sys/socket.h>

#include <cassert>
#include <cerrno>

#include "http/parse_error.hpp"
#include "http/status.hpp"
#include "net/tls.hpp"
#include "server/debug_log.hpp"
#include "server/http1_encoder.hpp"
#include "server/in_flight.hpp"
#include "server/server.hpp"

namespace httpfs::server {

namespace {

// Queued output beyond which no more pipelined requests are answered until it drains.
constexpr std::size_t kMaxQueuedMemory = 256 * 1024;
// After the last answer, leftovers are read and dropped up to this much.
constexpr std::size_t kMaxLinger = 1 << 20;

// The first line of what a client sent, for the log of a request that did not parse.
std::string_view first_line(std::string_view in) {
  std::size_t end = in.find_first_of("\r\n");
  return in.substr(0, std::min<std::size_t>(end == std::string_view::npos ? in.size() : end, 256));
}

std::string request_line(const http::RequestHead& h) {
  std::string line;
  line.reserve(h.method_token.size() + h.target.size() + 10);
  line.append(h.method_token)
      .append(" ")
      .append(h.target)
      .append(h.version_minor ? " HTTP/1.1" : " HTTP/1.0");
  return line;
}

http::BodyDecoder decoder_for(const http::RequestHead& h) {
  switch (h.framing) {
    case http::BodyFraming::Length:
      return http::BodyDecoder::length(h.content_length);
    case http::BodyFraming::Chunked:
      return http::BodyDecoder::chunked();
    case http::BodyFraming::None:
      break;
  }
  return http::BodyDecoder::none();
}

// Lets Stream::splice_to() hand spliced bytes to a body sink.
struct SinkSplice final : net::SpliceSink {
  explicit SinkSplice(BodySink& s) : sink(s) {}
  long splice_out(int pipe_fd, std::size_t n) override { return sink.splice_from(pipe_fd, n); }
  BodySink& sink;
};

}  // namespace

UnreadBody unread_body(const http::RequestHead& h) noexcept {
  if (h.framing == http::BodyFraming::None) return UnreadBody::None;
  // An upload's body is only read when the upload is accepted; a refusal says so and ends
  // the connection rather than reading what may be gigabytes.
  if (h.method == http::Method::Put || h.method == http::Method::Post) return UnreadBody::Close;
  if (h.expect_continue) return UnreadBody::Close;
  if (h.framing == http::BodyFraming::Chunked || h.content_length <= kMaxDiscard)
    return UnreadBody::Drop;
  return UnreadBody::Close;
}

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
      return advance();
  }
}

void Connection::handle_reading_body() {
  assert(state_ == State::ReadingBody);
  InFlight& in = *in_;
  if (in.sink && in.sink->takes_splice() && stream_.tls() == nullptr && in.in.empty() &&
      in.body.raw_data_available() >= net::kSpliceMinimum)
    return splice_body();
  switch (read_input()) {
    case Read::Closed:
      return;
    case Read::End:  // the body is incomplete: the upload, if any, is abandoned
      return close_now();
    case Read::Nothing:
      return advance();
    case Read::Bytes:
      if (body_progress()) advance();
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
  in_->job = nullptr;
  const PendingAnswer& p = in_->pending;
  Http1Encoder encoder(in_->out, {server_.http_date(), p.http10,
                                  p.keep_alive && !server_.shutting_down()});
  Reply reply(encoder, false);
  job.answer(reply);
  log_answer(p.request_line, p.user, reply);
  if (proceed(encoder.keep_alive() ? Next::More : Next::End)) advance();
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
    case State::Closing:
      if (in_ != nullptr && in_->job != nullptr) in_->job->detach();  // it finishes without us
      if (in_ != nullptr && in_->sink) in_->sink->abandon("connection closed");
      HTTPFS_DEBUG("{}: closed after {} request(s)", peer_.host(), requests_);
      server_.stop_clock(timeout_node);
      if (in_ != nullptr) {
        log_completed(in_->logs.size());  // answers queued but never sent get their line too
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
  while (proceed(answer_buffered())) {
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

Connection::Next Connection::answer_buffered() {
  InFlight& in = *in_;
  const std::size_t max_pipelined = server_.options().max_pipelined;
  while (in.out.queued_responses() < max_pipelined && in.out.memory_bytes() < kMaxQueuedMemory &&
         !in.out.has_file_piece()) {
    if (in.sink || !in.body.done()) {  // the body of the request being answered
      if (const Next n = feed_body(); n != Next::More) return n;
      continue;
    }
    if (server_.shutting_down()) return Next::End;  // no new request after the signal
    if (in.in.empty()) return Next::Head;
    switch (in.parser.parse(in.in.view())) {
      case http::RequestParser::Result::Incomplete:
        // The parser fails before the buffer fills (it holds max_head + 1 bytes); be safe.
        if (in.in.full() && !in.make_room()) return answer_parse_error();
        return Next::Head;
      case http::RequestParser::Result::Error:
        return answer_parse_error();
      case http::RequestParser::Result::Complete:
        break;
    }
    if (const Next n = answer(in.parser.head()); n != Next::More) return n;
  }
  return Next::More;
}

Connection::Next Connection::answer(const http::RequestHead& h) {
  InFlight& in = *in_;
  ++requests_;
  const bool persists = h.keep_alive && !server_.shutting_down();
  const UnreadBody unread = unread_body(h);
  Http1Encoder encoder(in.out, {server_.http_date(), h.version_minor == 0,
                                persists && unread != UnreadBody::Close});
  if (h.method == http::Method::Connect) encoder.close_after();  // tunnel data would follow
  Reply reply(encoder, h.method == http::Method::Head);
  Request request{h, {}, {}, peer_, server_.now()};
  Handling handling = server_.router().dispatch(request, reply);

  std::string line = server_.access_log().enabled() ? request_line(h) : std::string();
  PendingAnswer pending{std::string(), std::string(), h.version_minor == 0,
                        h.method == http::Method::Head, persists};
  const bool expect_continue = h.expect_continue && h.version_minor == 1;
  http::BodyDecoder body = decoder_for(h);
  // The head's views point into the buffer: nothing past this line may use them.
  in.in.consume(h.head_size);
  in.parser.reset();
  // A body's minimum-rate window starts with its head.
  in.rate = RateWindow{server_.now(), 0};

  if (handling.job) {
    // A body the handler did not take stays unread: the connection ends after the answer.
    if (unread != UnreadBody::None) {
      pending.keep_alive = false;
      in.body = std::move(body);
    }
    in.pending = std::move(pending);
    in.pending.request_line = std::move(line);
    in.pending.user = std::move(request.user);
    in.job = PendingJob::start(server_.loop(), std::move(handling.job), *this);
    return Next::Commit;
  }
  if (handling.sink) {
    in.pending = std::move(pending);
    in.pending.request_line = std::move(line);
    in.pending.user = std::move(request.user);
    in.sink = std::move(handling.sink);
    in.body = std::move(body);
    in.in.grow_to(InFlight::kBodyBuffer);  // fewer, larger reads for bodies kept
    // RFC 9110 10.1.1: tell a waiting client to go on (HTTP/1.0 clients are not waiting).
    if (expect_continue) in.out.append("HTTP/1.1 100 Continue\r\n\r\n");
    return Next::More;  // answer_buffered() feeds the body, then the sink answers
  }
  log_answer(std::move(line), std::move(request.user), reply);
  if (!encoder.keep_alive()) {
    if (unread != UnreadBody::None) in.body = std::move(body);  // unread: linger for it
    return Next::End;
  }
  if (unread == UnreadBody::Drop) in.body = std::move(body);
  return Next::More;
}

Connection::Next Connection::answer_parse_error() {
  const http::ParseError e = in_->parser.error();
  const int status = http::error_status(e) != 0 ? http::error_status(e) : 400;
  HTTPFS_DEBUG("{}: malformed request ({}): {}", peer_.host(), http::error_name(e),
               http::error_message(e));
  const std::string_view line = first_line(in_->in.view());
  // A client that sent HEAD reads the answer without a body (RFC 9110 9.3.2), even when the
  // rest of its request was unusable. Framing is in doubt: nothing after this is read as a
  // request, and the unparsed bytes stay, so that the connection lingers for them.
  queue_last_error(PendingAnswer{std::string(line), {}, false, false, false},
                   line.starts_with("HEAD "), status, http::error_message(e));
  return Next::End;
}

// ---- request bodies

Connection::Next Connection::feed_body() {
  // Body bytes from the buffer go to the sink, or are dropped.
  InFlight& in = *in_;
  while (!in.in.empty() && !in.body.done() && !in.body.failed()) {
    const http::BodyDecoder::Step step = in.body.decode(in.in.view());
    in.in.consume(step.consumed);
    if (step.consumed == 0) break;
    if (step.data.empty()) continue;
    if (in.sink) {
      if (auto fault = in.sink->write(step.data)) return fail_body(*fault);
    } else if (in.body.body_bytes() > kMaxDiscard) {
      return Next::End;  // too much to drop: the connection ends instead
    }
  }
  if (in.body.failed()) {
    // Broken framing: nothing more on this connection can be trusted.
    if (!in.sink) return Next::End;
    return fail_body(BodyFault{http::status::kBadRequest,
                               "malformed body: " +
                                   std::string(http::error_message(in.body.error())),
                               false});
  }
  if (!in.body.done()) return Next::Body;
  return complete_body();
}

Connection::Next Connection::complete_body() {
  InFlight& in = *in_;
  in.body = http::BodyDecoder::none();
  if (!in.sink) return Next::More;  // a dropped body
  const PendingAnswer& p = in.pending;
  Http1Encoder encoder(in.out, {server_.http_date(), p.http10,
                                p.keep_alive && !server_.shutting_down()});
  Reply reply(encoder, p.head_only);
  BodySink::Finish finish = in.sink->finish(reply);
  if (finish.fault) return fail_body(*finish.fault);
  in.sink.reset();
  if (finish.job) {
    in.job = PendingJob::start(server_.loop(), std::move(finish.job), *this);
    return Next::Commit;
  }
  log_answer(p.request_line, p.user, reply);
  return encoder.keep_alive() ? Next::More : Next::End;
}

Connection::Next Connection::fail_body(const BodyFault& fault) {
  // The rest of the body is not read: this answer is the last.
  queue_last(in_->pending, false, [&](Reply& reply) { in_->sink->fail(fault, reply); });
  in_->sink.reset();
  return Next::End;
}

void Connection::splice_body() {
  // Body bytes move socket -> pipe -> file and never pass through user space.
  InFlight& in = *in_;
  if (!in.pipe) in.pipe = std::make_unique<net::SplicePipe>();
  SinkSplice target(*in.sink);
  const net::SpliceResult r = stream_.splice_to(*in.pipe, target, in.body.raw_data_available());
  in.body.skip_raw_data(r.moved);
  using End = net::SpliceResult::End;
  switch (r.end) {
    case End::NoPipe:  // no pipe to be had: the ordinary path reads the body
      in.pipe.reset();
      if (read_input() == Read::Bytes && body_progress()) advance();
      return;
    case End::Eof:  // the client closed mid-body
      return close_now();
    case End::ReadFailed:
      HTTPFS_DEBUG("{}: splice from the socket failed: {}", peer_.host(), stream_.describe(r.error));
      return close_now();
    case End::WriteFailed:
    case End::Drained:
    case End::Budget:
      break;
  }
  if (auto fault = in.sink->spliced(r.moved, r.end == End::WriteFailed ? r.error : 0)) {
    proceed(fail_body(*fault));
    return;
  }
  if (r.moved > 0 && !body_progress()) return;
  advance();  // the body ended, or chunk framing follows, or more is to come
}

bool Connection::body_progress() {
  // Bytes arrived: the idle clock starts over, and the minimum rate is judged.
  server_.start_clock(timeout_node, Timeout::Body);
  const ServerOptions& o = server_.options();
  const std::uint64_t now = server_.now();
  const std::uint64_t total = in_->body.body_bytes();
  switch (judge_rate(in_->rate, now, total, o.min_body_rate, o.body_timeout_ms)) {
    case RateVerdict::Open:
      return true;
    case RateVerdict::Passed:
      in_->rate = RateWindow{now, total};
      return true;
    case RateVerdict::TooSlow:
      break;
  }
  const std::uint64_t elapsed = now - in_->rate.start_ms;
  const std::uint64_t got = total - in_->rate.bytes;
  HTTPFS_DEBUG("{}: request body slower than {} bytes/s", peer_.host(), o.min_body_rate);
  abandon_body("slower than " + std::to_string(o.min_body_rate) + " bytes/s (" +
               std::to_string(got) + " bytes in " + std::to_string(elapsed / 1000) + " s)");
  close_now();
  return false;
}

void Connection::abandon_body(const std::string& why) {
  if (in_ == nullptr || !in_->sink) return;
  in_->sink->abandon(why);
  in_->sink.reset();
}

// ---- answers and their log lines

void Connection::queue_last(const PendingAnswer& p, bool head_only,
                            const std::function<void(Reply&)>& fill) {
  Http1Encoder encoder(in_->out, {server_.http_date(), p.http10, false});
  Reply reply(encoder, head_only);
  fill(reply);
  log_answer(p.request_line, p.user, reply);
}

void Connection::queue_last_error(const PendingAnswer& p, bool head_only, int status,
                                  std::string_view detail) {
  queue_last(p, head_only, [&](Reply& reply) { reply_error(reply, status, detail); });
}

void Connection::log_answer(std::string line, std::string user, const Reply& reply) {
  if (!server_.access_log().enabled()) return;
  in_->logs.push_back(LogRecord{std::move(line), std::move(user), reply.status(),
                                reply.head_only() ? 0 : reply.content_length()});
}

void Connection::log_completed(std::size_t n) {
  AccessLog& log = server_.access_log();
  for (std::size_t i = 0; i < n && !in_->logs.empty(); ++i) {
    const LogRecord& r = in_->logs.front();
    log.log(peer_.host(), r.user, r.request_line, r.status, r.bytes);
    in_->logs.pop_front();
  }
}

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
  if (in_->out.empty()) return Sent::Done;
  std::size_t completed = 0;
  const net::OutputQueue::Flush r = stream_.flush(in_->out, completed);
  log_completed(completed);
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
  return in_ != nullptr && (!in_->in.empty() || !in_->body.done());
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
        queue_last_error(
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
  }
}

}  // namespace httpfs::server
