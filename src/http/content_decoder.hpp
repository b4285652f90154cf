// Streaming decoding of a content coding (RFC 9110 8.4.1): zstd (RFC 8878), gzip (RFC 1952)
// and br (RFC 7932), for httpc's --compressed. Sans-I/O: bytes in, bytes out.
//
// Memory stays bounded whatever the compression ratio (a "decompression bomb" turns a few
// KiB into GiB): one call appends at most kMaxOutput bytes, and what the coder still holds
// comes out on the next call. The library's own state is bounded too: gzip's window is 32 KiB,
// brotli's at most 16 MiB, and zstd frames asking for more than 8 MiB are refused, as
// RFC 9659 allows (browsers do the same).
//
// Loop, for each piece of the body as it arrives:
//   do { out.clear(); in.remove_prefix(d.decode(in, out)); use(out);
//        if (d.error() != ContentDecoder::Error::None) fail; }
//   while (!in.empty() || d.output_pending());
// and when the body has ended: d.end() says whether the coded stream ended with it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "http/content_coding.hpp"

namespace httpfs::http {

class ContentDecoder {
 public:
  enum class Error : std::uint8_t {
    None,
    Corrupt,    // not valid data of the coding (a bad header, a checksum mismatch, ...)
    Trailing,   // bytes after the end of the coded stream that do not start another one
    Truncated,  // the input ended before the coded stream did (from end())
    TooLarge,   // a zstd frame that needs a window over 8 MiB (RFC 9659)
    NoMemory,   // the library could not allocate its state
  };
  // The most one decode() call appends.
  static constexpr std::size_t kMaxOutput = 256 * 1024;

  // A decoder for zstd, gzip or br; null for identity.
  static std::unique_ptr<ContentDecoder> make(Coding coding);
  virtual ~ContentDecoder() = default;
  ContentDecoder(const ContentDecoder&) = delete;  // owns the library's state
  ContentDecoder& operator=(const ContentDecoder&) = delete;

  // Decodes from the front of `in`, appending at most kMaxOutput bytes to `out`, and returns
  // how many bytes of `in` it used. It uses all of `in` unless the output cap was reached
  // (then output_pending() is true), an error was found, or the coded stream ended (the
  // rest is checked on the next call: gzip members and zstd frames may follow each other,
  // anything else is Error::Trailing). After an error it does nothing.
  std::size_t decode(std::string_view in, std::string& out);
  // The last call stopped at the output cap: call again, with the input that is left or
  // with none, before waiting for more input.
  bool output_pending() const noexcept { return pending_; }
  // The coded stream has ended (its last gzip member or zstd frame, or brotli's last
  // meta-block), and no byte has come since.
  bool finished() const noexcept { return finished_; }
  // The input has ended: Error::Truncated unless the coded stream ended too (an input of no
  // bytes at all counts as empty content, as browsers and curl take it). Also error().
  Error end() noexcept;
  Error error() const noexcept { return error_; }
  Coding coding() const noexcept { return coding_; }

 protected:
  explicit ContentDecoder(Coding coding) : coding_(coding) {}

  // One pass of the library over `in` into [out, out + room).
  struct Run {
    std::size_t consumed = 0;
    std::size_t produced = 0;
    bool ended = false;  // a gzip member, zstd frame or brotli stream ended here
    Error error = Error::None;
  };
  virtual Run run(std::string_view in, char* out, std::size_t room) = 0;
  // Whether another stream may follow the end of one (gzip members, zstd frames), and
  // getting ready for it.
  virtual bool restart() { return false; }

 private:
  Coding coding_;
  Error error_ = Error::None;
  bool pending_ = false;
  bool finished_ = false;
  bool began_ = false;            // any input at all
  std::uint32_t streams_ = 0;     // gzip members or zstd frames that ended
  std::uint64_t stream_out_ = 0;  // bytes decoded from the current one
};

// What `e` says of the content, to follow "the gzip content is ": "corrupt", "truncated", ...
std::string_view error_text(ContentDecoder::Error e) noexcept;

}  // namespace httpfs::http
