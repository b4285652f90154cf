// httpc with several URLs in one run: each URL paired with its -o or -O as curl pairs them,
// keep-alive connections reused per origin (and a request sent again when the reused
// connection turns out closed), -Z with --parallel-max, cookies shared by the run, and one
// exit code with a summary line per failure.
#include <doctest/doctest.h>

#include <csignal>
#include <filesystem>
#include <set>
#include <string>
#include <vector>

#include "support/http_client.hpp"
#include "support/node.hpp"
#include "support/process.hpp"
#include "support/scripted_server.hpp"
#include "support/wait.hpp"

using namespace httpfs::test;
using namespace std::chrono_literals;

namespace {

RunResult httpc(std::vector<std::string> args) {
  args.insert(args.begin(), binary("httpc"));
  return run(std::move(args), 60s);
}

std::string keep_alive(std::string_view body) {
  return "HTTP/1.1 200 OK\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" +
         std::string(body);
}

std::size_t count(const std::string& text, std::string_view needle) {
  std::size_t n = 0;
  for (std::size_t at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1))
    ++n;
  return n;
}

// tests/integration/httpc/barrier_server.py: how many requests were in flight at once.
class BarrierServer {
 public:
  BarrierServer(int hold, int total, double patience)
      : proc_({"/usr/bin/python3", (source_dir(__FILE__) / "httpc" / "barrier_server.py").string(),
               std::to_string(hold), std::to_string(total), std::to_string(patience)}) {
    const std::string out = wait_for_output(proc_, Stream::Out, "\n");
    port_ = std::stoi(out);
  }
  std::string url(const std::string& path) const {
    return "http://127.0.0.1:" + std::to_string(port_) + path;
  }
  // Stops the server: the most requests it saw in flight at once.
  int most_in_flight() {
    proc_.signal(SIGTERM);
    REQUIRE(proc_.wait(10s).has_value());
    const std::string out = proc_.out();
    return std::stoi(out.substr(out.rfind('\n', out.size() - 2) + 1));
  }

 private:
  Process proc_;
  int port_ = 0;
};

}  // namespace

TEST_CASE("several URLs: each -o and -O pairs with its URL as curl pairs them") {
  TempDir root, mine, theirs;
  for (int i = 1; i <= 4; ++i) root.write("f" + std::to_string(i), random_bytes(50000 * i, i));
  ServerProcess server(root.path());
  auto args = [&](const std::string& dir) {
    return std::vector<std::string>{"--output-dir",    dir,  "-O",
                                    server.url("/f1"), "-o", "second",
                                    server.url("/f2"), "-O", server.url("/f3"),
                                    server.url("/f4")};
  };
  const RunResult a = httpc(args(mine.path()));
  std::vector<std::string> k = args(theirs.path());
  const RunResult b = curl(k);
  REQUIRE(a.status == 0);
  REQUIRE(b.status == 0);
  for (const char* name : {"f1", "second", "f3"}) {
    CAPTURE(name);
    CHECK(read_file(mine / name) == read_file(theirs / name));
  }
  CHECK(read_file(mine / "f1") == read_file(root / "f1"));
  CHECK(read_file(mine / "second") == read_file(root / "f2"));
  CHECK(!std::filesystem::exists(mine / "f4"));  // the fourth has no output: stdout
  CHECK(a.out == b.out);
  CHECK(a.out == read_file(root / "f4"));
  // --remote-name-all: -O for every URL.
  TempDir all;
  REQUIRE(
      httpc({"--output-dir", all.path(), "--remote-name-all", server.url("/f1"), server.url("/f2")})
          .status == 0);
  CHECK(read_file(all / "f2") == read_file(root / "f2"));
  // More outputs than URLs is a usage error, as are bodies that can be read once only.
  CHECK(httpc({"-o", "a", "-o", "b", server.url("/f1")}).status == 2);
  CHECK(httpc({"-T", root / "f1", server.url("/a"), server.url("/b")}).status == 2);
  CHECK(httpc({"-d", "@-", server.url("/a"), server.url("/b")}).status == 2);
  CHECK(httpc({"-Z", server.url("/f1"), server.url("/f2")}).status == 2);  // both to stdout
}

TEST_CASE("several URLs to one origin share one keep-alive connection") {
  ScriptedServer s([](const ReceivedRequest& req, int) {
    if (req.target == "/close")
      return ScriptedReply::bytes(
          "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nConnection: close\r\n\r\nclose");
    return ScriptedReply::bytes(keep_alive(req.target), /*close_after=*/false);
  });
  RunResult r = httpc({s.url("/a"), s.url("/b"), s.url("/close"), s.url("/c")});
  REQUIRE(r.status == 0);
  CHECK(r.out == "/a/bclose/c");
  std::vector<ReceivedRequest> reqs = s.requests();
  REQUIRE(reqs.size() == 4);
  // /a, /b and /close on the first connection; the server closed it, so /c opened a second.
  CHECK(reqs[0].connection == 0);
  CHECK(reqs[1].connection == 0);
  CHECK(reqs[2].connection == 0);
  CHECK(reqs[3].connection == 1);
  // POSTs never take a reused connection (they could not be sent again): one each.
  r = httpc({"-d", "x=1", s.url("/p"), s.url("/q")});
  REQUIRE(r.status == 0);
  CHECK(r.out == "/p/q");
  reqs = s.requests();
  REQUIRE(reqs.size() == 6);
  CHECK(reqs[4].connection == 2);
  CHECK(reqs[5].connection == 3);
  CHECK(reqs[5].body == "x=1");
  // One URL per run: a connection of its own each time.
  REQUIRE(httpc({s.url("/d")}).status == 0);
  REQUIRE(httpc({s.url("/e")}).status == 0);
  CHECK(s.connections() == 6);
}

TEST_CASE("a reused connection the server closed: the request goes again on a new one") {
  // The second request arrives on a connection the server then closes without answering (as
  // a keep-alive timeout can, the moment it arrives): httpc sends it again on a new one.
  ScriptedServer s([](const ReceivedRequest& req, int index) {
    if (index == 1) {
      ScriptedReply silent;  // no answer, then close
      silent.close = true;
      return silent;
    }
    return ScriptedReply::bytes(keep_alive(req.target), false);
  });
  RunResult r = httpc({s.url("/a"), s.url("/b")});
  INFO(r.err);
  REQUIRE(r.status == 0);
  CHECK(r.out == "/a/b");
  std::vector<ReceivedRequest> reqs = s.requests();
  REQUIRE(reqs.size() == 3);
  CHECK(reqs[1].target == "/b");
  CHECK(reqs[1].connection == 0);
  CHECK(reqs[2].target == "/b");
  CHECK(reqs[2].connection == 1);
  // A POST is never sent twice: it goes on a new connection, and a close without an answer
  // there is a failure (RFC 9112 9.3.1.1).
  ScriptedServer p([](const ReceivedRequest& req, int index) {
    if (index == 1) {
      ScriptedReply silent;
      silent.close = true;
      return silent;
    }
    return ScriptedReply::bytes(keep_alive(req.target + ":" + req.body), false);
  });
  r = httpc({"-d", "k=v", p.url("/a"), p.url("/b")});
  CHECK(r.status == 8);
  CHECK(r.out == "/a:k=v");
  reqs = p.requests();
  REQUIRE(reqs.size() == 2);
  CHECK(reqs[1].connection == 1);
  // A connection that fails again when new is a failure like any other (not a loop).
  ScriptedServer never([](const ReceivedRequest& req, int index) {
    if (index == 0) return ScriptedReply::bytes(keep_alive(req.target), false);
    ScriptedReply silent;
    silent.close = true;
    return silent;
  });
  r = httpc({never.url("/a"), never.url("/b")});
  CHECK(r.status == 8);
  CHECK(never.requests().size() == 3);
}

TEST_CASE("-Z runs the URLs at once, --parallel-max at a time, each file whole") {
  constexpr int kUrls = 7;
  TempDir out;
  auto urls = [&](BarrierServer& b) {
    std::vector<std::string> v = {"--output-dir", out.path(), "--remote-name-all"};
    for (int i = 0; i < kUrls; ++i) v.push_back(b.url("/u" + std::to_string(i)));
    return v;
  };
  {
    BarrierServer b(3, kUrls, 10);
    std::vector<std::string> args = urls(b);
    args.insert(args.begin(), {"-Z", "--parallel-max", "3"});
    const RunResult r = httpc(args);
    INFO(r.err);
    REQUIRE(r.status == 0);
    CHECK(b.most_in_flight() == 3);
    for (int i = 0; i < kUrls; ++i)
      CHECK(read_file(out / ("u" + std::to_string(i))) == "/u" + std::to_string(i));
  }
  {
    // Without -Z one at a time: each request waits for a second one that never comes.
    BarrierServer b(2, kUrls, 0.1);
    const RunResult r = httpc(urls(b));
    REQUIRE(r.status == 0);
    CHECK(b.most_in_flight() == 1);
  }
  CHECK(httpc({"-Z", "--parallel-max", "0", "http://127.0.0.1:1/"}).status == 2);
  CHECK(httpc({"-Z", "--parallel-max", "301", "http://127.0.0.1:1/"}).status == 2);
}

TEST_CASE("failures: the run's code is the first failure's, each summarized at the end") {
  TempDir root, out;
  root.write("ok", "fine");
  ServerProcess server(root.path());
  const std::vector<std::string> urls = {server.url("/ok"), server.url("/missing"),
                                         "http://127.0.0.1:1/refused", server.url("/ok")};
  for (const bool parallel : {false, true}) {
    CAPTURE(parallel);
    std::vector<std::string> args = {"--output-dir", out.path(), "-o",    "a",    urls[0],
                                     "-o",           "b",        urls[1], "-o",   "c",
                                     urls[2],        "-o",       "d",     urls[3]};
    if (parallel) args.insert(args.begin(), "-Z");
    const RunResult r = httpc(args);
    CHECK(r.status == 6);  // the 404 comes before the refused connection (4)
    CHECK(count(r.err, "httpc: failed (exit ") == 2);
    CHECK(r.err.find("failed (exit 6): GET " + urls[1]) != std::string::npos);
    CHECK(r.err.find("failed (exit 4): " + urls[2]) != std::string::npos);
    CHECK(r.err.find("2 of 4 transfers failed") != std::string::npos);
    CHECK(read_file(out / "a") == "fine");
    CHECK(read_file(out / "d") == "fine");
    CHECK(!std::filesystem::exists(out / "b"));
    std::filesystem::remove(out / "a");
    std::filesystem::remove(out / "d");
  }
}

TEST_CASE("cookies set by one URL are sent to the next, as curl's run sends them") {
  ScriptedServer s([](const ReceivedRequest& req, int) {
    if (req.target == "/login")
      return ScriptedReply::bytes(
          "HTTP/1.1 200 OK\r\nSet-Cookie: session=abc; Path=/\r\nContent-Length: 3\r\n\r\nin\n",
          false);
    return ScriptedReply::bytes(keep_alive("cookie: " + req.header("Cookie") + "\n"), false);
  });
  TempDir dir;
  const RunResult mine =
      httpc({"-b", dir / "none", "-c", dir / "jar", s.url("/login"), s.url("/page")});
  const RunResult theirs = curl({"-b", dir / "none", s.url("/login"), s.url("/page")});
  REQUIRE(mine.status == 0);
  CHECK(mine.out == "in\ncookie: session=abc\n");
  CHECK(mine.out == theirs.out);
  CHECK(read_file(dir / "jar").find("session\tabc") != std::string::npos);
  // -D FILE holds every head of the run.
  REQUIRE(httpc({"-D", dir / "heads", s.url("/login"), s.url("/page")}).status == 0);
  CHECK(count(read_file(dir / "heads"), "HTTP/1.1 200 OK\r\n") == 2);
}
