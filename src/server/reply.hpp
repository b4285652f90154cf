// One response, as a handler builds it, whatever protocol carries it.
//
// begin() starts the head with its status; the handler adds its fields; end_head() closes
// the head with the body's length. Body bytes after that are dropped for HEAD and for
// statuses without content, so a handler makes the same calls for GET and HEAD. finish()
// ends the response. A protocol driver supplies the ResponseEncoder that turns these calls
// into bytes on its connection (HTTP/1: Http1Encoder); the handler never sees which.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>

namespace httpfs::server {

// A response body made as it is sent, piece by piece (a 207 Multi-Status written while a
// directory is read): memory stays bounded whatever its size, and the first bytes leave
// before the last are made. The driver asks for the next piece only when the previous one
// is out.
class BodySource {
 public:
  virtual ~BodySource() = default;
  // Appends the next bytes to `out`, which may already hold the driver's framing: about
  // `hint` of them, at least one unless the body is complete. Returns false after the last
  // bytes. A failure (an errno in `error`) ends the body early: the response is then cut
  // off, which the client sees.
  virtual bool next(std::string& out, std::size_t hint, int& error) = 0;

  // A range of an open file. Its descriptor stays the source's and open until the source is
  // asked for more or destroyed.
  struct FileRange {
    int fd = -1;
    std::uint64_t offset = 0;
    std::uint64_t length = 0;
  };
  // The same as next(), except that the next part may be a range of a file (`file.length`
  // > 0, nothing appended to `out`), which the driver sends without copying it through
  // memory (sendfile) where its framing allows. Sources that never hand files need not
  // override it; those that do still answer next() with the bytes.
  virtual bool next_piece(std::string& out, FileRange& /*file*/, std::size_t hint, int& error) {
    return next(out, hint, error);
  }
};

// A response field given as two views (valid for the call only).
struct Field {
  std::string_view name;
  std::string_view value;
};

// A protocol driver's side of a response. The calls come in the order Reply makes them:
// begin, fields, end_head, body pieces, finish.
class ResponseEncoder {
 public:
  // An interim (1xx) response with `fields`, sent at once, ahead of the final one; dropped
  // where the protocol cannot carry it (an HTTP/1.0 peer, RFC 9110 15.2).
  virtual void informational(int status, std::span<const Field> fields) = 0;
  virtual void begin(int status) = 0;
  virtual void field(std::string_view name, std::string_view value) = 0;
  virtual void field(std::string_view name, std::uint64_t value) = 0;
  // Ends the head. Returns the status that is really sent: a head the protocol cannot carry
  // (too large, or CR/LF from request data in a value) is replaced by a bare 500, and then
  // no body follows.
  virtual int end_head(int status, std::uint64_t content_length, bool has_content) = 0;
  virtual void body(std::string_view bytes) = 0;
  // `keep` holds the bytes alive until they are sent.
  virtual void body_external(const char* data, std::size_t len,
                             std::shared_ptr<const void> keep) = 0;
  // Takes ownership of `fd` when `owns_fd`.
  virtual void body_file(int fd, std::uint64_t offset, std::uint64_t length, bool owns_fd) = 0;
  // Ends a head whose body length is not known: the body will come from a BodySource
  // (HTTP/1.1: chunked; HTTP/1.0: delimited by the end of the connection). Returns the
  // status sent, as end_head() does.
  virtual int end_head_streamed(int status) = 0;
  virtual void body_source(std::unique_ptr<BodySource> source) = 0;
  // The response is complete; `whole` is false when its body is shorter than its head
  // promised (the protocol must then end it abnormally).
  virtual void finish(bool whole) = 0;

 protected:
  ~ResponseEncoder() = default;
};

class Reply {
 public:
  // `head_only`: the request was HEAD (RFC 9110 9.3.2): the head as for GET, no body bytes.
  Reply(ResponseEncoder& encoder, bool head_only) : encoder_(encoder), head_only_(head_only) {}
  Reply(const Reply&) = delete;
  Reply& operator=(const Reply&) = delete;

  // An interim response (1xx) before the final one, e.g. 104 with an upload's Location;
  // any number of them, all before begin().
  void informational(int status, std::span<const Field> fields);
  void begin(int status);
  void header(std::string_view name, std::string_view value) { encoder_.field(name, value); }
  void header(std::string_view name, std::uint64_t value) { encoder_.field(name, value); }
  // Ends the head. Content-Length is left out where the status forbids content (1xx, 204,
  // 304).
  void end_head(std::uint64_t content_length);
  // Ends the head of a body whose length is not known in advance; the body then comes from
  // body_source(). For HEAD the source is dropped unread.
  void end_head_streamed();

  void body(std::string_view bytes);
  void body_external(const char* data, std::size_t len, std::shared_ptr<const void> keep);
  // Takes ownership of `fd` when owns_fd (also when the body is dropped for HEAD).
  void body_file(int fd, std::uint64_t offset, std::uint64_t length, bool owns_fd);
  // After end_head_streamed(): the body, made as it is sent. Then finish().
  void body_source(std::unique_ptr<BodySource> source);
  void finish();
  // The body cannot be completed as its head promised (a file shrank while it was read):
  // the response ends abnormally after what was queued.
  void finish_incomplete();

  bool head_only() const noexcept { return head_only_; }
  int status() const noexcept { return status_; }
  // Body bytes promised by the head (what the access log counts); 0 for a streamed body,
  // whose length is not known when the answer is queued (see streamed()).
  std::uint64_t content_length() const noexcept { return content_length_; }
  bool streamed() const noexcept { return streamed_; }
  bool started() const noexcept { return status_ != 0; }
  bool finished() const noexcept { return finished_; }

 private:
  bool drops_body() const noexcept { return head_only_ || !has_content_; }

  ResponseEncoder& encoder_;
  bool head_only_;
  bool has_content_ = true;
  bool finished_ = false;
  bool streamed_ = false;
  int status_ = 0;
  std::uint64_t content_length_ = 0;
};

// A complete error response: a short HTML page that names the status and `detail`.
// `extra_name`/`extra_value`: one more header (Allow for 405, Content-Range for 416, ...).
void reply_error(Reply& reply, int status, std::string_view detail,
                 std::string_view extra_name = {}, std::string_view extra_value = {});

}  // namespace httpfs::server
