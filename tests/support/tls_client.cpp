#include "tls_client.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <stdexcept>

namespace httpfs::test {

namespace {

std::string ssl_error() {
  char buf[256];
  ERR_error_string_n(ERR_get_error(), buf, sizeof buf);
  return buf;
}

}  // namespace

TlsClient::TlsClient(int port, const std::string& ca_file, const std::string& alpn) {
  ctx_ = SSL_CTX_new(TLS_client_method());
  if (SSL_CTX_load_verify_locations(ctx_, ca_file.c_str(), nullptr) != 1)
    throw std::runtime_error("cannot load " + ca_file + ": " + ssl_error());
  SSL_CTX_set_verify(ctx_, SSL_VERIFY_PEER, nullptr);
  std::string wire;  // RFC 7301 3.1: each name after its length
  for (std::size_t at = 0; at <= alpn.size();) {
    const std::size_t end = std::min(alpn.find(',', at), alpn.size());
    wire += static_cast<char>(end - at);
    wire += alpn.substr(at, end - at);
    at = end + 1;
  }
  SSL_CTX_set_alpn_protos(ctx_, reinterpret_cast<const unsigned char*>(wire.data()),
                          static_cast<unsigned>(wire.size()));
  fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<std::uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0)
    throw std::runtime_error("cannot connect");
  ssl_ = SSL_new(ctx_);
  SSL_set_fd(ssl_, fd_);
  SSL_set1_host(ssl_, "127.0.0.1");
  if (SSL_connect(ssl_) != 1) throw std::runtime_error("TLS handshake failed: " + ssl_error());
}

TlsClient::~TlsClient() {
  if (ssl_ != nullptr) SSL_free(ssl_);
  if (ctx_ != nullptr) SSL_CTX_free(ctx_);
  if (fd_ >= 0) ::close(fd_);
}

void TlsClient::send(const std::string& bytes, std::size_t record) {
  for (std::size_t at = 0; at < bytes.size();) {
    const std::size_t n = std::min(record, bytes.size() - at);
    const int w = SSL_write(ssl_, bytes.data() + at, static_cast<int>(n));
    if (w <= 0) throw std::runtime_error("SSL_write failed: " + ssl_error());
    at += static_cast<std::size_t>(w);
  }
}

std::string TlsClient::read_at_least(std::size_t n, std::chrono::milliseconds timeout) {
  std::string out;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  char buf[65536];
  while (out.size() < n) {
    if (SSL_pending(ssl_) == 0) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) break;
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) break;
    }
    const int r = SSL_read(ssl_, buf, sizeof buf);
    if (r <= 0) break;  // closed (close_notify or not) or failed
    out.append(buf, static_cast<std::size_t>(r));
  }
  return out;
}

std::string TlsClient::read_until_close(std::chrono::milliseconds timeout) {
  return read_at_least(SIZE_MAX, timeout);
}

std::string TlsClient::alpn() const {
  const unsigned char* p = nullptr;
  unsigned int len = 0;
  SSL_get0_alpn_selected(ssl_, &p, &len);
  return std::string(reinterpret_cast<const char*>(p), len);
}

}  // namespace httpfs::test
