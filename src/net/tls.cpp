#include "net/tls.hpp"

#include <arpa/inet.h>
#include <linux/sockios.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstring>
#include <ctime>

namespace httpfs::net {

namespace {

// Ciphertext read from the socket per recv(2): room for several full records once reads fill
// what they are given (next_input_room).
constexpr std::size_t kInChunk = 128 * 1024;
// Plaintext encrypted per batch: a file body is pread in pieces this big, and the batch's
// ciphertext leaves in one send(2).
constexpr std::size_t kBatch = 256 * 1024;
// Short pieces (pipelined responses) are gathered up to one full record.
constexpr std::size_t kRecord = 16 * 1024;
constexpr unsigned char kAlpn[] = {8, 'h', 't', 't', 'p', '/', '1', '.', '1'};

// Bytes the kernel holds for the socket, not yet acknowledged (SIOCOUTQ, tcp(7)). Its send
// buffer may be megabytes (loopback starts at tcp_wmem's maximum) and takes them from a peer
// that reads nothing as readily as from one that reads fast: what waits there, not the room
// left, tells the two apart.
std::size_t unacked(int fd) {
  int queued = 0;
  return ::ioctl(fd, SIOCOUTQ, &queued) == 0 && queued > 0 ? static_cast<std::size_t>(queued) : 0;
}
// The server's preference: h2 first (RFC 9113 3.2), then http/1.1.
constexpr unsigned char kAlpnH2[] = {2, 'h', '2', 8, 'h', 't', 't', 'p', '/', '1', '.', '1'};

// ---- the memory BIO: OpenSSL reads TlsStream::input() and appends to TlsStream::output()

TlsStream* stream_of(BIO* b) {
  return static_cast<TlsStream*>(BIO_get_data(b));
}

int bio_write(BIO* b, const char* data, int len) {
  BIO_clear_retry_flags(b);
  if (len <= 0) return 0;
  // Never blocks: the owner produces a batch only when the previous one was sent, so this
  // holds at most one batch of records.
  stream_of(b)->output().append(std::string_view(data, static_cast<std::size_t>(len)));
  return len;
}

int bio_read(BIO* b, char* out, int len) {
  BIO_clear_retry_flags(b);
  TlsStream* s = stream_of(b);
  ByteBuffer& in = s->input();
  if (in.empty()) {
    if (s->input_eof()) return 0;  // the peer closed: OpenSSL sees the end of the stream
    BIO_set_retry_read(b);
    return -1;
  }
  const std::size_t n = std::min(in.size(), static_cast<std::size_t>(std::max(len, 0)));
  std::memcpy(out, in.data(), n);
  in.consume(n);
  return static_cast<int>(n);
}

long bio_ctrl(BIO* b, int cmd, long, void*) {
  switch (cmd) {
    case BIO_CTRL_FLUSH:
      return 1;
    case BIO_CTRL_PENDING:
      return static_cast<long>(stream_of(b)->input().size());
    case BIO_CTRL_WPENDING:
      return static_cast<long>(stream_of(b)->output().size());
    default:
      return 0;
  }
}

int bio_create(BIO* b) {
  BIO_set_init(b, 1);
  return 1;
}

BIO_METHOD* stream_bio_method() {
  static BIO_METHOD* method = [] {
    BIO_METHOD* m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "httpfs memory");
    BIO_meth_set_write(m, bio_write);
    BIO_meth_set_read(m, bio_read);
    BIO_meth_set_ctrl(m, bio_ctrl);
    BIO_meth_set_create(m, bio_create);
    return m;
  }();
  return method;
}

// The plaintext of one batch, shared by every stream of the thread: it is filled and
// encrypted within one flush() call.
char* batch_scratch() {
  thread_local std::unique_ptr<char[]> buf = std::make_unique_for_overwrite<char[]>(kBatch);
  return buf.get();
}

std::string openssl_error() {
  unsigned long e = ERR_peek_last_error();
  ERR_clear_error();
  if (e == 0) return "unknown error";
  const char* reason = ERR_reason_error_string(e);
  if (reason != nullptr) return reason;
  char buf[256];
  ERR_error_string_n(e, buf, sizeof buf);
  return buf;
}

bool is_ip_address(const std::string& host) {
  unsigned char buf[sizeof(in6_addr)];
  return inet_pton(AF_INET, host.c_str(), buf) == 1 || inet_pton(AF_INET6, host.c_str(), buf) == 1;
}

std::string asn1_time_text(const ASN1_TIME* t) {
  std::tm tm{};
  if (t == nullptr || ASN1_TIME_to_tm(t, &tm) != 1) return "an unknown date";
  char buf[64];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S UTC", &tm);
  return buf;
}

// The names a certificate is for: DNS and IP subject alternative names, else the CN.
std::string certificate_names(X509* cert) {
  std::string out;
  auto add = [&](const std::string& n) { out += (out.empty() ? "" : ", ") + n; };
  auto* names =
      static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr));
  for (int i = 0; names != nullptr && i < sk_GENERAL_NAME_num(names); ++i) {
    const GENERAL_NAME* g = sk_GENERAL_NAME_value(names, i);
    if (g->type == GEN_DNS) {
      const ASN1_STRING* s = g->d.dNSName;
      add(std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)),
                      static_cast<std::size_t>(ASN1_STRING_length(s))));
    } else if (g->type == GEN_IPADD) {
      const ASN1_OCTET_STRING* s = g->d.iPAddress;
      char text[INET6_ADDRSTRLEN] = "?";
      const int len = ASN1_STRING_length(s);
      if (len == 4 || len == 16)
        inet_ntop(len == 4 ? AF_INET : AF_INET6, ASN1_STRING_get0_data(s), text, sizeof text);
      add(text);
    }
  }
  GENERAL_NAMES_free(names);
  if (out.empty()) {
    char cn[256];
    if (X509_NAME_get_text_by_NID(X509_get_subject_name(cert), NID_commonName, cn, sizeof cn) > 0)
      out = cn;
  }
  return out.empty() ? "no name" : out;
}

std::string issuer_name(X509* cert) {
  char cn[256];
  if (X509_NAME_get_text_by_NID(X509_get_issuer_name(cert), NID_commonName, cn, sizeof cn) > 0)
    return cn;
  return "an unnamed issuer";
}

// What went wrong in certificate verification, kept for the message. The first failure is
// the one that ends the handshake.
struct VerifyNote {
  int error = X509_V_OK;
  std::string detail;
};
int verify_note_index() {
  static int idx = SSL_get_ex_new_index(0, nullptr, nullptr, nullptr, nullptr);
  return idx;
}

int verify_callback(int ok, X509_STORE_CTX* store) {
  if (ok == 1) return 1;
  auto* ssl =
      static_cast<SSL*>(X509_STORE_CTX_get_ex_data(store, SSL_get_ex_data_X509_STORE_CTX_idx()));
  auto* note = ssl ? static_cast<VerifyNote*>(SSL_get_ex_data(ssl, verify_note_index())) : nullptr;
  if (note == nullptr || note->error != X509_V_OK) return 0;
  note->error = X509_STORE_CTX_get_error(store);
  X509* cert = X509_STORE_CTX_get_current_cert(store);
  if (cert == nullptr) return 0;
  switch (note->error) {
    case X509_V_ERR_CERT_HAS_EXPIRED:
      note->detail = asn1_time_text(X509_get0_notAfter(cert));
      break;
    case X509_V_ERR_CERT_NOT_YET_VALID:
      note->detail = asn1_time_text(X509_get0_notBefore(cert));
      break;
    case X509_V_ERR_HOSTNAME_MISMATCH:
    case X509_V_ERR_IP_ADDRESS_MISMATCH:
      note->detail = certificate_names(cert);
      break;
    default:
      note->detail = issuer_name(cert);
      break;
  }
  return 0;
}

// `arg` is non-null when h2 is offered.
int alpn_select(SSL*, const unsigned char** out, unsigned char* outlen, const unsigned char* in,
                unsigned int inlen, void* arg) {
  unsigned char* selected = nullptr;
  const bool h2 = arg != nullptr;
  if (SSL_select_next_proto(&selected, outlen, h2 ? kAlpnH2 : kAlpn,
                            h2 ? sizeof kAlpnH2 : sizeof kAlpn, in,
                            inlen) != OPENSSL_NPN_NEGOTIATED)
    return SSL_TLSEXT_ERR_NOACK;  // nothing we speak on offer: go on without ALPN
  *out = selected;
  return SSL_TLSEXT_ERR_OK;
}

}  // namespace

bool tls_available() noexcept {
  return true;
}

// ---- contexts

TlsContext::~TlsContext() {
  SSL_CTX_free(ctx_);
}

std::unique_ptr<TlsContext> TlsContext::server(const std::string& cert_file,
                                               const std::string& key_file, std::string& error,
                                               bool offer_h2) {
  ERR_clear_error();
  SSL_CTX* ctx = SSL_CTX_new(TLS_server_method());
  if (ctx == nullptr) {
    error = "cannot set up TLS: " + openssl_error();
    return nullptr;
  }
  std::unique_ptr<TlsContext> out(new TlsContext(ctx, true, false));
  SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
  // No renegotiation (a client could make the server do handshakes forever), no compression
  // (CRIME), the server's cipher order; OpenSSL's buffers go back while a connection idles.
  SSL_CTX_set_options(
      ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION | SSL_OP_CIPHER_SERVER_PREFERENCE);
  SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
  if (SSL_CTX_use_certificate_chain_file(ctx, cert_file.c_str()) != 1) {
    error = "cannot load the TLS certificate '" + cert_file + "': " + openssl_error();
    return nullptr;
  }
  if (SSL_CTX_use_PrivateKey_file(ctx, key_file.c_str(), SSL_FILETYPE_PEM) != 1) {
    const std::string why = openssl_error();
    error =
        why == "key values mismatch"
            ? "the TLS key '" + key_file + "' does not match the certificate '" + cert_file + "'"
            : "cannot load the TLS key '" + key_file + "': " + why;
    return nullptr;
  }
  if (SSL_CTX_check_private_key(ctx) != 1) {
    error = "the TLS key '" + key_file + "' does not match the certificate '" + cert_file + "'";
    return nullptr;
  }
  // Any non-null pointer says "offer h2"; the callback only tests it.
  SSL_CTX_set_alpn_select_cb(ctx, alpn_select,
                             offer_h2 ? const_cast<unsigned char*>(kAlpnH2) : nullptr);
  static const unsigned char kSessionContext[] = "httpfs";
  SSL_CTX_set_session_id_context(ctx, kSessionContext, sizeof kSessionContext - 1);
  return out;
}

std::unique_ptr<TlsContext> TlsContext::client(bool verify, const std::string& cacert,
                                               std::string& error, bool offer_h2) {
  ERR_clear_error();
  SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
  if (ctx == nullptr) {
    error = "cannot set up TLS: " + openssl_error();
    return nullptr;
  }
  std::unique_ptr<TlsContext> out(new TlsContext(ctx, false, verify));
  SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
  if (offer_h2)
    SSL_CTX_set_alpn_protos(ctx, kAlpnH2, sizeof kAlpnH2);
  else
    SSL_CTX_set_alpn_protos(ctx, kAlpn, sizeof kAlpn);
  if (!verify) {
    SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, nullptr);
    return out;
  }
  if (!cacert.empty()) {
    // Like curl: a CA file given replaces the system store.
    if (SSL_CTX_load_verify_locations(ctx, cacert.c_str(), nullptr) != 1) {
      error = "cannot read the CA certificates in '" + cacert + "': " + openssl_error();
      return nullptr;
    }
  } else if (SSL_CTX_set_default_verify_paths(ctx) != 1 ||
             SSL_CTX_load_verify_locations(ctx, nullptr, "/etc/ssl/certs") != 1) {
    // The default paths are /usr/lib/ssl/{cert.pem,certs}, links to /etc/ssl/certs on
    // Debian; SSL_CERT_FILE and SSL_CERT_DIR override them.
    error = "cannot load the system's CA certificates: " + openssl_error();
    return nullptr;
  }
  SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, verify_callback);
  return out;
}

// ---- the stream

TlsStream::TlsStream(const TlsContext& ctx, std::string_view host)
    : server_(ctx.is_server()), batch_(kRecord), in_room_(kRecord), host_(host) {
  ssl_ = SSL_new(ctx.native());
  if (ssl_ == nullptr) throw std::bad_alloc();
  BIO* bio = BIO_new(stream_bio_method());
  BIO_set_data(bio, this);
  SSL_set_bio(ssl_, bio, bio);  // one reference, owned by ssl_
  if (server_) {
    SSL_set_accept_state(ssl_);
    return;
  }
  SSL_set_connect_state(ssl_);
  if (!is_ip_address(host_)) SSL_set_tlsext_host_name(ssl_, host_.c_str());  // SNI
  if (ctx.verifies()) {
    auto* note = new VerifyNote();
    SSL_set_ex_data(ssl_, verify_note_index(), note);
    if (is_ip_address(host_))
      X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl_), host_.c_str());
    else
      SSL_set1_host(ssl_, host_.c_str());
  }
}

TlsStream::~TlsStream() {
  delete static_cast<VerifyNote*>(SSL_get_ex_data(ssl_, verify_note_index()));
  SSL_free(ssl_);
}

bool TlsStream::handshake_done() const noexcept {
  return SSL_is_init_finished(ssl_) == 1;
}

std::size_t next_input_room(std::size_t room, std::size_t got) noexcept {
  return got >= room ? std::min(room * 2, kInChunk) : room;
}

std::string_view TlsStream::alpn() const noexcept {
  const unsigned char* p = nullptr;
  unsigned int n = 0;
  SSL_get0_alpn_selected(ssl_, &p, &n);
  return {reinterpret_cast<const char*>(p), n};
}

bool TlsStream::has_buffered_input() const noexcept {
  // Only after a read that stopped because the caller's buffer was full: a read that ran
  // dry (-EAGAIN) left nothing usable behind, even if part of a record waits in in_. And
  // once the stream has ended (a close_notify came with the last data): the next read says
  // so, and the socket may never become readable again to prompt it.
  return ended_ || (maybe_more_ && (SSL_pending(ssl_) > 0 || !in_.empty()));
}

std::string TlsStream::description() const {
  return std::string(SSL_get_version(ssl_)) + " " + SSL_get_cipher_name(ssl_);
}

int TlsStream::fill(int fd) {
  in_.reserve(in_room_);
  for (;;) {
    const std::size_t room = in_.tail_room();
    ssize_t n = ::recv(fd, in_.tail(), room, 0);
    if (n > 0) {
      const auto first = static_cast<unsigned char>(*in_.tail());
      in_.commit(static_cast<std::size_t>(n));
      in_room_ = next_input_room(in_room_, std::min(static_cast<std::size_t>(n), room));
      if (!first_bytes_seen_) {
        first_bytes_seen_ = true;
        // A TLS connection opens with a handshake record (22). An upper-case letter is the
        // method of a plain HTTP request sent to the TLS port.
        if (server_ && first >= 'A' && first <= 'Z') {
          plain_http_ = true;
          fatal_ = true;
          failure_ = Failure::Handshake;
          error_ = "a plain HTTP request on the HTTPS port";
          return -EPROTO;
        }
      }
      return static_cast<int>(n);
    }
    // A peer that hangs up mid-handshake resets the connection when our ClientHello was
    // still unread on its side: that is the same "closed during the handshake" as a FIN.
    if (n == 0 || (errno == ECONNRESET && !handshake_done())) {
      eof_ = true;
      return 0;
    }
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) return -EAGAIN;
    return -errno;
  }
}

int TlsStream::send_pending(int fd) {
  while (!out_.empty()) {
    ssize_t n = ::send(fd, out_.data(), out_.size(), MSG_NOSIGNAL);
    if (n > 0) {
      out_.consume(static_cast<std::size_t>(n));
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return -EAGAIN;
    return n < 0 ? -errno : -EIO;
  }
  return 0;
}

int TlsStream::fail(int ssl_error) {
  fatal_ = true;
  maybe_more_ = false;
  if (eof_ && !handshake_done()) {
    ERR_clear_error();
    failure_ = Failure::Handshake;
    error_ = "the connection" + (host_.empty() ? std::string() : " to " + host_) +
             " closed during the TLS handshake";
    return -EPROTO;
  }
  auto* note = static_cast<VerifyNote*>(SSL_get_ex_data(ssl_, verify_note_index()));
  if (note != nullptr && note->error != X509_V_OK) {
    ERR_clear_error();
    const std::string& d = note->detail;
    switch (note->error) {
      case X509_V_ERR_CERT_HAS_EXPIRED:
        failure_ = Failure::Expired;
        error_ = "the certificate of " + host_ + " expired on " + d;
        break;
      case X509_V_ERR_CERT_NOT_YET_VALID:
        failure_ = Failure::Expired;
        error_ = "the certificate of " + host_ + " is not valid before " + d;
        break;
      case X509_V_ERR_HOSTNAME_MISMATCH:
      case X509_V_ERR_IP_ADDRESS_MISMATCH:
        failure_ = Failure::WrongHost;
        error_ = "the certificate of " + host_ + " is for " + d + ", not " + host_;
        break;
      default:
        failure_ = Failure::Untrusted;
        error_ = "the certificate of " + host_ + " is not trusted (" +
                 X509_verify_cert_error_string(note->error) + "; issued by " + d + ")";
        break;
    }
    return -EPROTO;
  }
  failure_ = Failure::Handshake;
  std::string why = ssl_error == SSL_ERROR_SYSCALL && ERR_peek_error() == 0
                        ? std::string("the connection failed")
                        : openssl_error();
  if (why == "wrong version number" || why == "packet length too long" ||
      why == "record layer failure")
    why += " (is the peer speaking TLS on this port?)";
  error_ = std::string(handshake_done() ? "TLS failed" : "TLS handshake failed") +
           (host_.empty() ? std::string() : " with " + host_) + ": " + why;
  return -EPROTO;
}

ssize_t TlsStream::read(int fd, char* buf, std::size_t len) {
  if (ended_) return 0;
  if (fatal_) return -EPROTO;
  for (;;) {
    ERR_clear_error();
    const int n = SSL_read(ssl_, buf, static_cast<int>(std::min<std::size_t>(len, INT_MAX)));
    if (n > 0) {
      maybe_more_ = true;
      // A handshake just completed may have left session tickets to send.
      if (wants_write()) {
        if (int r = send_pending(fd); r < 0 && r != -EAGAIN) return r;
      }
      return n;
    }
    maybe_more_ = false;
    const int e = SSL_get_error(ssl_, n);
    if (e == SSL_ERROR_WANT_READ) {
      // Handshake messages or alerts go out before waiting for the peer's answer to them.
      if (wants_write()) {
        if (int r = send_pending(fd); r < 0 && r != -EAGAIN) return r;
      }
      const int r = fill(fd);
      if (r >= 0) continue;  // bytes, or the end of the stream for OpenSSL to judge
      return r;
    }
    if (e == SSL_ERROR_ZERO_RETURN) {
      clean_close_ = true;
      ended_ = true;
      return 0;
    }
    if (eof_ && in_.empty() && handshake_done()) {
      // The peer closed without close_notify. Whether that truncated anything is for the
      // framing to say (a read-until-close body cannot tell).
      ERR_clear_error();
      fatal_ = true;  // no close_notify after this
      ended_ = true;
      return 0;
    }
    return fail(e);
  }
}

int TlsStream::handshake(int fd) {
  if (fatal_) return -EPROTO;
  for (;;) {
    ERR_clear_error();
    const int r = SSL_do_handshake(ssl_);
    if (r == 1) {
      // The last flight (the client's Finished) leaves with the first request.
      if (wants_write()) {
        if (int s = send_pending(fd); s < 0 && s != -EAGAIN) return s;
      }
      return 0;
    }
    const int e = SSL_get_error(ssl_, r);
    if (e != SSL_ERROR_WANT_READ) return fail(e);
    if (wants_write()) {
      if (int s = send_pending(fd); s < 0 && s != -EAGAIN) return s;
    }
    const int f = fill(fd);
    if (f < 0) return f;
  }
}

OutputQueue::Flush TlsStream::flush(int fd, OutputQueue& queue, std::uint64_t budget,
                                    std::size_t& completed) {
  if (fatal_) {
    queue.fail(EPROTO);
    return OutputQueue::Flush::Error;
  }
  std::uint64_t produced = 0;
  char* scratch = batch_scratch();
  for (;;) {
    // One batch in flight: what was encrypted leaves before more is encrypted.
    if (wants_write()) {
      const int r = send_pending(fd);
      if (r == -EAGAIN) {
        // The peer reads slower than we write: what waits here is kept to what waits, the
        // input buffer is not kept for a peer that sends little.
        batch_ = kRecord;
        out_.shrink_to(0);
        if (in_.empty()) in_.release();
        return OutputQueue::Flush::Blocked;
      }
      if (r < 0) {
        queue.fail(-r);
        return OutputQueue::Flush::Error;
      }
      batch_ = std::min(batch_ * 2, kBatch);
    }
    if (queue.empty()) return OutputQueue::Flush::Done;
    if (produced >= budget) return OutputQueue::Flush::Yield;
    // A batch tops what waits in the kernel up to kBatch, so that a peer that stops reading
    // leaves at most one record here. Small answers never ask (one record at most).
    const std::size_t batch =
        batch_ > kRecord ? std::clamp(kBatch - std::min(unacked(fd), kBatch), kRecord, batch_)
                         : kRecord;
    std::string_view plain = queue.peek(scratch, batch, kRecord);
    if (plain.empty()) {
      if (queue.error() != 0) return OutputQueue::Flush::Error;  // a file could not be read
      queue.consume(0, completed);                               // only response markers were left
      continue;
    }
    ERR_clear_error();
    const int n = SSL_write(ssl_, plain.data(), static_cast<int>(plain.size()));
    if (n <= 0) {
      fail(SSL_get_error(ssl_, n));
      queue.fail(EPROTO);
      return OutputQueue::Flush::Error;
    }
    // The BIO never refuses bytes, so SSL_write took them all.
    queue.consume(static_cast<std::uint64_t>(n), completed);
    produced += static_cast<std::uint64_t>(n);
  }
}

void TlsStream::close_notify(int fd) {
  if (fatal_ || !handshake_done()) return;
  ERR_clear_error();
  SSL_shutdown(ssl_);  // queues the alert; the peer's is not waited for
  ERR_clear_error();
  send_pending(fd);
}

void TlsStream::release_buffers() noexcept {
  if (in_.empty()) in_.release();
  if (out_.empty()) out_.release();
}

}  // namespace httpfs::net
