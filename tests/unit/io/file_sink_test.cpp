#include "io/file_sink.hpp"

#include <doctest/doctest.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "io/file_etag.hpp"
#include "support/process.hpp"

using namespace httpfs::io;
using httpfs::test::TempDir;

namespace {

int dir_fd(const TempDir& t) {
  return ::open(t.path().c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
}

}  // namespace

TEST_CASE("a sink commits atomically or leaves nothing") {
  TempDir t;
  t.write("target", "old");
  {
    FileSink s;
    REQUIRE(s.open(dir_fd(t), "target") == 0);
    CHECK(s.write("new content") == 0);
    CHECK(httpfs::test::read_file(t / "target") == "old");  // untouched until the commit
    struct stat st {};
    CHECK(s.commit(true, false, {}, st) == 0);
    CHECK(st.st_size == 11);
  }
  CHECK(httpfs::test::read_file(t / "target") == "new content");
  {
    FileSink s;
    REQUIRE(s.open(dir_fd(t), "target") == 0);
    s.write("discarded");
  }  // destroyed without commit
  CHECK(httpfs::test::read_file(t / "target") == "new content");
  {
    FileSink s;  // create-only against an existing file
    REQUIRE(s.open(dir_fd(t), "target") == 0);
    s.write("x");
    struct stat st {};
    CHECK(s.commit(false, true, {}, st) == -EEXIST);
  }
  {
    FileSink s;  // If-Match that no longer holds
    REQUIRE(s.open(dir_fd(t), "target") == 0);
    s.write("y");
    struct stat st {};
    CHECK(s.commit(false, false, "\"stale\"", st) == -ESTALE);
    struct stat cur {};
    ::stat((t / "target").c_str(), &cur);
    FileSink ok;
    REQUIRE(ok.open(dir_fd(t), "target") == 0);
    ok.write("z");
    CHECK(ok.commit(false, false, file_etag(cur), st) == 0);
  }
  CHECK(httpfs::test::read_file(t / "target") == "z");
}

TEST_CASE("stale named temporaries of dead processes are swept, live ones kept") {
  TempDir t;
  t.write(".httpfs-tmp-999999-1", "dead");
  t.write("sub/.httpfs-tmp-999998-2", "dead");
  t.write(".httpfs-tmp-" + std::to_string(::getppid()) + "-3", "alive");
  t.write("keep.txt", "keep");
  Docroot d;
  REQUIRE(d.open_root(t.path(), {}) == 0);
  CHECK(sweep_stale_temps(d, 100) == 2);
  CHECK_FALSE(httpfs::test::file_exists(t / ".httpfs-tmp-999999-1"));
  CHECK(httpfs::test::file_exists(t / (".httpfs-tmp-" + std::to_string(::getppid()) + "-3")));
  CHECK(httpfs::test::file_exists(t / "keep.txt"));
}

TEST_CASE("an adopted file moves to its name on commit, and stays where it was otherwise") {
  TempDir state, target;
  state.write("abc.data", "partial upload bytes");
  ::chmod((state / "abc.data").c_str(), 0600);
  {
    FileSink s;
    REQUIRE(s.adopt(dir_fd(state), "abc.data", dir_fd(target), "file.bin") == 0);
    CHECK(s.size() == 20);
    CHECK(s.write(", and the rest") == 0);  // appends after what is there
    struct stat st {};
    REQUIRE(s.commit(true, false, {}, st) == 0);
    CHECK(st.st_size == 34);
  }
  CHECK(httpfs::test::read_file(target / "file.bin") == "partial upload bytes, and the rest");
  CHECK(!httpfs::test::file_exists(state / "abc.data"));
  struct stat st {};
  REQUIRE(::stat((target / "file.bin").c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0644);

  // A failed commit (If-None-Match: * and the name taken; a stale If-Match) or a sink
  // dropped without one leaves the data for another try.
  state.write("def.data", "second");
  for (int round = 0; round < 3; ++round) {
    CAPTURE(round);
    FileSink s;
    REQUIRE(s.adopt(dir_fd(state), "def.data", dir_fd(target), "file.bin") == 0);
    struct stat out {};
    if (round == 0) CHECK(s.commit(true, true, {}, out) == -EEXIST);
    if (round == 1) CHECK(s.commit(true, false, "\"not-the-tag\"", out) == -ESTALE);
  }
  CHECK(httpfs::test::read_file(state / "def.data") == "second");
  CHECK(httpfs::test::read_file(target / "file.bin") == "partial upload bytes, and the rest");

  FileSink missing;
  CHECK(missing.adopt(dir_fd(state), "nope.data", dir_fd(target), "x") == -ENOENT);
  REQUIRE(::mkdir((state / "dir.data").c_str(), 0700) == 0);
  FileSink not_file;
  CHECK(not_file.adopt(dir_fd(state), "dir.data", dir_fd(target), "x") != 0);
}

TEST_CASE("an adopted file on another file system is copied to its name, and stays") {
  TempDir state, target;
  httpfs::test::TmpfsMount other(state / "fs", "4m");
  if (!other.mounted()) {
    MESSAGE("skipped: cannot mount a tmpfs here (" << other.why() << ")");
    return;
  }
  const std::string data = httpfs::test::random_bytes(300000, 9);
  httpfs::test::write_file(state / "fs/abc.data", data);
  const int from = ::open((state / "fs").c_str(), O_DIRECTORY | O_CLOEXEC);
  REQUIRE(from >= 0);
  {
    FileSink s;
    REQUIRE(s.adopt(from, "abc.data", dir_fd(target), "file.bin") == 0);
    CHECK(s.write("tail") == 0);
    struct stat st {};
    REQUIRE(s.commit(true, true, {}, st) == 0);
    CHECK(st.st_size == static_cast<off_t>(data.size() + 4));
  }
  CHECK(httpfs::test::read_file(target / "file.bin") == data + "tail");
  // The data stays for its owner (the upload store) to remove; no temporary is left.
  CHECK(httpfs::test::read_file(state / "fs/abc.data") == data + "tail");
  CHECK(httpfs::test::entries(target.path()) == std::vector<std::string>{"file.bin"});
}
