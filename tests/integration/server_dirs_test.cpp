// httpfs serving directories: the slash redirect, index.html, listings in three formats,
// sorting, hidden files, names with any characters.
#include <doctest/doctest.h>
#include <sys/stat.h>
#include <utime.h>

#include <nlohmann/json.hpp>
#include <regex>

#include "support/http_client.hpp"

using namespace httpfs::test;
using nlohmann::json;

namespace {

void set_mtime(const std::string& path, long seconds) {
  utimbuf t{seconds, seconds};
  ::utime(path.c_str(), &t);
}

json listing(int port, const std::string& path) {
  Response r = get(port, path + "?format=json");
  REQUIRE(r.status == 200);
  REQUIRE(r.header("Content-Type") == "application/json");
  return json::parse(r.body);
}

std::vector<std::string> names(const json& j) {
  std::vector<std::string> out;
  for (const auto& e : j["entries"]) out.push_back(e["name"].get<std::string>());
  return out;
}

}  // namespace

TEST_CASE("a directory without its slash is redirected to it") {
  TempDir root;
  root.write("docs/a.txt", "a");
  root.write("a b/x", "x");
  ServerProcess server(root.path());
  Response r = get(server.port(), "/docs");
  CHECK(r.status == 301);
  CHECK(r.header("Location") == "/docs/");
  r = get(server.port(), "/docs?sort=size");
  CHECK(r.header("Location") == "/docs/?sort=size");
  r = get(server.port(), "/a%20b");
  CHECK(r.status == 301);
  CHECK(r.header("Location") == "/a%20b/");
  // curl -L follows it to the listing.
  RunResult c =
      curl({"-L", "-o", "/dev/null", "-w", "%{http_code} %{url_effective}", server.url("/docs")});
  CHECK(c.out == "200 " + server.url("/docs/"));
}

TEST_CASE("a directory with index.html serves it") {
  TempDir root;
  root.write("site/index.html", "<h1>home</h1>");
  ServerProcess server(root.path());
  Response r = get(server.port(), "/site/");
  CHECK(r.status == 200);
  CHECK(r.body == "<h1>home</h1>");
  CHECK(r.header("Content-Type") == "text/html; charset=utf-8");
  CHECK(get(server.port(), "/site/").body == "<h1>home</h1>");  // again, from the cache
}

TEST_CASE("listings: JSON schema, sorting, formats") {
  TempDir root;
  root.write("d/small.txt", "12");
  root.write("d/big.bin", std::string(5000, 'x'));
  root.write("d/middle.md", std::string(300, 'y'));
  root.mkdir("d/sub");
  set_mtime(root / "d/small.txt", 1700000300);
  set_mtime(root / "d/big.bin", 1700000100);
  set_mtime(root / "d/middle.md", 1700000200);
  // --ui off: the plain listing negotiated by Accept (a browser's Accept gets the page
  // otherwise: tests/integration/ui_test.cpp).
  ServerProcess server(root.path(), {"--ui", "off"});
  const int port = server.port();

  json j = listing(port, "/d/");
  CHECK(j["path"] == "/d/");
  REQUIRE(j["entries"].size() == 4);
  // Directories first, then by name.
  CHECK(names(j) == std::vector<std::string>{"sub", "big.bin", "middle.md", "small.txt"});
  const json& big = j["entries"][1];
  CHECK(big["type"] == "file");
  CHECK(big["size"] == 5000);
  CHECK(big["mtime"] == "2023-11-14T22:15:00Z");
  CHECK(big["link"] == "/d/big.bin");
  CHECK(j["entries"][0]["type"] == "directory");
  CHECK(j["entries"][0]["link"] == "/d/sub/");
  for (const auto& e : j["entries"])
    CHECK(std::regex_match(e["mtime"].get<std::string>(),
                           std::regex(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ)")));

  auto sorted = [&](const std::string& q) {
    Response r = get(port, "/d/?format=json&" + q);
    REQUIRE(r.status == 200);
    return names(json::parse(r.body));
  };
  CHECK(sorted("sort=size") ==
        std::vector<std::string>{"sub", "small.txt", "middle.md", "big.bin"});
  CHECK(sorted("sort=size&order=desc") ==
        std::vector<std::string>{"sub", "big.bin", "middle.md", "small.txt"});
  CHECK(sorted("sort=mtime") ==
        std::vector<std::string>{"sub", "big.bin", "middle.md", "small.txt"});
  CHECK(sorted("sort=name&order=desc") ==
        std::vector<std::string>{"sub", "small.txt", "middle.md", "big.bin"});
  CHECK(get(port, "/d/?sort=color").status == 400);
  CHECK(get(port, "/d/?format=xml").status == 400);

  // Format by Accept when there is no ?format=.
  Response r = get(port, "/d/", {"Accept: application/json"});
  CHECK(r.header("Content-Type") == "application/json");
  CHECK(json::parse(r.body)["entries"].size() == 4);
  r = get(port, "/d/", {"Accept: text/plain"});
  CHECK(r.header("Content-Type") == "text/plain; charset=utf-8");
  CHECK(r.body == "sub/\nbig.bin\nmiddle.md\nsmall.txt\n");
  r = get(port, "/d/", {"Accept: text/html,application/xhtml+xml,*/*;q=0.8"});
  CHECK(r.header("Content-Type") == "text/html; charset=utf-8");
  CHECK(r.header("Vary") == "Accept, Accept-Encoding");  // compression is on by default
  CHECK(r.body.find("<a href=\"./big.bin\">big.bin</a>") != std::string::npos);
  CHECK(r.body.find("<a href=\"../\">") != std::string::npos);
  CHECK(r.body.find("title=\"5000 bytes\"") != std::string::npos);
  CHECK(get(port, "/d/", {"Accept: image/png"}).status == 406);
  CHECK(get(port, "/d/?format=text").body == "sub/\nbig.bin\nmiddle.md\nsmall.txt\n");
  // HTML column links sort.
  CHECK(get(port, "/d/?sort=size").body.find("href=\"?sort=size&amp;order=desc\"") !=
        std::string::npos);
}

TEST_CASE("names with special and non-ASCII characters round-trip") {
  TempDir root;
  const std::vector<std::string> odd = {"café ☕.txt",          "a b#c?d%e&f=g+h.txt",
                                        "<b>\"q\"&amp;'.html", "日本語",
                                        "semi;colon",          "50%.txt",
                                        "[brackets]",          "tab\there"};
  for (std::size_t i = 0; i < odd.size(); ++i)
    root.write("o/" + odd[i], "content " + std::to_string(i));
  ServerProcess server(root.path());
  json j = listing(server.port(), "/o/");
  REQUIRE(j["entries"].size() == odd.size());
  for (const auto& e : j["entries"]) {
    const std::string name = e["name"];
    auto it = std::find(odd.begin(), odd.end(), name);
    REQUIRE_MESSAGE(it != odd.end(), name);
    // The link fetches exactly that file.
    Response r = get(server.port(), e["link"].get<std::string>());
    CHECK_MESSAGE(r.status == 200, name << " via " << e["link"]);
    CHECK(r.body == "content " + std::to_string(it - odd.begin()));
  }
  // HTML escapes what would be markup.
  std::string html = get(server.port(), "/o/?format=html").body;
  CHECK(html.find("<b>\"q\"") == std::string::npos);
  CHECK(html.find("&lt;b&gt;&quot;q&quot;&amp;amp;&#39;.html") != std::string::npos);
  CHECK(html.find("href=\"./caf%C3%A9%20%E2%98%95.txt\"") != std::string::npos);
}

TEST_CASE("dotfiles are hidden unless --show-hidden; .well-known is served") {
  TempDir root;
  root.write("h/.secret", "s");
  root.write("h/visible", "v");
  root.write(".git/config", "[core]");
  root.write(".well-known/security.txt", "Contact: x");
  {
    ServerProcess server(root.path());
    CHECK(names(listing(server.port(), "/h/")) == std::vector<std::string>{"visible"});
    CHECK(get(server.port(), "/h/.secret").status == 404);
    CHECK(get(server.port(), "/.git/config").status == 404);
    CHECK(get(server.port(), "/%2egit/config").status == 404);
    CHECK(get(server.port(), "/.well-known/security.txt").body == "Contact: x");
  }
  ServerProcess server(root.path(), {"--show-hidden"});
  CHECK(names(listing(server.port(), "/h/")) == std::vector<std::string>{".secret", "visible"});
  CHECK(get(server.port(), "/h/.secret").body == "s");
}

TEST_CASE("--no-listing refuses listings but still serves index.html") {
  TempDir root;
  root.write("plain/a", "a");
  root.write("site/index.html", "i");
  ServerProcess server(root.path(), {"--no-listing"});
  CHECK(get(server.port(), "/plain/").status == 403);
  CHECK(get(server.port(), "/site/").body == "i");
}
