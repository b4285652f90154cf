// The requests an HTTP/1 connection holds, answered in order (RFC 9112 9.3.2: pipelining):
// heads are parsed from the read buffer and routed, answers are framed into the output
// queue, request bodies are fed to their sinks. What it comes to is a Next: what the
// connection has to wait for once the queued answers are sent. It never touches the socket
// or the connection's state; Connection (server/connection.hpp) does both.
//
// Lifetime: made on the stack for one step of a connection, over the InFlight it borrows.
#pragma once

#include <cstdint>
#include <functional>
#include <string_view>

#include "http/request_parser.hpp"
#include "net/address.hpp"
#include "server/body_reader.hpp"
#include "server/handler.hpp"
#include "server/in_flight.hpp"
#include "server/pending_job.hpp"

namespace httpfs::server {

class Server;

class Http1Pipeline {
 public:
  enum class Next : std::uint8_t {
    More,    // a batch limit stopped the answering: answer the rest once sent
    Head,    // the next request head (or part of it) is missing
    Body,    // the body of the request being answered is missing
    Commit,  // a job answers the request in front
    End,     // the last answer is queued: the connection ends after it
  };

  // `owner` hears when a job is done; `control` ends a request when its body sink asks;
  // `requests` counts the requests answered.
  Http1Pipeline(Server& server, InFlight& in, const net::SocketAddress& peer,
                PendingJob::Owner& owner, BodyControl& control, std::uint32_t& requests)
      : server_(server),
        in_(in),
        peer_(peer),
        owner_(owner),
        control_(control),
        requests_(requests) {}

  // Answers what the buffer holds, up to the batch limits.
  Next answer_buffered();
  // What the body reader's `status` comes to.
  Next body_next(BodyReader::Status status);
  // The answer of the request whose job is done.
  Next answer_job(Job& job);
  // This connection's last answer: an error page (Connection: close), and its log line.
  void queue_last_error(const PendingAnswer& p, bool head_only, int status,
                        std::string_view detail);

 private:
  Next answer(const http::RequestHead& head, UnreadBody unread);
  Next read_body_first(const http::RequestHead& head);
  Next answer_deferred();
  Next answer_parse_error();
  Next complete_body();
  Next fail_body(std::unique_ptr<BodySink> sink, const BodyFault& fault);
  void queue_last(const PendingAnswer& p, bool head_only, const std::function<void(Reply&)>& fill);

  Server& server_;
  InFlight& in_;
  const net::SocketAddress& peer_;
  PendingJob::Owner& owner_;
  BodyControl& control_;
  std::uint32_t& requests_;
};

}  // namespace httpfs::server
