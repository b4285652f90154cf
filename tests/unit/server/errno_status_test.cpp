#include "server/errno_status.hpp"

#include <doctest/doctest.h>

#include <cerrno>

TEST_CASE("errno to status, in one place") {
  using httpfs::server::status_from_errno;
  CHECK(status_from_errno(ENOENT) == 404);
  CHECK(status_from_errno(-ENOTDIR) == 404);
  CHECK(status_from_errno(EACCES) == 403);
  CHECK(status_from_errno(EXDEV) == 403);
  CHECK(status_from_errno(EMFILE) == 503);
  CHECK(status_from_errno(ENOSPC) == 507);
  CHECK(status_from_errno(EDQUOT) == 507);
  CHECK(status_from_errno(ENAMETOOLONG) == 414);
  CHECK(status_from_errno(EIO) == 500);
}
