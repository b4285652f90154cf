// SHA-256 over a stream of bytes (OpenSSL's implementation: SHA-NI or AVX2 where the CPU has
// them), for Content-Digest checks on uploads and on httpc's downloads.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <string>
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
  // Adds the bytes of the file `fd` from offset 0 to its end (pread: the file position is
  // left alone). Blocking. 0, or an errno value.
  int update_from_file(int fd) noexcept;
  Digest finish() noexcept;
  // finish() as 32 bytes of text, to compare with a digest field's decoded value.
  std::string finish_text() noexcept;

 private:
  evp_md_ctx_st* ctx_;
};

}  // namespace httpfs::io
