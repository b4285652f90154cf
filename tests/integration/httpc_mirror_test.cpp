// httpc --mirror against the servers people mirror from: httpfs (its JSON listing), nginx
// (autoindex), Apache (mod_autoindex) and lighttpd (mod_dirlisting), with wget -r as the
// oracle of what a mirror of nginx holds; only what changed on a second run; --delete; and
// hostile listings that try to lead it out of the directory.
#include <doctest/doctest.h>
#include <sys/stat.h>
#include <utime.h>

#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "support/http_client.hpp"
#include "support/peer_servers.hpp"
#include "support/process.hpp"
#include "support/scripted_server.hpp"

using namespace httpfs::test;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {

RunResult httpc(std::vector<std::string> args) {
  args.insert(args.begin(), binary("httpc"));
  return run(std::move(args), 120s);
}

void make_tree(TempDir& root) {
  root.write("a.txt", "alpha\n");
  root.write("big.bin", random_bytes(2 << 20, 21));
  root.write("with space.txt", "space\n");
  root.write("hash#and%percent.txt", "odd\n");
  root.write("d1/b.txt", "bravo\n");
  root.write("d1/d2/c.txt", "charlie\n");
  root.write("d1/d2/d3/d.txt", "delta\n");
  root.mkdir("empty");
}

}  // namespace

TEST_CASE("--mirror of httpfs, nginx, Apache and lighttpd: the tree, byte for byte") {
  TempDir root;
  make_tree(root);
  const auto want = read_tree(root.path());
  ServerProcess httpfs(root.path());
  NginxProcess nginx(root.path());
  const auto lighttpd = PeerServer::lighttpd(root.path());
  const auto apache = PeerServer::apache(root.path());  // last: it hands the tree to www-data
  struct Server {
    const char* name;
    std::string url;
  };
  for (const Server& s :
       {Server{"httpfs", httpfs.url("/")}, Server{"nginx", nginx.url("/")},
        Server{"lighttpd", lighttpd->url("/")}, Server{"apache", apache->url("/")}}) {
    CAPTURE(s.name);
    TempDir out;
    const RunResult r = httpc({"--mirror", s.url, out / "m"});
    INFO(r.err);
    CHECK(r.status == 0);
    CHECK(read_tree(out / "m") == want);
    CHECK(r.err.find("7 fetched, 0 unchanged, 0 failed") != std::string::npos);
    // Again: nothing has changed, nothing is fetched (by size and mtime from httpfs's JSON,
    // by If-Modified-Since from the HTML pages).
    const RunResult again = httpc({"-Z", "--mirror", s.url, out / "m"});
    CHECK(again.status == 0);
    CHECK(again.err.find("0 fetched, 7 unchanged, 0 failed") != std::string::npos);
    CHECK(read_tree(out / "m") == want);
  }
}

TEST_CASE("--mirror of nginx holds what wget -r's mirror holds") {
  TempDir root, mine, theirs;
  make_tree(root);
  NginxProcess nginx(root.path());
  REQUIRE(httpc({"--mirror", nginx.url("/d1/"), mine / "m"}).status == 0);
  const RunResult w = run({"/usr/bin/wget", "-q", "-r", "-np", "-nH", "--cut-dirs=1", "-R",
                           "index.html*", "-P", theirs / "m", nginx.url("/d1/")},
                          120s);
  REQUIRE(w.status == 0);
  // wget keeps no empty directory for a page it removed; both hold the same files.
  CHECK(read_tree(mine / "m", false) == read_tree(theirs / "m", false));
  CHECK(read_tree(mine / "m", false).size() == 3);
}

TEST_CASE("--mirror fetches only what changed, and --delete removes what vanished") {
  TempDir root, out;
  make_tree(root);
  ServerProcess server(root.path());
  REQUIRE(httpc({"--mirror", server.url("/"), out.path()}).status == 0);
  // A change of content (and mtime), a file gone, a file new, a directory gone.
  root.write("a.txt", "ALPHA\n");
  struct utimbuf later {};
  later.actime = later.modtime = std::time(nullptr) + 100;
  ::utime((root / "a.txt").c_str(), &later);
  fs::remove(root / "with space.txt");
  fs::remove_all(root / "d1/d2/d3");
  root.write("d1/new.txt", "new\n");
  out.write("local-only.txt", "mine\n");
  RunResult r = httpc({"--mirror", server.url("/"), out.path()});
  CHECK(r.status == 0);
  CHECK(r.err.find("2 fetched, 4 unchanged, 0 failed") != std::string::npos);
  CHECK(read_file(out / "a.txt") == "ALPHA\n");
  CHECK(read_file(out / "d1/new.txt") == "new\n");
  CHECK(file_exists(out / "with space.txt"));  // without --delete, kept
  r = httpc({"--mirror", "--delete", server.url("/"), out.path()});
  CHECK(r.status == 0);
  CHECK(read_tree(out.path()) == read_tree(root.path()));
  CHECK(r.err.find("removed") != std::string::npos);
  // --delete without --mirror is a usage error, as is a mirror with an output.
  CHECK(httpc({"--delete", server.url("/")}).status == 2);
  CHECK(httpc({"--mirror", "-o", "x", server.url("/"), out.path()}).status == 2);
  CHECK(httpc({"--mirror", server.url("/")}).status == 2);
}

TEST_CASE("hostile listings cannot lead --mirror out of its directory") {
  // An HTML page and a JSON listing that link outside the directory, to other origins,
  // with names that are paths, and a sub-directory whose listing is an error.
  ScriptedServer s([](const ReceivedRequest& req, int) {
    auto page = [](const std::string& type, const std::string& body) {
      return ScriptedReply::bytes("HTTP/1.1 200 OK\r\nContent-Type: " + type +
                                      "\r\nContent-Length: " + std::to_string(body.size()) +
                                      "\r\n\r\n" + body,
                                  false);
    };
    if (req.target == "/pub/")
      return page("text/html",
                  "<a href=\"../secret\">up</a><a href=\"/etc/passwd\">abs</a>"
                  "<a href=\"http://other.example/pub/x\">other</a><a href=\"%2e%2e/y\">dots</a>"
                  "<a href=\"a%2fb\">slash</a><a href=\"ok.txt\">ok</a><a href=\"sub/\">sub</a>"
                  "<a href=\"json/\">json</a><a href=\"broken/\">broken</a>");
    if (req.target == "/pub/json/")
      return page("application/json",
                  R"({"path":"/pub/json/","entries":[)"
                  R"({"name":"../../escape","type":"file","link":"/pub/json/..%2f..%2fescape"},)"
                  R"({"name":"fine","type":"file","link":"/pub/json/fine"},)"
                  R"({"name":"elsewhere","type":"file","link":"/pub/other"}]})");
    if (req.target == "/pub/broken/")
      return ScriptedReply::bytes("HTTP/1.1 500 Oops\r\nContent-Length: 0\r\n\r\n", false);
    if (req.target == "/pub/sub/") return page("text/html", "<a href=\"deep.txt\">d</a>");
    return page("application/octet-stream", "content of " + req.target);
  });
  TempDir out;
  const RunResult r = httpc({"--mirror", s.url("/pub/"), out / "m"});
  CHECK(r.status == 7);  // the broken listing's 500
  CHECK(r.err.find("/pub/broken/") != std::string::npos);
  const auto got = read_tree(out / "m");
  const std::map<std::string, std::string> want = {{"ok.txt", "content of /pub/ok.txt"},
                                                   {"sub/", ""},
                                                   {"sub/deep.txt", "content of /pub/sub/deep.txt"},
                                                   {"json/", ""},
                                                   {"json/fine", "content of /pub/json/fine"},
                                                   {"broken/", ""}};
  CHECK(got == want);
  CHECK(!file_exists(out / "secret"));
  CHECK(!file_exists(out / "escape"));
  CHECK(r.err.find("left out") != std::string::npos);
  // Only the tree's own paths were asked for.
  for (const ReceivedRequest& req : s.requests()) CHECK(req.target.starts_with("/pub/"));
}
