// A non-blocking socket watched by a uv_poll_t: readiness only, the owner does its own
// read(2)/writev(2)/sendfile(2). This is what lets a file be sent with sendfile(2) straight
// to the socket (libuv's uv_fs_sendfile does not do that for sockets: it falls back to a
// read and write loop that blocks in poll()).
//
// The uv_poll_t is set up lazily, on the first want() that asks for an event: uv_poll_init
// costs three syscalls (an epoll probe and an ioctl), and a short connection whose request is
// already waiting when it is accepted is often answered and closed without ever waiting.
//
// Lifetime: a PollSocket is a member of a heap object that never moves (a Connection). When
// the handle was set up, close() returns true and the object is freed from the close
// callback; when it was not, close() returns false and the owner frees the object itself
// (later, never from within its own member functions). The fd is closed in close(), after
// uv_close() has removed it from the poller.
#pragma once

#include <uv.h>

#include <cstdint>

namespace httpfs::net {

class PollSocket {
 public:
  // Takes the socket; `data` goes to uv_handle_t::data for the callbacks.
  void init(uv_loop_t* loop, int fd, void* data, uv_poll_cb cb) noexcept;

  // Sets the events of interest. Cheap when nothing changes: libuv only touches epoll when
  // the mask does. Returns false if the poll handle could not be set up.
  bool want(bool readable, bool writable) noexcept;
  bool wants_read() const noexcept { return events_ & UV_READABLE; }
  bool wants_write() const noexcept { return events_ & UV_WRITABLE; }

  // True: cb will be called (the handle existed). False: nothing to wait for.
  bool close(uv_close_cb cb) noexcept;
  bool closing() const noexcept { return closing_; }
  int fd() const noexcept { return fd_; }
  uv_poll_t* handle() noexcept { return &poll_; }

 private:
  // `data` is kept in poll_.data from init() on: libuv never touches that field, also not in
  // uv_poll_init, and an idle connection is 8 bytes smaller for it.
  uv_poll_t poll_{};
  uv_loop_t* loop_ = nullptr;
  uv_poll_cb cb_ = nullptr;
  int fd_ = -1;
  std::uint8_t events_ = 0;
  bool started_ = false;  // uv_poll_init done
  bool closing_ = false;
};

}  // namespace httpfs::net
