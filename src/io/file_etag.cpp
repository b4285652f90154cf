#include "io/file_etag.hpp"

#include <charconv>
#include <cstdint>

namespace httpfs::io {

void append_file_etag(std::string& out, const struct stat& st) {
  const std::uint64_t mtime_ns = static_cast<std::uint64_t>(st.st_mtim.tv_sec) * 1000000000u +
                                 static_cast<std::uint64_t>(st.st_mtim.tv_nsec);
  const std::uint64_t parts[] = {static_cast<std::uint64_t>(st.st_ino),
                                 static_cast<std::uint64_t>(st.st_size), mtime_ns};
  char buf[3 * 16 + 4];
  char* p = buf;
  *p++ = '"';
  for (std::uint64_t v : parts) {
    if (p != buf + 1) *p++ = '-';
    p = std::to_chars(p, buf + sizeof buf, v, 16).ptr;
  }
  *p++ = '"';
  out.append(buf, static_cast<std::size_t>(p - buf));
}

std::string file_etag(const struct stat& st) {
  std::string tag;
  append_file_etag(tag, st);
  return tag;
}

}  // namespace httpfs::io
