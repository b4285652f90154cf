#include "server/http1_encoder.hpp"

#include <cerrno>
#include <string_view>

#include "server/common_fields.hpp"

namespace httpfs::server {

namespace {

// A streamed body on an HTTP/1 connection: the source's pieces as chunks (RFC 9112 7.1),
// then the last chunk; or, for HTTP/1.0, as they are (the close ends the body).
class StreamedBody final : public net::OutputQueue::Generator {
 public:
  StreamedBody(std::unique_ptr<BodySource> source, bool chunked)
      : source_(std::move(source)), chunked_(chunked) {}

  // A chunk is made in place: a fixed-width size line first (RFC 9112 7.1 allows leading
  // zeros), the source's bytes after it, and the size written over the zeros, so that the
  // body is not copied once more.
  bool generate(std::string& out, std::size_t hint, int& error) override {
    if (!chunked_) return source_->next(out, hint, error);
    out.assign(kEmptySizeLine);
    const bool more = source_->next(out, hint, error);
    if (error != 0) return false;
    const std::size_t size = out.size() - kEmptySizeLine.size();
    if (size > kMaxChunk) {
      error = EOVERFLOW;
      return false;
    }
    if (size == 0) {
      out.clear();
    } else {
      for (std::size_t d = 0; d < kSizeDigits; ++d)
        out[d] = kHex[(size >> (4 * (kSizeDigits - 1 - d))) & 15];
      out += "\r\n";
    }
    if (!more) out += "0\r\n\r\n";
    return more;
  }

  // File ranges pass through as they are where no chunk framing goes around them.
  bool generate_piece(std::string& out, net::OutputQueue::FileRange& file, std::size_t hint,
                      int& error) override {
    if (chunked_) return generate(out, hint, error);
    BodySource::FileRange range;
    const bool more = source_->next_piece(out, range, hint, error);
    file = {range.fd, range.offset, range.length};
    return more;
  }

 private:
  static constexpr std::size_t kSizeDigits = 8;
  static constexpr std::string_view kEmptySizeLine = "00000000\r\n";
  static constexpr std::size_t kMaxChunk = (std::size_t{1} << (4 * kSizeDigits)) - 1;
  static constexpr char kHex[] = "0123456789abcdef";
  std::unique_ptr<BodySource> source_;
  bool chunked_;
};

// Largest response head this server writes; what does not fit is a bug, answered with 500.
constexpr std::size_t kHeadCapacity = 8192;

}  // namespace

void Http1Encoder::informational(int status, std::span<const Field> fields) {
  if (ctx_.http10) return;  // RFC 9110 15.2: no 1xx to an HTTP/1.0 client
  char* head = out_.reserve(kHeadCapacity);
  http::ResponseHeadWriter w(head, kHeadCapacity);
  w.status_line(status);
  for (const Field& f : fields) w.header(f.name, f.value);
  // A field that cannot be written (CR/LF from request data, or too long) drops the interim
  // response; the final one still says everything it must.
  out_.commit(w.finish());
}

void Http1Encoder::begin(int status) {
  head_ = out_.reserve(kHeadCapacity);
  writer_.emplace(head_, kHeadCapacity);
  writer_->status_line(status);
  common_fields(ctx_.date, ctx_.cors_origin, [&](std::string_view name, std::string_view value) {
    writer_->header(name, value);
  });
}

void Http1Encoder::field(std::string_view name, std::string_view value) {
  writer_->header(name, value);
}

void Http1Encoder::field(std::string_view name, std::uint64_t value) {
  writer_->header(name, value);
}

int Http1Encoder::end_head(int status, std::uint64_t content_length, bool has_content) {
  if (has_content) writer_->header("Content-Length", content_length);
  if (!ctx_.keep_alive)
    writer_->header("Connection", "close");
  else if (ctx_.http10)
    writer_->header("Connection", "keep-alive");
  std::size_t n = writer_->finish();
  if (n == 0) {
    // Invalid or oversized head: replace it with a bare 500 that always fits, and close.
    http::ResponseHeadWriter w(head_, kHeadCapacity);
    w.status_line(500);
    w.header("Date", ctx_.date);
    w.header("Server", kServerName);
    w.header("Content-Length", std::uint64_t{0});
    w.header("Connection", "close");
    n = w.finish();
    status = 500;
    ctx_.keep_alive = false;
  }
  out_.commit(n);
  writer_.reset();
  head_ = nullptr;
  return status;
}

void Http1Encoder::body(std::string_view bytes) {
  out_.append(bytes);
}

void Http1Encoder::body_external(const char* data, std::size_t len,
                                 std::shared_ptr<const void> keep) {
  out_.add_external(data, len, std::move(keep));
}

void Http1Encoder::body_file(int fd, std::uint64_t offset, std::uint64_t length, bool owns_fd) {
  out_.add_file(fd, offset, length, owns_fd);
}

int Http1Encoder::end_head_streamed(int status) {
  // HTTP/1.0 has no chunked coding: the end of the connection ends the body.
  chunked_ = !ctx_.http10;
  if (chunked_)
    writer_->header("Transfer-Encoding", "chunked");
  else
    ctx_.keep_alive = false;
  if (!ctx_.keep_alive) writer_->header("Connection", "close");
  std::size_t n = writer_->finish();
  if (n == 0) return end_head(status, 0, false);  // the same 500 as for any unwritable head
  out_.commit(n);
  writer_.reset();
  head_ = nullptr;
  return status;
}

void Http1Encoder::body_source(std::unique_ptr<BodySource> source) {
  out_.add_generator(std::make_unique<StreamedBody>(std::move(source), chunked_));
}

void Http1Encoder::finish(bool whole) {
  // A body shorter than its Content-Length: the only honest ending is to close the
  // connection after what was sent.
  if (!whole) ctx_.keep_alive = false;
  out_.end_response();
}

}  // namespace httpfs::server
