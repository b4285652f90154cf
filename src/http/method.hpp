// Request methods. The parser accepts any token as a method (RFC 9110 9.1: the set is open);
// Method::Unknown lets the server answer 501 for methods nobody registered and 405 for the
// registered ones it does not serve.
#pragma once

#include <cstdint>
#include <string_view>

namespace httpfs::http {

enum class Method : std::uint8_t {
  Unknown,
  Get,
  Head,
  Post,
  Put,
  Delete,
  Connect,
  Options,
  Trace,
  Patch,
  // WebDAV and other methods registered with IANA; a file server answers them with 405.
  Propfind,
  Proppatch,
  Mkcol,
  Copy,
  Move,
  Lock,
  Unlock,
  Search,
  Query,
};

// Case-sensitive, as method names are (RFC 9110 9.1).
Method method_from_token(std::string_view token) noexcept;
std::string_view method_name(Method m) noexcept;

}  // namespace httpfs::http
