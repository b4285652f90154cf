// Small state files that several processes share: the files of the state directory
// (io/state_dir.hpp) that hold WebDAV locks and partial uploads.
//
// Format: a first line naming the kind and version ("httpfs-lock 1"), then records, each
// `<name> SP <decimal byte count> LF <that many bytes> LF`, and last `end 0 LF LF`. Values
// are length-prefixed, so they may hold any byte, newlines included (a path can).
//
// Writing: a file is written whole under a temporary name (kRecordTempPrefix..., O_EXCL), synced,
// renamed over its final name, and the directory synced: a reader sees the old file or the
// new one, never a mix, and a crash after the call keeps the new one. Readers take no lock.
//
// Changes that must not race with another process (check, then write) run under a
// DirGuard: an exclusive fcntl lock on `.guard` in the directory. Open file description
// locks (F_OFD_SETLKW) exclude two guards of one process, or two threads, as well as two
// processes; the descriptor is opened afresh by each guard, because one inherited across a
// fork would share its description, and an OFD lock does not exclude the holders of one
// description. Kernels without OFD locks (before 3.15) fall back to process-wide POSIX
// locks, which still exclude other processes. A temporary found while holding the guard is
// a dead writer's.
#pragma once

#include <charconv>
#include <cstddef>
#include <functional>
#include <string>
#include <string_view>

namespace httpfs::io {

inline constexpr std::string_view kRecordTempPrefix = ".tmp-";
inline constexpr std::string_view kGuardName = ".guard";

// Appends one record.
void put_record(std::string& out, std::string_view name, std::string_view value);
// Takes the next record off `rest`; false when there is none well-formed. The views point
// into `rest`'s bytes.
bool next_record(std::string_view& rest, std::string_view& name, std::string_view& value);

// Reads a file of records: `bytes` must start with `magic`, hold each record whose bit is
// in `required` once, and end with `end`. apply(name, value) stores a record and returns
// its bit, 0 for a name it does not know (skipped: room for later fields), -1 for a bad
// value. False for anything malformed, missing, repeated or trailing.
bool decode_records(std::string_view bytes, std::string_view magic, unsigned required,
                    const std::function<int(std::string_view, std::string_view)>& apply);

// A whole decimal number (no sign, no spaces) of an unsigned or signed integer type.
template <class T>
bool parse_decimal(std::string_view s, T& out) noexcept {
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return !s.empty() && ec == std::errc() && end == s.data() + s.size();
}

// Reads the regular file `name` of `dir` whole, without following a symlink and without
// blocking on a FIFO: 0, -EINVAL (not a regular file), -EFBIG (over `max` bytes), -errno.
int read_small_file(int dir, const char* name, std::string& out, std::size_t max);

// Writes `bytes` as the file `name` of `dir`, replacing any, as described above.
int write_file_atomically(int dir, const std::string& name, std::string_view bytes);

// Calls f(name) for every entry of the directory but "." and "..".
void for_each_entry(int dir, const std::function<void(const std::string&)>& f);

enum class Doom : unsigned char { Keep, Remove, RemoveUncounted };
// Unlinks every entry `doom` picks, then syncs the directory once. Returns how many of the
// counted (Doom::Remove) ones went.
std::size_t unlink_entries(int dir, const std::function<Doom(const std::string&)>& doom);

// Fills `buf` from the kernel's random source: 0 or -errno.
int fill_random(unsigned char* buf, std::size_t n);
// Bytes as lowercase hex digits, the form of state files' names (ids, hashes).
std::string lower_hex(const unsigned char* bytes, std::size_t n);

// The exclusive lock on `.guard` in a directory, held while the object lives.
class DirGuard {
 public:
  explicit DirGuard(int dir);
  ~DirGuard();
  DirGuard(const DirGuard&) = delete;
  DirGuard& operator=(const DirGuard&) = delete;
  // 0, or -errno when the lock could not be had (nothing is then held).
  int error() const noexcept { return error_; }

 private:
  int take(int cmd);

  int fd_ = -1;
  int error_ = 0;
  bool ofd_ = true;  // an open file description lock (else a process-wide one)
};

}  // namespace httpfs::io
