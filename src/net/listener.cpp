#include "net/listener.hpp"

#include <netinet/tcp.h>
#include <unistd.h>

#include <cerrno>

namespace httpfs::net {

namespace {

// Accepting is bounded per wake-up so that a connection flood does not starve the
// connections already being served.
constexpr int kAcceptBatch = 64;
// Unsent bytes a socket holds before send(2) blocks (see TCP_NOTSENT_LOWAT below).
constexpr std::size_t kNotSentLowat = 256 * 1024;

}  // namespace

Listener* Listener::open(uv_loop_t* loop, const SocketAddress& addr, const Settings& settings,
                         Delegate* delegate, int& err) {
  int fd = ::socket(addr.family(), SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    err = -errno;
    return nullptr;
  }
  int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (settings.reuse_port && ::setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) != 0) {
    err = -errno;
    ::close(fd);
    return nullptr;
  }
  // Accepted sockets inherit TCP_NODELAY: one setsockopt here instead of one per connection.
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  // And TCP_NOTSENT_LOWAT (tcp(7)): send(2) takes no more once this much waits unsent. The
  // send buffer autotunes to megabytes (on loopback from the start), and a peer that reads a
  // few bytes a second would otherwise have that much copied into the kernel for it, a
  // thousand times over; data in flight to a fast peer is not limited by it.
  const int lowat = static_cast<int>(kNotSentLowat);
  ::setsockopt(fd, IPPROTO_TCP, TCP_NOTSENT_LOWAT, &lowat, sizeof lowat);
  if (addr.family() == AF_INET6) {
    int v = settings.v6only ? 1 : 0;
    ::setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &v, sizeof v);
  }
  if (const int defer = settings.defer_accept_seconds; defer > 0) {
    // Hand over connections only once their first bytes have arrived: the request is read at
    // once, and a short connection never needs a poll registration.
    ::setsockopt(fd, IPPROTO_TCP, TCP_DEFER_ACCEPT, &defer, sizeof defer);
  }
  if (::bind(fd, addr.get(), addr.length()) != 0 || ::listen(fd, settings.backlog) != 0) {
    err = -errno;
    ::close(fd);
    return nullptr;
  }
  auto* l = new Listener();
  sockaddr_storage ss{};
  socklen_t len = sizeof ss;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len);
  l->address_ = SocketAddress::from(reinterpret_cast<sockaddr*>(&ss), len);
  l->fd_ = fd;
  l->delegate_ = delegate;
  if (int r = uv_poll_init_socket(loop, &l->poll_, fd); r != 0) {
    err = r;
    ::close(fd);
    delete l;
    return nullptr;
  }
  l->poll_.data = l;
  uv_poll_start(&l->poll_, UV_READABLE, &Listener::on_poll);
  err = 0;
  return l;
}

void Listener::on_poll(uv_poll_t* handle, int status, int) {
  auto* self = static_cast<Listener*>(handle->data);
  if (status < 0) return;  // nothing sensible to do; the next wake-up retries
  self->handle_readable();
}

void Listener::handle_readable() {
  for (int i = 0; i < kAcceptBatch && !paused_ && !closing_; ++i) {
    sockaddr_storage ss{};
    socklen_t len = sizeof ss;
    int fd = ::accept4(fd_, reinterpret_cast<sockaddr*>(&ss), &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      int e = errno;
      if (e == EAGAIN || e == EWOULDBLOCK) return;
      if (e == EINTR || e == ECONNABORTED || e == EPROTO || e == EPERM) continue;
      if (e == EMFILE || e == ENFILE || e == ENOBUFS || e == ENOMEM) {
        delegate_->on_accept_exhausted(e);
        return;
      }
      return;
    }
    delegate_->on_accept(fd, SocketAddress::from(reinterpret_cast<sockaddr*>(&ss), len));
  }
}

void Listener::pause() noexcept {
  if (paused_ || closing_) return;
  paused_ = true;
  uv_poll_stop(&poll_);
}

void Listener::resume() noexcept {
  if (!paused_ || closing_) return;
  paused_ = false;
  uv_poll_start(&poll_, UV_READABLE, &Listener::on_poll);
}

void Listener::close() noexcept {
  if (closing_) return;
  closing_ = true;
  uv_close(reinterpret_cast<uv_handle_t*>(&poll_), &Listener::on_close);
  ::close(fd_);
  fd_ = -1;
}

void Listener::on_close(uv_handle_t* handle) {
  delete static_cast<Listener*>(handle->data);
}

}  // namespace httpfs::net
