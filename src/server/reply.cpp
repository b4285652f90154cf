#include "server/reply.hpp"

#include <string>

#include "http/status.hpp"
#include "io/dir_listing.hpp"

namespace httpfs::server {

namespace {

// Largest response head this server writes; what does not fit is a bug, answered with 500.
constexpr std::size_t kHeadCapacity = 8192;
constexpr std::string_view kServer = "httpfs/" HTTPFS_VERSION;

}  // namespace

void Reply::begin(int status) {
  status_ = status;
  head_ = out_.reserve(kHeadCapacity);
  writer_ = std::make_unique<http::ResponseHeadWriter>(head_, kHeadCapacity);
  writer_->status_line(status);
  writer_->header("Date", ctx_.date);
  writer_->header("Server", kServer);
}

void Reply::header(std::string_view name, std::string_view value) {
  writer_->header(name, value);
}

void Reply::header(std::string_view name, std::uint64_t value) {
  writer_->header(name, value);
}

void Reply::end_head(std::uint64_t content_length) {
  if (!http::status_has_no_body(status_)) writer_->header("Content-Length", content_length);
  if (!ctx_.keep_alive)
    writer_->header("Connection", "close");
  else if (ctx_.http10)
    writer_->header("Connection", "keep-alive");
  std::size_t n = writer_->finish();
  if (n == 0) {
    // Invalid or oversized head: replace it with a bare 500 that always fits.
    http::ResponseHeadWriter w(head_, kHeadCapacity);
    w.status_line(500);
    w.header("Date", ctx_.date);
    w.header("Server", kServer);
    w.header("Content-Length", std::uint64_t{0});
    w.header("Connection", "close");
    n = w.finish();
    status_ = 500;
    content_length = 0;
    ctx_.keep_alive = false;
    ctx_.head_only = true;  // drop whatever body the handler goes on to add
  }
  out_.commit(n);
  writer_.reset();
  head_done_ = true;
  content_length_ = http::status_has_no_body(status_) ? 0 : content_length;
  if (http::status_has_no_body(status_)) ctx_.head_only = true;
}

void Reply::body(std::string_view bytes) {
  if (!ctx_.head_only) out_.append(bytes);
}

void Reply::body_external(const char* data, std::size_t len, std::shared_ptr<const void> keep) {
  if (!ctx_.head_only) out_.add_external(data, len, std::move(keep));
}

void Reply::body_file(int fd, std::uint64_t offset, std::uint64_t length, bool owns_fd) {
  if (ctx_.head_only) {
    if (owns_fd) out_.add_file(fd, 0, 0, true);  // closes it
    return;
  }
  out_.add_file(fd, offset, length, owns_fd);
}

void Reply::finish() {
  out_.end_response();
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
