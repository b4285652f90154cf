// Building one response into a connection's output queue.
//
// begin() writes the status line and the headers every response carries (Date, Server);
// the handler adds its own; end_head() adds the framing (Content-Length, Connection) and
// closes the head. Body bytes after that are dropped for HEAD, so a handler writes the same
// calls for GET and HEAD. finish() marks the end of the response in the queue.
#pragma once

#include <cstdint>
#include <memory>
#include <string_view>

#include "http/response_head_writer.hpp"
#include "net/output_queue.hpp"

namespace httpfs::server {

struct ReplyContext {
  std::string_view date;   // IMF-fixdate of the current second
  bool head_only = false;  // HEAD: no body bytes
  bool http10 = false;     // the request was HTTP/1.0
  bool keep_alive = true;  // the request allows the connection to stay open
};

class Reply {
 public:
  Reply(net::OutputQueue& out, const ReplyContext& ctx) : out_(out), ctx_(ctx) {}
  Reply(const Reply&) = delete;
  Reply& operator=(const Reply&) = delete;

  void begin(int status);
  void header(std::string_view name, std::string_view value);
  void header(std::string_view name, std::uint64_t value);
  // Ends the head. Content-Length is omitted where the status forbids content (1xx, 204,
  // 304). A head that did not fit or held CR/LF from request data is replaced by a 500.
  void end_head(std::uint64_t content_length);

  void body(std::string_view bytes);
  void body_external(const char* data, std::size_t len, std::shared_ptr<const void> keep);
  // Takes ownership of `fd` when owns_fd (also when the body is dropped for HEAD).
  void body_file(int fd, std::uint64_t offset, std::uint64_t length, bool owns_fd);
  void finish();

  // Asks for the connection to close after this response ("Connection: close"). Must come
  // before end_head().
  void close_connection() noexcept { ctx_.keep_alive = false; }
  bool keep_alive() const noexcept { return ctx_.keep_alive; }
  bool head_only() const noexcept { return ctx_.head_only; }
  int status() const noexcept { return status_; }
  // Body bytes promised by Content-Length (what the access log counts).
  std::uint64_t content_length() const noexcept { return content_length_; }
  bool started() const noexcept { return writer_ != nullptr || head_done_; }

 private:
  net::OutputQueue& out_;
  ReplyContext ctx_;
  std::unique_ptr<http::ResponseHeadWriter> writer_;
  char* head_ = nullptr;
  int status_ = 0;
  std::uint64_t content_length_ = 0;
  bool head_done_ = false;
};

// A complete error response: a short HTML page that names the status and `detail`.
// `extra_name`/`extra_value`: one more header (Allow for 405, Content-Range for 416, ...).
void reply_error(Reply& reply, int status, std::string_view detail,
                 std::string_view extra_name = {}, std::string_view extra_value = {});

}  // namespace httpfs::server
