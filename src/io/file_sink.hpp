// An upload on its way to disk: written to a temporary file in the target's directory and
// given the target's name only when complete, so the old file (if any) stays whole and
// readable until the rename, and a failed upload leaves nothing behind.
//
// The temporary file is unnamed (O_TMPFILE) where the file system supports it: a crash
// mid-upload then leaves nothing at all. Elsewhere it is a dotfile named
// ".httpfs-tmp-<pid>-<n>", which sweep_stale_temps() removes at the next start.
#pragma once

#include <sys/stat.h>
#include <sys/types.h>

#include <cstdint>
#include <string>
#include <string_view>

#include "io/docroot.hpp"

namespace httpfs::io {

inline constexpr std::string_view kTempPrefix = ".httpfs-tmp-";

class FileSink {
 public:
  FileSink() = default;
  ~FileSink();
  FileSink(const FileSink&) = delete;
  FileSink& operator=(const FileSink&) = delete;

  // Takes `dir_fd` (the target's directory) and creates the temporary file there for the
  // final name `name`. Returns 0 or -errno.
  int open(int dir_fd, std::string name, mode_t mode = 0644);
  // Takes the existing file `temp_name` of `temp_dir_fd` (a resumable upload's data, in the
  // state directory) as the temporary file for `name` in `dir_fd`; takes both descriptors.
  // Its bytes are what commit() publishes, with mode 0644. Unlike a file open() made,
  // abort() leaves it where it is: a failed completion keeps the data for a retry.
  // Returns 0 or -errno (-EINVAL when it is not a regular file).
  int adopt(int temp_dir_fd, std::string temp_name, int dir_fd, std::string name);
  // Appends all of `bytes`. Returns 0 or -errno (ENOSPC, EDQUOT, EFBIG, EIO, ...).
  int write(std::string_view bytes);
  // Moves up to `max` bytes from the pipe `pipe_fd` into the file with splice(2).
  // Returns the bytes moved (0 when the pipe is empty) or -errno.
  long splice_from(int pipe_fd, std::size_t max);
  std::uint64_t size() const noexcept { return size_; }
  // For durable uploads: asks the kernel to start writing out what has arrived, a few MiB at
  // a time (sync_file_range, which does not wait), so that the fsync at commit has little
  // left to do and disk writes overlap the network.
  void set_early_writeback(bool on) noexcept { early_writeback_ = on; }
  bool is_open() const noexcept { return fd_ >= 0; }
  // The temporary file, for writers that fill it themselves (copy_file_range).
  int fd() const noexcept { return fd_; }

  // Blocking, safe on a worker thread: fsync the data (when `durable`), give the file its
  // name (replacing an existing file, or failing with EEXIST when `no_replace`), and fsync
  // the directory (when `durable`). With `if_match` (an If-Match field value), the file now
  // at the name must still match it: -ESTALE otherwise. Fills `st` with the committed file's
  // stat. 0 or -errno. An adopted file on another file system than the target is copied
  // there first (and left where it was).
  int commit(bool durable, bool no_replace, std::string_view if_match, struct stat& st);
  // Discards the upload: closes and removes the temporary file. Idempotent.
  void abort() noexcept;

 private:
  int dir_fd_ = -1;
  int temp_dir_fd_ = -1;  // an adopted file's directory; -1: dir_fd_
  bool adopted_ = false;
  int fd_ = -1;
  std::string name_;
  std::string temp_name_;  // empty for an unnamed (O_TMPFILE) file
  std::uint64_t size_ = 0;
  std::uint64_t flushed_ = 0;  // bytes already handed to writeback
  bool early_writeback_ = false;
  void maybe_start_writeback() noexcept;
  // An adopted file on another file system than the target cannot be renamed there: its
  // bytes are copied into a temporary file in the target's directory, which is committed
  // instead. 0 (also when nothing needed copying) or -errno.
  int copy_across_file_systems();
  void close_dirs() noexcept;
};

// Removes ".httpfs-tmp-<pid>-*" files left by a process that is gone (killed mid-commit, or
// mid-upload where O_TMPFILE is missing), walking at most `max_dirs` directories beneath the
// root without following symlinks. Returns how many were removed.
std::size_t sweep_stale_temps(const Docroot& root, std::size_t max_dirs);

}  // namespace httpfs::io
