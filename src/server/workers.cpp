#include "server/workers.hpp"

#include <pthread.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <csignal>
#include <cstdio>

namespace httpfs::server {

std::size_t worker_share(std::size_t total, std::size_t index, std::size_t count) noexcept {
  if (count <= 1) return total == 0 ? 1 : total;
  const std::size_t share = total / count + (index < total % count ? 1 : 0);
  return share == 0 ? 1 : share;
}

Workers::Workers(ServerOptions options) : options_(std::move(options)) {}

Workers::~Workers() = default;

std::string Workers::start() {
  const std::size_t count = std::max<std::size_t>(1, options_.workers);
  for (std::size_t i = 0; i < count; ++i) {
    auto w = std::make_unique<Worker>();
    uv_loop_init(&w->loop);
    const Server* first = i == 0 ? nullptr : workers_.front()->server.get();
    w->server = std::make_unique<Server>(&w->loop, options_, WorkerRole{i, count, first});
    workers_.push_back(std::move(w));
    if (std::string err = workers_.back()->server->start(); !err.empty()) {
      abandon();
      return err;
    }
    workers_.back()->started = true;
  }
  if (count > 1) {
    // Before the URL is printed: a signal sent as soon as it is must find its handler.
    uv_loop_init(&control_);
    uv_signal_init(&control_, &sigint_);
    uv_signal_init(&control_, &sigterm_);
    uv_async_init(&control_, &done_, &Workers::on_worker_done);
    sigint_.data = sigterm_.data = done_.data = this;
    uv_signal_start(&sigint_, &Workers::on_signal, SIGINT);
    uv_signal_start(&sigterm_, &Workers::on_signal, SIGTERM);
  }
  return {};
}

void Workers::abandon() {
  // Runs each loop here until what its Server opened has closed again (a Server whose start
  // failed has closed what it opened already).
  for (auto& w : workers_) {
    if (w->started) w->server->shutdown();
    uv_run(&w->loop, UV_RUN_DEFAULT);
    w->server.reset();
    uv_loop_close(&w->loop);
  }
  workers_.clear();
}

int Workers::run() {
  if (workers_.empty()) return 1;
  if (workers_.size() == 1) {
    Worker& w = *workers_.front();
    uv_run(&w.loop, UV_RUN_DEFAULT);
    w.server.reset();
    w.close_result = uv_loop_close(&w.loop);
  } else {
    for (std::size_t i = 0; i < workers_.size(); ++i)
      workers_[i]->thread = std::thread(&Workers::run_worker, this, workers_[i].get(), i);
    uv_run(&control_, UV_RUN_DEFAULT);
    for (auto& w : workers_) w->thread.join();
    // The loops have ended: their Servers go now, in this thread, after the last drain request
    // the signal loop could have sent them.
    for (auto& w : workers_) w->server.reset();
    if (int r = uv_loop_close(&control_); r != 0)
      spdlog::error("signal loop did not close cleanly: {}", uv_strerror(r));
  }
  int status = 0;
  for (std::size_t i = 0; i < workers_.size(); ++i) {
    if (workers_[i]->close_result == 0) continue;
    spdlog::error("event loop {} did not close cleanly: {}", i,
                  uv_strerror(workers_[i]->close_result));
    status = 1;
  }
  return status;
}

void Workers::run_worker(Workers* self, Worker* w, std::size_t index) {
  char name[16];
  std::snprintf(name, sizeof name, "httpfs-w%zu", index);
  ::pthread_setname_np(::pthread_self(), name);
  uv_run(&w->loop, UV_RUN_DEFAULT);
  w->close_result = uv_loop_close(&w->loop);
  // Under the mutex: the signal loop closes done_ only after the last send.
  std::lock_guard<std::mutex> hold(self->done_mutex_);
  ++self->finished_;
  uv_async_send(&self->done_);
}

void Workers::on_signal(uv_signal_t* s, int signum) {
  auto* self = static_cast<Workers*>(s->data);
  if (++self->signals_ == 1)
    spdlog::info("{}: shutting down", signum == SIGINT ? "SIGINT" : "SIGTERM");
  else
    spdlog::info("second signal: closing every connection now");
  for (auto& w : self->workers_) w->server->request_drain_from_any_thread();
}

void Workers::on_worker_done(uv_async_t* a) {
  auto* self = static_cast<Workers*>(a->data);
  std::lock_guard<std::mutex> hold(self->done_mutex_);
  if (self->finished_ < self->workers_.size()) return;
  uv_close(reinterpret_cast<uv_handle_t*>(&self->sigint_), nullptr);
  uv_close(reinterpret_cast<uv_handle_t*>(&self->sigterm_), nullptr);
  uv_close(reinterpret_cast<uv_handle_t*>(&self->done_), nullptr);
}

}  // namespace httpfs::server
