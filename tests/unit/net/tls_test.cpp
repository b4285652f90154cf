#include "net/tls.hpp"

#include <doctest/doctest.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "support/test_pki.hpp"

using httpfs::net::OutputQueue;
using httpfs::net::TlsContext;
using httpfs::net::TlsStream;
using httpfs::test::TestPki;

namespace {

const TestPki& pki() {
  static const TestPki p;
  return p;
}

// A connected pair of non-blocking sockets with a TLS stream at each end.
struct Pair {
  int s = -1, c = -1;
  std::unique_ptr<TlsContext> server_ctx, client_ctx;
  std::unique_ptr<TlsStream> server, client;

  explicit Pair(const std::string& ca, const std::string& host = "localhost") {
    int sv[2];
    REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv) == 0);
    s = sv[0];
    c = sv[1];
    std::string err;
    server_ctx = TlsContext::server(pki().cert("server"), pki().key("server"), err);
    REQUIRE_MESSAGE(server_ctx, err);
    client_ctx = TlsContext::client(true, ca, err);
    REQUIRE_MESSAGE(client_ctx, err);
    server = std::make_unique<TlsStream>(*server_ctx, "");
    client = std::make_unique<TlsStream>(*client_ctx, host);
  }
  ~Pair() {
    ::close(s);
    ::close(c);
  }
  // Runs both sides until the client's handshake ends: its result.
  int handshake() {
    char b[16];
    for (int i = 0; i < 50; ++i) {
      int r = client->handshake(c);
      if (r != -EAGAIN) {
        server->read(s, b, sizeof b);  // takes the client's Finished
        return r;
      }
      long n = server->read(s, b, sizeof b);
      if (n != -EAGAIN) return static_cast<int>(n);
    }
    return -ETIMEDOUT;
  }
};

}  // namespace

TEST_CASE("TLS streams: handshake, a queue of memory and file pieces, reads in small steps") {
  Pair p(pki().ca_cert());
  REQUIRE(p.handshake() == 0);
  CHECK(p.client->handshake_done());
  CHECK(p.client->description().find("TLSv1.3") == 0);

  httpfs::test::TempDir t;
  const std::string file = httpfs::test::random_bytes(300000, 3);
  t.write("f", file);
  const int fd = ::open((t / "f").c_str(), O_RDONLY);
  OutputQueue q;
  q.append("HEAD1\r\n\r\n");
  q.add_file(fd, 1000, 200000, /*owns_fd=*/true);
  q.end_response();
  for (int i = 0; i < 20; ++i) {  // short pipelined responses: gathered into one record
    q.append("r" + std::to_string(i) + ";");
    q.end_response();
  }
  const std::string expect = "HEAD1\r\n\r\n" + file.substr(1000, 200000) + [] {
    std::string s;
    for (int i = 0; i < 20; ++i) s += "r" + std::to_string(i) + ";";
    return s;
  }();

  std::string got;
  std::size_t completed = 0;
  char buf[777];  // an odd size: records are cut across reads
  for (int round = 0; round < 10000 && got.size() < expect.size(); ++round) {
    OutputQueue::Flush f = p.server->flush(p.s, q, 1 << 20, completed);
    REQUIRE(f != OutputQueue::Flush::Error);
    for (long n; (n = p.client->read(p.c, buf, sizeof buf)) > 0;)
      got.append(buf, static_cast<std::size_t>(n));
  }
  CHECK(got == expect);
  CHECK(completed == 21);
  CHECK(q.empty());
}

TEST_CASE("TLS streams: input the socket no longer shows is reported as buffered") {
  Pair p(pki().ca_cert());
  REQUIRE(p.handshake() == 0);
  OutputQueue q;
  // One record, which the first read's room (one record) takes whole.
  const std::string data = httpfs::test::random_bytes(12 * 1024, 5);
  q.append(data);
  q.end_response();
  std::size_t completed = 0;
  REQUIRE(p.server->flush(p.s, q, 1 << 20, completed) == OutputQueue::Flush::Done);

  char buf[100];
  REQUIRE(p.client->read(p.c, buf, sizeof buf) == 100);
  // The client took every ciphertext byte off the socket into its own buffer...
  char probe;
  CHECK(::recv(p.c, &probe, 1, MSG_PEEK) == -1);
  CHECK(errno == EAGAIN);
  // ...so a poller would wait forever: the stream must say that more is here.
  CHECK(p.client->has_buffered_input());
  std::string got(buf, 100);
  long n;
  while ((n = p.client->read(p.c, buf, sizeof buf)) > 0)
    got.append(buf, static_cast<std::size_t>(n));
  CHECK(n == -EAGAIN);
  CHECK(got == data);
  CHECK_FALSE(p.client->has_buffered_input());
}

TEST_CASE("TLS streams: whole records left in the input buffer are reported as buffered") {
  Pair p(pki().ca_cert());
  REQUIRE(p.handshake() == 0);
  // Three records (one SSL_write each), all within the first read's room.
  const std::string data = httpfs::test::random_bytes(3 * 4000, 6);
  for (int i = 0; i < 3; ++i) {
    OutputQueue q;
    q.append(data.substr(static_cast<std::size_t>(i) * 4000, 4000));
    q.end_response();
    std::size_t completed = 0;
    REQUIRE(p.server->flush(p.s, q, 1 << 20, completed) == OutputQueue::Flush::Done);
  }
  char buf[4000];
  REQUIRE(p.client->read(p.c, buf, sizeof buf) == 4000);
  char probe;
  CHECK(::recv(p.c, &probe, 1, MSG_PEEK) == -1);
  CHECK(errno == EAGAIN);
  // Nothing decrypted waits in OpenSSL (the first record was taken whole): the two others
  // are still ciphertext in the stream's own buffer.
  CHECK(p.client->has_buffered_input());
  std::string got(buf, 4000);
  long n;
  while ((n = p.client->read(p.c, buf, sizeof buf)) > 0)
    got.append(buf, static_cast<std::size_t>(n));
  CHECK(n == -EAGAIN);
  CHECK(got == data);
}

TEST_CASE("TLS streams: close_notify is a clean end, a bare close is not") {
  {
    Pair p(pki().ca_cert());
    REQUIRE(p.handshake() == 0);
    p.server->close_notify(p.s);
    char buf[64];
    CHECK(p.client->read(p.c, buf, sizeof buf) == 0);
    CHECK(p.client->clean_close());
    CHECK(p.client->read(p.c, buf, sizeof buf) == 0);  // and stays ended
  }
  {
    Pair p(pki().ca_cert());
    REQUIRE(p.handshake() == 0);
    ::shutdown(p.s, SHUT_WR);
    char buf[64];
    CHECK(p.client->read(p.c, buf, sizeof buf) == 0);
    CHECK_FALSE(p.client->clean_close());
  }
}

TEST_CASE("TLS streams: a plain HTTP request and verification failures are named") {
  {
    Pair p(pki().ca_cert());
    const std::string get = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
    REQUIRE(::send(p.c, get.data(), get.size(), 0) == static_cast<ssize_t>(get.size()));
    char buf[64];
    CHECK(p.server->read(p.s, buf, sizeof buf) == -EPROTO);
    CHECK(p.server->plain_http());
    CHECK(p.server->input().size() == get.size());  // kept, for the log line
  }
  {
    Pair p(pki().other_ca_cert());
    CHECK(p.handshake() == -EPROTO);
    CHECK(p.client->failure() == TlsStream::Failure::Untrusted);
    CHECK(p.client->error_text().find("is not trusted") != std::string::npos);
  }
  {
    Pair p(pki().ca_cert(), "example.org");
    CHECK(p.handshake() == -EPROTO);
    CHECK(p.client->failure() == TlsStream::Failure::WrongHost);
  }
  {
    Pair p(pki().ca_cert(), "127.0.0.1");  // an IP address: checked against IP SANs, no SNI
    CHECK(p.handshake() == 0);
  }
}

TEST_CASE("TLS contexts: unusable files are refused with the reason") {
  std::string err;
  CHECK_FALSE(TlsContext::server("/nonexistent.crt", pki().key("server"), err));
  CHECK(err.find("cannot load the TLS certificate '/nonexistent.crt'") == 0);
  CHECK_FALSE(TlsContext::server(pki().cert("server"), pki().key("expired"), err));
  CHECK(err.find("does not match") != std::string::npos);
  CHECK_FALSE(TlsContext::client(true, "/nonexistent.pem", err));
  CHECK(err.find("cannot read the CA certificates") == 0);
  CHECK(TlsContext::client(false, "", err));  // -k needs no store
  CHECK(httpfs::net::tls_available());
}

TEST_CASE("TLS input room: one record first, doubled by each read that fills it, 128 KiB at most") {
  struct Row {
    std::size_t room, got, next;
  };
  const Row rows[] = {
      {16384, 0, 16384},      {16384, 517, 16384},      {16384, 16383, 16384},
      {16384, 16384, 32768},  {16384, 20000, 32768},    {32768, 32768, 65536},
      {65536, 65536, 131072}, {131072, 131072, 131072}, {131072, 1, 131072},
  };
  for (const Row& r : rows) {
    CAPTURE(r.room);
    CAPTURE(r.got);
    CHECK(httpfs::net::next_input_room(r.room, r.got) == r.next);
  }
}
