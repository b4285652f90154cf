// A non-blocking socket watched by a uv_poll_t: readiness only, the owner does its own
// read(2)/writev(2)/sendfile(2). This is what lets a file be sent with sendfile(2) straight
// to the socket (libuv's uv_fs_sendfile does not do that for sockets, DESIGN.md).
//
// Lifetime: a PollSocket is a member of a heap object that never moves (a Connection); the
// object is freed only from the close callback given to close(). The fd is closed in
// close(), right after uv_close() has removed it from the poller.
#pragma once

#include <uv.h>

#include <cstdint>

namespace httpfs::net {

class PollSocket {
 public:
  // `data` goes to uv_handle_t::data for the callbacks. Returns 0 or a libuv error.
  int init(uv_loop_t* loop, int fd, void* data, uv_poll_cb cb) noexcept;

  // Sets the events of interest. Cheap when nothing changes: libuv only touches epoll when
  // the mask does.
  void want(bool readable, bool writable) noexcept;
  bool wants_read() const noexcept { return events_ & UV_READABLE; }
  bool wants_write() const noexcept { return events_ & UV_WRITABLE; }

  void close(uv_close_cb cb) noexcept;
  bool closing() const noexcept { return closing_; }
  int fd() const noexcept { return fd_; }
  uv_poll_t* handle() noexcept { return &poll_; }

 private:
  uv_poll_t poll_{};
  uv_poll_cb cb_ = nullptr;
  int fd_ = -1;
  std::uint8_t events_ = 0;
  bool closing_ = false;
};

}  // namespace httpfs::net
