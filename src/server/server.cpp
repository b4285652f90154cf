#include "server/server.hpp"

#include <spdlog/spdlog.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <csignal>

#include "http/date.hpp"
#include "io/file_cache.hpp"
#include "io/file_sink.hpp"
#include "net/errors.hpp"
#include "net/tls.hpp"
#include "server/connection.hpp"
#include "server/copy_move.hpp"
#include "server/delete_handler.hpp"
#include "server/file_handler.hpp"
#include "server/in_flight.hpp"
#include "server/lock_handler.hpp"
#include "server/mkcol.hpp"
#include "server/options_handler.hpp"
#include "server/propfind.hpp"
#include "server/proppatch.hpp"
#include "server/ui.hpp"
#include "server/upload.hpp"
#include "server/upload_resource.hpp"
#include "server/workers.hpp"

namespace httpfs::server {

namespace {

// Descriptors kept free for files, the cache, logs and the listeners themselves.
constexpr std::size_t kReservedFds = 64;
constexpr std::size_t kMaxSpareInFlight = 64;
// The Busy clock: never runs out.
constexpr std::uint64_t kNever = std::uint64_t{1} << 62;
constexpr std::uint64_t kAcceptRetryMs = 100;

// Raises the soft file-descriptor limit to the hard one and returns it.
std::size_t fd_limit() {
  rlimit rl{};
  if (getrlimit(RLIMIT_NOFILE, &rl) != 0) return 1024;
  if (rl.rlim_cur < rl.rlim_max) {
    rlimit raised = rl;
    raised.rlim_cur = rl.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &raised) == 0) rl = raised;
  }
  return rl.rlim_cur == RLIM_INFINITY ? 1 << 20 : static_cast<std::size_t>(rl.rlim_cur);
}

}  // namespace

Server::Server(uv_loop_t* loop, ServerOptions options, WorkerRole role)
    : loop_(loop),
      options_(std::move(options)),
      role_(role),
      router_(options_, auth_),
      clocks_{TimeoutList(options_.keepalive_timeout_ms), TimeoutList(options_.header_timeout_ms),
              TimeoutList(options_.body_timeout_ms),      TimeoutList(options_.send_timeout_ms),
              TimeoutList(options_.linger_timeout_ms),    TimeoutList(kNever)} {}

Server::~Server() {
  for (Connection* c : retired_) delete c;
  // The notify poll was closed with the other handles; the descriptor can go now.
  if (cache_) cache_->stop();
}

std::string Server::start() {
  if (std::string err = open_resources(); !err.empty()) return err;
  add_routes();
  const std::size_t limit = fd_limit();
  const std::size_t process_max =
      options_.max_connections != 0 ? options_.max_connections
                                    : (limit > kReservedFds * 2 ? limit - kReservedFds : limit / 2);
  // The limit is the process's (descriptors are): each worker loop takes its share.
  max_connections_ = worker_share(process_max, role_.index, role_.count);
  if (std::string err = open_listeners(); !err.empty()) return err;
  start_handles();
  return {};
}

std::string Server::open_resources() {
  if (int r =
          docroot_.open_root(options_.dir, {options_.follow_symlinks, options_.force_path_walk});
      r < 0)
    return "cannot serve '" + options_.dir + "': " + net::errno_text(r);
  if (role_.first != nullptr) {
    access_log_.share(role_.first->access_log_);
  } else {
    try {
      access_log_.open(options_.access_log);
    } catch (const std::exception& e) {
      return "cannot open the access log '" + options_.access_log + "': " + e.what();
    }
  }
  try {
    for (const std::string& a : options_.auth) auth_.add_plain(a);
    if (!options_.auth_file.empty()) auth_.load_file(options_.auth_file);
  } catch (const std::exception& e) {
    return e.what();
  }
  if (role_.first != nullptr) {
    tls_ = role_.first->tls_;  // one SSL_CTX: its session cache and ticket keys serve all loops
  } else if (!options_.tls_cert.empty()) {
    std::string err;
    tls_ = net::TlsContext::server(options_.tls_cert, options_.tls_key, err, options_.http2);
    if (!tls_) return err;
  }
  // WebDAV locks live in the state directory, shared with other processes serving the tree.
  // The first loop sweeps what earlier processes left; the others find it done.
  const bool sweeps = role_.index == 0;
  if (int r = locks_.open(docroot_); r < 0) {
    if (sweeps)
      spdlog::warn("WebDAV locks unavailable (LOCK will be refused): {}", net::errno_text(r));
  } else if (sweeps) {
    locks_.sweep(std::time(nullptr));
  }
  // Resumable uploads, in the same state directory: a restart continues them.
  if (int r = uploads_.open(docroot_, static_cast<std::time_t>(options_.upload_expiry_s)); r < 0) {
    if (sweeps) spdlog::warn("resumable uploads unavailable: {}", net::errno_text(r));
  } else if (std::size_t n = sweeps ? uploads_.sweep(std::time(nullptr)) : 0; n > 0) {
    spdlog::info("removed {} expired upload(s)", n);
  }
  // Temporary files of uploads cut short by a crash of an earlier process.
  if (!options_.read_only && sweeps) {
    if (std::size_t n = io::sweep_stale_temps(docroot_, 100000); n > 0)
      spdlog::info("removed {} temporary file(s) of interrupted uploads", n);
  }
  if (options_.cache_bytes > 0) {
    // --cache-size is the process's memory: each loop caches in its share. On a shared
    // directory other hosts' changes never reach inotify: every hit is checked by a stat.
    cache_ = std::make_unique<io::FileCache>(
        worker_share(options_.cache_bytes, role_.index, role_.count), options_.cache_file_max,
        options_.shared_fs ? io::FileCache::Validation::EveryUse
                           : io::FileCache::Validation::Notify);
    if (std::string err = cache_->start(docroot_); !err.empty()) {
      spdlog::warn("file cache disabled: {}", err);
      cache_.reset();
    }
  }
  return {};
}

std::string Server::open_listeners() {
  // Addresses: each -b, or the dual-stack wildcard (IPv4 only where IPv6 is off).
  std::vector<std::string> binds = options_.binds;
  const bool wildcard = binds.empty();
  if (wildcard) binds = {"::"};
  int port = options_.port;
  // Worker loops listen where the first one does (-p 0: on the port it was given).
  if (role_.first != nullptr && !role_.first->listeners_.empty())
    port = role_.first->listeners_.front()->address().port();
  net::Listener::Settings settings;
  settings.reuse_port = role_.count > 1;
  // A connection that says nothing waits in the kernel up to the header timeout.
  settings.defer_accept_seconds =
      options_.defer_accept
          ? static_cast<int>(std::max<std::uint64_t>(1, options_.header_timeout_ms / 1000))
          : 0;
  for (const std::string& b : binds) {
    auto addr = net::SocketAddress::parse(b, static_cast<std::uint16_t>(port));
    if (!addr) return "cannot bind '" + b + "': not a numeric IPv4 or IPv6 address";
    int err = 0;
    settings.v6only = !wildcard;
    net::Listener* l = net::Listener::open(loop_, *addr, settings, this, err);
    if (l == nullptr && wildcard) {
      addr = net::SocketAddress::parse("0.0.0.0", static_cast<std::uint16_t>(port));
      settings.v6only = false;
      l = net::Listener::open(loop_, *addr, settings, this, err);
    }
    if (l == nullptr) {
      for (net::Listener* open : listeners_) open->close();
      listeners_.clear();
      return "cannot listen on " + b + " port " + std::to_string(port) + ": " +
             net::errno_text(err < 0 ? -err : err);
    }
    listeners_.push_back(l);
    port = l->address().port();  // -p 0: every address gets the port the first one got
  }
  return {};
}

void Server::start_handles() {
  uv_timer_init(loop_, &sweep_timer_);
  uv_timer_init(loop_, &retry_timer_);
  uv_timer_init(loop_, &grace_timer_);
  uv_signal_init(loop_, &sigint_);
  uv_signal_init(loop_, &sigterm_);
  uv_check_init(loop_, &check_);
  uv_async_init(loop_, &drain_async_, &Server::on_drain);
  drain_async_.data = this;
  ++open_handles_;
  {
    std::lock_guard<std::mutex> hold(drain_mutex_);
    drain_closed_ = false;
  }
  ready_.init(loop_);
  ++open_handles_;
  if (cache_ && cache_->notify_fd() >= 0) {
    uv_poll_init(loop_, &notify_poll_, cache_->notify_fd());
    notify_poll_.data = this;
    ++open_handles_;
    uv_poll_start(&notify_poll_, UV_READABLE, &Server::on_notify);
  }
  for (uv_handle_t* h :
       {reinterpret_cast<uv_handle_t*>(&sweep_timer_),
        reinterpret_cast<uv_handle_t*>(&retry_timer_),
        reinterpret_cast<uv_handle_t*>(&grace_timer_), reinterpret_cast<uv_handle_t*>(&sigint_),
        reinterpret_cast<uv_handle_t*>(&sigterm_), reinterpret_cast<uv_handle_t*>(&check_)}) {
    h->data = this;
    ++open_handles_;
  }
  last_lock_sweep_ = uv_now(loop_);  // the first sweep ran in start()
  // The sweep runs often enough for the shortest timeout to be honoured within a quarter.
  const std::uint64_t shortest =
      std::min({options_.header_timeout_ms, options_.keepalive_timeout_ms, options_.body_timeout_ms,
                options_.send_timeout_ms, options_.linger_timeout_ms});
  const std::uint64_t period = std::clamp<std::uint64_t>(shortest / 4, 50, 1000);
  uv_timer_start(&sweep_timer_, &Server::on_sweep, period, period);
  // Alone, the loop takes the signals; worker loops hear of them through request_drain().
  if (role_.count == 1) {
    uv_signal_start(&sigint_, &Server::on_signal, SIGINT);
    uv_signal_start(&sigterm_, &Server::on_signal, SIGTERM);
  }
  uv_check_start(&check_, &Server::on_check);
}

void Server::add_routes() {
  using M = http::Method;
  using A = Router::Access;
  router_.add({M::Get, M::Head}, A::Read,
              std::make_unique<FileHandler>(docroot_, options_, cache_.get()));
  router_.add({M::Put, M::Post}, A::Write, std::make_unique<UploadHandler>(dav_, upload_context_));
  router_.add({M::Delete}, A::Write, std::make_unique<DeleteHandler>(dav_));
  router_.add({M::Propfind}, A::Read, std::make_unique<PropfindHandler>(dav_));
  router_.add({M::Proppatch}, A::Write, std::make_unique<ProppatchHandler>(dav_));
  router_.add({M::Mkcol}, A::Write, std::make_unique<MkcolHandler>(dav_));
  router_.add({M::Copy}, A::Write, std::make_unique<CopyMoveHandler>(dav_, false));
  router_.add({M::Move}, A::Write, std::make_unique<CopyMoveHandler>(dav_, true));
  router_.add({M::Lock}, A::Write, std::make_unique<LockHandler>(dav_));
  router_.add({M::Unlock}, A::Write, std::make_unique<UnlockHandler>(dav_));
  router_.set_upload_resource(std::make_unique<UploadResourceHandler>(dav_, upload_context_));
  if (options_.ui) router_.set_ui_assets(std::make_unique<UiAssetHandler>());
  // Last: "OPTIONS *" lists every method added before.
  router_.add({M::Options}, A::Read,
              std::make_unique<OptionsHandler>(docroot_, options_, router_.allow()));
}

std::vector<std::string> Server::urls() const {
  std::vector<std::string> out;
  for (const net::Listener* l : listeners_)
    out.push_back(l->address().url(tls_ ? "https" : "http"));
  return out;
}

std::string_view Server::http_date() {
  std::time_t now = std::time(nullptr);
  if (now != date_second_) {
    date_second_ = now;
    http::format_http_date(now, date_);
  }
  return {date_, http::kHttpDateLength};
}

// ---- connections

void Server::on_accept(int fd, const net::SocketAddress& peer) {
  if (shutting_down_) {
    ::close(fd);
    return;
  }
  if (Connection::create(*this, fd, peer) == nullptr) {
    spdlog::warn("cannot watch a new connection from {}", peer.host());
    return;
  }
  ++connections_;
  if (connections_ >= max_connections_) {
    // Full. The oldest idle keep-alive connection makes room; with none, new connections wait
    // in the listen backlog until one closes.
    if (TimeoutNode* idle = clock(Timeout::KeepAlive).front()) {
      spdlog::debug("connection limit {} reached: closing the oldest idle connection",
                    max_connections_);
      Connection::from_timeout_node(idle)->close_now();
    } else {
      pause_accepting();
    }
  }
}

void Server::on_accept_exhausted(int err) {
  // Out of descriptors: stop polling the listener (it would wake the loop at once, forever)
  // and try again shortly, or as soon as a connection closes. An idle connection is
  // sacrificed so that the server keeps making progress.
  if (!accepting_paused_) spdlog::warn("accept: {}; pausing new connections", net::errno_text(err));
  pause_accepting();
  if (TimeoutNode* idle = clock(Timeout::KeepAlive).front())
    Connection::from_timeout_node(idle)->close_now();
  uv_timer_start(&retry_timer_, &Server::on_retry, kAcceptRetryMs, 0);
}

void Server::on_connection_closed() noexcept {
  --connections_;
  if (accepting_paused_ && !shutting_down_ && connections_ < max_connections_) resume_accepting();
  maybe_finish_shutdown();
}

void Server::pause_accepting() {
  accepting_paused_ = true;
  for (net::Listener* l : listeners_) l->pause();
}

void Server::resume_accepting() {
  if (shutting_down_) return;
  accepting_paused_ = false;
  for (net::Listener* l : listeners_) l->resume();
}

InFlight* Server::acquire_in_flight() {
  if (spare_in_flight_.empty()) return new InFlight(options_);
  InFlight* in = spare_in_flight_.back().release();
  spare_in_flight_.pop_back();
  return in;
}

void Server::release_in_flight(InFlight* in) noexcept {
  in->reset();
  if (spare_in_flight_.size() < kMaxSpareInFlight)
    spare_in_flight_.emplace_back(in);
  else
    delete in;
}

template <typename Fn>
void Server::for_each_connection(Fn&& fn) {
  // Collected first: fn may close connections, which unlinks them from these lists. Every
  // clock, Busy included: connections whose job is running must hear of a shutdown too.
  std::vector<Connection*> all;
  all.reserve(connections_);
  for (const TimeoutList& list : clocks_)
    for (TimeoutNode* n = list.front(); n != nullptr; n = n->next)
      all.push_back(Connection::from_timeout_node(n));
  for (Connection* c : all) fn(c);
}

// ---- timers, signals, shutdown

void Server::on_sweep(uv_timer_t* t) {
  static_cast<Server*>(t->data)->sweep();
}

void Server::sweep() {
  const std::uint64_t now = uv_now(loop_);
  for (TimeoutList& list : clocks_) {
    while (TimeoutNode* n = list.pop_expired(now)) Connection::from_timeout_node(n)->on_timeout();
  }
  // Expired WebDAV locks and uploads are ignored by every lookup; their files go at start and
  // then every --lock-sweep, on the worker pool: the sweep reads the state directories under
  // the stores' file locks, which another process may hold. One loop of the process sweeps.
  if (role_.index == 0 && !lock_sweep_running_ && !shutting_down_ &&
      now - last_lock_sweep_ >= options_.lock_sweep_ms) {
    last_lock_sweep_ = now;
    lock_sweep_running_ = true;
    lock_sweep_.data = this;
    uv_queue_work(loop_, &lock_sweep_, &Server::on_lock_sweep, &Server::on_lock_swept);
  }
}

void Server::on_lock_sweep(uv_work_t* w) {
  auto* self = static_cast<Server*>(w->data);
  const std::time_t now = std::time(nullptr);
  self->locks_.sweep(now);
  if (std::size_t n = self->uploads_.sweep(now); n > 0)
    spdlog::info("removed {} expired upload(s)", n);
}

void Server::on_lock_swept(uv_work_t* w, int) {
  static_cast<Server*>(w->data)->lock_sweep_running_ = false;
}

void Server::on_retry(uv_timer_t* t) {
  static_cast<Server*>(t->data)->resume_accepting();
}

void Server::on_signal(uv_signal_t* s, int signum) {
  static_cast<Server*>(s->data)->drain(signum);
}

void Server::drain(int signum) {
  if (shutting_down_) {
    if (signum != 0) spdlog::info("second signal: closing every connection now");
    for_each_connection([](Connection* c) { c->close_now(); });
    return;
  }
  if (signum != 0) spdlog::info("{}: shutting down", signum == SIGINT ? "SIGINT" : "SIGTERM");
  shutdown();
}

void Server::request_drain_from_any_thread() {
  std::lock_guard<std::mutex> hold(drain_mutex_);
  if (drain_closed_) return;
  drain_requests_.fetch_add(1);
  uv_async_send(&drain_async_);
}

void Server::on_drain(uv_async_t* a) {
  auto* self = static_cast<Server*>(a->data);
  // uv_async_send coalesces: count the requests, not the callbacks.
  const int requests = self->drain_requests_.load();
  while (self->drains_done_ < requests && !self->handles_closed_) {
    ++self->drains_done_;
    self->drain(0);
  }
}

void Server::on_check(uv_check_t* c) {
  auto* self = static_cast<Server*>(c->data);
  self->access_log_.flush();

  // Connections closed during this iteration without a handle to wait for.
  std::vector<Connection*> dead;
  dead.swap(self->retired_);
  for (Connection* conn : dead) {
    delete conn;
    self->on_connection_closed();
  }
}

void Server::on_notify(uv_poll_t* p, int status, int) {
  auto* self = static_cast<Server*>(p->data);
  if (status == 0 && self->cache_) self->cache_->on_notify();
}

void Server::shutdown() {
  if (shutting_down_) return;
  shutting_down_ = true;
  for (net::Listener* l : listeners_) l->close();
  listeners_.clear();
  for_each_connection([](Connection* c) { c->begin_shutdown(); });
  if (!handles_closed_)
    uv_timer_start(&grace_timer_, &Server::on_grace, options_.shutdown_grace_ms, 0);
  maybe_finish_shutdown();
}

void Server::on_grace(uv_timer_t* t) {
  auto* self = static_cast<Server*>(t->data);
  if (self->connections_ > 0)
    spdlog::info("grace period over: closing {} connection(s)", self->connections_);
  self->for_each_connection([](Connection* c) { c->close_now(); });
}

void Server::maybe_finish_shutdown() {
  if (shutting_down_ && connections_ == 0) close_handles();
}

void Server::close_handles() {
  if (handles_closed_ || open_handles_ == 0) return;
  handles_closed_ = true;
  access_log_.flush();
  for (uv_handle_t* h :
       {reinterpret_cast<uv_handle_t*>(&sweep_timer_),
        reinterpret_cast<uv_handle_t*>(&retry_timer_),
        reinterpret_cast<uv_handle_t*>(&grace_timer_), reinterpret_cast<uv_handle_t*>(&sigint_),
        reinterpret_cast<uv_handle_t*>(&sigterm_), reinterpret_cast<uv_handle_t*>(&check_)})
    uv_close(h, &Server::on_handle_closed);
  {
    std::lock_guard<std::mutex> hold(drain_mutex_);
    drain_closed_ = true;
    uv_close(reinterpret_cast<uv_handle_t*>(&drain_async_), &Server::on_handle_closed);
  }
  ready_.close(&Server::on_handle_closed, this);
  if (cache_ && cache_->notify_fd() >= 0)
    uv_close(reinterpret_cast<uv_handle_t*>(&notify_poll_), &Server::on_handle_closed);
}

void Server::on_handle_closed(uv_handle_t* h) {
  --static_cast<Server*>(h->data)->open_handles_;
}

}  // namespace httpfs::server
