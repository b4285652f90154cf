// The server: listeners, the connections, their timeouts, signals and shutdown, on one
// libuv loop in one thread.
//
// Lifetimes: the Server outlives its loop's run. Listeners and connections are heap objects
// freed in their own close callbacks; the server's own handles (sweep timer, retry timer,
// signals, check) are members closed by close_handles(), after which the loop ends.
#pragma once

#include <uv.h>

#include <cstdint>
#include <ctime>
#include <memory>
#include <string>
#include <vector>

#include "io/docroot.hpp"
#include "net/listener.hpp"
#include "server/access_log.hpp"
#include "server/auth.hpp"
#include "server/options.hpp"
#include "server/timeout_list.hpp"

namespace httpfs::io {
class FileCache;
}
namespace httpfs::net {
class TlsContext;
}

namespace httpfs::server {

class Connection;
struct Exchange;

class Server final : public net::Listener::Delegate {
 public:
  Server(uv_loop_t* loop, ServerOptions options);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Opens the directory and binds. Returns an error message, empty on success.
  std::string start();
  // URLs of the bound addresses, e.g. "http://127.0.0.1:8080/".
  std::vector<std::string> urls() const;
  // Stops accepting, lets in-flight responses finish for the grace period, then closes
  // everything; the loop then runs out. Safe to call more than once.
  void shutdown();
  bool shutting_down() const noexcept { return shutting_down_; }

  // For connections.
  uv_loop_t* loop() const noexcept { return loop_; }
  const ServerOptions& options() const noexcept { return options_; }
  const io::Docroot& docroot() const noexcept { return docroot_; }
  io::FileCache* cache() noexcept { return cache_.get(); }
  AccessLog& access_log() noexcept { return access_log_; }
  // Set when serving HTTPS.
  const net::TlsContext* tls() const noexcept { return tls_.get(); }
  std::uint64_t now() const noexcept { return uv_now(loop_); }
  // The Date header value for the current second.
  std::string_view http_date();

  TimeoutList keepalive_timeouts, header_timeouts, body_timeouts, send_timeouts, linger_timeouts;
  // Connections doing server-side work (committing an upload): never timed out, listed so
  // that shutdown finds them.
  TimeoutList busy_connections;
  Authenticator& authenticator() noexcept { return auth_; }

  Exchange* acquire_exchange();
  void release_exchange(Exchange* ex) noexcept;
  void on_connection_closed() noexcept;
  // A closed connection without a poll handle: freed in this loop iteration's check phase.
  void retire(Connection* c) { retired_.push_back(c); }
  // A TLS connection with decrypted input the socket's readiness will not announce: it is
  // resumed as if readable before the loop next waits. unpost() when it closes.
  void post_ready(Connection* c);
  void unpost(Connection* c) noexcept;
  std::size_t connection_count() const noexcept { return connections_; }

  // net::Listener::Delegate
  void on_accept(int fd, const net::SocketAddress& peer) override;
  void on_accept_exhausted(int err) override;

 private:
  static void on_sweep(uv_timer_t* t);
  static void on_retry(uv_timer_t* t);
  static void on_grace(uv_timer_t* t);
  static void on_signal(uv_signal_t* s, int signum);
  static void on_check(uv_check_t* c);
  static void on_notify(uv_poll_t* p, int status, int events);
  static void on_ready(uv_idle_t* idle);
  static void on_handle_closed(uv_handle_t* h);
  void sweep();
  void pause_accepting();
  void resume_accepting();
  void close_handles();
  void maybe_finish_shutdown();
  template <typename Fn>
  void for_each_connection(Fn&& fn);

  uv_loop_t* loop_;
  ServerOptions options_;
  io::Docroot docroot_;
  std::unique_ptr<io::FileCache> cache_;
  AccessLog access_log_;
  Authenticator auth_;
  std::vector<net::Listener*> listeners_;
  std::vector<std::unique_ptr<Exchange>> spare_exchanges_;
  std::vector<Connection*> retired_;
  std::unique_ptr<net::TlsContext> tls_;
  std::vector<Connection*> ready_;  // posted; an entry is nulled when its connection closes

  uv_timer_t sweep_timer_{};
  uv_timer_t retry_timer_{};
  uv_timer_t grace_timer_{};
  uv_signal_t sigint_{};
  uv_signal_t sigterm_{};
  uv_check_t check_{};
  uv_idle_t ready_idle_{};   // runs while ready_ is not empty, so the loop does not block
  uv_poll_t notify_poll_{};  // the file cache's inotify descriptor
  int open_handles_ = 0;

  std::size_t connections_ = 0;
  std::size_t max_connections_ = 0;
  bool accepting_paused_ = false;
  bool shutting_down_ = false;
  bool handles_closed_ = false;

  std::time_t date_second_ = 0;
  char date_[32] = {};
};

}  // namespace httpfs::server
