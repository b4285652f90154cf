#include "io/write_all.hpp"

#include <unistd.h>

#include <cerrno>
#include <cstddef>

namespace httpfs::io {

int write_all(int fd, std::string_view bytes, std::uint64_t& written) noexcept {
  while (!bytes.empty()) {
    ssize_t n = ::write(fd, bytes.data(), bytes.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return -errno;
    }
    bytes.remove_prefix(static_cast<std::size_t>(n));
    written += static_cast<std::uint64_t>(n);
  }
  return 0;
}

}  // namespace httpfs::io
