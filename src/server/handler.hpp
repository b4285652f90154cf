// What a handler is: the code that answers one kind of request, and knows nothing of the
// protocol that carried it. It sees a Request (method, target, fields, the normalised path,
// who asked) and a Reply to fill. It never sees HTTP/1 framing, keep-alive, pipelining,
// HTTP/2 streams or sockets; a protocol driver (server/connection.hpp for HTTP/1) does all
// of that and drives any handler the same way:
//
//   Handling h = handler.handle(request, reply)
//     reply finished        answered; a request body nobody took is the driver's to drop
//     h.sink                the body is read into the sink (write() per piece), then
//                           sink.finish(reply) answers, or hands a Job back
//     h.job                 the answer comes after h.job->run() on the worker pool
//
// A Job runs off the loop thread and then answers on it: that is how a handler finishes
// later (an upload's fsync and rename) without blocking the loop. If the connection is gone
// when the job is done, the job is destroyed without answering.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "server/reply.hpp"
#include "server/request.hpp"

namespace httpfs::server {

// Work handed to the worker pool.
class Job {
 public:
  virtual ~Job() = default;
  // On a worker thread: blocking calls are fine; touches only the job's own data.
  virtual void run() = 0;
  // Back on the loop thread, after run(), when the request can still be answered.
  virtual void answer(Reply& reply) = 0;
};

// Why a request body cannot be taken: the answer's status and its reason.
struct BodyFault {
  int status = 0;
  std::string why;
  bool server_fault = false;  // a disk or system failure (logged at warn), not the client's
};

// The driver's side of a body being read, for its sink: a sink may ask the driver to end
// its request early (a newer request took over a resumable upload). The driver does so once
// the current call into the sink has returned (HTTP/1: the connection closes, the sink is
// abandoned).
class BodyControl {
 public:
  virtual void end_soon() = 0;

 protected:
  ~BodyControl() = default;
};

// Takes a request body, piece by piece, as the driver decodes it.
class BodySink {
 public:
  virtual ~BodySink() = default;
  // Set by the driver before the first byte; it outlives the sink's reading.
  void attach(BodyControl* control) noexcept { control_ = control; }

  // Decoded body bytes. A fault ends the body: the driver then calls fail().
  virtual std::optional<BodyFault> write(std::string_view bytes) = 0;

  // Zero-copy: whether raw body bytes may skip write() and go straight from the socket into
  // the sink's file (only when nothing needs to see them).
  virtual bool takes_splice() const { return false; }
  // Moves up to `n` bytes out of the pipe `pipe_fd` into the file: > 0 moved, or -errno.
  virtual long splice_from(int /*pipe_fd*/, std::size_t /*n*/) { return -1; }
  // Raw bytes the sink takes before spliced() would refuse them (its limit, plus one).
  virtual std::uint64_t splice_room() const { return UINT64_MAX; }
  // After a round of splicing: `moved` bytes arrived; `write_error` (errno) when the file
  // refused more. The same checks as write().
  virtual std::optional<BodyFault> spliced(std::uint64_t moved, int write_error) = 0;

  // The whole body arrived. Answer in `reply`, or return a Job that answers later.
  // A fault instead fails the body as write() would.
  struct Finish {
    std::unique_ptr<Job> job;
    std::optional<BodyFault> fault;
  };
  virtual Finish finish(Reply& reply) = 0;
  // The body failed with `fault` (from this sink, or the driver's: broken framing): answer
  // it. Nothing the body brought is kept.
  virtual void fail(const BodyFault& fault, Reply& reply) = 0;
  // The client went away or stalled: no answer can be sent. Nothing is kept.
  virtual void abandon(std::string_view why) = 0;

 protected:
  BodyControl* control_ = nullptr;  // null until attached (and in tests that drive a sink)
};

// What became of a request (see the top of this file).
struct Handling {
  std::unique_ptr<BodySink> sink;
  std::unique_ptr<Job> job;
};

class Handler {
 public:
  virtual ~Handler() = default;
  virtual Handling handle(const Request& request, Reply& reply) = 0;
};

}  // namespace httpfs::server
