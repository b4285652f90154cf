// HTTPS: httpfs with --tls-cert/--tls-key, httpc over https://, against each other, curl and
// nginx, with certificates the test makes with the openssl command. Every TLS failure the
// client can meet has its exit code and its one line.
#include <doctest/doctest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <regex>
#include <thread>

#include "support/http_client.hpp"
#include "support/scripted_server.hpp"
#include "support/test_pki.hpp"
#include "support/tls_client.hpp"

using namespace httpfs::test;

namespace {

const TestPki& pki() {
  static const TestPki p;  // made once per test binary: key generation is the slow part
  return p;
}

std::vector<std::string> tls_args(const std::string& name = "server") {
  return {"--tls-cert", pki().cert(name), "--tls-key", pki().key(name)};
}

RunResult httpc(std::vector<std::string> args, const std::string& cwd = {},
                std::chrono::milliseconds timeout = 120s) {
  args.insert(args.begin(), binary("httpc"));
  return run(std::move(args), timeout, std::nullopt, {}, cwd);
}

int count_lines(const std::string& s) {
  return static_cast<int>(std::count(s.begin(), s.end(), '\n'));
}

// A TCP listener on 127.0.0.1 that accepts connections and then either closes them at once
// or holds them without a word (a server that is not speaking TLS, or not speaking at all).
class SilentListener {
 public:
  explicit SilentListener(bool close_at_once) : close_(close_at_once) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a);
    ::listen(fd_, 16);
    socklen_t len = sizeof a;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
    thread_ = std::thread([this] {
      while (!stop_) {
        int c = ::accept(fd_, nullptr, nullptr);
        if (c < 0) break;
        if (close_)
          ::close(c);
        else
          held_.push_back(c);
      }
    });
  }
  ~SilentListener() {
    stop_ = true;
    ::shutdown(fd_, SHUT_RDWR);
    thread_.join();
    ::close(fd_);
    for (int c : held_) ::close(c);
  }
  int port() const { return port_; }

 private:
  bool close_;
  int fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::vector<int> held_;
  std::thread thread_;
};

}  // namespace

TEST_CASE("httpc and curl over TLS to httpfs: verified against the test CA, ALPN http/1.1") {
  TempDir root, cwd;
  root.write("hello.txt", "hello over TLS\n");
  const std::string blob = random_bytes(300000, 7);
  root.write("blob.bin", blob);
  ServerProcess server(root.path(), tls_args());
  REQUIRE(server.url().rfind("https://", 0) == 0);

  RunResult r = httpc({"--cacert", pki().ca_cert(), server.url("/hello.txt")});
  CHECK(r.status == 0);
  CHECK(r.out == "hello over TLS\n");
  r = httpc({"-v", "--cacert", pki().ca_cert(), "-o", cwd / "blob.bin", server.url("/blob.bin")});
  CHECK(r.status == 0);
  CHECK(r.err.find("* TLS: TLSv1.3") != std::string::npos);
  CHECK(read_file(cwd / "blob.bin") == blob);
  // The names in the certificate: localhost (tried over ::1 first, then 127.0.0.1).
  r = httpc({"--cacert", pki().ca_cert(),
             "https://localhost:" + std::to_string(server.port()) + "/hello.txt"});
  CHECK(r.status == 0);
  CHECK(r.out == "hello over TLS\n");

  // curl: GET, HEAD, a range, two requests on one connection, an upload.
  r = curl({"--cacert", pki().ca_cert(), server.url("/hello.txt")});
  CHECK(r.out == "hello over TLS\n");
  r = curl({"--http1.1", "--cacert", pki().ca_cert(), "-I", server.url("/blob.bin")});
  CHECK(r.out.find("HTTP/1.1 200") == 0);
  CHECK(r.out.find("Content-Length: 300000") != std::string::npos);
  r = curl({"--cacert", pki().ca_cert(), "-r", "10-19", server.url("/blob.bin")});
  CHECK(r.out == blob.substr(10, 10));
  r = curl({"--http1.1", "-v", "--cacert", pki().ca_cert(), server.url("/hello.txt"),
            server.url("/hello.txt")});
  CHECK(r.out == "hello over TLS\nhello over TLS\n");
  CHECK(r.err.find("ALPN: server accepted http/1.1") != std::string::npos);
  CHECK(r.err.find("Re-using existing connection") != std::string::npos);

  write_file(cwd / "up.bin", blob);
  r = curl({"--cacert", pki().ca_cert(), "-T", cwd / "up.bin", "-w", "%{http_code}",
            server.url("/up.bin")});
  CHECK(r.out.find("201") != std::string::npos);
  CHECK(read_file(root / "up.bin") == blob);

  // A client that offers h2 first gets it (tests/integration/h2_test.cpp); one that offers
  // http/1.1 alone gets http/1.1.
  CHECK(TlsClient(server.port(), pki().ca_cert(), "h2,http/1.1").alpn() == "h2");
  CHECK(TlsClient(server.port(), pki().ca_cert()).alpn() == "http/1.1");
  CHECK(server.stop() == 0);
  CHECK(server.access_log().find("\"GET /hello.txt HTTP/1.1\" 200 15") != std::string::npos);
}

TEST_CASE("httpc over TLS: positional form with --tls, uploads, deletes, and -L from http") {
  TempDir root, cwd;
  root.write("doc.txt", "document");
  ServerProcess server(root.path(), tls_args());
  const std::string port = std::to_string(server.port());

  RunResult r = httpc({"--tls", "--cacert", pki().ca_cert(), "127.0.0.1", port, "GET", "doc.txt"},
                      cwd.path());
  CHECK(r.status == 0);
  CHECK(read_file(cwd / "doc.txt") == "document");
  write_file(cwd / "new.txt", "uploaded over TLS");
  r = httpc({"--tls", "--cacert", pki().ca_cert(), "127.0.0.1", port, "PUT", "new.txt"},
            cwd.path());
  CHECK(r.status == 0);
  CHECK(r.out.find("201 Created") != std::string::npos);
  CHECK(read_file(root / "new.txt") == "uploaded over TLS");
  r = httpc({"delete", "--cacert", pki().ca_cert(), server.url("/new.txt")});
  CHECK(r.status == 0);
  CHECK_FALSE(file_exists(root / "new.txt"));
  // Without --tls, the positional form speaks plain HTTP, which the TLS port refuses.
  r = httpc({"127.0.0.1", port, "GET", "doc.txt", "-o", "-"}, cwd.path());
  CHECK(r.status == 6);

  // A plain-HTTP site that redirects to its https:// twin.
  ScriptedServer plain([&](const ReceivedRequest& req, int) {
    return ScriptedReply::bytes("HTTP/1.1 301 Moved Permanently\r\nLocation: " +
                                server.url(req.target) + "\r\nContent-Length: 0\r\n\r\n");
  });
  r = httpc({"-L", "--cacert", pki().ca_cert(), plain.url("/doc.txt")});
  CHECK(r.status == 0);
  CHECK(r.out == "document");
  r = httpc({"--cacert", pki().ca_cert(), plain.url("/doc.txt")});  // without -L: the 301
  CHECK(r.status == 0);
  CHECK(r.out.empty());
}

TEST_CASE("httpc against nginx over TLS, byte for byte, both ways") {
  TempDir root, cwd;
  const std::string data = random_bytes(3 << 20, 11);
  root.write("data.bin", data);
  NginxProcess nginx(root.path(), pki().cert("server"), pki().key("server"));
  RunResult r =
      httpc({"-v", "--cacert", pki().ca_cert(), "-o", cwd / "data.bin", nginx.url("/data.bin")});
  CHECK(r.status == 0);
  CHECK(r.err.find("* TLS: TLSv1.3") != std::string::npos);
  CHECK(read_file(cwd / "data.bin") == data);
  r = httpc({"put", "--cacert", pki().ca_cert(), "-f", cwd / "data.bin", nginx.url("/copy.bin")});
  CHECK(r.status == 0);
  CHECK(read_file(root / "copy.bin") == data);
  r = httpc({nginx.url("/data.bin")});  // the system store does not know the test CA
  CHECK(r.status == 13);
}

TEST_CASE("certificate and handshake failures: one line and a distinct exit code each") {
  TempDir root, cwd;
  root.write("f", "secret");
  const std::string out = cwd / "f";

  SUBCASE("untrusted: a CA the client does not know") {
    ServerProcess server(root.path(), tls_args("server"));
    RunResult r = httpc({"--cacert", pki().other_ca_cert(), "-o", out, server.url("/f")});
    CHECK(r.status == 13);
    CHECK(count_lines(r.err) == 1);
    CHECK(r.err.find("the certificate of 127.0.0.1 is not trusted") != std::string::npos);
    CHECK(r.err.find("issued by httpfs test CA") != std::string::npos);
    CHECK(r.err.find("--cacert") != std::string::npos);
    r = httpc({"-o", out, server.url("/f")});  // the system store
    CHECK(r.status == 13);
    CHECK_FALSE(file_exists(out));
    CHECK_FALSE(file_exists(out + ".part"));
    r = httpc({"-k", "-o", out, server.url("/f")});
    CHECK(r.status == 0);
    CHECK(read_file(out) == "secret");
  }
  SUBCASE("wrong host: the certificate names another") {
    ServerProcess server(root.path(), tls_args("other-host"));
    RunResult r = httpc({"--cacert", pki().ca_cert(), server.url("/f")});
    CHECK(r.status == 15);
    CHECK(count_lines(r.err) == 1);
    CHECK(r.err.find("the certificate of 127.0.0.1 is for other.example, not 127.0.0.1") !=
          std::string::npos);
    CHECK(httpc({"-k", server.url("/f")}).out == "secret");
  }
  SUBCASE("expired, and not valid yet") {
    {
      ServerProcess server(root.path(), tls_args("expired"));
      RunResult r = httpc({"--cacert", pki().ca_cert(), server.url("/f")});
      CHECK(r.status == 14);
      CHECK(count_lines(r.err) == 1);
      CHECK(r.err.find("expired on 2020-02-01 00:00:00 UTC") != std::string::npos);
      CHECK(httpc({"-k", server.url("/f")}).status == 0);
    }
    ServerProcess server(root.path(), tls_args("future"));
    RunResult r = httpc({"--cacert", pki().ca_cert(), server.url("/f")});
    CHECK(r.status == 14);
    CHECK(r.err.find("is not valid before 2099-01-01 00:00:00 UTC") != std::string::npos);
  }
  SUBCASE("handshake: a plain HTTP server, a server that hangs up, one that says nothing") {
    ServerProcess plain(root.path());
    RunResult r = httpc(
        {"--cacert", pki().ca_cert(), "https://127.0.0.1:" + std::to_string(plain.port()) + "/f"});
    CHECK(r.status == 12);
    CHECK(count_lines(r.err) == 1);
    CHECK(r.err.find("TLS handshake failed with 127.0.0.1") != std::string::npos);
    CHECK(r.err.find("is the peer speaking TLS on this port?") != std::string::npos);

    SilentListener hangs_up(true);
    r = httpc({"--cacert", pki().ca_cert(),
               "https://127.0.0.1:" + std::to_string(hangs_up.port()) + "/"});
    CHECK(r.status == 12);
    CHECK(r.err.find("closed during the TLS handshake") != std::string::npos);

    SilentListener mute(false);
    const auto t0 = std::chrono::steady_clock::now();
    r = httpc({"--connect-timeout", "1", "--cacert", pki().ca_cert(),
               "https://127.0.0.1:" + std::to_string(mute.port()) + "/"});
    CHECK(r.status == 5);
    CHECK(r.err.find("TLS handshake with 127.0.0.1 timed out") != std::string::npos);
    CHECK(std::chrono::steady_clock::now() - t0 < 10s);
  }
  SUBCASE("a --cacert file that cannot be read") {
    RunResult r = httpc({"--cacert", cwd / "missing.pem", "https://127.0.0.1:1/"});
    CHECK(r.status == 9);
    CHECK(r.err.find("cannot read the CA certificates in") != std::string::npos);
  }
}

TEST_CASE("100 MiB down and up over TLS, byte for byte, in bounded server memory") {
  TempDir root, cwd;
  REQUIRE(run({"/bin/sh", "-c", "head -c 104857600 /dev/urandom > '" + cwd / "src.bin" + "'"}, 60s)
              .status == 0);
  REQUIRE(::link((cwd / "src.bin").c_str(), (root / "down.bin").c_str()) == 0);
  ServerProcess server(root.path(), [] {
    auto a = tls_args();
    a.insert(a.end(), {"--access-log", "off"});
    return a;
  }());
  const long rss_before = rss_kib(server.pid());

  RunResult r = httpc({"--cacert", pki().ca_cert(), "-o", cwd / "got.bin", server.url("/down.bin")},
                      {}, 300s);
  CHECK(r.status == 0);
  CHECK(run({"/usr/bin/cmp", cwd / "src.bin", cwd / "got.bin"}, 60s).status == 0);
  r = curl({"--cacert", pki().ca_cert(), "-o", cwd / "curl.bin", server.url("/down.bin")}, 300s);
  CHECK(r.status == 0);
  CHECK(run({"/usr/bin/cmp", cwd / "src.bin", cwd / "curl.bin"}, 60s).status == 0);
  // The upload asks first (Expect: 100-continue: it is over 1 MiB), then streams.
  r = httpc({"-T", cwd / "src.bin", "--cacert", pki().ca_cert(), server.url("/up.bin")}, {}, 300s);
  CHECK(r.status == 0);
  CHECK(run({"/usr/bin/cmp", cwd / "src.bin", root / "up.bin"}, 60s).status == 0);

  const long growth = rss_kib(server.pid()) - rss_before;
  MESSAGE("server RSS growth over 300 MiB of TLS traffic: " << growth << " KiB");
#ifndef __SANITIZE_ADDRESS__  // ASan keeps freed memory in quarantine: RSS says nothing there
  CHECK(growth < 32 * 1024);
#endif
}

TEST_CASE("pipelined requests in records larger than the read buffer are answered in order") {
  TempDir root;
  for (int i = 0; i < 10; ++i) root.write("f" + std::to_string(i), "<" + std::to_string(i) + ">");
  ServerProcess server(root.path(), tls_args());
  // About 150 KB of requests in full 16 KiB records: far more than one read buffer holds,
  // and more than the 16 responses queued before reading stops. What TLS has decrypted but
  // not handed over must not be forgotten when the socket itself has nothing new.
  const int n = 3000;
  std::string batch;
  for (int i = 0; i < n; ++i)
    batch += "GET /f" + std::to_string(i % 10) + " HTTP/1.1\r\nHost: x\r\n" +
             (i + 1 == n ? "Connection: close\r\n" : "") + "\r\n";
  TlsClient c(server.port(), pki().ca_cert());
  std::thread sender([&] { c.send(batch); });
  const std::string got = c.read_until_close(60s);
  sender.join();
  std::regex body(R"(\r\n\r\n<(\d)>)");
  int seen = 0;
  bool ordered = true;
  for (auto it = std::sregex_iterator(got.begin(), got.end(), body); it != std::sregex_iterator();
       ++it, ++seen)
    ordered = ordered && std::stoi((*it)[1]) == seen % 10;
  CHECK(seen == n);
  CHECK(ordered);

  // One request dribbled one byte per record.
  TlsClient slow(server.port(), pki().ca_cert());
  slow.send("GET /f3 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", 1);
  CHECK(slow.read_until_close(10s).find("\r\n\r\n<3>") != std::string::npos);

  // An idle TLS connection does not hold up a clean shutdown.
  TlsClient idle(server.port(), pki().ca_cert());
  CHECK(server.stop() == 0);
}

TEST_CASE("plain HTTP on the HTTPS port gets a 400 that says so; silent handshakes time out") {
  TempDir root;
  root.write("a", "a");
  ServerProcess server(root.path(), [] {
    auto a = tls_args();
    a.insert(a.end(), {"--header-timeout", "1", "--no-defer-accept"});
    return a;
  }());
  Response r = get(server.port(), "/a");
  CHECK(r.status == 400);
  CHECK(r.body.find("speaks HTTPS") != std::string::npos);
  CHECK(r.header("Connection") == "close");

  // A ClientHello that never completes is on the header clock.
  RawConnection partial(server.port());
  partial.send(std::string("\x16\x03\x01\x02\x00", 5));
  RawConnection mute(server.port());
  const auto t0 = std::chrono::steady_clock::now();
  CHECK(partial.wait_closed(5s));
  CHECK(mute.wait_closed(5s));
  CHECK(std::chrono::steady_clock::now() - t0 < 4s);
  CHECK(server.stop() == 0);
  CHECK(server.access_log().find("\"GET /a HTTP/1.1\" 400") != std::string::npos);
}

TEST_CASE("httpfs refuses unusable TLS files at start, with one line and exit code 2") {
  TempDir root;
  auto start = [&](std::vector<std::string> extra) {
    std::vector<std::string> argv = {binary("httpfs"), "-p", "0", "-d", root.path()};
    argv.insert(argv.end(), extra.begin(), extra.end());
    return run(argv, 10s);
  };
  RunResult r = start({"--tls-cert", root / "none.crt", "--tls-key", pki().key("server")});
  CHECK(r.status == 2);
  CHECK(r.err.find("cannot load the TLS certificate") != std::string::npos);
  r = start({"--tls-cert", pki().cert("server"), "--tls-key", pki().key("other-host")});
  CHECK(r.status == 2);
  CHECK(r.err.find("does not match the certificate") != std::string::npos);
  r = start({"--tls-cert", pki().cert("server")});
  CHECK(r.status == 2);
  CHECK(r.err.find("--tls-cert needs --tls-key") != std::string::npos);
  CHECK(count_lines(r.err) == 2);  // the message and the --help hint
}

TEST_CASE("--workers 2 over TLS: one context, so a session from one loop resumes on any") {
  // Each loop accepts half the connections (SO_REUSEPORT). With a TLS context per loop, a
  // ticket sealed by one loop's keys could not be opened by the other: about half of the
  // resumptions would fall back to full handshakes.
  TempDir root;
  root.write("a.txt", "hi");
  auto args = tls_args();
  args.insert(args.end(), {"--workers", "2"});
  ServerProcess server(root.path(), args);
  const char* probe = R"(
import socket, ssl, sys
port, ca, n = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
ctx = ssl.create_default_context(cafile=ca)
def fetch(session=None):
    with socket.create_connection(("127.0.0.1", port)) as raw:
        with ctx.wrap_socket(raw, server_hostname="localhost", session=session) as s:
            s.sendall(b"GET /a.txt HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
            data = b""
            while chunk := s.recv(65536):
                data += chunk
            assert data.startswith(b"HTTP/1.1 200") and data.endswith(b"hi"), data
            return s.session, s.session_reused
session, _ = fetch()
print(sum(1 for _ in range(n) if fetch(session)[1]))
)";
  const RunResult r = run(
      {"/usr/bin/python3", "-c", probe, std::to_string(server.port()), pki().ca_cert(), "24"}, 60s);
  REQUIRE_MESSAGE(r.status == 0, r.err);
  CHECK(r.out == "24\n");
}
