// httpfs and the protocol: error answers, malformed requests, keep-alive, pipelining,
// limits, timeouts and the access log.
#include <doctest/doctest.h>

#include <regex>
#include <thread>

#include "support/http_client.hpp"

using namespace httpfs::test;

namespace {

std::string numbered(int i) {
  return "file number " + std::to_string(i);
}

}  // namespace

TEST_CASE("errors: 404, 405 with Allow, 501, 417, OPTIONS") {
  TempDir root;
  root.write("f.txt", "f");
  ServerProcess server(root.path());
  const int port = server.port();

  Response r = get(port, "/missing.txt");
  CHECK(r.status == 404);
  CHECK(r.header("Content-Type") == "text/html; charset=utf-8");
  CHECK(r.body.find("404 Not Found") != std::string::npos);
  CHECK(r.keep_alive);

  // PATCH is implemented (for resumable uploads), not for files: 405 with Allow. TRACE,
  // SEARCH and QUERY are implemented for nothing: 501 (RFC 9110 9.1), and the connection
  // stays usable.
  r = get(port, "/f.txt", {}, "PATCH");
  CHECK(r.status == 405);
  CHECK(r.header("Allow").find("GET") != std::string::npos);
  CHECK(r.header("Allow").find("HEAD") != std::string::npos);
  for (const char* m : {"TRACE", "SEARCH", "QUERY"}) {
    r = get(port, "/f.txt", {}, m);
    CHECK_MESSAGE(r.status == 501, m);
    CHECK_FALSE(r.has("Allow"));
    CHECK(r.keep_alive);
  }
  CHECK(get(port, "/f.txt", {}, "BREW").status == 501);
  CHECK(get(port, "/f.txt", {"Expect: the-unexpected"}).status == 417);
  r = get(port, "/", {}, "OPTIONS");
  CHECK(r.status == 200);
  CHECK(r.header("Allow").find("GET") != std::string::npos);
  CHECK(r.header("Allow").find("PROPFIND") != std::string::npos);
  CHECK(r.header("DAV") == "1, 2");
  r = request(port, "OPTIONS * HTTP/1.1\r\nHost: h\r\n\r\n");  // the server as a whole
  CHECK(r.status == 200);
  CHECK(r.header("Allow").find("MKCOL") != std::string::npos);

  // CONNECT: refused, and the connection closes (what follows would be tunnel data).
  RawConnection c(port);
  c.send(
      "CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\nGET /f.txt "
      "HTTP/1.1\r\nHost: h\r\n\r\n");
  auto first = c.read_response();
  REQUIRE(first);
  CHECK(first->status == 501);
  CHECK(first->header("Connection") == "close");
  CHECK(c.wait_closed(5s));
  CHECK(c.buffered().empty());  // the GET after it was never answered
}

TEST_CASE("malformed requests get the parser's status, then the connection closes") {
  TempDir root;
  root.write("f.txt", "f");
  ServerProcess server(root.path());
  struct Case {
    std::string raw;
    int status;
  };
  const std::vector<Case> cases = {
      {"GET / HTTP/1.1\r\nHost: h\r\nX: a\r\n  folded\r\n\r\n", 400},
      {"GET / HTTP/1.1\r\nHost : h\r\n\r\n", 400},
      {"GET / HTTP/1.1\nHost: h\n\n", 400},
      {"GET / HTTP/1.1\r\n\r\n", 400},  // no Host
      {"GET / HTTP/1.1\r\nHost: h\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n", 400},
      {"GET / HTTP/2.0\r\nHost: h\r\n\r\n", 505},
      {"GET /" + std::string(9000, 'a') + " HTTP/1.1\r\nHost: h\r\n\r\n", 414},
      {"GET / HTTP/1.1\r\nHost: h\r\nX: " + std::string(9000, 'b') + "\r\n\r\n", 431},
      {"POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", 501},
      {"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03 TLS hello\r\n\r\n", 400},
  };
  for (const Case& k : cases) {
    INFO(k.raw.substr(0, 60));
    RawConnection c(server.port());
    // A valid request after the bad one: it must never be answered.
    c.send(k.raw + "GET /f.txt HTTP/1.1\r\nHost: h\r\n\r\n");
    auto r = c.read_response();
    REQUIRE(r);
    CHECK(r->status == k.status);
    CHECK(r->header("Connection") == "close");
    CHECK(c.wait_closed(5s));
    CHECK(c.buffered().empty());
  }
  // A byte that cannot start a request, after a complete one and with nothing after it: 400
  // and close at once, not a wait for a line end that may never come.
  for (const std::string& tail : {std::string(1, '\0'), std::string("\x01"), std::string("\t")}) {
    RawConnection c(server.port());
    c.send("GET /f.txt HTTP/1.1\r\nHost: h\r\n\r\n" + tail);
    auto ok = c.read_response();
    REQUIRE(ok);
    CHECK(ok->status == 200);
    auto bad = c.read_response(httpfs::http::Method::Get, 5s);
    REQUIRE(bad);
    CHECK(bad->status == 400);
    CHECK(c.wait_closed(5s));
  }
  // A connection that sends nothing and closes gets no answer at all.
  RawConnection silent(server.port());
  silent.shutdown_write();
  CHECK(silent.read_until_close(5s).empty());
}

TEST_CASE("a body no handler takes is read before the answer: broken framing gets 400") {
  TempDir root;
  root.write("f.txt", "f");
  root.write("keep.txt", "keep");
  ServerProcess server(root.path());
  const std::string next = "GET /f.txt HTTP/1.1\r\nHost: h\r\n\r\n";
  SUBCASE("a GET whose chunked body breaks: 400, close, nothing after it answered") {
    RawConnection c(server.port());
    c.send(
        "GET /f.txt HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
        "3\r\nabc\r\nzz\r\n" +
        next);
    auto r = c.read_response();
    REQUIRE(r);
    CHECK(r->status == 400);
    CHECK(r->header("Connection") == "close");
    CHECK(c.wait_closed(5s));
    CHECK(c.buffered().empty());
  }
  SUBCASE("a DELETE whose body breaks deletes nothing") {
    RawConnection c(server.port());
    c.send(
        "DELETE /keep.txt HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
        "5\r\nabcdeXX");
    auto r = c.read_response(httpfs::http::Method::Delete, 5s);
    REQUIRE(r);
    CHECK(r->status == 400);
    CHECK(read_file(root / "keep.txt") == "keep");
  }
  SUBCASE("a sound body is dropped and the connection goes on") {
    RawConnection c(server.port());
    c.send(
        "GET /f.txt HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
        "3\r\nabc\r\n0\r\n\r\n" +
        next);
    for (int i = 0; i < 2; ++i) {
      auto r = c.read_response();
      REQUIRE(r);
      CHECK(r->status == 200);
      CHECK(r->body == "f");
    }
  }
  SUBCASE("the answer waits for the whole body") {
    RawConnection c(server.port());
    c.send("DELETE /keep.txt HTTP/1.1\r\nHost: h\r\nContent-Length: 6\r\n\r\nabc");
    CHECK_FALSE(c.read_response(httpfs::http::Method::Delete, 300ms));
    CHECK(read_file(root / "keep.txt") == "keep");  // nothing done before the body is in
    c.send("def");
    auto r = c.read_response(httpfs::http::Method::Delete, 5s);
    REQUIRE(r);
    CHECK(r->status == 204);
    CHECK_FALSE(file_exists(root / "keep.txt"));
  }
  SUBCASE("a chunked body past the drop limit: 413, close") {
    RawConnection c(server.port());
    const std::string chunk(16 * 1024, 'a');
    std::string body;
    for (int i = 0; i < 5; ++i) body += "4000\r\n" + chunk + "\r\n";
    c.send("GET /f.txt HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n" + body);
    auto r = c.read_response(httpfs::http::Method::Get, 5s);
    REQUIRE(r);
    CHECK(r->status == 413);
    CHECK(r->header("Connection") == "close");
    CHECK(c.wait_closed(5s));
  }
}

TEST_CASE("keep-alive across HTTP/1.0 and 1.1") {
  TempDir root;
  root.write("a", "A");
  ServerProcess server(root.path());
  {
    RawConnection c(server.port());  // 1.1: persistent by default
    for (int i = 0; i < 3; ++i) {
      c.send("GET /a HTTP/1.1\r\nHost: h\r\n\r\n");
      auto r = c.read_response();
      REQUIRE(r);
      CHECK(r->body == "A");
      CHECK_FALSE(r->has("Connection"));
    }
    c.send("GET /a HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n");
    auto r = c.read_response();
    REQUIRE(r);
    CHECK(r->header("Connection") == "close");
    CHECK(c.wait_closed(5s));
  }
  {
    RawConnection c(server.port());  // 1.0 asking for keep-alive
    for (int i = 0; i < 2; ++i) {
      c.send("GET /a HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
      auto r = c.read_response();
      REQUIRE(r);
      CHECK(r->header("Connection") == "keep-alive");
      CHECK(r->body == "A");
    }
  }
  {
    RawConnection c(server.port());  // plain 1.0: one response, then close
    c.send("GET /a HTTP/1.0\r\n\r\n");
    auto r = c.read_response();
    REQUIRE(r);
    CHECK(r->header("Connection") == "close");
    CHECK(c.wait_closed(5s));
  }
  // curl reuses the connection for two URLs.
  RunResult cr =
      curl({"-v", "-o", "/dev/null", "-o", "/dev/null", server.url("/a"), server.url("/a")});
  CHECK(cr.err.find("Re-using existing connection") != std::string::npos);
}

TEST_CASE("pipelined requests are answered in order") {
  TempDir root;
  for (int i = 0; i < 40; ++i) root.write("p" + std::to_string(i), numbered(i));
  root.write("big", random_bytes(300000, 3));
  ServerProcess server(root.path());
  RawConnection c(server.port());
  std::string batch;
  for (int i = 0; i < 40; ++i) {
    batch += "GET /p" + std::to_string(i) + " HTTP/1.1\r\nHost: h\r\n\r\n";
    if (i == 20) batch += "GET /big HTTP/1.1\r\nHost: h\r\n\r\n";  // a large body in the middle
    if (i == 30) batch += "HEAD /p1 HTTP/1.1\r\nHost: h\r\n\r\n";
  }
  c.send(batch);
  for (int i = 0; i < 40; ++i) {
    auto r = c.read_response();
    REQUIRE(r);
    CHECK(r->body == numbered(i));
    if (i == 20) {
      auto big = c.read_response();
      REQUIRE(big);
      CHECK(big->body == read_file(root / "big"));
    }
    if (i == 30) {
      auto head = c.read_response(httpfs::http::Method::Head);
      REQUIRE(head);
      CHECK(head->body.empty());
      CHECK(head->header("Content-Length") == std::to_string(numbered(1).size()));
    }
  }
  // A GET with a small body: the body is read and dropped, the next request answered.
  c.send(
      "GET /p2 HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\nhelloGET /p3 HTTP/1.1\r\nHost: "
      "h\r\n\r\n");
  CHECK(c.read_response()->body == numbered(2));
  CHECK(c.read_response()->body == numbered(3));
  c.send(
      "GET /p4 HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\nGET "
      "/p5 HTTP/1.1\r\nHost: h\r\n\r\n");
  CHECK(c.read_response()->body == numbered(4));
  CHECK(c.read_response()->body == numbered(5));
}

TEST_CASE("limits are options and answer 414 / 431") {
  TempDir root;
  root.write("f", "f");
  ServerProcess server(root.path(), {"--max-headers", "5", "--max-request-line", "100",
                                     "--max-field-line", "60", "--max-head", "300"});
  const int port = server.port();
  CHECK(get(port, "/f", {"A: 1", "B: 2", "C: 3", "D: 4"}).status == 200);  // Host + 4 = 5
  CHECK(get(port, "/f", {"A: 1", "B: 2", "C: 3", "D: 4", "E: 5"}).status == 431);
  CHECK(get(port, "/" + std::string(70, 'a')).status == 404);
  CHECK(get(port, "/" + std::string(90, 'a')).status == 414);
  CHECK(get(port, "/f", {"X: " + std::string(50, 'x')}).status == 200);
  CHECK(get(port, "/f", {"X: " + std::string(60, 'x')}).status == 431);
}

TEST_CASE("the whole head is bounded too") {
  TempDir root;
  root.write("f", "f");
  ServerProcess server(root.path(), {"--max-head", "200", "--max-request-line", "100"});
  // "GET /f HTTP/1.1\r\n" (17) + "Host: 127.0.0.1\r\n" (17) + lines of 60 + "\r\n"
  const std::string line = std::string(55, 'v');
  CHECK(get(server.port(), "/f", {"A: " + line, "B: " + line}).status == 200);                // 156
  CHECK(get(server.port(), "/f", {"A: " + line, "B: " + line, "C: " + line}).status == 431);  // 216
}

TEST_CASE("a head trickled in past the header timeout is cut; others are served meanwhile") {
  TempDir root;
  root.write("f", "fast");
  ServerProcess server(root.path(), {"--header-timeout", "1"});
  RawConnection slow(server.port());
  const std::string head = "GET /f HTTP/1.1\r\nHost: h\r\nX-Slow: yes\r\n\r\n";
  const auto start = std::chrono::steady_clock::now();
  std::size_t sent = 0;
  bool cut = false;
  // One byte every 100 ms: the whole head would take 4 s.
  for (; sent < head.size(); ++sent) {
    if (!slow.send(head.substr(sent, 1))) {
      cut = true;
      break;
    }
    if (sent == 3) {
      // Meanwhile a normal client is answered at once.
      auto t0 = std::chrono::steady_clock::now();
      CHECK(get(server.port(), "/f").body == "fast");
      CHECK(std::chrono::steady_clock::now() - t0 < 2s);
    }
    std::this_thread::sleep_for(100ms);  // a pace, not a wait: the trickle is under test
    if (slow.wait_closed(1ms)) {
      cut = true;
      break;
    }
  }
  const auto elapsed = std::chrono::steady_clock::now() - start;
  CHECK(cut);
  CHECK(sent < head.size());
  CHECK(elapsed >= 900ms);
  CHECK(elapsed < 3s);
  // It was told why, when possible.
  std::string got = slow.buffered();
  if (!got.empty()) CHECK(got.rfind("HTTP/1.1 408", 0) == 0);
}

TEST_CASE("idle keep-alive connections close after the keep-alive timeout") {
  TempDir root;
  root.write("f", "f");
  ServerProcess server(root.path(), {"--keepalive-timeout", "0.5"});
  RawConnection c(server.port());
  c.send("GET /f HTTP/1.1\r\nHost: h\r\n\r\n");
  REQUIRE(c.read_response());
  const auto t0 = std::chrono::steady_clock::now();
  CHECK(c.wait_closed(5s));
  const auto idle = std::chrono::steady_clock::now() - t0;
  CHECK(idle >= 400ms);
  CHECK(idle < 3s);
}

TEST_CASE("one access-log line per request, in Common Log Format") {
  TempDir root;
  root.write("f.txt", "12345");
  ServerProcess server(root.path());
  get(server.port(), "/f.txt");
  get(server.port(), "/nope");
  get(server.port(), "/f.txt", {}, "HEAD");
  request(server.port(), "BAD\"REQUEST\r\n\r\n");
  CHECK(server.stop() == 0);
  const std::string log = server.access_log();
  const std::regex clf(
      R"re(127\.0\.0\.1 - - \[\d\d/[A-Z][a-z]{2}/\d{4}:\d\d:\d\d:\d\d \+0000\] "([^"]*)" (\d{3}) (\d+|-))re");
  auto begin = std::sregex_iterator(log.begin(), log.end(), clf);
  std::vector<std::tuple<std::string, std::string, std::string>> got;
  for (auto it = begin; it != std::sregex_iterator(); ++it)
    got.emplace_back((*it)[1], (*it)[2], (*it)[3]);
  REQUIRE(got.size() == 4);
  CHECK(got[0] ==
        std::make_tuple(std::string("GET /f.txt HTTP/1.1"), std::string("200"), std::string("5")));
  CHECK(std::get<1>(got[1]) == "404");
  CHECK(got[2] ==
        std::make_tuple(std::string("HEAD /f.txt HTTP/1.1"), std::string("200"), std::string("-")));
  CHECK(std::get<0>(got[3]) == "BAD\\x22REQUEST");  // escaped, so it cannot forge a field
  CHECK(std::get<1>(got[3]) == "400");
}
