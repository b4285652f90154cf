// A throwaway public-key infrastructure for TLS tests, made with the `openssl` command: a
// test CA, and certificates it signed for the loopback names (localhost, 127.0.0.1, ::1),
// for another name, expired, and not valid yet; plus a second CA that signed none of them.
// Keys are EC P-256 (fast to make). Everything lives in a temporary directory.
#pragma once

#include <string>

#include "process.hpp"

namespace httpfs::test {

class TestPki {
 public:
  TestPki();  // throws std::runtime_error when openssl fails

  std::string ca_cert() const { return dir_ / "ca.crt"; }
  std::string other_ca_cert() const { return dir_ / "other-ca.crt"; }
  // Leaf certificates and their keys: "server", "other-host", "expired", "future".
  std::string cert(const std::string& name) const { return dir_ / (name + ".crt"); }
  std::string key(const std::string& name) const { return dir_ / (name + ".key"); }
  const std::string& dir() const { return dir_.path(); }

 private:
  void make_ca(const std::string& name, const std::string& subject);
  // Signs a new key for `san` with the test CA: `dates` are openssl ca arguments.
  void make_leaf(const std::string& name, const std::string& san,
                 const std::vector<std::string>& dates);
  TempDir dir_;
};

}  // namespace httpfs::test
