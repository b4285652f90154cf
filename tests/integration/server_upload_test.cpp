// Uploads: PUT/POST create or replace a file atomically, DELETE removes one; nothing is ever
// lost or half-written, whatever the client or the disk does.
#include <dirent.h>
#include <doctest/doctest.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <thread>

#include "http/base64.hpp"
#include "support/http_client.hpp"
#include "support/vectors.hpp"
#include "support/wait.hpp"

using namespace httpfs::test;

namespace {

std::string put_head(const std::string& path, std::size_t length,
                     const std::vector<std::string>& extra = {}) {
  std::string h =
      "PUT " + path + " HTTP/1.1\r\nHost: h\r\nContent-Length: " + std::to_string(length) + "\r\n";
  for (const std::string& e : extra) h += e + "\r\n";
  return h + "\r\n";
}

Response put(int port, const std::string& path, const std::string& body,
             const std::vector<std::string>& extra = {}) {
  return request(port, put_head(path, body.size(), extra) + body);
}

// The sizes, smallest first, of the uploads a server is receiving into `dir`: its temporary
// files there, unnamed (O_TMPFILE: /proc shows "#<inode> (deleted)") or, where the file
// system lacks that, hidden and named. A replaced file it still has open is no upload.
std::vector<long long> uploads_in_progress(pid_t server, const std::string& dir) {
  std::vector<long long> sizes;
  for (const OpenFile& f : open_files(server)) {
    if (!f.path.starts_with(dir + "/")) continue;
    const std::string name = f.path.substr(dir.size() + 1);
    if (name.find('/') != std::string::npos) continue;
    if ((name.starts_with('#') && name.ends_with(" (deleted)")) ||
        name.find(".httpfs-tmp-") != std::string::npos)
      sizes.push_back(f.size);
  }
  std::sort(sizes.begin(), sizes.end());
  return sizes;
}

using Sizes = std::vector<long long>;

std::string sha256_b64(const std::string& data) {
  std::string hex = sha256_hex(data), raw;
  for (std::size_t i = 0; i < hex.size(); i += 2)
    raw += static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16));
  return httpfs::http::base64_encode(raw);
}

}  // namespace

TEST_CASE("PUT creates (201) and replaces (204); POST to a path does the same") {
  TempDir root;
  ServerProcess server(root.path());
  Response r = put(server.port(), "/new.txt", "first");
  CHECK(r.status == 201);
  CHECK(r.body == "File Created\n");
  CHECK(r.header("Location") == "/new.txt");
  CHECK(!r.header("ETag").empty());
  CHECK(read_file(root / "new.txt") == "first");
  Response g = get(server.port(), "/new.txt");
  CHECK(g.body == "first");
  CHECK(g.header("ETag") == r.header("ETag"));

  r = put(server.port(), "/new.txt", "second, longer");
  CHECK(r.status == 204);
  CHECK(r.body.empty());
  CHECK(get(server.port(), "/new.txt").body == "second, longer");

  r = request(server.port(),
              "POST /posted.bin HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\nabc");
  CHECK(r.status == 201);
  CHECK(read_file(root / "posted.bin") == "abc");

  // An empty body makes an empty file.
  r = request(server.port(), "PUT /empty HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\n\r\n");
  CHECK(r.status == 201);
  CHECK(file_exists(root / "empty"));
  CHECK(read_file(root / "empty").empty());

  // Names that need encoding round-trip through Location.
  r = put(server.port(), "/caf%C3%A9%20menu.txt", "x");
  CHECK(r.status == 201);
  CHECK(r.header("Location") == "/caf%C3%A9%20menu.txt");
  CHECK(read_file(root / "café menu.txt") == "x");
  CHECK(entries(root.path()) ==
        std::vector<std::string>{"café menu.txt", "empty", "new.txt", "posted.bin"});
}

TEST_CASE("curl -T: new file, nested new directories, chunked from stdin, byte for byte") {
  TempDir root, src;
  const std::string data = random_bytes(3 << 20, 9);
  write_file(src / "in.bin", data);
  ServerProcess server(root.path());
  RunResult c = curl(
      {"-o", "/dev/null", "-w", "%{http_code}", "-T", src / "in.bin", server.url("/a/b/c/in.bin")});
  CHECK(c.out == "201");
  CHECK(read_file(root / "a/b/c/in.bin") == data);
  // curl -T - sends a chunked body.
  RunResult ch = run({"/bin/sh", "-c",
                      "curl -sS -o /dev/null -w '%{http_code}' -T - " +
                          server.url("/from-stdin.bin") + " < " + src / "in.bin"});
  CHECK(ch.out == "201");
  CHECK(read_file(root / "from-stdin.bin") == data);
  // Several small chunks, raw.
  Response r = request(server.port(),
                       "PUT /chunks.txt HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
                       "5\r\nhello\r\n1;ext=1\r\n \r\n5\r\nworld\r\n0\r\nX-Trailer: t\r\n\r\n");
  CHECK(r.status == 201);
  CHECK(read_file(root / "chunks.txt") == "hello world");
}

TEST_CASE("where an upload cannot go: 409, 405, 403") {
  TempDir root;
  root.mkdir("dir");
  root.write("file", "f");
  ::symlink("file", (root / "link").c_str());
  ServerProcess server(root.path());
  CHECK(put(server.port(), "/dir", "x").status == 409);       // a directory is there
  CHECK(put(server.port(), "/dir/", "x").status == 405);      // a directory path
  CHECK(put(server.port(), "/file/sub", "x").status == 409);  // a parent is a file
  CHECK(put(server.port(), "/link", "x").status == 403);      // not over a symlink
  CHECK(put(server.port(), "/.hidden", "x").status == 403);   // hidden paths
  CHECK(put(server.port(), "/../escape", "x").status == 400);
  CHECK(read_file(root / "file") == "f");
  ServerProcess strict(root.path(), {"--no-create-dirs"});
  CHECK(put(strict.port(), "/missing/x.txt", "x").status == 409);
  CHECK_FALSE(file_exists(root / "missing"));
}

TEST_CASE("Expect: 100-continue: 100 only when the upload will be accepted") {
  TempDir root;
  root.write("exists.txt", "old");
  {
    ServerProcess server(root.path());
    RawConnection c(server.port());
    c.send(put_head("/ok.txt", 5, {"Expect: 100-continue"}));
    // The interim answer comes at once, before any body byte.
    auto t0 = std::chrono::steady_clock::now();
    CHECK(c.wait_closed(300ms) == false);
    CHECK(c.buffered() == "HTTP/1.1 100 Continue\r\n\r\n");
    CHECK(std::chrono::steady_clock::now() - t0 < 1s);
    c.send("12345");
    auto r = c.read_response();
    REQUIRE(r);
    CHECK(r->status == 201);
    CHECK(read_file(root / "ok.txt") == "12345");

    // Refused before the body: the final answer, no 100, and the body is never read.
    struct Case {
      std::string head;
      int status;
    };
    const std::vector<Case> refusals = {
        {put_head("/exists.txt", 5, {"Expect: 100-continue", "If-None-Match: *"}), 412},
        {put_head("/huge.bin", 1ull << 60, {"Expect: 100-continue"}), 413},
        {put_head("/dir/", 5, {"Expect: 100-continue"}), 405},
    };
    for (const Case& k : refusals) {
      RawConnection rc(server.port());
      rc.send(k.head);
      auto fin = rc.read_response(httpfs::http::Method::Put, 2s);
      REQUIRE(fin);
      CHECK(fin->status == k.status);
      CHECK(rc.wait_closed(5s));
    }
  }
  // Servers that will refuse: the final answer comes at once, instead of 100.
  const std::vector<std::pair<std::vector<std::string>, int>> refusals = {
      {{"--read-only"}, 403}, {{"--auth", "u:p"}, 401}, {{"--max-body", "4"}, 413}};
  for (const auto& refusal : refusals) {
    // Named, not a structured binding: INFO captures it, which clang 14 (the fuzz build)
    // cannot do with a binding.
    const std::vector<std::string>& args = refusal.first;
    const int status = refusal.second;
    INFO("httpfs " << args.front());
    ServerProcess refusing(root.path(), args);
    RawConnection rc(refusing.port());
    rc.send(put_head("/x", 5, {"Expect: 100-continue"}));
    auto fin = rc.read_response(httpfs::http::Method::Put, 2s);
    REQUIRE(fin);
    CHECK(fin->status == status);
  }
  CHECK(entries(root.path()) == std::vector<std::string>{"exists.txt", "ok.txt"});
}

TEST_CASE("aborts leave the old file intact and no temporary file behind") {
  TempDir root;
  root.write("target.txt", "the original");
  ServerProcess server(root.path());
  const int fds_before = fd_count(server.pid());
  // Disconnect mid-body.
  {
    RawConnection c(server.port());
    c.send(put_head("/target.txt", 1000000) + std::string(300000, 'x'));
    wait_until([&] { return uploads_in_progress(server.pid(), root.path()) == Sizes{300000}; },
               "the server has written the 300000 bytes sent to its temporary file");
  }
  wait_for_output(server.process(), Stream::Err, "upload aborted at byte 300000 of 1000000");
  // A short body: the client promises more than it sends, then closes its side.
  {
    RawConnection c(server.port());
    c.send(put_head("/target.txt", 100) + "only this");
    c.shutdown_write();
    CHECK(c.wait_closed(5s));
  }
  // A broken chunk.
  {
    RawConnection c(server.port());
    c.send(
        "PUT /target.txt HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: "
        "chunked\r\n\r\n5\r\nhelloXX\r\n");
    auto r = c.read_response();
    REQUIRE(r);
    CHECK(r->status == 400);
    CHECK(c.wait_closed(5s));
  }
  // More than --max-body when chunked (the length was not known in advance).
  {
    ServerProcess small(root.path(), {"--max-body", "1000"});
    RawConnection c(small.port());
    std::string body = "PUT /target.txt HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n";
    for (int i = 0; i < 20; ++i) body += "64\r\n" + std::string(100, 'z') + "\r\n";
    c.send(body);
    auto r = c.read_response();
    REQUIRE(r);
    CHECK(r->status == 413);
  }
  // The server has closed the aborted connections and their uploads' temporary files.
  wait_until([&] { return fd_count(server.pid()) == fds_before; },
             "the server holds as many descriptors as before the uploads");
  CHECK(read_file(root / "target.txt") == "the original");
  CHECK(entries(root.path()) == std::vector<std::string>{"target.txt"});
  CHECK(fd_count(server.pid()) == fds_before);  // the temporary files' descriptors are gone
  // The old file was readable, unchanged, all along; a new upload still works.
  CHECK(get(server.port(), "/target.txt").body == "the original");
  CHECK(put(server.port(), "/target.txt", "replaced").status == 204);
}

TEST_CASE("the old file stays readable and unchanged until the new one is complete") {
  TempDir root;
  root.write("doc.txt", "version 1");
  ServerProcess server(root.path());
  RawConnection up(server.port());
  up.send(put_head("/doc.txt", 20) + "version 2 part");
  wait_until([&] { return uploads_in_progress(server.pid(), root.path()) == Sizes{14}; },
             "the server has written the first 14 bytes of the new version");
  CHECK(get(server.port(), "/doc.txt").body == "version 1");
  up.send(" two!!");
  auto r = up.read_response();
  REQUIRE(r);
  CHECK(r->status == 204);
  CHECK(get(server.port(), "/doc.txt").body == "version 2 part two!!");
}

TEST_CASE("conditional writes: If-None-Match: * and If-Match, races included") {
  TempDir root;
  ServerProcess server(root.path());
  const int port = server.port();
  CHECK(put(port, "/once.txt", "a", {"If-None-Match: *"}).status == 201);
  CHECK(put(port, "/once.txt", "b", {"If-None-Match: *"}).status == 412);
  CHECK(read_file(root / "once.txt") == "a");

  const std::string etag = get(port, "/once.txt").header("ETag");
  CHECK(put(port, "/once.txt", "c", {"If-Match: \"stale\""}).status == 412);
  CHECK(put(port, "/once.txt", "c", {"If-Match: " + etag}).status == 204);
  CHECK(put(port, "/once.txt", "d", {"If-Match: " + etag}).status == 412);  // changed since
  CHECK(read_file(root / "once.txt") == "c");

  // Two create-only uploads of one new name, both past their checks before either commits:
  // exactly one wins.
  RawConnection a(port), b(port);
  a.send(put_head("/race.txt", 6, {"If-None-Match: *"}) + "AAA");
  b.send(put_head("/race.txt", 6, {"If-None-Match: *"}) + "BBB");
  const auto uploads = [&] { return uploads_in_progress(server.pid(), root.path()); };
  wait_until(
      [&] {
        return uploads() == Sizes{3, 3};
      },
      "both uploads are past their checks, half written");
  a.send("AAA");
  b.send("BBB");
  auto ra = a.read_response(), rb = b.read_response();
  REQUIRE(ra);
  REQUIRE(rb);
  std::vector<int> got = {ra->status, rb->status};
  std::sort(got.begin(), got.end());
  CHECK(got == std::vector<int>{201, 412});
  const std::string content = read_file(root / "race.txt");
  CHECK((content == "AAAAAA" || content == "BBBBBB"));

  // If-Match checked again at commit: a writer that replaced the file meanwhile wins.
  const std::string e2 = get(port, "/once.txt").header("ETag");
  RawConnection slow(port);
  slow.send(put_head("/once.txt", 4, {"If-Match: " + e2}) + "sl");
  wait_until([&] { return uploads() == Sizes{2}; },
             "the slow upload is past its check, half written");
  CHECK(put(port, "/once.txt", "fast").status == 204);
  slow.send("ow");
  auto rs = slow.read_response();
  REQUIRE(rs);
  CHECK(rs->status == 412);
  CHECK(read_file(root / "once.txt") == "fast");
}

TEST_CASE("concurrent uploads of one path: the last rename wins, never a mix") {
  TempDir root;
  ServerProcess server(root.path());
  const std::string one = random_bytes(20 << 20, 1), two = random_bytes(20 << 20, 2);
  TempDir src;
  write_file(src / "one", one);
  write_file(src / "two", two);
  std::thread t1([&] { curl({"-o", "/dev/null", "-T", src / "one", server.url("/same.bin")}); });
  std::thread t2([&] { curl({"-o", "/dev/null", "-T", src / "two", server.url("/same.bin")}); });
  t1.join();
  t2.join();
  const std::string got = read_file(root / "same.bin");
  CHECK(got.size() == one.size());
  CHECK((got == one || got == two));
  CHECK(entries(root.path()) == std::vector<std::string>{"same.bin"});
}

TEST_CASE("Content-Digest is checked before the rename") {
  TempDir root;
  root.write("d.txt", "before");
  ServerProcess server(root.path());
  const std::string body = "checked content";
  CHECK(put(server.port(), "/d.txt", body, {"Content-Digest: sha-256=:" + sha256_b64(body) + ":"})
            .status == 204);
  CHECK(read_file(root / "d.txt") == body);
  Response bad = put(server.port(), "/d.txt", "tampered content",
                     {"Content-Digest: sha-256=:" + sha256_b64(body) + ":"});
  CHECK(bad.status == 400);
  CHECK(read_file(root / "d.txt") == body);
  CHECK(put(server.port(), "/d.txt", "x", {"Content-Digest: sha-256=:notbase64:"}).status == 400);
  CHECK(put(server.port(), "/e.txt", "x", {"Content-Digest: sha-512=:AAAA:"}).status ==
        201);  // no sha-256: not checked
  // Chunked with a digest too.
  Response ch = request(
      server.port(),
      "PUT /f.txt HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\nContent-Digest: sha-256=:" +
          sha256_b64("abcdef") + ":\r\n\r\n3\r\nabc\r\n3\r\ndef\r\n0\r\n\r\n");
  CHECK(ch.status == 201);
  CHECK(entries(root.path()) == std::vector<std::string>{"d.txt", "e.txt", "f.txt"});
}

TEST_CASE("--read-only and Basic credentials") {
  TempDir root;
  root.write("r.txt", "readable");
  {
    ServerProcess ro(root.path(), {"--read-only"});
    CHECK(put(ro.port(), "/w.txt", "x").status == 403);
    CHECK(get(ro.port(), "/r.txt", {}, "DELETE").status == 403);
    CHECK(get(ro.port(), "/r.txt").body == "readable");
    CHECK(get(ro.port(), "/", {}, "OPTIONS").header("Allow") == "GET, HEAD, OPTIONS, PROPFIND");
  }
  const std::string good = "Authorization: Basic " + httpfs::http::base64_encode("alice:s3cret");
  const std::string bad = "Authorization: Basic " + httpfs::http::base64_encode("alice:wrong");
  {
    ServerProcess auth(root.path(), {"--auth", "alice:s3cret"});
    Response r = put(auth.port(), "/w.txt", "x");
    CHECK(r.status == 401);
    CHECK(r.header("WWW-Authenticate") == "Basic realm=\"httpfs\", charset=\"UTF-8\"");
    CHECK(put(auth.port(), "/w.txt", "x", {bad}).status == 401);
    CHECK(put(auth.port(), "/w.txt", "x", {good}).status == 201);
    CHECK(get(auth.port(), "/r.txt").status == 200);  // reads stay public
    CHECK(get(auth.port(), "/w.txt", {}, "DELETE").status == 401);
    CHECK(get(auth.port(), "/w.txt", {good}, "DELETE").status == 204);
    CHECK(auth.stop() == 0);
    CHECK(auth.access_log().find(" - alice [") != std::string::npos);  // the user is logged
  }
  {
    // A crypt(3) hash in a file, as `openssl passwd -6` makes it.
    TempDir etc;
    RunResult h = run({"/usr/bin/openssl", "passwd", "-6", "-salt", "xyz", "s3cret"});
    REQUIRE(h.status == 0);
    write_file(etc / "users", "# users\nalice:" + h.out);
    ServerProcess auth(root.path(), {"--auth-file", etc / "users", "--auth-all"});
    CHECK(get(auth.port(), "/r.txt").status == 401);  // --auth-all: reads too
    CHECK(get(auth.port(), "/r.txt", {good}).body == "readable");
    CHECK(get(auth.port(), "/r.txt", {good}).body == "readable");  // again (remembered)
    CHECK(get(auth.port(), "/r.txt", {bad}).status == 401);
    CHECK(put(auth.port(), "/w2.txt", "y", {good}).status == 201);
  }
  RunResult r = run({binary("httpfs"), "--auth", "nocolon", "-p", "0"});
  CHECK(r.status == 2);
  r = run({binary("httpfs"), "--auth-all", "-p", "0"});
  CHECK(r.status == 2);
}

TEST_CASE("DELETE: 204, 404; a collection goes with everything in it") {
  TempDir root;
  root.write("gone.txt", "x");
  root.write("full/inside", "x");
  root.write("full/deeper/.hidden", "x");
  root.write("keep/inside", "x");
  root.mkdir("empty");
  ServerProcess server(root.path());
  CHECK(get(server.port(), "/gone.txt", {}, "DELETE").status == 204);
  CHECK_FALSE(file_exists(root / "gone.txt"));
  CHECK(get(server.port(), "/gone.txt", {}, "DELETE").status == 404);
  CHECK(curl({"-o", "/dev/null", "-w", "%{http_code}", "-X", "DELETE", server.url("/keep/inside")})
            .out == "204");
  // RFC 4918 9.6.1: DELETE of a collection acts as if Depth: infinity.
  CHECK(get(server.port(), "/full", {}, "DELETE").status == 204);
  CHECK_FALSE(file_exists(root / "full"));
  CHECK(get(server.port(), "/empty/", {}, "DELETE").status == 204);
  CHECK(get(server.port(), "/", {}, "DELETE").status == 403);
  CHECK(get(server.port(), "/../x", {}, "DELETE").status == 400);
  CHECK(entries(root.path()) == std::vector<std::string>{"keep"});
}

TEST_CASE("a stalled upload is cut at the body timeout and leaves nothing") {
  TempDir root;
  ServerProcess server(root.path(), {"--body-timeout", "1"});
  RawConnection c(server.port());
  c.send(put_head("/slow.bin", 1000) + "only a little");
  const auto t0 = std::chrono::steady_clock::now();
  CHECK(c.wait_closed(5s));
  const auto took = std::chrono::steady_clock::now() - t0;
  CHECK(took >= 800ms);
  CHECK(took < 3s);
  CHECK(entries(root.path()).empty());
  CHECK(server.stop() == 0);
  CHECK(server.process().err().find("upload aborted at byte 13 of 1000") != std::string::npos);
}

TEST_CASE("a full disk answers 507, removes the partial file and keeps serving") {
  TempDir root;
  const std::string small = root / "small";
  TmpfsMount mount(small, "1m");
  if (!mount.mounted()) {
    MESSAGE("skipped: " << mount.why());
    return;
  }
  struct statvfs before {};
  ::statvfs(small.c_str(), &before);
  {
    ServerProcess server(small);
    // Declared too large: refused before the body (507).
    CHECK(put(server.port(), "/big.bin", std::string(2 << 20, 'x')).status == 507);
    // Chunked: the disk fills while writing (ENOSPC): 507, the partial file removed.
    std::string chunked = "PUT /big.bin HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n";
    for (int i = 0; i < 32; ++i) chunked += "10000\r\n" + std::string(0x10000, 'y') + "\r\n";
    chunked += "0\r\n\r\n";
    Response r = request(server.port(), chunked);
    CHECK(r.status == 507);
    CHECK(entries(small).empty());
    struct statvfs after {};
    ::statvfs(small.c_str(), &after);
    CHECK(after.f_bavail == before.f_bavail);  // the space came back
    // And the next small upload works.
    CHECK(put(server.port(), "/ok.txt", "fits").status == 201);
    CHECK(server.stop() == 0);
    CHECK(server.process().err().find("upload failed at byte") != std::string::npos);
  }
}

TEST_CASE("kill -9 mid-upload: no partial file, and a restart sweeps stale temporary files") {
  TempDir root;
  root.write("keep.txt", "old");
  {
    ServerProcess server(root.path());
    server.expect_unclean_exit();
    RawConnection c(server.port());
    c.send(put_head("/keep.txt", 1 << 20) + std::string(512 << 10, 'k'));
    wait_until([&] { return uploads_in_progress(server.pid(), root.path()) == Sizes{512 << 10}; },
               "the server has written the 512 KiB sent to its temporary file");
    server.process().signal(SIGKILL);
    CHECK(server.process().wait(5s) == 128 + SIGKILL);
  }
  CHECK(read_file(root / "keep.txt") == "old");
  // O_TMPFILE left nothing; a named temporary file, as a crash between link and rename (or a
  // file system without O_TMPFILE) would leave it, goes at the next start.
  root.write(".httpfs-tmp-999999-1", "stale");
  root.write("sub/.httpfs-tmp-999998-7", "stale");
  ServerProcess again(root.path());
  CHECK(entries(root.path()) == std::vector<std::string>{"keep.txt", "sub"});
  CHECK(again.stop() == 0);
  CHECK(again.process().err().find("removed 2 temporary file") != std::string::npos);
  CHECK(entries(root / "sub").empty());
}
