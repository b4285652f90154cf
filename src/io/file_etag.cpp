#include "io/file_etag.hpp"

#include <cinttypes>
#include <cstdint>
#include <cstdio>

namespace httpfs::io {

std::string file_etag(const struct stat& st) {
  char buf[64];
  const std::uint64_t mtime_ns = static_cast<std::uint64_t>(st.st_mtim.tv_sec) * 1000000000u +
                                 static_cast<std::uint64_t>(st.st_mtim.tv_nsec);
  int n = std::snprintf(buf, sizeof buf, "\"%" PRIx64 "-%" PRIx64 "-%" PRIx64 "\"",
                        static_cast<std::uint64_t>(st.st_ino),
                        static_cast<std::uint64_t>(st.st_size), mtime_ns);
  return std::string(buf, static_cast<std::size_t>(n));
}

}  // namespace httpfs::io
