// errno values as HTTP statuses and as text: the one place where that mapping lives.
#pragma once

#include <string>

namespace httpfs::net {

// ENOENT/ENOTDIR -> 404, EACCES/EPERM/EXDEV/ELOOP -> 403, EMFILE/ENFILE -> 503,
// ENAMETOOLONG -> 414, ENOSPC/EDQUOT/EFBIG -> 507, EISDIR/ENOTEMPTY/EEXIST -> 409,
// EROFS -> 403, anything else -> 500. `err` is positive or negative.
int status_from_errno(int err) noexcept;

// strerror text, e.g. "No such file or directory".
std::string errno_text(int err);

}  // namespace httpfs::net
