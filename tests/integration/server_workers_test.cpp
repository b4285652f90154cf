// --workers N: several loop threads behind SO_REUSEPORT listeners, one process.
#include <doctest/doctest.h>
#include <sched.h>
#include <signal.h>
#include <sys/socket.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>
#include <thread>

#include "support/http_client.hpp"
#include "support/process.hpp"
#include "support/wait.hpp"

using namespace httpfs::test;

namespace {

// The worker loop threads of `pid`: thread id -> name ("httpfs-w0", ...).
std::map<std::string, std::string> worker_threads(pid_t pid) {
  std::map<std::string, std::string> out;
  const std::string task = "/proc/" + std::to_string(pid) + "/task";
  for (const auto& entry : std::filesystem::directory_iterator(task)) {
    const std::string tid = entry.path().filename();
    std::ifstream comm(task + "/" + tid + "/comm");
    std::string name;
    std::getline(comm, name);
    if (name.starts_with("httpfs-w")) out[tid] = name;
  }
  return out;
}

// Connections per thread name, from the "[TID] HOST: connected" lines of -v.
std::map<std::string, int> connections_by_worker(const std::string& log,
                                                 const std::map<std::string, std::string>& names) {
  std::map<std::string, int> out;
  const std::regex line(R"(\[(\d+)\] 127\.0\.0\.1: connected)");
  for (auto it = std::sregex_iterator(log.begin(), log.end(), line); it != std::sregex_iterator();
       ++it) {
    auto name = names.find((*it)[1].str());
    ++out[name == names.end() ? "another thread" : name->second];
  }
  return out;
}

std::string put_request(const std::string& path, const std::string& body,
                        const std::string& extra = {}) {
  return "PUT " + path + " HTTP/1.1\r\nHost: t\r\nContent-Length: " + std::to_string(body.size()) +
         "\r\n" + extra + "Connection: close\r\n\r\n" + body;
}

// Runs fn(i) for i in [0, n) on n threads started together.
template <typename Fn>
void race(int n, Fn fn) {
  std::atomic<int> ready{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < n; ++i)
    threads.emplace_back([&, i] {
      ++ready;
      while (ready.load() < n) std::this_thread::yield();
      fn(i);
    });
  for (auto& t : threads) t.join();
}

// Connections of the test to the server's port that the server has closed (EOF pending).
bool closed_by_peer(int fd) {
  char c;
  const ssize_t n = ::recv(fd, &c, 1, MSG_PEEK | MSG_DONTWAIT);
  return n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK);
}

}  // namespace

TEST_CASE("--workers 2: two loop threads, both serving, one coherent access log") {
  TempDir root;
  root.write("a.txt", "hello");
  ServerProcess server(root.path(), {"--workers", "2", "-v"});
  CHECK(server.process().out().find("(2 workers)") != std::string::npos);
  // The loops' threads start as the URL is printed.
  std::map<std::string, std::string> threads;
  wait_until([&] { return (threads = worker_threads(server.pid())).size() == 2; },
             "two worker threads");

  // 400 connections with long targets, from 8 threads: the kernel spreads them over both
  // listeners by a hash of their addresses (all on one: odds of 2^-399).
  const std::string long_query = "?" + std::string(3000, 'q');
  std::atomic<int> ok{0};
  race(8, [&](int) {
    for (int i = 0; i < 50; ++i)
      if (get(server.port(), "/a.txt" + long_query).body == "hello") ++ok;
  });
  CHECK(ok.load() == 400);
  const auto served = connections_by_worker(server.process().err(), threads);
  CHECK(served.size() == 2);
  CHECK(served.count("another thread") == 0);
  for (const auto& [name, n] : served) CHECK_MESSAGE(n >= 20, name << " took " << n);

  // Every request is one whole line: a line cut by another loop's write would not match.
  CHECK(server.stop() == 0);
  std::istringstream log(server.access_log());
  const std::regex clf(R"(127\.0\.0\.1 - - \[[^\]]+\] "GET /a\.txt\?q{3000} HTTP/1\.1" 200 5)");
  int lines = 0, whole = 0;
  for (std::string line; std::getline(log, line); ++lines) whole += std::regex_match(line, clf);
  CHECK(lines == 400);
  CHECK(whole == 400);
}

TEST_CASE("--workers 2: SIGTERM drains every loop, a download in flight completes, exit 0") {
  TempDir root;
  const std::string big(32 << 20, 'b');
  root.write("big.bin", big);
  ServerProcess server(root.path(), {"--workers", "2"});
  // Several slow readers, so that both loops very likely have one.
  std::vector<std::unique_ptr<RawConnection>> readers;
  for (int i = 0; i < 6; ++i) {
    readers.push_back(std::make_unique<RawConnection>(server.port()));
    REQUIRE(readers.back()->send("GET /big.bin HTTP/1.1\r\nHost: t\r\n\r\n"));
  }
  wait_until([&] { return readers.back()->unread() > 0; }, "the last download has started");
  server.process().signal(SIGTERM);
  // New connections are refused once the loops drain...
  wait_until(
      [&] {
        try {
          RawConnection probe(server.port());
          return false;
        } catch (const std::exception&) {
          return true;  // refused
        }
      },
      "the listeners are closed");
  // ...while the responses already started run to their end.
  for (auto& r : readers) {
    auto resp = r->read_response(httpfs::http::Method::Get, 30s);
    REQUIRE(resp.has_value());
    CHECK(resp->body.size() == big.size());
  }
  CHECK(server.process().wait(15s) == 0);
  CHECK(server.process().err().find("SIGTERM: shutting down") != std::string::npos);
}

TEST_CASE("--workers 2 --max-connections 4: the limit is the process's, split across loops") {
  TempDir root;
  root.write("a.txt", "hello");
  ServerProcess server(root.path(), {"--workers", "2", "--max-connections", "4"});
  std::vector<std::unique_ptr<RawConnection>> conns;
  for (int i = 0; i < 16; ++i) {
    conns.push_back(std::make_unique<RawConnection>(server.port()));
    REQUIRE(conns.back()->send("GET /a.txt HTTP/1.1\r\nHost: t\r\n\r\n"));
    auto resp = conns.back()->read_response();
    REQUIRE(resp.has_value());
    CHECK(resp->status == 200);
  }
  // Each new connection past a loop's share closed that loop's oldest idle one.
  std::size_t open = 0;
  wait_until(
      [&] {
        open = 0;
        for (auto& c : conns) open += !closed_by_peer(c->fd());
        return open <= 4;
      },
      "at most 4 connections stay open");
  CHECK(open >= 2);  // each loop keeps its newest
  CHECK(!closed_by_peer(conns.back()->fd()));
}

TEST_CASE("--workers 2: create-only and If-Match uploads raced over both loops") {
  TempDir root;
  ServerProcess server(root.path(), {"--workers", "2"});
  for (int round = 0; round < 10; ++round) {
    const std::string path = "/new-" + std::to_string(round);
    std::vector<int> status(8);
    race(8, [&](int i) {
      status[i] = request(server.port(),
                          put_request(path, "writer " + std::to_string(i), "If-None-Match: *\r\n"))
                      .status;
    });
    CHECK(std::count(status.begin(), status.end(), 201) == 1);
    CHECK(std::count(status.begin(), status.end(), 412) == 7);
    const int winner =
        static_cast<int>(std::find(status.begin(), status.end(), 201) - status.begin());
    CHECK(read_file(root / path.substr(1)) == "writer " + std::to_string(winner));

    const std::string etag = get(server.port(), path).header("ETag");
    race(8, [&](int i) {
      status[i] = request(server.port(), put_request(path, "update " + std::to_string(i),
                                                     "If-Match: " + etag + "\r\n"))
                      .status;
    });
    CHECK(std::count(status.begin(), status.end(), 204) == 1);
    CHECK(std::count(status.begin(), status.end(), 412) == 7);
    const int updater =
        static_cast<int>(std::find(status.begin(), status.end(), 204) - status.begin());
    CHECK(read_file(root / path.substr(1)) == "update " + std::to_string(updater));
  }
}

TEST_CASE("--workers auto: one loop per CPU this process may use") {
  cpu_set_t cpus;
  CPU_ZERO(&cpus);
  REQUIRE(::sched_getaffinity(0, sizeof cpus, &cpus) == 0);
  const int n = CPU_COUNT(&cpus);
  TempDir root;
  ServerProcess server(root.path(), {"--workers", "auto"});
  if (n > 1)
    CHECK(server.process().out().find("(" + std::to_string(n) + " workers)") != std::string::npos);
  else
    CHECK(server.process().out().find("workers") == std::string::npos);
  const std::size_t expected = n > 1 ? static_cast<std::size_t>(n) : 0u;
  if (expected > 0)
    wait_until([&] { return worker_threads(server.pid()).size() == expected; },
               "a worker thread per CPU");
  CHECK(worker_threads(server.pid()).size() == expected);
}
