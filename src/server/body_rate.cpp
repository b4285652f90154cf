#include "server/body_rate.hpp"

#include <algorithm>

namespace httpfs::server {

RateVerdict judge_rate(const RateWindow& w, std::uint64_t now_ms, std::uint64_t total,
                       std::uint64_t min_rate, std::uint64_t window_ms) noexcept {
  const std::uint64_t elapsed = now_ms - std::min(now_ms, w.start_ms);
  if (min_rate == 0 || elapsed < window_ms) return RateVerdict::Open;
  const std::uint64_t got = total - std::min(total, w.bytes);
  return got * 1000 < min_rate * elapsed ? RateVerdict::TooSlow : RateVerdict::Passed;
}

}  // namespace httpfs::server
