#include "io/sha256.hpp"

#include <openssl/evp.h>
#include <unistd.h>

#include <cerrno>
#include <new>

namespace httpfs::io {

Sha256::Sha256() : ctx_(EVP_MD_CTX_new()) {
  if (ctx_ == nullptr || EVP_DigestInit_ex(ctx_, EVP_sha256(), nullptr) != 1)
    throw std::bad_alloc();
}

Sha256::~Sha256() {
  EVP_MD_CTX_free(ctx_);
}

void Sha256::update(std::string_view bytes) noexcept {
  EVP_DigestUpdate(ctx_, bytes.data(), bytes.size());
}

int Sha256::update_from_file(int fd) noexcept {
  std::string buf;
  try {
    buf.resize(1 << 20);
  } catch (...) {
    return ENOMEM;
  }
  for (off_t at = 0;;) {
    const ssize_t n = ::pread(fd, buf.data(), buf.size(), at);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return errno;
    if (n == 0) return 0;
    update(std::string_view(buf.data(), static_cast<std::size_t>(n)));
    at += n;
  }
}

std::string Sha256::finish_text() noexcept {
  const Digest d = finish();
  return std::string(reinterpret_cast<const char*>(d.data()), d.size());
}

Sha256::Digest Sha256::finish() noexcept {
  Digest d{};
  unsigned int len = 0;
  EVP_DigestFinal_ex(ctx_, d.data(), &len);
  return d;
}

}  // namespace httpfs::io
