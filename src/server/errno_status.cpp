#include "server/errno_status.hpp"

#include <cerrno>

namespace httpfs::server {

int status_from_errno(int err) noexcept {
  switch (err < 0 ? -err : err) {
    case ENOENT:
    case ENOTDIR:
      return 404;
    case EACCES:
    case EPERM:
    case EXDEV:  // resolution would leave the served directory
    case ELOOP:  // a symlink we do not follow
    case EROFS:
      return 403;
    case ENAMETOOLONG:
      return 414;
    case EISDIR:
    case ENOTEMPTY:
    case EEXIST:
      return 409;
    case ENOSPC:
    case EDQUOT:
    case EFBIG:
      return 507;
    case EMFILE:
    case ENFILE:
    case ENOMEM:
    case EAGAIN:
      return 503;
    default:
      return 500;
  }
}

}  // namespace httpfs::server
