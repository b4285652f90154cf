// Incremental, zero-copy HTTP/1.x request-head parser (RFC 9112, strict).
//
// Usage: keep the bytes of the head contiguous in a buffer; call parse() with everything
// received since the start of the message each time more arrives. The buffer may move between
// calls (only offsets are kept). When parse() returns Complete, head() describes the request
// with views into the buffer passed to that last call: they stay valid until the caller
// consumes or overwrites those bytes. head().head_size bytes belong to the head; what follows
// is the body (see BodyDecoder) or the next request.
//
// After Error, the parser refuses further input until reset(): a rejected message's trailing
// bytes must never be interpreted (README "Security", row 7).
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

enum class TargetForm : std::uint8_t { Origin, Absolute, Authority, Asterisk };

enum class BodyFraming : std::uint8_t {
  None,     // no body (no Content-Length or Transfer-Encoding, or CONNECT)
  Length,   // content_length bytes follow
  Chunked,  // chunked transfer coding
};

struct RequestHead {
  Method method = Method::Unknown;
  std::string_view method_token;  // as received, e.g. "GET"
  std::string_view target;        // as received, not decoded
  TargetForm form = TargetForm::Origin;
  int version_minor = 1;  // HTTP/1.0 -> 0, HTTP/1.1 (and 1.2+ treated as 1.1) -> 1
  std::vector<Header> headers;

  BodyFraming framing = BodyFraming::None;
  std::uint64_t content_length = 0;  // meaningful when framing == Length
  bool keep_alive = true;            // RFC 9112 9.3
  bool expect_continue = false;      // Expect: 100-continue
  bool expect_other = false;         // an expectation other than 100-continue (417)
  bool other_codings = false;        // codings listed before chunked (gzip, ...)
  std::string_view host;             // Host field value (empty when absent)
  int host_count = 0;
  std::size_t head_size = 0;  // bytes from the buffer start through the empty line

  const Header* find(std::string_view lower_name) const noexcept {
    return find_header(headers, lower_name);
  }
};

class RequestParser {
 public:
  struct Limits {
    std::size_t max_request_line = 8192;  // 414 beyond
    std::size_t max_field_line = 8192;    // 431 beyond
    std::size_t max_head = 32768;         // 431 beyond (leading empty lines count)
    std::size_t max_fields = 100;         // 431 beyond
  };
  // Checks that need the whole head and that a pure syntax checker would leave to the
  // application. Both are on for a server; the vector tests switch them off to see the
  // syntax verdict alone.
  struct Policy {
    bool require_host = true;           // HTTP/1.1 needs exactly one valid Host (RFC 9112 3.2)
    bool reject_unknown_coding = true;  // gzip etc. before chunked -> 501 (RFC 9112 6.1)
  };
  enum class Result { Incomplete, Complete, Error };

  RequestParser() = default;
  RequestParser(Limits limits, Policy policy) : limits_(limits), policy_(policy) {}

  Result parse(std::string_view data) noexcept;

  const RequestHead& head() const noexcept { return head_; }
  ParseError error() const noexcept { return error_; }
  // Bytes of a complete head, or of the current partial head (for limits on the caller side).
  std::size_t bytes_seen() const noexcept { return scanner_.line_start(); }
  const Limits& limits() const noexcept { return limits_; }

  // Prepares for the next message; keeps allocated capacity.
  void reset() noexcept;

 private:
  // Offsets of a field relative to the buffer start; turned into views on completion.
  struct FieldSpan {
    std::uint32_t name, name_len, value, value_len;
  };
  enum class Phase : std::uint8_t { RequestLine, Fields };

  // The fault of the method that the current line (possibly partial) of `data` starts with,
  // as far as its bytes tell: None while it could still be a valid request line.
  ParseError check_method_prefix(std::string_view data) noexcept;
  Result fail(ParseError e) noexcept {
    error_ = e;
    result_ = Result::Error;
    return result_;
  }
  ParseError parse_request_line(std::string_view line, std::size_t offset) noexcept;
  // Host and Expect, noted as each field line is parsed.
  void note_request_field(std::string_view name, std::string_view value,
                          std::size_t value_off) noexcept;
  ParseError check_target(std::string_view target) noexcept;
  ParseError finish(std::string_view data) noexcept;

  Limits limits_{};
  Policy policy_{};
  LineScanner scanner_;
  Phase phase_ = Phase::RequestLine;
  Result result_ = Result::Incomplete;
  ParseError error_ = ParseError::None;
  // The first byte check_method_prefix() has not judged; kMethodDone once the method ended.
  static constexpr std::size_t kMethodDone = static_cast<std::size_t>(-1);
  std::size_t method_scanned_ = 0;
  std::uint32_t method_off_ = 0, method_len_ = 0, target_off_ = 0, target_len_ = 0;
  std::uint32_t host_off_ = 0, host_len_ = 0;
  std::vector<FieldSpan> spans_;
  FramingFields framing_;
  RequestHead head_;
};

}  // namespace httpfs::http
