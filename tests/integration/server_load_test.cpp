// httpfs under load: thousands of concurrent connections, and a clean shutdown while busy.
#include <doctest/doctest.h>
#include <signal.h>

#include <algorithm>

#include "support/http_client.hpp"
#include "support/wait.hpp"

using namespace httpfs::test;

TEST_CASE("2000 concurrent connections each fetch a file") {
  TempDir root;
  const std::string body = random_bytes(10000, 11);
  root.write("f.bin", body);
  root.write("big.bin", random_bytes(300000, 12));
  ServerProcess server(root.path(), {"--access-log", "off"});
  const auto replies = concurrent_requests(
      server.port(), 2000, "GET /f.bin HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n");
  int ok = 0;
  for (const std::string& raw : replies) {
    auto r = parse_response(raw);
    if (r && r->status == 200 && r->body == body) ++ok;
  }
  CHECK(ok == 2000);
  // Larger bodies (sendfile) to many at once.
  const std::string big = read_file(root / "big.bin");
  const auto big_replies = concurrent_requests(
      server.port(), 300, "GET /big.bin HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n");
  ok = 0;
  for (const std::string& raw : big_replies) {
    auto r = parse_response(raw);
    if (r && r->status == 200 && r->body == big) ++ok;
  }
  CHECK(ok == 300);
  CHECK(server.stop() == 0);
}

TEST_CASE("SIGTERM under load: accepting stops, responses in flight complete, exit 0") {
  TempDir root;
  const std::string big = random_bytes(8 << 20, 5);
  root.write("big.bin", big);
  root.write("small", "s");
  ServerProcess server(root.path(), {"--shutdown-grace", "10"});
  // Twenty downloads that read slowly at first, and idle keep-alive connections.
  std::vector<std::unique_ptr<RawConnection>> downloads, idle;
  for (int i = 0; i < 20; ++i) {
    downloads.push_back(std::make_unique<RawConnection>(server.port()));
    downloads.back()->send("GET /big.bin HTTP/1.1\r\nHost: h\r\n\r\n");
  }
  for (int i = 0; i < 10; ++i) {
    idle.push_back(std::make_unique<RawConnection>(server.port()));
    idle.back()->send("GET /small HTTP/1.1\r\nHost: h\r\n\r\n");
    REQUIRE(idle.back()->read_response());
  }
  // The signal must find every download under way: each has begun to arrive.
  wait_until(
      [&] {
        return std::all_of(downloads.begin(), downloads.end(),
                           [](const auto& c) { return c->unread() > 0; });
      },
      "every download has begun to arrive");
  server.process().signal(SIGTERM);
  wait_for_output(server.process(), Stream::Err, "SIGTERM: shutting down");
  // Idle connections are closed at once; new ones are refused.
  for (auto& c : idle) CHECK(c->wait_closed(3s));
  CHECK_THROWS(RawConnection(server.port()));
  // The downloads in flight complete, whole.
  for (auto& c : downloads) {
    auto r = c->read_response(httpfs::http::Method::Get, 30s);
    REQUIRE(r);
    CHECK(r->status == 200);
    CHECK(r->body.size() == big.size());
    CHECK(r->body == big);
  }
  auto status = server.process().wait(15s);
  REQUIRE(status);
  CHECK(*status == 0);
}

TEST_CASE("the grace period bounds a shutdown that a stuck client would block") {
  TempDir root;
  root.write("big.bin", random_bytes(16 << 20, 6));
  ServerProcess server(root.path(), {"--shutdown-grace", "1"});
  RawConnection stuck(server.port());
  stuck.send("GET /big.bin HTTP/1.1\r\nHost: h\r\n\r\n");  // and never reads
  // The server is writing a response too large for the socket buffers when the signal comes.
  wait_until([&] { return stuck.unread() > 0; }, "the response has begun to arrive");
  const auto t0 = std::chrono::steady_clock::now();
  server.process().signal(SIGTERM);
  auto status = server.process().wait(10s);
  REQUIRE(status);
  CHECK(*status == 0);
  CHECK(std::chrono::steady_clock::now() - t0 < 4s);
}
