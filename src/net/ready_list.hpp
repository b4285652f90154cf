// Streams that have input the poller cannot announce: a TLS session that decrypted more
// records than its reader's buffer took holds them in memory, and the socket will not become
// readable for them. A posted stream is resumed as if readable before the loop next waits
// (a uv_idle_t runs while the list is not empty, so the loop does not block meanwhile).
//
// Lifetime: init() before the first post(); close() with the loop's other handles; the list
// outlives every stream posted to it (a stream unposts itself when it closes).
#pragma once

#include <uv.h>

#include <vector>

namespace httpfs::net {

class Stream;

class ReadyList {
 public:
  void init(uv_loop_t* loop) noexcept;
  // `cb` runs when the handle is closed; its data is the `data` given here.
  void close(uv_close_cb cb, void* data) noexcept;

  void post(Stream* s);
  void unpost(Stream* s) noexcept;

 private:
  static void on_idle(uv_idle_t* idle);

  uv_idle_t idle_{};
  std::vector<Stream*> ready_;  // an entry is nulled when its stream is unposted
};

}  // namespace httpfs::net
