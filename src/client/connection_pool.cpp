#include "client/connection_pool.hpp"

#include <sys/socket.h>

#include <cerrno>
#include <cstdint>
#include <iterator>

#include "client/request.hpp"

namespace httpfs::client {

ConnectionPool::ConnectionPool(uv_loop_t* loop) {
  ready_.init(loop);
}

std::string ConnectionPool::key_for(const RequestSpec& spec) {
  // The TLS context's address stands for its trust settings: one context per run and
  // settings (Session::ensure_tls), so equal addresses mean equal verification.
  std::string key = spec.url.scheme + "://" + spec.url.host + ":" + std::to_string(spec.url.port);
  key += " tls=" + std::to_string(reinterpret_cast<std::uintptr_t>(spec.tls));
  key += " family=" + std::to_string(spec.ip_family);
  if (spec.proxy)
    key += " proxy=" + spec.proxy->host + ":" + std::to_string(spec.proxy->port) + " " +
           spec.proxy->authorization;
  return key;
}

std::unique_ptr<net::Stream> ConnectionPool::take(const std::string& key) {
  for (auto it = idle_.begin(); it != idle_.end();) {
    Idle& idle = *it++;  // drop() may erase it
    if (idle.closing || idle.key != key) continue;
    // Still open and quiet? A peek sees a close (0) or stray bytes (> 0) the poller has not
    // reported yet; only EAGAIN means the connection waits for a request.
    char byte;
    const ssize_t n = ::recv(idle.stream->fd(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
    if (n >= 0 || (errno != EAGAIN && errno != EWOULDBLOCK)) {
      drop(&idle);
      continue;
    }
    std::unique_ptr<net::Stream> s = std::move(idle.stream);
    idle_.erase(std::prev(it));
    return s;
  }
  return nullptr;
}

void ConnectionPool::put(const std::string& key, std::unique_ptr<net::Stream> stream) {
  idle_.emplace_back(*this, key, std::move(stream));
  Idle& idle = idle_.back();
  idle.stream->rebind(idle, ready_);
  // Readable while idle: the server closed the connection (or broke the protocol).
  if (closed_ || !idle.stream->want(true, false)) return drop(&idle);
  if (idle_.size() > kMaxIdle)
    for (Idle& oldest : idle_)
      if (!oldest.closing) return drop(&oldest);
}

void ConnectionPool::close() {
  if (closed_) return;
  closed_ = true;
  for (auto it = idle_.begin(); it != idle_.end();) {
    Idle& idle = *it++;  // drop() may erase it
    if (!idle.closing) drop(&idle);
  }
  ready_.close(&ConnectionPool::on_ready_closed, this);
}

void ConnectionPool::drop(Idle* idle) {
  if (idle->closing) return;
  idle->closing = true;
  // A stream whose poll handle was never set up closes at once, with no callback.
  if (!idle->stream->close()) forget(idle);
}

void ConnectionPool::forget(Idle* idle) {
  for (auto it = idle_.begin(); it != idle_.end(); ++it)
    if (&*it == idle) return (void)idle_.erase(it);
}

}  // namespace httpfs::client
