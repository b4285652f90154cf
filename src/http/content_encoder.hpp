// Streaming compression of a body into a content coding (RFC 9110 8.4.1): zstd (RFC 8878) or
// gzip (RFC 1952). Sans-I/O: bytes in, bytes out; the caller decides how much to feed at a
// time, which bounds the CPU one call takes.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "http/content_coding.hpp"

namespace httpfs::http {

class ContentEncoder {
 public:
  // An encoder for zstd or gzip at `level` (1 fastest .. 9 smallest; zstd maps it to its own
  // scale). Null for other codings (brotli is only served from precompressed files).
  static std::unique_ptr<ContentEncoder> make(Coding coding, int level);
  virtual ~ContentEncoder() = default;

  // Compresses `in`, appending what the coder releases to `out`. With `last`, `in` is the
  // end of the body and everything left is flushed, the stream's trailer included; no call
  // may follow. False on an internal error of the library (out of memory).
  virtual bool encode(std::string_view in, bool last, std::string& out) = 0;
};

// The whole of `in` coded at once (small bodies, tests).
std::string encode_all(Coding coding, int level, std::string_view in);

}  // namespace httpfs::http
