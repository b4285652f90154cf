// An in-memory cache of small, hot files, kept correct by inotify.
//
// How entries stay valid:
// - Before a file's bytes are read into the cache, its directory and every ancestor up to
//   the served root are watched (inotify). Any event naming the file (modify, attribute
//   change, write-close, delete, rename onto or away) drops its entry; any change to a
//   directory (a directory created, removed or renamed, a watched directory moved or
//   deleted, or an event-queue overflow) drops every entry. Because the watch is in place
//   before the read, a change during the read is seen too; the entry is also refused when
//   the file's stat differs after the read.
// - What inotify cannot see (writes through another hard link, changes made on another host
//   of a network file system) is covered by a stat(2) of the path at most once per second
//   per entry, comparing inode, size, mtime and ctime. Files with more than one hard link
//   and paths whose last component is a symlink are not cached at all.
// So a change is visible at once through any local path, and within a second otherwise.
//
// On a directory that other hosts change (--shared-fs, Validation::EveryUse) inotify sees
// none of their changes: no watches are made, and every hit is checked by that stat(2)
// first. One stat per hit instead of open, fstat, read and close: on a distributed file
// system each of those is a round trip.
// Use --cache-size 0 to turn the cache off (every request then opens the file).
#pragma once

#include <sys/stat.h>

#include <array>
#include <cstdint>
#include <list>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "io/docroot.hpp"

namespace httpfs::io {

class FileCache {
 public:
  struct Entry {
    std::string key;   // request path ("/a/b.txt", or "/dir/" for its index.html)
    std::string file;  // the file's own path ("/dir/index.html")
    std::string content;
    struct stat st {};
    std::string etag;  // precomputed validators: the same for every hit
    std::string last_modified;
    std::uint64_t validated_at = 0;  // loop time (ms) of the last stat check
    // `content` in a content coding, made on first use and kept while the entry lives, by
    // http::Coding (index 0, identity, stays empty). Mutable: a cached view of `content`,
    // not state; an entry belongs to one loop, so no locking. Not counted in bytes(): each
    // is about the size of `content` or (much) smaller.
    mutable std::array<std::string, 4> coded;
  };

  enum class Validation : std::uint8_t {
    Notify,    // inotify, and a stat at most once a second per entry
    EveryUse,  // a stat before every hit, no inotify
  };

  FileCache(std::uint64_t capacity_bytes, std::uint64_t max_file_bytes,
            Validation validation = Validation::Notify);
  ~FileCache();
  FileCache(const FileCache&) = delete;
  FileCache& operator=(const FileCache&) = delete;

  // Sets up inotify for files under `root` (which must outlive the cache). Returns an error
  // message; the cache is unusable after one.
  std::string start(const Docroot& root);
  void stop();  // drops everything and closes the inotify descriptor
  int notify_fd() const noexcept { return notify_fd_; }  // -1 with Validation::EveryUse
  // Reads and applies pending inotify events (call when notify_fd() is readable).
  void on_notify();

  // The entry for `key` if it is cached and still valid; `now` is loop time in ms. Reads
  // pending inotify events first: a request and the change it must see can be reported by
  // the same poll in either order, and the change is always queued by the time the request
  // is looked up.
  std::shared_ptr<const Entry> lookup(std::string_view key, std::uint64_t now);

  // Offers a just-opened regular file for caching. `file` is its path under the docroot,
  // `fd` open for reading, `st` its fstat. Returns the new entry, or nullptr when the file is
  // not cacheable (too big, hard-linked, symlinked, changed while read, watches exhausted).
  std::shared_ptr<const Entry> insert(std::string_view key, std::string_view file, int fd,
                                      const struct stat& st, std::uint64_t now);

  bool cacheable_size(std::uint64_t size) const noexcept { return size <= max_file_; }
  std::uint64_t bytes() const noexcept { return bytes_; }
  std::size_t entries() const noexcept { return map_.size(); }
  void clear();

 private:
  struct Hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const noexcept {
      return std::hash<std::string_view>{}(s);
    }
  };
  using Lru = std::list<std::shared_ptr<Entry>>;

  bool watch_ancestors(const Docroot& root, std::string_view file);
  void drop(std::string_view key);
  void drop_file(std::string_view file);

  const Docroot* root_ = nullptr;
  std::uint64_t capacity_;
  std::uint64_t max_file_;
  std::uint64_t bytes_ = 0;
  Validation validation_;
  int notify_fd_ = -1;

  Lru lru_;  // most recently used first
  std::unordered_map<std::string, Lru::iterator, Hash, std::equal_to<>> map_;
  std::unordered_map<int, std::string> watch_dirs_;                      // wd -> "/a/b"
  std::unordered_map<std::string, int, Hash, std::equal_to<>> watched_;  // "/a/b" -> wd
};

}  // namespace httpfs::io
