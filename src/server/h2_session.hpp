// The HTTP/2 driver (RFC 9113): one connection's frames and streams. nghttp2 does framing,
// HPACK, flow control and the protocol's own checks, used sans-I/O: bytes read from the
// connection's net::Stream go in through nghttp2_session_mem_recv, frames come out through
// callbacks into the connection's OutputQueue, which the stream flushes. Each stream drives
// the Router and the same handlers as an HTTP/1 request:
//
//   HEADERS (END_HEADERS)  the request head is checked by the HTTP/1 parser (the same limits
//                          and rules: Host from :authority, the target, Content-Length), then
//                          dispatched; a refusal goes out before any DATA is taken. A
//                          body no handler of its method takes (read_before_dispatch, as
//                          HTTP/1) is read and dropped first: dispatched at END_STREAM,
//                          never after a reset, 413 past 64 KiB
//   DATA                   into the handler's BodySink; flow control is the backpressure
//   END_STREAM             the sink finishes: an answer, or a Job on the worker pool
//   the answer             HEADERS, then DATA frames of the body without copies
//                          (server/h2_response.hpp); a body still coming after its answer
//                          is dropped, and past 16 MiB reset with NO_ERROR (RFC 9113 8.1)
//
//   states:  Open ──shutdown, timeout, flood──▶ Draining (GOAWAY sent, streams end) ──▶ Ended
//            Open ──peer gone, protocol error─────────────────────────────────────────▶ Ended
//
// Limits: --http2-max-streams concurrent streams, --max-head and --max-headers per header
// list (431), the stream and connection windows, --send-timeout, --body-timeout and
// --min-body-rate per connection and per stream (a stream whose window stays closed, or
// whose body stops or trickles, while others move, is reset with CANCEL),
// nghttp2's guards against CONTINUATION floods (CVE-2024-27316), rapid reset
// (CVE-2023-44487) and unanswered SETTINGS/PING, and a FloodGuard for frames that ask for
// nothing. An idle session holds nghttp2's state only: the
// buffers go back to the server's pool between requests.
//
// Lifetime: owned by its Connection, which owns the net::Stream and the timeout node this
// session uses; the session tells the connection when it is over (Owner::on_session_end)
// and is destroyed with the connection, abandoning whatever is in flight.
#pragma once

#include <nghttp2/nghttp2.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>

#include "net/address.hpp"
#include "net/stream.hpp"
#include "server/flood_guard.hpp"
#include "server/handler.hpp"
#include "server/pending_job.hpp"
#include "server/timeout_list.hpp"

namespace httpfs::server {

class Server;
struct InFlight;
struct H2Stream;

// Whether the first bytes of a plain connection are the HTTP/2 client preface (RFC 9113
// 3.4): "PRI * HTTP/2.0\r\n" can start no HTTP/1 request this server answers, so its first 16
// bytes decide; nghttp2 checks the rest.
enum class Preface : std::uint8_t { No, Maybe, Yes };
Preface h2_preface(std::string_view first_bytes) noexcept;
// The GOAWAY error code (RFC 9113 7) for a fatal nghttp2 error.
std::uint32_t goaway_code(int nghttp2_error) noexcept;
// Whether a stream's answer is stalled by its own flow-control window (RFC 9113 6.9): DATA
// waits to be sent, its window is closed and the connection's is open. (A closed connection
// window stalls every stream: that is the connection's send clock.)
bool stream_window_stalled(bool data_waiting, std::int32_t stream_window,
                           std::int32_t connection_window) noexcept;

class H2Session final : private PendingJob::Owner {
 public:
  class Owner {
   public:
    // The session is over: the connection closes (`linger`: the peer may still send).
    virtual void on_session_end(bool linger) = 0;

   protected:
    ~Owner() = default;
  };

  H2Session(Server& server, net::Stream& stream, const net::SocketAddress& peer, TimeoutNode& node,
            Owner& owner);
  ~H2Session();
  H2Session(const H2Session&) = delete;
  H2Session& operator=(const H2Session&) = delete;

  // Takes the connection's buffers, holding what was read so far (h2c: the preface).
  void start(InFlight* in);
  void on_ready(int events);
  void on_timeout();
  void begin_shutdown();
  // A stream's sink asked for its request to end (BodyControl::end_soon).
  void end_stream_soon(H2Stream& s);

 private:
  enum class State : std::uint8_t {
    Open,      // streams come and go
    Draining,  // GOAWAY is out: the open streams finish, no new ones
    Ended,     // the connection is closing; nothing more is done
  };
  friend struct H2Callbacks;

  void handle_open(int events);
  void handle_draining(int events);
  void enter(State s);
  // Reads, feeds nghttp2, sends; then picks the poll interest and the clock.
  void step(int events);
  bool receive();
  bool send();
  void settle();
  // The per-stream clocks, on every step and when the connection's clock runs out: a stream
  // whose answer waited on its own window for --send-timeout, or whose body brought nothing
  // for --body-timeout, is reset (RST_STREAM CANCEL; `acted` is set) and the connection goes
  // on. True while a stream is stalled on its window and not yet reset.
  bool watch_streams(bool& acted);
  // The body stops: the sink is abandoned (no upload is committed), the stream reset.
  void cut_body(H2Stream& s, std::string_view why);
  void end(bool linger);
  void drain(std::uint32_t error_code);
  // nghttp2 gave up on the session (`error`): a GOAWAY says why, then the end.
  void fail(int error);

  // ---- streams (from nghttp2's callbacks)
  H2Stream* stream(std::int32_t id) const;
  void dispatch(H2Stream& s, bool end_stream);
  void route(H2Stream& s, bool end_stream);
  void body_ended(H2Stream& s);  // END_STREAM came (on DATA or trailers)
  void body_data(H2Stream& s, std::string_view bytes);
  void complete_body(H2Stream& s);
  void fail_body(H2Stream& s, const BodyFault& fault);
  void answer_error(H2Stream& s, int status, std::string_view detail);
  void start_job(H2Stream& s, std::unique_ptr<Job> job);
  void on_job_done(Job& job) override;
  void closed(std::int32_t id);
  // The stream's access-log line, if it was answered and the log is on.
  void log_access(const H2Stream& s);
  bool frame_received(const nghttp2_frame& frame);
  // Borrows the server's buffers for a step, unless held already.
  void hold_buffers();
  // Output bytes queued and not yet sent.
  std::uint64_t queued() const noexcept;

  Server& server_;
  net::Stream& stream_;
  const net::SocketAddress& peer_;
  TimeoutNode& node_;
  Owner& owner_;
  nghttp2_session* session_ = nullptr;
  InFlight* in_ = nullptr;  // borrowed while anything is in flight
  std::unordered_map<std::int32_t, std::unique_ptr<H2Stream>> streams_;
  FloodGuard flood_;
  std::string host_;  // peer_.host(), made on the first access-log line
  State state_ = State::Open;
  std::uint64_t queued_end_ = 0;  // what the queue's sent() will be once all is out
  std::uint32_t requests_ = 0;
  std::uint32_t jobs_ = 0;
  bool blocked_ = false;   // the socket took less than was queued
  bool progress_ = false;  // a request, body bytes or answer bytes moved in this step
  bool fatal_ = false;     // nghttp2 gave up: what is queued goes out, then the end
};

}  // namespace httpfs::server
