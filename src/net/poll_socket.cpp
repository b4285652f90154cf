#include "net/poll_socket.hpp"

#include <unistd.h>

namespace httpfs::net {

void PollSocket::init(uv_loop_t* loop, int fd, void* data, uv_poll_cb cb) noexcept {
  loop_ = loop;
  fd_ = fd;
  poll_.data = data;
  cb_ = cb;
}

bool PollSocket::want(bool readable, bool writable) noexcept {
  if (closing_) return true;
  auto events =
      static_cast<std::uint8_t>((readable ? UV_READABLE : 0) | (writable ? UV_WRITABLE : 0));
  if (events == events_) return true;
  if (!started_) {
    if (events == 0) return true;  // nothing wanted yet: no handle needed yet
    if (uv_poll_init_socket(loop_, &poll_, fd_) != 0) return false;
    started_ = true;
  }
  events_ = events;
  if (events == 0)
    uv_poll_stop(&poll_);
  else
    uv_poll_start(&poll_, events, cb_);
  return true;
}

bool PollSocket::close(uv_close_cb cb) noexcept {
  if (closing_) return started_;
  closing_ = true;
  events_ = 0;
  if (started_) uv_close(reinterpret_cast<uv_handle_t*>(&poll_), cb);  // stops polling first
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
  return started_;
}

}  // namespace httpfs::net
