// Writing a whole buffer to a file descriptor, through short writes and EINTR.
#pragma once

#include <cstdint>
#include <string_view>

namespace httpfs::io {

// Writes all of `bytes` to `fd`. Every byte the kernel took is added to `written` as it goes,
// so a caller keeping a file's size stays right after a failure too. 0, or -errno.
int write_all(int fd, std::string_view bytes, std::uint64_t& written) noexcept;

}  // namespace httpfs::io
