// errno values as HTTP statuses: the one place where that mapping lives.
#pragma once

namespace httpfs::server {

// ENOENT/ENOTDIR -> 404, EACCES/EPERM/EXDEV/ELOOP/EROFS -> 403, ENAMETOOLONG -> 414,
// EISDIR/ENOTEMPTY/EEXIST -> 409, ENOSPC/EDQUOT/EFBIG -> 507, EMFILE/ENFILE/ENOMEM/EAGAIN
// -> 503, anything else -> 500. `err` is positive or negative.
int status_from_errno(int err) noexcept;

}  // namespace httpfs::server
