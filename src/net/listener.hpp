// A listening TCP socket on the loop. Accepts in batches and hands each new socket (already
// non-blocking, close-on-exec, TCP_NODELAY inherited from the listener) to its delegate.
//
// When accept(2) runs out of file descriptors the delegate is told, and is expected to
// pause() the listener until descriptors free up: polling a listening socket that cannot be
// accepted from would spin the loop (README "Security", row 23).
//
// Lifetime: created with new, freed in its own close callback after close().
#pragma once

#include <uv.h>

#include "net/address.hpp"

namespace httpfs::net {

class Listener {
 public:
  class Delegate {
   public:
    virtual void on_accept(int fd, const SocketAddress& peer) = 0;
    // EMFILE, ENFILE, ENOBUFS or ENOMEM from accept(2).
    virtual void on_accept_exhausted(int err) = 0;

   protected:
    ~Delegate() = default;
  };

  struct Settings {
    // Only for IPv6 addresses: false makes a wildcard IPv6 socket also take IPv4 connections.
    bool v6only = true;
    int backlog = 4096;
    int defer_accept_seconds = 0;  // > 0: TCP_DEFER_ACCEPT
    // SO_REUSEPORT: several listeners (one per worker loop) on one address, among which the
    // kernel spreads the connections by a hash of their addresses. All must set it.
    bool reuse_port = false;
  };

  // Binds and listens. Returns nullptr and sets `err` (-errno) on failure.
  static Listener* open(uv_loop_t* loop, const SocketAddress& addr, const Settings& settings,
                        Delegate* delegate, int& err);

  const SocketAddress& address() const noexcept { return address_; }
  void pause() noexcept;
  void resume() noexcept;
  bool paused() const noexcept { return paused_; }
  void close() noexcept;  // frees this object later, from the close callback

 private:
  Listener() = default;
  static void on_poll(uv_poll_t* handle, int status, int events);
  static void on_close(uv_handle_t* handle);
  void handle_readable();

  uv_poll_t poll_{};
  int fd_ = -1;
  SocketAddress address_;
  Delegate* delegate_ = nullptr;
  bool paused_ = false;
  bool closing_ = false;
};

}  // namespace httpfs::net
