// HTTP/2 against the real server, judged from outside: curl (--http2-prior-knowledge on plain
// TCP, --http2 over TLS by ALPN), nghttp, h2load, and frame-level probes written with
// python3-h2's frame codec (tests/integration/h2/probes.py) for the floods and broken frames
// a hostile client sends. Every byte served is compared with the file on disk; every probe
// must end in the GOAWAY (or RST_STREAM) RFC 9113 names, while other clients go on being
// served and the server's memory stays flat.
#include <doctest/doctest.h>
#include <signal.h>
#include <sys/xattr.h>

#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>

#include "support/http_client.hpp"
#include "support/node.hpp"
#include "support/process.hpp"
#include "support/test_pki.hpp"
#include "support/wait.hpp"

using namespace httpfs::test;
using namespace std::chrono_literals;

namespace {

const TestPki& pki() {
  static const TestPki p;
  return p;
}

std::vector<std::string> tls_args() {
  return {"--tls-cert", pki().cert("server"), "--tls-key", pki().key("server")};
}

bool contains(std::string_view hay, std::string_view needle) {
  return hay.find(needle) != std::string_view::npos;
}

// curl over HTTP/2: by prior knowledge on plain TCP, by ALPN over TLS (verified against the
// test CA). `-w` appends the status and the protocol version on a last line.
RunResult curl2(const ServerProcess& server, std::string_view path,
                std::vector<std::string> args = {}) {
  const std::string url = server.url(path);
  if (url.starts_with("https"))
    args.insert(args.begin(), {"--http2", "--cacert", pki().ca_cert()});
  else
    args.insert(args.begin(), "--http2-prior-knowledge");
  args.insert(args.end(), {"-w", "\n%{http_code} %{http_version}", url});
  return curl(std::move(args));
}

// The status and version line curl2() appended, and the body before it.
std::string tail_line(const RunResult& r) {
  return r.out.substr(r.out.rfind('\n') + 1);
}
std::string body_of(const RunResult& r) {
  return r.out.substr(0, r.out.rfind('\n'));
}

const std::string& tool(const char* name) {
  static std::map<std::string, std::string> found;
  auto [it, fresh] = found.try_emplace(name);
  if (fresh) {
    const RunResult r = run({"/bin/sh", "-c", std::string("command -v ") + name});
    it->second = r.status == 0 ? r.out.substr(0, r.out.find('\n')) : "";
  }
  return it->second;
}

// Debian's python3 with python3-h2 (a python3 earlier on PATH may lack it).
constexpr const char* kPython = "/usr/bin/python3";

nlohmann::json probe(const ServerProcess& server, const std::string& name,
                     std::vector<std::string> extra = {}) {
  const std::string script = (source_dir(__FILE__) / "h2" / "probes.py").string();
  std::vector<std::string> argv = {kPython, script, "127.0.0.1", std::to_string(server.port()),
                                   name};
  argv.insert(argv.end(), extra.begin(), extra.end());
  const RunResult r = run(argv, 60s);
  INFO(name << ": " << r.err);
  REQUIRE(r.status == 0);
  return nlohmann::json::parse(r.out);
}

}  // namespace

TEST_CASE("curl over h2c and h2: files, ranges, conditionals and listings equal the disk") {
  TempDir root;
  const std::string small = "hello over HTTP/2\n";
  const std::string large = random_bytes(3 << 20, 7);  // past the cache: sendfile DATA frames
  std::string text;
  while (text.size() < 200000) text += "function value(x) { return x + 1; }\n";
  root.write("small.txt", small);
  root.write("large.bin", large);
  root.write("app.js", text);
  root.write("dir/inner.txt", "inner");
  for (bool tls : {false, true}) {
    CAPTURE(tls);
    ServerProcess server(root.path(), tls ? tls_args() : std::vector<std::string>{});
    RunResult r = curl2(server, "/small.txt");
    CHECK(tail_line(r) == "200 2");
    CHECK(body_of(r) == small);
    r = curl2(server, "/large.bin");
    CHECK(tail_line(r) == "200 2");
    CHECK(body_of(r) == large);
    r = curl2(server, "/large.bin", {"-r", "1000000-1999999"});
    CHECK(tail_line(r) == "206 2");
    CHECK(body_of(r) == large.substr(1000000, 1000000));
    r = curl2(server, "/large.bin", {"-I"});
    CHECK(contains(r.out, "HTTP/2 200"));
    CHECK(contains(r.out, "content-length: 3145728"));
    CHECK(contains(r.out, "accept-ranges: bytes"));
    CHECK_FALSE(contains(r.out, "connection:"));  // RFC 9113 8.2.2
    const std::string etag = [&] {
      const std::size_t at = r.out.find("etag: ");
      REQUIRE(at != std::string::npos);
      return r.out.substr(at + 6, r.out.find('\r', at) - at - 6);
    }();
    r = curl2(server, "/large.bin", {"-H", "If-None-Match: " + etag});
    CHECK(tail_line(r) == "304 2");
    CHECK(body_of(r).empty());
    r = curl2(server, "/missing");
    CHECK(tail_line(r) == "404 2");
    r = curl2(server, "/dir/", {"-H", "Accept: application/json"});
    CHECK(tail_line(r) == "200 2");
    CHECK(contains(body_of(r), "\"inner.txt\""));
    // Compressed on the fly, decoded by curl.
    r = curl2(server, "/app.js", {"--compressed", "-D", "-"});
    CHECK(contains(r.out, "content-encoding: "));
    CHECK(r.out.substr(r.out.find("\r\n\r\n") + 4, text.size()) == text);
    CHECK(server.stop() == 0);
    CHECK(contains(server.access_log(), "\"GET /small.txt HTTP/2.0\" 200 18"));
    CHECK(contains(server.access_log(), "\"GET /large.bin HTTP/2.0\" 206 1000000"));
  }
}

TEST_CASE("uploads through curl over h2 commit atomically; refused ones keep the old file") {
  TempDir root;
  TempDir src;
  const std::string body = random_bytes(5 << 20, 3);
  src.write("up.bin", body);
  root.write("old.bin", "old content");
  for (bool tls : {false, true}) {
    CAPTURE(tls);
    ServerProcess server(root.path(),
                         tls ? tls_args() : std::vector<std::string>{"--max-body", "6M"});
    RunResult r = curl2(server, "/new.bin", {"-T", src / "up.bin"});
    CHECK(tail_line(r) == "201 2");
    CHECK(read_file(root / "new.bin") == body);
    // Create-only: the second one is refused before its body.
    r = curl2(server, "/once.bin", {"-T", src / "up.bin", "-H", "If-None-Match: *"});
    CHECK(tail_line(r) == "201 2");
    r = curl2(server, "/once.bin", {"-T", src / "up.bin", "-H", "If-None-Match: *"});
    CHECK(tail_line(r) == "412 2");
    // Expect: 100-continue, as curl sends it for a large body.
    r = curl2(server, "/cont.bin", {"-T", src / "up.bin", "-H", "Expect: 100-continue"});
    CHECK(tail_line(r) == "201 2");
    CHECK(read_file(root / "cont.bin") == body);
    std::remove((root / "new.bin").c_str());
    std::remove((root / "once.bin").c_str());
    std::remove((root / "cont.bin").c_str());
    CHECK(server.stop() == 0);
    CHECK(contains(server.access_log(), "\"PUT /new.bin HTTP/2.0\" 201"));
  }
  // Too large (--max-body): 413, and the old file is untouched; no temporary file is left.
  ServerProcess server(root.path(), {"--max-body", "1M"});
  RunResult r = curl2(server, "/old.bin", {"-T", src / "up.bin"});
  CHECK(tail_line(r) == "413 2");
  CHECK(read_file(root / "old.bin") == "old content");
  // A body of unknown length (no Content-Length) that grows past the limit mid-stream.
  r = run({"/bin/sh", "-c",
           tool("curl") + " -sS --http2-prior-knowledge -T - -w %{http_code} " +
               server.url("/old.bin") + " < " + src / "up.bin"});
  CHECK(r.out.ends_with("413"));
  CHECK(read_file(root / "old.bin") == "old content");
  // A client that goes away mid-body: nothing under the name, the old file intact.
  {
    Process slow({tool("curl"), "-sS", "--http2-prior-knowledge", "--limit-rate", "100K", "-T",
                  src / "up.bin", server.url("/old.bin")});
    std::this_thread::sleep_for(500ms);
    slow.signal(SIGKILL);
    slow.wait(5s);
  }
  std::this_thread::sleep_for(200ms);
  CHECK(read_file(root / "old.bin") == "old content");
  CHECK(entries(root.path()) == std::vector<std::string>{"old.bin"});
  CHECK(server.stop() == 0);
}

TEST_CASE("WebDAV and folder archives over h2 are the same bytes as over HTTP/1.1") {
  TempDir root;
  root.write("d/a.txt", "alpha");
  root.write("d/b.bin", random_bytes(300000, 5));
  ServerProcess server(root.path());
  RunResult r = curl2(server, "/d/", {"-X", "PROPFIND", "-H", "Depth: 1"});
  CHECK(tail_line(r) == "207 2");
  CHECK(contains(r.out, "/d/a.txt"));
  r = curl2(server, "/e/", {"-X", "MKCOL"});
  CHECK(tail_line(r) == "201 2");
  for (const char* kind : {"zip", "tar"}) {
    CAPTURE(kind);
    const std::string path = std::string("/d/?download=") + kind;
    const RunResult h2 = curl2(server, path);
    const RunResult h1 = curl({"--http1.1", server.url(path)});
    CHECK(tail_line(h2) == "200 2");
    CHECK(body_of(h2) == h1.out);
    CHECK(h1.out.size() > 300000);
  }
  CHECK(server.stop() == 0);
}

TEST_CASE("nghttp and h2load: every request succeeds") {
  REQUIRE_MESSAGE(!tool("nghttp").empty(), "nghttp (nghttp2-client) is required");
  REQUIRE_MESSAGE(!tool("h2load").empty(), "h2load (nghttp2-client) is required");
  TempDir root;
  root.write("k.bin", std::string(1024, 'k'));
  for (bool tls : {false, true}) {
    CAPTURE(tls);
    ServerProcess server(root.path(), tls ? tls_args() : std::vector<std::string>{});
    // Three streams at once on one connection.
    RunResult r = run({tool("nghttp"), "-nv", server.url("/k.bin"), server.url("/k.bin?2"),
                       server.url("/missing")});
    CHECK(r.status == 0);
    CHECK(contains(r.out, "stream_id=1"));
    CHECK(contains(r.out, "stream_id=3"));
    CHECK(contains(r.out, "stream_id=5"));
    CHECK(contains(r.out, ":status: 404"));
    CHECK(contains(r.out, "recv DATA frame <length=1024, flags=0x01"));
    CHECK(contains(r.out, "send GOAWAY frame"));
    const std::string n = tls ? "20000" : "100000";
    r = run({tool("h2load"), "-n", n, "-c", "20", "-m", "20", server.url("/k.bin")}, 300s);
    INFO(r.out);
    CHECK(r.status == 0);
    CHECK(contains(r.out, n + " succeeded, 0 failed, 0 errored, 0 timeout"));
    CHECK(contains(r.out, "status codes: " + n + " 2xx"));
    if (tls) CHECK(contains(r.out, "Application protocol: h2"));
    CHECK(server.stop() == 0);
  }
}

TEST_CASE("hostile frames end in the GOAWAY RFC 9113 names; others are still served") {
  TempDir root;
  root.write("a.txt", "a");
  root.write("big.bin", random_bytes(1 << 20, 9));
  ServerProcess server(root.path(),
                       {"--send-timeout", "1", "--body-timeout", "1", "--access-log", "off"});
  const long rss_before = rss_kib(server.pid());
  const long cpu_before = cpu_ms(server.pid());
  constexpr int kEnhanceYourCalm = 11, kProtocolError = 1, kStreamClosed = 5;
  struct Case {
    const char* name;
    int goaway;
  };
  const Case cases[] = {
      {"rapid_reset", kEnhanceYourCalm},         // CVE-2023-44487
      {"continuation_flood", kEnhanceYourCalm},  // CVE-2024-27316
      {"header_bomb", kEnhanceYourCalm},         // 1 MB of fields: too many CONTINUATIONs
      {"settings_flood", kEnhanceYourCalm},
      {"ping_flood", kEnhanceYourCalm},
      {"empty_data_flood", kEnhanceYourCalm},
      {"data_after_end_stream", kStreamClosed},
      {"bad_preface", kProtocolError},
      {"idle_stream_flood", kProtocolError},  // past SETTINGS_MAX_CONCURRENT_STREAMS
  };
  for (int round = 0; round < 3; ++round) {
    for (const Case& c : cases) {
      CAPTURE(c.name);
      const nlohmann::json j = probe(server, c.name, {"--path", "/a.txt"});
      INFO(j.dump());
      CHECK(j["goaway"] == c.goaway);
      CHECK(j["closed"] == true);
      CHECK(j["data_bytes"] == 0);
      // Meanwhile and after, an ordinary client is served.
      CHECK(tail_line(curl2(server, "/a.txt")) == "200 2");
    }
  }
  // A stream whose window never opens: the head, no DATA, and after the send timeout
  // RST_STREAM CANCEL; the connection stays (its keep-alive time is 30 s).
  constexpr int kCancel = 8;
  nlohmann::json j = probe(server, "zero_window", {"--path", "/big.bin", "--hold", "4"});
  INFO(j.dump());
  CHECK(j["responses"]["1"] == 200);
  CHECK(j["data_bytes"] == 0);
  CHECK(j["rst"] == nlohmann::json::array({nlohmann::json::array({1, kCancel})}));
  CHECK(j["goaway"] == nullptr);
  CHECK(j["closed"] == false);
  // ... also while another stream of the connection moves (its window opens by 16 KiB every
  // 0.1 s: 6.4 s for the file, longer than the send timeout): that one gets the whole file.
  j = probe(server, "stalled_stream", {"--path", "/big.bin", "--hold", "12"});
  INFO(j.dump());
  CHECK(j["rst"] == nlohmann::json::array({nlohmann::json::array({1, kCancel})}));
  CHECK(j["ended"] == nlohmann::json::array({3}));
  CHECK(j["data_bytes"] == 1 << 20);
  CHECK(j["goaway"] == nullptr);
  CHECK(j["closed"] == false);
  // ... and so is a stream whose upload sends nothing after its head, after the body
  // timeout: nothing is left under its name.
  j = probe(server, "silent_upload", {"--path", "/big.bin", "--hold", "12"});
  INFO(j.dump());
  CHECK(j["rst"] == nlohmann::json::array({nlohmann::json::array({1, kCancel})}));
  CHECK(j["ended"] == nlohmann::json::array({3}));
  CHECK(j["data_bytes"] == 1 << 20);
  CHECK(j["goaway"] == nullptr);
  CHECK_FALSE(std::filesystem::exists(root / "silent-upload"));
  // A body that comes a byte at a time (5 bytes/s, under --min-body-rate's 1024) is cut
  // after one body-timeout window.
  j = probe(server, "trickle_upload", {"--hold", "8"});
  INFO(j.dump());
  CHECK(j["rst"] == nlohmann::json::array({nlohmann::json::array({1, kCancel})}));
  CHECK(j["goaway"] == nullptr);
  CHECK_FALSE(std::filesystem::exists(root / "trickle-upload"));
  // The connection's window closed with the stream's: after the send timeout a GOAWAY and
  // the end of the connection.
  constexpr int kNoError = 0;
  j = probe(server, "connection_window", {"--path", "/big.bin", "--hold", "4"});
  INFO(j.dump());
  CHECK(j["responses"]["1"] == 200);
  CHECK(j["data_bytes"] == 65535);
  CHECK(j["goaway"] == kNoError);
  CHECK(j["closed"] == true);
  // A well-behaved client on the same server gets the whole file.
  j = probe(server, "get", {"--path", "/big.bin"});
  CHECK(j["responses"]["1"] == 200);
  CHECK(j["data_bytes"] == 1 << 20);
  const long grown = rss_kib(server.pid()) - rss_before;
  MESSAGE("server RSS growth over 27 hostile connections: "
          << grown << " KiB; CPU " << cpu_ms(server.pid()) - cpu_before << " ms");
#ifndef __SANITIZE_ADDRESS__  // ASan keeps freed memory in quarantine: RSS says nothing there
  CHECK(grown < 8 * 1024);
#endif
  CHECK(server.stop() == 0);
}

TEST_CASE("a header list over --max-head is 431; HTTP/1 rules apply to the head") {
  TempDir root;
  root.write("a.txt", "a");
  ServerProcess server(root.path());
  RunResult r = curl2(server, "/a.txt", {"-H", "X-Big: " + std::string(40000, 'b')});
  CHECK(tail_line(r) == "431 2");
  r = curl2(server, "/a.txt", {"-H", "Content-Length: x", "-X", "PUT", "-d", "x"});
  CHECK_FALSE(tail_line(r) == "201 2");
  r = curl2(server, "/%2e%2e/etc/passwd");
  CHECK(tail_line(r) == "400 2");
  CHECK(server.stop() == 0);
}

TEST_CASE("a body no handler takes is read before the answer, as over HTTP/1") {
  TempDir root;
  for (const char* name : {"f-reset", "f-whole", "f-large"}) root.write(name, "keep");
  ServerProcess server(root.path());
  const nlohmann::json j = probe(server, "body_first", {"--path", "/f"});
  INFO(j.dump());
  // Reset before its body ended: never dispatched, nothing deleted, no answer.
  CHECK(file_exists(root / "f-reset"));
  CHECK_FALSE(j["responses"].contains("1"));
  // Whole: dispatched at END_STREAM.
  CHECK(j["responses"]["3"] == 204);
  CHECK_FALSE(file_exists(root / "f-whole"));
  // Past 64 KiB: 413, and nothing deleted.
  CHECK(j["responses"]["5"] == 413);
  CHECK(file_exists(root / "f-large"));
  CHECK(j["goaway"].is_null());
  CHECK(tail_line(curl2(server, "/f-large")) == "200 2");
  CHECK(server.stop() == 0);
}

TEST_CASE("HTTP/2: a body read before dispatch that stops is reset at --body-timeout") {
  TempDir root;
  root.write("f", "keep");
  ServerProcess server(root.path(), {"--body-timeout", "1"});
  const nlohmann::json j = probe(server, "silent_delete", {"--path", "/f", "--hold", "6"});
  INFO(j.dump());
  constexpr int kCancel = 8;
  CHECK(j["rst"] == nlohmann::json::array({nlohmann::json::array({1, kCancel})}));
  CHECK_FALSE(j["responses"].contains("1"));
  CHECK(file_exists(root / "f"));
  CHECK(server.stop() == 0);
}

TEST_CASE("shutdown: GOAWAY, and the streams in flight finish") {
  TempDir root;
  const std::string large = random_bytes(2 << 20, 11);
  root.write("large.bin", large);
  ServerProcess server(root.path());
  TempDir out;
  Process slow({tool("curl"), "-sS", "--http2-prior-knowledge", "--limit-rate", "1M", "-o",
                out / "got.bin", server.url("/large.bin")});
  std::this_thread::sleep_for(500ms);
  server.process().signal(SIGTERM);
  CHECK(slow.wait(20s) == 0);
  CHECK(read_file(out / "got.bin") == large);
  CHECK(server.process().wait(20s) == 0);
}

TEST_CASE("--http2 off: the preface is a malformed HTTP/1 request; ALPN offers http/1.1 alone") {
  TempDir root;
  root.write("a.txt", "a");
  ServerProcess server(root.path(), {"--http2", "off"});
  RawConnection c(server.port());
  c.send("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n");
  auto resp = c.read_response();
  REQUIRE(resp);
  CHECK(resp->status == 400);
  CHECK(server.stop() == 0);
  ServerProcess tls(root.path(), {"--http2", "off", "--tls-cert", pki().cert("server"), "--tls-key",
                                  pki().key("server")});
  const RunResult r =
      curl({"--http2", "--cacert", pki().ca_cert(), "-w", "%{http_version}", tls.url("/a.txt")});
  CHECK(r.out == "a1.1");
  CHECK(tls.stop() == 0);
}

TEST_CASE("idle HTTP/2 connections hold little memory") {
  TempDir root;
  root.write("a.txt", "a");
  ServerProcess server(root.path(), {"--access-log", "off"});
  raise_fd_limit();
  const long before = rss_kib(server.pid());
  constexpr int kConnections = 1000;
  std::vector<std::unique_ptr<RawConnection>> idle;
  const std::string preface = std::string("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n") +
                              std::string("\0\0\0\4\0\0\0\0\0", 9);  // an empty SETTINGS
  for (int i = 0; i < kConnections; ++i) {
    idle.push_back(std::make_unique<RawConnection>(server.port()));
    idle.back()->send(preface);
  }
  CHECK(tail_line(curl2(server, "/a.txt")) == "200 2");
  std::this_thread::sleep_for(500ms);
  const long per = (rss_kib(server.pid()) - before) * 1024 / kConnections;
  MESSAGE("memory per idle h2 connection: " << per << " bytes");
  // nghttp2's session (its 16 KiB frame buffer, the HPACK tables, the stream map) is most of
  // it; the bound is below what one read buffer (64 KiB) held per idle connection would cost.
#ifndef __SANITIZE_ADDRESS__
  CHECK(per < 40 * 1024);
#endif
  idle.clear();
  CHECK(server.stop() == 0);
}

namespace {

RunResult httpc(std::vector<std::string> args, const std::string& cwd = {}) {
  args.insert(args.begin(), binary("httpc"));
  return run(std::move(args), 120s, std::nullopt, {}, cwd);
}

}  // namespace

TEST_CASE("httpc --http2 and --http2-prior-knowledge: downloads, resumes and uploads") {
  TempDir root;
  TempDir cwd;
  const std::string large = random_bytes(3 << 20, 13);
  root.write("large.bin", large);
  root.write("small.txt", "small\n");
  for (bool tls : {false, true}) {
    CAPTURE(tls);
    ServerProcess server(root.path(), tls ? tls_args() : std::vector<std::string>{});
    const std::vector<std::string> h2 =
        tls ? std::vector<std::string>{"--http2", "--cacert", pki().ca_cert()}
            : std::vector<std::string>{"--http2-prior-knowledge"};
    auto with = [&](std::vector<std::string> args) {
      args.insert(args.begin(), h2.begin(), h2.end());
      return httpc(std::move(args), cwd.path());
    };
    RunResult r = with({"-v", "-o", cwd / "got.bin", server.url("/large.bin")});
    CHECK(r.status == 0);
    CHECK(contains(r.err, "> GET /large.bin HTTP/2"));
    CHECK(contains(r.err, "< HTTP/2 200"));
    if (tls) CHECK(contains(r.err, "* ALPN: h2"));
    CHECK(read_file(cwd / "got.bin") == large);
    // A .part file left by a cut download is resumed with Range and If-Range over h2.
    const RunResult head = curl({"--http1.1", "-k", "-I", server.url("/large.bin")});
    const std::size_t at = head.out.find("ETag: ");
    REQUIRE(at != std::string::npos);
    const std::string etag = head.out.substr(at + 6, head.out.find('\r', at) - at - 6);
    write_file(cwd / "res.bin.part", large.substr(0, 1000000));
    REQUIRE(::setxattr((cwd / "res.bin.part").c_str(), "user.httpc.validator", etag.data(),
                       etag.size(), 0) == 0);
    r = with({"-C", "-", "-o", cwd / "res.bin", server.url("/large.bin")});
    CHECK(r.status == 0);
    CHECK(read_file(cwd / "res.bin") == large);
    r = with({"-I", server.url("/small.txt")});
    CHECK(r.status == 0);
    CHECK(r.out.starts_with("HTTP/2 200\r\n"));
    CHECK(contains(r.out, "content-length: 6"));
    r = with({"-o", "-", server.url("/missing")});
    CHECK(r.status != 0);
    CHECK(contains(r.err, "404"));
    // An upload, with flow control, committed whole.
    write_file(cwd / "up.bin", large);
    r = with({"-T", cwd / "up.bin", server.url("/up.bin")});
    CHECK(r.status == 0);
    CHECK(read_file(root / "up.bin") == large);
    std::remove((root / "up.bin").c_str());
    CHECK(server.stop() == 0);
    CHECK(contains(server.access_log(), "\"GET /large.bin HTTP/2.0\" 206"));
    CHECK(contains(server.access_log(), "\"PUT /up.bin HTTP/2.0\" 201"));
  }
  // A server that does not offer h2: --http2 falls back to HTTP/1.1.
  ServerProcess h1(root.path(), {"--http2", "off", "--tls-cert", pki().cert("server"), "--tls-key",
                                 pki().key("server")});
  RunResult r = httpc(
      {"--http2", "-v", "--cacert", pki().ca_cert(), "-o", cwd / "h1.txt", h1.url("/small.txt")},
      cwd.path());
  CHECK(r.status == 0);
  CHECK(contains(r.err, "* ALPN: http/1.1"));
  CHECK(contains(r.err, "> GET /small.txt HTTP/1.1"));
  CHECK(read_file(cwd / "h1.txt") == "small\n");
  CHECK(h1.stop() == 0);
}

TEST_CASE("httpc over h2 against nginx: the same bytes") {
  const std::string nginx = tool("nginx");
  REQUIRE_MESSAGE(!nginx.empty(), "nginx is required");
  TempDir root;
  TempDir conf;
  TempDir cwd;
  const std::string large = random_bytes(2 << 20, 17);
  root.write("large.bin", large);
  const int port = [] {
    ServerProcess probe_port(TempDir().path());  // a free port, taken back at once
    return probe_port.port();
  }();
  write_file(conf / "nginx.conf",
             "daemon off; user root; worker_processes 1; error_log stderr; pid " +
                 conf / "nginx.pid" +
                 ";\nevents {}\nhttp { access_log off; "
                 "client_body_temp_path " +
                 conf.path() + "; proxy_temp_path " + conf.path() + "; fastcgi_temp_path " +
                 conf.path() + "; uwsgi_temp_path " + conf.path() + "; scgi_temp_path " +
                 conf.path() + "; server { listen 127.0.0.1:" + std::to_string(port) +
                 " http2; root " + root.path() + "; } }\n");
  Process server({nginx, "-c", conf / "nginx.conf", "-p", conf.path()});
  wait_until(
      [&] {
        return curl({"-f", "--http2-prior-knowledge",
                     "http://127.0.0.1:" + std::to_string(port) + "/large.bin", "-o", "/dev/null"})
                   .status == 0;
      },
      "nginx answers");
  RunResult r = httpc({"--http2-prior-knowledge", "-o", cwd / "n.bin",
                       "http://127.0.0.1:" + std::to_string(port) + "/large.bin"},
                      cwd.path());
  CHECK(r.status == 0);
  CHECK(read_file(cwd / "n.bin") == large);
  server.signal(SIGTERM);
  server.wait(10s);
}
