// errno values as text, for log lines and messages.
#pragma once

#include <string>

namespace httpfs::net {

// strerror text, e.g. "No such file or directory". `err` is positive or negative.
std::string errno_text(int err);

}  // namespace httpfs::net
