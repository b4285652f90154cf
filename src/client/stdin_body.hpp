// A request body read from a pipe or a terminal as it comes, and sent chunked (RFC 9112
// 7.1): one chunk per readiness of the descriptor, with backpressure (reading pauses while
// the socket has not taken the chunks already framed).
//
//   Idle ──start()──▶ Reading ⇄ Paused ──end of input──▶ Ended
//   any ──close()──▶ Closed
//
// Lifetime: a member of its Transfer; the poll handle's close callback is the Transfer's.
#pragma once

#include <uv.h>

#include <cstdint>
#include <string>

#include "net/output_queue.hpp"

namespace httpfs::client {

class StdinBody {
 public:
  enum class State : std::uint8_t { Idle, Reading, Paused, Ended, Closed };
  enum class Pump : std::uint8_t {
    Chunk,   // a chunk (or the last, empty one) was framed into the queue
    Wait,    // nothing to read now, or the queue is full: paused until resume()
    Failed,  // the input failed: error()
  };

  // Watches `fd`; `cb` (with `data` in the handle) runs when it is readable.
  bool start(uv_loop_t* loop, int fd, void* data, uv_poll_cb cb);
  // Frames what `fd` has into `out`.
  Pump pump(net::OutputQueue& out);
  // The queue drained: read again (after a pause for backpressure).
  void resume();
  // Stops reading for good (the answer came before the body was sent).
  void stop();
  // Closes the poll handle: true when `cb` will be called.
  bool close(uv_close_cb cb);

  State state() const noexcept { return state_; }
  // The last chunk is framed: the body is complete once the queue is sent.
  bool ended() const noexcept { return state_ == State::Ended; }
  const std::string& error() const noexcept { return error_; }

 private:
  void enter(State s);  // the only writer of state_; starts and stops the polling

  uv_poll_t poll_{};
  uv_poll_cb cb_ = nullptr;
  int fd_ = -1;
  State state_ = State::Idle;
  bool started_ = false;  // the poll handle exists
  std::string error_;
};

}  // namespace httpfs::client
