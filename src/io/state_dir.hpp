// The state directory: what the server must remember across restarts and share with other
// httpfs processes serving the same tree (WebDAV locks; later, resumable uploads) lives in
// one hidden directory under the served root, never reachable by a request path, never
// listed, whatever --show-hidden says.
#pragma once

#include <atomic>
#include <string_view>

#include "io/docroot.hpp"

namespace httpfs::io {

inline constexpr std::string_view kStateDirName = ".httpfs-state";

// True when a normalised request path is the state directory or lies inside it.
bool is_state_path(std::string_view path) noexcept;

// Opens the state directory's subdirectory `sub` (e.g. "locks") under the root, without
// following symlinks; with `create`, making what is missing (mode 0700). A descriptor
// (O_DIRECTORY, close on exec) or -errno (-ENOENT: not there yet).
int open_state_subdir(const Docroot& root, std::string_view sub, bool create = true);

// One subdirectory of the state directory, opened on first use and kept open: a store
// (locks, uploads) that a tree which never needs it does not make. Any thread may open it
// first; the descriptor is published once.
class StateSubdir {
 public:
  explicit StateSubdir(std::string_view name) noexcept : name_(name) {}
  StateSubdir(StateSubdir&& other) noexcept;
  StateSubdir& operator=(StateSubdir&& other) noexcept;
  ~StateSubdir();

  // The tree it lives in (which outlives this object).
  void attach(const Docroot& root) noexcept { root_ = &root; }
  // The descriptor, made with the state directory when `create`: -ENOENT while neither
  // exists (each call looks again: another process may have made it), -errno otherwise.
  int fd(bool create) const;

 private:
  std::string_view name_;  // a literal
  const Docroot* root_ = nullptr;
  mutable std::atomic<int> fd_{-1};
};

}  // namespace httpfs::io
