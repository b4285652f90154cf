#include "client/progress.hpp"

#include <cstdio>

namespace httpfs::client {

namespace {

constexpr std::uint64_t kShowAfterMs = 1000;
constexpr std::uint64_t kTickMs = 250;

void human(double bytes, char* out, std::size_t n) {
  static const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  int u = 0;
  while (bytes >= 1024 && u < 4) bytes /= 1024, ++u;
  std::snprintf(out, n, u == 0 ? "%.0f %s" : "%.1f %s", bytes, units[u]);
}

}  // namespace

void Progress::start(uv_loop_t* loop, bool enabled) {
  loop_ = loop;
  enabled_ = enabled;
  uv_timer_init(loop, &timer_);
  timer_.data = this;
  open_ = true;
  start_ms_ = uv_now(loop);
  if (enabled_) uv_timer_start(&timer_, &Progress::on_tick, kTickMs, kTickMs);
}

void Progress::on_tick(uv_timer_t* t) {
  static_cast<Progress*>(t->data)->draw(false);
}

void Progress::draw(bool final) {
  const std::uint64_t elapsed = uv_now(loop_) - start_ms_;
  if (!enabled_ || (!drawn_ && elapsed < kShowAfterMs)) return;
  drawn_ = true;
  const double secs = elapsed / 1000.0;
  const double rate = secs > 0 ? done_ / secs : 0;
  char done[32], total[32], speed[32];
  human(static_cast<double>(done_), done, sizeof done);
  human(rate, speed, sizeof speed);
  if (total_ > 0) {
    human(static_cast<double>(total_), total, sizeof total);
    const double left = rate > 0 && total_ > done_ ? (total_ - done_) / rate : 0;
    const int pct = static_cast<int>(100.0 * done_ / total_);
    std::fprintf(stderr, "\r%10s / %-10s %3d%%  %10s/s  ETA %02d:%02d%s", done, total, pct, speed,
                 static_cast<int>(left) / 60, static_cast<int>(left) % 60, final ? "\n" : "   ");
  } else {
    std::fprintf(stderr, "\r%10s  %10s/s%s", done, speed, final ? "\n" : "   ");
  }
  std::fflush(stderr);
}

void Progress::close() {
  if (!open_) return;
  if (drawn_) draw(true);
  open_ = false;
  uv_close(reinterpret_cast<uv_handle_t*>(&timer_), nullptr);
}

}  // namespace httpfs::client
