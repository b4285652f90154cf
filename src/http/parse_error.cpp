#include "http/parse_error.hpp"

#include <array>

namespace httpfs::http {

namespace {

struct Entry {
  int status;
  std::string_view message;
  std::string_view name;
};

constexpr std::array kTable = {
#define HTTPFS_X(name, status, message) Entry{status, message, #name},
    HTTPFS_PARSE_ERRORS(HTTPFS_X)
#undef HTTPFS_X
};

const Entry& entry(ParseError e) noexcept {
  auto i = static_cast<std::size_t>(e);
  return i < kTable.size() ? kTable[i] : kTable[0];
}

}  // namespace

int error_status(ParseError e) noexcept {
  return entry(e).status;
}
std::string_view error_message(ParseError e) noexcept {
  return entry(e).message;
}
std::string_view error_name(ParseError e) noexcept {
  return entry(e).name;
}

}  // namespace httpfs::http
