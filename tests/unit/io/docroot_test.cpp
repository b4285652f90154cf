// Docroot: confinement in both resolution modes (openat2 and the user-space walk).
#include "io/docroot.hpp"

#include <doctest/doctest.h>
#include <sys/stat.h>
#include <unistd.h>

#include "io/dir_reader.hpp"
#include "support/process.hpp"

using httpfs::io::Docroot;
using httpfs::test::TempDir;

namespace {

struct Tree {
  TempDir tmp;
  std::string root;
  Tree() {
    root = tmp / "root";
    tmp.write("outside.txt", "outside");
    tmp.write("root/a/b/file.txt", "file");
    ::symlink("a/b", (root + "/ab").c_str());                         // inside
    ::symlink("../b/file.txt", (root + "/a/b/../rel").c_str());       // a/rel -> a/../b/... missing
    ::symlink("b/../../a/b/file.txt", (root + "/a/zigzag").c_str());  // leaves a, stays in root
    ::symlink("../outside.txt", (root + "/out").c_str());
    ::symlink("/etc/hostname", (root + "/abs").c_str());
    ::symlink("a/../../outside.txt", (root + "/sneaky").c_str());
    ::symlink("loop2", (root + "/loop1").c_str());
    ::symlink("loop1", (root + "/loop2").c_str());
  }
};

std::string read_fd(int fd) {
  char buf[256];
  ssize_t n = ::read(fd, buf, sizeof buf);
  ::close(fd);
  return n > 0 ? std::string(buf, static_cast<std::size_t>(n)) : std::string();
}

void check_modes(bool walk) {
  Tree t;
  Docroot d;
  REQUIRE(d.open_root(t.root, {false, walk}) == 0);
  CHECK(d.using_openat2() == !walk);
  CHECK(read_fd(d.open("/a/b/file.txt", O_RDONLY)) == "file");
  CHECK(read_fd(d.open("ab/file.txt", O_RDONLY)) == "file");
  CHECK(read_fd(d.open("/a/zigzag", O_RDONLY)) == "file");
  int dir = d.open("/", O_RDONLY | O_DIRECTORY);
  CHECK(dir >= 0);
  ::close(dir);
  CHECK(d.open("/missing", O_RDONLY) == -ENOENT);
  CHECK(d.open("/a/b/file.txt/x", O_RDONLY) == -ENOTDIR);
  for (const char* escape : {"/out", "/abs", "/sneaky"}) {
    int fd = d.open(escape, O_RDONLY);
    CHECK_MESSAGE((fd == -EXDEV || fd == -ELOOP), escape << " -> " << fd);
    if (fd >= 0) ::close(fd);
  }
  CHECK(d.open("/loop1", O_RDONLY) == -ELOOP);
  // Creating parents stays inside too.
  std::string name;
  int p = d.open_parent("/new/deep/x.txt", true, name);
  REQUIRE(p >= 0);
  CHECK(name == "x.txt");
  ::close(p);
  struct stat st {};
  CHECK(::stat((t.root + "/new/deep").c_str(), &st) == 0);
  CHECK(d.open_parent("/missing/x", false, name) == -ENOENT);
  CHECK(d.open_parent("/a/b/file.txt/x", true, name) == -ENOTDIR);
  int e = d.open_parent("/out/x", true, name);
  CHECK((e == -EXDEV || e == -ELOOP || e == -ENOTDIR));
}

}  // namespace

TEST_CASE("docroot confinement with openat2") {
  check_modes(false);
}
TEST_CASE("docroot confinement with the user-space walk") {
  check_modes(true);
}

TEST_CASE("follow_symlinks trusts the directory's links") {
  Tree t;
  Docroot d;
  REQUIRE(d.open_root(t.root, {true, false}) == 0);
  CHECK(read_fd(d.open("/out", O_RDONLY)) == "outside");
  CHECK(Docroot().open_root(t.tmp / "outside.txt", {}) == -ENOTDIR);
}

TEST_CASE("no mode opens the state directory, by name or through a link") {
  struct Mode {
    const char* name;
    Docroot::Options options;
  };
  for (const Mode& m :
       {Mode{"openat2", {false, false}}, Mode{"walk", {false, true}},
        Mode{"follow_symlinks", {true, false}}, Mode{"follow_symlinks, walk", {true, true}}}) {
    CAPTURE(m.name);
    Tree t;
    t.tmp.write("root/.httpfs-state/locks/token", "secret");
    t.tmp.write("root/.httpfs-statement", "not the state");
    ::symlink(".httpfs-state", (t.root + "/alias").c_str());
    ::symlink(".httpfs-state/locks/token", (t.root + "/alias-token").c_str());
    ::symlink("../.httpfs-state", (t.root + "/a/up").c_str());
    ::symlink("a/b/../../.httpfs-state/locks", (t.root + "/zig").c_str());
    Docroot d;
    REQUIRE(d.open_root(t.root, m.options) == 0);
    for (const char* path : {"/.httpfs-state", "/.httpfs-state/locks/token", "/alias",
                             "/alias/locks", "/alias/locks/token", "/alias-token", "/a/up",
                             "/a/up/locks/token", "/zig", "/zig/token"}) {
      CAPTURE(path);
      const int fd = d.open(path, O_RDONLY);
      CHECK(fd < 0);
      if (fd >= 0) ::close(fd);
      std::string name;
      const int parent = d.open_parent(std::string(path) + "/planted", true, name);
      CHECK(parent < 0);
      if (parent >= 0) ::close(parent);
    }
    // A link to the root (or up to it) and the state directory's name as the last
    // component: the entry is refused, whatever --show-hidden says.
    ::symlink(".", (t.root + "/self").c_str());
    for (const char* path :
         {"/self/.httpfs-state", "/a/up/.httpfs-state", "/self/self/.httpfs-state"}) {
      CAPTURE(path);
      std::string name;
      CHECK(d.open_parent(path, false, name) == -ENOENT);
      CHECK(d.open_parent(path, true, name) == -ENOENT);
      CHECK(d.open_parent(std::string(path) + "/new/x", true, name) < 0);
    }
    std::string name;
    const int root_again = d.open_parent("/self/other", false, name);
    CHECK(root_again >= 0);
    if (root_again >= 0) {
      CHECK(d.is_root(root_again));
      ::close(root_again);
    }
    httpfs::io::DirReader listing;
    REQUIRE(listing.open(d, "/self/", true) == 0);
    struct stat st {};
    bool listed_state = false, listed_other = false;
    while (listing.next(name, st)) {
      listed_state |= name == ".httpfs-state";
      listed_other |= name == ".httpfs-statement";
    }
    CHECK_FALSE(listed_state);
    CHECK(listed_other);
    // Not even made where it is missing.
    TempDir empty;
    Docroot e;
    REQUIRE(e.open_root(empty.path(), m.options) == 0);
    CHECK(e.open_parent("/.httpfs-state/locks/x", true, name) == -ENOENT);
    ::symlink(".", (empty / "self").c_str());
    CHECK(e.open_parent("/self/.httpfs-state/locks/x", true, name) < 0);
    CHECK(::access((empty / ".httpfs-state").c_str(), F_OK) != 0);
    // Names that only begin the same, and links elsewhere in the tree, still open.
    CHECK(read_fd(d.open("/.httpfs-statement", O_RDONLY)) == "not the state");
    CHECK(read_fd(d.open("/ab/file.txt", O_RDONLY)) == "file");
    CHECK(read_fd(d.open("/a/zigzag", O_RDONLY)) == "file");
  }
}
