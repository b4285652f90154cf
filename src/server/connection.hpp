// One client connection: an explicit state machine over a non-blocking socket.
//
//   Idle ──readable──▶ ReadingHead ──head──▶ (answer) ──▶ Writing ──sent──▶ Idle / next request
//                          │                                  │
//                          └──(body to read)──▶ ReadingBody ──┘
//   any state ──error or close──▶ Lingering (read and drop leftovers, bounded) ──▶ Closing
//
// An idle keep-alive connection holds only this object (about 250 bytes). While a request is
// in flight it borrows an Exchange from the server: read buffer, parser, output queue.
//
// Lifetime: created by the server on accept; freed from its socket's close callback, or, when
// it never needed a poll handle, by the server after the loop iteration (Server::retire).
// After any call that may close the connection, callers check closing() before touching it.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "net/address.hpp"
#include "net/output_queue.hpp"
#include "net/poll_socket.hpp"
#include "server/timeout_list.hpp"

namespace httpfs::net {
class TlsStream;
}

namespace httpfs::http {
struct RequestHead;
struct RequestPath;
}  // namespace httpfs::http

namespace httpfs::server {

class Server;
class Reply;
struct Exchange;
struct CommitJob;

class Connection {
 public:
  // Takes the accepted socket; on failure closes it and returns nullptr.
  static Connection* create(Server& server, int fd, const net::SocketAddress& peer);

  void on_timeout();
  // Server shutdown: close now when idle, else after the response in flight.
  void begin_shutdown();
  void close_now();
  bool closing() const noexcept { return state_ == State::Closing; }
  // Server::post_ready's callback: TLS input is waiting without the socket being readable.
  void resume_posted();

  TimeoutNode timeout_node;  // in exactly one of the server's timeout lists while open

  static Connection* from_timeout_node(TimeoutNode* n) noexcept;

 private:
  enum class State : std::uint8_t {
    Idle,         // between requests; no buffer held
    ReadingHead,  // a request head is arriving
    ReadingBody,  // a request body is arriving
    Writing,      // responses are queued and the socket is full
    Committing,   // an upload is being made durable and renamed, off the loop thread
    Lingering,    // done; reading and dropping what the client still sends
    Closing,      // closed, waiting for the close callback
  };
  // What the attempt to answer the next buffered request did.
  enum class Step { Answered, NeedInput, Busy, Stop };

  friend class Server;  // frees retired connections
  Connection(Server& server, const net::SocketAddress& peer) : server_(server), peer_(peer) {}
  ~Connection();

  static void on_poll(uv_poll_t* handle, int status, int events);
  static void on_close(uv_handle_t* handle);

  void handle_event(int events);  // dispatches to the current state's handler
  void handle_idle(int events);
  void handle_reading_head(int events);
  void handle_reading_body(int events);
  void handle_writing(int events);
  void handle_lingering(int events);
  void handle_committed(CommitJob& job);  // the Committing state's one event

  // Moves the connection forward as far as it can without waiting for the peer.
  void pump();
  Step answer_next();
  void dispatch(const http::RequestHead& head);
  bool begin_upload(const http::RequestHead& head, const http::RequestPath& path,
                    const std::string& user, Reply& reply);
  void fail_upload(int status, const std::string& why, bool server_fault);
  void abandon_upload(const std::string& why);
  void begin_commit();
  static void on_commit_work(uv_work_t* req);
  static void on_commit_after(uv_work_t* req, int status);
  static std::string request_line(const http::RequestHead& head);
  void answer_parse_error();
  bool feed_body();
  bool splice_body();
  // Records body progress (idle clock, minimum rate); false when the connection was cut.
  bool body_progress();
  bool read_input();  // false: the connection closed (EOF or error)
  // One read from the socket, or through TLS: > 0 bytes, 0 end of stream, -EAGAIN, -errno.
  long receive(char* buf, std::size_t len);
  net::OutputQueue::Flush send_queued(std::size_t& completed);
  // Sets the poll interest; TLS adds writable while it has ciphertext to send, and posts the
  // connection when it holds input the poller cannot see.
  bool want(bool readable, bool writable);
  void refuse_plain_http();
  bool make_room();
  void finish_response_batch();
  void log_completed(std::size_t n);
  void enter(State s);
  void finish_connection();
  void release_exchange();

  Server& server_;
  net::PollSocket sock_;
  std::unique_ptr<net::TlsStream> tls_;  // HTTPS only
  Exchange* ex_ = nullptr;
  CommitJob* commit_ = nullptr;  // an upload being committed on the thread pool
  net::SocketAddress peer_;
  State state_ = State::Idle;
  bool close_after_ = false;       // close once the queued responses are sent
  bool eof_ = false;               // the peer closed its sending side
  bool lingering_needed_ = false;  // the peer may still be sending: linger before closing
  bool posted_ = false;            // in the server's ready list
  std::uint32_t linger_bytes_ = 0;
  // The current minimum-rate window of a request body: when it began and the body bytes
  // received by then.
  std::uint64_t rate_window_start_ = 0;
  std::uint64_t rate_window_bytes_ = 0;
  std::uint32_t requests_ = 0;  // answered on this connection, for the debug log
};

}  // namespace httpfs::server
