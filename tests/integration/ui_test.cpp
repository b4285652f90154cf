// The browser page as the server delivers it: which directory requests get the page and which
// the plain listing, the page's compiled-in files under /.httpfs-ui/<version>/ (types, a year
// of caching, 304, coded copies), the security fields on the page, the sandbox policy on the
// users' files, and the refusal of writes that browsers say come from another site.
#include <doctest/doctest.h>

#include <regex>
#include <string>

#include "support/http_client.hpp"
#include "support/process.hpp"

using namespace httpfs::test;

namespace {

bool contains(std::string_view hay, std::string_view needle) {
  return hay.find(needle) != std::string_view::npos;
}

// What Chromium sends for a navigation.
const std::string kBrowserAccept =
    "Accept: text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,"
    "*/*;q=0.8";

const std::string kPolicy =
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
    "media-src 'self' blob:; connect-src 'self'; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'";

bool is_page(const Response& r) {
  return r.status == 200 && contains(r.body, "<div id=\"app\"></div>") &&
         contains(r.body, "/.httpfs-ui/");
}

// The versioned asset URLs the page names.
std::vector<std::string> asset_urls(const std::string& page) {
  std::vector<std::string> out;
  const std::regex re(R"re((?:href|src)="(/\.httpfs-ui/[0-9a-f]{12}/[a-z.]+)")re");
  for (auto it = std::sregex_iterator(page.begin(), page.end(), re); it != std::sregex_iterator();
       ++it)
    out.push_back((*it)[1]);
  return out;
}

std::string decode(const std::string& coding, const std::string& bytes) {
  const std::vector<std::string> argv = coding == "gzip"
                                            ? std::vector<std::string>{"/usr/bin/gzip", "-dc"}
                                            : std::vector<std::string>{"/usr/bin/zstd", "-dcq"};
  RunResult r = run(argv, std::chrono::seconds(30), bytes);
  REQUIRE_MESSAGE(r.status == 0, r.err);
  return r.out;
}

}  // namespace

TEST_CASE("a browser opening a folder gets the page; everyone else the plain listing") {
  TempDir root;
  root.write("d/a.txt", "a");
  root.write("<script>alert(1)</script>/x.txt", "x");
  root.write("site/index.html", "<p>my own index</p>");
  ServerProcess s(root.path());

  Response page = get(s.port(), "/d/", {kBrowserAccept});
  REQUIRE(is_page(page));
  CHECK(page.header("Content-Type") == "text/html; charset=utf-8");
  CHECK(page.header("Content-Security-Policy") == kPolicy);
  CHECK(page.header("X-Content-Type-Options") == "nosniff");
  CHECK(page.header("X-Frame-Options") == "DENY");
  CHECK(page.header("Referrer-Policy") == "same-origin");
  CHECK(page.header("Cache-Control") == "no-cache");
  CHECK(page.header("Vary") == "Accept");
  CHECK(contains(page.body, "data-read-only=\"false\""));
  CHECK(contains(page.body, "data-auth=\"none\""));
  CHECK(contains(page.body, "<title>/d/ "));
  CHECK(contains(page.body, "<noscript>"));
  CHECK(contains(page.body, "href=\"?format=html\""));
  CHECK_FALSE(contains(page.body, "<script>\n"));  // no inline script: the CSP forbids it
  // HEAD: the same head.
  Response head = get(s.port(), "/d/", {kBrowserAccept}, "HEAD");
  CHECK(head.header("Content-Length") == page.header("Content-Length"));

  // A hostile folder name is text in the title.
  Response hostile = get(s.port(), "/%3Cscript%3Ealert(1)%3C/script%3E/", {kBrowserAccept});
  REQUIRE(is_page(hostile));
  CHECK(contains(hostile.body, "<title>/&lt;script&gt;alert(1)&lt;/script&gt;/ "));
  CHECK_FALSE(contains(hostile.body, "<script>alert"));

  // The plain listing: curl's */*, ?format=, JSON by Accept; a folder's own index.html wins.
  CHECK_FALSE(is_page(get(s.port(), "/d/")));
  CHECK(contains(get(s.port(), "/d/").body, "a.txt"));
  Response fmt = get(s.port(), "/d/?format=html", {kBrowserAccept});
  CHECK_FALSE(is_page(fmt));
  CHECK(contains(fmt.body, "href=\"./a.txt\""));
  CHECK(get(s.port(), "/d/", {"Accept: application/json"}).header("Content-Type") ==
        "application/json");
  CHECK(get(s.port(), "/d/", {"Accept: text/*"}).body.find("/.httpfs-ui/") == std::string::npos);
  CHECK(get(s.port(), "/site/", {kBrowserAccept}).body == "<p>my own index</p>");
  // Sorting in the URL still gets the page (it sorts itself).
  CHECK(is_page(get(s.port(), "/d/?sort=size&order=desc", {kBrowserAccept})));

  ServerProcess off(root.path(), {"--ui", "off"});
  Response plain = get(off.port(), "/d/", {kBrowserAccept});
  CHECK_FALSE(is_page(plain));
  CHECK(contains(plain.body, "href=\"./a.txt\""));
  CHECK(get(off.port(), "/.httpfs-ui/").status == 404);
}

TEST_CASE("the page's files: every one it names, cached for good, coded, 304, and nothing else") {
  TempDir root;
  ServerProcess s(root.path());
  const Response page = get(s.port(), "/", {kBrowserAccept});
  REQUIRE(is_page(page));
  const std::vector<std::string> urls = asset_urls(page.body);
  REQUIRE(urls.size() == 2);  // app.css and app.js
  for (const std::string& url : urls) {
    CAPTURE(url);
    Response r = get(s.port(), url);
    REQUIRE(r.status == 200);
    CHECK(!r.body.empty());
    CHECK(r.header("Content-Type") ==
          (url.ends_with(".js") ? "text/javascript; charset=utf-8" : "text/css; charset=utf-8"));
    CHECK(r.header("Cache-Control") == "public, max-age=31536000, immutable");
    CHECK(r.header("X-Content-Type-Options") == "nosniff");
    CHECK(r.header("Content-Security-Policy") == kPolicy);
    CHECK(r.header("Vary") == "Accept-Encoding");
    const std::string etag = r.header("ETag");
    REQUIRE(!etag.empty());
    Response nm = get(s.port(), url, {"If-None-Match: " + etag});
    CHECK(nm.status == 304);
    CHECK(nm.body.empty());
    for (const std::string coding : {"gzip", "zstd"}) {
      Response c = get(s.port(), url, {"Accept-Encoding: " + coding});
      CHECK(c.header("Content-Encoding") == coding);
      CHECK(c.header("ETag") != etag);
      CHECK(decode(coding, c.body) == r.body);
    }
    // The modules the page imports sit beside it.
    const std::string dir = url.substr(0, url.rfind('/') + 1);
    CHECK(get(s.port(), dir + "lib.js").status == 200);
    CHECK(get(s.port(), dir + "icons.svg").header("Content-Type") == "image/svg+xml");
    // Another version, another name, another method: not here.
    CHECK(get(s.port(), "/.httpfs-ui/000000000000/app.js").status == 404);
    CHECK(get(s.port(), dir + "nope.js").status == 404);
    CHECK(get(s.port(), dir).status == 404);
    CHECK(get(s.port(), url, {"Content-Length: 0"}, "POST").status != 200);
  }
}

TEST_CASE("the page knows --read-only and --auth; --auth-all guards it and its files") {
  TempDir root;
  {
    ServerProcess s(root.path(), {"--read-only"});
    CHECK(contains(get(s.port(), "/", {kBrowserAccept}).body, "data-read-only=\"true\""));
  }
  {
    ServerProcess s(root.path(), {"--auth", "u:p"});
    CHECK(contains(get(s.port(), "/", {kBrowserAccept}).body, "data-auth=\"writes\""));
  }
  {
    ServerProcess s(root.path(), {"--auth", "u:p", "--auth-all"});
    Response denied = get(s.port(), "/", {kBrowserAccept});
    CHECK(denied.status == 401);
    CHECK(contains(denied.header("WWW-Authenticate"), "Basic"));
    Response page = get(s.port(), "/", {kBrowserAccept, "Authorization: Basic dTpw"});
    REQUIRE(is_page(page));
    CHECK(contains(page.body, "data-auth=\"all\""));
    const std::string js = asset_urls(page.body).back();
    CHECK(get(s.port(), js).status == 401);
    CHECK(get(s.port(), js, {"Authorization: Basic dTpw"}).status == 200);
  }
}

TEST_CASE("users' files are sandboxed unless --trust-content") {
  TempDir root;
  root.write("evil.html", "<script>fetch('/', {method: 'DELETE'})</script>");
  {
    ServerProcess s(root.path());
    Response r = get(s.port(), "/evil.html");
    CHECK(r.status == 200);
    CHECK(r.header("Content-Security-Policy") ==
          "sandbox allow-scripts allow-forms allow-popups allow-modals allow-downloads");
    CHECK(get(s.port(), "/evil.html", {"Range: bytes=0-3"}).has("Content-Security-Policy"));
  }
  {
    ServerProcess s(root.path(), {"--trust-content"});
    CHECK_FALSE(get(s.port(), "/evil.html").has("Content-Security-Policy"));
  }
}

TEST_CASE("writes a browser says come from another site are refused; reads and others pass") {
  TempDir root;
  root.write("keep.txt", "keep");
  ServerProcess s(root.path());
  const std::string self = "Origin: http://127.0.0.1:" + std::to_string(s.port());
  auto put = [&](const std::string& name, std::vector<std::string> headers) {
    headers.push_back("Content-Length: 2");
    std::string raw =
        "PUT /" + name + " HTTP/1.1\r\nHost: 127.0.0.1:" + std::to_string(s.port()) + "\r\n";
    for (const std::string& h : headers) raw += h + "\r\n";
    return request(s.port(), raw + "\r\nhi").status;
  };
  struct Case {
    std::vector<std::string> headers;
    int status;
  };
  const Case cases[] = {
      {{"Origin: http://evil.example"}, 403},
      {{"Origin: null"}, 403},
      {{"Origin: https://127.0.0.1:" + std::to_string(s.port())}, 403},  // another scheme
      {{"Origin: http://127.0.0.1:1"}, 403},                             // another port
      {{"Sec-Fetch-Site: cross-site"}, 403},
      {{"Sec-Fetch-Site: same-site"}, 403},
      {{"Sec-Fetch-Site: cross-site", self}, 403},  // the browser's word counts first
      {{self}, 201},
      {{"Sec-Fetch-Site: same-origin", self}, 201},
      {{"Sec-Fetch-Site: none"}, 201},
      {{}, 201},  // curl, rclone, davfs: neither field
  };
  int n = 0;
  for (const Case& c : cases) {
    const std::string name = "f" + std::to_string(n++) + ".txt";
    CAPTURE(name);
    CAPTURE(c.headers.empty() ? std::string("(none)") : c.headers.front());
    CHECK(put(name, c.headers) == c.status);
    CHECK(file_exists(root / name) == (c.status == 201));
  }
  // A simple cross-site form POST (no preflight) creates nothing.
  const std::string form =
      "POST /form.txt HTTP/1.1\r\nHost: 127.0.0.1\r\nOrigin: http://evil.example"
      "\r\nContent-Type: application/x-www-form-urlencoded\r\n"
      "Content-Length: 3\r\n\r\na=b";
  CHECK(request(s.port(), form).status == 403);
  CHECK_FALSE(file_exists(root / "form.txt"));
  // WebDAV writes too; reads from anywhere are fine.
  const std::vector<std::string> evil = {"Origin: http://evil.example"};
  CHECK(get(s.port(), "/keep.txt", evil, "DELETE").status == 403);
  CHECK(get(s.port(), "/new/", evil, "MKCOL").status == 403);
  CHECK(get(s.port(), "/keep.txt",
            {"Origin: http://evil.example", "Destination: http://127.0.0.1/moved.txt"}, "MOVE")
            .status == 403);
  CHECK(read_file(root / "keep.txt") == "keep");
  CHECK(get(s.port(), "/keep.txt", evil).status == 200);
  // The resumable upload's own resource counts as a write.
  CHECK(get(s.port(), "/.httpfs-upload/0123456789abcdef0123456789abcdef", evil, "HEAD").status ==
        403);
}

TEST_CASE("--cors: an allowed origin may preflight, write and read; others stay refused") {
  TempDir root;
  root.write("r.txt", "read me");
  ServerProcess s(root.path(), {"--cors", "https://app.example", "--auth", "u:p"});
  const std::string app = "Origin: https://app.example";

  // The preflight carries no credentials and is answered before they are asked for.
  Response pre = get(s.port(), "/new.txt",
                     {app, "Access-Control-Request-Method: PUT",
                      "Access-Control-Request-Headers: authorization, upload-complete"},
                     "OPTIONS");
  CHECK(pre.status == 204);
  CHECK(pre.header("Access-Control-Allow-Origin") == "https://app.example");
  CHECK(pre.header("Access-Control-Allow-Credentials") == "true");
  CHECK(contains(pre.header("Access-Control-Allow-Methods"), "PUT"));
  CHECK(contains(pre.header("Access-Control-Allow-Methods"), "MOVE"));
  CHECK(pre.header("Access-Control-Allow-Headers") == "authorization, upload-complete");
  CHECK(pre.header("Access-Control-Max-Age") == "600");
  // From another origin a preflight is an ordinary OPTIONS: no CORS fields.
  Response other =
      get(s.port(), "/new.txt",
          {"Origin: https://evil.example", "Access-Control-Request-Method: PUT"}, "OPTIONS");
  CHECK_FALSE(other.has("Access-Control-Allow-Origin"));

  // The write itself, across sites, with credentials.
  const std::string put =
      "PUT /new.txt HTTP/1.1\r\nHost: 127.0.0.1\r\nSec-Fetch-Site: cross-site\r\n" + app +
      "\r\nAuthorization: Basic dTpw\r\nContent-Length: 2\r\n\r\nhi";
  Response w = request(s.port(), put);
  CHECK(w.status == 201);
  CHECK(w.header("Access-Control-Allow-Origin") == "https://app.example");
  CHECK(contains(w.header("Access-Control-Expose-Headers"), "ETag"));
  CHECK(contains(w.header("Access-Control-Expose-Headers"), "Upload-Offset"));
  CHECK(read_file(root / "new.txt") == "hi");
  // Still 401 without credentials (with the CORS fields, so the page can read the 401).
  Response nocred = get(s.port(), "/x.txt", {app, "Content-Length: 0"}, "PUT");
  CHECK(nocred.status == 401);
  CHECK(nocred.header("Access-Control-Allow-Origin") == "https://app.example");
  // Another origin is refused as before.
  const std::string evil_put =
      "PUT /evil.txt HTTP/1.1\r\nHost: 127.0.0.1\r\nOrigin: https://evil.example\r\n"
      "Authorization: Basic dTpw\r\nContent-Length: 2\r\n\r\nhi";
  Response e = request(s.port(), evil_put);
  CHECK(e.status == 403);
  CHECK_FALSE(e.has("Access-Control-Allow-Origin"));
  CHECK_FALSE(file_exists(root / "evil.txt"));
  // Reads name the allowed origin; without Origin, nothing CORS.
  Response r = get(s.port(), "/r.txt", {app});
  CHECK(r.header("Access-Control-Allow-Origin") == "https://app.example");
  CHECK(contains(r.header("Vary"), "Origin"));
  CHECK_FALSE(get(s.port(), "/r.txt").has("Access-Control-Allow-Origin"));
}
