#include "http/response_head_writer.hpp"

#include <cstring>

#include "http/chars.hpp"
#include "http/status.hpp"

namespace httpfs::http {

void ResponseHeadWriter::append(std::string_view s) noexcept {
  if (!ok_) return;
  if (s.size() > cap_ - len_) {
    ok_ = false;
    return;
  }
  std::memcpy(buf_ + len_, s.data(), s.size());
  len_ += s.size();
}

void ResponseHeadWriter::status_line(int code) noexcept {
  if (code < 100 || code > 999) {
    ok_ = false;
    return;
  }
  char digits[4] = {char('0' + code / 100), char('0' + code / 10 % 10), char('0' + code % 10), ' '};
  append("HTTP/1.1 ");
  append(std::string_view(digits, 4));
  append(reason_phrase(code));
  append("\r\n");
}

void ResponseHeadWriter::header(std::string_view name, std::string_view value) noexcept {
  for (char c : name)
    if (!chars::is_token(c)) ok_ = false;
  for (char c : value)
    if (c == '\r' || c == '\n' || c == '\0') ok_ = false;
  append(name);
  append(": ");
  append(value);
  append("\r\n");
}

void ResponseHeadWriter::header(std::string_view name, std::uint64_t value) noexcept {
  char digits[20];
  std::size_t n = 0;
  do {
    digits[sizeof digits - 1 - n++] = char('0' + value % 10);
    value /= 10;
  } while (value != 0);
  header(name, std::string_view(digits + sizeof digits - n, n));
}

std::size_t ResponseHeadWriter::finish() noexcept {
  append("\r\n");
  return ok_ ? len_ : 0;
}

}  // namespace httpfs::http
