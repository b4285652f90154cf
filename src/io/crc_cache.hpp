// CRC-32s of whole files, remembered by the file's identity and version, so that a ZIP
// download of files seen before sends their data with sendfile(2) instead of reading it to
// compute the CRC (which the data descriptor after each file needs), and a resumed download
// does not read every file before its range again.
//
// A file's version is its device, inode, size, and modification and change times in
// nanoseconds: any write changes mtime and ctime, so a stale CRC is never found. Shared by
// every thread (the archive jobs run on the worker pool): a mutex guards it. Bounded: past
// `max_entries`, an arbitrary entry makes room.
#pragma once

#include <sys/stat.h>

#include <cstdint>
#include <mutex>
#include <optional>
#include <unordered_map>

namespace httpfs::io {

class CrcCache {
 public:
  explicit CrcCache(std::size_t max_entries) : max_(max_entries) {}

  std::optional<std::uint32_t> find(const struct stat& st) const;
  void store(const struct stat& st, std::uint32_t crc);
  std::size_t size() const;

  // The process's cache (2^18 entries, about 20 MiB at most).
  static CrcCache& shared();

 private:
  struct Key {
    std::uint64_t dev, ino, size;
    std::int64_t mtime_ns, ctime_ns;
    bool operator==(const Key&) const = default;
  };
  struct Hash {
    std::size_t operator()(const Key& k) const noexcept;
  };
  static Key key_of(const struct stat& st) noexcept;

  std::size_t max_;
  mutable std::mutex mutex_;
  std::unordered_map<Key, std::uint32_t, Hash> map_;
};

}  // namespace httpfs::io
