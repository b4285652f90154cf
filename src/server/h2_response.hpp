// One HTTP/2 stream's response (RFC 9113 8.1): the ResponseEncoder of the HTTP/2 driver, and
// the body it holds until nghttp2 asks for DATA frames.
//
// The head becomes one HEADERS frame (field names in lower case, no connection-specific
// fields: RFC 9113 8.2.2), submitted to nghttp2 when it ends. Body pieces are kept here, not
// copied: nghttp2 is given a data provider that says how long the next frame is
// (NGHTTP2_DATA_FLAG_NO_COPY), and write_frame() then puts the frame header and the payload
// into the connection's output queue, a file's bytes as a range of the file (sendfile on a
// plain connection, pread into the TLS record under TLS), a cached file's as a view of the
// cache entry. A body made as it goes (a BodySource) is asked for more only when a frame
// needs it, so one chunk is in flight per stream.
//
// Lifetime: owned by its stream (server/h2_session.hpp); nghttp2 holds a pointer to it as
// the data source while the stream is open. What the output queue still sends after the
// stream is gone stays valid by itself: bytes are copied, views and file descriptors are held
// by shared pointers.
#pragma once

#include <nghttp2/nghttp2.h>

#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "net/output_queue.hpp"
#include "server/reply.hpp"

namespace httpfs::server {

class H2Response {
 public:
  H2Response() = default;
  H2Response(const H2Response&) = delete;
  H2Response& operator=(const H2Response&) = delete;

  // nghttp2's read callback, through the data provider: the length of the next DATA frame
  // (at most `max`), flags EOF on the last one; NGHTTP2_ERR_DEFERRED while the body waits
  // for more, NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE (the stream is reset) when it failed.
  ssize_t next_frame(std::size_t max, std::uint32_t* flags);
  // The DATA frame next_frame() sized: its 9-byte header and `length` payload bytes.
  void write_frame(net::OutputQueue& out, const std::uint8_t* header, std::size_t length);
  nghttp2_data_provider provider() noexcept;

  // True once next_frame() returned NGHTTP2_ERR_DEFERRED: nghttp2 must be told when the body
  // has more (nghttp2_session_resume_data).
  bool take_deferred() noexcept { return std::exchange(deferred_, false); }
  bool submitted() const noexcept { return submitted_; }
  // DATA is ready to go (or a source to be read) once the window allows.
  bool data_waiting() const noexcept { return submitted_ && !pieces_.empty(); }
  bool ended() const noexcept { return ended_; }

 private:
  friend class H2Encoder;
  struct Piece {
    enum class Kind : std::uint8_t { Bytes, View, File, Source };
    Kind kind = Kind::Bytes;
    std::string bytes;                 // Bytes
    const char* data = nullptr;        // View
    int fd = -1;                       // File
    std::uint64_t offset = 0;          // into bytes, or into the file
    std::uint64_t length = 0;          // what is left of it
    std::shared_ptr<const void> keep;  // View: the bytes; File: the descriptor
    std::unique_ptr<BodySource> source;
  };
  // Turns the front BodySource's next part into pieces. False when it failed.
  bool expand_source();

  std::deque<Piece> pieces_;
  bool submitted_ = false;  // HEADERS went to nghttp2
  bool ended_ = false;      // finish() came: no piece will be added
  bool whole_ = true;       // ... and the body was as long as the head promised
  bool deferred_ = false;
};

// A Reply's calls as an HTTP/2 response on stream `stream_id`.
class H2Encoder final : public ResponseEncoder {
 public:
  struct Context {
    std::string_view date;         // outlives the encoder
    std::string_view cors_origin;  // outlives the encoder
    bool head_only = false;        // HEAD: the head as for GET, no DATA
  };
  H2Encoder(nghttp2_session* session, std::int32_t stream_id, H2Response& response,
            const Context& ctx)
      : session_(session), stream_id_(stream_id), response_(response), ctx_(ctx) {}

  void informational(int status, std::span<const Field> fields) override;
  void begin(int status) override;
  void field(std::string_view name, std::string_view value) override;
  void field(std::string_view name, std::uint64_t value) override;
  int end_head(int status, std::uint64_t content_length, bool has_content) override;
  void body(std::string_view bytes) override;
  void body_external(const char* data, std::size_t len, std::shared_ptr<const void> keep) override;
  void body_file(int fd, std::uint64_t offset, std::uint64_t length, bool owns_fd) override;
  int end_head_streamed(int status) override;
  void body_source(std::unique_ptr<BodySource> source) override;
  void finish(bool whole) override;

 private:
  // Submits the HEADERS of the fields collected, with a body to follow or not. A field
  // HTTP/2 cannot carry (CR, LF or NUL from request data) turns the answer into a bare 500.
  int submit(int status, bool with_body);
  void add(H2Response::Piece piece);

  nghttp2_session* session_;
  std::int32_t stream_id_;
  H2Response& response_;
  Context ctx_;
  std::string names_values_;  // the fields, lower-cased names, back to back
  std::vector<std::pair<std::uint32_t, std::uint32_t>> lengths_;  // of each name and value
  bool invalid_ = false;                                          // a field cannot be sent
};

}  // namespace httpfs::server
