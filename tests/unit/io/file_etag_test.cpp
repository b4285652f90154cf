#include "io/file_etag.hpp"

#include <doctest/doctest.h>

#include <string>

using httpfs::io::append_file_etag;
using httpfs::io::file_etag;

TEST_CASE("the ETag is inode, size and nanosecond mtime in hex, quoted") {
  struct stat st {};
  st.st_ino = 0xa7318e;
  st.st_size = 0;
  st.st_mtim.tv_sec = 1;
  st.st_mtim.tv_nsec = 2;
  CHECK(file_etag(st) == "\"a7318e-0-3b9aca02\"");
  st.st_ino = ~static_cast<ino_t>(0);
  st.st_size = 0x7fffffffffffffff;
  st.st_mtim.tv_sec = 1700000000;
  st.st_mtim.tv_nsec = 999999999;
  CHECK(file_etag(st) == "\"ffffffffffffffff-7fffffffffffffff-17979cfe71c4c9ff\"");
  // Appending leaves what is there and writes the same tag.
  std::string out = "<D:getetag>";
  append_file_etag(out, st);
  CHECK(out == "<D:getetag>" + file_etag(st));
  // The same size in the same second, another nanosecond: another tag.
  struct stat later = st;
  later.st_mtim.tv_nsec = 999999998;
  CHECK(file_etag(later) != file_etag(st));
}
