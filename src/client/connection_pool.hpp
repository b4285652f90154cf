// Idle HTTP/1.1 connections of one httpc run, kept for the next request to the same origin
// through the same proxy with the same TLS settings: a run of several URLs pays for the TCP
// connection and the TLS handshake once per origin (and per transfer running at once).
//
// An idle connection is watched: input or an error while it is idle (the server closed it,
// or sent what no request asked for) closes it, and take() peeks at the socket before it
// hands a connection out. A server may still close a connection the moment a request goes
// out on it: Transfer then sends that request once more on a new connection, when nothing of
// the answer had arrived (client/transfer.hpp).
//
// Lifetime: one per run, on its loop, created before and closed after every Transfer; the
// streams it holds close from close(), and the loop's last run calls their close callbacks.
#pragma once

#include <uv.h>

#include <cstddef>
#include <list>
#include <memory>
#include <string>

#include "net/ready_list.hpp"
#include "net/stream.hpp"

namespace httpfs::client {

struct RequestSpec;

class ConnectionPool {
 public:
  // Idle connections kept at most, over all origins (the oldest is closed first).
  static constexpr std::size_t kMaxIdle = 64;

  explicit ConnectionPool(uv_loop_t* loop);
  ConnectionPool(const ConnectionPool&) = delete;
  ConnectionPool& operator=(const ConnectionPool&) = delete;

  // What a connection for `spec` must match: scheme, host, port, proxy, TLS settings, family.
  static std::string key_for(const RequestSpec& spec);

  // An idle connection for `key` that is still open and quiet, or nullptr. The caller rebinds
  // it (net::Stream::rebind) before it waits on it.
  std::unique_ptr<net::Stream> take(const std::string& key);
  // Keeps `stream` (open, nothing unread, nothing unsent) for the next request to `key`.
  void put(const std::string& key, std::unique_ptr<net::Stream> stream);
  // Closes every idle connection; put() closes what it is given from then on.
  void close();
  std::size_t idle() const noexcept { return idle_.size(); }

 private:
  struct Idle final : net::Stream::Owner {
    Idle(ConnectionPool& p, std::string k, std::unique_ptr<net::Stream> s)
        : pool(p), key(std::move(k)), stream(std::move(s)) {}
    void on_stream_ready(int) override { pool.drop(this); }
    void on_stream_error(int) override { pool.drop(this); }
    void on_stream_closed() override { pool.forget(this); }
    ConnectionPool& pool;
    std::string key;
    std::unique_ptr<net::Stream> stream;
    bool closing = false;
  };
  static void on_ready_closed(uv_handle_t*) {}
  // Closes an idle connection; forget() frees it once its handle is closed.
  void drop(Idle* idle);
  void forget(Idle* idle);

  // Entries stay at one address (list) from put() to forget(): each is its stream's owner.
  std::list<Idle> idle_;
  net::ReadyList ready_;  // an idle stream is never posted (nothing is unread), but must have one
  bool closed_ = false;
};

}  // namespace httpfs::client
