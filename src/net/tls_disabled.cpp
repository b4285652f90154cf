// A build without OpenSSL (meson -Dtls=disabled): no TlsContext can be made, so no TlsStream
// ever exists; both binaries say so when TLS is asked for.
#include <cstdlib>

#include "net/tls.hpp"

namespace httpfs::net {

namespace {
constexpr const char* kNoTls = "this build has no TLS support (configured with -Dtls=disabled)";
}

bool tls_available() noexcept {
  return false;
}

TlsContext::~TlsContext() = default;

std::unique_ptr<TlsContext> TlsContext::server(const std::string&, const std::string&,
                                               std::string& error, bool) {
  error = kNoTls;
  return nullptr;
}

std::unique_ptr<TlsContext> TlsContext::client(bool, const std::string&, std::string& error, bool) {
  error = kNoTls;
  return nullptr;
}

// Unreachable without a context.
TlsStream::TlsStream(const TlsContext&, std::string_view) {
  std::abort();
}
TlsStream::~TlsStream() = default;
ssize_t TlsStream::read(int, char*, std::size_t) {
  std::abort();
}
int TlsStream::handshake(int) {
  std::abort();
}
OutputQueue::Flush TlsStream::flush(int, OutputQueue&, std::uint64_t, std::size_t&) {
  std::abort();
}
int TlsStream::send_pending(int) {
  std::abort();
}
void TlsStream::close_notify(int) {}
void TlsStream::release_buffers() noexcept {}
bool TlsStream::has_buffered_input() const noexcept {
  return false;
}
bool TlsStream::handshake_done() const noexcept {
  return false;
}
std::string_view TlsStream::alpn() const noexcept {
  return {};
}
std::string TlsStream::description() const {
  return {};
}

}  // namespace httpfs::net
