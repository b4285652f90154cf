#include "server/reply.hpp"

#include <cassert>
#include <string>

#include "http/status.hpp"
#include "io/dir_listing.hpp"

namespace httpfs::server {

void Reply::informational(int status, std::span<const Field> fields) {
  assert(!started() && status >= 100 && status < 200);
  encoder_.informational(status, fields);
}

void Reply::begin(int status) {
  status_ = status;
  encoder_.begin(status);
}

void Reply::end_head(std::uint64_t content_length) {
  has_content_ = !http::status_has_no_body(status_);
  const int sent = encoder_.end_head(status_, content_length, has_content_);
  if (sent != status_) {  // replaced by a bare 500: whatever body the handler adds is dropped
    status_ = sent;
    has_content_ = false;
  }
  content_length_ = has_content_ ? content_length : 0;
}

void Reply::end_head_streamed() {
  has_content_ = !http::status_has_no_body(status_);
  streamed_ = true;
  const int sent = encoder_.end_head_streamed(status_);
  if (sent != status_) {
    status_ = sent;
    has_content_ = false;
  }
  content_length_ = 0;
}

void Reply::body_source(std::unique_ptr<BodySource> source) {
  if (!drops_body()) encoder_.body_source(std::move(source));
}

void Reply::body(std::string_view bytes) {
  if (!drops_body()) encoder_.body(bytes);
}

void Reply::body_external(const char* data, std::size_t len, std::shared_ptr<const void> keep) {
  if (!drops_body()) encoder_.body_external(data, len, std::move(keep));
}

void Reply::body_file(int fd, std::uint64_t offset, std::uint64_t length, bool owns_fd) {
  if (drops_body()) {
    if (owns_fd) encoder_.body_file(fd, 0, 0, true);  // closes it
    return;
  }
  encoder_.body_file(fd, offset, length, owns_fd);
}

void Reply::finish() {
  finished_ = true;
  encoder_.finish(true);
}

void Reply::finish_incomplete() {
  finished_ = true;
  encoder_.finish(false);
}

void reply_error(Reply& reply, int status, std::string_view detail, std::string_view extra_name,
                 std::string_view extra_value) {
  std::string title = std::to_string(status) + " " + std::string(http::reason_phrase(status));
  std::string page = "<!doctype html>\n<html><head><meta charset=\"utf-8\"><title>" + title +
                     "</title></head>\n<body><h1>" + title + "</h1>\n";
  if (!detail.empty()) {
    page += "<p>";
    io::append_html_escaped(page, detail);
    page += "</p>\n";
  }
  page += "</body></html>\n";
  reply.begin(status);
  reply.header("Content-Type", "text/html; charset=utf-8");
  if (!extra_name.empty()) reply.header(extra_name, extra_value);
  reply.end_head(page.size());
  reply.body(page);
  reply.finish();
}

}  // namespace httpfs::server
