// Slow clients (README "Security", rows 9-12): each is cut at its own deadline, while a normal
// client, measured at the same time, is still answered.
#include <doctest/doctest.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <sstream>
#include <thread>

#include "common.hpp"
#include "support/http_client.hpp"
#include "support/swarm.hpp"
#include "support/test_pki.hpp"
#include "support/tls_client.hpp"

using namespace httpfs::test;
using namespace std::chrono_literals;

namespace {

// One GET on a fresh connection: its duration in milliseconds, or -1 when the answer was
// not 200 with the expected body.
long timed_get(int port, const std::string& path, const std::string& want) {
  const auto t0 = std::chrono::steady_clock::now();
  Response r = get(port, path);
  const long ms = static_cast<long>(seconds_since(t0) * 1000);
  return r.status == 200 && r.body == want ? ms : -1;
}

// The largest Send-Q (bytes sent and not yet acknowledged, or not sent yet) of the server's
// established sockets on `port`, as ss(8) reports it; -1 when ss fails.
long largest_send_queue(int port) {
  const RunResult r = run(
      {"/usr/bin/ss", "-tnH", "state", "established", "( sport = :" + std::to_string(port) + " )"});
  if (r.status != 0) return -1;
  long most = 0;
  std::istringstream lines(r.out);
  std::string line;
  while (std::getline(lines, line)) {
    long recv_q = 0, send_q = 0;
    if (std::sscanf(line.c_str(), "%ld %ld", &recv_q, &send_q) == 2) most = std::max(most, send_q);
  }
  return most;
}

// A TLS server of `dir` for RSS measurements: under ASan, freed memory waits in a quarantine
// of 256 MiB and counts as resident, so it is kept small (the options are ignored without
// ASan); `env` is added. What every connection shares (session cache, allocator arenas) is
// warmed up by four GETs of /page.txt.
std::unique_ptr<ServerProcess> tls_server(const TestPki& pki, const TempDir& dir,
                                          std::vector<std::string> env = {}) {
  const char* asan = std::getenv("ASAN_OPTIONS");
  env.push_back("ASAN_OPTIONS=" + std::string(asan != nullptr ? asan + std::string(":") : "") +
                "quarantine_size_mb=1:thread_local_quarantine_size_kb=64");
  auto server = std::make_unique<ServerProcess>(
      dir.path(),
      std::vector<std::string>{"--tls-cert", pki.cert("server"), "--tls-key", pki.key("server"),
                               "--access-log", "off"},
      env);
  for (int i = 0; i < 4; ++i)
    TlsClient(server->port(), pki.ca_cert()).send("GET /page.txt HTTP/1.1\r\nHost: x\r\n\r\n");
  return server;
}

}  // namespace

TEST_CASE("slowloris: 1000 heads trickled a byte at a time are cut at the header deadline") {
  raise_fd_limit();
  TempDir dir;
  dir.write("page.txt", "served meanwhile");
  // One loop, and two (the kernel spreads the slow heads over both listeners).
  std::vector<std::string> args = {"--header-timeout", "3"};
  SUBCASE("one loop") {}
  SUBCASE("--workers 2") {
    args.insert(args.end(), {"--workers", "2"});
  }
  ServerProcess server(dir.path(), args);
  const long rss0 = rss_kib(server.pid());
  const int fds0 = fd_count(server.pid());

  const auto t0 = std::chrono::steady_clock::now();
  Swarm swarm(server.port(), 1000, "G");
  // Never ends the head: only the deadline can end these connections.
  const std::string rest = "ET /page.txt HTTP/1.1\r\nHost: x\r\nX-Slow: 1\r\n";
  std::size_t sent = 0;
  long worst_ms = 0, peak_rss = rss0;
  int peak_fds = fds0, gets = 0;
  std::size_t open_at_1s = 0;
  while (swarm.poll_open() > 0 && seconds_since(t0) < 20) {
    swarm.send_all(std::string_view(&rest[sent++ % rest.size()], 1));
    const long ms = timed_get(server.port(), "/page.txt", "served meanwhile");
    CHECK(ms >= 0);
    worst_ms = std::max(worst_ms, ms);
    ++gets;
    peak_rss = std::max(peak_rss, rss_kib(server.pid()));
    peak_fds = std::max(peak_fds, fd_count(server.pid()));
    if (open_at_1s == 0 && seconds_since(t0) >= 1.0) open_at_1s = swarm.poll_open();
    std::this_thread::sleep_for(200ms);
  }
  const double cut_after = seconds_since(t0);
  MESSAGE("1000 slow heads cut after " << cut_after << " s; " << gets
                                       << " GETs meanwhile, the slowest in " << worst_ms
                                       << " ms; peak RSS +" << (peak_rss - rss0) << " KiB");
  CHECK(open_at_1s == 1000);      // trickling is allowed until the deadline...
  CHECK(swarm.poll_open() == 0);  // ...and then every one is cut, however it trickles
  CHECK(cut_after < 3 * 3 + 2);
  // Answered while the slow heads were held, not after they were cut.
  CHECK(worst_ms < 3000);
  CHECK(peak_rss - rss0 < 64 * 1024);
  CHECK(peak_fds <= fds0 + 1000 + 8);
  CHECK(eventually([&] { return fd_count(server.pid()) <= fds0; }, 5s));
}

TEST_CASE("a body trickled at 5 bytes/s is cut by the minimum rate; a slow steady one survives") {
  TempDir dir;
  dir.mkdir("up");
  ServerProcess server(dir.path(), {"--body-timeout", "2", "--min-body-rate", "1000"});
  RawConnection trickle(server.port());
  REQUIRE(trickle.send("PUT /up/slow.bin HTTP/1.1\r\nHost: x\r\nContent-Length: 10000000\r\n\r\n"));
  RawConnection steady(server.port());
  const std::string body = random_bytes(80000, 11);
  REQUIRE(steady.send("PUT /up/steady.bin HTTP/1.1\r\nHost: x\r\nContent-Length: 80000\r\n\r\n"));
  const auto t0 = std::chrono::steady_clock::now();
  double cut_at = -1;
  // 4000 bytes every 200 ms (20 kB/s) for 4 s: two whole rate windows.
  for (std::size_t off = 0; off < body.size(); off += 4000) {
    REQUIRE(steady.send(std::string_view(body).substr(off, 4000)));
    if (cut_at < 0) {
      trickle.send("x");  // progress every 200 ms: the idle clock alone would never fire
      if (trickle.wait_closed(20ms)) cut_at = seconds_since(t0);
    }
    std::this_thread::sleep_for(200ms);
  }
  if (cut_at < 0 && trickle.wait_closed(3s)) cut_at = seconds_since(t0);
  MESSAGE("the 5 bytes/s upload was cut after " << cut_at << " s");
  CHECK(cut_at > 1.9);  // not before one whole window
  CHECK(cut_at < 3.5);  // at the first progress after the window
  auto r = steady.read_response();
  REQUIRE(r);
  CHECK(r->status == 201);
  CHECK(read_file(dir / "up/steady.bin") == body);
  CHECK(entries(dir / "up") == std::vector<std::string>{"steady.bin"});  // no slow.bin, no temp
  CHECK(get(server.port(), "/up/steady.bin").status == 200);

  SUBCASE("the rate is what cut it: with no minimum the same trickle lives past the window") {
    ServerProcess lax(dir.path(), {"--body-timeout", "2", "--min-body-rate", "0"});
    RawConnection t(lax.port());
    REQUIRE(t.send("PUT /up/slow2.bin HTTP/1.1\r\nHost: x\r\nContent-Length: 10000000\r\n\r\n"));
    bool closed = false;
    for (int i = 0; i < 15 && !closed; ++i) {
      t.send("x");
      closed = t.wait_closed(200ms);
    }
    CHECK_FALSE(closed);
  }
}

TEST_CASE("a reader that never reads: backpressure, a cut at the send timeout, the file freed") {
  TempDir dir;
  dir.write("page.txt", "still served");
  REQUIRE(make_sparse(dir / "big.bin", 1LL << 30));  // streamed like any file
  ServerProcess server(dir.path(), {"--send-timeout", "2"});
  const long rss0 = rss_kib(server.pid());
  const int fds0 = fd_count(server.pid());
  RawConnection stuck(server.port());
  REQUIRE(stuck.send("GET /big.bin HTTP/1.1\r\nHost: x\r\n\r\n"));
  std::this_thread::sleep_for(1s);
  // The response waits in the socket buffers; the server holds the socket and the file.
  CHECK(fd_count(server.pid()) == fds0 + 2);
  // And not much of it on the server's side: at most TCP_NOTSENT_LOWAT (256 KiB) unsent,
  // where the send buffer alone would let the kernel take 2-4 MiB for a reader like this.
  const long queued = largest_send_queue(server.port());
  MESSAGE("bytes queued in the server's socket for a reader that never reads: " << queued);
  CHECK(queued > 0);
  CHECK(queued <= 512 * 1024);
  CHECK(rss_kib(server.pid()) - rss0 < 16 * 1024);
  CHECK(timed_get(server.port(), "/page.txt", "still served") >= 0);
  // Cut at the send timeout: the socket and the file descriptor are released.
  CHECK(eventually([&] { return fd_count(server.pid()) == fds0; }, 6s));
  const std::string got = stuck.read_until_close(5s);
  CHECK(got.size() < (1u << 30));  // it never got the whole file
  CHECK(timed_get(server.port(), "/page.txt", "still served") >= 0);
}

TEST_CASE("200 TLS readers that never read hold a record of ciphertext each, not a batch") {
  static const TestPki pki;
  TempDir dir;
  dir.write("page.txt", "still served");
  REQUIRE(make_sparse(dir / "big.bin", 1LL << 30));
  const auto server_owner = tls_server(pki, dir);
  const ServerProcess& server = *server_owner;
  const long rss0 = rss_kib(server.pid());
  std::vector<std::unique_ptr<TlsClient>> stuck;
  for (int i = 0; i < 200; ++i) {
    stuck.push_back(std::make_unique<TlsClient>(server.port(), pki.ca_cert()));
    stuck.back()->send("GET /big.bin HTTP/1.1\r\nHost: x\r\n\r\n");
  }
  std::this_thread::sleep_for(2s);
  const long grown = rss_kib(server.pid()) - rss0;
  MESSAGE("server RSS growth for 200 TLS readers that never read: " << grown << " KiB");
  // About 40 KiB each (OpenSSL's state and one record); a blocked 256 KiB batch of
  // ciphertext and a 128 KiB input buffer each made it 75 MiB.
  CHECK(grown < 32 * 1024);
}

TEST_CASE("300 TLS heads trickled in: each holds a record's room of input, not 128 KiB") {
  static const TestPki pki;
  TempDir dir;
  dir.write("page.txt", "still served");
  // MALLOC_PERTURB_ makes glibc fill every allocation, so what the server reserves is
  // resident and RSS counts it (without, untouched pages of a large buffer are free).
  const auto server_owner = tls_server(pki, dir, {"MALLOC_PERTURB_=165"});
  const ServerProcess& server = *server_owner;
  const long rss0 = rss_kib(server.pid());
  std::vector<std::unique_ptr<TlsClient>> slow;
  for (int i = 0; i < 300; ++i) {
    slow.push_back(std::make_unique<TlsClient>(server.port(), pki.ca_cert()));
    slow.back()->send("GET /page.txt HTTP/1.1\r\nHo");
  }
  std::this_thread::sleep_for(1s);
  const long grown = rss_kib(server.pid()) - rss0;
  MESSAGE("server RSS growth for 300 TLS connections in the middle of a head: " << grown << " KiB");
  // About 49 KiB each (OpenSSL's state and a 16 KiB input buffer); with a 128 KiB input
  // buffer from the first read, 165 KiB each (48 MiB).
  CHECK(grown < 24 * 1024);
  TlsClient other(server.port(), pki.ca_cert());
  other.send("GET /page.txt HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  CHECK(other.read_until_close(5s).ends_with("\r\n\r\nstill served"));
}

TEST_CASE("1 000 000 pipelined GETs whose answers are never read: memory bounded, others served") {
  TempDir dir;
  dir.write("4k.bin", random_bytes(4096, 3));
  dir.write("page.txt", "served meanwhile");
  ServerProcess server(dir.path());
  const long rss0 = rss_kib(server.pid());
  RawConnection flood(server.port());
  REQUIRE(::fcntl(flood.fd(), F_SETFL, ::fcntl(flood.fd(), F_GETFL) | O_NONBLOCK) == 0);
  const std::string one = "GET /4k.bin HTTP/1.1\r\nHost: x\r\n\r\n";
  std::string batch;
  for (int i = 0; i < 1000; ++i) batch += one;
  // 1000 batches of 1000, as far as the server takes them within 5 s. Queuing every answer,
  // even as a head and a reference to the cached file, would take hundreds of MB.
  const auto t0 = std::chrono::steady_clock::now();
  std::size_t sent = 0;
  const std::size_t total = batch.size() * 1000;
  while (sent < total && seconds_since(t0) < 5) {
    const std::size_t off = sent % batch.size();
    ssize_t n = ::send(flood.fd(), batch.data() + off, batch.size() - off, MSG_NOSIGNAL);
    if (n > 0) {
      sent += static_cast<std::size_t>(n);
    } else {
      std::this_thread::sleep_for(10ms);
    }
  }
  std::this_thread::sleep_for(500ms);
  const long grew = rss_kib(server.pid()) - rss0;
  MESSAGE((sent / one.size()) << " pipelined requests sent; server RSS +" << grew << " KiB");
  CHECK(grew < 32 * 1024);
  CHECK(timed_get(server.port(), "/page.txt", "served meanwhile") >= 0);
}
