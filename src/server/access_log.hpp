// One line per response in Common Log Format:
//   127.0.0.1 - alice [24/Nov/2026:10:01:02 +0000] "GET /a.txt HTTP/1.1" 200 1234
// Lines are buffered and flushed once per loop iteration (Server calls flush()), so a
// burst of pipelined requests costs one write, and a quiet server shows each line at once.
//
// Worker loops (server/workers.hpp) each keep their own buffer and share one destination:
// a flush writes only whole lines, with write(2) under the destination's mutex, so the log
// stays one stream of whole lines however many loops write to it (a pipe would otherwise
// split writes over PIPE_BUF, and two stdio buffers on one file cut lines anywhere).
#pragma once

#include <cstdint>
#include <ctime>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

namespace httpfs::http {
struct RequestHead;
}

namespace httpfs::server {

// One line, kept until its response has been sent.
struct LogRecord {
  std::string request_line;
  std::string user;
  int status = 0;
  std::uint64_t bytes = 0;
};

// "METHOD target HTTP/1.x" as received.
std::string request_line(const http::RequestHead& head);
// The first line of what a client sent (at most 256 bytes), for a request that did not
// parse.
std::string_view first_line(std::string_view raw) noexcept;

class AccessLog {
 public:
  // "-": stdout, "off": disabled, anything else: a file (appended). Throws on a file that
  // cannot be opened (option parsing time).
  void open(const std::string& target);
  // Writes where `other` writes (a worker loop's log, sharing the first loop's destination).
  void share(const AccessLog& other) { out_ = other.out_; }
  bool enabled() const noexcept { return out_ != nullptr; }

  // `request_line` is the raw "METHOD target HTTP/x.y" (escaped here); empty logs "-".
  void log(std::string_view host, std::string_view user, std::string_view request_line, int status,
           std::uint64_t bytes);
  void flush();

 private:
  struct Destination {
    int fd = -1;
    bool owned = false;  // a file this log opened (stdout is not closed)
    std::mutex mutex;    // held for a flush: whole buffers go out one after the other
    ~Destination();
  };
  std::shared_ptr<Destination> out_;
  std::string pending_;  // whole lines not yet written
  std::time_t date_second_ = 0;
  char date_[32] = {};
};

}  // namespace httpfs::server
