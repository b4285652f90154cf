// The server: listeners, the connections, their timeouts, signals and shutdown, on one
// libuv loop in one thread. With --workers N, one Server per loop thread (server/workers.hpp),
// sharing nothing mutable but the access log's destination and the TLS context.
//
// Lifetimes: the Server outlives its loop's run. Listeners and connections are heap objects
// freed in their own close callbacks; the server's own handles (sweep timer, retry timer,
// signals, check) are members closed by close_handles(), after which the loop ends.
#pragma once

#include <uv.h>

#include <atomic>
#include <cstdint>
#include <ctime>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "io/docroot.hpp"
#include "io/lock_store.hpp"
#include "io/upload_store.hpp"
#include "net/listener.hpp"
#include "net/ready_list.hpp"
#include "server/access_log.hpp"
#include "server/auth.hpp"
#include "server/dav.hpp"
#include "server/options.hpp"
#include "server/resumable.hpp"
#include "server/router.hpp"
#include "server/timeout_list.hpp"

namespace httpfs::io {
class FileCache;
}
namespace httpfs::net {
class TlsContext;
}

namespace httpfs::server {

class Connection;
struct InFlight;

// The clocks a connection runs on; each has its duration from the options.
enum class Timeout : std::uint8_t {
  KeepAlive,  // idle between requests
  Head,       // a request head is arriving (from its first byte, never pushed back)
  Body,       // a request body is arriving (idle time)
  Send,       // responses are waiting for the peer to read (idle time)
  Linger,     // reading leftovers before closing
  Busy,       // server-side work (a job): never runs out, but keeps the connection known
};

class Server;

// A Server's place among the worker loops of one process.
struct WorkerRole {
  std::size_t index = 0;  // 0: the first, which sweeps stale state and temporary files at start
  std::size_t count = 1;  // 1: alone, handling SIGINT/SIGTERM itself
  // For index > 0, the started first Server: its port (when -p 0 picked one), its access log's
  // destination and its TLS context are shared.
  const Server* first = nullptr;
};

class Server final : public net::Listener::Delegate {
 public:
  Server(uv_loop_t* loop, ServerOptions options, WorkerRole role = {});
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Opens the directory and binds. Returns an error message, empty on success.
  std::string start();
  // URLs of the bound addresses, e.g. "http://127.0.0.1:8080/".
  std::vector<std::string> urls() const;
  // Stops accepting, lets in-flight responses (and uploads being committed) finish for the
  // grace period, then closes everything; the loop then runs out. Safe to call more than
  // once.
  void shutdown();
  bool shutting_down() const noexcept { return shutting_down_; }
  // From another thread (the one that took the signal): the first call drains as shutdown()
  // does, a second closes every connection at once. Does nothing once the loop has ended.
  void request_drain_from_any_thread();

  // For connections.
  uv_loop_t* loop() const noexcept { return loop_; }
  const ServerOptions& options() const noexcept { return options_; }
  const io::Docroot& docroot() const noexcept { return docroot_; }
  AccessLog& access_log() noexcept { return access_log_; }
  Router& router() noexcept { return router_; }
  net::ReadyList& ready_list() noexcept { return ready_; }
  // Set when serving HTTPS.
  const net::TlsContext* tls() const noexcept { return tls_.get(); }
  std::uint64_t now() const noexcept { return uv_now(loop_); }
  // The Date header value for the current second.
  std::string_view http_date();

  // Puts the connection of `node` on the clock `t`, from now (off any other clock).
  void start_clock(TimeoutNode& node, Timeout t) noexcept { clock(t).arm(node, now()); }
  bool on_clock(const TimeoutNode& node, Timeout t) const noexcept {
    return node.list == &clocks_[static_cast<std::size_t>(t)];
  }
  void stop_clock(TimeoutNode& node) noexcept { TimeoutList::unlink(node); }

  InFlight* acquire_in_flight();
  void release_in_flight(InFlight* in) noexcept;
  void on_connection_closed() noexcept;
  // A closed connection without a poll handle: freed in this loop iteration's check phase.
  void retire(Connection* c) { retired_.push_back(c); }
  std::size_t connection_count() const noexcept { return connections_; }

  // net::Listener::Delegate
  void on_accept(int fd, const net::SocketAddress& peer) override;
  void on_accept_exhausted(int err) override;

 private:
  static void on_sweep(uv_timer_t* t);
  static void on_lock_sweep(uv_work_t* w);  // on the worker pool
  static void on_lock_swept(uv_work_t* w, int status);
  static void on_retry(uv_timer_t* t);
  static void on_grace(uv_timer_t* t);
  static void on_signal(uv_signal_t* s, int signum);
  static void on_drain(uv_async_t* a);
  void drain(int signum);
  static void on_check(uv_check_t* c);
  static void on_notify(uv_poll_t* p, int status, int events);
  static void on_handle_closed(uv_handle_t* h);
  std::string open_resources();
  std::string open_listeners();
  void start_handles();
  void add_routes();
  void sweep();
  TimeoutList& clock(Timeout t) noexcept { return clocks_[static_cast<std::size_t>(t)]; }
  void pause_accepting();
  void resume_accepting();
  void close_handles();
  void maybe_finish_shutdown();
  template <typename Fn>
  void for_each_connection(Fn&& fn);

  uv_loop_t* loop_;
  ServerOptions options_;
  WorkerRole role_;
  io::Docroot docroot_;
  std::unique_ptr<io::FileCache> cache_;
  AccessLog access_log_;
  Authenticator auth_;
  io::LockStore locks_;
  io::NoPropsCache no_props_;
  DavContext dav_{docroot_, options_, locks_, no_props_};
  io::UploadStore uploads_;  // resumable uploads, in the state directory
  UploadRegistry writers_;   // the request appending to each, in this process
  UploadContext upload_context_{uploads_, writers_};
  Router router_;
  // One list per Timeout, in its order. Together they are the registry of open connections:
  // every connection is on exactly one clock.
  TimeoutList clocks_[6];
  std::vector<net::Listener*> listeners_;
  std::vector<std::unique_ptr<InFlight>> spare_in_flight_;
  std::vector<Connection*> retired_;
  std::shared_ptr<const net::TlsContext> tls_;  // shared by the worker loops

  uv_timer_t sweep_timer_{};
  uv_timer_t retry_timer_{};
  uv_timer_t grace_timer_{};
  uv_signal_t sigint_{};
  uv_signal_t sigterm_{};
  uv_check_t check_{};
  // Drain requests from the thread that took a signal: counted, then seen by on_drain().
  uv_async_t drain_async_{};
  std::atomic<int> drain_requests_{0};
  int drains_done_ = 0;
  std::mutex drain_mutex_;  // drain_async_ is sent only while open
  bool drain_closed_ = true;
  net::ReadyList ready_;     // TLS connections with input the socket will not announce
  uv_poll_t notify_poll_{};  // the file cache's inotify descriptor
  int open_handles_ = 0;

  std::size_t connections_ = 0;
  std::size_t max_connections_ = 0;
  bool accepting_paused_ = false;
  bool shutting_down_ = false;
  bool handles_closed_ = false;

  // The sweep of expired lock files and uploads: one at a time, on the worker pool; the loop runs
  // until it has ended, so the request outlives nothing it points at.
  uv_work_t lock_sweep_{};
  bool lock_sweep_running_ = false;
  std::uint64_t last_lock_sweep_ = 0;  // loop time it last started
  std::time_t date_second_ = 0;
  char date_[32] = {};
};

}  // namespace httpfs::server
