// Traversal and names (README "Security", rows 17-19, 26): a generated set of hostile paths, each
// sent as a GET and as a PUT. Nothing outside the served directory is ever read or written,
// through any encoding, any symlink, or a symlink swapped while requests run.
#include <doctest/doctest.h>
#include <unistd.h>

#include <set>
#include <string>
#include <vector>

#include "common.hpp"
#include "support/http_client.hpp"

using namespace httpfs::test;
using namespace std::chrono_literals;

namespace {

// <tmp>/canary.txt beside the docroot <tmp>/www, and links in the docroot that lead out.
struct Fixture {
  TempDir tmp;
  std::string www = tmp / "www";
  std::string canary = "CANARY-" + std::to_string(::getpid()) + "-names";
  Fixture() {
    tmp.write("canary.txt", canary);
    tmp.write("www/index.html", "index");
    tmp.write("www/dir/inner.txt", "inner");
    tmp.mkdir("www/up");
    tmp.mkdir("www/inside");
    ::symlink("/etc", (www + "/etc_link").c_str());
    ::symlink("..", (www + "/out").c_str());
    ::symlink("../../canary.txt", (www + "/dir/canary_link").c_str());
    // A chain that ends outside: c1 -> c2 -> c3 -> ../canary.txt
    ::symlink("c2", (www + "/c1").c_str());
    ::symlink("c3", (www + "/c2").c_str());
    ::symlink("../canary.txt", (www + "/c3").c_str());
    ::symlink("/tmp", (www + "/dir/abs").c_str());
  }
};

// Dot-dot segments and separators in every encoding a server has been fooled by.
std::vector<std::string> hostile_paths() {
  const std::vector<std::string> dots = {
      "..",           "%2e%2e",     "%2E%2E",       ".%2e",
      "%2e.",         "%252e%252e", "%c0%ae%c0%ae", "%e0%80%ae%e0%80%ae",
      "%c0%2e%c0%2e", "..%00",      "%2e%2e%00",    "..;"};
  const std::vector<std::string> seps = {"/",     "%2f",    "%2F",       "%5c", "\\",
                                         "%252f", "%c0%af", "%e0%80%af", "//",  "/./"};
  std::vector<std::string> out;
  for (const std::string& d : dots)
    for (const std::string& s : seps) {
      out.push_back("/" + d + s + "canary.txt");
      out.push_back("/dir/" + d + s + d + s + "canary.txt");
      out.push_back("/" + d + s + d + s + d + s + "etc/passwd");
    }
  const std::vector<std::string> more = {
      "/canary.txt%00",
      "/%00../canary.txt",
      "/..%2f..%2f..%2f..%2fetc%2fpasswd",
      "http://127.0.0.1/../canary.txt",
      "http://127.0.0.1/%2e%2e/canary.txt",
      "http://x/dir/../../canary.txt",
      "/c1",
      "/c2",
      "/c3",
      "/out/canary.txt",
      "/out/www/../canary.txt",
      "/etc_link/passwd",
      "/etc_link/hostname",
      "/dir/canary_link",
      "/dir/abs/x",
      "/dir/./.././../canary.txt",
      "/./../canary.txt",
      "/up/../../canary.txt",
      "/%2e%2e/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
      "/" + std::string(3000, 'a') + "/../../canary.txt",
      "/" +
          [] {
            std::string s;
            for (int i = 0; i < 1000; ++i) s += "a/";
            for (int i = 0; i < 1001; ++i) s += "../";
            return s;
          }() +
          "canary.txt",
      "/%0d%0aSet-Cookie:%20x=1/../canary.txt",
      "/dir%2f..%2f..%2fcanary.txt",
  };
  out.insert(out.end(), more.begin(), more.end());
  return out;
}

std::string listing_of(const std::string& dir) {
  std::string s;
  for (const std::string& e : entries(dir)) s += e + "\n";
  return s;
}

}  // namespace

TEST_CASE("200+ generated hostile paths: GET reads nothing outside, PUT writes nothing outside") {
  Fixture f;
  const std::vector<std::string> paths = hostile_paths();
  MESSAGE(paths.size() << " hostile paths");
  REQUIRE(paths.size() >= 200);
  const std::string passwd = read_file("/etc/passwd");
  const std::string hostname = file_exists("/etc/hostname") ? read_file("/etc/hostname") : "";
  const std::string outside_before = listing_of(f.tmp.path());
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
  // Nothing outside the docroot changed: the canary, the docroot's parent, /etc.
  CHECK(read_file(f.tmp / "canary.txt") == f.canary);
  CHECK(listing_of(f.tmp.path()) == outside_before);
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
    // www/flip is, in turn, a link to the inside directory and a link to the parent.
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
    CHECK(read_file(f.tmp / "canary.txt") == f.canary);
  }
}
