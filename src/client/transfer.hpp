// One HTTP request and its answer, over a fresh connection, on a libuv loop: resolve
// (uv_getaddrinfo, every address in turn), connect with a timeout, send the head and the
// body, parse the answer with the same ResponseParser and BodyDecoder as the server, and
// hand the body to a Handler as it arrives, in constant memory. The socket is a net::Stream,
// the server's transport: plain or TLS, read, flush, splice.
//
//   Resolving ─▶ Connecting ─(https)─▶ Handshaking ─┬─▶ Sending ──────────▶ AwaitingHead
//                │      │                 ▲           └─▶ AwaitingContinue ─┘ (100, or 1 s)
//                │      └─(https through ─┘                the final head ──▶ ReceivingBody
//                │         a proxy) Tunneling: CONNECT, its 2xx
//                ▼ next address
//   any state ──the end, an error, cancel()──▶ Done
//   Connecting (--http2-prior-knowledge) or Handshaking (ALPN h2) ──▶ Http2
//   (client/h2_exchange.hpp) ──▶ Done
//
// The answer is read from the moment the request starts going out: a server may answer
// (an error, 100 Continue) before the body is sent, and then the rest of the body is not.
// The connect timeout covers the tunnel and the TLS handshake too. Through an HTTP proxy
// (RequestSpec::proxy) the connection goes to the proxy: an http request in absolute form,
// or a CONNECT tunnel in which TLS verifies the origin. --limit-rate pauses reading
// (rate_timer_) and the sending of a request body (send_timer_) on timers.
//
// With a ConnectionPool (RequestSpec::pool) a request goes out on an idle connection to the
// same origin when there is one (Connecting: writable at once, then straight to the
// exchange), and a connection whose HTTP/1.1 exchange ended cleanly goes back to the pool. A
// request on a reused connection that the server had closed meanwhile (nothing of the answer
// came) is sent again once on a new connection. Only idempotent requests with a replayable
// body take a reused connection (client/policy.hpp idempotent_method).
//
// Lifetime: created by start(), freed by itself once its handles are closed; the Handler's
// on_finished() is its last call.
#pragma once

#include <sys/socket.h>
#include <uv.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "client/request.hpp"
#include "client/stdin_body.hpp"
#include "http/body_decoder.hpp"
#include "http/response_parser.hpp"
#include "http/url.hpp"
#include "net/byte_buffer.hpp"
#include "net/output_queue.hpp"
#include "net/ready_list.hpp"
#include "net/stream.hpp"
#include "net/tls.hpp"

namespace httpfs::client {

class H2Exchange;

struct TransferResult {
  int exit_code = 0;  // 0: a complete answer arrived (whatever its status)
  std::string error;  // one line, when exit_code != 0
  int status = 0;
  std::string reason;
  int version_minor = 1;
  std::vector<std::pair<std::string, std::string>> headers;  // of the final answer
  std::uint64_t body_bytes = 0;
  bool connected = false;  // the connection was made (for retry decisions)
  bool request_sent = false;

  std::string header(std::string_view lower_name) const;
};

class Transfer final : private net::Stream::Owner {
 public:
  class Handler {
   public:
    // The final response head (interim 1xx are handled inside). Views are valid during the
    // call only. Returning non-zero aborts the transfer with that exit code.
    virtual int on_head(const http::ResponseHead& head) = 0;
    // An interim (1xx) answer, e.g. 104 with a resumable upload's URL. Views are valid
    // during the call only.
    virtual void on_interim(const http::ResponseHead&) {}
    // The connection speaks HTTP/2 (ALPN h2, or prior knowledge); before any head.
    virtual void on_http2() {}
    // Body bytes; return 0 or an exit code to abort (a local write error).
    virtual int on_body(std::string_view data) = 0;
    // A file the body may be spliced into directly (no hashing, a regular file), or -1.
    virtual int splice_fd() { return -1; }
    virtual void on_spliced(std::uint64_t) {}
    // Request body bytes sent so far (for a progress line), after each write that sent some.
    virtual void on_body_sent(std::uint64_t) {}
    virtual void on_finished(TransferResult result) = 0;

   protected:
    ~Handler() = default;
  };

  static Transfer* start(uv_loop_t* loop, RequestSpec spec, Handler& handler);
  // Ends the transfer early with this exit code and message (e.g. --max-time).
  void cancel(int exit_code, std::string why);

 private:
  enum class State : std::uint8_t {
    Resolving,         // getaddrinfo in flight
    Connecting,        // connect(2) in flight, one address after another
    Tunneling,         // CONNECT sent to the proxy (https through it); its answer awaited
    Handshaking,       // TLS (https)
    AwaitingContinue,  // the head is sent with Expect: 100-continue; the body waits
    Sending,           // the body is going out
    AwaitingHead,      // all is sent; the answer has not come
    ReceivingBody,     // the final head came; its body is arriving
    Http2,             // the connection speaks HTTP/2: an H2Exchange drives the request
    Done,              // finished: handles are closing, then the Handler hears of it
  };

  Transfer(uv_loop_t* loop, RequestSpec spec, Handler& handler);
  ~Transfer();

  static void on_resolved(uv_getaddrinfo_t* req, int status, addrinfo* res);
  static void on_connect_timer(uv_timer_t* t);
  static void on_continue_timer(uv_timer_t* t);
  static void on_rate_timer(uv_timer_t* t);
  static void on_send_timer(uv_timer_t* t);
  // --limit-rate: how long reading must wait for the bytes read so far to be due, or 0.
  std::uint64_t rate_wait_ms();
  // --limit-rate, the request body: how many bytes the next flush may send (the head is not
  // counted), or 0 with `wait_ms` until more are due.
  std::uint64_t send_allowance(std::uint64_t& wait_ms);
  static void on_stdin(uv_poll_t* handle, int status, int events);
  static void on_closed(uv_handle_t* h);
  // net::Stream::Owner
  void on_stream_ready(int events) override;
  void on_stream_error(int status) override;
  void on_stream_closed() override;

  void handle_resolved(int status, addrinfo* res);
  void handle_connecting();
  void handle_handshaking();
  void start_tunnel();
  void handle_tunneling(int events);
  // Where the connection goes: the proxy, or the URL's host.
  const std::string& peer_host() const noexcept;
  std::uint16_t peer_port() const noexcept;
  std::string peer_name() const;  // "proxy HOST" or the URL's host, for messages
  void handle_sending(int events);
  void handle_receiving(int events);
  void handle_http2(int events);
  void enter(State s);

  // Looks up the peer's addresses (getaddrinfo), or takes an idle connection from the pool.
  void resolve();
  bool reuse_pooled();
  // The exchange ended cleanly on an HTTP/1.1 connection the server keeps open.
  bool reusable() const;
  // A reused connection that turned out closed: the same request on a new connection.
  bool retry_fresh(int exit_code);
  void try_next_address();
  void drop_stream();
  void start_request();
  // HTTP/1.1, or HTTP/2 when ALPN chose h2 or it is known in advance.
  void start_exchange();
  // After a step of the HTTP/2 exchange: the end, or what to wait for.
  void after_h2(bool done, int exit_code, std::string error);
  void send_body();
  void pump_stdin();
  bool flush();
  void update_interest();
  void receive();
  bool end_of_stream();
  bool process_input();
  bool take_head(const http::ResponseHead& h, http::ResponseParser::Result r);
  bool take_body();
  bool splice_body();
  void finish(int exit_code, std::string error);
  void maybe_free();

  uv_loop_t* loop_;
  RequestSpec spec_;
  Handler& handler_;
  State state_ = State::Resolving;
  uv_getaddrinfo_t resolve_{};
  uv_timer_t connect_timer_{};
  uv_timer_t continue_timer_{};
  uv_timer_t rate_timer_{};  // --limit-rate: reading resumes when it fires
  uv_timer_t send_timer_{};  // --limit-rate: sending resumes when it fires
  bool rate_paused_ = false;
  bool send_paused_ = false;
  bool send_started_ = false;
  std::uint64_t send_start_ms_ = 0;  // loop time of the first body byte's flush
  bool rate_started_ = false;
  std::uint64_t rate_start_ms_ = 0;  // loop time of the first read
  std::uint64_t received_ = 0;       // bytes read from the connection (HTTP/1.1)
  net::ReadyList ready_;             // wakes the stream for input TLS holds
  StdinBody stdin_;
  int open_handles_ = 0;
  // One stream per connection attempt, each freed with the Transfer: a stream whose poll
  // handle is closing must stay where it is until its close callback.
  std::vector<std::unique_ptr<net::Stream>> streams_;
  net::Stream* stream_ = nullptr;

  std::vector<std::pair<sockaddr_storage, socklen_t>> addresses_;
  std::size_t next_address_ = 0;
  std::string last_connect_error_;
  std::string address_text_;
  net::OutputQueue out_;
  std::uint64_t body_starts_ = UINT64_MAX;  // out_.sent() when the request body begins
  net::ByteBuffer in_;
  http::ResponseParser parser_;
  http::BodyDecoder body_;
  http::ResponseFraming framing_ = http::ResponseFraming::None;  // of the final answer
  net::SplicePipe pipe_;
  TransferResult result_;
  bool reused_ = false;             // the connection came from the pool
  bool retried_fresh_ = false;      // sent again after a reused connection failed (retry_fresh)
  bool keep_alive_ = false;         // the final answer lets the connection stay open
  std::unique_ptr<H2Exchange> h2_;  // in the Http2 state
};

}  // namespace httpfs::client
