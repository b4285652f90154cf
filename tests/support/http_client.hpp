// Talking to a server under test over loopback: raw sockets for exact bytes, and a fixture
// that runs the real httpfs binary.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "http/method.hpp"
#include "process.hpp"

namespace httpfs::test {

using namespace std::chrono_literals;

struct Response {
  int status = 0;
  std::string reason;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  bool keep_alive = false;

  // The first value of a header (case-insensitive), or "" when absent.
  std::string header(std::string_view name) const;
  bool has(std::string_view name) const;
};

class RawConnection {
 public:
  explicit RawConnection(int port, const std::string& host = "127.0.0.1");
  ~RawConnection();
  RawConnection(const RawConnection&) = delete;
  RawConnection& operator=(const RawConnection&) = delete;

  int fd() const { return fd_; }
  // Sends everything (blocking). False when the peer closed or reset.
  bool send(std::string_view bytes);
  void shutdown_write();
  // Reads one complete response; nullopt when the connection ended before one arrived or
  // the timeout passed. Bytes after it stay buffered for the next call.
  std::optional<Response> read_response(http::Method method = http::Method::Get,
                                        std::chrono::milliseconds timeout = 10s);
  // True when the peer closes (EOF or reset) within the timeout; received bytes are kept.
  bool wait_closed(std::chrono::milliseconds timeout = 10s);
  // Everything received so far plus what arrives until the peer closes or the timeout.
  std::string read_until_close(std::chrono::milliseconds timeout = 10s);
  // Bytes that arrived and wait in the kernel, not read by this side yet (FIONREAD). Reads
  // nothing: a test can watch a response arrive without taking it.
  std::size_t unread() const;
  // Bytes received and not yet consumed by read_response.
  const std::string& buffered() const { return buffer_; }

 private:
  // Appends what arrives within the timeout; false on EOF/error/timeout with nothing new.
  bool receive(std::chrono::milliseconds timeout);

  int fd_ = -1;
  bool eof_ = false;
  std::string buffer_;
};

// One request on a fresh connection; the response (status 0 when none came).
Response request(int port, std::string_view raw, http::Method method = http::Method::Get);
// "GET <path> HTTP/1.1" with Host and the given extra header lines ("Name: value").
Response get(int port, std::string_view path, const std::vector<std::string>& headers = {},
             std::string_view method = "GET");

// The httpfs binary serving `dir` on 127.0.0.1 and a free port, with the access log in a
// file. Stops it (SIGTERM) on destruction if still running.
class ServerProcess {
 public:
  explicit ServerProcess(const std::string& dir, std::vector<std::string> extra_args = {},
                         const std::vector<std::string>& env = {});
  ~ServerProcess();
  int port() const { return port_; }
  // "http://127.0.0.1:PORT/..." (https when the server speaks TLS)
  std::string url(std::string_view path = "/") const;
  Process& process() { return *proc_; }
  pid_t pid() const { return proc_->pid(); }
  // SIGTERM and wait; the exit status (or -1 on timeout).
  int stop(std::chrono::milliseconds timeout = 15s);
  std::string access_log() const;
  // The test kills the server on purpose: do not expect exit status 0 at the end.
  void expect_unclean_exit() { expect_unclean_exit_ = true; }

 private:
  bool expect_unclean_exit_ = false;
  std::unique_ptr<TempDir> logdir_;
  std::unique_ptr<Process> proc_;
  int port_ = 0;
  std::string scheme_ = "http";  // "https" with --tls-cert
};

// Opens `n` connections at once, sends `raw` on each, and reads each until the server
// closes it (send "Connection: close" requests). Everything is non-blocking on one epoll,
// so all n are open together. Returns what each connection received ("" for a failed one).
std::vector<std::string> concurrent_requests(int port, int n, const std::string& raw,
                                             std::chrono::milliseconds timeout = 60s);
// Parses a whole response from bytes; nullopt if incomplete or malformed.
std::optional<Response> parse_response(const std::string& raw,
                                       http::Method method = http::Method::Get);
// Raises this process's open-file limit to the hard limit.
void raise_fd_limit();

// curl with the given arguments (curl -sS is implied).
RunResult curl(std::vector<std::string> args, std::chrono::milliseconds timeout = 60s);

}  // namespace httpfs::test
