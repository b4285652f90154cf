// A plain blocking TLS client for tests that need to control the bytes on the wire
// (pipelined requests in one write, a request split across records) where curl and httpc
// would not. OpenSSL over a blocking socket; verifies the server against `ca_file`.
#pragma once

#include <chrono>
#include <string>

using SSL_CTX = struct ssl_ctx_st;
using SSL = struct ssl_st;

namespace httpfs::test {

class TlsClient {
 public:
  // Connects to 127.0.0.1:port and completes the handshake, offering the protocols of
  // `alpn` (comma-separated, in order); throws std::runtime_error.
  TlsClient(int port, const std::string& ca_file, const std::string& alpn = "http/1.1");
  ~TlsClient();
  TlsClient(const TlsClient&) = delete;
  TlsClient& operator=(const TlsClient&) = delete;

  // Sends `bytes`, in TLS records of at most `record` bytes each.
  void send(const std::string& bytes, std::size_t record = 16384);
  // Reads until the server closes or `timeout` passes; returns what arrived.
  std::string read_until_close(std::chrono::milliseconds timeout);
  // Reads until `n` bytes have arrived, the server closes, or `timeout` passes.
  std::string read_at_least(std::size_t n, std::chrono::milliseconds timeout);
  // The protocol ALPN chose ("" for none).
  std::string alpn() const;

 private:
  int fd_ = -1;
  SSL_CTX* ctx_ = nullptr;
  SSL* ssl_ = nullptr;
};

}  // namespace httpfs::test
