#include "httpfs/net/poll_socket.hpp"

#include <unistd.h>

namespace httpfs::net {

int PollSocket::init(uv_loop_t* loop, int fd, void* data, uv_poll_cb cb) noexcept {
  int r = uv_poll_init_socket(loop, &poll_, fd);
  if (r != 0) return r;
  poll_.data = data;
  fd_ = fd;
  cb_ = cb;
  return 0;
}

void PollSocket::want(bool readable, bool writable) noexcept {
  if (closing_) return;
  auto events =
      static_cast<std::uint8_t>((readable ? UV_READABLE : 0) | (writable ? UV_WRITABLE : 0));
  if (events == events_) return;
  events_ = events;
  if (events == 0)
    uv_poll_stop(&poll_);
  else
    uv_poll_start(&poll_, events, cb_);
}

void PollSocket::close(uv_close_cb cb) noexcept {
  if (closing_) return;
  closing_ = true;
  events_ = 0;
  uv_close(reinterpret_cast<uv_handle_t*>(&poll_), cb);  // stops polling: the fd can go
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

}  // namespace httpfs::net
