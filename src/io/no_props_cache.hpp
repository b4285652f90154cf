// Files known to have no dead properties, so that a listing of a directory it has seen
// before costs one fstatat(2) per entry rather than an xattr lookup as well: most files never
// get a property, and a file manager lists the same directory again and again.
//
// What is remembered is a 64-bit fingerprint of (device, inode, ctime). Writing an extended
// attribute changes the inode's ctime (xattr(7)), as do rename and link count changes, so a
// file whose properties change is no longer recognised, whoever changed them: another
// process, another server on the same file system, a restore with cp -a.
//
// A change within the same tick of the clock that stamped the ctime would keep it, and so
// the fingerprint: only files whose ctime has settled are noted. A file system that stores
// sub-second times stamps them from the kernel's clock (a few milliseconds at most);
// kSettleFineNs covers that with a wide margin. Whole-second times (ext4 with 128-byte
// inodes; FAT's two seconds) need kSettleCoarseNs.
//
// That holds where this kernel stamps the ctimes with its own clock: local file systems. On
// a network file system the server's clock stamps them, and a lag behind ours could make a
// fresh ctime look settled, so trusted() says no and listings there read every file's
// properties. (A clock stepped back by more than the margin could, in the same way, let a
// change keep an old stamp; the margin is the defence, not a guarantee.)
//
// A fixed table of kSlots fingerprints (256 KiB, an anonymous mapping, so only the pages in
// use become resident) in buckets of kWays; a full bucket gives up one at random. Shared by
// every loop thread through relaxed atomics: a slot holds either a whole fingerprint or
// another one, and a lost note only costs a lookup.
#pragma once

#include <sys/stat.h>

#include <cstddef>
#include <cstdint>
#include <ctime>

namespace httpfs::io {

class NoPropsCache {
 public:
  static constexpr std::size_t kSlots = std::size_t{1} << 15;
  static constexpr std::size_t kWays = 4;
  static constexpr std::size_t kBytes = kSlots * sizeof(std::uint64_t);
  static constexpr std::int64_t kSettleFineNs = 100'000'000;  // 100 ms
  static constexpr std::int64_t kSettleCoarseNs = 2'000'000'000;

  NoPropsCache();
  ~NoPropsCache();
  NoPropsCache(const NoPropsCache&) = delete;
  NoPropsCache& operator=(const NoPropsCache&) = delete;

  // Starts loading the slots known_none(st) will read: a listing's stats push the table out
  // of the CPU's caches, and the answer has other work to do meanwhile.
  void prefetch(const struct stat& st) const noexcept;
  // True when `st` (from a stat of the file now) was noted without properties and has not
  // changed since.
  bool known_none(const struct stat& st) const noexcept;
  // Notes that the file of `st` had no properties when they were read after that stat;
  // ignored unless its ctime has settled by `now` (CLOCK_REALTIME).
  void note_none(const struct stat& st, const struct timespec& now) noexcept;
  // Whether files in the directory `dir_fd` may be cached: it is on a local file system.
  static bool trusted(int dir_fd) noexcept;
  // Whether a ctime has settled by `now` (a pure rule, for tests).
  static bool settled(const struct timespec& ctime, const struct timespec& now) noexcept;

  // The fingerprint; never 0, which marks an empty slot (exposed for tests).
  static std::uint64_t fingerprint(const struct stat& st) noexcept;

 private:
  std::uint64_t* slots_;  // kSlots in buckets of kWays, owned; an anonymous mapping
};

}  // namespace httpfs::io
