// One HTTP request and its response, over a fresh connection, on a libuv loop: resolve
// (uv_getaddrinfo, every address in turn), connect with a timeout, send the head and the
// body, parse the answer with the same ResponseParser and BodyDecoder as everything else,
// and hand the body to a Handler as it arrives, in constant memory.
//
//   Resolving -> Connecting (-> Handshaking) -> Sending (-> AwaitingContinue) -> Receiving
//   -> Closing
//
// https goes through a net::TlsStream between the socket and this state machine; the
// connect timeout covers the TLS handshake too.
//
// Lifetime: created by start(), freed by itself after its handles are closed; the Handler's
// on_finished() is its last call.
#pragma once

#include <uv.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "http/body_decoder.hpp"
#include "http/response_parser.hpp"
#include "http/url.hpp"
#include "net/output_queue.hpp"
#include "net/poll_socket.hpp"
#include "net/tls.hpp"

namespace httpfs::client {

struct RequestSpec {
  std::string method = "GET";
  http::Url url;
  // Every header but Host, User-Agent, Accept and the framing, which are added unless
  // present here.
  std::vector<std::pair<std::string, std::string>> headers;
  enum class Body { None, Bytes, File, Stream } body = Body::None;
  std::string bytes;  // Bytes
  int file_fd = -1;   // File: read with sendfile(2) from offset 0; owned by the caller
  std::uint64_t file_size = 0;
  int stream_fd = -1;  // Stream (a pipe or terminal): sent chunked until EOF
  bool expect_continue = false;
  bool verbose = false;  // print both heads on stderr
  double connect_timeout = 10;
  // For https: trust settings, shared by every attempt and redirect. Not owned.
  const net::TlsContext* tls = nullptr;
};

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

class Transfer {
 public:
  class Handler {
   public:
    // The final response head (interim 1xx are handled inside). Views are valid during the
    // call only. Returning non-zero aborts the transfer with that exit code.
    virtual int on_head(const http::ResponseHead& head) = 0;
    // Body bytes; return 0 or an exit code to abort (a local write error).
    virtual int on_body(std::string_view data) = 0;
    // A file the body may be spliced into directly (no hashing, a regular file), or -1.
    virtual int splice_fd() { return -1; }
    virtual void on_spliced(std::uint64_t) {}
    virtual void on_finished(TransferResult result) = 0;

   protected:
    ~Handler() = default;
  };

  static Transfer* start(uv_loop_t* loop, RequestSpec spec, Handler& handler);
  // Ends the transfer early with this exit code and message (e.g. --max-time).
  void cancel(int exit_code, std::string why);

 private:
  enum class State : std::uint8_t {
    Resolving,
    Connecting,
    Handshaking,
    Sending,
    AwaitingContinue,
    Receiving,
    Closing
  };

  Transfer(uv_loop_t* loop, RequestSpec spec, Handler& handler);
  ~Transfer();

  static void on_resolved(uv_getaddrinfo_t* req, int status, addrinfo* res);
  static void on_poll(uv_poll_t* handle, int status, int events);
  static void on_connect_timer(uv_timer_t* t);
  static void on_resume_timer(uv_timer_t* t);
  static void on_continue_timer(uv_timer_t* t);
  static void on_closed(uv_handle_t* h);
  static void on_stream_poll(uv_poll_t* handle, int status, int events);

  void handle_resolved(int status, addrinfo* res);
  void handle_connecting(int events);
  void handle_handshaking(int events);
  void handle_sending(int events);
  void handle_receiving(int events);
  void try_next_address();
  void drop_socket();
  void connected();
  void start_request();
  long read_some(char* buf, std::size_t len);  // > 0, 0 end of stream, -EAGAIN, -errno
  void queue_head();
  void queue_body();
  void pump_stream();
  bool flush();
  void receive();
  bool process_input();
  bool splice_body();
  void finish(int exit_code, std::string error);
  void update_interest();
  void maybe_free();

  uv_loop_t* loop_;
  RequestSpec spec_;
  Handler& handler_;
  State state_ = State::Resolving;
  uv_getaddrinfo_t resolve_{};
  uv_timer_t connect_timer_{};
  uv_timer_t continue_timer_{};
  uv_timer_t resume_timer_{};  // TLS input left buffered after a full round of reading
  uv_poll_t stream_poll_{};
  bool stream_polling_ = false;
  bool stream_eof_ = false;
  int open_handles_ = 0;
  bool resolving_ = false;  // a getaddrinfo request is in flight (its callback will come)
  // One socket per connection attempt, each freed with the Transfer: a socket whose poll
  // handle is closing must stay where it is until its close callback.
  std::vector<std::unique_ptr<net::PollSocket>> sockets_;
  net::PollSocket* sock_ = nullptr;
  std::unique_ptr<net::TlsStream> tls_;  // https: this attempt's TLS

  std::vector<std::pair<sockaddr_storage, socklen_t>> addresses_;
  std::size_t next_address_ = 0;
  std::string last_connect_error_;
  std::string address_text_;
  net::OutputQueue out_;
  bool body_queued_ = false;
  bool body_sent_ = false;
  std::unique_ptr<char[]> buf_;
  std::size_t cap_ = 0, begin_ = 0, end_ = 0;
  http::ResponseParser parser_;
  http::BodyDecoder body_;
  bool head_done_ = false;
  bool until_close_ = false;
  int pipe_r_ = -1, pipe_w_ = -1;
  TransferResult result_;
  bool finished_ = false;
};

}  // namespace httpfs::client
