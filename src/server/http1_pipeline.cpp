#include "server/http1_pipeline.hpp"

#include <spdlog/spdlog.h>

#include <cassert>

#include "http/parse_error.hpp"
#include "http/status.hpp"
#include "server/cross_site.hpp"
#include "server/debug_log.hpp"
#include "server/http1_encoder.hpp"
#include "server/server.hpp"

namespace httpfs::server {

namespace {

// Queued output beyond which no more pipelined requests are answered until it drains.
constexpr std::size_t kMaxQueuedMemory = 256 * 1024;

}  // namespace

Http1Pipeline::Next Http1Pipeline::answer_buffered() {
  InFlight& in = in_;
  const std::size_t max_pipelined = server_.options().max_pipelined;
  while (in.out.queued_responses() < max_pipelined && in.out.memory_bytes() < kMaxQueuedMemory &&
         !in.out.has_deferred_body()) {
    if (in.body.active()) {  // the body of the request being answered
      if (const Next n = body_next(in.body.feed(in.in)); n != Next::More) return n;
      continue;
    }
    if (server_.shutting_down()) return Next::End;  // no new request after the signal
    if (in.in.empty()) return Next::Head;
    switch (in.parser.parse(in.in.view())) {
      case http::RequestParser::Result::Incomplete:
        // The parser fails before the buffer fills (it holds max_head + 1 bytes); be safe.
        if (in.in.full() && !in.make_room()) return answer_parse_error();
        return Next::Head;
      case http::RequestParser::Result::Error:
        return answer_parse_error();
      case http::RequestParser::Result::Complete:
        break;
    }
    ++requests_;
    const http::RequestHead& h = in.parser.head();
    const Next n = read_before_dispatch(h) ? read_body_first(h) : answer(h, unread_body(h));
    if (n != Next::More) return n;
  }
  return Next::More;
}

Http1Pipeline::Next Http1Pipeline::read_body_first(const http::RequestHead& h) {
  InFlight& in = in_;
  in.deferred_head.assign(in.in.view().substr(0, h.head_size));
  // For the error page and log line, should the body break.
  in.pending = PendingAnswer{server_.access_log().enabled() ? request_line(h) : std::string(),
                             {},
                             h.version_minor == 0,
                             h.method == http::Method::Head,
                             false,
                             std::string(allowed_origin(h, server_.options().cors))};
  in.body.start(h, nullptr, server_.now());
  // The head's views point into the buffer: nothing past this line may use them.
  in.in.consume(h.head_size);
  in.parser.reset();
  return Next::More;
}

Http1Pipeline::Next Http1Pipeline::answer_deferred() {
  InFlight& in = in_;
  // The copy parsed as it was at first; the parser is free, the body being read.
  const http::RequestParser::Result r = in.parser.parse(in.deferred_head);
  assert(r == http::RequestParser::Result::Complete);
  (void)r;
  const Next n = answer(in.parser.head(), UnreadBody::None);
  in.deferred_head.clear();
  return n;
}

// Dispatches `h`; `unread` says what becomes of a body nobody takes (None: there is none,
// or it was read already and `h` is the deferred copy).
Http1Pipeline::Next Http1Pipeline::answer(const http::RequestHead& h, UnreadBody unread) {
  InFlight& in = in_;
  const bool deferred = !in.deferred_head.empty();
  const bool persists = h.keep_alive && !server_.shutting_down();
  const std::string_view cors = allowed_origin(h, server_.options().cors);
  Http1Encoder encoder(in.out, {server_.http_date(), h.version_minor == 0,
                                persists && unread != UnreadBody::Close, cors});
  if (h.method == http::Method::Connect) encoder.close_after();  // tunnel data would follow
  Reply reply(encoder, h.method == http::Method::Head);
  Request request{h, {}, {}, peer_, server_.now()};
  Handling handling = server_.router().dispatch(request, reply);
  if (deferred && handling.sink) {
    // read_before_dispatch() let through a method whose handler takes a body: it is gone.
    spdlog::error("{} took a body read before dispatch", http::method_name(h.method));
    handling.sink->abandon("the body was read before dispatch");
    handling.sink.reset();
    reply_error(reply, http::status::kInternalServerError, "The request body was not kept.");
  }

  std::string line = server_.access_log().enabled() ? request_line(h) : std::string();
  if (handling.sink || handling.job) {
    in.pending = PendingAnswer{std::move(line),
                               std::move(request.user),
                               h.version_minor == 0,
                               h.method == http::Method::Head,
                               persists,
                               std::string(cors)};
    if (handling.sink) {
      handling.sink->attach(&control_);
      in.body.start(h, std::move(handling.sink), server_.now());
      in.in.grow_to(InFlight::kBodyBuffer);  // fewer, larger reads for bodies that are kept
      // RFC 9110 10.1.1: tell a waiting client to go on (HTTP/1.0 clients are not waiting).
      if (h.expect_continue && h.version_minor == 1) in.out.append("HTTP/1.1 100 Continue\r\n\r\n");
    } else if (unread != UnreadBody::None) {
      // A body the handler did not take stays unread: the connection ends after the answer.
      in.body.leave_unread(h);
      in.pending.keep_alive = false;
    }
  } else {
    in.log(server_.access_log(), std::move(line), std::move(request.user), reply);
    if (!encoder.keep_alive() && unread != UnreadBody::None)
      in.body.leave_unread(h);  // the connection lingers for it
    else if (unread == UnreadBody::Drop)
      in.body.start(h, nullptr, server_.now());
  }
  // The head's views point into the buffer (or the deferred copy): nothing past this line
  // may use them.
  if (!deferred) in.in.consume(h.head_size);
  in.parser.reset();
  if (handling.job) {
    in.job = PendingJob::start(server_.loop(), std::move(handling.job), owner_);
    return Next::Commit;
  }
  return encoder.keep_alive() || in.body.active() ? Next::More : Next::End;
}

Http1Pipeline::Next Http1Pipeline::answer_parse_error() {
  const http::ParseError e = in_.parser.error();
  const int status = http::error_status(e) != 0 ? http::error_status(e) : 400;
  HTTPFS_DEBUG("{}: malformed request ({}): {}", peer_.host(), http::error_name(e),
               http::error_message(e));
  const std::string_view line = first_line(in_.in.view());
  // A client that sent HEAD reads the answer without a body (RFC 9110 9.3.2), even when the
  // rest of its request was unusable. Framing is in doubt: nothing after this is read as a
  // request, and the unparsed bytes stay, so that the connection lingers for them.
  queue_last_error(PendingAnswer{std::string(line), {}, false, false, false},
                   line.starts_with("HEAD "), status, http::error_message(e));
  return Next::End;
}

Http1Pipeline::Next Http1Pipeline::body_next(BodyReader::Status status) {
  switch (status) {
    case BodyReader::Status::Incomplete:
      return Next::Body;
    case BodyReader::Status::Complete:
      return complete_body();
    case BodyReader::Status::Faulted:
      return fail_body(in_.body.take_sink(), in_.body.fault());
    case BodyReader::Status::Abandoned:
      // A body read before dispatch broke or grew too large: the request is refused like
      // any framing error. One dropped after an answer just ends the connection.
      if (!in_.deferred_head.empty()) {
        HTTPFS_DEBUG("{}: {}", peer_.host(), in_.body.fault().why);
        queue_last_error(in_.pending, in_.pending.head_only, in_.body.fault().status,
                         in_.body.fault().why);
      }
      return Next::End;
  }
  return Next::End;
}

Http1Pipeline::Next Http1Pipeline::complete_body() {
  InFlight& in = in_;
  std::unique_ptr<BodySink> sink = in.body.take_sink();
  if (!sink) return in.deferred_head.empty() ? Next::More : answer_deferred();
  const PendingAnswer& p = in.pending;
  Http1Encoder encoder(in.out, {server_.http_date(), p.http10,
                                p.keep_alive && !server_.shutting_down(), p.cors_origin});
  Reply reply(encoder, p.head_only);
  BodySink::Finish finish = sink->finish(reply);
  if (finish.fault) {
    in_.body.failed_at_end(*finish.fault);
    return fail_body(std::move(sink), in_.body.fault());
  }
  if (finish.job) {
    in.job = PendingJob::start(server_.loop(), std::move(finish.job), owner_);
    return Next::Commit;
  }
  in.log(server_.access_log(), p.request_line, p.user, reply);
  return encoder.keep_alive() ? Next::More : Next::End;
}

Http1Pipeline::Next Http1Pipeline::fail_body(std::unique_ptr<BodySink> sink,
                                             const BodyFault& fault) {
  // The rest of the body is not read: this answer is the last.
  queue_last(in_.pending, false, [&](Reply& reply) { sink->fail(fault, reply); });
  return Next::End;
}

Http1Pipeline::Next Http1Pipeline::answer_job(Job& job) {
  in_.job = nullptr;
  const PendingAnswer& p = in_.pending;
  Http1Encoder encoder(in_.out, {server_.http_date(), p.http10,
                                 p.keep_alive && !server_.shutting_down(), p.cors_origin});
  Reply reply(encoder, p.head_only);  // a HEAD answered by a job (a folder's archive)
  job.answer(reply);
  in_.log(server_.access_log(), p.request_line, p.user, reply);
  return encoder.keep_alive() ? Next::More : Next::End;
}

void Http1Pipeline::queue_last(const PendingAnswer& p, bool head_only,
                               const std::function<void(Reply&)>& fill) {
  Http1Encoder encoder(in_.out, {server_.http_date(), p.http10, false, p.cors_origin});
  Reply reply(encoder, head_only);
  fill(reply);
  in_.log(server_.access_log(), p.request_line, p.user, reply);
}

void Http1Pipeline::queue_last_error(const PendingAnswer& p, bool head_only, int status,
                                     std::string_view detail) {
  queue_last(p, head_only, [&](Reply& reply) { reply_error(reply, status, detail); });
}

}  // namespace httpfs::server
