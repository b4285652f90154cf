// Traversal and names (README "Security", rows 17-19, 26): a generated set of hostile paths, each
// sent as a GET and as a PUT. Nothing outside the served directory is ever read or written,
// through any encoding, any symlink, or a symlink swapped while requests run.
#include <doctest/doctest.h>
#include <unistd.h>

#include <map>
#include <set>
#include <string>
#include <vector>

#include "common.hpp"
#include "support/http_client.hpp"

using namespace httpfs::test;
using namespace std::chrono_literals;

namespace {

// The targets of hostile_paths(), all inside a scratch directory, as in dav_names_test: the
// docroot is <tmp>/l1/l2/l3/www, so that "../canary.txt" is <tmp>/l1/l2/l3/canary.txt, the
// "../../../etc/passwd" and "../../../../etc/passwd" of the generator reach decoys in
// <tmp>/l1/etc and <tmp>/etc, and the absolute links etc_link and dir/abs lead to <tmp>/etc and
// <tmp>/outside. The PUTs write: a regression (or a server run with --follow-symlinks) then
// overwrites decoys the test watches, never this host's /etc or /tmp.
struct Fixture {
  TempDir tmp;
  std::string base = tmp / "l1/l2/l3";
  std::string www = base + "/www";
  std::string canary = "CANARY-" + std::to_string(::getpid()) + "-names";
  std::string passwd = "root:x:0:0:decoy-" + std::to_string(::getpid()) + ":/root:/bin/sh\n";
  std::string hostname = "decoy-host-" + std::to_string(::getpid()) + "\n";
  std::string kept = "OUTSIDE-" + std::to_string(::getpid()) + "-names";
  Fixture() {
    tmp.write("l1/l2/l3/canary.txt", canary);
    for (const std::string etc : {"etc/", "l1/etc/"}) {
      tmp.write(etc + "passwd", passwd);
      tmp.write(etc + "hostname", hostname);
    }
    tmp.write("outside/x", kept);
    tmp.write("l1/l2/l3/www/index.html", "index");
    tmp.write("l1/l2/l3/www/dir/inner.txt", "inner");
    tmp.mkdir("l1/l2/l3/www/up");
    tmp.mkdir("l1/l2/l3/www/inside");
    const std::vector<std::pair<std::string, std::string>> links = {
        {"etc_link", tmp / "etc"},  // absolute, to the decoy /etc
        {"out", ".."},
        {"dir/canary_link", "../../canary.txt"},
        // A chain that ends outside: c1 -> c2 -> c3 -> ../canary.txt
        {"c1", "c2"},
        {"c2", "c3"},
        {"c3", "../canary.txt"},
        {"dir/abs", tmp / "outside"}};  // absolute, to a directory beside the docroot
    for (const auto& [rel, to] : links) {
      // Absolute targets stay in the scratch directory: nothing here leads to real files.
      REQUIRE((!to.starts_with("/") || to.starts_with(tmp.path() + "/")));
      REQUIRE(::symlink(to.c_str(), (www + "/" + rel).c_str()) == 0);
    }
  }
  // Everything beside the docroot (files with their contents, directories): the canary, the
  // decoys, the outside directory.
  std::map<std::string, std::string> outside() const {
    std::map<std::string, std::string> out;
    for (auto& [rel, content] : read_tree(tmp.path()))
      if (!rel.starts_with("l1/l2/l3/www/")) out[rel] = content;
    return out;
  }
};

}  // namespace

TEST_CASE("200+ generated hostile paths: GET reads nothing outside, PUT writes nothing outside") {
  Fixture f;
  const std::vector<std::string> paths = hostile_paths();
  MESSAGE(paths.size() << " hostile paths");
  REQUIRE(paths.size() >= 200);
  const std::string passwd = read_file("/etc/passwd");
  const std::string hostname = file_exists("/etc/hostname") ? read_file("/etc/hostname") : "";
  const auto outside_before = f.outside();
  REQUIRE(outside_before.size() >= 8);  // the canary, 4 decoys, outside/x and their directories
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{}, std::vector<std::string>{"--force-path-walk"}}) {
    ServerProcess server(f.www, args);
    int i = 0;
    for (const std::string& p : paths) {
      INFO("path " << p);
      Response g = request(server.port(), "GET " + p + " HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
      CHECK(g.status != 0);
      CHECK(g.body.find(f.canary) == std::string::npos);
      CHECK(g.body.find("root:") == std::string::npos);
      CHECK(g.body.find("decoy-") == std::string::npos);
      CHECK(g.body.find(f.kept) == std::string::npos);
      CHECK_FALSE(g.has("Set-Cookie"));
      const std::string body = "PWNED-" + std::to_string(i++);
      Response w = request(server.port(), "PUT " + p + " HTTP/1.1\r\nHost: 127.0.0.1\r\n" +
                                              "Content-Length: " + std::to_string(body.size()) +
                                              "\r\n\r\n" + body);
      CHECK(w.status != 0);
      CHECK_FALSE(w.has("Set-Cookie"));
    }
    CHECK(server.process().running());
  }
  // Nothing outside the docroot changed: the canary, the decoys, the outside directory (and,
  // though no path leads there, the host's /etc).
  CHECK(read_file(f.base + "/canary.txt") == f.canary);
  for (const std::string etc : {"etc/", "l1/etc/"}) {
    CHECK(read_file(f.tmp / (etc + "passwd")) == f.passwd);
    CHECK(read_file(f.tmp / (etc + "hostname")) == f.hostname);
  }
  CHECK(read_file(f.tmp / "outside/x") == f.kept);
  CHECK(entries(f.tmp / "outside") == std::vector<std::string>{"x"});
  CHECK(f.outside() == outside_before);
  CHECK(read_file("/etc/passwd") == passwd);
  if (!hostname.empty()) CHECK(read_file("/etc/hostname") == hostname);
  // The inside links still work both ways: the fixture is not simply broken.
  ServerProcess server(f.www);
  CHECK(get(server.port(), "/dir/inner.txt").body == "inner");
}

TEST_CASE("a symlink swapped during PUTs and GETs never lets one out") {
  Fixture f;
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{}, std::vector<std::string>{"--force-path-walk"}}) {
    ServerProcess server(f.www, args);
    int inside = 0;
    // www/flip is, in turn, a link to the inside directory and a link to the parent (which
    // holds the canary).
    SymlinkFlipper flipper(f.www + "/flip", "inside", "..");
    for (int i = 0; i < 500; ++i) {
      const std::string body = "PWNED-" + std::to_string(i);
      Response w = request(server.port(),
                           "PUT /flip/canary.txt HTTP/1.1\r\nHost: h\r\n"
                           "Content-Length: " +
                               std::to_string(body.size()) + "\r\n\r\n" + body);
      CHECK(w.status != 0);
      Response g = get(server.port(), "/flip/canary.txt");
      CHECK(g.body.find(f.canary) == std::string::npos);
      inside += g.status == 200;
    }
    MESSAGE(inside << " of 500 GETs found the inside file");
    CHECK(read_file(f.base + "/canary.txt") == f.canary);
  }
}
