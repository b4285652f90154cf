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
