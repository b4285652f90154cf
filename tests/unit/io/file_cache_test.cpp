#include "io/file_cache.hpp"

#include <doctest/doctest.h>
#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "support/process.hpp"

using namespace httpfs::io;
using httpfs::test::TempDir;

namespace {

std::shared_ptr<const FileCache::Entry> put(FileCache& c, const Docroot& d, const std::string& path,
                                            std::uint64_t now) {
  int fd = d.open(path, O_RDONLY);
  struct stat st {};
  ::fstat(fd, &st);
  auto e = c.insert(path, path, fd, st, now);
  ::close(fd);
  return e;
}

}  // namespace

TEST_CASE("the cache holds small files and drops them when they change") {
  TempDir t;
  t.write("a.txt", "aaaa");
  t.write("d/b.txt", "bbbb");
  t.write("big", std::string(100, 'x'));
  Docroot d;
  REQUIRE(d.open_root(t.path(), {}) == 0);
  FileCache c(1000, 50);
  REQUIRE(c.start(d).empty());
  CHECK(put(c, d, "/a.txt", 0)->content == "aaaa");
  CHECK(put(c, d, "/d/b.txt", 0));
  CHECK(put(c, d, "/big", 0) == nullptr);  // over the per-file limit
  CHECK(c.lookup("/a.txt", 10)->content == "aaaa");
  CHECK(c.entries() == 2);
  // A write to the file: the inotify event drops the entry.
  httpfs::test::write_file(t / "a.txt", "AAAA");
  c.on_notify();
  CHECK(c.lookup("/a.txt", 20) == nullptr);
  CHECK(c.lookup("/d/b.txt", 20) != nullptr);
  // A directory change drops everything.
  ::mkdir((t / "newdir").c_str(), 0755);
  c.on_notify();
  CHECK(c.entries() == 0);
  // A lookup reads pending events itself: no stale answer while the loop has not yet got
  // round to the notify descriptor.
  CHECK(put(c, d, "/d/b.txt", 1000));
  httpfs::test::write_file(t / "d/b.txt", "changed!");
  CHECK(c.lookup("/d/b.txt", 1001) == nullptr);
  // What inotify cannot see (here a bind mount over the path) the once-a-second stat catches.
  CHECK(put(c, d, "/d/b.txt", 1000));
  t.write("other", "another file");
  if (::geteuid() == 0 &&
      ::mount((t / "other").c_str(), (t / "d/b.txt").c_str(), nullptr, MS_BIND, nullptr) == 0) {
    CHECK(c.lookup("/d/b.txt", 1500) != nullptr);  // within the second: still the old entry
    CHECK(c.lookup("/d/b.txt", 2100) == nullptr);  // revalidated: gone
    ::umount((t / "d/b.txt").c_str());
  } else {
    MESSAGE("skipped the revalidation check: a bind mount needs root");
  }
  // Hard-linked files are not cached (a write through the other name is not seen).
  ::link((t / "d/b.txt").c_str(), (t / "hard").c_str());
  CHECK(put(c, d, "/hard", 3000) == nullptr);
  // LRU within the byte budget.
  FileCache small(10, 10);
  REQUIRE(small.start(d).empty());
  t.write("x", "12345");
  t.write("y", "67890");
  t.write("z", "abcde");
  put(small, d, "/x", 0);
  put(small, d, "/y", 0);
  small.lookup("/x", 0);
  put(small, d, "/z", 0);
  CHECK(small.lookup("/x", 0) != nullptr);
  CHECK(small.lookup("/y", 0) == nullptr);
  CHECK(small.bytes() == 10);
}

TEST_CASE("on a shared directory the cache watches nothing and checks every hit by a stat") {
  TempDir t;
  t.write("a.txt", "aaaa");
  t.write("d/b.txt", "bbbb");
  Docroot d;
  REQUIRE(d.open_root(t.path(), {}) == 0);
  FileCache c(1000, 50, FileCache::Validation::EveryUse);
  REQUIRE(c.start(d).empty());
  CHECK(c.notify_fd() == -1);  // another host's changes would never show there
  REQUIRE(put(c, d, "/a.txt", 0));
  REQUIRE(put(c, d, "/d/b.txt", 0));
  CHECK(c.lookup("/a.txt", 1)->content == "aaaa");  // unchanged: a hit
  // Replaced (as another host's upload would: a new file renamed over it), then looked up
  // 1 ms later: without inotify, only the stat of this lookup can tell.
  t.write("a.tmp", "AAAA");
  REQUIRE(::rename((t / "a.tmp").c_str(), (t / "a.txt").c_str()) == 0);
  CHECK(c.lookup("/a.txt", 2) == nullptr);
  // Written in place, same size: the mtime and ctime differ.
  {
    const int fd = ::open((t / "d/b.txt").c_str(), O_WRONLY);
    REQUIRE(fd >= 0);
    ::usleep(20000);  // a coarse file-system clock must tick
    CHECK(::pwrite(fd, "BBBB", 4, 0) == 4);
    ::close(fd);
  }
  CHECK(c.lookup("/d/b.txt", 3) == nullptr);
}
