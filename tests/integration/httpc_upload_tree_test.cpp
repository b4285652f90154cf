// httpc --upload-tree DIR URL/dir/: a local tree to httpfs (MKCOL and PUT, resumable per
// file), to Apache's mod_dav (MKCOL and PUT), and to nginx (PUT with create_full_put_path,
// no MKCOL); in parallel with -Z; and through a proxy that cuts the big file's upload.
#include <doctest/doctest.h>
#include <unistd.h>

#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "support/cutting_proxy.hpp"
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

void make_tree(TempDir& src) {
  src.write("one.txt", "one\n");
  src.write("a/two words.txt", "two\n");
  src.write("a/b/hash#and%percent.txt", "odd\n");
  src.write("a/b/c/big.bin", random_bytes(10 << 20, 31));  // resumable (8 MiB and more)
  src.mkdir("empty");
  ::symlink("one.txt", (src / "link").c_str());  // left out: not a regular file
}

}  // namespace

TEST_CASE("--upload-tree to httpfs: MKCOL and PUT, the tree on the server byte for byte") {
  TempDir src, root;
  make_tree(src);
  ServerProcess server(root.path());
  RunResult r = httpc({"--upload-tree", src.path(), server.url("/up/")});
  INFO(r.err);
  CHECK(r.status == 0);
  CHECK(r.err.find("4 sent, 0 failed") != std::string::npos);
  CHECK(r.err.find("left out") != std::string::npos);
  CHECK(read_tree(root / "up") == read_tree(src.path()));  // the empty directory too
  CHECK(!fs::exists(root / "up/link"));
  const std::string log = server.access_log();
  CHECK(log.find("\"MKCOL /up/a/b/c/ HTTP/1.1\" 201") != std::string::npos);
  // Again, with -Z: the directories exist (405), the files are replaced.
  src.write("one.txt", "one, again\n");
  r = httpc({"-Z", "--parallel-max", "3", "--upload-tree", src.path(), server.url("/up")});
  CHECK(r.status == 0);
  CHECK(read_tree(root / "up") == read_tree(src.path()));
  // Usage: a directory and a URL, nothing else to send.
  CHECK(httpc({"--upload-tree", src.path()}).status == 2);
  CHECK(httpc({"--upload-tree", "-d", "x", src.path(), server.url("/up/")}).status == 2);
  CHECK(httpc({"--upload-tree", src / "missing", server.url("/up/")}).status == 9);
}

TEST_CASE("--upload-tree to Apache (mod_dav) and nginx (PUT only)") {
  TempDir src;
  make_tree(src);
  {
    TempDir root;
    root.mkdir("dav");
    const auto apache = PeerServer::apache(root.path());
    const RunResult r = httpc({"--upload-tree", src.path(), apache->url("/dav/tree/")});
    INFO(r.err);
    CHECK(r.status == 0);
    CHECK(read_tree(root / "dav/tree") == read_tree(src.path()));
  }
  {
    TempDir root;
    NginxProcess nginx(root.path());
    const RunResult r = httpc({"-v", "--upload-tree", src.path(), nginx.url("/tree/")});
    CHECK(r.status == 0);
    // nginx takes no MKCOL (405 Not Allowed: it makes a file's directories for its PUT), so
    // the files are there and the empty directory is not.
    CHECK(read_tree(root / "tree", false) == read_tree(src.path(), false));
  }
}

TEST_CASE("--upload-tree: a file whose upload is cut resumes, the others go on") {
  TempDir src, root;
  make_tree(src);
  ServerProcess server(root.path());
  CuttingProxy proxy(server.port(), 4 << 20, 1);
  const std::string url = "http://127.0.0.1:" + std::to_string(proxy.port()) + "/up/";
  const RunResult r = run({"/usr/bin/env", "XDG_STATE_HOME=" + (root / ".state"), binary("httpc"),
                           "--upload-tree", src.path(), url},
                          120s);
  INFO(r.err);
  CHECK(r.status == 0);
  CHECK(proxy.faults_done() == 1);
  CHECK(r.err.find("resuming the upload") != std::string::npos);
  CHECK(read_tree(root / "up", false) == read_tree(src.path(), false));
}
