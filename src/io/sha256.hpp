// SHA-256 over a stream of bytes (OpenSSL's implementation: SHA-NI or AVX2 where the CPU has
// them), for Content-Digest checks on uploads.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <string_view>

struct evp_md_ctx_st;

namespace httpfs::io {

class Sha256 {
 public:
  using Digest = std::array<std::uint8_t, 32>;
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;
  void update(std::string_view bytes) noexcept;
  Digest finish() noexcept;

 private:
  evp_md_ctx_st* ctx_;
};

}  // namespace httpfs::io
