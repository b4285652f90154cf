// What a connection needs only while requests are in flight: the read buffer, the parser,
// the body decoder, the output queue and the access-log records of queued responses.
// Borrowed from the server's pool so that idle keep-alive connections hold none of it
// (DESIGN.md: per-connection buffers held while idle dominate memory at 10k connections).
#pragma once

#include <unistd.h>

#include <cstdint>
#include <cstring>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "http/body_decoder.hpp"
#include "http/request_parser.hpp"
#include "io/file_sink.hpp"
#include "io/sha256.hpp"
#include "net/output_queue.hpp"
#include "server/options.hpp"

namespace httpfs::server {

struct LogRecord {
  std::string request_line;
  std::string user;
  int status = 0;
  std::uint64_t bytes = 0;
};

// An upload whose body is being received (or committed).
struct Upload {
  std::unique_ptr<io::FileSink> sink;
  std::unique_ptr<io::Sha256> sha;  // only when a Content-Digest was sent
  std::optional<std::string> expected_sha256;
  std::string path;          // normalised target path
  std::string if_match;      // checked again right before the rename
  std::string request_line;  // for the access log
  std::string user;
  std::uint64_t declared = 0;  // Content-Length, 0 for chunked
  bool chunked = false;
  bool existed = false;
  bool no_replace = false;
  bool http10 = false;
  bool keep_alive = true;
  int pipe_r = -1, pipe_w = -1;  // for splice(2), made on first use

  Upload() = default;
  Upload(const Upload&) = delete;
  Upload& operator=(const Upload&) = delete;
  ~Upload() {
    if (pipe_r >= 0) ::close(pipe_r);
    if (pipe_w >= 0) ::close(pipe_w);
  }
};

struct Exchange {
  static constexpr std::size_t kInitialBuffer = 16 * 1024;
  // Uploads read in larger steps: fewer read(2) and write(2) calls per byte.
  static constexpr std::size_t kUploadBuffer = 256 * 1024;

  explicit Exchange(const ServerOptions& o)
      :  // A head may use max_head bytes; one more byte than that must fit for the parser to
         // see that the limit is passed.
        max_buffer(o.max_head + 1),
        parser(http::RequestParser::Limits{o.max_request_line, o.max_field_line, o.max_head,
                                           o.max_headers},
               http::RequestParser::Policy{}) {}

  // Read buffer. Bytes [begin, end) are received and not yet consumed; a request head is
  // parsed from `begin`, and views into it stay valid until `begin` moves past them or the
  // bytes are compacted (only between requests).
  std::unique_ptr<char[]> buf;
  std::size_t cap = 0, begin = 0, end = 0;
  std::size_t max_buffer;

  http::RequestParser parser;
  http::BodyDecoder body;
  bool body_pending = false;  // a request body is being read (into `upload`, or dropped)
  std::uint64_t body_limit = 0;
  std::unique_ptr<Upload> upload;

  net::OutputQueue out;
  std::deque<LogRecord> logs;

  std::string_view input() const noexcept { return {buf.get() + begin, end - begin}; }
  bool has_input() const noexcept { return end > begin; }

  // Makes room for reading: compacts, or grows up to max_buffer. False when full.
  bool make_room() {
    if (!buf) {
      cap = std::min(kInitialBuffer, max_buffer);
      buf = std::make_unique_for_overwrite<char[]>(cap);
    }
    if (end < cap) return true;
    if (begin > 0) {
      // The parser keeps offsets from `begin`, so moving the bytes is safe mid-head.
      std::memmove(buf.get(), buf.get() + begin, end - begin);
      end -= begin;
      begin = 0;
      return true;
    }
    if (cap >= max_buffer) return false;
    std::size_t grown = std::min(cap * 2, max_buffer);
    auto bigger = std::make_unique_for_overwrite<char[]>(grown);
    std::memcpy(bigger.get(), buf.get(), end);
    buf = std::move(bigger);
    cap = grown;
    return true;
  }

  // Grows the buffer to `n` bytes (keeping what it holds), e.g. for an upload.
  void grow_to(std::size_t n) {
    if (cap >= n) return;
    auto bigger = std::make_unique_for_overwrite<char[]>(n);
    if (end > begin) std::memcpy(bigger.get(), buf.get() + begin, end - begin);
    end -= begin;
    begin = 0;
    buf = std::move(bigger);
    cap = n;
  }

  void consume(std::size_t n) noexcept {
    begin += n;
    if (begin == end) begin = end = 0;
  }

  // Back to a clean state for the next borrower; keeps the parser's allocations.
  void reset() {
    if (cap > kInitialBuffer) {
      buf.reset();
      cap = 0;
    }
    begin = end = 0;
    parser.reset();
    body = http::BodyDecoder::none();
    body_pending = false;
    body_limit = 0;
    upload.reset();  // an unfinished upload is discarded: its temporary file goes
    out.clear();
    logs.clear();
  }
};

}  // namespace httpfs::server
