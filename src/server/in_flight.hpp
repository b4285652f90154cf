// What an HTTP/1 connection needs only while requests are in flight: the read buffer, the
// parser, the body being read and where it goes, the output queue and the access-log records
// of queued responses. Borrowed from the server's pool, so that an idle keep-alive
// connection holds none of it (idle connections by the thousand would otherwise be
// dominated by their buffers).
//
// Lifetime: owned by the Server's pool; lent to one connection at a time, reset() in
// between. Views into `in` (the parsed head) stay valid until `in` is consumed past them.
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <string>

#include "http/request_parser.hpp"
#include "net/address.hpp"
#include "net/byte_buffer.hpp"
#include "net/output_queue.hpp"
#include "server/access_log.hpp"
#include "server/body_reader.hpp"
#include "server/options.hpp"
#include "server/reply.hpp"

namespace httpfs::server {

class PendingJob;

// What a request whose answer comes after its head is gone (after the body, after a job)
// needs to be answered and logged.
struct PendingAnswer {
  std::string request_line;
  std::string user;
  bool http10 = false;
  bool head_only = false;
  bool keep_alive = true;   // the request allows the connection to persist
  std::string cors_origin;  // the request's Origin, when --cors allows it
};

struct InFlight {
  static constexpr std::size_t kInitialBuffer = 16 * 1024;
  // Bodies read into a sink are read in larger steps: fewer read(2) and write(2) per byte.
  static constexpr std::size_t kBodyBuffer = 256 * 1024;

  explicit InFlight(const ServerOptions& o)
      :  // A head may use max_head bytes; one more byte than that must fit for the parser to
         // see that the limit is passed.
        max_in(o.max_head + 1),
        parser(http::RequestParser::Limits{o.max_request_line, o.max_field_line, o.max_head,
                                           o.max_headers},
               http::RequestParser::Policy{}) {}

  bool make_room() { return in.make_room(kInitialBuffer, std::max(max_in, in.capacity())); }

  // Back to a clean state for the next borrower; keeps the parser's allocations. An
  // unfinished body sink is dropped (an upload's temporary file goes with it).
  void reset() {
    in.clear(kInitialBuffer);
    parser.reset();
    body.reset();
    deferred_head.clear();
    job = nullptr;
    out.clear();
    logs.clear();
  }

  // The access-log line of an answer just queued (when the log is on); it is written once
  // the answer has been sent.
  void log(const AccessLog& access_log, std::string line, std::string user, const Reply& reply) {
    if (access_log.enabled())
      logs.push_back(LogRecord{std::move(line), std::move(user), reply.status(),
                               reply.head_only() ? 0 : reply.content_length()});
  }
  // Writes the lines of the `n` oldest answers (sent, or never to be sent). The peer's
  // address is formatted only when there is a line to write.
  void log_sent(std::size_t n, AccessLog& access_log, const net::SocketAddress& peer) {
    if (n == 0 || logs.empty()) return;
    const std::string host = peer.host();
    for (; n > 0 && !logs.empty(); --n) {
      const LogRecord& r = logs.front();
      access_log.log(host, r.user, r.request_line, r.status, r.bytes);
      logs.pop_front();
    }
  }

  net::ByteBuffer in;  // bytes received and not yet consumed; a head is parsed from its front
  std::size_t max_in;
  http::RequestParser parser;

  BodyReader body;  // the body of the request being answered
  // The head of a request whose body is read before it is dispatched (read_before_dispatch):
  // a copy, since the buffer moves on past it; parsed again once the body is in.
  std::string deferred_head;
  PendingAnswer pending;      // for the answer after the body or the job
  PendingJob* job = nullptr;  // a job on the worker pool (Committing)

  net::OutputQueue out;
  std::deque<LogRecord> logs;  // one per queued answer, in order
};

}  // namespace httpfs::server
