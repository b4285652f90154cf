#include "io/no_props_cache.hpp"

#include <doctest/doctest.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <cstdint>
#include <set>

using httpfs::io::NoPropsCache;

namespace {

struct stat file_stat(std::uint64_t dev, std::uint64_t ino, std::int64_t ctime_sec,
                      long ctime_nsec) {
  struct stat st {};
  st.st_dev = dev;
  st.st_ino = ino;
  st.st_ctim.tv_sec = ctime_sec;
  st.st_ctim.tv_nsec = ctime_nsec;
  return st;
}

struct timespec at(std::int64_t sec, long nsec) {
  struct timespec t {};
  t.tv_sec = sec;
  t.tv_nsec = nsec;
  return t;
}

}  // namespace

TEST_CASE("a ctime has settled after the margin of its clock's resolution") {
  struct Row {
    struct timespec ctime;
    struct timespec now;
    bool settled;
  };
  const Row rows[] = {
      // Sub-second stamps: 100 ms.
      {at(1000, 500'000'000), at(1000, 500'000'000), false},
      {at(1000, 500'000'000), at(1000, 599'999'999), false},
      {at(1000, 500'000'000), at(1000, 600'000'000), true},
      {at(1000, 950'000'000), at(1001, 49'999'999), false},
      {at(1000, 950'000'000), at(1001, 50'000'000), true},
      // Whole seconds (nsec 0): 2 s, as another change in that second keeps the stamp.
      {at(1000, 0), at(1000, 999'999'999), false},
      {at(1000, 0), at(1001, 999'999'999), false},
      {at(1000, 0), at(1002, 0), true},
      // A clock stepped back: the ctime is in the future.
      {at(2000, 1), at(1000, 0), false},
  };
  for (const Row& r : rows) {
    CAPTURE(r.ctime.tv_sec);
    CAPTURE(r.ctime.tv_nsec);
    CAPTURE(r.now.tv_sec);
    CAPTURE(r.now.tv_nsec);
    CHECK(NoPropsCache::settled(r.ctime, r.now) == r.settled);
  }
}

TEST_CASE("the fingerprint changes with device, inode and ctime, and is never 0") {
  const struct stat base = file_stat(2049, 1234, 1700000000, 123456789);
  const std::uint64_t fp = NoPropsCache::fingerprint(base);
  CHECK(fp != 0);
  CHECK(NoPropsCache::fingerprint(base) == fp);
  CHECK(NoPropsCache::fingerprint(file_stat(2050, 1234, 1700000000, 123456789)) != fp);
  CHECK(NoPropsCache::fingerprint(file_stat(2049, 1235, 1700000000, 123456789)) != fp);
  CHECK(NoPropsCache::fingerprint(file_stat(2049, 1234, 1700000001, 123456789)) != fp);
  CHECK(NoPropsCache::fingerprint(file_stat(2049, 1234, 1700000000, 123456790)) != fp);
  // Size and mtime are not part of it: a write changes the ctime anyway.
  struct stat other = base;
  other.st_size = 99;
  other.st_mtim.tv_sec = 5;
  CHECK(NoPropsCache::fingerprint(other) == fp);
  // Distinct over a run of inodes (the table relies on its high bits spreading).
  std::set<std::uint64_t> seen;
  for (std::uint64_t ino = 0; ino < 100000; ++ino)
    seen.insert(NoPropsCache::fingerprint(file_stat(2049, ino, 1700000000, 0)));
  CHECK(seen.size() == 100000);
}

TEST_CASE("a noted file is known until its ctime changes; unsettled ones are not noted") {
  NoPropsCache cache;
  const struct timespec now = at(1700000100, 0);
  const struct stat st = file_stat(2049, 77, 1700000000, 5);
  CHECK_FALSE(cache.known_none(st));
  cache.note_none(st, now);
  CHECK(cache.known_none(st));
  cache.note_none(st, now);  // noting twice keeps one slot
  CHECK(cache.known_none(st));
  // setxattr(2) moved the ctime on: a different file as far as the cache knows.
  CHECK_FALSE(cache.known_none(file_stat(2049, 77, 1700000000, 6)));
  CHECK_FALSE(cache.known_none(file_stat(2049, 77, 1700000050, 5)));
  // Changed within the margin: its properties could change again under the same stamp.
  const struct stat fresh = file_stat(2049, 78, 1700000100, 0);
  cache.note_none(fresh, at(1700000100, 50'000'000));
  CHECK_FALSE(cache.known_none(fresh));
  const struct stat fresh_fine = file_stat(2049, 79, 1700000099, 950'000'000);
  cache.note_none(fresh_fine, now);
  CHECK_FALSE(cache.known_none(fresh_fine));
  cache.note_none(fresh_fine, at(1700000100, 50'000'000));
  CHECK(cache.known_none(fresh_fine));
}

TEST_CASE("a full table forgets files but never claims one it was not told about") {
  NoPropsCache cache;
  const struct timespec now = at(1700000100, 0);
  constexpr std::uint64_t kNoted = 4 * NoPropsCache::kSlots;
  for (std::uint64_t ino = 0; ino < kNoted; ++ino)
    cache.note_none(file_stat(1, ino, 1700000000, 1), now);
  std::uint64_t kept = 0;
  for (std::uint64_t ino = 0; ino < kNoted; ++ino)
    kept += cache.known_none(file_stat(1, ino, 1700000000, 1)) ? 1 : 0;
  CHECK(kept <= NoPropsCache::kSlots);
  CHECK(kept > NoPropsCache::kSlots / 2);  // replacement keeps the table mostly full
  std::uint64_t false_hits = 0;
  for (std::uint64_t ino = kNoted; ino < kNoted + 100000; ++ino)
    false_hits += cache.known_none(file_stat(1, ino, 1700000000, 1)) ? 1 : 0;
  CHECK(false_hits == 0);
  // The last file noted is there: it replaced an older one.
  CHECK(cache.known_none(file_stat(1, kNoted - 1, 1700000000, 1)));
}

TEST_CASE("only local file systems are trusted: their ctimes come from this kernel's clock") {
  const int proc = ::open("/proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  REQUIRE(proc >= 0);
  CHECK_FALSE(NoPropsCache::trusted(proc));  // not a local disk file system
  ::close(proc);
  CHECK_FALSE(NoPropsCache::trusted(-1));
  const int shm = ::open("/dev/shm", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (shm >= 0) {
    struct statfs fs {};
    if (::fstatfs(shm, &fs) == 0 && fs.f_type == TMPFS_MAGIC) CHECK(NoPropsCache::trusted(shm));
    ::close(shm);
  }
}
