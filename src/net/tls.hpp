// TLS between a non-blocking socket and a connection's state machine, with OpenSSL.
//
// OpenSSL never touches the socket: it reads ciphertext from, and writes ciphertext to, two
// buffers of this class (a custom memory BIO). The owner moves bytes between those buffers
// and the socket with recv(2)/send(2), so the same readiness loop, state machines and
// http parsers serve plain and TLS connections alike, and the buffers can be given back
// while a connection is idle.
//
//   socket ──recv──▶ in_ ──SSL_read──▶ plaintext (the caller's buffer)
//   OutputQueue ──peek/SSL_write──▶ out_ ──send──▶ socket
//
// Output is produced one batch at a time, and only when out_ is empty: at most one batch of
// ciphertext waits per connection. A batch starts at one record and doubles up to kBatch
// each time one leaves without blocking, but is never larger than the socket's free send
// space; a send that blocks sets it back to one record and gives the larger buffers back.
// So a fast peer gets few large send(2) calls, and a thousand peers that read a few bytes a
// second hold a record or so each, not 384 KiB.
//
// Input is read the same way: one record's room at first, doubled (up to 128 KiB) each time
// a recv(2) fills all it was given. An upload's reads grow to large ones within a few calls;
// a peer that trickles a request a few bytes at a time keeps 16 KiB, not 128.
//
// Lifetimes: a TlsContext outlives every TlsStream made from it. A TlsStream is owned by
// its connection and used from the loop thread only.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "net/byte_buffer.hpp"
#include "net/output_queue.hpp"

using SSL_CTX = struct ssl_ctx_st;
using SSL = struct ssl_st;

namespace httpfs::net {

// Whether this build has TLS (meson feature 'tls').
bool tls_available() noexcept;

// The room for the next recv(2) of ciphertext after one of `room` bytes brought `got`:
// twice as much (at most 128 KiB) when it filled the room, else the same.
std::size_t next_input_room(std::size_t room, std::size_t got) noexcept;

class TlsContext {
 public:
  // A server's certificate chain (PEM, leaf first) and private key. ALPN: h2 (when
  // `offer_h2`) before http/1.1. nullptr and `error` set when they cannot be loaded or do
  // not match.
  static std::unique_ptr<TlsContext> server(const std::string& cert_file,
                                            const std::string& key_file, std::string& error,
                                            bool offer_h2 = false);
  // A client's trust: the system store (/etc/ssl/certs), or only `cacert` when given;
  // `verify` false accepts any certificate (-k).
  // ALPN: h2 (when `offer_h2`) before http/1.1.
  static std::unique_ptr<TlsContext> client(bool verify, const std::string& cacert,
                                            std::string& error, bool offer_h2 = false);
  ~TlsContext();
  TlsContext(const TlsContext&) = delete;
  TlsContext& operator=(const TlsContext&) = delete;

  SSL_CTX* native() const noexcept { return ctx_; }
  bool is_server() const noexcept { return server_; }
  bool verifies() const noexcept { return verify_; }

 private:
  TlsContext(SSL_CTX* ctx, bool server, bool verify)
      : ctx_(ctx), server_(server), verify_(verify) {}
  SSL_CTX* ctx_;
  bool server_;
  bool verify_;
};

class TlsStream {
 public:
  // Why a handshake failed, for a client's exit code and message.
  enum class Failure : std::uint8_t {
    None,
    Handshake,  // protocol: no common version or cipher, not TLS at all, closed midway
    Untrusted,  // the chain does not lead to a trusted CA
    Expired,    // a certificate expired, or is not valid yet
    WrongHost,  // the certificate does not name the host
  };

  // `host`: for a client, the name to send (SNI, unless an IP address) and to verify.
  TlsStream(const TlsContext& ctx, std::string_view host);
  ~TlsStream();
  TlsStream(const TlsStream&) = delete;
  TlsStream& operator=(const TlsStream&) = delete;

  // Plaintext from the peer: > 0 bytes, 0 at the end of the stream (see clean_close()),
  // -EAGAIN when the socket has nothing more (wait for readable; and writable when
  // wants_write()), or a negative error (-EPROTO: TLS failed, see error_text()). Drives the
  // handshake as needed.
  ssize_t read(int fd, char* buf, std::size_t len);
  // Client: completes the handshake. 0 done, -EAGAIN, or an error (see failure()).
  int handshake(int fd);
  // Encrypts and sends the queue, as OutputQueue::flush does for plain sockets.
  OutputQueue::Flush flush(int fd, OutputQueue& queue, std::uint64_t budget,
                           std::size_t& completed);
  // Sends ciphertext already produced: 0 all sent, -EAGAIN, or -errno.
  int send_pending(int fd);
  // Best effort: a close_notify alert, sent if the socket takes it now.
  void close_notify(int fd);
  // Frees the buffers while nothing is in them (an idle connection).
  void release_buffers() noexcept;

  bool wants_write() const noexcept { return out_.size() > 0; }
  // Bytes that can be read without the socket becoming readable again.
  bool has_buffered_input() const noexcept;
  bool handshake_done() const noexcept;
  // After the handshake: the protocol ALPN chose (RFC 7301), empty when none.
  std::string_view alpn() const noexcept;
  // The end of the stream was a close_notify, not a bare TCP close (which could be a
  // truncation by an attacker).
  bool clean_close() const noexcept { return clean_close_; }
  // The first bytes were a plain HTTP request, not a TLS handshake.
  bool plain_http() const noexcept { return plain_http_; }
  Failure failure() const noexcept { return failure_; }
  const std::string& error_text() const noexcept { return error_; }
  // The negotiated protocol and cipher, e.g. "TLSv1.3 TLS_AES_256_GCM_SHA384".
  std::string description() const;

  // Below: the BIO's side (tls.cpp).
  ByteBuffer& input() noexcept { return in_; }
  ByteBuffer& output() noexcept { return out_; }
  bool input_eof() const noexcept { return eof_; }

 private:
  int fill(int fd);  // > 0 bytes received, 0 end of stream, -EAGAIN, -errno
  int fail(int ssl_error);
  void note_failure();

  SSL* ssl_ = nullptr;
  bool server_ = false;
  ByteBuffer in_;        // ciphertext received, not yet taken by OpenSSL
  ByteBuffer out_;       // ciphertext produced, not yet sent
  std::size_t batch_;    // plaintext encrypted in the next batch (see above)
  std::size_t in_room_;  // tail room asked of in_ before a recv(2) (see above)
  bool eof_ = false;
  bool fatal_ = false;       // OpenSSL failed: no more reads, writes or close_notify
  bool ended_ = false;       // the stream ended: every later read returns 0
  bool maybe_more_ = false;  // the last read returned bytes; more may be buffered
  bool clean_close_ = false;
  bool plain_http_ = false;
  bool first_bytes_seen_ = false;
  Failure failure_ = Failure::None;
  std::string host_;
  std::string error_;
};

}  // namespace httpfs::net
