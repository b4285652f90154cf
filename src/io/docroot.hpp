// The served directory, and opening paths beneath it without escaping it.
//
// Every path a request names is resolved here, in the kernel where possible, so there is no
// check-then-open race: openat2(2) with RESOLVE_BENEATH refuses any resolution that leaves
// the directory, including through symlinks swapped in mid-request. Where openat2 is
// missing (Linux < 5.6, or a seccomp filter), a component-by-component walk from the root
// with O_NOFOLLOW does the same in user space: it reads each symlink itself and refuses the
// ones that lead outside.
//
// Symlinks that stay inside are followed. Symlinks that lead outside are refused (EXDEV)
// unless follow_symlinks is set, which trusts whatever the directory's links point at.
// Neither way leads into the state directory (io/state_dir.hpp): that is ENOENT, by name or
// through any link.
#pragma once

#include <fcntl.h>
#include <sys/types.h>

#include <string>
#include <string_view>

namespace httpfs::io {

class Docroot {
 public:
  struct Options {
    bool follow_symlinks = false;
    bool force_walk = false;  // use the user-space walk even where openat2 works (tests)
  };

  Docroot() = default;
  ~Docroot();
  Docroot(const Docroot&) = delete;
  Docroot& operator=(const Docroot&) = delete;
  Docroot(Docroot&& other) noexcept;
  Docroot& operator=(Docroot&& other) noexcept;

  // Opens the directory. Returns 0 or -errno (ENOTDIR when it is not a directory).
  int open_root(const std::string& dir, Options options);

  // Opens `path` ("/a/b" or "a/b"; already normalised: no "." or ".." segments) beneath the
  // root with open(2) `flags` (O_CLOEXEC is added). "" and "/" name the root itself.
  // Returns the fd or -errno: ENOENT, ENOTDIR, EACCES, ELOOP, EXDEV (would leave the root).
  // An ESTALE (a shared file system's stale handle) is retried a few times first.
  int open(std::string_view path, int flags, mode_t mode = 0) const;
  // open() and fstat(2) of what it opened, in `st`. On a shared file system the fstat can
  // fail with ESTALE too, when another host replaced the file between the two calls: the
  // path is then opened again (a few times). The fd or -errno.
  int open_stat(std::string_view path, int flags, struct stat& st) const;

  // Opens the directory that would hold `path` ("/a/b/file": the directory "/a/b") as
  // O_PATH|O_DIRECTORY, creating missing directories beneath the root (mode 0755) when
  // `create`. Sets `name` to the last component. Returns the fd or -errno: ENOENT (missing and
  // not created), ENOTDIR (a component is a file), EXDEV/ELOOP (leads outside).
  int open_parent(std::string_view path, bool create, std::string& name) const;

  int fd() const noexcept { return fd_; }
  // Whether the directory `dir_fd` is the root itself, however it was reached.
  bool is_root(int dir_fd) const noexcept;
  const std::string& path() const noexcept { return path_; }  // absolute, without trailing /
  bool using_openat2() const noexcept { return openat2_; }

 private:
  int open_walk(std::string_view rel, int flags, mode_t mode) const;
  // `dir_fd`, or -ENOENT (closing it) when it is the root and `name` the state directory.
  int refuse_state_dir(int dir_fd, std::string_view name) const;
  int open_once(std::string_view path, int flags, mode_t mode) const;
  int open_trusting_links(const std::string& rel, int flags, mode_t mode) const;
  // Whether the open `fd` lies in the state directory (io/state_dir.hpp); true when that
  // cannot be told.
  bool inside_state_dir(int fd) const;

  int fd_ = -1;
  dev_t root_dev_ = 0;  // the root's identity, for is_root()
  ino_t root_ino_ = 0;
  std::string path_;
  Options options_{};
  bool openat2_ = false;
};

}  // namespace httpfs::io
