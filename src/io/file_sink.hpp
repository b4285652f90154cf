// An upload on its way to disk: written to a temporary file in the target's directory and
// given the target's name only when complete, so the old file (if any) stays whole and
// readable until the rename, and a failed upload leaves nothing behind.
//
// The temporary file is unnamed (O_TMPFILE) where the file system supports it: a crash
// mid-upload then leaves nothing at all. Elsewhere, and always on a directory shared with
// other hosts (use_named_temps_only), it is a dotfile named after its target,
// ".<target>.httpfs-tmp-<host>-<pid>-<n>", which sweep_stale_temps() removes at a later
// start. The name keeps the target's: a distributed file system that places files by a
// hash of their names (GlusterFS's DHT hashes ".<name>.<suffix>" as "<name>") then keeps
// the temporary file where the target is, and the rename is one brick's rename, never
// making the target briefly vanish for other clients. <host> tells this host's files
// (whose <pid> can be checked) from other hosts' (judged by age).
#pragma once

#include <sys/stat.h>
#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "io/docroot.hpp"

namespace httpfs::io {

// What follows the last dot of a named temporary file's name.
inline constexpr std::string_view kTempMark = "httpfs-tmp-";

// Process-wide, set once before the first upload: never O_TMPFILE (--shared-fs; distributed
// file systems refuse it, and a link through /proc is a local trick).
void use_named_temps_only(bool on) noexcept;

// The parts of a named temporary file's name; nullopt for any other name. Names from
// before the host tag (".httpfs-tmp-<pid>-<n>") parse with an empty host.
struct TempName {
  std::string_view host;  // 8 hex digits, this host's or another's
  long pid = 0;
};
std::optional<TempName> parse_temp_name(std::string_view name) noexcept;
// The name of a temporary file for `target` (shortened to fit NAME_MAX).
std::string make_temp_name(std::string_view target);
// This host's tag in temporary names: a hash of its host name, 8 hex digits.
std::string_view host_tag();

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

// Removes named temporary files left by a process that is gone (killed mid-upload or
// mid-commit), walking at most `max_dirs` directories beneath the root without following
// symlinks: this host's when their pid is no longer running, another host's when untouched
// for kForeignTempAge (an upload in progress writes its file at least every body timeout).
// Returns how many were removed.
inline constexpr std::int64_t kForeignTempAgeS = 3600;
std::size_t sweep_stale_temps(const Docroot& root, std::size_t max_dirs);

}  // namespace httpfs::io
