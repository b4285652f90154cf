#include "httpfs/server/connection.hpp"

#include <spdlog/spdlog.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>

#include "httpfs/http/method.hpp"
#include "httpfs/http/parse_error.hpp"
#include "httpfs/http/status.hpp"
#include "httpfs/http/target.hpp"
#include "httpfs/net/errors.hpp"
#include "httpfs/server/exchange.hpp"
#include "httpfs/server/file_handler.hpp"
#include "httpfs/server/reply.hpp"
#include "httpfs/server/server.hpp"

// Debug lines format the peer's address: only when debug logging is on.
#define HTTPFS_DEBUG(...)                                                     \
  do {                                                                        \
    if (spdlog::should_log(spdlog::level::debug)) spdlog::debug(__VA_ARGS__); \
  } while (0)

namespace httpfs::server {

namespace {

// Bytes one flush may send before other connections get their turn.
constexpr std::uint64_t kFlushBudget = 8ull << 20;
// Queued output beyond which no more pipelined requests are answered until it drains.
constexpr std::size_t kMaxQueuedMemory = 256 * 1024;
// A request body nobody asked for (a GET with content, an error answer) is read and dropped
// up to this size; a bigger one ends the connection instead.
constexpr std::uint64_t kMaxDiscard = 64 * 1024;
// After the last response, leftovers are read and dropped up to this much.
constexpr std::size_t kMaxLinger = 1 << 20;

constexpr std::string_view kAllowRead = "GET, HEAD, OPTIONS";

// The first line of what a client sent, for the log of a request that did not parse.
std::string_view first_line(std::string_view in) {
  std::size_t end = in.find_first_of("\r\n");
  return in.substr(0, std::min<std::size_t>(end == std::string_view::npos ? in.size() : end, 256));
}

}  // namespace

Connection* Connection::create(Server& server, int fd, const net::SocketAddress& peer) {
  auto* c = new Connection(server, peer);
  c->sock_.init(server.loop(), fd, c, &Connection::on_poll);
  c->timeout_node.owner = c;
  HTTPFS_DEBUG("{}: connected", peer.host());
  // A new connection that says nothing is on the header clock, not the keep-alive one.
  server.header_timeouts.arm(c->timeout_node, server.now());
  // The request has usually arrived by the time the connection is accepted: answer it now,
  // and only set up polling if there is something to wait for.
  c->handle_idle(0);
  return c;
}

Connection::~Connection() = default;

Connection* Connection::from_timeout_node(TimeoutNode* n) noexcept {
  return static_cast<Connection*>(n->owner);
}

void Connection::on_poll(uv_poll_t* handle, int status, int events) {
  auto* c = static_cast<Connection*>(handle->data);
  if (status < 0) {
    c->close_now();
    return;
  }
  switch (c->state_) {
    case State::Idle:
      c->handle_idle(events);
      break;
    case State::ReadingHead:
      c->handle_reading_head(events);
      break;
    case State::ReadingBody:
      c->handle_reading_body(events);
      break;
    case State::Writing:
      c->handle_writing(events);
      break;
    case State::Lingering:
      c->handle_lingering(events);
      break;
    case State::Closing:
      break;
  }
}

void Connection::on_close(uv_handle_t* handle) {
  auto* c = static_cast<Connection*>(handle->data);
  Server& server = c->server_;
  delete c;
  server.on_connection_closed();
}

// ---- states

void Connection::handle_idle(int) {
  if (ex_ == nullptr) ex_ = server_.acquire_exchange();
  if (!read_input()) return;
  if (!ex_->has_input()) {
    // Nothing yet (or only the end of the stream, handled by read_input).
    if (close_after_) {
      finish_connection();
      return;
    }
    release_exchange();
    if (!sock_.want(true, false)) close_now();
    return;
  }
  // A request has begun: its head is on the clock from now. What to wait for next (if
  // anything) is for pump() to say; a request answered at once never needs polling.
  state_ = State::ReadingHead;
  if (timeout_node.list != &server_.header_timeouts)
    server_.header_timeouts.arm(timeout_node, server_.now());
  pump();
}

void Connection::handle_reading_head(int) {
  if (!read_input()) return;
  pump();
}

void Connection::handle_reading_body(int) {
  if (!read_input()) return;
  server_.body_timeouts.arm(timeout_node, server_.now());  // progress
  pump();
}

void Connection::handle_writing(int) {
  pump();
}

void Connection::handle_lingering(int) {
  char scratch[16 * 1024];
  for (int i = 0; i < 4; ++i) {
    ssize_t n = ::recv(sock_.fd(), scratch, sizeof scratch, MSG_DONTWAIT);
    if (n > 0) {
      linger_bytes_ += static_cast<std::size_t>(n);
      if (linger_bytes_ > kMaxLinger) break;
      continue;
    }
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) return;
    break;  // EOF or error: the peer is done
  }
  close_now();
}

// ---- the pipeline

void Connection::pump() {
  const std::size_t max_pipelined = server_.options().max_pipelined;
  while (state_ != State::Closing) {
    // 1. Answer what is buffered, a batch at a time, so that pipelined responses leave in
    //    one send. Stop at a file body: it goes out before more is queued behind it.
    Step step = Step::NeedInput;
    while (!close_after_ && ex_->out.queued_responses() < max_pipelined &&
           ex_->out.memory_bytes() < kMaxQueuedMemory && !ex_->out.has_file_piece()) {
      step = answer_next();
      if (step != Step::Answered) break;
    }
    if (closing()) return;

    // 2. Send.
    if (!ex_->out.empty()) {
      std::size_t completed = 0;
      OutputQueue::Flush r = ex_->out.flush(sock_.fd(), kFlushBudget, completed);
      log_completed(completed);
      if (r == OutputQueue::Flush::Error) {
        HTTPFS_DEBUG("{}: send failed: {}", peer_.host(), net::errno_text(ex_->out.error()));
        close_now();
        return;
      }
      if (r != OutputQueue::Flush::Done) {
        // Each wake-up here means the peer read something: the send clock starts again. A
        // peer that stops reading lets it run out.
        enter(State::Writing);
        return;
      }
    }

    // 3. Everything queued is sent.
    if (close_after_) {
      finish_connection();
      return;
    }
    if (step == Step::Answered) continue;  // stopped by a batch limit: answer the rest
    if (step == Step::Stop) return;
    if (ex_->body_pending) {
      enter(State::ReadingBody);
      return;
    }
    if (!ex_->has_input()) {
      enter(State::Idle);
      return;
    }
    enter(State::ReadingHead);  // part of the next head is here; wait for the rest
    return;
  }
}

Connection::Step Connection::answer_next() {
  if (ex_->body_pending) {
    if (!feed_body()) return closing() ? Step::Stop : Step::NeedInput;
  }
  if (!ex_->has_input()) return Step::NeedInput;
  switch (ex_->parser.parse(ex_->input())) {
    case http::RequestParser::Result::Incomplete:
      if (ex_->end == ex_->cap && !ex_->make_room()) {
        // Cannot happen with max_buffer > max_head: the parser fails first. Be safe anyway.
        answer_parse_error();
        return Step::Stop;
      }
      return Step::NeedInput;
    case http::RequestParser::Result::Error:
      answer_parse_error();
      return Step::Answered;
    case http::RequestParser::Result::Complete:
      break;
  }
  const http::RequestHead& head = ex_->parser.head();
  const std::size_t head_size = head.head_size;
  ++requests_;
  dispatch(head);
  // The head's views point into the buffer: nothing past this line may use them.
  ex_->consume(head_size);
  ex_->parser.reset();
  if (ex_->body_pending && !feed_body()) return closing() ? Step::Stop : Step::NeedInput;
  return Step::Answered;
}

void Connection::dispatch(const http::RequestHead& h) {
  ReplyContext ctx;
  ctx.date = server_.http_date();
  ctx.head_only = h.method == http::Method::Head;
  ctx.http10 = h.version_minor == 0;
  ctx.keep_alive = h.keep_alive && !server_.shutting_down();
  Reply reply(ex_->out, ctx);

  // A body this server does not want is dropped, if small; a large one, or one the client
  // is waiting for permission to send (Expect: 100-continue), ends the connection instead.
  if (h.framing != http::BodyFraming::None) {
    const bool small = h.framing == http::BodyFraming::Chunked || h.content_length <= kMaxDiscard;
    if (h.expect_continue || !small) {
      reply.close_connection();
      lingering_needed_ = true;  // the unread body may still be on its way
    } else {
      ex_->body = h.framing == http::BodyFraming::Chunked
                      ? http::BodyDecoder::chunked()
                      : http::BodyDecoder::length(h.content_length);
      ex_->body_pending = true;
      ex_->body_limit = kMaxDiscard;
    }
  }

  if (h.method == http::Method::Connect) {
    reply.close_connection();  // what follows would be tunnel data
    reply_error(reply, http::status::kNotImplemented, "This server does not open tunnels.");
  } else if (h.method == http::Method::Unknown) {
    reply_error(reply, http::status::kNotImplemented, "This method is not known to the server.");
  } else if (h.expect_other) {
    reply_error(reply, http::status::kExpectationFailed, "Only 100-continue can be expected.");
  } else {
    http::RequestPath path;
    if (std::string_view why = http::normalize_target(h.target, h.form, path); !why.empty()) {
      HTTPFS_DEBUG("{}: bad target: {}", peer_.host(), why);
      reply_error(reply, http::status::kBadRequest, why);
    } else {
      switch (h.method) {
        case http::Method::Get:
        case http::Method::Head:
          serve_get(
              FileContext{server_.docroot(), server_.options(), server_.cache(), server_.now()}, h,
              path, reply);
          break;
        case http::Method::Options:
          reply.begin(http::status::kNoContent);
          reply.header("Allow", kAllowRead);
          reply.end_head(0);
          reply.finish();
          break;
        default:
          reply_error(reply, http::status::kMethodNotAllowed, "This method is not served here.",
                      "Allow", kAllowRead);
          break;
      }
    }
  }
  if (!reply.keep_alive()) {
    close_after_ = true;
    ex_->body_pending = false;  // not worth reading: the connection ends after the answer
  }
  if (server_.access_log().enabled()) {
    std::string line;
    line.reserve(h.method_token.size() + h.target.size() + 10);
    line.append(h.method_token)
        .append(" ")
        .append(h.target)
        .append(h.version_minor ? " HTTP/1.1" : " HTTP/1.0");
    ex_->logs.push_back(LogRecord{
        std::move(line), {}, reply.status(), reply.head_only() ? 0 : reply.content_length()});
  }
}

void Connection::answer_parse_error() {
  const http::ParseError e = ex_->parser.error();
  const int status = http::error_status(e) != 0 ? http::error_status(e) : 400;
  HTTPFS_DEBUG("{}: malformed request ({}): {}", peer_.host(), http::error_name(e),
               http::error_message(e));
  ReplyContext ctx;
  ctx.date = server_.http_date();
  ctx.keep_alive = false;  // framing is in doubt: nothing after this is read as a request
  Reply reply(ex_->out, ctx);
  reply_error(reply, status, http::error_message(e));
  if (server_.access_log().enabled())
    ex_->logs.push_back(LogRecord{
        std::string(first_line(ex_->input())), {}, reply.status(), reply.content_length()});
  close_after_ = true;
  // Leave the unparsed bytes unconsumed: finish_connection() sees them and lingers.
  lingering_needed_ = true;
}

bool Connection::feed_body() {
  // Drops body bytes from the buffer. True when the body is complete.
  while (ex_->has_input() && !ex_->body.done() && !ex_->body.failed()) {
    http::BodyDecoder::Step s = ex_->body.decode(ex_->input());
    ex_->consume(s.consumed);
    if (s.consumed == 0) break;
  }
  if (ex_->body.failed() || ex_->body.body_bytes() > ex_->body_limit) {
    // Broken framing or too much to drop: nothing more on this connection can be trusted.
    ex_->body_pending = false;
    close_after_ = true;
    lingering_needed_ = true;
    return true;
  }
  if (!ex_->body.done()) return false;
  ex_->body_pending = false;
  return true;
}

// ---- input

bool Connection::read_input() {
  if (!ex_->make_room()) return true;  // full: the parser or body code drains it first
  ssize_t n = ::read(sock_.fd(), ex_->buf.get() + ex_->end, ex_->cap - ex_->end);
  if (n > 0) {
    ex_->end += static_cast<std::size_t>(n);
    return true;
  }
  if (n == 0) {
    // The peer closed (or half-closed) its side. Answer what it sent completely, then close;
    // a partial request is dropped.
    eof_ = true;
    close_after_ = true;
    sock_.want(false, sock_.wants_write());
    if (!ex_->has_input() && ex_->out.empty()) {
      close_now();
      return false;
    }
    return true;
  }
  if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) return true;
  HTTPFS_DEBUG("{}: read failed: {}", peer_.host(), net::errno_text(errno));
  close_now();
  return false;
}

// ---- output and endings

void Connection::log_completed(std::size_t n) {
  AccessLog& log = server_.access_log();
  for (std::size_t i = 0; i < n && !ex_->logs.empty(); ++i) {
    const LogRecord& r = ex_->logs.front();
    log.log(peer_.host(), r.user, r.request_line, r.status, r.bytes);
    ex_->logs.pop_front();
  }
}

void Connection::enter(State s) {
  const State before = state_;
  state_ = s;
  const std::uint64_t now = server_.now();
  switch (s) {
    case State::Idle:
      release_exchange();
      server_.keepalive_timeouts.arm(timeout_node, now);
      if (eof_ || !sock_.want(true, false)) close_now();
      break;
    case State::ReadingHead:
      // The head deadline runs from the request's first byte (or, for a new connection,
      // from the accept), whatever the trickle rate: it is never pushed back by progress.
      if (before != State::ReadingHead && timeout_node.list != &server_.header_timeouts)
        server_.header_timeouts.arm(timeout_node, now);
      // eof_: a partial request and no more bytes coming.
      if (eof_ || !sock_.want(true, false)) close_now();
      break;
    case State::ReadingBody:
      server_.body_timeouts.arm(timeout_node, now);
      if (eof_ || !sock_.want(true, false)) close_now();
      break;
    case State::Writing:
      server_.send_timeouts.arm(timeout_node, now);
      if (!sock_.want(false, true)) close_now();
      break;
    case State::Lingering:
      server_.linger_timeouts.arm(timeout_node, now);
      if (!sock_.want(true, false)) close_now();
      break;
    case State::Closing:
      break;
  }
}

void Connection::finish_connection() {
  // Closing with unread bytes in the kernel's receive queue makes it send RST, and an RST
  // can destroy the response still on its way to the peer. So when the peer may still be
  // sending (an error cut its request short, or it sent more than was answered), half-close,
  // then read and drop what comes until it closes or the linger clock runs out (THREATS.md
  // row 25). A peer that asked for the close itself is not expected to send more.
  const bool linger = !eof_ && (lingering_needed_ || (ex_ != nullptr && ex_->has_input()));
  release_exchange();
  if (!linger) {
    close_now();
    return;
  }
  ::shutdown(sock_.fd(), SHUT_WR);
  enter(State::Lingering);
}

void Connection::release_exchange() {
  if (ex_ == nullptr) return;
  server_.release_exchange(ex_);
  ex_ = nullptr;
}

void Connection::close_now() {
  if (state_ == State::Closing) return;
  HTTPFS_DEBUG("{}: closed after {} request(s)", peer_.host(), requests_);
  TimeoutList::unlink(timeout_node);
  if (ex_ != nullptr) {
    // Responses queued but never completed still get their log line.
    if (!ex_->logs.empty()) log_completed(ex_->logs.size());
    release_exchange();
  }
  state_ = State::Closing;
  // Without a poll handle there is no close callback: the server frees the connection after
  // this loop iteration, when no member function of it is running any more.
  if (!sock_.close(&Connection::on_close)) server_.retire(this);
}

void Connection::on_timeout() {
  switch (state_) {
    case State::ReadingHead:
      if (ex_ != nullptr && ex_->has_input()) {
        HTTPFS_DEBUG("{}: request head not complete in time", peer_.host());
        ReplyContext ctx;
        ctx.date = server_.http_date();
        ctx.keep_alive = false;
        Reply reply(ex_->out, ctx);
        reply_error(reply, http::status::kRequestTimeout, "The request took too long to arrive.");
        if (server_.access_log().enabled())
          ex_->logs.push_back(
              LogRecord{std::string(first_line(ex_->input())), {}, 408, reply.content_length()});
        close_after_ = true;
        lingering_needed_ = true;
        std::size_t completed = 0;
        ex_->out.flush(sock_.fd(), kFlushBudget, completed);  // best effort
        log_completed(completed);
      }
      close_now();
      return;
    case State::ReadingBody:
      HTTPFS_DEBUG("{}: request body stalled", peer_.host());
      close_now();
      return;
    case State::Writing:
      HTTPFS_DEBUG("{}: peer stopped reading", peer_.host());
      close_now();
      return;
    case State::Idle:
    case State::Lingering:
    case State::Closing:
      close_now();
      return;
  }
}

void Connection::begin_shutdown() {
  switch (state_) {
    case State::Idle:
    case State::ReadingHead:
    case State::Lingering:
      close_now();
      return;
    case State::ReadingBody:
    case State::Writing:
      close_after_ = true;  // finish what is in flight, then close
      return;
    case State::Closing:
      return;
  }
}

}  // namespace httpfs::server
