#include "server/flood_guard.hpp"

#include <algorithm>

namespace httpfs::server {

bool FloodGuard::take(std::uint64_t now_ms) noexcept {
  if (!started_) {
    started_ = true;
    last_ms_ = now_ms;
  }
  if (now_ms > last_ms_) {
    // Capped before multiplying: an idle hour must not overflow, only refill.
    const std::uint64_t elapsed = std::min<std::uint64_t>(now_ms - last_ms_, 1u << 30);
    tokens_ = std::min(cap_, tokens_ + elapsed * rate_);
    last_ms_ = now_ms;
  }
  if (tokens_ < kMilli) return false;
  tokens_ -= kMilli;
  return true;
}

}  // namespace httpfs::server
