// A response as HTTP/1.1 bytes in a connection's output queue: the ResponseEncoder of the
// HTTP/1 driver. It writes the status line, Date and Server on every head, Content-Length
// or chunked framing (a streamed body; HTTP/1.0 peers get one delimited by the close), and the
// Connection field that says whether the connection persists (RFC 9112 9.3), and the CORS
// fields for an origin --cors allows.
//
// Lifetime: one encoder per response; it writes into a queue that outlives it.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string_view>

#include "http/response_head_writer.hpp"
#include "net/output_queue.hpp"
#include "server/reply.hpp"

namespace httpfs::server {

class Http1Encoder final : public ResponseEncoder {
 public:
  struct Context {
    std::string_view date;   // IMF-fixdate of the current second; outlives the encoder
    bool http10 = false;     // the request was HTTP/1.0: keep-alive must be announced
    bool keep_alive = true;  // the connection may carry another request after this one
    // The request's Origin when --cors allows it (server/cross_site.hpp): every head then
    // says that origin may read the answer. Outlives the encoder.
    std::string_view cors_origin;
  };
  Http1Encoder(net::OutputQueue& out, const Context& ctx) : out_(out), ctx_(ctx) {}

  // Whether the connection persists after this response: false when the request or the
  // driver said so, and after a head that had to be replaced by a 500.
  bool keep_alive() const noexcept { return ctx_.keep_alive; }
  // Before the head ends: the connection closes after this response.
  void close_after() noexcept { ctx_.keep_alive = false; }

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
  net::OutputQueue& out_;
  Context ctx_;
  std::optional<http::ResponseHeadWriter> writer_;  // between begin() and end_head()
  char* head_ = nullptr;  // reserved space in out_, valid until end_head()
  bool chunked_ = false;  // a streamed body, framed as chunks (HTTP/1.1)
};

}  // namespace httpfs::server
