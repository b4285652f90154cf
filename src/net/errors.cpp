#include "net/errors.hpp"

#include <cstring>

namespace httpfs::net {

std::string errno_text(int err) {
  char buf[128];
  // GNU strerror_r returns the message pointer (possibly not buf).
  return ::strerror_r(err < 0 ? -err : err, buf, sizeof buf);
}

}  // namespace httpfs::net
