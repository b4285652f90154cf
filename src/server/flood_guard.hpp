// A token bucket for frames that make a server work without asking it anything: HTTP/2
// SETTINGS, PING, PRIORITY, RST_STREAM and empty DATA frames (the floods of CVE-2019-9512,
// -9515, -9518 and CVE-2023-44487). A client may send `burst` of them at once and `per_second`
// more each second after; one more and the connection ends with ENHANCE_YOUR_CALM.
#pragma once

#include <cstdint>

namespace httpfs::server {

class FloodGuard {
 public:
  FloodGuard(std::uint32_t burst, std::uint32_t per_second) noexcept
      : cap_(std::uint64_t{burst} * kMilli), rate_(per_second), tokens_(cap_) {}

  // One such frame at loop time `now_ms`; false when the bucket is empty.
  bool take(std::uint64_t now_ms) noexcept;

 private:
  static constexpr std::uint64_t kMilli = 1000;  // tokens are counted in thousandths
  std::uint64_t cap_;
  std::uint64_t rate_;  // whole tokens per second = thousandths per millisecond
  std::uint64_t tokens_;
  std::uint64_t last_ms_ = 0;
  bool started_ = false;
};

}  // namespace httpfs::server
