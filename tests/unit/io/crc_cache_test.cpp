#include "io/crc_cache.hpp"

#include <doctest/doctest.h>

using namespace httpfs::io;

namespace {

struct stat file(std::uint64_t ino, std::int64_t size, long mtime_ns, long ctime_ns = 0) {
  struct stat st {};
  st.st_dev = 7;
  st.st_ino = ino;
  st.st_size = size;
  st.st_mtim = {1000, mtime_ns};
  st.st_ctim = {1000, ctime_ns};
  return st;
}

}  // namespace

TEST_CASE("a CRC is found only for the same file in the same version") {
  CrcCache c(10);
  c.store(file(1, 100, 5), 0xdeadbeef);
  CHECK(c.find(file(1, 100, 5)) == 0xdeadbeefu);
  CHECK_FALSE(c.find(file(2, 100, 5)));     // another inode
  CHECK_FALSE(c.find(file(1, 101, 5)));     // another size
  CHECK_FALSE(c.find(file(1, 100, 6)));     // written again (mtime)
  CHECK_FALSE(c.find(file(1, 100, 5, 1)));  // changed otherwise (ctime)
  struct stat other_dev = file(1, 100, 5);
  other_dev.st_dev = 8;
  CHECK_FALSE(c.find(other_dev));
  c.store(file(1, 100, 5), 42);  // replaced
  CHECK(c.find(file(1, 100, 5)) == 42u);
  CHECK(c.size() == 1);
}

TEST_CASE("the cache stays within its bound") {
  CrcCache c(3);
  for (std::uint64_t i = 0; i < 10; ++i) c.store(file(i, 1, 0), static_cast<std::uint32_t>(i));
  CHECK(c.size() == 3);
  CHECK(c.find(file(9, 1, 0)) == 9u);  // the newest is always kept
  CrcCache off(0);
  off.store(file(1, 1, 0), 1);
  CHECK(off.size() == 0);
  CHECK_FALSE(off.find(file(1, 1, 0)));
}
