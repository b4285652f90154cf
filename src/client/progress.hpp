// A progress line on stderr: bytes, rate and time left, redrawn a few times a second. Only
// when stderr is a terminal, not with --silent, and only once a transfer has lasted a
// moment (a quick one shows nothing).
#pragma once

#include <uv.h>

#include <cstdint>

namespace httpfs::client {

class Progress {
 public:
  // Lifetime: a member of the session; close() before the loop ends.
  void start(uv_loop_t* loop, bool enabled);
  void set_total(std::uint64_t total) noexcept { total_ = total; }  // 0: unknown
  void add(std::uint64_t n) noexcept { done_ += n; }
  void set_done(std::uint64_t n) noexcept { done_ = n; }
  // Draws the last state and ends the line (when anything was drawn); closes the timer.
  void close();

 private:
  static void on_tick(uv_timer_t* t);
  void draw(bool final);

  uv_timer_t timer_{};
  bool enabled_ = false;
  bool open_ = false;
  bool drawn_ = false;
  std::uint64_t start_ms_ = 0;
  std::uint64_t total_ = 0;
  std::uint64_t done_ = 0;
  uv_loop_t* loop_ = nullptr;
};

}  // namespace httpfs::client
