// httpfs serving files: GET and HEAD, validators, ranges, conditionals, freshness after a
// change. The real binary over loopback; raw sockets for exact bytes, curl as a second
// opinion.
#include <doctest/doctest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <regex>
#include <thread>

#include "http/date.hpp"
#include "support/http_client.hpp"

using namespace httpfs::test;

namespace {

std::string last_modified_of(const std::string& path) {
  struct stat st {};
  ::stat(path.c_str(), &st);
  return httpfs::http::format_http_date(st.st_mtim.tv_sec);
}

}  // namespace

TEST_CASE("GET and HEAD of a file carry every header the protocol table asks for") {
  TempDir root;
  root.write("hello.txt", "hello, world\n");
  ServerProcess server(root.path());

  Response r = get(server.port(), "/hello.txt");
  CHECK(r.status == 200);
  CHECK(r.body == "hello, world\n");
  CHECK(r.header("Content-Length") == "13");
  CHECK(r.header("Content-Type") == "text/plain; charset=utf-8");
  CHECK(r.header("Last-Modified") == last_modified_of(root / "hello.txt"));
  CHECK(std::regex_match(r.header("ETag"), std::regex("\"[0-9a-f]+-[0-9a-f]+-[0-9a-f]+\"")));
  CHECK(httpfs::http::parse_http_date(r.header("Date")).has_value());
  CHECK(r.header("Accept-Ranges") == "bytes");
  CHECK(r.keep_alive);

  Response h = get(server.port(), "/hello.txt", {}, "HEAD");
  CHECK(h.status == 200);
  CHECK(h.body.empty());
  CHECK(h.header("Content-Length") == "13");
  CHECK(h.header("ETag") == r.header("ETag"));
  CHECK(h.header("Content-Type") == r.header("Content-Type"));
}

TEST_CASE("media types follow the extension") {
  TempDir root;
  for (const char* f :
       {"a.html", "a.js", "a.mjs", "a.json", "a.wasm", "a.svg", "a.webp", "a.css", "a.md", "a.bin"})
    root.write(f, "x");
  ServerProcess server(root.path());
  CHECK(get(server.port(), "/a.html").header("Content-Type") == "text/html; charset=utf-8");
  CHECK(get(server.port(), "/a.js").header("Content-Type") == "text/javascript; charset=utf-8");
  CHECK(get(server.port(), "/a.mjs").header("Content-Type") == "text/javascript; charset=utf-8");
  CHECK(get(server.port(), "/a.json").header("Content-Type") == "application/json");
  CHECK(get(server.port(), "/a.wasm").header("Content-Type") == "application/wasm");
  CHECK(get(server.port(), "/a.svg").header("Content-Type") == "image/svg+xml");
  CHECK(get(server.port(), "/a.webp").header("Content-Type") == "image/webp");
  CHECK(get(server.port(), "/a.css").header("Content-Type") == "text/css; charset=utf-8");
  CHECK(get(server.port(), "/a.md").header("Content-Type") == "text/markdown; charset=utf-8");
  CHECK(get(server.port(), "/a.bin").header("Content-Type") == "application/octet-stream");
}

TEST_CASE("files of every size arrive intact, small ones cached or not") {
  TempDir root;
  const std::size_t sizes[] = {0,      1, 100, 16 * 1024, 16 * 1024 + 1, 64 * 1024, 64 * 1024 + 1,
                               3 << 20};
  for (std::size_t n : sizes)
    root.write("f" + std::to_string(n), random_bytes(n, static_cast<unsigned>(n)));
  for (std::vector<std::string> args :
       {std::vector<std::string>{}, std::vector<std::string>{"--cache-size", "0"}}) {
    ServerProcess server(root.path(), args);
    for (std::size_t n : sizes) {
      INFO("size " << n << (args.empty() ? " (cache on)" : " (cache off)"));
      for (int round = 0; round < 2; ++round) {  // the second read may come from the cache
        Response r = get(server.port(), "/f" + std::to_string(n));
        CHECK(r.status == 200);
        CHECK(r.body == read_file(root / ("f" + std::to_string(n))));
      }
      // curl's view, to a file
      TempDir out;
      RunResult c = curl({"-o", out / "got", server.url("/f" + std::to_string(n))});
      CHECK(c.status == 0);
      CHECK(read_file(out / "got") == read_file(root / ("f" + std::to_string(n))));
    }
  }
}

TEST_CASE("a changed file is served changed at once, with a new ETag") {
  TempDir root;
  root.write("page.html", "version one");
  ServerProcess server(root.path());
  Response a = get(server.port(), "/page.html");
  Response a2 = get(server.port(), "/page.html");  // now cached
  CHECK(a2.body == "version one");
  // Same size, rewritten in place.
  write_file(root / "page.html", "version two");
  Response b = get(server.port(), "/page.html");
  CHECK(b.body == "version two");
  CHECK(b.header("ETag") != a.header("ETag"));
  // Replaced by rename, as editors and uploads do.
  write_file(root / "page.tmp", "version three, longer");
  ::rename((root / "page.tmp").c_str(), (root / "page.html").c_str());
  CHECK(get(server.port(), "/page.html").body == "version three, longer");
  // Deleted.
  ::unlink((root / "page.html").c_str());
  CHECK(get(server.port(), "/page.html").status == 404);
  // A directory renamed over the path of a cached file's parent.
  root.write("d/x.txt", "old d");
  CHECK(get(server.port(), "/d/x.txt").body == "old d");
  CHECK(get(server.port(), "/d/x.txt").body == "old d");
  root.write("e/x.txt", "new d");
  ::rename((root / "d").c_str(), (root / "gone").c_str());
  ::rename((root / "e").c_str(), (root / "d").c_str());
  CHECK(get(server.port(), "/d/x.txt").body == "new d");
}

TEST_CASE("single and multiple byte ranges") {
  TempDir root;
  std::string data = random_bytes(100000, 7);
  root.write("data.bin", data);
  ServerProcess server(root.path());
  const int port = server.port();

  Response r = get(port, "/data.bin", {"Range: bytes=10-19"});
  CHECK(r.status == 206);
  CHECK(r.body == data.substr(10, 10));
  CHECK(r.header("Content-Range") == "bytes 10-19/100000");
  CHECK(r.header("Content-Length") == "10");

  r = get(port, "/data.bin", {"Range: bytes=-500"});
  CHECK(r.status == 206);
  CHECK(r.body == data.substr(99500));
  CHECK(r.header("Content-Range") == "bytes 99500-99999/100000");

  r = get(port, "/data.bin", {"Range: bytes=40000-"});  // large: goes out with sendfile
  CHECK(r.status == 206);
  CHECK(r.body == data.substr(40000));

  // Two ranges: multipart/byteranges, each part with its own Content-Range.
  r = get(port, "/data.bin", {"Range: bytes=0-9,50000-69999"});
  REQUIRE(r.status == 206);
  std::smatch m;
  std::string ct = r.header("Content-Type");
  REQUIRE(std::regex_search(ct, m, std::regex("multipart/byteranges; boundary=(\\S+)")));
  const std::string boundary = m[1];
  CHECK(std::to_string(r.body.size()) == r.header("Content-Length"));
  const std::string part1 = "--" + boundary +
                            "\r\nContent-Type: application/octet-stream\r\n"
                            "Content-Range: bytes 0-9/100000\r\n\r\n" +
                            data.substr(0, 10);
  const std::string part2 = "--" + boundary +
                            "\r\nContent-Type: application/octet-stream\r\n"
                            "Content-Range: bytes 50000-69999/100000\r\n\r\n" +
                            data.substr(50000, 20000);
  CHECK(r.body == "\r\n" + part1 + "\r\n" + part2 + "\r\n--" + boundary + "--\r\n");

  // Unsatisfiable: 416 with the length.
  r = get(port, "/data.bin", {"Range: bytes=100000-"});
  CHECK(r.status == 416);
  CHECK(r.header("Content-Range") == "bytes */100000");

  // A thousand overlapping ranges (Apache Killer): not 1000 parts.
  std::string killer = "Range: bytes=0-";
  for (int i = 1; i < 1000; ++i) killer += ",5-" + std::to_string(i);
  r = get(port, "/data.bin", {killer});
  CHECK((r.status == 200 || r.status == 416));
  if (r.status == 200) CHECK(r.body == data);

  // If-Range: the current ETag honours the range, another one sends the whole file.
  const std::string etag = get(port, "/data.bin").header("ETag");
  CHECK(get(port, "/data.bin", {"Range: bytes=0-0", "If-Range: " + etag}).status == 206);
  r = get(port, "/data.bin", {"Range: bytes=0-0", "If-Range: \"stale\""});
  CHECK(r.status == 200);
  CHECK(r.body == data);
  // Range on HEAD is ignored.
  CHECK(get(port, "/data.bin", {"Range: bytes=0-0"}, "HEAD").status == 200);

  // curl's view of a range.
  TempDir out;
  RunResult c = curl({"-r", "1000-1999", "-o", out / "part", server.url("/data.bin")});
  CHECK(c.status == 0);
  CHECK(read_file(out / "part") == data.substr(1000, 1000));
}

TEST_CASE("conditional requests: 304 and 412") {
  TempDir root;
  root.write("c.txt", "conditional");
  ServerProcess server(root.path());
  const int port = server.port();
  Response full = get(port, "/c.txt");
  const std::string etag = full.header("ETag");
  const std::string lm = full.header("Last-Modified");

  Response r = get(port, "/c.txt", {"If-None-Match: " + etag});
  CHECK(r.status == 304);
  CHECK(r.body.empty());
  CHECK_FALSE(r.has("Content-Length"));
  CHECK(r.header("ETag") == etag);
  CHECK(get(port, "/c.txt", {"If-None-Match: \"other\", " + etag}).status == 304);
  CHECK(get(port, "/c.txt", {"If-None-Match: \"other\""}).status == 200);
  CHECK(get(port, "/c.txt", {"If-Modified-Since: " + lm}).status == 304);
  CHECK(get(port, "/c.txt", {"If-Modified-Since: Thu, 01 Jan 1970 00:00:00 GMT"}).status == 200);
  CHECK(get(port, "/c.txt", {"If-Match: " + etag}).status == 200);
  CHECK(get(port, "/c.txt", {"If-Match: \"other\""}).status == 412);
  CHECK(get(port, "/c.txt", {"If-Unmodified-Since: Thu, 01 Jan 1970 00:00:00 GMT"}).status == 412);
  CHECK(get(port, "/c.txt", {"If-Unmodified-Since: " + lm}).status == 200);
  // curl -z (If-Modified-Since from a date)
  RunResult c = curl({"-o", "/dev/null", "-w", "%{http_code}", "-z", lm, server.url("/c.txt")});
  CHECK(c.out == "304");
}

TEST_CASE("HTTP/1.0 gets an HTTP/1.0-compatible answer") {
  TempDir root;
  root.write("x.txt", "ten bytes!");
  ServerProcess server(root.path());
  RawConnection c(server.port());
  c.send("GET /x.txt HTTP/1.0\r\n\r\n");
  std::string raw = c.read_until_close(5s);
  CHECK(raw.rfind("HTTP/1.1 200 OK\r\n", 0) == 0);
  CHECK(raw.find("Content-Length: 10\r\n") != std::string::npos);
  CHECK(raw.find("Transfer-Encoding") == std::string::npos);
  CHECK(raw.find("Connection: close\r\n") != std::string::npos);
  CHECK(raw.substr(raw.size() - 10) == "ten bytes!");
}
