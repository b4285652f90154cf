// The httpfs command line: help, errors with exit code 2, the URL line, address families.
#include <doctest/doctest.h>
#include <signal.h>

#include <algorithm>
#include <regex>

#include "support/http_client.hpp"
#include "support/wait.hpp"

using namespace httpfs::test;

TEST_CASE("--help documents every option with its default") {
  RunResult r = run({binary("httpfs"), "--help"});
  CHECK(r.status == 0);
  for (const char* opt : {"--port",
                          "--bind",
                          "--dir",
                          "--verbose",
                          "--access-log",
                          "--show-hidden",
                          "--no-listing",
                          "--follow-symlinks",
                          "--cache-size",
                          "--cache-file-max",
                          "--max-request-line",
                          "--max-field-line",
                          "--max-head",
                          "--max-headers",
                          "--max-ranges",
                          "--max-connections",
                          "--max-pipelined",
                          "--max-listing",
                          "--header-timeout",
                          "--keepalive-timeout",
                          "--body-timeout",
                          "--send-timeout",
                          "--linger-timeout",
                          "--shutdown-grace",
                          "--help",
                          "--version"})
    CHECK_MESSAGE(r.out.find(opt) != std::string::npos, opt);
  CHECK(r.out.find("(default 8080)") != std::string::npos);
  CHECK(r.out.find("(default 32768)") != std::string::npos);
  CHECK(run({binary("httpfs"), "--version"}).out.rfind("httpfs ", 0) == 0);
}

TEST_CASE("bad command lines get one clear line and exit code 2") {
  TempDir root;
  struct Case {
    std::vector<std::string> args;
    std::string says;
  };
  const std::vector<Case> cases = {
      {{"--bogus"}, "unknown option --bogus"},
      {{"-z"}, "unknown option -z"},
      {{"-p"}, "--port needs a value"},
      {{"-p", "99999"}, "--port: expected a whole number up to 65535"},
      {{"-p", "12ab"}, "--port: expected"},
      {{"--header-timeout", "-1"}, "--header-timeout: expected a positive number"},
      {{"--max-headers=lots"}, "--max-headers: expected"},
      {{"--show-hidden=yes"}, "--show-hidden takes no value"},
      {{"1", "2"}, "unexpected argument '2'"},
      {{"-d", root / "does-not-exist", "-p", "0"}, "cannot serve"},
      {{"-d", root.path(), "-p", "0", "-b", "not-an-ip"}, "not a numeric IPv4 or IPv6 address"},
  };
  for (const Case& k : cases) {
    std::vector<std::string> argv = {binary("httpfs")};
    argv.insert(argv.end(), k.args.begin(), k.args.end());
    RunResult r = run(argv, 10s);
    INFO(k.says);
    CHECK(r.status == 2);
    CHECK(r.err.find(k.says) != std::string::npos);
    CHECK(std::count(r.err.begin(), r.err.end(), '\n') <= 2);
  }
  // A file is not a directory to serve.
  root.write("file", "x");
  RunResult r = run({binary("httpfs"), "-d", root / "file", "-p", "0"}, 10s);
  CHECK(r.status == 2);
  CHECK(r.err.find("Not a directory") != std::string::npos);
}

TEST_CASE("a port in use is a clear error") {
  TempDir root;
  ServerProcess first(root.path());
  RunResult r = run(
      {binary("httpfs"), "-b", "127.0.0.1", "-p", std::to_string(first.port()), "-d", root.path()},
      10s);
  CHECK(r.status == 2);
  CHECK(r.err.find("Address already in use") != std::string::npos);
}

TEST_CASE("httpfs PORT serves the current directory") {
  TempDir root;
  root.write("here.txt", "cwd");
  // Find a free port by asking the kernel, then give it positionally.
  int port;
  {
    ServerProcess probe(root.path());
    port = probe.port();
  }
  Process p({"/bin/sh", "-c",
             "cd '" + root.path() + "' && exec " + binary("httpfs") + " " + std::to_string(port) +
                 " -b 127.0.0.1"});
  const std::string out = wait_for_output(p, Stream::Out, "\n");  // the whole URL line
  CHECK(out.find("http://127.0.0.1:" + std::to_string(port) + "/") != std::string::npos);
  CHECK(get(port, "/here.txt").body == "cwd");
  p.signal(SIGTERM);
  CHECK(p.wait(10s) == 0);
}

TEST_CASE("every bound address is printed, on one port, and serves") {
  TempDir root;
  root.write("f", "both");
  Process p({binary("httpfs"), "-p", "0", "-b", "127.0.0.1", "-b", "::1", "-d", root.path(),
             "--access-log", "off"});
  const std::string out = wait_for_output(p, Stream::Out, "\n");  // the whole URL line
  std::smatch m;
  REQUIRE(
      std::regex_search(out, m, std::regex(R"(http://127\.0\.0\.1:(\d+)/ http://\[::1\]:(\d+)/)")));
  CHECK(m[1] == m[2]);
  const int port = std::stoi(m[1]);
  CHECK(get(port, "/f").body == "both");
  RawConnection v6(port, "::1");
  v6.send("GET /f HTTP/1.1\r\nHost: [::1]\r\n\r\n");
  auto r = v6.read_response();
  REQUIRE(r);
  CHECK(r->body == "both");
  p.signal(SIGINT);
  CHECK(p.wait(10s) == 0);
}

TEST_CASE("without -b the server is dual stack") {
  TempDir root;
  root.write("f", "dual");
  int port;
  {
    ServerProcess probe(root.path());
    port = probe.port();
  }
  Process p(
      {binary("httpfs"), "-p", std::to_string(port), "-d", root.path(), "--access-log", "off"});
  const std::string out = wait_for_output(p, Stream::Out, "\n");  // the whole URL line
  CHECK(out.find(":" + std::to_string(port) + "/") != std::string::npos);
  CHECK(get(port, "/f").body == "dual");  // IPv4
  RawConnection v6(port, "::1");          // IPv6
  v6.send("GET /f HTTP/1.1\r\nHost: x\r\n\r\n");
  auto r = v6.read_response();
  REQUIRE(r);
  CHECK(r->body == "dual");
  p.signal(SIGTERM);
  CHECK(p.wait(10s) == 0);
}
