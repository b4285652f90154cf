// Shared by the hardening tests: polling for a condition with a deadline, sparse files, and
// the generated hostile paths.
#pragma once

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

namespace httpfs::test {

// Calls `done` every 50 ms until it returns true or `timeout` passes; its last answer.
template <typename Fn>
bool eventually(Fn&& done, std::chrono::milliseconds timeout) {
  const auto end = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    if (done()) return true;
    if (std::chrono::steady_clock::now() >= end) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

// A sparse file of `size` bytes (zeros), made at once whatever the size.
inline bool make_sparse(const std::string& path, long long size) {
  int fd = ::open(path.c_str(), O_CREAT | O_WRONLY | O_CLOEXEC, 0644);
  if (fd < 0) return false;
  const bool ok = ::ftruncate(fd, size) == 0;
  ::close(fd);
  return ok;
}

inline double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// Dot-dot segments and separators in every encoding a server has been fooled by, aimed at
// <docroot>/../canary.txt and etc/passwd up to four levels up, and at links the fixtures
// plant in the docroot (c1 -> c2 -> c3 -> ../canary.txt, out -> .., etc_link, dir/abs,
// dir/canary_link). names_test and dav_names_test send them wherever a path arrives; their
// docroot lies four levels deep in a temporary directory and every escape lands on a decoy
// there, never on a real file (the tests run as root).
inline std::vector<std::string> hostile_paths() {
  const std::vector<std::string> dots = {
      "..",           "%2e%2e",     "%2E%2E",       ".%2e",
      "%2e.",         "%252e%252e", "%c0%ae%c0%ae", "%e0%80%ae%e0%80%ae",
      "%c0%2e%c0%2e", "..%00",      "%2e%2e%00",    "..;"};
  const std::vector<std::string> seps = {"/",     "%2f",    "%2F",       "%5c", "\\",
                                         "%252f", "%c0%af", "%e0%80%af", "//",  "/./"};
  std::vector<std::string> out;
  for (const std::string& d : dots)
    for (const std::string& s : seps) {
      out.push_back("/" + d + s + "canary.txt");
      out.push_back("/dir/" + d + s + d + s + "canary.txt");
      out.push_back("/" + d + s + d + s + d + s + "etc/passwd");
    }
  const std::vector<std::string> more = {
      "/canary.txt%00",
      "/%00../canary.txt",
      "/..%2f..%2f..%2f..%2fetc%2fpasswd",
      "http://127.0.0.1/../canary.txt",
      "http://127.0.0.1/%2e%2e/canary.txt",
      "http://x/dir/../../canary.txt",
      "/c1",
      "/c2",
      "/c3",
      "/out/canary.txt",
      "/out/www/../canary.txt",
      "/etc_link/passwd",
      "/etc_link/hostname",
      "/dir/canary_link",
      "/dir/abs/x",
      "/dir/./.././../canary.txt",
      "/./../canary.txt",
      "/up/../../canary.txt",
      "/%2e%2e/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
      "/" + std::string(3000, 'a') + "/../../canary.txt",
      "/" +
          [] {
            std::string s;
            for (int i = 0; i < 1000; ++i) s += "a/";
            for (int i = 0; i < 1001; ++i) s += "../";
            return s;
          }() +
          "canary.txt",
      "/%0d%0aSet-Cookie:%20x=1/../canary.txt",
      "/dir%2f..%2f..%2fcanary.txt",
  };
  out.insert(out.end(), more.begin(), more.end());
  return out;
}

}  // namespace httpfs::test
