// Incremental, zero-copy HTTP/1.x response-head parser for the client (RFC 9112, strict).
//
// Same contract as RequestParser: call parse() with all bytes since the start of the message;
// views in head() point into the buffer of the last call. The method of the request being
// answered decides part of the framing (HEAD and CONNECT), RFC 9112 6.3.
//
// Interim (1xx other than 101) heads are reported as Result::Interim: the caller looks at
// them (100 Continue lets an upload start), drops head().head_size bytes and calls reset()
// and parse() again for the final response.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "http/fields.hpp"
#include "http/line_scanner.hpp"
#include "http/method.hpp"
#include "http/parse_error.hpp"

namespace httpfs::http {

enum class ResponseFraming : std::uint8_t {
  None,     // no content: HEAD, 1xx, 204, 304
  Length,   // Content-Length
  Chunked,  // chunked
  Close,    // read until the server closes
  Tunnel,   // 2xx to CONNECT: the connection becomes a tunnel
  Upgrade,  // 101 Switching Protocols
};

struct ResponseHead {
  int status = 0;
  std::string_view reason;
  int version_minor = 1;
  std::vector<Header> headers;
  ResponseFraming framing = ResponseFraming::Close;
  std::uint64_t content_length = 0;
  bool keep_alive = false;
  std::size_t head_size = 0;

  bool interim() const noexcept { return status >= 100 && status < 200 && status != 101; }
  const Header* find(std::string_view lower_name) const noexcept {
    return find_header(headers, lower_name);
  }
};

class ResponseParser {
 public:
  // Real servers send large Set-Cookie and Content-Security-Policy fields: be generous.
  struct Limits {
    std::size_t max_status_line = 8192;
    std::size_t max_field_line = 65536;
    std::size_t max_head = 262144;
    std::size_t max_fields = 512;
  };
  enum class Result { Incomplete, Interim, Complete, Error };

  ResponseParser() = default;
  explicit ResponseParser(Limits limits) : limits_(limits) {}

  Result parse(std::string_view data, Method request_method) noexcept;

  const ResponseHead& head() const noexcept { return head_; }
  ParseError error() const noexcept { return error_; }
  void reset() noexcept;

 private:
  struct FieldSpan {
    std::uint32_t name, name_len, value, value_len;
  };
  enum class Phase : std::uint8_t { StatusLine, Fields };

  Result fail(ParseError e) noexcept {
    error_ = e;
    result_ = Result::Error;
    return result_;
  }
  ParseError parse_status_line(std::string_view line, std::size_t offset) noexcept;
  ParseError finish(std::string_view data, Method request_method) noexcept;

  Limits limits_{};
  LineScanner scanner_;
  Phase phase_ = Phase::StatusLine;
  Result result_ = Result::Incomplete;
  ParseError error_ = ParseError::None;
  std::uint32_t reason_off_ = 0, reason_len_ = 0;
  std::vector<FieldSpan> spans_;
  FramingFields framing_;
  ResponseHead head_;
};

}  // namespace httpfs::http
