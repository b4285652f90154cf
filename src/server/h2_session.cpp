#include "server/h2_session.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cassert>
#include <cerrno>
#include <string>

#include "http/parse_error.hpp"
#include "http/status.hpp"
#include "server/body_rate.hpp"
#include "server/body_reader.hpp"
#include "server/cross_site.hpp"
#include "server/debug_log.hpp"
#include "server/h2_response.hpp"
#include "server/in_flight.hpp"
#include "server/server.hpp"

namespace httpfs::server {

namespace {

constexpr std::string_view kPrefaceLine = "PRI * HTTP/2.0\r\n";
// Output queued ahead of the socket before nghttp2 is told to wait: enough DATA frames for
// one round of sends, not the whole body.
constexpr std::uint64_t kHighWater = 512 * 1024;
// The read buffer, and the reads one wake-up makes before others get their turn.
constexpr std::size_t kReadBuffer = 64 * 1024;
constexpr int kReadsPerTurn = 16;
// Frames that ask for nothing (server/flood_guard.hpp): a burst, and a steady rate.
constexpr std::uint32_t kIdleFrameBurst = 1000;
constexpr std::uint32_t kIdleFramesPerSecond = 100;
// nghttp2's guards, stated rather than left to its defaults: RST_STREAM frames of a client
// (rapid reset, CVE-2023-44487) as a bucket of 1000 refilled at 33 a second (nghttp2's
// numbers, h2o's too); CONTINUATION frames after one HEADERS (CVE-2024-27316); SETTINGS and
// PING acknowledgements waiting to be sent.
constexpr std::uint64_t kResetBurst = 1000;
constexpr std::uint64_t kResetsPerSecond = 33;
constexpr std::size_t kMaxContinuations = 8;
constexpr std::size_t kMaxOutboundAcks = 1000;
// Body bytes of an answered request read and dropped before its stream is reset: a client
// that sent a refused upload on (curl does, until it has sent everything) sees the answer
// as a clean end rather than a reset (RFC 9113 8.1 allows both), up to this much.
constexpr std::uint64_t kMaxH2Discard = 16ull << 20;
// H2Stream::stalled_since of a stream that is not stalled.
constexpr std::uint64_t kNotStalled = ~std::uint64_t{0};

}  // namespace

bool stream_window_stalled(bool data_waiting, std::int32_t stream_window,
                           std::int32_t connection_window) noexcept {
  return data_waiting && stream_window <= 0 && connection_window > 0;
}

std::uint32_t goaway_code(int error) noexcept {
  switch (error) {
    case NGHTTP2_ERR_FLOODED:
    case NGHTTP2_ERR_TOO_MANY_CONTINUATIONS:
    case NGHTTP2_ERR_TOO_MANY_SETTINGS:
      return NGHTTP2_ENHANCE_YOUR_CALM;
    case NGHTTP2_ERR_HEADER_COMP:
      return NGHTTP2_COMPRESSION_ERROR;
    case NGHTTP2_ERR_NOMEM:
    case NGHTTP2_ERR_CALLBACK_FAILURE:
      return NGHTTP2_INTERNAL_ERROR;
    default:
      return NGHTTP2_PROTOCOL_ERROR;
  }
}

Preface h2_preface(std::string_view first) noexcept {
  const std::size_t n = std::min(first.size(), kPrefaceLine.size());
  if (first.substr(0, n) != kPrefaceLine.substr(0, n)) return Preface::No;
  return n == kPrefaceLine.size() ? Preface::Yes : Preface::Maybe;
}

// One stream: its request as it arrives, the body's sink, the answer.
struct H2Stream final : BodyControl {
  H2Stream(H2Session& session, std::int32_t stream_id) : owner(session), id(stream_id) {}
  void end_soon() override { owner.end_stream_soon(*this); }

  H2Session& owner;
  std::int32_t id;
  // The request head, as HTTP/1 field lines for the parser, and its pseudo-fields.
  std::string method, path, authority, host, fields;
  std::size_t head_bytes = 0;
  std::size_t field_count = 0;
  bool has_length = false;
  bool too_large = false;
  bool remote_closed = false;  // END_STREAM came: the request is whole
  std::string head_text;       // what the parser saw; the head's views point into it

  std::unique_ptr<BodySink> sink;  // the body is being read into it
  // Its body is read (and dropped) before it is dispatched (read_before_dispatch): no handler
  // of its method takes one, and a request whose body breaks or is reset must do nothing.
  bool deferred = false;
  bool end_requested = false;  // the sink asked for the request to end
  PendingAnswer pending;       // for answers after the head, and the log line
  Job* job = nullptr;          // a job answers: the pending one, for detach()
  PendingJob* pending_job = nullptr;

  H2Response response;
  int status = 0;  // the answer, for the log line
  std::uint64_t bytes = 0;
  std::uint64_t discarded = 0;  // body bytes that came after the answer
  bool reset_sent = false;
  // Since when (server.now()) its answer has waited on its own window (stream_window_stalled).
  std::uint64_t stalled_since = kNotStalled;
  // The body's clocks while a sink takes it: the last byte's time, the bytes, the rate window.
  std::uint64_t body_at = 0;
  std::uint64_t body_bytes = 0;
  RateWindow rate;
};

// nghttp2's callbacks: static trampolines into the session.
struct H2Callbacks {
  static H2Session& self(void* p) { return *static_cast<H2Session*>(p); }

  static ssize_t on_send(nghttp2_session*, const std::uint8_t* data, std::size_t length, int,
                         void* user) {
    H2Session& s = self(user);
    if (s.queued() >= kHighWater) return NGHTTP2_ERR_WOULDBLOCK;
    s.in_->out.append({reinterpret_cast<const char*>(data), length});
    s.queued_end_ += length;
    return static_cast<ssize_t>(length);
  }

  static int on_send_data(nghttp2_session*, nghttp2_frame* frame, const std::uint8_t* header,
                          std::size_t length, nghttp2_data_source* source, void* user) {
    H2Session& s = self(user);
    if (s.queued() >= kHighWater) return NGHTTP2_ERR_WOULDBLOCK;
    static_cast<H2Response*>(source->ptr)->write_frame(s.in_->out, header, length);
    s.queued_end_ += 9 + length;
    s.progress_ = true;
    // The stream moved: a stall of its window is counted from here on.
    if (H2Stream* st = s.stream(frame->hd.stream_id)) st->stalled_since = kNotStalled;
    return 0;
  }

  static int on_begin_headers(nghttp2_session* session, const nghttp2_frame* frame, void* user) {
    if (frame->hd.type != NGHTTP2_HEADERS || frame->headers.cat != NGHTTP2_HCAT_REQUEST) return 0;
    H2Session& s = self(user);
    auto st = std::make_unique<H2Stream>(s, frame->hd.stream_id);
    nghttp2_session_set_stream_user_data(session, frame->hd.stream_id, st.get());
    s.streams_.emplace(frame->hd.stream_id, std::move(st));
    return 0;
  }

  static int on_header(nghttp2_session*, const nghttp2_frame* frame, const std::uint8_t* name,
                       std::size_t namelen, const std::uint8_t* value, std::size_t valuelen,
                       std::uint8_t, void* user) {
    H2Session& s = self(user);
    H2Stream* st = s.stream(frame->hd.stream_id);
    if (st == nullptr || frame->headers.cat != NGHTTP2_HCAT_REQUEST || st->too_large) return 0;
    const ServerOptions& o = s.server_.options();
    // RFC 9113 6.5.2: a field's size is its name, its value and 32.
    st->head_bytes += namelen + valuelen + 32;
    if (st->head_bytes > o.max_head || ++st->field_count > o.max_headers + 4) {
      st->too_large = true;  // answered 431 at the end of the block; nothing more is kept
      return 0;
    }
    const std::string_view n(reinterpret_cast<const char*>(name), namelen);
    const std::string_view v(reinterpret_cast<const char*>(value), valuelen);
    if (n == ":method") {
      st->method = v;
    } else if (n == ":path") {
      st->path = v;
    } else if (n == ":authority") {
      st->authority = v;
    } else if (n == "host") {
      st->host = v;
    } else if (!n.starts_with(':')) {
      if (n == "content-length") st->has_length = true;
      st->fields.append(n).append(": ").append(v).append("\r\n");
    }
    return 0;
  }

  static int on_frame_recv(nghttp2_session*, const nghttp2_frame* frame, void* user) {
    return self(user).frame_received(*frame) ? 0 : NGHTTP2_ERR_CALLBACK_FAILURE;
  }

  static int on_data_chunk(nghttp2_session*, std::uint8_t, std::int32_t id,
                           const std::uint8_t* data, std::size_t len, void* user) {
    H2Session& s = self(user);
    s.progress_ = true;
    if (H2Stream* st = s.stream(id)) s.body_data(*st, {reinterpret_cast<const char*>(data), len});
    return 0;
  }

  static int on_stream_close(nghttp2_session*, std::int32_t id, std::uint32_t, void* user) {
    self(user).closed(id);
    return 0;
  }
};

namespace {

nghttp2_session* make_session(H2Session* self, const ServerOptions& o) {
  nghttp2_session_callbacks* cb = nullptr;
  nghttp2_session_callbacks_new(&cb);
  nghttp2_session_callbacks_set_send_callback(cb, H2Callbacks::on_send);
  nghttp2_session_callbacks_set_send_data_callback(cb, H2Callbacks::on_send_data);
  nghttp2_session_callbacks_set_on_begin_headers_callback(cb, H2Callbacks::on_begin_headers);
  nghttp2_session_callbacks_set_on_header_callback(cb, H2Callbacks::on_header);
  nghttp2_session_callbacks_set_on_frame_recv_callback(cb, H2Callbacks::on_frame_recv);
  nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cb, H2Callbacks::on_data_chunk);
  nghttp2_session_callbacks_set_on_stream_close_callback(cb, H2Callbacks::on_stream_close);
  nghttp2_option* opt = nullptr;
  nghttp2_option_new(&opt);
  nghttp2_option_set_no_closed_streams(opt, 1);  // no priority tree kept for closed streams
  nghttp2_option_set_stream_reset_rate_limit(opt, kResetBurst, kResetsPerSecond);
  nghttp2_option_set_max_continuations(opt, kMaxContinuations);
  nghttp2_option_set_max_outbound_ack(opt, kMaxOutboundAcks);
  nghttp2_session* session = nullptr;
  nghttp2_session_server_new2(&session, cb, self, opt);
  nghttp2_option_del(opt);
  nghttp2_session_callbacks_del(cb);
  const nghttp2_settings_entry settings[] = {
      {NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, o.http2_max_streams},
      {NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, o.http2_window},
      {NGHTTP2_SETTINGS_MAX_HEADER_LIST_SIZE, static_cast<std::uint32_t>(o.max_head)},
      {NGHTTP2_SETTINGS_ENABLE_PUSH, 0},
  };
  nghttp2_submit_settings(session, NGHTTP2_FLAG_NONE, settings, std::size(settings));
  nghttp2_session_set_local_window_size(session, NGHTTP2_FLAG_NONE, 0,
                                        static_cast<std::int32_t>(o.http2_conn_window));
  return session;
}

}  // namespace

H2Session::H2Session(Server& server, net::Stream& stream, const net::SocketAddress& peer,
                     TimeoutNode& node, Owner& owner)
    : server_(server),
      stream_(stream),
      peer_(peer),
      node_(node),
      owner_(owner),
      flood_(kIdleFrameBurst, kIdleFramesPerSecond) {
  session_ = make_session(this, server.options());
}

H2Session::~H2Session() {
  // The streams go first: nghttp2_session_del() calls no callback.
  for (auto& [id, st] : streams_) {
    if (st->pending_job != nullptr) st->pending_job->detach();  // it finishes without us
    if (st->sink) st->sink->abandon("connection closed");
    log_access(*st);
  }
  streams_.clear();
  nghttp2_session_del(session_);
  if (in_ != nullptr) server_.release_in_flight(in_);
}

void H2Session::start(InFlight* in) {
  in_ = in;
  queued_end_ = in_->out.sent();
  HTTPFS_DEBUG("{}: HTTP/2", peer_.host());
  // The bytes already read (the preface and what came with it) go in first.
  const std::string_view first = in_->in.view();
  const ssize_t rv = nghttp2_session_mem_recv(
      session_, reinterpret_cast<const std::uint8_t*>(first.data()), first.size());
  in_->in.consume(first.size());
  if (rv < 0) fail(static_cast<int>(rv));
  step(0);
}

void H2Session::on_ready(int events) {
  switch (state_) {
    case State::Open:
      return handle_open(events);
    case State::Draining:
      return handle_draining(events);
    case State::Ended:
      return;
  }
}

void H2Session::handle_open(int events) {
  assert(state_ == State::Open);
  step(events);
}

void H2Session::handle_draining(int events) {
  assert(state_ == State::Draining);
  // The same I/O: the open streams still take DATA and WINDOW_UPDATE, and send.
  step(events);
}

void H2Session::enter(State s) {
  state_ = s;
}

void H2Session::step(int events) {
  progress_ = false;
  hold_buffers();
  // Requests whose sink asked to end (a newer request took over their upload).
  for (auto& [id, st] : streams_) {
    if (!st->end_requested) continue;
    st->end_requested = false;
    if (st->sink) st->sink->abandon("a newer request took over");
    st->sink.reset();
    nghttp2_submit_rst_stream(session_, NGHTTP2_FLAG_NONE, id, NGHTTP2_CANCEL);
  }
  if (!fatal_ && (events & UV_READABLE) && !receive()) return;
  if (!send()) return end(false);
  settle();
}

bool H2Session::receive() {
  for (int i = 0; i < kReadsPerTurn && !fatal_; ++i) {
    in_->in.grow_to(kReadBuffer);
    const long n = stream_.read(in_->in);
    if (n == -EAGAIN) break;
    if (n <= 0) {
      if (n < 0) HTTPFS_DEBUG("{}: read failed: {}", peer_.host(), stream_.describe(int(n)));
      end(false);  // the peer is gone: nothing it asked for can be delivered
      return false;
    }
    const std::string_view bytes = in_->in.view();
    const ssize_t rv = nghttp2_session_mem_recv(
        session_, reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size());
    in_->in.consume(bytes.size());
    if (rv < 0) fail(static_cast<int>(rv));
    if (state_ == State::Ended) return false;
  }
  return true;
}

bool H2Session::send() {
  for (;;) {
    if (!fatal_ && queued() < kHighWater && nghttp2_session_send(session_) != 0) fatal_ = true;
    if (in_->out.empty() && !stream_.output_pending()) return true;
    std::size_t completed = 0;
    const std::uint64_t before = in_->out.sent();
    const net::OutputQueue::Flush r = stream_.flush(in_->out, completed);
    if (in_->out.sent() != before) progress_ = true;
    switch (r) {
      case net::OutputQueue::Flush::Done:
        blocked_ = false;
        if (fatal_ || !nghttp2_session_want_write(session_)) return true;
        continue;
      case net::OutputQueue::Flush::Blocked:
      case net::OutputQueue::Flush::Yield:
        blocked_ = true;
        return true;
      case net::OutputQueue::Flush::Error:
        HTTPFS_DEBUG("{}: send failed: {}", peer_.host(), stream_.describe(in_->out.error()));
        return false;
    }
  }
}

// After a step: the end, or what to wait for and on which clock.
void H2Session::settle() {
  if (state_ == State::Ended) return;
  bool acted = false;
  const bool stalled = watch_streams(acted);
  if (acted && !send()) return end(false);
  const bool output = blocked_ || stream_.output_pending();
  const bool reading = !fatal_ && nghttp2_session_want_read(session_) != 0;
  if (!reading && !output && (fatal_ || !nghttp2_session_want_write(session_))) return end(true);
  if (streams_.empty() && !output && in_->in.empty()) {
    server_.release_in_flight(in_);  // idle: nothing held but nghttp2's session
    in_ = nullptr;
    stream_.release_buffers();
  }
  bool body_wanted = false;
  for (const auto& [id, st] : streams_) body_wanted |= st->sink != nullptr || st->deferred;
  Timeout t = Timeout::KeepAlive;
  if (output || stalled)
    t = Timeout::Send;
  else if (body_wanted)
    t = Timeout::Body;
  else if (jobs_ > 0)
    t = Timeout::Busy;
  else if (!streams_.empty())
    t = Timeout::Send;  // answers waiting for the peer's window
  // Progress restarts the clock; frames that move nothing (PING, SETTINGS) never do. A
  // stream that stalls while others move is judged by watch_streams() on each step.
  if (progress_ || !server_.on_clock(node_, t)) server_.start_clock(node_, t);
  if (!stream_.want(reading, output)) end(false);
}

void H2Session::end(bool linger) {
  if (state_ == State::Ended) return;
  HTTPFS_DEBUG("{}: HTTP/2 connection ends after {} request(s)", peer_.host(), requests_);
  enter(State::Ended);
  server_.stop_clock(node_);
  owner_.on_session_end(linger);
}

// GOAWAY: no new streams; the open ones finish (a graceful shutdown), or, with an error
// code, the connection ends once the GOAWAY is out.
void H2Session::drain(std::uint32_t error_code) {
  if (state_ != State::Open) return;
  enter(State::Draining);
  if (error_code == NGHTTP2_NO_ERROR)
    nghttp2_submit_goaway(session_, NGHTTP2_FLAG_NONE,
                          nghttp2_session_get_last_proc_stream_id(session_), NGHTTP2_NO_ERROR,
                          nullptr, 0);
  else
    nghttp2_session_terminate_session(session_, error_code);
}

void H2Session::fail(int error) {
  HTTPFS_DEBUG("{}: HTTP/2 session ends: {}", peer_.host(), nghttp2_strerror(error));
  fatal_ = true;
  // nghttp2 sends nothing more after a fatal error: the GOAWAY that says why (RFC 9113 5.4.1)
  // is written here, after what is queued already.
  const auto last = static_cast<std::uint32_t>(nghttp2_session_get_last_proc_stream_id(session_));
  const std::uint32_t code = goaway_code(error);
  const unsigned char frame[17] = {0,
                                   0,
                                   8,
                                   NGHTTP2_GOAWAY,
                                   0,
                                   0,
                                   0,
                                   0,
                                   0,
                                   static_cast<unsigned char>(last >> 24),
                                   static_cast<unsigned char>(last >> 16),
                                   static_cast<unsigned char>(last >> 8),
                                   static_cast<unsigned char>(last),
                                   static_cast<unsigned char>(code >> 24),
                                   static_cast<unsigned char>(code >> 16),
                                   static_cast<unsigned char>(code >> 8),
                                   static_cast<unsigned char>(code)};
  in_->out.append({reinterpret_cast<const char*>(frame), sizeof frame});
  queued_end_ += sizeof frame;
}

void H2Session::begin_shutdown() {
  if (state_ == State::Ended) return;
  drain(NGHTTP2_NO_ERROR);
  hold_buffers();
  if (!send()) return end(false);
  settle();
}

bool H2Session::watch_streams(bool& acted) {
  const std::uint64_t now = server_.now();
  const ServerOptions& o = server_.options();
  const std::int32_t connection = nghttp2_session_get_remote_window_size(session_);
  bool stalled_any = false;
  for (auto& [id, st] : streams_) {
    if ((st->sink || st->deferred) && now - st->body_at >= o.body_timeout_ms) {
      cut_body(*st, "no data within the body timeout");
      acted = true;
      continue;
    }
    const bool stalled = stream_window_stalled(
        st->response.data_waiting(), nghttp2_session_get_stream_remote_window_size(session_, id),
        connection);
    if (!stalled) {
      st->stalled_since = kNotStalled;
    } else if (st->stalled_since == kNotStalled) {
      st->stalled_since = now;
    } else if (now - st->stalled_since >= o.send_timeout_ms) {
      HTTPFS_DEBUG("{}: HTTP/2 stream {} stalled: its window stayed closed", peer_.host(), id);
      st->stalled_since = kNotStalled;
      nghttp2_submit_rst_stream(session_, NGHTTP2_FLAG_NONE, id, NGHTTP2_CANCEL);
      acted = true;
      continue;
    }
    stalled_any |= stalled;
  }
  return stalled_any;
}

void H2Session::cut_body(H2Stream& s, std::string_view why) {
  HTTPFS_DEBUG("{}: HTTP/2 stream {}: request body {}", peer_.host(), s.id, why);
  std::unique_ptr<BodySink> sink = std::move(s.sink);
  if (sink) sink->abandon(std::string(why));
  s.deferred = false;  // never dispatched
  nghttp2_submit_rst_stream(session_, NGHTTP2_FLAG_NONE, s.id, NGHTTP2_CANCEL);
}

void H2Session::on_timeout() {
  if (state_ == State::Ended) return;
  if (server_.on_clock(node_, Timeout::Busy)) return server_.start_clock(node_, Timeout::Busy);
  // Streams that stalled or went silent on their own are reset and the connection goes on;
  // one whose stall is younger than the send timeout is judged on the next round.
  hold_buffers();
  bool acted = false;
  if (watch_streams(acted) || acted) {
    if (!send()) return end(false);
    server_.start_clock(node_, Timeout::Send);
    return settle();
  }
  if (server_.on_clock(node_, Timeout::KeepAlive)) {
    HTTPFS_DEBUG("{}: HTTP/2 connection idle", peer_.host());
  } else {
    HTTPFS_DEBUG("{}: HTTP/2 connection stalled", peer_.host());
  }
  // Best effort: a GOAWAY says why, then the connection closes whatever is in flight.
  hold_buffers();
  drain(NGHTTP2_NO_ERROR);
  send();
  end(false);
}

void H2Session::end_stream_soon(H2Stream& s) {
  s.end_requested = true;
  stream_.wake();  // not now: the sink asking is still running
}

void H2Session::hold_buffers() {
  if (in_ != nullptr) return;
  in_ = server_.acquire_in_flight();
  queued_end_ = in_->out.sent();
}

std::uint64_t H2Session::queued() const noexcept {
  return queued_end_ - in_->out.sent();
}

// ---- streams

H2Stream* H2Session::stream(std::int32_t id) const {
  return static_cast<H2Stream*>(nghttp2_session_get_stream_user_data(session_, id));
}

bool H2Session::frame_received(const nghttp2_frame& f) {
  const bool end_stream = (f.hd.flags & NGHTTP2_FLAG_END_STREAM) != 0;
  bool idle = false;  // a frame that asks for nothing
  switch (f.hd.type) {
    case NGHTTP2_HEADERS:
      if (H2Stream* st = stream(f.hd.stream_id)) {
        progress_ = true;
        if (f.headers.cat == NGHTTP2_HCAT_REQUEST) {
          dispatch(*st, end_stream);
        } else if (end_stream) {  // trailers end the body
          body_ended(*st);
        }
      }
      break;
    case NGHTTP2_DATA:
      idle = f.hd.length == 0 && !end_stream;
      if (end_stream) {
        if (H2Stream* st = stream(f.hd.stream_id)) body_ended(*st);
      }
      break;
    case NGHTTP2_SETTINGS:
    case NGHTTP2_PING:
      idle = (f.hd.flags & NGHTTP2_FLAG_ACK) == 0;
      break;
    case NGHTTP2_PRIORITY:
    case NGHTTP2_RST_STREAM:
      idle = true;
      break;
    default:
      break;
  }
  if (idle && !flood_.take(server_.now())) {
    HTTPFS_DEBUG("{}: HTTP/2 flood of frames that ask for nothing", peer_.host());
    drain(NGHTTP2_ENHANCE_YOUR_CALM);
  }
  return true;
}

void H2Session::dispatch(H2Stream& s, bool end_stream) {
  ++requests_;
  s.remote_closed = end_stream;
  if (server_.access_log().enabled())
    s.pending.request_line = s.method + " " + s.path + " HTTP/2.0";
  if (s.too_large)
    return answer_error(s, http::status::kHeaderFieldsTooLarge,
                        "The request's header fields are too large.");
  // The head as HTTP/1 would carry it, so that one parser applies one set of rules. A body
  // without Content-Length is one of unknown length, as a chunked one is.
  s.head_text.reserve(s.method.size() + s.path.size() + s.fields.size() + 64);
  s.head_text.append(s.method).append(" ").append(s.path).append(" HTTP/1.1\r\n");
  const std::string& host = s.authority.empty() ? s.host : s.authority;
  if (!host.empty()) s.head_text.append("host: ").append(host).append("\r\n");
  s.head_text.append(s.fields);
  if (!end_stream && !s.has_length) s.head_text.append("transfer-encoding: chunked\r\n");
  s.head_text.append("\r\n");
  s.fields.clear();
  s.fields.shrink_to_fit();
  http::RequestParser& parser = in_->parser;
  parser.reset();
  if (parser.parse(s.head_text) != http::RequestParser::Result::Complete) {
    const http::ParseError e = parser.error();
    HTTPFS_DEBUG("{}: malformed HTTP/2 request ({}): {}", peer_.host(), http::error_name(e),
                 http::error_message(e));
    const int status = http::error_status(e) != 0 ? http::error_status(e) : 400;
    parser.reset();
    return answer_error(s, status, http::error_message(e));
  }
  if (!end_stream && read_before_dispatch(parser.head())) {
    s.deferred = true;
    s.body_at = server_.now();
    parser.reset();
    return;
  }
  route(s, end_stream);
}

void H2Session::body_ended(H2Stream& s) {
  s.remote_closed = true;
  if (s.deferred) {
    // The copy in head_text parses as it did at first; the body is whole and dropped.
    s.deferred = false;
    const http::RequestParser::Result r = in_->parser.parse(s.head_text);
    assert(r == http::RequestParser::Result::Complete);
    (void)r;
    route(s, true);
  } else if (s.sink) {
    complete_body(s);
  }
}

// Hands the head the parser holds to the router; the parser is reset after.
void H2Session::route(H2Stream& s, bool end_stream) {
  http::RequestParser& parser = in_->parser;
  const http::RequestHead& h = parser.head();
  s.pending.head_only = h.method == http::Method::Head;
  s.pending.cors_origin = allowed_origin(h, server_.options().cors);
  H2Encoder encoder(session_, s.id, s.response,
                    {server_.http_date(), s.pending.cors_origin, s.pending.head_only});
  Reply reply(encoder, s.pending.head_only);
  Request request{h, {}, {}, peer_, server_.now()};
  Handling handling = server_.router().dispatch(request, reply);
  s.pending.user = std::move(request.user);
  parser.reset();
  if (handling.sink) {
    s.sink = std::move(handling.sink);
    s.sink->attach(&s);
    s.body_at = server_.now();
    s.rate = {s.body_at, 0};
    // RFC 9110 10.1.1: a client waiting for permission may now send.
    if (h.expect_continue && !end_stream) encoder.informational(100, {});
    if (end_stream) complete_body(s);
  } else if (handling.job) {
    start_job(s, std::move(handling.job));
  } else {
    s.status = reply.status();
    s.bytes = s.pending.head_only ? 0 : reply.content_length();
  }
}

void H2Session::body_data(H2Stream& s, std::string_view bytes) {
  if (s.deferred) {
    s.body_at = server_.now();
    s.discarded += bytes.size();
    if (s.discarded > kMaxDiscard) {
      s.deferred = false;
      HTTPFS_DEBUG("{}: HTTP/2 stream {}: a body past {} bytes that no handler takes", peer_.host(),
                   s.id, kMaxDiscard);
      answer_error(s, http::status::kContentTooLarge,
                   "This request takes no body, and this one is too large to drop.");
    }
    return;
  }
  if (s.sink) {
    // --min-body-rate per stream, judged once per body-timeout window (server/body_rate.hpp).
    const std::uint64_t now = server_.now();
    const ServerOptions& o = server_.options();
    s.body_at = now;
    s.body_bytes += bytes.size();
    switch (judge_rate(s.rate, now, s.body_bytes, o.min_body_rate, o.body_timeout_ms)) {
      case RateVerdict::Open:
        break;
      case RateVerdict::Passed:
        s.rate = {now, s.body_bytes};
        break;
      case RateVerdict::TooSlow:
        return cut_body(s, "slower than --min-body-rate");
    }
    if (std::optional<BodyFault> fault = s.sink->write(bytes)) fail_body(s, *fault);
    return;
  }
  // Nobody takes it (answered already, or not a body any handler wants): dropped, up to a
  // point; then RST_STREAM NO_ERROR tells the client to stop (RFC 9113 8.1).
  s.discarded += bytes.size();
  if (s.discarded > kMaxH2Discard && !s.reset_sent) {
    s.reset_sent = true;
    nghttp2_submit_rst_stream(session_, NGHTTP2_FLAG_NONE, s.id, NGHTTP2_NO_ERROR);
  }
}

void H2Session::complete_body(H2Stream& s) {
  std::unique_ptr<BodySink> sink = std::move(s.sink);
  H2Encoder encoder(session_, s.id, s.response,
                    {server_.http_date(), s.pending.cors_origin, s.pending.head_only});
  Reply reply(encoder, s.pending.head_only);
  BodySink::Finish finish = sink->finish(reply);
  if (finish.fault) {
    s.sink = std::move(sink);
    return fail_body(s, *finish.fault);
  }
  if (finish.job) return start_job(s, std::move(finish.job));
  s.status = reply.status();
  s.bytes = s.pending.head_only ? 0 : reply.content_length();
}

void H2Session::fail_body(H2Stream& s, const BodyFault& fault) {
  std::unique_ptr<BodySink> sink = std::move(s.sink);
  H2Encoder encoder(session_, s.id, s.response,
                    {server_.http_date(), s.pending.cors_origin, s.pending.head_only});
  Reply reply(encoder, s.pending.head_only);
  sink->fail(fault, reply);
  s.status = reply.status();
  s.bytes = s.pending.head_only ? 0 : reply.content_length();
}

void H2Session::answer_error(H2Stream& s, int status, std::string_view detail) {
  s.pending.head_only = s.method == "HEAD";
  H2Encoder encoder(session_, s.id, s.response, {server_.http_date(), {}, s.pending.head_only});
  Reply reply(encoder, s.pending.head_only);
  reply_error(reply, status, detail);
  s.status = reply.status();
  s.bytes = s.pending.head_only ? 0 : reply.content_length();
}

void H2Session::start_job(H2Stream& s, std::unique_ptr<Job> job) {
  s.job = job.get();
  s.pending_job = PendingJob::start(server_.loop(), std::move(job), *this);
  ++jobs_;
}

void H2Session::on_job_done(Job& job) {
  --jobs_;
  for (auto& [id, st] : streams_) {
    if (st->job != &job) continue;
    st->job = nullptr;
    st->pending_job = nullptr;
    H2Encoder encoder(session_, id, st->response,
                      {server_.http_date(), st->pending.cors_origin, st->pending.head_only});
    Reply reply(encoder, st->pending.head_only);
    job.answer(reply);
    st->status = reply.status();
    st->bytes = st->pending.head_only ? 0 : reply.content_length();
    break;
  }
  if (state_ == State::Ended) return;
  hold_buffers();
  progress_ = true;
  if (!send()) return end(false);
  settle();
}

void H2Session::log_access(const H2Stream& s) {
  AccessLog& log = server_.access_log();
  if (s.status == 0 || !log.enabled()) return;
  // The peer's address as text, made once per connection (inet_ntop is not free at 100 000
  // requests a second).
  if (host_.empty()) host_ = peer_.host();
  log.log(host_, s.pending.user, s.pending.request_line, s.status, s.bytes);
}

void H2Session::closed(std::int32_t id) {
  auto it = streams_.find(id);
  if (it == streams_.end()) return;
  H2Stream& s = *it->second;
  if (s.pending_job != nullptr) {
    s.pending_job->detach();  // an upload whose body came whole is still committed
    --jobs_;
  }
  if (s.sink) s.sink->abandon("the stream was reset");
  log_access(s);
  streams_.erase(it);
}

}  // namespace httpfs::server
