// Test servers for the client: a scripted one that answers with exact bytes (including
// wrong ones: no length, lying lengths, stopping mid-body, interim responses, slowness), and
// a real nginx started on a free loopback port with a generated configuration.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "process.hpp"

namespace httpfs::test {

struct ReceivedRequest {
  std::string method, target, version;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  int connection = 0;  // which accepted connection it came on: 0, 1, 2, ...
  std::string header(std::string_view name) const;
};

struct ScriptedReply {
  // Sent in order; each piece after its delay. A single piece is the usual case.
  std::vector<std::pair<std::chrono::milliseconds, std::string>> pieces;
  bool close = true;          // close the connection after the reply
  bool send_continue = true;  // answer "Expect: 100-continue" with 100 before reading the body
  bool read_body = true;      // read the request body before answering
  bool never_answer = false;  // read the request, then hold the connection silently

  static ScriptedReply bytes(std::string raw, bool close_after = true) {
    ScriptedReply r;
    r.pieces.emplace_back(std::chrono::milliseconds(0), std::move(raw));
    r.close = close_after;
    return r;
  }
};

// A one-thread server on 127.0.0.1 (or ::1): the script gets each request and its index
// (0, 1, 2, ... over the server's life) and says what to send.
class ScriptedServer {
 public:
  using Script = std::function<ScriptedReply(const ReceivedRequest&, int index)>;
  explicit ScriptedServer(Script script, bool ipv6 = false);
  ~ScriptedServer();
  int port() const { return port_; }
  std::string url(std::string_view path = "/") const;
  std::vector<ReceivedRequest> requests() const;
  int connections() const { return connections_; }

 private:
  void run();
  bool serve(int fd, bool first);

  Script script_;
  int listen_fd_ = -1;
  int port_ = 0;
  bool ipv6_ = false;
  std::atomic<bool> stop_{false};
  std::atomic<int> connections_{0};
  mutable std::mutex mu_;
  std::vector<ReceivedRequest> requests_;
  std::thread thread_;
};

// nginx (nginx-light) serving `root` on 127.0.0.1, one worker, with WebDAV PUT/DELETE and
// autoindex pages; over TLS when given a certificate and key.
class NginxProcess {
 public:
  explicit NginxProcess(const std::string& root, const std::string& tls_cert = {},
                        const std::string& tls_key = {});
  ~NginxProcess();
  int port() const { return port_; }
  std::string url(std::string_view path = "/") const;

 private:
  TempDir dir_;
  std::unique_ptr<Process> proc_;
  int port_ = 0;
  bool tls_ = false;
};

// A TCP port on 127.0.0.1 that nothing listens on (bound, then closed).
int unused_port();
// Whether something accepts connections on 127.0.0.1:port now.
bool port_accepts(int port);

}  // namespace httpfs::test
