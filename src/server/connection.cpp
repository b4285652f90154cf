#include "server/connection.hpp"

#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>

#include "http/method.hpp"
#include "http/parse_error.hpp"
#include "http/percent.hpp"
#include "http/status.hpp"
#include "http/target.hpp"
#include "io/file_etag.hpp"
#include "net/errors.hpp"
#include "server/errno_status.hpp"
#include "net/tls.hpp"
#include "server/auth.hpp"
#include "server/exchange.hpp"
#include "server/file_handler.hpp"
#include "server/reply.hpp"
#include "server/server.hpp"
#include "server/upload_handler.hpp"

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
// splice(2) for uploads: worth it for runs of at least this much, through a pipe this big.
constexpr std::uint64_t kSpliceMinimum = 64 * 1024;
constexpr std::uint64_t kPipeSize = 1 << 20;
// After the last response, leftovers are read and dropped up to this much.
constexpr std::size_t kMaxLinger = 1 << 20;

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
  if (const net::TlsContext* tls = server.tls())
    c->tls_ = std::make_unique<net::TlsStream>(*tls, "");
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
  c->handle_event(events);
}

void Connection::resume_posted() {
  posted_ = false;
  if (!closing() && sock_.wants_read()) handle_event(UV_READABLE);
}

void Connection::handle_event(int events) {
  switch (state_) {
    case State::Idle:
      handle_idle(events);
      break;
    case State::ReadingHead:
      handle_reading_head(events);
      break;
    case State::ReadingBody:
      handle_reading_body(events);
      break;
    case State::Writing:
      handle_writing(events);
      break;
    case State::Lingering:
      handle_lingering(events);
      break;
    case State::Committing:  // nothing is polled while committing
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
    if (!want(true, false)) close_now();
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
  if (ex_->upload && splice_body()) return;
  if (!read_input()) return;
  if (!body_progress()) return;
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
      net::OutputQueue::Flush r = send_queued(completed);
      log_completed(completed);
      if (r == net::OutputQueue::Flush::Error) {
        HTTPFS_DEBUG("{}: send failed: {}", peer_.host(),
                     tls_ && !tls_->error_text().empty() ? tls_->error_text()
                                                         : net::errno_text(ex_->out.error()));
        close_now();
        return;
      }
      if (r != net::OutputQueue::Flush::Done) {
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
    if (step == Step::Busy) {
      enter(State::Committing);
      return;
    }
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
  if (commit_ != nullptr) return Step::Busy;  // answers wait for the upload in front of them
  if (ex_->body_pending) {
    if (!feed_body()) return closing() ? Step::Stop : Step::NeedInput;
  }
  if (close_after_) return Step::Answered;  // a failed body: its answer is queued
  if (ex_->upload) {
    begin_commit();
    return commit_ != nullptr ? Step::Busy : Step::Answered;
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
  // A body's minimum-rate window starts with its head.
  rate_window_start_ = server_.now();
  rate_window_bytes_ = 0;
  // The head's views point into the buffer: nothing past this line may use them.
  ex_->consume(head_size);
  ex_->parser.reset();
  if (ex_->body_pending && !feed_body()) return closing() ? Step::Stop : Step::NeedInput;
  if (ex_->upload && !close_after_) {
    begin_commit();
    if (commit_ != nullptr) return Step::Busy;
  }
  return Step::Answered;
}

void Connection::dispatch(const http::RequestHead& h) {
  ReplyContext ctx;
  ctx.date = server_.http_date();
  ctx.head_only = h.method == http::Method::Head;
  ctx.http10 = h.version_minor == 0;
  ctx.keep_alive = h.keep_alive && !server_.shutting_down();
  Reply reply(ex_->out, ctx);
  const ServerOptions& options = server_.options();
  const bool upload_method = h.method == http::Method::Put || h.method == http::Method::Post;

  if (h.framing != http::BodyFraming::None) {
    if (upload_method) {
      // Unless the upload is accepted (below), its body is never read: the answer says so
      // and the connection ends, lingering so that the client sees the answer.
      reply.close_connection();
      lingering_needed_ = true;
    } else {
      // A body this server does not want is dropped, if small; a large one, or one the
      // client is waiting for permission to send (Expect: 100-continue), ends the
      // connection instead.
      const bool small = h.framing == http::BodyFraming::Chunked || h.content_length <= kMaxDiscard;
      if (h.expect_continue || !small) {
        reply.close_connection();
        lingering_needed_ = true;
      } else {
        ex_->body = h.framing == http::BodyFraming::Chunked
                        ? http::BodyDecoder::chunked()
                        : http::BodyDecoder::length(h.content_length);
        ex_->body_pending = true;
        ex_->body_limit = kMaxDiscard;
      }
    }
  }

  std::string user;
  const bool write = upload_method || h.method == http::Method::Delete;
  Authenticator& auth = server_.authenticator();
  if (h.method == http::Method::Connect) {
    reply.close_connection();  // what follows would be tunnel data
    reply_error(reply, http::status::kNotImplemented, "This server does not open tunnels.");
  } else if (h.method == http::Method::Unknown) {
    reply_error(reply, http::status::kNotImplemented, "This method is not known to the server.");
  } else if (h.expect_other) {
    reply_error(reply, http::status::kExpectationFailed, "Only 100-continue can be expected.");
  } else if (auth.enabled() && (write || options.auth_all) &&
             !auth.check(
                 h.find("authorization") ? h.find("authorization")->value : std::string_view{},
                 user)) {
    HTTPFS_DEBUG("{}: credentials missing or wrong", peer_.host());
    reply_error(reply, http::status::kUnauthorized, "Credentials are required.", "WWW-Authenticate",
                Authenticator::kChallenge);
  } else {
    http::RequestPath path;
    if (std::string_view why = http::normalize_target(h.target, h.form, path); !why.empty()) {
      HTTPFS_DEBUG("{}: bad target: {}", peer_.host(), why);
      reply_error(reply, http::status::kBadRequest, why);
    } else {
      const UploadContext uctx{server_.docroot(), options};
      switch (h.method) {
        case http::Method::Get:
        case http::Method::Head:
          serve_get(FileContext{server_.docroot(), options, server_.cache(), server_.now()}, h,
                    path, reply);
          break;
        case http::Method::Put:
        case http::Method::Post:
          if (begin_upload(h, path, user, reply)) return;  // answered after the body
          break;
        case http::Method::Delete:
          answer_delete(uctx, h, path, reply);
          break;
        case http::Method::Options:
          reply.begin(http::status::kNoContent);
          reply.header("Allow", allowed_methods(options));
          reply.end_head(0);
          reply.finish();
          break;
        default:
          reply_error(reply, http::status::kMethodNotAllowed, "This method is not served here.",
                      "Allow", allowed_methods(options));
          break;
      }
    }
  }
  if (!reply.keep_alive()) {
    close_after_ = true;
    ex_->body_pending = false;  // not worth reading: the connection ends after the answer
  }
  if (server_.access_log().enabled())
    ex_->logs.push_back(LogRecord{request_line(h), std::move(user), reply.status(),
                                  reply.head_only() ? 0 : reply.content_length()});
}

bool Connection::begin_upload(const http::RequestHead& h, const http::RequestPath& path,
                              const std::string& user, Reply& reply) {
  UploadStart start = start_upload(UploadContext{server_.docroot(), server_.options()}, h, path);
  if (start.status != 0) {
    HTTPFS_DEBUG("{}: upload to {} refused: {}", peer_.host(), path.path, start.detail);
    reply_error(reply, start.status, start.detail, start.extra_name, start.extra_value);
    return false;
  }
  auto up = std::make_unique<Upload>();
  up->sink = std::move(start.sink);
  up->sink->set_early_writeback(server_.options().durable);
  up->expected_sha256 = std::move(start.expected_sha256);
  if (up->expected_sha256) up->sha = std::make_unique<io::Sha256>();
  up->path = std::move(start.path);
  up->if_match = std::move(start.if_match);
  up->request_line = server_.access_log().enabled() ? request_line(h) : std::string();
  up->user = user;
  up->declared = h.framing == http::BodyFraming::Length ? h.content_length : 0;
  up->chunked = h.framing == http::BodyFraming::Chunked;
  up->existed = start.existed;
  up->no_replace = start.no_replace;
  up->http10 = h.version_minor == 0;
  up->keep_alive = h.keep_alive;
  ex_->upload = std::move(up);
  // The body is read: no linger needed on its account after all.
  lingering_needed_ = false;
  ex_->body = h.framing == http::BodyFraming::Chunked ? http::BodyDecoder::chunked()
                                                      : http::BodyDecoder::length(h.content_length);
  ex_->body_pending = h.framing != http::BodyFraming::None;
  ex_->body_limit = server_.options().max_body;
  ex_->grow_to(Exchange::kUploadBuffer);
  // RFC 9110 10.1.1: tell a waiting client to go on (HTTP/1.0 clients are not waiting).
  if (h.expect_continue && h.version_minor == 1) ex_->out.append("HTTP/1.1 100 Continue\r\n\r\n");
  return true;
}

std::string Connection::request_line(const http::RequestHead& h) {
  std::string line;
  line.reserve(h.method_token.size() + h.target.size() + 10);
  line.append(h.method_token)
      .append(" ")
      .append(h.target)
      .append(h.version_minor ? " HTTP/1.1" : " HTTP/1.0");
  return line;
}

void Connection::answer_parse_error() {
  const http::ParseError e = ex_->parser.error();
  const int status = http::error_status(e) != 0 ? http::error_status(e) : 400;
  HTTPFS_DEBUG("{}: malformed request ({}): {}", peer_.host(), http::error_name(e),
               http::error_message(e));
  ReplyContext ctx;
  ctx.date = server_.http_date();
  ctx.keep_alive = false;  // framing is in doubt: nothing after this is read as a request
  // A client that sent HEAD reads the answer without a body (RFC 9110 9.3.2), even when the
  // rest of its request was unusable.
  ctx.head_only = first_line(ex_->input()).starts_with("HEAD ");
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
  // Body bytes from the buffer go to the upload's file, or are dropped. True when the body
  // is complete (or failed: then close_after_ is set and the answer is queued).
  Upload* up = ex_->upload.get();
  while (ex_->has_input() && !ex_->body.done() && !ex_->body.failed()) {
    http::BodyDecoder::Step s = ex_->body.decode(ex_->input());
    ex_->consume(s.consumed);
    if (s.consumed == 0) break;
    if (up == nullptr || s.data.empty()) continue;
    if (ex_->body.body_bytes() > ex_->body_limit) break;
    if (up->sha) up->sha->update(s.data);
    if (int r = up->sink->write(s.data); r < 0) {
      // The disk said no (ENOSPC, EDQUOT, EFBIG, EIO): a server-side fault.
      fail_upload(status_from_errno(r), "cannot write: " + net::errno_text(r),
                  /*server=*/true);
      return true;
    }
  }
  if (ex_->body.failed()) {
    // Broken framing: nothing more on this connection can be trusted.
    if (up != nullptr) {
      fail_upload(
          http::status::kBadRequest,
          std::string("malformed body: ") + std::string(http::error_message(ex_->body.error())),
          false);
      return true;
    }
    ex_->body_pending = false;
    close_after_ = true;
    lingering_needed_ = true;
    return true;
  }
  if (ex_->body.body_bytes() > ex_->body_limit) {
    if (up != nullptr) {
      fail_upload(http::status::kContentTooLarge,
                  "more than " + std::to_string(ex_->body_limit) + " bytes", false);
      return true;
    }
    ex_->body_pending = false;  // too much to drop: the connection ends
    close_after_ = true;
    lingering_needed_ = true;
    return true;
  }
  if (!ex_->body.done()) return false;
  ex_->body_pending = false;
  return true;
}

void Connection::fail_upload(int status, const std::string& why, bool server_fault) {
  Upload& up = *ex_->upload;
  const std::uint64_t at = ex_->body.body_bytes();
  if (server_fault)
    spdlog::warn("{} {}: upload failed at byte {}: {}", peer_.host(), up.path, at, why);
  else
    spdlog::info("{} {}: upload refused at byte {}: {}", peer_.host(), up.path, at, why);
  up.sink->abort();
  ReplyContext ctx;
  ctx.date = server_.http_date();
  ctx.http10 = up.http10;
  ctx.keep_alive = false;  // the rest of the body is not read
  Reply reply(ex_->out, ctx);
  reply_error(reply, status, "The upload failed: " + why + ". Nothing was written.");
  if (server_.access_log().enabled())
    ex_->logs.push_back(
        LogRecord{std::move(up.request_line), up.user, reply.status(), reply.content_length()});
  ex_->upload.reset();
  ex_->body_pending = false;
  close_after_ = true;
  lingering_needed_ = true;
}

bool Connection::body_progress() {
  // Bytes arrived: the idle clock starts over. The rate is judged once per window of the
  // body timeout, so that a client trickling a byte now and then (which the idle clock
  // alone would let live forever) is cut, while a slow but steady upload of any size
  // goes on.
  const std::uint64_t now = server_.now();
  server_.body_timeouts.arm(timeout_node, now);
  const ServerOptions& o = server_.options();
  const std::uint64_t elapsed = now - rate_window_start_;
  if (o.min_body_rate == 0 || ex_ == nullptr || elapsed < o.body_timeout_ms) return true;
  const std::uint64_t total = ex_->body.body_bytes();
  const std::uint64_t got = total - std::min(total, rate_window_bytes_);
  // No overflow: the rate is at most 2^30 (an option limit) and a window lasts at most two
  // body timeouts (the idle clock ends it otherwise).
  if (got * 1000 < o.min_body_rate * elapsed) {
    HTTPFS_DEBUG("{}: request body slower than {} bytes/s", peer_.host(), o.min_body_rate);
    abandon_upload("slower than " + std::to_string(o.min_body_rate) + " bytes/s (" +
                   std::to_string(got) + " bytes in " + std::to_string(elapsed / 1000) + " s)");
    close_now();
    return false;
  }
  rate_window_start_ = now;
  rate_window_bytes_ = total;
  return true;
}

void Connection::abandon_upload(const std::string& why) {
  // The client went away or stalled: no answer can be sent, but the event is worth a line.
  if (ex_ == nullptr || !ex_->upload) return;
  Upload& up = *ex_->upload;
  spdlog::info("{} {}: upload aborted at byte {}{}: {}", peer_.host(), up.path,
               ex_->body.body_bytes(),
               up.declared ? " of " + std::to_string(up.declared) : std::string(), why);
  ex_->upload.reset();  // removes the temporary file
  ex_->body_pending = false;
}

bool Connection::splice_body() {
  // Moves body bytes socket -> pipe -> file with splice(2): they never pass through user
  // space. Only when nothing needs to see them (no Content-Digest) and nothing is buffered
  // ahead of them; chunk framing and small remainders take the ordinary read path.
  Upload& up = *ex_->upload;
  // Not under TLS: the bytes must be decrypted.
  if (tls_ || up.sha || ex_->has_input() || ex_->body.raw_data_available() < kSpliceMinimum)
    return false;
  if (up.pipe_w < 0) {
    int fds[2];
    if (::pipe2(fds, O_NONBLOCK | O_CLOEXEC) != 0) return false;  // fall back to read(2)
    up.pipe_r = fds[0];
    up.pipe_w = fds[1];
    ::fcntl(up.pipe_w, F_SETPIPE_SZ, static_cast<int>(kPipeSize));
  }
  std::uint64_t moved = 0;
  while (moved < kFlushBudget) {
    const std::uint64_t want = std::min<std::uint64_t>(ex_->body.raw_data_available(), kPipeSize);
    if (want == 0) break;
    ssize_t n = ::splice(sock_.fd(), nullptr, up.pipe_w, nullptr, static_cast<std::size_t>(want),
                         SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) break;
      HTTPFS_DEBUG("{}: splice from the socket failed: {}", peer_.host(), net::errno_text(errno));
      close_now();
      return true;
    }
    if (n == 0) {  // the client closed mid-body
      close_now();
      return true;
    }
    for (std::size_t left = static_cast<std::size_t>(n); left > 0;) {
      long m = up.sink->splice_from(up.pipe_r, left);
      if (m <= 0) {
        int err = m < 0 ? static_cast<int>(-m) : EIO;
        ex_->body.skip_raw_data(static_cast<std::uint64_t>(n) - left);
        fail_upload(status_from_errno(err), "cannot write: " + net::errno_text(err), true);
        pump();
        return true;
      }
      left -= static_cast<std::size_t>(m);
    }
    ex_->body.skip_raw_data(static_cast<std::uint64_t>(n));
    moved += static_cast<std::uint64_t>(n);
    if (ex_->body.body_bytes() > ex_->body_limit) {
      fail_upload(http::status::kContentTooLarge,
                  "more than " + std::to_string(ex_->body_limit) + " bytes", false);
      pump();
      return true;
    }
  }
  if (moved > 0 && !body_progress()) return true;
  if (ex_->body.done()) ex_->body_pending = false;
  if (!ex_->body_pending || ex_->body.raw_data_available() == 0) {
    pump();  // the body ended, or chunk framing follows: the ordinary path takes over
    return true;
  }
  return true;
}

// ---- committing an upload (off the loop thread)

// Lifetime: created by begin_commit(), freed in on_commit_done() after the work request's
// callback; `owner` is cleared if the connection closes first.
struct CommitJob {
  uv_work_t req{};
  Connection* owner = nullptr;
  std::unique_ptr<io::FileSink> sink;
  std::string if_match;
  bool durable = true;
  bool no_replace = false;
  int result = 0;
  struct stat st {};
};

void Connection::begin_commit() {
  Upload& up = *ex_->upload;
  if (up.expected_sha256) {
    io::Sha256::Digest d = up.sha->finish();
    if (std::string_view(reinterpret_cast<const char*>(d.data()), d.size()) !=
        *up.expected_sha256) {
      fail_upload(http::status::kBadRequest, "the body does not match its Content-Digest", false);
      return;
    }
  }
  auto* job = new CommitJob();
  job->req.data = job;
  job->owner = this;
  job->sink = std::move(up.sink);
  job->if_match = up.if_match;
  job->durable = server_.options().durable;
  job->no_replace = up.no_replace;
  commit_ = job;
  uv_queue_work(server_.loop(), &job->req, &Connection::on_commit_work,
                &Connection::on_commit_after);
}

void Connection::on_commit_work(uv_work_t* req) {
  auto* job = static_cast<CommitJob*>(req->data);
  job->result = job->sink->commit(job->durable, job->no_replace, job->if_match, job->st);
}

void Connection::on_commit_after(uv_work_t* req, int) {
  auto* job = static_cast<CommitJob*>(req->data);
  if (job->owner != nullptr) job->owner->handle_committed(*job);
  if (job->result != 0) job->sink->abort();
  delete job;
}

void Connection::handle_committed(CommitJob& job) {
  commit_ = nullptr;
  Upload& up = *ex_->upload;
  ReplyContext ctx;
  ctx.date = server_.http_date();
  ctx.http10 = up.http10;
  ctx.keep_alive = up.keep_alive && !server_.shutting_down() && !close_after_;
  Reply reply(ex_->out, ctx);
  if (job.result == 0) {
    const std::string etag = io::file_etag(job.st);
    if (up.existed) {
      reply.begin(http::status::kNoContent);
      reply.header("ETag", etag);
      reply.end_head(0);
    } else {
      static constexpr std::string_view kCreated = "File Created\n";
      reply.begin(http::status::kCreated);
      reply.header("Location", http::percent_encode_path(up.path));
      reply.header("ETag", etag);
      reply.header("Content-Type", "text/plain; charset=utf-8");
      reply.end_head(kCreated.size());
      reply.body(kCreated);
    }
    reply.finish();
  } else if (job.result == -EEXIST || job.result == -ESTALE) {
    // Another writer got there first (If-None-Match: *), or changed the file (If-Match).
    reply_error(reply, http::status::kPreconditionFailed,
                "The file changed while this upload was received.");
  } else {
    spdlog::warn("{} {}: cannot commit the upload: {}", peer_.host(), up.path,
                 net::errno_text(job.result));
    reply_error(reply, status_from_errno(job.result),
                "The upload could not be saved. Nothing was changed.");
  }
  if (!reply.keep_alive()) close_after_ = true;
  if (server_.access_log().enabled())
    ex_->logs.push_back(
        LogRecord{std::move(up.request_line), up.user, reply.status(), reply.content_length()});
  ex_->upload.reset();
  state_ = State::Writing;  // so that pump() files the connection under the right clock
  pump();
}

// ---- input

bool Connection::read_input() {
  if (!ex_->make_room()) return true;  // full: the parser or body code drains it first
  long n = 0;
  do {
    n = receive(ex_->buf.get() + ex_->end, ex_->cap - ex_->end);
    if (n > 0) ex_->end += static_cast<std::size_t>(n);
    // TLS: take every decrypted record that fits. What does not fit stays in the TLS
    // stream, and want() posts the connection so that it is not forgotten.
  } while (n > 0 && tls_ && ex_->end < ex_->cap);
  if (n > 0 || n == -EAGAIN) return true;
  if (n == 0) {
    // The peer closed (or half-closed) its side. Answer what it sent completely, then close;
    // a partial request is dropped.
    eof_ = true;
    close_after_ = true;
    want(false, sock_.wants_write());
    if (!ex_->has_input() && ex_->out.empty()) {
      close_now();
      return false;
    }
    return true;
  }
  if (tls_ && tls_->plain_http()) {
    refuse_plain_http();
    return false;
  }
  HTTPFS_DEBUG("{}: read failed: {}", peer_.host(),
               tls_ && n == -EPROTO ? tls_->error_text() : net::errno_text(static_cast<int>(-n)));
  close_now();
  return false;
}

long Connection::receive(char* buf, std::size_t len) {
  if (tls_) return tls_->read(sock_.fd(), buf, len);
  for (;;) {
    ssize_t n = ::read(sock_.fd(), buf, len);
    if (n >= 0) return n;
    if (errno == EINTR) continue;
    return errno == EWOULDBLOCK ? -EAGAIN : -errno;
  }
}

net::OutputQueue::Flush Connection::send_queued(std::size_t& completed) {
  if (tls_) return tls_->flush(sock_.fd(), ex_->out, kFlushBudget, completed);
  return ex_->out.flush(sock_.fd(), kFlushBudget, completed);
}

bool Connection::want(bool readable, bool writable) {
  if (tls_) {
    writable = writable || tls_->wants_write();
    if (readable && !posted_ && tls_->has_buffered_input()) {
      posted_ = true;
      server_.post_ready(this);
    }
  }
  return sock_.want(readable, writable);
}

void Connection::refuse_plain_http() {
  // A plain request on the HTTPS port: say so in plain text (a browser shows it), as nginx
  // does, rather than drop the connection without a word.
  static constexpr std::string_view kBody = "This port speaks HTTPS: use an https:// URL.\n";
  std::string answer =
      "HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain; charset=utf-8\r\n"
      "Content-Length: " +
      std::to_string(kBody.size()) + "\r\nConnection: close\r\n\r\n" + std::string(kBody);
  [[maybe_unused]] ssize_t sent = ::send(sock_.fd(), answer.data(), answer.size(), MSG_NOSIGNAL);
  const net::TlsStream::Buffer& in = tls_->input();
  const std::string_view got(in.data.get() + in.begin, in.size());
  HTTPFS_DEBUG("{}: plain HTTP on the HTTPS port", peer_.host());
  if (server_.access_log().enabled())
    server_.access_log().log(peer_.host(), {}, std::string(first_line(got)), 400, kBody.size());
  close_after_ = true;
  lingering_needed_ = true;
  finish_connection();
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
      if (tls_) tls_->release_buffers();
      server_.keepalive_timeouts.arm(timeout_node, now);
      if (eof_ || !want(true, false)) close_now();
      break;
    case State::ReadingHead:
      // The head deadline runs from the request's first byte (or, for a new connection,
      // from the accept), whatever the trickle rate: it is never pushed back by progress.
      if (before != State::ReadingHead && timeout_node.list != &server_.header_timeouts)
        server_.header_timeouts.arm(timeout_node, now);
      // eof_: a partial request and no more bytes coming.
      if (eof_ || !want(true, false)) close_now();
      break;
    case State::ReadingBody:
      server_.body_timeouts.arm(timeout_node, now);
      if (eof_ || !want(true, false)) close_now();
      break;
    case State::Writing:
      server_.send_timeouts.arm(timeout_node, now);
      if (!want(false, true)) close_now();
      break;
    case State::Committing:
      // Server-side work: no clock runs out on it, and nothing is read meanwhile (the
      // requests behind it wait in the kernel). The list keeps it known to shutdown.
      server_.busy_connections.arm(timeout_node, now);
      sock_.want(false, false);  // the queue was sent whole: no TLS output is pending
      break;
    case State::Lingering:
      server_.linger_timeouts.arm(timeout_node, now);
      // Only reading: a close_notify the socket did not take at once is dropped.
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
  if (tls_) tls_->close_notify(sock_.fd());
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
  // A commit in flight finishes without us (the body arrived whole: it is kept).
  if (commit_ != nullptr) commit_->owner = nullptr;
  commit_ = nullptr;
  abandon_upload("connection closed");
  HTTPFS_DEBUG("{}: closed after {} request(s)", peer_.host(), requests_);
  TimeoutList::unlink(timeout_node);
  if (posted_) server_.unpost(this);
  posted_ = false;
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
        send_queued(completed);  // best effort
        log_completed(completed);
      }
      close_now();
      return;
    case State::ReadingBody:
      HTTPFS_DEBUG("{}: request body stalled", peer_.host());
      abandon_upload("no data within the body timeout");
      close_now();
      return;
    case State::Committing:
      server_.busy_connections.arm(timeout_node, server_.now());  // not a client's fault
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
    case State::Committing:
      close_after_ = true;  // finish what is in flight, then close
      return;
    case State::Closing:
      return;
  }
}

}  // namespace httpfs::server
