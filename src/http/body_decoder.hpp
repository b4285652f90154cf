// Message body framing: Content-Length and chunked (RFC 9112 6 and 7.1).
//
// Sans-I/O and zero-copy: decode() looks at the bytes the caller has, consumes framing
// bytes, and hands out body bytes as a view into the caller's input. It is resumable at every
// byte: chunk-size lines, extensions and trailers may be split anywhere, since nothing is
// left unconsumed between calls (trailers, when kept, are copied into a bounded string).
//
// Loop: while (!in.empty()) { auto s = d.decode(in); in.remove_prefix(s.consumed);
//   use(s.data); if (d.done() || d.failed()) break; }
// The bytes left in `in` after done() belong to the next message.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "http/fields.hpp"
#include "http/parse_error.hpp"

namespace httpfs::http {

class BodyDecoder {
 public:
  struct Limits {
    std::size_t max_extension_bytes = 4096;  // per chunk-size line
    std::size_t max_trailer_bytes = 8192;    // whole trailer section
    std::size_t max_trailer_fields = 32;
    // Framing bytes (size lines, extensions, CRLFs, trailers) a chunked body may always
    // use; beyond them, framing may not outweigh the data `max_overhead_ratio` times over.
    // Bounds the bytes a client makes the server read per body byte (tiny chunks with long
    // extensions) without refusing an ordinary body of small chunks.
    std::uint64_t overhead_allowance = 1 << 20;
    std::uint64_t max_overhead_ratio = 4;
  };
  struct Options {
    bool keep_trailers = false;    // store trailer fields (trailers())
    bool keep_extensions = false;  // store chunk extensions (extensions()); for tests/tools
  };
  struct Step {
    std::size_t consumed = 0;  // input bytes used (framing and data)
    std::string_view data;     // body bytes found in this step, a view into the input
  };

  // A body of exactly n bytes.
  static BodyDecoder length(std::uint64_t n) noexcept;
  // A chunked body.
  static BodyDecoder chunked(Limits limits, Options options);
  static BodyDecoder chunked() { return chunked(Limits{}, Options{}); }
  // No body at all (done() at once).
  static BodyDecoder none() noexcept { return length(0); }

  BodyDecoder() = default;

  // Consumes from `in`: either framing bytes, or up to one contiguous run of body bytes.
  Step decode(std::string_view in) noexcept {
    Step s = state_ == State::Data ? data_step(in) : framing_step(in);
    consumed_ += s.consumed;
    return s;
  }

  bool done() const noexcept { return state_ == State::Done; }
  bool failed() const noexcept { return state_ == State::Failed; }
  ParseError error() const noexcept { return error_; }
  bool chunked_framing() const noexcept { return chunked_; }
  // Body bytes handed out so far.
  std::uint64_t body_bytes() const noexcept { return body_bytes_; }
  // For Content-Length bodies: bytes still expected.
  std::uint64_t remaining() const noexcept { return remaining_; }
  // Body bytes that may be consumed raw, without going through decode(): the rest of a
  // Content-Length body, or of the current chunk. For zero-copy paths (splice(2)).
  std::uint64_t raw_data_available() const noexcept {
    return state_ == State::Data ? remaining_ : 0;
  }
  // Accounts for `n` (<= raw_data_available()) body bytes consumed outside decode().
  void skip_raw_data(std::uint64_t n) noexcept;

  // Trailer fields (views into an internal string: valid while the decoder lives).
  std::vector<Header> trailers() const;
  // Chunk extensions as (name, value) with value empty and has_value false for bare names.
  struct Extension {
    std::string name;
    std::string value;
    bool has_value = false;
  };
  const std::vector<Extension>& extensions() const noexcept { return extensions_; }

 private:
  enum class State : std::uint8_t {
    Data,           // Content-Length body, or chunk-data
    Size,           // chunk-size hex digits (at least one seen when size_digits_ > 0)
    SizeBws,        // BWS after the size, before ';' or CR
    ExtBws,         // BWS after ';'
    ExtName,        // extension name token
    ExtNameBws,     // BWS after the name, before '=' / ';' / CR
    ExtValueBws,    // BWS after '='
    ExtToken,       // token value
    ExtQuoted,      // inside quoted-string
    ExtQuotedPair,  // after a backslash inside quoted-string
    ExtAfterValue,  // BWS after a value
    SizeLf,         // CR seen at the end of the size line
    DataCr,         // after chunk-data: expect CR
    DataLf,         // expect LF
    TrailerStart,   // at the start of a trailer line (or the final CRLF)
    TrailerName,
    TrailerValue,
    TrailerLf,  // CR seen at the end of a trailer line
    FinalLf,    // CR seen on the empty line ending the trailers
    Done,
    Failed,
  };

  Step data_step(std::string_view in) noexcept;
  Step framing_step(std::string_view in) noexcept;
  Step fail(ParseError e, std::size_t consumed) noexcept {
    state_ = State::Failed;
    error_ = e;
    return Step{consumed, {}};
  }

  State state_ = State::Done;
  bool chunked_ = false;
  ParseError error_ = ParseError::None;
  std::uint64_t remaining_ = 0;
  std::uint64_t body_bytes_ = 0;
  std::uint64_t consumed_ = 0;  // input bytes consumed so far, framing and data
  int size_digits_ = 0;
  std::size_t line_bytes_ = 0;  // bytes of the current size line after the digits
  std::size_t trailer_bytes_ = 0;
  std::size_t trailer_fields_ = 0;
  Limits limits_{};
  Options options_{};
  std::string trailer_text_;  // validated trailer lines joined by '\n', when keep_trailers
  std::vector<Extension> extensions_;
};

}  // namespace httpfs::http
