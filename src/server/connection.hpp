// The HTTP/1 driver: one client connection as one explicit state machine over a
// net::Stream. It parses request heads, frames bodies and responses, keeps the connection
// alive or ends it, and hands each request to the Router; handlers never see any of this.
//
//                  ┌───────────────── answered, connection persists ───────────────┐
//                  ▼                                                               │
//   accept ──▶   Idle ──bytes──▶ ReadingHead ──head──▶ Router ──▶ answer ──▶ (send) ─┤
//                                     ▲                  │                        │
//                                     │    body to read  ▼                        │
//                                     │            ReadingBody ──body complete──┐ │
//                                     │                                         ▼ │
//                                     │       a Job answers later: Committing ──┤ │
//                                     └── part of the next head is here ────────┘ │
//   (send) socket full ──▶ Writing ──sent──▶ (as above)                           │
//   the last answer (Connection: close) ──▶ Finishing ──sent──▶ Lingering ──▶ Closing
//   any state ──error, timeout, peer gone──▶ Closing
//   Idle/ReadingHead, first bytes "PRI * HTTP/2.0" or ALPN h2 ──▶ Http2 (server/h2_session.hpp)
//
// Each state has one handler, which asserts it is in its state and decides the next one;
// enter() is the only writer of the state and sets the clock and the poll interest that go
// with it. After a head, the connection answers every complete request it holds (its
// Http1Pipeline) before it waits: advance() answers, proceed() sends and picks the state to
// wait in.
//
// An idle keep-alive connection holds only this object (about 300 bytes). While a request
// is in flight it borrows an InFlight from the server: read buffer, parser, body, output.
//
// Lifetime: created by the server on accept; freed from its stream's close callback, or,
// when it never needed a poll handle, by the server after the loop iteration
// (Server::retire). After any call that may close the connection, check closing().
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "net/address.hpp"
#include "net/stream.hpp"
#include "server/h2_session.hpp"
#include "server/handler.hpp"
#include "server/http1_pipeline.hpp"
#include "server/pending_job.hpp"
#include "server/timeout_list.hpp"

namespace httpfs::server {

class Server;

class Connection final : private net::Stream::Owner,
                         private PendingJob::Owner,
                         private BodyControl,
                         private H2Session::Owner {
 public:
  // Takes the accepted socket and answers what it already holds.
  static Connection* create(Server& server, int fd, const net::SocketAddress& peer);

  void on_timeout();
  // Server shutdown: close now when nothing is in flight, else after the answer in flight.
  void begin_shutdown();
  void close_now();
  bool closing() const noexcept { return state_ == State::Closing; }

  TimeoutNode timeout_node;  // on exactly one of the server's clocks while open
  static Connection* from_timeout_node(TimeoutNode* n) noexcept;

 private:
  enum class State : std::uint8_t {
    Idle,         // between requests; no buffer held
    ReadingHead,  // a request head is arriving
    ReadingBody,  // a request body is arriving (into a sink, or dropped)
    Writing,      // answers are queued and the socket is full
    Committing,   // a Job finishes the request on the worker pool; nothing is read
    Finishing,    // the last answer is being sent; nothing more is read
    Lingering,    // done; reading and dropping what the client still sends
    Http2,        // the connection speaks HTTP/2: its H2Session drives it from here on
    Closing,      // closed, waiting for the close callback
  };
  using Next = Http1Pipeline::Next;
  enum class Read : std::uint8_t { Bytes, Nothing, End, Closed };
  enum class Sent : std::uint8_t { Done, Blocked, Failed };

  friend class Server;  // frees retired connections
  Connection(Server& server, const net::SocketAddress& peer) : server_(server), peer_(peer) {}
  ~Connection();

  // net::Stream::Owner, PendingJob::Owner
  void on_stream_ready(int events) override;
  void on_stream_error(int status) override;
  void on_stream_closed() override;
  void on_job_done(Job& job) override;  // the Committing state's one event

  void handle_idle();
  void handle_reading_head();
  void handle_reading_body();
  void handle_writing();
  void handle_committing(int events);
  void handle_finishing();
  void handle_lingering();
  void handle_http2(int events);
  void enter(State s);
  // Before the first request: whether the connection speaks HTTP/2 (ALPN h2, or the h2c
  // preface); hands it to an H2Session when it does. False: HTTP/1 goes on.
  bool switch_protocol();
  void on_session_end(bool linger) override;

  Http1Pipeline pipeline() { return {server_, *in_, peer_, *this, *this, requests_}; }
  // BodyControl: the body's sink wants its request ended (on the next loop turn).
  void end_soon() override;
  void advance();
  bool proceed(Next next);
  void read_body();
  void splice_body();
  bool body_progress(bool arrived);
  void abandon_body(const std::string& why);

  Read read_input();
  Sent send();
  void refuse_plain_http();
  bool peer_may_send() const noexcept;
  void end_connection(bool linger);
  void release_in_flight() noexcept;

  Server& server_;
  net::Stream stream_;
  InFlight* in_ = nullptr;
  net::SocketAddress peer_;
  State state_ = State::Idle;
  std::uint32_t linger_bytes_ = 0;
  std::uint32_t requests_ = 0;  // answered on this connection, for the debug log
  bool end_requested_ = false;  // the body's sink asked for the request to end (end_soon)
  // In the Http2 state. Last: it uses the stream and the peer until it is destroyed.
  std::unique_ptr<H2Session> h2_;
};

}  // namespace httpfs::server
