// Writes a response head into a caller-provided buffer, without allocating.
//
// Values that come from request data (Location, file names) pass through header(): any CR,
// LF or NUL in a name or value marks the head invalid instead of splitting the response
// (README "Security", row 26), and finish() then returns 0 so the caller answers 500 instead.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace httpfs::http {

class ResponseHeadWriter {
 public:
  ResponseHeadWriter(char* buffer, std::size_t capacity) noexcept : buf_(buffer), cap_(capacity) {}

  // "HTTP/1.1 <code> <reason>\r\n". The server always speaks 1.1 (RFC 9110 2.5), also to
  // HTTP/1.0 clients; it just avoids 1.1-only features with them.
  void status_line(int code) noexcept;
  void header(std::string_view name, std::string_view value) noexcept;
  void header(std::string_view name, std::uint64_t value) noexcept;
  // Appends the empty line. Returns the head's size, or 0 if it did not fit or was invalid.
  std::size_t finish() noexcept;

  bool ok() const noexcept { return ok_; }
  std::size_t size() const noexcept { return len_; }

 private:
  void append(std::string_view s) noexcept;

  char* buf_;
  std::size_t cap_;
  std::size_t len_ = 0;
  bool ok_ = true;
};

}  // namespace httpfs::http
