// HTTP Basic authentication (RFC 7617) for writes, or for everything with --auth-all.
//
// Credentials come from --auth USER:PASS (compared in constant time) or --auth-file, one
// "user:hash" per line, where hash is any crypt(3) hash of the password (yescrypt "$y$",
// bcrypt "$2b$", SHA-512 "$6$", e.g. from `openssl passwd -6` or `mkpasswd`). Hashes are slow
// by design, so a verified Authorization value is remembered (a small set of SHA-256
// fingerprints): the hash runs once per credential, not once per request.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>

namespace httpfs::server {

class Authenticator {
 public:
  Authenticator();
  ~Authenticator();
  Authenticator(const Authenticator&) = delete;
  Authenticator& operator=(const Authenticator&) = delete;

  // Throw UsageError on malformed input.
  void add_plain(std::string_view user_colon_password);
  void load_file(const std::string& path);
  bool enabled() const noexcept { return !plain_.empty() || !hashed_.empty(); }

  // Checks an Authorization field value (empty: none sent). Sets `user` on success.
  bool check(std::string_view authorization, std::string& user);

  static constexpr std::string_view kChallenge = "Basic realm=\"httpfs\", charset=\"UTF-8\"";

 private:
  std::unordered_map<std::string, std::string> plain_;   // user -> password
  std::unordered_map<std::string, std::string> hashed_;  // user -> crypt(3) hash
  std::unordered_set<std::string> verified_;             // SHA-256 of verified field values
  struct CryptState;
  std::unique_ptr<CryptState> crypt_;
};

}  // namespace httpfs::server
