#include "io/sha256.hpp"

#include <openssl/evp.h>

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

Sha256::Digest Sha256::finish() noexcept {
  Digest d{};
  unsigned int len = 0;
  EVP_DigestFinal_ex(ctx_, d.data(), &len);
  return d;
}

}  // namespace httpfs::io
