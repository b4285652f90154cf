// --workers N: N threads, each running one libuv loop with its own Server (server/server.hpp)
// and its own SO_REUSEPORT listener on the same address, among which the kernel spreads new
// connections. Share-nothing: each loop has its connection table, timeout lists, exchange
// pool and small-file cache. What they share is read-only after start (options, the
// authentication table, each loop's copy) or made for sharing (the TLS context, the access
// log's destination, the process-wide caches of io/).
//
// With more than one, the thread that calls run() takes SIGINT and SIGTERM on a loop of its
// own and asks every worker to drain (a second signal: to close at once); run() returns
// when every worker loop has closed.
//
// This is h2o's model (threads, one loop each), not nginx's (processes, one loop each): a
// crash takes every loop down, but the process keeps one descriptor table, one state
// directory handle per loop and one log, and --max-connections stays the process's limit,
// split across the loops (worker_share), where nginx's worker_connections is per process.
#pragma once

#include <uv.h>

#include <cstddef>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "server/options.hpp"
#include "server/server.hpp"

namespace httpfs::server {

// Worker `index`'s part of a process-wide limit `total` split over `count` workers: the
// parts add up to `total`, differ by one at most, and are never 0.
std::size_t worker_share(std::size_t total, std::size_t index, std::size_t count) noexcept;

class Workers {
 public:
  explicit Workers(ServerOptions options);
  ~Workers();
  Workers(const Workers&) = delete;
  Workers& operator=(const Workers&) = delete;

  // Makes every loop and Server and starts them (opens the directory, binds), the first
  // first, in this thread. An error message, empty on success; after an error everything
  // that was opened is closed again.
  std::string start();
  std::vector<std::string> urls() const { return workers_.front()->server->urls(); }
  const io::Docroot& docroot() const { return workers_.front()->server->docroot(); }
  // Runs the loops (one alone: in this thread) until a signal has drained them. 0 when every
  // loop closed cleanly (uv_loop_close() == 0 for each), else 1.
  int run();

 private:
  struct Worker {
    uv_loop_t loop{};
    std::unique_ptr<Server> server;
    std::thread thread;
    int close_result = 0;
    bool started = false;
  };
  static void on_signal(uv_signal_t* s, int signum);
  static void on_worker_done(uv_async_t* a);
  static void run_worker(Workers* self, Worker* w, std::size_t index);
  void abandon();

  ServerOptions options_;
  std::vector<std::unique_ptr<Worker>> workers_;
  // The signal-taking loop of run(), with more than one worker.
  uv_loop_t control_{};
  uv_signal_t sigint_{};
  uv_signal_t sigterm_{};
  uv_async_t done_{};
  std::mutex done_mutex_;
  std::size_t finished_ = 0;  // worker loops closed; under done_mutex_
  int signals_ = 0;
};

}  // namespace httpfs::server
