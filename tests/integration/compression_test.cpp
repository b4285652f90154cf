// Compression against the real server, judged from outside: curl --compressed and the zstd,
// gzip and brotli command-line tools decode what httpfs sends, and every decoded byte is
// compared with the file on disk. Precompressed siblings (file.zst, file.br, file.gz) are sent
// byte for byte, ranges included, and never when older than the file; bodies coded on the fly
// carry weak, per-coding ETags; every answer that could differ says Vary: Accept-Encoding.
#include <doctest/doctest.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <ctime>
#include <filesystem>
#include <random>
#include <string>
#include <thread>

#include "support/http_client.hpp"
#include "support/process.hpp"
#include "support/wait.hpp"

using namespace httpfs::test;
namespace fs = std::filesystem;

namespace {

bool contains(std::string_view hay, std::string_view needle) {
  return hay.find(needle) != std::string_view::npos;
}

// Words, so that the text compresses like source code does.
std::string text(std::size_t n, unsigned seed = 1) {
  static const char* const kWords[] = {"function ", "return ", "const ", "value", " = ",
                                       "(x) ",      "{\n",     "}\n",    "alpha", "beta "};
  std::mt19937 rng(seed);
  std::string s;
  while (s.size() < n) s += kWords[rng() % 10];
  s.resize(n);
  return s;
}

void set_mtime(const std::string& path, std::time_t sec) {
  timespec ts[2] = {{sec, 0}, {sec, 0}};
  REQUIRE(::utimensat(AT_FDCWD, path.c_str(), ts, 0) == 0);
}

// `bytes` decoded by the command-line tool of `coding` (an outside judge, not our code).
std::string decode_with_tool(const std::string& coding, const std::string& bytes) {
  std::vector<std::string> argv;
  if (coding == "gzip") argv = {"/usr/bin/gzip", "-dc"};
  if (coding == "zstd") argv = {"/usr/bin/zstd", "-dcq"};
  if (coding == "br") argv = {"/usr/bin/brotli", "-dc"};
  REQUIRE_MESSAGE(!argv.empty(), coding);
  RunResult r = run(argv, std::chrono::seconds(60), bytes);
  REQUIRE_MESSAGE(r.status == 0, coding << " -d failed: " << r.err);
  return r.out;
}

// `path` coded by the command-line tool, written beside it with the coding's suffix.
void make_sibling(const std::string& path, const std::string& coding) {
  std::vector<std::string> argv;
  if (coding == "gzip") argv = {"/usr/bin/gzip", "-kf9", path};
  if (coding == "zstd") argv = {"/usr/bin/zstd", "-qf19", path, "-o", path + ".zst"};
  if (coding == "br") argv = {"/usr/bin/brotli", "-kf", path};
  RunResult r = run(argv);
  REQUIRE_MESSAGE(r.status == 0, coding << ": " << r.err);
}

Response get_ae(int port, const std::string& path, const std::string& accept_encoding,
                std::vector<std::string> more = {}, std::string_view method = "GET") {
  more.push_back("Accept-Encoding: " + accept_encoding);
  return get(port, path, more, method);
}

// curl --compressed with the given Accept-Encoding: what curl decoded, and the head.
struct Curled {
  std::string body, head;
};
Curled curl_compressed(const ServerProcess& s, const std::string& path,
                       const std::string& accept_encoding, const TempDir& tmp) {
  const std::string out = tmp / "curl.out", head = tmp / "curl.head";
  RunResult r = curl({"--compressed", "-H", "Accept-Encoding: " + accept_encoding, "-D", head, "-o",
                      out, s.url(path)});
  REQUIRE_MESSAGE(r.status == 0, "curl: " << r.err);
  return {read_file(out), read_file(head)};
}

}  // namespace

TEST_CASE("files of text types are coded on the fly in the coding the client prefers") {
  TempDir root;
  const std::string big = text(3 << 20), small = text(20000, 2);
  root.write("app.js", big);
  root.write("style.css", small);
  ServerProcess s(root.path());
  TempDir tmp;

  for (const std::string coding : {"zstd", "gzip"}) {
    CAPTURE(coding);
    // A large file: streamed in slices (no Content-Length), decoded by curl and by the tool.
    Curled c = curl_compressed(s, "/app.js", coding, tmp);
    CHECK(c.body == big);
    CHECK(contains(c.head, "Content-Encoding: " + coding + "\r\n"));
    CHECK(contains(c.head, "Vary: Accept-Encoding\r\n"));
    CHECK(contains(c.head, "Transfer-Encoding: chunked\r\n"));
    // Ranges of coded bytes made on the fly are not offered.
    CHECK_FALSE(contains(c.head, "Accept-Ranges"));
    Response r = get_ae(s.port(), "/app.js", coding);
    REQUIRE(r.status == 200);
    CHECK(r.body.size() < big.size() / 3);
    CHECK(decode_with_tool(coding, r.body) == big);
    // The ETag is weak (RFC 9110 8.8.1) and names the coding; identity's is strong.
    const std::string etag = r.header("ETag");
    CHECK(etag.starts_with("W/\""));
    CHECK(etag.ends_with("-" + coding + "\""));
    const Response plain = get(s.port(), "/app.js");
    CHECK(plain.header("ETag").starts_with("\""));
    CHECK(etag != "W/" + plain.header("ETag"));
    // 304 for the weak tag, with the same Vary.
    Response nm = get_ae(s.port(), "/app.js", coding, {"If-None-Match: " + etag});
    CHECK(nm.status == 304);
    CHECK(nm.header("ETag") == etag);
    CHECK(nm.header("Vary") == "Accept-Encoding");

    // A small file: coded once from the cache, then sent with its length.
    Response sm = get_ae(s.port(), "/style.css", coding);
    REQUIRE(sm.status == 200);
    CHECK(sm.header("Content-Encoding") == coding);
    CHECK(sm.header("Content-Length") == std::to_string(sm.body.size()));
    CHECK(decode_with_tool(coding, sm.body) == small);
    Response again = get_ae(s.port(), "/style.css", coding);
    CHECK(again.body == sm.body);
  }

  // Browsers' Accept-Encoding: zstd wins; gzip alone gets gzip; q=0 and unknown codings none.
  CHECK(get_ae(s.port(), "/app.js", "gzip, deflate, br, zstd").header("Content-Encoding") ==
        "zstd");
  CHECK(get_ae(s.port(), "/app.js", "zstd;q=0.1, gzip").header("Content-Encoding") == "gzip");
  for (const std::string ae : {"gzip;q=0, zstd;q=0", "deflate", "identity", "br"}) {
    CAPTURE(ae);
    Response r = get_ae(s.port(), "/app.js", ae);
    CHECK(r.status == 200);
    CHECK_FALSE(r.has("Content-Encoding"));
    CHECK(r.body == big);
    CHECK(r.header("Vary") == "Accept-Encoding");
  }
}

TEST_CASE("HEAD sends the head a GET would, coded or not") {
  TempDir root;
  root.write("big.txt", text(1 << 20));
  root.write("small.txt", text(5000));
  ServerProcess s(root.path());
  for (const std::string file : {"/big.txt", "/small.txt"}) {
    CAPTURE(file);
    Response g = get_ae(s.port(), file, "gzip");
    Response h = get_ae(s.port(), file, "gzip", {}, "HEAD");
    REQUIRE(g.status == 200);
    REQUIRE(h.status == 200);
    CHECK(h.body.empty());
    for (const char* name : {"Content-Type", "Content-Encoding", "ETag", "Vary", "Last-Modified",
                             "Content-Length", "Transfer-Encoding"}) {
      CAPTURE(name);
      CHECK(h.header(name) == g.header(name));
    }
  }
}

TEST_CASE("what is never coded on the fly") {
  TempDir root;
  const std::string body = text(50000);
  root.write("page.txt", body);
  root.write("tiny.txt", text(500));
  root.write("photo.png", body);
  root.write("data.bin", body);
  ServerProcess s(root.path());

  // A Range gets identity bytes (206), never a range of a coding made now.
  Response r = get_ae(s.port(), "/page.txt", "gzip", {"Range: bytes=100-199"});
  CHECK(r.status == 206);
  CHECK_FALSE(r.has("Content-Encoding"));
  CHECK(r.body == body.substr(100, 100));
  // Below --compress-min (1 KiB), already compressed or unknown types.
  for (const std::string path : {"/tiny.txt", "/photo.png", "/data.bin"}) {
    CAPTURE(path);
    Response p = get_ae(s.port(), path, "gzip, zstd");
    CHECK(p.status == 200);
    CHECK_FALSE(p.has("Content-Encoding"));
    CHECK(p.body == read_file(root / path.substr(1)));
  }
  // Without Accept-Encoding: identity, and Vary says it could have been otherwise.
  Response plain = get(s.port(), "/page.txt");
  CHECK_FALSE(plain.has("Content-Encoding"));
  CHECK(plain.header("Vary") == "Accept-Encoding");
  CHECK(plain.body == body);
}

TEST_CASE("--compress off, --precompressed off, --compress-min and --compress-max") {
  TempDir root;
  const std::string body = text(50000);
  root.write("page.txt", body);
  root.write("page.txt.gz", "not served");
  {
    ServerProcess s(root.path(), {"--compress", "off", "--precompressed", "off"});
    Response r = get_ae(s.port(), "/page.txt", "gzip, zstd");
    CHECK(r.status == 200);
    CHECK_FALSE(r.has("Content-Encoding"));
    CHECK_FALSE(r.has("Vary"));
    CHECK(r.body == body);
  }
  {
    ServerProcess s(root.path(), {"--precompressed", "off", "--compress-max", "40000"});
    Response r = get_ae(s.port(), "/page.txt", "gzip");
    CHECK_FALSE(r.has("Content-Encoding"));
    CHECK(r.body == body);
    CHECK_FALSE(r.has("Vary"));
  }
  {
    ServerProcess s(root.path(), {"--precompressed", "off", "--compress-min", "60000"});
    CHECK_FALSE(get_ae(s.port(), "/page.txt", "gzip").has("Content-Encoding"));
  }
  {
    ServerProcess s(root.path(), {"--compress-level", "9", "--precompressed", "off"});
    Response r = get_ae(s.port(), "/page.txt", "gzip");
    CHECK(r.header("Content-Encoding") == "gzip");
    CHECK(decode_with_tool("gzip", r.body) == body);
  }
}

TEST_CASE("precompressed siblings are sent byte for byte, ranges of the coded bytes included") {
  TempDir root;
  const std::string body = text(300000);
  root.write("app.js", body);
  for (const std::string coding : {"zstd", "br", "gzip"}) make_sibling(root / "app.js", coding);
  ServerProcess s(root.path());
  TempDir tmp;
  const std::string identity_etag = get(s.port(), "/app.js").header("ETag");

  struct Case {
    std::string accept, coding, suffix;
  };
  const Case cases[] = {{"gzip, deflate, br, zstd", "zstd", ".zst"},
                        {"gzip, br", "br", ".br"},
                        {"gzip", "gzip", ".gz"},
                        {"br;q=0.5, gzip", "gzip", ".gz"},
                        {"*", "zstd", ".zst"}};
  std::vector<std::string> etags{identity_etag};
  for (const Case& c : cases) {
    CAPTURE(c.accept);
    const std::string coded = read_file(root / ("app.js" + c.suffix));
    Response r = get_ae(s.port(), "/app.js", c.accept);
    REQUIRE(r.status == 200);
    CHECK(r.header("Content-Encoding") == c.coding);
    CHECK(r.header("Content-Type") == "text/javascript; charset=utf-8");
    CHECK(r.header("Content-Length") == std::to_string(coded.size()));
    CHECK(r.header("Accept-Ranges") == "bytes");
    CHECK(r.header("Vary") == "Accept-Encoding");
    CHECK(r.body == coded);
    CHECK(decode_with_tool(c.coding, r.body) == body);
    // A strong ETag of its own, distinct from identity's and the other codings'.
    const std::string etag = r.header("ETag");
    CHECK(etag.starts_with("\""));
    if (c.accept == cases[0].accept || c.accept == "gzip, br" || c.accept == "gzip") {
      for (const std::string& other : etags) CHECK(etag != other);
      etags.push_back(etag);
    }
    // A range applies to the coded bytes (RFC 9110 14.1.2), If-Range with its tag.
    Response part =
        get_ae(s.port(), "/app.js", c.accept, {"Range: bytes=1000-1999", "If-Range: " + etag});
    CHECK(part.status == 206);
    CHECK(part.header("Content-Encoding") == c.coding);
    CHECK(part.header("Content-Range") == "bytes 1000-1999/" + std::to_string(coded.size()));
    CHECK(part.body == coded.substr(1000, 1000));
    Response nm = get_ae(s.port(), "/app.js", c.accept, {"If-None-Match: " + etag});
    CHECK(nm.status == 304);
    CHECK(nm.header("Vary") == "Accept-Encoding");
    // curl decodes it to the file.
    CHECK(curl_compressed(s, "/app.js", c.accept, tmp).body == body);
  }
  // The identity bytes, for a client that takes no coding.
  Response plain = get_ae(s.port(), "/app.js", "identity");
  CHECK(plain.body == body);
  CHECK(plain.header("ETag") == identity_etag);

  // At equal q a sibling wins over a coding made now: a browser gets the .br file, not zstd
  // coded on the fly, once there is no .zst; a higher q for zstd still gets zstd.
  fs::remove(root / "app.js.zst");
  Response br = get_ae(s.port(), "/app.js", "gzip, deflate, br, zstd");
  CHECK(br.header("Content-Encoding") == "br");
  CHECK(br.body == read_file(root / "app.js.br"));
  Response z = get_ae(s.port(), "/app.js", "br;q=0.5, zstd");
  CHECK(z.header("Content-Encoding") == "zstd");
  CHECK(z.header("ETag").starts_with("W/"));
  CHECK(decode_with_tool("zstd", z.body) == body);
}

TEST_CASE("a stale, odd or outside sibling is never sent") {
  TempDir root, outside;
  const std::string body = text(100000);
  root.write("app.js", body);
  // A .gz of other bytes, older than the file: what nginx's gzip_static would send.
  root.write("stale.src", "old contents\n");
  make_sibling(root / "stale.src", "gzip");
  fs::rename(root / "stale.src.gz", root / "app.js.gz");
  set_mtime(root / "app.js.gz", std::time(nullptr) - 3600);
  // A .br that is a directory; a .zst that leads outside the root.
  root.mkdir("app.js.br");
  outside.write("secret.zst", "outside bytes");
  fs::create_symlink(outside / "secret.zst", root / "app.js.zst");
  ServerProcess s(root.path());

  for (int i = 0; i < 3; ++i) {
    Response r = get_ae(s.port(), "/app.js", "gzip");
    REQUIRE(r.status == 200);
    CHECK(r.header("Content-Encoding") == "gzip");
    CHECK(r.header("ETag").starts_with("W/"));  // coded now, not the stale file
    CHECK(decode_with_tool("gzip", r.body) == body);
    Response z = get_ae(s.port(), "/app.js", "br, zstd");
    CHECK(z.header("Content-Encoding") == "zstd");
    CHECK(decode_with_tool("zstd", z.body) == body);
    Response b = get_ae(s.port(), "/app.js", "br");
    CHECK_FALSE(b.has("Content-Encoding"));
    CHECK(b.body == body);
  }
  // Said once, however often it is skipped.
  std::string err;
  wait_until(
      [&] {
        err = s.process().err();
        return contains(err, "app.js.gz: older than the file");
      },
      "the stale sibling's log line");
  const std::size_t first = err.find("app.js.gz: older");
  CHECK(err.find("app.js.gz: older", first + 1) == std::string::npos);

  // Made again (now newer than the file), it is sent.
  make_sibling(root / "app.js", "gzip");
  Response fresh = get_ae(s.port(), "/app.js", "gzip");
  CHECK(fresh.body == read_file(root / "app.js.gz"));
  CHECK(fresh.header("ETag").starts_with("\""));
}

TEST_CASE("large listings are coded, in slices") {
  TempDir root;
  for (int i = 0; i < 3000; ++i) root.write("d/file-with-a-long-name-" + std::to_string(i), "x");
  ServerProcess s(root.path());
  for (const std::string format : {"html", "json", "text"}) {
    CAPTURE(format);
    const std::string target = "/d/?format=" + format;
    Response plain = get(s.port(), target);
    REQUIRE(plain.status == 200);
    CHECK(plain.body.size() > 64 * 1024);  // more than one slice
    for (const std::string coding : {"zstd", "gzip"}) {
      Response r = get_ae(s.port(), target, coding);
      REQUIRE(r.status == 200);
      CHECK(r.header("Content-Encoding") == coding);
      CHECK(r.header("Vary") == "Accept, Accept-Encoding");
      CHECK(r.header("Content-Type") == plain.header("Content-Type"));
      CHECK(decode_with_tool(coding, r.body) == plain.body);
      CHECK(r.body.size() < plain.body.size() / 4);
    }
  }
  // A small listing is coded at once, with its length.
  root.write("e/a.txt", "x");
  Response small = get_ae(s.port(), "/e/", "gzip");
  CHECK_FALSE(small.has("Content-Encoding"));  // below --compress-min
}

TEST_CASE("a file that shrinks while it is coded cuts the response off") {
  TempDir root;
  // Incompressible bytes: the coded body is as large as the file, more than the socket holds.
  const std::string noise = random_bytes(24 << 20, 5);
  root.write("noise.txt", noise);
  ServerProcess s(root.path(), {"--cache-size", "0"});
  RawConnection c(s.port());
  REQUIRE(
      c.send("GET /noise.txt HTTP/1.1\r\nHost: x\r\nAccept-Encoding: gzip\r\n"
             "Connection: close\r\n\r\n"));
  // Let the first slices out, then cut the file short under the server.
  wait_until([&] { return c.unread() > 0; }, "the first bytes");
  REQUIRE(::truncate((root / "noise.txt").c_str(), 1 << 20) == 0);
  const std::string got = c.read_until_close(std::chrono::seconds(60));
  CHECK(contains(got, "Content-Encoding: gzip"));
  // Never the last chunk: the client sees an incomplete body, not a well-formed short one.
  CHECK_FALSE(got.ends_with("0\r\n\r\n"));
  CHECK(got.size() < noise.size());
}
