// The minimum body rate (--min-body-rate). The body timeout alone measures silence, so a
// client that trickles a byte now and then would hold a connection forever; the rate is
// judged once per window of the body timeout instead, so that a slow but steady body of any
// size goes on while a trickle is cut.
#pragma once

#include <cstdint>

namespace httpfs::server {

struct RateWindow {
  std::uint64_t start_ms = 0;  // loop time the window began
  std::uint64_t bytes = 0;     // body bytes received by then
};

enum class RateVerdict : std::uint8_t {
  Open,     // the window is not over yet
  Passed,   // fast enough: the next window starts now
  TooSlow,  // fewer than min_rate bytes per second over the window
};

// `total`: body bytes received so far; `min_rate` 0 turns the check off. Overflow-free for
// rates up to 2^30 (an option limit) and windows up to two body timeouts (the idle clock
// ends a window otherwise).
RateVerdict judge_rate(const RateWindow& window, std::uint64_t now_ms, std::uint64_t total,
                       std::uint64_t min_rate, std::uint64_t window_ms) noexcept;

}  // namespace httpfs::server
