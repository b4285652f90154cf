#include "client/stdin_body.hpp"

#include <unistd.h>

#include <cerrno>
#include <cstdio>

#include "net/errors.hpp"

namespace httpfs::client {

namespace {

constexpr std::size_t kChunk = 64 * 1024;
// Framed chunks the socket has not taken yet, beyond which reading pauses.
constexpr std::size_t kMaxQueued = 4 * kChunk;

}  // namespace

bool StdinBody::start(uv_loop_t* loop, int fd, void* data, uv_poll_cb cb) {
  fd_ = fd;
  cb_ = cb;
  if (uv_poll_init(loop, &poll_, fd) != 0) return false;
  poll_.data = data;
  started_ = true;
  enter(State::Reading);
  return true;
}

void StdinBody::enter(State s) {
  state_ = s;
  switch (s) {
    case State::Reading:
      uv_poll_start(&poll_, UV_READABLE, cb_);
      break;
    case State::Paused:
    case State::Ended:
      uv_poll_stop(&poll_);
      break;
    case State::Idle:
    case State::Closed:
      break;
  }
}

StdinBody::Pump StdinBody::pump(net::OutputQueue& out) {
  if (state_ != State::Reading) return Pump::Wait;
  if (out.memory_bytes() > kMaxQueued) {
    enter(State::Paused);
    return Pump::Wait;
  }
  char buf[kChunk];
  const ssize_t n = ::read(fd_, buf, sizeof buf);
  if (n < 0) {
    if (errno == EAGAIN || errno == EINTR) return Pump::Wait;
    error_ = "cannot read the standard input: " + net::errno_text(errno);
    return Pump::Failed;
  }
  if (n == 0) {
    out.append("0\r\n\r\n");
    enter(State::Ended);
    return Pump::Chunk;
  }
  char size[24];
  const int len = std::snprintf(size, sizeof size, "%zx\r\n", static_cast<std::size_t>(n));
  out.append(std::string_view(size, static_cast<std::size_t>(len)));
  out.append(std::string_view(buf, static_cast<std::size_t>(n)));
  out.append("\r\n");
  return Pump::Chunk;
}

void StdinBody::resume() {
  if (state_ == State::Paused) enter(State::Reading);
}

void StdinBody::stop() {
  if (state_ == State::Reading || state_ == State::Paused) enter(State::Ended);
}

bool StdinBody::close(uv_close_cb cb) {
  enter(State::Closed);
  if (!started_) return false;
  started_ = false;
  uv_close(reinterpret_cast<uv_handle_t*>(&poll_), cb);
  return true;
}

}  // namespace httpfs::client
