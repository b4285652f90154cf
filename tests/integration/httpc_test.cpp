// httpc against the real httpfs, a real nginx, and a scripted server for the odd answers:
// every command-line form, byte-for-byte round trips, framing, resume, redirects, retries,
// digests and every exit code.
#include <doctest/doctest.h>
#include <fcntl.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <regex>
#include <sstream>
#include <thread>

#include "http/base64.hpp"
#include "http/content_encoder.hpp"
#include "support/cutting_proxy.hpp"
#include "support/http_client.hpp"
#include "support/scripted_server.hpp"
#include "support/vectors.hpp"
#include "support/wait.hpp"

using namespace httpfs::test;

namespace {

RunResult httpc(std::vector<std::string> args, const std::string& cwd = {},
                std::chrono::milliseconds timeout = 60s,
                std::optional<std::string> stdin_data = std::nullopt) {
  args.insert(args.begin(), binary("httpc"));
  return run(std::move(args), timeout, std::move(stdin_data), {}, cwd);
}

std::string ok(std::string_view body, std::string_view extra = {}) {
  return "HTTP/1.1 200 OK\r\nContent-Length: " + std::to_string(body.size()) + "\r\n" +
         std::string(extra) + "Connection: close\r\n\r\n" + std::string(body);
}

std::string sha256_field(const std::string& data) {
  std::string hex = sha256_hex(data), raw;
  for (std::size_t i = 0; i < hex.size(); i += 2)
    raw += static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16));
  return "sha-256=:" + httpfs::http::base64_encode(raw) + ":";
}

}  // namespace

TEST_CASE("help, version and usage errors") {
  RunResult r = httpc({"help"});
  CHECK(r.status == 0);
  for (const char* s : {"httpc HOST PORT", "httpc get", "httpc post", "-X", "-H", "-d", "-T", "-o",
                        "-O", "-L", "-I", "-v", "-s", "--max-time", "--connect-timeout", "--retry",
                        "-C -", "--force", "--compressed"})
    CHECK_MESSAGE(r.out.find(s) != std::string::npos, s);
  CHECK(httpc({"help", "put"}).out.find("-f FILE") != std::string::npos);
  CHECK(httpc({"help", "exit-codes"}).out.find("10  integrity") != std::string::npos);
  CHECK(httpc({"--version"}).out.rfind("httpc ", 0) == 0);
  for (std::vector<std::string> bad : {std::vector<std::string>{},
                                       {"--bogus", "http://x/"},
                                       {"help", "nothing"},
                                       {"post", "http://x/"},
                                       {"get", "-d", "x", "http://x/"},
                                       {"-H", "no colon", "http://x/"},
                                       {"--retry", "lots", "http://x/"},
                                       {"-C", "5", "-o", "f", "http://x/"},
                                       {"-o", "a", "-o", "b", "http://x/"},
                                       {"ftp://x/"},
                                       {"http://user:pw@x/"}}) {
    RunResult u = httpc(bad);
    INFO(bad.size());
    CHECK(u.status == 2);
    CHECK(!u.err.empty());
    CHECK(std::count(u.err.begin(), u.err.end(), '\n') <= 2);
  }
}

TEST_CASE("positional form: GET saves the base name, refuses to overwrite, PUT/HEAD/DELETE/POST") {
  TempDir root, cwd;
  root.write("dir/data.txt", "positional data");
  ServerProcess server(root.path());
  const std::string port = std::to_string(server.port());

  RunResult r = httpc({"127.0.0.1", port, "GET", "dir/data.txt"}, cwd.path());
  CHECK(r.status == 0);
  CHECK(read_file(cwd / "data.txt") == "positional data");
  CHECK_FALSE(file_exists(cwd / "data.txt.part"));
  r = httpc({"127.0.0.1", port, "GET", "dir/data.txt"}, cwd.path());
  CHECK(r.status == 9);
  CHECK(r.err.find("data.txt exists") != std::string::npos);
  write_file(root / "dir/data.txt", "changed");
  CHECK(httpc({"--force", "127.0.0.1", port, "GET", "dir/data.txt"}, cwd.path()).status == 0);
  CHECK(read_file(cwd / "data.txt") == "changed");
  CHECK(httpc({"-o", "other.txt", "127.0.0.1", port, "GET", "dir/data.txt"}, cwd.path()).status ==
        0);
  CHECK(read_file(cwd / "other.txt") == "changed");
  r = httpc({"-o", "-", "127.0.0.1", port, "GET", "dir/data.txt"}, cwd.path());
  CHECK(r.out == "changed");

  write_file(cwd / "up.bin", random_bytes(5000, 3));
  r = httpc({"127.0.0.1", port, "PUT", "up.bin"}, cwd.path());
  CHECK(r.status == 0);
  CHECK(r.out == "HTTP/1.1 201 Created\nFile Created\n");
  CHECK(read_file(root / "up.bin") == read_file(cwd / "up.bin"));
  r = httpc({"127.0.0.1", port, "POST", "up.bin"}, cwd.path());
  CHECK(r.out.rfind("HTTP/1.1 204 No Content", 0) == 0);
  r = httpc({"127.0.0.1", port, "HEAD", "up.bin"}, cwd.path());
  CHECK(r.status == 0);
  CHECK(r.out.rfind("HTTP/1.1 200 OK\r\n", 0) == 0);
  CHECK(r.out.find("Content-Length: 5000\r\n") != std::string::npos);
  r = httpc({"127.0.0.1", port, "DELETE", "up.bin"}, cwd.path());
  CHECK(r.status == 0);
  CHECK(r.out.rfind("HTTP/1.1 204", 0) == 0);
  CHECK_FALSE(file_exists(root / "up.bin"));
  r = httpc({"127.0.0.1", port, "GET", "nope.txt"}, cwd.path());
  CHECK(r.status == 6);
  CHECK_FALSE(file_exists(cwd / "nope.txt"));  // an error page is not saved as the file
  CHECK_FALSE(file_exists(cwd / "nope.txt.part"));
}

TEST_CASE("cURL-like form: get, head, delete, post, put with -h, -d, -f") {
  TempDir root, cwd;
  root.write("a.txt", "cURL-like");
  ServerProcess server(root.path());
  RunResult r = httpc({"get", "-h", "X-Test:1", server.url("/a.txt")});
  CHECK(r.status == 0);
  CHECK(r.out == "cURL-like");
  r = httpc({"head", server.url("/a.txt")});
  CHECK(r.out.find("Content-Length: 9") != std::string::npos);
  r = httpc({"put", "-d", "from -d", server.url("/d.txt")});
  CHECK(r.status == 0);
  CHECK(read_file(root / "d.txt") == "from -d");
  write_file(cwd / "f.bin", random_bytes(70000, 4));
  r = httpc({"post", "-f", cwd / "f.bin", server.url("/f.bin")});
  CHECK(r.status == 0);
  CHECK(read_file(root / "f.bin") == read_file(cwd / "f.bin"));
  r = httpc({"delete", "-v", server.url("/d.txt")});
  CHECK(r.status == 0);
  CHECK(r.err.find("> DELETE /d.txt HTTP/1.1") != std::string::npos);
  CHECK(r.err.find("< HTTP/1.1 204 No Content") != std::string::npos);
  // The scripted server sees exactly what was asked for.
  ScriptedServer echo([](const ReceivedRequest&, int) { return ScriptedReply::bytes(ok("ok")); });
  CHECK(httpc({"post", "-h", "X-A: b", "-d", "k=v", echo.url("/form")}).status == 0);
  auto seen = echo.requests().at(0);
  CHECK(seen.method == "POST");
  CHECK(seen.header("X-A") == "b");
  CHECK(seen.header("Content-Type") == "application/x-www-form-urlencoded");
  CHECK(seen.body == "k=v");
  CHECK(seen.header("User-Agent").rfind("httpc/", 0) == 0);
  CHECK(seen.header("Accept") == "*/*");
  CHECK(seen.header("Host") == "127.0.0.1:" + std::to_string(echo.port()));
}

TEST_CASE("plain form: -X -H -d -T -o -O -I -v -s") {
  TempDir root, cwd;
  root.write("file.bin", random_bytes(200000, 5));
  ServerProcess server(root.path());
  RunResult r = httpc({"-s", "-o", cwd / "out.bin", server.url("/file.bin")});
  CHECK(r.status == 0);
  CHECK(r.err.empty());
  CHECK(read_file(cwd / "out.bin") == read_file(root / "file.bin"));
  CHECK(httpc({"-O", server.url("/file.bin")}, cwd.path()).status == 0);
  CHECK(read_file(cwd / "file.bin") == read_file(root / "file.bin"));
  r = httpc({"-I", server.url("/file.bin")});
  CHECK(r.out.rfind("HTTP/1.1 200 OK\r\n", 0) == 0);
  CHECK(r.out.find("Content-Length: 200000") != std::string::npos);
  r = httpc({"-X", "PUT", "-H", "Content-Type: text/plain", "-d", "plain", server.url("/p.txt")});
  CHECK(r.status == 0);
  CHECK(read_file(root / "p.txt") == "plain");
  CHECK(httpc({"-T", cwd / "out.bin", server.url("/t.bin")}).status == 0);
  CHECK(read_file(root / "t.bin") == read_file(root / "file.bin"));
  // -T - streams the standard input, chunked.
  const std::string piped = random_bytes(300000, 6);
  r = httpc({"-T", "-", server.url("/stdin.bin")}, {}, 60s, piped);
  CHECK(r.status == 0);
  CHECK(read_file(root / "stdin.bin") == piped);
  ScriptedServer echo([](const ReceivedRequest&, int) { return ScriptedReply::bytes(ok("ok")); });
  httpc({"-T", "-", echo.url("/x")}, {}, 60s, std::string("streamed"));
  CHECK(echo.requests().at(0).header("Transfer-Encoding") == "chunked");
  CHECK(echo.requests().at(0).body == "streamed");
  r = httpc({"-v", server.url("/p.txt")});
  CHECK(r.out == "plain");
  CHECK(r.err.find("> GET /p.txt HTTP/1.1") != std::string::npos);
  CHECK(r.err.find("< Content-Type: text/plain") != std::string::npos);
}

TEST_CASE("round trips byte for byte against httpfs and nginx: 0 bytes, 1 KiB, 5 MiB") {
  TempDir root, cwd;
  ServerProcess server(root.path());
  NginxProcess nginx(root.path());
  for (std::size_t size : {std::size_t{0}, std::size_t{1024}, std::size_t{5} << 20}) {
    const std::string data = random_bytes(size, static_cast<unsigned>(size) + 1);
    write_file(cwd / "src.bin", data);
    for (const std::string& base : {server.url("/"), nginx.url("/")}) {
      INFO(base << " size " << size);
      const std::string name = "rt-" + std::to_string(size);
      RunResult up = httpc({"-T", cwd / "src.bin", base + name});
      CHECK(up.status == 0);
      CHECK(read_file(root / name) == data);
      ::unlink((cwd / "got").c_str());
      RunResult down = httpc({"-o", cwd / "got", base + name});
      CHECK(down.status == 0);
      CHECK(read_file(cwd / "got") == data);
      ::unlink((root / name).c_str());
    }
  }
  // nginx's redirect, followed.
  root.write("target.txt", "redirected");
  RunResult r = httpc({"-L", nginx.url("/redirect")});
  CHECK(r.out == "redirected");
}

TEST_CASE("response framing: chunked, until close, 1xx first, lying lengths, a server that stops") {
  ScriptedServer s([](const ReceivedRequest& req, int) {
    if (req.target == "/chunked")
      return ScriptedReply::bytes(
          "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n "
          "world\r\n0\r\n\r\n");
    if (req.target == "/close")
      return ScriptedReply::bytes("HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nuntil the end");
    if (req.target == "/interim")
      return ScriptedReply::bytes(
          "HTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: "
          "2\r\n\r\nok");
    if (req.target == "/lying")
      return ScriptedReply::bytes(
          "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly 19 bytes here.");
    if (req.target == "/stops") {
      ScriptedReply r = ScriptedReply::bytes(
          "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n");
      return r;
    }
    if (req.target == "/garbage") return ScriptedReply::bytes("SSH-2.0-OpenSSH_9.2\r\n");
    if (req.target == "/bad-chunk")
      return ScriptedReply::bytes("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n");
    return ScriptedReply::bytes("HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n");
  });
  TempDir cwd;
  CHECK(httpc({s.url("/chunked")}).out == "hello world");
  CHECK(httpc({s.url("/close")}).out == "until the end");
  CHECK(httpc({s.url("/interim")}).out == "ok");
  RunResult r = httpc({"-o", cwd / "lie", s.url("/lying")});
  CHECK(r.status == 8);
  CHECK(r.err.find("19 of 100") != std::string::npos);
  CHECK_FALSE(file_exists(cwd / "lie"));
  CHECK(read_file(cwd / "lie.part") == "only 19 bytes here.");  // kept for -C -
  CHECK(httpc({s.url("/stops")}).status == 8);
  r = httpc({s.url("/garbage")});
  CHECK(r.status == 11);
  CHECK(r.err.find("invalid response") != std::string::npos);
  CHECK(httpc({s.url("/bad-chunk")}).status == 8);
}

TEST_CASE("an interrupted download resumes with Range and If-Range; a changed file restarts") {
  TempDir root, cwd;
  const std::string data = random_bytes(3 << 20, 7);
  root.write("big.bin", data);
  ServerProcess server(root.path());
  // Interrupted: the first attempt stops at --max-time, slowed by a scripted server that
  // relays half of the real answer.
  {
    const std::string full = get(server.port(), "/big.bin").body;
    REQUIRE(full == data);
    const std::string etag = get(server.port(), "/big.bin", {}, "HEAD").header("ETag");
    ScriptedServer half([&](const ReceivedRequest&, int) {
      return ScriptedReply::bytes(
          "HTTP/1.1 200 OK\r\nContent-Length: " + std::to_string(data.size()) +
          "\r\nETag: " + etag + "\r\n\r\n" + data.substr(0, data.size() / 2));
    });
    RunResult r = httpc({"-o", cwd / "big.bin", half.url("/big.bin")});
    CHECK(r.status == 8);
    CHECK(r.err.find("resume with -C -") != std::string::npos);
    CHECK(::access((cwd / "big.bin.part").c_str(), F_OK) == 0);
  }
  // Resume against the real server: it answers 206 for the rest.
  RunResult r = httpc({"-C", "-", "-o", cwd / "big.bin", "-v", server.url("/big.bin")});
  CHECK(r.status == 0);
  CHECK(r.err.find("> Range: bytes=" + std::to_string(data.size() / 2) + "-") != std::string::npos);
  CHECK(r.err.find("> If-Range: \"") != std::string::npos);
  CHECK(r.err.find("< HTTP/1.1 206 Partial Content") != std::string::npos);
  CHECK(read_file(cwd / "big.bin") == data);
  CHECK_FALSE(file_exists(cwd / "big.bin.part"));

  // A .part from another version of the file: If-Range fails, the server sends it all, and
  // the download starts again from zero instead of splicing two versions.
  ::unlink((cwd / "big.bin").c_str());
  write_file(cwd / "big.bin.part", "XXXXXXXXXX");
  ::setxattr((cwd / "big.bin.part").c_str(), "user.httpc.validator", "\"an-old-etag\"", 13, 0);
  r = httpc({"--continue", "-o", cwd / "big.bin", "-v", server.url("/big.bin")});
  CHECK(r.status == 0);
  CHECK(r.err.find("< HTTP/1.1 200 OK") != std::string::npos);
  CHECK(read_file(cwd / "big.bin") == data);
  // Already complete: 416 for the range, the .part becomes the file.
  write_file(cwd / "done.bin.part", data);
  const std::string etag = get(server.port(), "/big.bin", {}, "HEAD").header("ETag");
  ::setxattr((cwd / "done.bin.part").c_str(), "user.httpc.validator", etag.data(), etag.size(), 0);
  r = httpc({"-C", "-", "-o", cwd / "done.bin", server.url("/big.bin")});
  CHECK(r.status == 0);
  CHECK(read_file(cwd / "done.bin") == data);
}

TEST_CASE("the saved file gets the server's Last-Modified as its mtime") {
  TempDir root, cwd;
  root.write("old.txt", "old");
  timespec t[2] = {{1600000000, 0}, {1600000000, 0}};
  ::utimensat(AT_FDCWD, (root / "old.txt").c_str(), t, 0);
  ServerProcess server(root.path());
  CHECK(httpc({"-o", cwd / "old.txt", server.url("/old.txt")}).status == 0);
  struct stat st {};
  ::stat((cwd / "old.txt").c_str(), &st);
  CHECK(st.st_mtim.tv_sec == 1600000000);
}

TEST_CASE(
    "redirects: -L, method rules of RFC 9110 15.4, a limit, credentials dropped across hosts") {
  ScriptedServer s([](const ReceivedRequest& req, int) {
    auto redirect = [](int code, const std::string& to) {
      return ScriptedReply::bytes("HTTP/1.1 " + std::to_string(code) + " Moved\r\nLocation: " + to +
                                  "\r\nContent-Length: 5\r\n\r\nmoved");
    };
    const std::string& t = req.target;
    if (t == "/301") return redirect(301, "/final");
    if (t == "/302") return redirect(302, "final");
    if (t == "/303") return redirect(303, "/final");
    if (t == "/307") return redirect(307, "/final");
    if (t == "/308") return redirect(308, "/final");
    if (t == "/loop") return redirect(302, "/loop");
    if (t == "/final") return ScriptedReply::bytes(ok(req.method + ":" + req.body));
    return ScriptedReply::bytes("HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n");
  });
  CHECK(httpc({"-L", s.url("/301")}).out == "GET:");
  CHECK(httpc({"-L", "-d", "body", s.url("/301")}).out == "GET:");  // POST -> GET
  CHECK(httpc({"-L", "-d", "body", s.url("/302")}).out == "GET:");
  CHECK(httpc({"-L", "-X", "PUT", "-d", "body", s.url("/303")}).out == "GET:");
  CHECK(httpc({"-L", "-d", "body", s.url("/307")}).out == "POST:body");  // method and body kept
  CHECK(httpc({"-L", "-X", "PUT", "-d", "body", s.url("/308")}).out == "PUT:body");
  CHECK(httpc({"-L", "-I", s.url("/303")}).out.find("200 OK") !=
        std::string::npos);  // HEAD stays HEAD
  RunResult r = httpc({"-L", s.url("/loop")});
  CHECK(r.status == 11);
  CHECK(r.err.find("more than 10 redirects") != std::string::npos);
  CHECK(httpc({"-L", "--max-redirs", "2", s.url("/loop")}).err.find("more than 2") !=
        std::string::npos);
  // Without -L: the 3xx answer is the result, exit 0.
  r = httpc({s.url("/301")});
  CHECK(r.status == 0);
  CHECK(r.out == "moved");
  // A redirect to another origin drops Authorization.
  ScriptedServer other([](const ReceivedRequest& req, int) {
    return ScriptedReply::bytes(ok(req.header("Authorization")));
  });
  ScriptedServer first([&](const ReceivedRequest&, int) {
    return ScriptedReply::bytes("HTTP/1.1 302 Found\r\nLocation: " + other.url("/x") +
                                "\r\nContent-Length: 0\r\n\r\n");
  });
  r = httpc({"-L", "-H", "Authorization: Basic c2VjcmV0", first.url("/")});
  CHECK(r.status == 0);
  CHECK(r.out.empty());
}

TEST_CASE("--retry waits as Retry-After says, and retries 5xx and refused connections") {
  ScriptedServer s([](const ReceivedRequest&, int i) {
    if (i == 0)
      return ScriptedReply::bytes(
          "HTTP/1.1 503 Busy\r\nRetry-After: 1\r\nContent-Length: 0\r\n\r\n");
    return ScriptedReply::bytes(ok("second time lucky"));
  });
  auto t0 = std::chrono::steady_clock::now();
  RunResult r = httpc({"--retry", "2", s.url("/")});
  CHECK(r.status == 0);
  CHECK(r.out == "second time lucky");
  CHECK(std::chrono::steady_clock::now() - t0 >= 900ms);
  CHECK(r.err.find("503 Busy; retrying in 1.0 s") != std::string::npos);
  CHECK(s.requests().size() == 2);
  // Without --retry: 503 is exit 7.
  ScriptedServer always([](const ReceivedRequest&, int) {
    return ScriptedReply::bytes("HTTP/1.1 500 Oops\r\nContent-Length: 0\r\n\r\n");
  });
  CHECK(httpc({always.url("/")}).status == 7);
  CHECK(httpc({"--retry", "1", always.url("/")}).status == 7);
  CHECK(always.requests().size() == 3);
  CHECK(httpc({"--no-fail", always.url("/")}).status == 0);
  // A refused connection, retried with backoff, still refused.
  const int port = unused_port();
  r = httpc({"--retry", "1", "http://127.0.0.1:" + std::to_string(port) + "/"});
  CHECK(r.status == 4);
  CHECK(r.err.find("retrying") != std::string::npos);
}

TEST_CASE("uploads over 1 MiB ask first (Expect: 100-continue) and go on after 1 s of silence") {
  TempDir cwd;
  const std::string big = random_bytes((1 << 20) + 10, 8);
  write_file(cwd / "big", big);
  ScriptedServer accepts(
      [](const ReceivedRequest&, int) { return ScriptedReply::bytes(ok("got it")); });
  RunResult r = httpc({"-T", cwd / "big", accepts.url("/u")});
  CHECK(r.out == "got it");
  CHECK(accepts.requests().at(0).header("Expect") == "100-continue");
  CHECK(accepts.requests().at(0).body == big);
  // A server that never says 100: the body follows after about a second.
  ScriptedServer silent([](const ReceivedRequest&, int) {
    ScriptedReply rep = ScriptedReply::bytes(ok("late"));
    rep.send_continue = false;
    return rep;
  });
  auto t0 = std::chrono::steady_clock::now();
  r = httpc({"-T", cwd / "big", silent.url("/u")});
  CHECK(r.out == "late");
  CHECK(std::chrono::steady_clock::now() - t0 >= 900ms);
  CHECK(silent.requests().at(0).body == big);
  // A server that refuses at once: the body is never sent, the refusal is the answer.
  ScriptedServer refuses([](const ReceivedRequest&, int) {
    ScriptedReply rep = ScriptedReply::bytes(
        "HTTP/1.1 413 Too Large\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
    rep.read_body = false;
    return rep;
  });
  r = httpc({"-T", cwd / "big", refuses.url("/u")});
  CHECK(r.status == 6);
  // Small uploads do not ask.
  write_file(cwd / "small", "small");
  httpc({"-T", cwd / "small", accepts.url("/s")});
  CHECK(accepts.requests().at(1).header("Expect").empty());
}

TEST_CASE("digests the server sends are verified") {
  const std::string body = "verified content";
  ScriptedServer s([&](const ReceivedRequest& req, int) {
    if (req.target == "/good")
      return ScriptedReply::bytes(ok(body, "Content-Digest: " + sha256_field(body) + "\r\n"));
    if (req.target == "/repr")
      return ScriptedReply::bytes(ok(body, "Repr-Digest: " + sha256_field(body) + "\r\n"));
    return ScriptedReply::bytes(
        ok(body, "Content-Digest: " + sha256_field("something else") + "\r\n"));
  });
  TempDir cwd;
  CHECK(httpc({s.url("/good")}).out == body);
  CHECK(httpc({"-o", cwd / "r", s.url("/repr")}).status == 0);
  CHECK(read_file(cwd / "r") == body);
  RunResult r = httpc({"-o", cwd / "bad", s.url("/bad")});
  CHECK(r.status == 10);
  CHECK(r.err.find("does not match the digest") != std::string::npos);
  CHECK_FALSE(file_exists(cwd / "bad"));
  CHECK_FALSE(file_exists(cwd / "bad.part"));
}

TEST_CASE("every exit code") {
  TempDir root, cwd;
  root.write("f", "f");
  ServerProcess server(root.path());
  CHECK(httpc({server.url("/f")}).status == 0);
  CHECK(httpc({"--bogus"}).status == 2);
  RunResult r = httpc({"http://no-such-host.invalid/"});
  CHECK(r.status == 3);
  CHECK(r.err.find("cannot resolve no-such-host.invalid") != std::string::npos);
  r = httpc({"http://127.0.0.1:" + std::to_string(unused_port()) + "/"});
  CHECK(r.status == 4);
  CHECK(r.err.find("Connection refused") != std::string::npos);
  ScriptedServer mute([](const ReceivedRequest&, int) {
    ScriptedReply rep;
    rep.never_answer = true;
    return rep;
  });
  auto t0 = std::chrono::steady_clock::now();
  r = httpc({"--max-time", "1", mute.url("/")});
  CHECK(r.status == 5);
  CHECK(r.err.find("--max-time") != std::string::npos);
  CHECK(std::chrono::steady_clock::now() - t0 < 5s);
  CHECK(httpc({server.url("/missing")}).status == 6);
  ScriptedServer broken([](const ReceivedRequest&, int) {
    return ScriptedReply::bytes("HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n");
  });
  CHECK(httpc({broken.url("/")}).status == 7);
  ScriptedServer shortb([](const ReceivedRequest&, int) {
    return ScriptedReply::bytes("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort");
  });
  CHECK(httpc({shortb.url("/")}).status == 8);
  ::mkdir((cwd / "ro").c_str(), 0500);
  if (::geteuid() != 0) CHECK(httpc({"-o", cwd / "ro/x", server.url("/f")}).status == 9);
  CHECK(httpc({"-T", cwd / "does-not-exist", server.url("/x")}).status == 9);
  ScriptedServer tampered([](const ReceivedRequest&, int) {
    return ScriptedReply::bytes(ok(
        "abc",
        "Content-Digest: sha-256=:" + httpfs::http::base64_encode(std::string(32, 'x')) + ":\r\n"));
  });
  CHECK(httpc({tampered.url("/")}).status == 10);
  ScriptedServer garbage(
      [](const ReceivedRequest&, int) { return ScriptedReply::bytes("<html>hello</html>"); });
  CHECK(httpc({garbage.url("/")}).status == 11);
}

TEST_CASE("a download that cannot fit fails before its body, leaving nothing") {
  TempDir root, cwd;
  root.write("big.bin", std::string(2 << 20, 'b'));
  root.write("small.bin", std::string(1000, 's'));
  const std::string small = cwd / "small";
  TmpfsMount mount(small, "1m");
  if (!mount.mounted()) {
    MESSAGE("skipped: " << mount.why());
    return;
  }
  ServerProcess server(root.path());
  RunResult r = httpc({"-o", small + "/big.bin", server.url("/big.bin")});
  CHECK(r.status == 9);
  CHECK(r.err.find("no room for 2097152 bytes") != std::string::npos);
  CHECK_FALSE(file_exists(small + "/big.bin"));
  CHECK_FALSE(file_exists(small + "/big.bin.part"));
  // The reservation does not inflate the size of what arrived, and a download that fits works.
  CHECK(httpc({"-o", small + "/small.bin", server.url("/small.bin")}).status == 0);
  CHECK(read_file(small + "/small.bin") == std::string(1000, 's'));
  CHECK(server.stop() == 0);
}

TEST_CASE("IPv6 loopback") {
  TempDir root, cwd;
  root.write("six.txt", "over IPv6");
  Process p({binary("httpfs"), "-p", "0", "-b", "::1", "-d", root.path(), "--access-log", "off"});
  const std::string out = wait_for_output(p, Stream::Out, "\n");  // the whole URL line
  std::smatch m;
  REQUIRE(std::regex_search(out, m, std::regex(R"(\[::1\]:(\d+)/)")));
  const std::string port = m[1];
  CHECK(httpc({"http://[::1]:" + port + "/six.txt"}).out == "over IPv6");
  CHECK(httpc({"::1", port, "GET", "six.txt"}, cwd.path()).status == 0);
  CHECK(read_file(cwd / "six.txt") == "over IPv6");
  p.signal(SIGTERM);
  CHECK(p.wait(10s) == 0);
  // A name that resolves to both families: "localhost" tries each address in turn.
  ScriptedServer v4([](const ReceivedRequest&, int) { return ScriptedReply::bytes(ok("found")); });
  CHECK(httpc({"http://localhost:" + std::to_string(v4.port()) + "/"}).out == "found");
}

TEST_CASE("a terminal gets a progress line and no binary; a pipe gets neither") {
  TempDir root;
  root.write("text.txt", "plain text");
  root.write("bin.dat", std::string("\x00\x01\x02 binary", 10));
  ServerProcess server(root.path());
  // Under a pseudo-terminal (util-linux script): binary output is refused with a hint.
  RunResult r =
      run({"/usr/bin/script", "-qec", binary("httpc") + " " + server.url("/bin.dat"), "/dev/null"});
  CHECK(r.status == 9);
  CHECK(r.out.find("binary output would mess up the terminal") != std::string::npos);
  r = run(
      {"/usr/bin/script", "-qec", binary("httpc") + " " + server.url("/text.txt"), "/dev/null"});
  CHECK(r.status == 0);
  CHECK(r.out.find("plain text") != std::string::npos);
  // A slow transfer shows progress on the terminal's stderr, nothing in a pipe.
  ScriptedServer slow([](const ReceivedRequest&, int) {
    ScriptedReply rep;
    rep.pieces.emplace_back(
        0ms, "HTTP/1.1 200 OK\r\nContent-Length: 2000000\r\n\r\n" + std::string(1000000, 'a'));
    rep.pieces.emplace_back(1500ms, std::string(1000000, 'b'));
    return rep;
  });
  TempDir cwd;
  r = run({"/usr/bin/script", "-qec",
           binary("httpc") + " -o " + cwd / "slow.bin" + " " + slow.url("/"), "/dev/null"});
  CHECK(r.status == 0);
  CHECK(r.out.find("/s") != std::string::npos);  // a rate
  CHECK(r.out.find("ETA") != std::string::npos);
  r = httpc({"-o", cwd / "slow2.bin", slow.url("/")});
  CHECK(r.status == 0);
  CHECK(r.err.empty());
}

// ---- resumable uploads (draft-ietf-httpbis-resumable-upload) -----------------------------

namespace {

// httpc with its memory of unfinished uploads in `state` instead of the user's own.
RunResult httpc_in(const TempDir& state, std::vector<std::string> args) {
  args.insert(args.begin(), binary("httpc"));
  return run(std::move(args), 120s, std::nullopt, {"XDG_STATE_HOME=" + state.path()});
}

std::size_t count(const std::string& text, const std::string& needle) {
  std::size_t n = 0;
  for (auto at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) ++n;
  return n;
}

std::vector<std::string> memos(const TempDir& state) {
  const std::string dir = state / "httpc/uploads";
  return file_exists(dir) ? entries(dir) : std::vector<std::string>{};
}

}  // namespace

TEST_CASE("an upload cut three times resumes from the server's offset and arrives whole") {
  TempDir root, files, state;
  ServerProcess server(root.path());
  const std::string data = random_bytes(10 << 20, 41);  // over the 8 MiB threshold
  write_file(files / "big.bin", data);
  CuttingProxy proxy(server.port(), 3 << 20, 3);
  const std::string url = "http://127.0.0.1:" + std::to_string(proxy.port()) + "/big.bin";
  RunResult r = httpc_in(state, {"-T", files / "big.bin", url});
  INFO("stderr: " << r.err);
  CHECK(r.status == 0);
  CHECK(proxy.faults_done() == 3);
  CHECK(count(r.err, "resuming the upload at byte") == 3);
  CHECK(read_file(root / "big.bin") == data);
  const std::string log = server.access_log();
  CHECK(count(log, "\"HEAD /.httpfs-upload/") == 3);
  CHECK(count(log, "\"PATCH /.httpfs-upload/") >= 1);
  CHECK(memos(state).empty());  // nothing left to resume
}

TEST_CASE("httpc killed mid-upload: -C - -T continues where the server's offset is") {
  TempDir root, files, state;
  ServerProcess server(root.path());
  const std::string data = random_bytes(9 << 20, 42);
  write_file(files / "big.bin", data);
  CuttingProxy proxy(server.port(), 4 << 20, 1, CuttingProxy::Fault::Hold);
  const std::string url = "http://127.0.0.1:" + std::to_string(proxy.port()) + "/big.bin";
  {
    Process p({binary("httpc"), "-T", files / "big.bin", url}, {"XDG_STATE_HOME=" + state.path()});
    wait_until([&] { return proxy.faults_done() == 1; }, "the upload is held at 4 MiB");
    wait_until([&] { return memos(state).size() == 1; }, "httpc remembers the upload");
    p.signal(SIGKILL);
    CHECK(p.wait(10s) == 128 + SIGKILL);
  }
  proxy.release_held();  // the server sees its client go, and keeps what arrived
  CHECK_FALSE(file_exists(root / "big.bin"));
  RunResult r = httpc_in(state, {"-v", "-C", "-", "-T", files / "big.bin", url});
  INFO("stderr: " << r.err);
  CHECK(r.status == 0);
  CHECK(r.err.find("Continuing the upload at") != std::string::npos);
  // It went on from what the server had, not from the start.
  std::smatch m;
  REQUIRE(std::regex_search(r.err, m, std::regex("resuming the upload at byte ([0-9]+)")));
  CHECK(std::stoull(m[1]) > 0);
  CHECK(read_file(root / "big.bin") == data);
  CHECK(memos(state).empty());
}

TEST_CASE("a source file changed between tries: the upload is cancelled and nothing committed") {
  TempDir root, files, state;
  ServerProcess server(root.path());
  write_file(files / "f.bin", random_bytes(9 << 20, 43));
  CuttingProxy proxy(server.port(), 2 << 20, 1, CuttingProxy::Fault::Hold);
  const std::string url = "http://127.0.0.1:" + std::to_string(proxy.port()) + "/f.bin";
  {
    Process p({binary("httpc"), "-T", files / "f.bin", url}, {"XDG_STATE_HOME=" + state.path()});
    wait_until([&] { return memos(state).size() == 1 && proxy.faults_done() == 1; },
               "the upload is held and remembered");
    p.signal(SIGKILL);
    p.wait(10s);
  }
  proxy.release_held();
  write_file(files / "f.bin", random_bytes(9 << 20, 44));  // another file now
  RunResult r = httpc_in(state, {"-C", "-", "-T", files / "f.bin", url});
  CHECK(r.status == 9);
  CHECK(r.err.find("changed since its upload began") != std::string::npos);
  CHECK_FALSE(file_exists(root / "f.bin"));
  // The server was told: nothing of it is kept.
  const std::string uploads = root / ".httpfs-state/uploads";
  wait_until(
      [&] {
        for (const std::string& e : entries(uploads))
          if (e.size() >= 32 && e[0] != '.') return false;
        return true;
      },
      "the cancelled upload is gone from the server");
  CHECK(memos(state).empty());
}

TEST_CASE("--resumable: auto from 8 MiB, always, never; -C - -T needs a file") {
  TempDir root, files, state;
  ServerProcess server(root.path());
  write_file(files / "small.bin", "small");
  const std::string base = server.url("/");
  RunResult r = httpc_in(state, {"-v", "-T", files / "small.bin", base + "a"});
  CHECK(r.status == 0);
  CHECK(r.err.find("Upload-Complete") == std::string::npos);  // auto: too small to offer
  r = httpc_in(state, {"-v", "--resumable", "always", "-T", files / "small.bin", base + "b"});
  CHECK(r.status == 0);
  CHECK(r.err.find("The server keeps this upload at") != std::string::npos);
  CHECK(read_file(root / "b") == "small");
  r = httpc_in(state, {"-v", "--resumable", "never", "-T", files / "small.bin", base + "c"});
  CHECK(r.err.find("Upload-Complete") == std::string::npos);
  CHECK(httpc_in(state, {"--resumable", "sometimes", "-T", files / "small.bin", base}).status == 2);
  CHECK(httpc_in(state, {"-C", "-", "-T", "-", base + "d"}).status == 2);
  // Nothing remembered for an upload that finished, nor for one that was never resumable.
  CHECK(memos(state).empty());
}

TEST_CASE("an upload on a terminal shows its progress, and ends at 100% after a resumption") {
  TempDir root, files, state;
  ServerProcess server(root.path());
  const std::string data = random_bytes(9 << 20, 45);
  write_file(files / "big.bin", data);
  CuttingProxy proxy(server.port(), 4 << 20, 1, CuttingProxy::Fault::Hold);
  // The held connection is let go after a while: long enough for the line to be drawn.
  std::thread releaser([&] {
    wait_until([&] { return proxy.faults_done() == 1; }, "the upload is held");
    std::this_thread::sleep_for(1500ms);
    proxy.release_held();
  });
  const std::string url = "http://127.0.0.1:" + std::to_string(proxy.port()) + "/big.bin";
  RunResult r = run({"/usr/bin/script", "-qec",
                     "XDG_STATE_HOME=" + state.path() + " " + binary("httpc") +
                         " -o /dev/null -T " + files / "big.bin" + " " + url,
                     "/dev/null"});
  releaser.join();
  INFO("terminal: " << r.out);
  CHECK(r.status == 0);
  CHECK(r.out.find("resuming the upload at byte") != std::string::npos);
  // The line counts the file (9 MiB), not the answer's few bytes.
  CHECK(r.out.find("9.0 MiB / 9.0 MiB    100%") != std::string::npos);
  CHECK(read_file(root / "big.bin") == data);
}

TEST_CASE("-o a device or a FIFO writes into it, and never replaces it with a file") {
  TempDir root, cwd;
  root.write("a.txt", "through the pipe");
  ServerProcess server(root.path());
  const std::string fifo = cwd / "fifo";
  REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
  // Held open for writing by the test too: the reader's open never blocks, and it sees the
  // end once httpc (if it wrote here at all) and the test have closed it.
  const int keep = ::open(fifo.c_str(), O_RDWR | O_CLOEXEC);
  REQUIRE(keep >= 0);
  std::string got;
  std::thread reader([&] { got = read_file(fifo); });
  RunResult r = httpc({"-o", fifo, server.url("/a.txt")});
  ::close(keep);
  reader.join();
  CHECK(r.status == 0);
  CHECK(got == "through the pipe");
  struct stat st {};
  REQUIRE(::stat(fifo.c_str(), &st) == 0);
  CHECK(S_ISFIFO(st.st_mode));
  CHECK_FALSE(file_exists(fifo + ".part"));
  // The usual sink of benchmarks and scripts stays the device it is.
  r = httpc({"-o", "/dev/null", server.url("/a.txt")});
  CHECK(r.status == 0);
  REQUIRE(::stat("/dev/null", &st) == 0);
  CHECK(S_ISCHR(st.st_mode));
}

// ---- --compressed: content codings -------------------------------------------------------

namespace {

using httpfs::http::Coding;

// 4690 bytes of text, and its br coding: the same fixed bytes as
// tests/unit/http/content_decoder_test.cpp (no brotli encoder is linked).
std::string coding_text() {
  std::string s;
  for (int i = 0; i < 100; ++i)
    s += std::to_string(i) + ": zstd, gzip and br decode to the same bytes\n";
  return s;
}
const char* const kBrText =
    "G1ES4I3UXrW40OwRKl3HhrG6Cwjltr6Sjm4tjh9iEXErDmVwADY8am4ZRlDcelFitXzfp7M0WL0v8wh/KCLIzHnPf0Ua"
    "FEcnZxdXN27dbaLgIoCEgoaBhQPXXcgHAQkFDQMLB667UA8CEgoaBhYOXHehHwQkFDQMLBy47sI8CEgoaBhYOHDdhX0Q"
    "kFDQMLBw4LoL50FAQkHDwMKB6y7cBwEJBQ0DCweuu/AeBCQUNAwsHLjuAA==";

// The coding of coding_text() by name ("zstd", "gzip", "br").
std::string coded_text(const std::string& name) {
  if (name == "br") return *httpfs::http::base64_decode(kBrText);
  return httpfs::http::encode_all(name == "zstd" ? Coding::Zstd : Coding::Gzip, 6, coding_text());
}

// A 200 with `coded` as its content in `coding`, and the digests RFC 9530 gives it.
std::string coded_ok(const std::string& coding, const std::string& coded,
                     const std::string& extra = {}) {
  return ok(coded, "Content-Encoding: " + coding + "\r\nContent-Digest: " + sha256_field(coded) +
                       "\r\n" + extra);
}

}  // namespace

TEST_CASE("--compressed asks for zstd, gzip and br and saves the decoded bytes") {
  const std::string plain = coding_text();
  ScriptedServer s([&](const ReceivedRequest& req, int) {
    const std::string name = req.target.substr(1, req.target.find('?') - 1);
    const std::string coded = coded_text(name);
    if (req.target.ends_with("?repr=decoded"))  // Repr-Digest of the decoded bytes
      return ScriptedReply::bytes(
          coded_ok(name, coded, "Repr-Digest: " + sha256_field(plain) + "\r\n"));
    if (req.target.ends_with("?repr=coded"))  // RFC 9530 B.4: of the coded representation
      return ScriptedReply::bytes(
          coded_ok(name, coded, "Repr-Digest: " + sha256_field(coded) + "\r\n"));
    if (req.target.ends_with("?chunked")) {
      // Chunked, in pieces that arrive one after another.
      ScriptedReply r;
      r.pieces.emplace_back(0ms, "HTTP/1.1 200 OK\r\nContent-Encoding: " + name +
                                     "\r\nTransfer-Encoding: chunked\r\n\r\n");
      for (std::size_t at = 0; at < coded.size(); at += 50) {
        const std::string piece = coded.substr(at, 50);
        std::ostringstream hex;
        hex << std::hex << piece.size();
        r.pieces.emplace_back(5ms, hex.str() + "\r\n" + piece + "\r\n");
      }
      r.pieces.emplace_back(5ms, "0\r\n\r\n");
      return r;
    }
    return ScriptedReply::bytes(coded_ok(name, coded));
  });
  TempDir cwd;
  for (const std::string name : {"zstd", "gzip", "br"}) {
    INFO(name);
    const std::string coded = coded_text(name);
    REQUIRE(coded.size() < plain.size() / 4);
    for (const std::string query : {"", "?repr=decoded", "?repr=coded", "?chunked"}) {
      INFO(query);
      const std::string out = cwd / (name + query.substr(query.empty() ? 0 : 1));
      RunResult r = httpc({"--compressed", "-o", out, s.url("/" + name + query)});
      CHECK(r.status == 0);
      CHECK(r.err.empty());
      CHECK(read_file(out) == plain);
      CHECK_FALSE(file_exists(out + ".part"));
    }
    // To the standard output too, and -v says what it decodes.
    RunResult r = httpc({"--compressed", "-v", s.url("/" + name)});
    CHECK(r.status == 0);
    CHECK(r.out == plain);
    CHECK(r.err.find("> Accept-Encoding: zstd, gzip, br") != std::string::npos);
    CHECK(r.err.find("* Decoding the " + name + " content coding") != std::string::npos);
  }
  for (const ReceivedRequest& req : s.requests())
    CHECK(req.header("Accept-Encoding") == "zstd, gzip, br");
}

TEST_CASE("--compressed: identity is taken as it is; without --compressed nothing is decoded") {
  const std::string plain = coding_text();
  const std::string gz = coded_text("gzip");
  ScriptedServer s([&](const ReceivedRequest& req, int) {
    if (req.target == "/identity")
      return ScriptedReply::bytes(ok(plain, "Content-Encoding: identity\r\n"));
    if (req.target == "/plain") return ScriptedReply::bytes(ok(plain));
    return ScriptedReply::bytes(coded_ok("gzip", gz));
  });
  TempDir cwd;
  CHECK(httpc({"--compressed", s.url("/identity")}).out == plain);
  CHECK(httpc({"--compressed", s.url("/plain")}).out == plain);
  // Without --compressed, httpc asks for nothing and writes what comes, as before.
  RunResult r = httpc({"-o", cwd / "raw.gz", s.url("/gzip")});
  CHECK(r.status == 0);
  CHECK(read_file(cwd / "raw.gz") == gz);
  const std::vector<ReceivedRequest> seen = s.requests();
  REQUIRE(seen.size() == 3);
  CHECK(seen[0].header("Accept-Encoding") == "zstd, gzip, br");
  CHECK(seen[2].header("Accept-Encoding").empty());
  // The user's own Accept-Encoding is sent as given, and what comes is still decoded.
  CHECK(httpc({"--compressed", "-H", "Accept-Encoding: gzip", s.url("/gzip")}).out == plain);
  CHECK(s.requests().at(3).header("Accept-Encoding") == "gzip");
}

TEST_CASE("--compressed: corrupt, truncated, unknown or mismatched coded bodies save nothing") {
  const std::string plain = coding_text();
  const std::string zst = coded_text("zstd"), gz = coded_text("gzip"), br = coded_text("br");
  std::string corrupt = gz;
  corrupt[corrupt.size() / 2] = static_cast<char>(corrupt[corrupt.size() / 2] ^ 0x55);
  const std::string truncated = gz.substr(0, gz.size() - 10);
  ScriptedServer s([&](const ReceivedRequest& req, int) {
    const std::string& t = req.target;
    if (t == "/corrupt") return ScriptedReply::bytes(coded_ok("gzip", corrupt));
    // The server's own framing is complete: only the coded stream tells it was cut.
    if (t == "/truncated") return ScriptedReply::bytes(coded_ok("gzip", truncated));
    if (t == "/trailing") return ScriptedReply::bytes(coded_ok("br", br + "junk"));
    if (t == "/unknown") return ScriptedReply::bytes(coded_ok("compress", gz));
    if (t == "/several") return ScriptedReply::bytes(coded_ok("gzip, br", gz));
    if (t == "/split-fields")
      return ScriptedReply::bytes(ok(gz, "Content-Encoding: gzip\r\nContent-Encoding: br\r\n"));
    if (t == "/content-digest")
      return ScriptedReply::bytes(
          ok(gz, "Content-Encoding: gzip\r\nContent-Digest: " + sha256_field(plain) + "\r\n"));
    if (t == "/repr-digest")
      return ScriptedReply::bytes(
          coded_ok("gzip", gz, "Repr-Digest: " + sha256_field("another file") + "\r\n"));
    return ScriptedReply::bytes("HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n");
  });
  TempDir cwd;
  auto fails = [&](const std::string& name, int code, const std::string& says) {
    INFO(name);
    const std::string out = cwd / name;
    RunResult r = httpc({"--compressed", "-o", out, s.url("/" + name)});
    INFO("stderr: " << r.err);
    CHECK(r.status == code);
    CHECK(r.err.find(says) != std::string::npos);
    CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);  // one line
    CHECK_FALSE(file_exists(out));
    return r;
  };
  fails("corrupt", 11, "the gzip content is corrupt; nothing was saved");
  CHECK_FALSE(file_exists(cwd / "corrupt.part"));
  fails("trailing", 11, "the br content is followed by bytes that are not part of it");
  CHECK_FALSE(file_exists(cwd / "trailing.part"));
  // Truncated: like a body cut short, what was decoded stays for -C -.
  fails("truncated", 8, "the gzip content is truncated; what arrived is kept in");
  const std::string part = read_file(cwd / "truncated.part");
  CHECK(!part.empty());
  CHECK(plain.starts_with(part));
  fails("unknown", 11, "content coding 'compress' is not one httpc decodes");
  CHECK_FALSE(file_exists(cwd / "unknown.part"));
  fails("several", 11, "several content codings (gzip, br)");
  fails("split-fields", 11, "several content codings (gzip, br)");
  CHECK_FALSE(file_exists(cwd / "several.part"));
  // Content-Digest is of the coded bytes: a digest of the decoded ones does not match.
  fails("content-digest", 10, "(Content-Digest); nothing was saved");
  fails("repr-digest", 10, "(Repr-Digest); nothing was saved");
  CHECK_FALSE(file_exists(cwd / "repr-digest.part"));
  // To the standard output: the same codes.
  CHECK(httpc({"--compressed", s.url("/corrupt")}).status == 11);
  CHECK(httpc({"--compressed", s.url("/unknown")}).status == 11);
  // Without --compressed the same answers are saved as they come.
  CHECK(httpc({"-o", cwd / "raw", s.url("/unknown")}).status == 0);
  CHECK(read_file(cwd / "raw") == gz);
}

TEST_CASE("--compressed with -C -: the rest is asked for uncoded, and a coded range refused") {
  const std::string plain = coding_text();
  const std::string half = plain.substr(0, plain.size() / 2);
  const std::string etag = "\"v1\"";
  ScriptedServer s([&](const ReceivedRequest& req, int) {
    const std::string range = req.header("Range");
    if (range.empty())
      return ScriptedReply::bytes(coded_ok("gzip", coded_text("gzip"), "ETag: " + etag + "\r\n"));
    const std::string rest = plain.substr(half.size());
    const std::string content_range = "Content-Range: bytes " + std::to_string(half.size()) + "-" +
                                      std::to_string(plain.size() - 1) + "/" +
                                      std::to_string(plain.size()) + "\r\n";
    const std::string coded = req.target == "/coded-range" ? "Content-Encoding: gzip\r\n" : "";
    return ScriptedReply::bytes(
        "HTTP/1.1 206 Partial Content\r\nContent-Length: " + std::to_string(rest.size()) +
        "\r\nETag: " + etag + "\r\n" + content_range + coded + "Connection: close\r\n\r\n" + rest);
  });
  TempDir cwd;
  const std::string out = cwd / "f.txt";
  write_file(out + ".part", half);
  ::setxattr((out + ".part").c_str(), "user.httpc.validator", etag.data(), etag.size(), 0);
  RunResult r = httpc({"--compressed", "-C", "-", "-o", out, s.url("/f.txt")});
  INFO("stderr: " << r.err);
  CHECK(r.status == 0);
  CHECK(read_file(out) == plain);
  ReceivedRequest seen = s.requests().at(0);
  CHECK(seen.header("Range") == "bytes=" + std::to_string(half.size()) + "-");
  CHECK(seen.header("If-Range") == etag);
  CHECK(seen.header("Accept-Encoding").empty());
  // A server that codes the range anyway: refused, and the .part file is left as it was.
  const std::string out2 = cwd / "g.txt";
  write_file(out2 + ".part", half);
  ::setxattr((out2 + ".part").c_str(), "user.httpc.validator", etag.data(), etag.size(), 0);
  r = httpc({"--compressed", "-C", "-", "-o", out2, s.url("/coded-range")});
  CHECK(r.status == 11);
  CHECK(r.err.find("cannot continue the decoded bytes") != std::string::npos);
  CHECK_FALSE(file_exists(out2));
  CHECK(read_file(out2 + ".part") == half);
  // Nothing to continue: -C - with --compressed asks for a coding as usual.
  const std::string out3 = cwd / "h.txt";
  r = httpc({"--compressed", "-C", "-", "-o", out3, s.url("/h.txt")});
  CHECK(r.status == 0);
  CHECK(read_file(out3) == plain);
  CHECK(s.requests().back().header("Accept-Encoding") == "zstd, gzip, br");
}

TEST_CASE("--compressed decodes a bomb (1 GiB of zeros in 32 KiB of zstd) in constant memory") {
  std::string bomb;
  {
    auto enc = httpfs::http::ContentEncoder::make(Coding::Zstd, 1);
    const std::string zeros(1 << 20, '\0');
    for (int i = 0; i < 1024; ++i) REQUIRE(enc->encode(zeros, false, bomb));
    REQUIRE(enc->encode({}, true, bomb));
  }
  ScriptedServer s(
      [&](const ReceivedRequest&, int) { return ScriptedReply::bytes(coded_ok("zstd", bomb)); });
  // The largest resident size of any child waited for so far: httpc's, once it has run.
  rusage before{};
  ::getrusage(RUSAGE_CHILDREN, &before);
  RunResult r = httpc({"--compressed", "-o", "/dev/null", s.url("/")});
  CHECK(r.status == 0);
  rusage after{};
  ::getrusage(RUSAGE_CHILDREN, &after);
  constexpr long kLimitKiB = 64 << 10;
  if (before.ru_maxrss >= kLimitKiB)
    MESSAGE("memory not checked: an earlier child already used " << before.ru_maxrss << " KiB");
  else
    CHECK(after.ru_maxrss < kLimitKiB);
}

TEST_CASE("--compressed against httpfs, when it codes answers") {
  TempDir root, cwd;
  std::string text;
  while (text.size() < 64 * 1024) text += coding_text();
  root.write("big.txt", text);
  // Old enough for Last-Modified to be a strong validator (RFC 9110 8.8.2.2), for If-Range.
  timespec t[2] = {{1600000000, 0}, {1600000000, 0}};
  ::utimensat(AT_FDCWD, (root / "big.txt").c_str(), t, 0);
  ServerProcess server(root.path());
  const std::string coding =
      get(server.port(), "/big.txt", {"Accept-Encoding: zstd, gzip, br"}, "HEAD")
          .header("Content-Encoding");
  if (coding.empty()) {
    MESSAGE("skipped: this httpfs does not code its answers yet");
    return;
  }
  RunResult r = httpc({"--compressed", "-v", "-o", cwd / "big.txt", server.url("/big.txt")});
  INFO("stderr: " << r.err);
  CHECK(r.status == 0);
  CHECK(r.err.find("* Decoding the " + coding + " content coding") != std::string::npos);
  CHECK(read_file(cwd / "big.txt") == text);
  // A .part file of decoded bytes, kept under the validator a coded answer gives (its ETag is
  // weak: Last-Modified), continues with the identity bytes of the rest.
  const std::string validator = get(server.port(), "/big.txt", {}, "HEAD").header("Last-Modified");
  const std::string part = cwd / "again.txt.part";
  write_file(part, text.substr(0, 10000));
  ::setxattr(part.c_str(), "user.httpc.validator", validator.data(), validator.size(), 0);
  r = httpc({"--compressed", "-C", "-", "-v", "-o", cwd / "again.txt", server.url("/big.txt")});
  CHECK(r.status == 0);
  CHECK(r.err.find("< HTTP/1.1 206 Partial Content") != std::string::npos);
  CHECK(r.err.find("> Accept-Encoding") == std::string::npos);
  CHECK(read_file(cwd / "again.txt") == text);
  // A precompressed sibling, sent byte for byte: br, when that is all the client accepts.
  root.write("page.txt", coding_text());
  root.write("page.txt.br", coded_text("br"));
  r = httpc({"--compressed", "-H", "Accept-Encoding: br", "-v", "-o", cwd / "page.txt",
             server.url("/page.txt")});
  if (r.err.find("< Content-Encoding: br") == std::string::npos) {
    MESSAGE("br not checked: this httpfs does not serve precompressed siblings");
    return;
  }
  CHECK(r.status == 0);
  CHECK(read_file(cwd / "page.txt") == coding_text());
}
