#include "server/auth.hpp"

#include <crypt.h>
#include <openssl/crypto.h>

#include <fstream>

#include "http/base64.hpp"
#include "http/chars.hpp"
#include "io/sha256.hpp"
#include "server/options.hpp"

namespace httpfs::server {

namespace {

constexpr std::size_t kMaxVerified = 256;

bool equal_constant_time(std::string_view a, std::string_view b) {
  // The lengths leak; the contents do not.
  return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace

struct Authenticator::CryptState {
  crypt_data data{};  // about 32 KiB: once, not on the stack per request
};

Authenticator::Authenticator() : crypt_(std::make_unique<CryptState>()) {}
Authenticator::~Authenticator() = default;

void Authenticator::add_plain(std::string_view spec) {
  std::size_t colon = spec.find(':');
  if (colon == std::string_view::npos || colon == 0)
    throw UsageError("--auth: expected USER:PASSWORD");
  plain_[std::string(spec.substr(0, colon))] = std::string(spec.substr(colon + 1));
}

void Authenticator::load_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw UsageError("--auth-file: cannot read '" + path + "'");
  std::string line;
  int n = 0;
  while (std::getline(in, line)) {
    ++n;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    std::string_view l = http::chars::trim_ows(line);
    if (l.empty() || l.front() == '#') continue;
    std::size_t colon = l.find(':');
    if (colon == std::string_view::npos || colon == 0 || colon + 1 == l.size() ||
        l[colon + 1] != '$')
      throw UsageError("--auth-file: line " + std::to_string(n) + " is not user:crypt-hash");
    hashed_[std::string(l.substr(0, colon))] = std::string(l.substr(colon + 1));
  }
  if (hashed_.empty()) throw UsageError("--auth-file: no credentials in '" + path + "'");
}

bool Authenticator::check(std::string_view field, std::string& user) {
  field = http::chars::trim_ows(field);
  std::size_t sp = field.find(' ');
  if (sp == std::string_view::npos || !http::chars::iequals_lower(field.substr(0, sp), "basic"))
    return false;
  std::string_view token = http::chars::trim_ows(field.substr(sp + 1));
  auto decoded = http::base64_decode(token);
  if (!decoded) return false;
  std::size_t colon = decoded->find(':');
  if (colon == std::string::npos) return false;
  const std::string name = decoded->substr(0, colon);
  const std::string password = decoded->substr(colon + 1);

  if (auto it = plain_.find(name); it != plain_.end()) {
    if (!equal_constant_time(it->second, password)) return false;
    user = name;
    return true;
  }
  auto it = hashed_.find(name);
  if (it == hashed_.end()) return false;
  io::Sha256 sha;
  sha.update(field);
  auto d = sha.finish();
  std::string fingerprint(reinterpret_cast<const char*>(d.data()), d.size());
  if (verified_.count(fingerprint) == 0) {
    // crypt_rn (libxcrypt) rather than crypt_r: ASan intercepts crypt_r, and the
    // interceptor's call through fails when the linker, seeing no other reference, drops
    // libcrypt. crypt_rn returns nullptr on error.
    const char* out = crypt_rn(password.c_str(), it->second.c_str(), &crypt_->data,
                               static_cast<int>(sizeof crypt_->data));
    if (out == nullptr || !equal_constant_time(out, it->second)) return false;
    if (verified_.size() >= kMaxVerified) verified_.clear();
    verified_.insert(std::move(fingerprint));
  }
  user = name;
  return true;
}

}  // namespace httpfs::server
