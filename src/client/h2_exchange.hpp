// One request over HTTP/2 (RFC 9113), for a Transfer whose connection speaks it: TLS chose
// h2 by ALPN (--http2), or --http2-prior-knowledge on a plain connection. nghttp2 does the
// framing, HPACK and flow control, used sans-I/O on the Transfer's net::Stream and buffers:
// bytes read go in through nghttp2_session_mem_recv, frames come out into the Transfer's
// OutputQueue (a file body as ranges of the file: sendfile on plain connections).
//
// The request's fields are the HTTP/1 head request_head() writes (one place decides the
// defaults), carried as HTTP/2 fields: Host becomes :authority, the framing fields go. The
// answer's fields are given back as an HTTP/1.1 head parsed by the same ResponseParser, so
// that the Session sees one kind of head; its body ends with END_STREAM, and nghttp2 checks
// it against Content-Length. A reset stream or a GOAWAY before the end is a partial answer.
//
// Lifetime: owned by its Transfer, which outlives it and closes the connection after.
#pragma once

#include <nghttp2/nghttp2.h>

#include <cstdint>
#include <string>

#include "client/request.hpp"
#include "client/transfer.hpp"
#include "http/response_parser.hpp"
#include "net/byte_buffer.hpp"
#include "net/output_queue.hpp"
#include "net/stream.hpp"

namespace httpfs::client {

class H2Exchange {
 public:
  // How a step ended: on with the exchange, or done with an exit code (0: a whole answer).
  struct Outcome {
    bool done = false;
    int exit_code = 0;
    std::string error;
  };

  H2Exchange(const RequestSpec& spec, Transfer::Handler& handler, TransferResult& result,
             net::Stream& stream, net::ByteBuffer& in, net::OutputQueue& out);
  ~H2Exchange();
  H2Exchange(const H2Exchange&) = delete;
  H2Exchange& operator=(const H2Exchange&) = delete;

  // Sends the preface, SETTINGS and the request.
  Outcome start();
  // The socket is ready (UV_READABLE | UV_WRITABLE): reads, feeds nghttp2, sends.
  Outcome step(int events);
  // Output is waiting for the socket.
  bool wants_write() const noexcept { return !out_.empty() || stream_.output_pending(); }

 private:
  friend struct H2ClientCallbacks;
  Outcome receive();
  Outcome send();
  // The answer's head, as HTTP/1.1 for the parser, handed to the Handler.
  bool take_head();
  void end(int exit_code, std::string error);

  const RequestSpec& spec_;
  Transfer::Handler& handler_;
  TransferResult& result_;
  net::Stream& stream_;
  net::ByteBuffer& in_;
  net::OutputQueue& out_;
  nghttp2_session* session_ = nullptr;
  std::int32_t stream_id_ = -1;
  std::uint64_t body_left_ = 0;    // request body bytes not yet framed
  std::uint64_t body_offset_ = 0;  // into the file, or into spec_.bytes
  std::uint64_t body_framed_ = 0;
  std::uint64_t queued_end_ = 0;  // out_.sent() once everything framed is sent
  int status_ = 0;                // of the head being received
  std::string fields_;            // its fields as HTTP/1 lines
  http::ResponseParser parser_;
  bool got_final_ = false;
  bool complete_ = false;  // END_STREAM of the answer
  Outcome outcome_;        // set once, by end()
};

}  // namespace httpfs::client
