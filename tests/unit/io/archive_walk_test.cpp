// The walk behind folder archives: listing rules, order, loops, limits and the fingerprint.
#include "io/archive_walk.hpp"

#include <doctest/doctest.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "support/process.hpp"

using namespace httpfs::io;
using httpfs::http::ArchiveEntry;
using httpfs::test::TempDir;

namespace {

std::vector<std::string> names(const std::vector<ArchiveEntry>& entries) {
  std::vector<std::string> out;
  for (const ArchiveEntry& e : entries) out.push_back(e.name);
  return out;
}

struct Tree {
  TempDir dir;
  Docroot root;
  Tree() {
    dir.write("b.txt", "bee");
    dir.write("a/z.txt", "zed");
    dir.write("a/c/deep.txt", "deep");
    dir.mkdir("empty");
    dir.write(".hidden/x", "x");
    dir.write(".dot", "d");
    REQUIRE(::symlink("../b.txt", (dir / "a/link.txt").c_str()) == 0);
    REQUIRE(::symlink("..", (dir / "a/up").c_str()) == 0);   // a loop, if followed blindly
    REQUIRE(::symlink("/etc", (dir / "out").c_str()) == 0);  // leads outside: never served
    REQUIRE(::mkfifo((dir / "fifo").c_str(), 0600) == 0);
    REQUIRE(root.open_root(dir.path(), {}) == 0);
  }
};

}  // namespace

TEST_CASE("the walk: listing rules, each folder before its members, names in byte order") {
  Tree t;
  std::vector<ArchiveEntry> e;
  REQUIRE(walk_tree(t.root, "/", false, 1000, e) == 0);
  // a/up leads to the top, already on the way: an empty folder, not a loop.
  CHECK(names(e) == std::vector<std::string>{"a/", "a/c/", "a/c/deep.txt", "a/link.txt", "a/up/",
                                             "a/z.txt", "b.txt", "empty/"});
  CHECK(e[0].dir);
  CHECK(e[2].size == 4);
  CHECK(e[3].size == 3);  // the link, as the file it leads to
  CHECK_FALSE(e[6].dir);
  struct stat st {};
  REQUIRE(::stat((t.dir / "b.txt").c_str(), &st) == 0);
  CHECK(e[6].mtime == st.st_mtim.tv_sec);
  CHECK(e[6].mode == (st.st_mode & 07777));

  REQUIRE(walk_tree(t.root, "/", true, 1000, e) == 0);  // --show-hidden
  CHECK(names(e).front() == ".dot");
  CHECK(names(e)[1] == ".hidden/");

  REQUIRE(walk_tree(t.root, "/a/", false, 1000, e) == 0);  // names relative to the folder
  CHECK(names(e).front() == "c/");
  CHECK(walk_tree(t.root, "/missing/", false, 1000, e) == -ENOENT);
}

TEST_CASE("the walk stops at max_entries; the fingerprint follows every change") {
  Tree t;
  std::vector<ArchiveEntry> e;
  CHECK(walk_tree(t.root, "/", false, 8, e) == 0);
  CHECK(walk_tree(t.root, "/", false, 7, e) == -E2BIG);
  // The top has three members; a/ brings the walk past four: refused, not cut short.
  CHECK(walk_tree(t.root, "/", false, 4, e) == -E2BIG);

  auto fingerprint = [&] {
    Sha256 sha;
    REQUIRE(walk_tree(t.root, "/", false, 1000, e, &sha) == 0);
    const Sha256::Digest d = sha.finish();
    return std::string(d.begin(), d.end());
  };
  const std::string before = fingerprint();
  CHECK(fingerprint() == before);
  // The same size, another modification time, a nanosecond apart from the first one set.
  const timespec at[2] = {{0, UTIME_OMIT}, {1000000000, 1}};
  REQUIRE(::utimensat(AT_FDCWD, (t.dir / "a/z.txt").c_str(), at, 0) == 0);
  const std::string first = fingerprint();
  CHECK(first != before);
  const timespec later[2] = {{0, UTIME_OMIT}, {1000000000, 2}};
  REQUIRE(::utimensat(AT_FDCWD, (t.dir / "a/z.txt").c_str(), later, 0) == 0);
  const std::string touched = fingerprint();
  CHECK(touched != first);
  CHECK(touched != before);
  REQUIRE(::rename((t.dir / "b.txt").c_str(), (t.dir / "c.txt").c_str()) == 0);
  CHECK(fingerprint() != touched);
}
