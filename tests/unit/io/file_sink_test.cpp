#include "io/file_sink.hpp"

#include <doctest/doctest.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <ctime>
#include <map>
#include <thread>

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

TEST_CASE("named temporaries carry their target's name, host tag and pid") {
  const std::string name = make_temp_name("report.pdf");
  const std::string tag(host_tag());
  CHECK(name == ".report.pdf.httpfs-tmp-" + tag + "-" + std::to_string(::getpid()) +
                    name.substr(name.rfind('-')));
  // GlusterFS's DHT places ".<name>.<suffix>" by "<name>": the suffix holds no dot.
  CHECK(name.substr(name.rfind('.') + 1).starts_with("httpfs-tmp-"));
  const std::string long_target(250, 'a');
  const std::string shortened = make_temp_name(long_target);
  CHECK(shortened.size() <= 255);
  CHECK(parse_temp_name(shortened).has_value());

  struct Row {
    const char* name;
    bool temp;
    const char* host;
    long pid;
  };
  const Row rows[] = {
      {".a.txt.httpfs-tmp-0123abcd-42-7", true, "0123abcd", 42},
      {".httpfs-tmp-42-7", true, "", 42},    // the older form
      {".a.httpfs-tmp-42-7", false, "", 0},  // the older form never had a target
      {".a.httpfs-tmp-0123abcd-42", false, "", 0},
      {".a.httpfs-tmp-0123abcd-42-7-9", false, "", 0},
      {".a.httpfs-tmp-0123ABCD-42-7", false, "", 0},
      {".a.httpfs-tmp-0123abc-42-7", false, "", 0},
      {".a.httpfs-tmp-0123abcd-0-7", false, "", 0},
      {".a.httpfs-tmp-0123abcd--7", false, "", 0},
      {"a.httpfs-tmp-0123abcd-42-7", false, "", 0},  // not a dotfile
      {".a.httpfs-tmp-0123abcd-42-7.x", false, "", 0},
      {".httpfs-tmp-", false, "", 0},
      {"", false, "", 0},
  };
  for (const Row& r : rows) {
    const auto parsed = parse_temp_name(r.name);
    CHECK_MESSAGE(parsed.has_value() == r.temp, r.name);
    if (parsed && r.temp) {
      CHECK(parsed->host == r.host);
      CHECK(parsed->pid == r.pid);
    }
  }
}

TEST_CASE("another host's temporaries are swept by age, this host's by pid") {
  TempDir t;
  const std::string other =
      ".f.httpfs-tmp-" + std::string(host_tag() == "00000000" ? "00000001" : "00000000");
  t.write(other + "-1-1", "recent, another host's");
  t.write(other + "-1-2", "old, another host's");
  const std::string old_path = t / (other + "-1-2");
  const timespec times[2] = {{0, UTIME_OMIT}, {std::time(nullptr) - kForeignTempAgeS - 60, 0}};
  REQUIRE(::utimensat(AT_FDCWD, old_path.c_str(), times, 0) == 0);
  const std::string mine = ".f.httpfs-tmp-" + std::string(host_tag());
  t.write(mine + "-999999-1", "this host's, dead");
  t.write(mine + "-" + std::to_string(::getppid()) + "-1", "this host's, alive");
  Docroot d;
  REQUIRE(d.open_root(t.path(), {}) == 0);
  CHECK(sweep_stale_temps(d, 100) == 2);
  CHECK(httpfs::test::file_exists(t / (other + "-1-1")));
  CHECK_FALSE(httpfs::test::file_exists(old_path));
  CHECK_FALSE(httpfs::test::file_exists(t / (mine + "-999999-1")));
  CHECK(httpfs::test::file_exists(t / (mine + "-" + std::to_string(::getppid()) + "-1")));
}

TEST_CASE("with named temporaries only, an upload is a dotfile beside its target") {
  TempDir t;
  use_named_temps_only(true);
  {
    FileSink s;
    REQUIRE(s.open(dir_fd(t), "data.bin") == 0);
    s.write("abc");
    const auto names = httpfs::test::read_tree(t.path());
    REQUIRE(names.size() == 1);
    CHECK(names.begin()->first.starts_with(".data.bin.httpfs-tmp-"));
    struct stat st {};
    CHECK(s.commit(false, false, {}, st) == 0);
  }
  use_named_temps_only(false);
  CHECK(httpfs::test::read_tree(t.path()) ==
        std::map<std::string, std::string>{{"data.bin", "abc"}});
}

TEST_CASE("two conditional replaces of one version: one commits, the other finds it changed") {
  // Many rounds of two sinks committing on two threads with the same If-Match: without the
  // lock held from the check to the rename, both would see the old version and both rename.
  TempDir t;
  int both = 0, none = 0;
  for (int round = 0; round < 400; ++round) {
    t.write("doc", "v" + std::to_string(round));
    struct stat cur {};
    REQUIRE(::stat((t / "doc").c_str(), &cur) == 0);
    const std::string tag = file_etag(cur);
    int results[2] = {1, 1};
    FileSink sinks[2];
    for (int i = 0; i < 2; ++i) {
      REQUIRE(sinks[i].open(dir_fd(t), "doc") == 0);
      sinks[i].write("writer " + std::to_string(i));
    }
    std::thread a([&] {
      struct stat st {};
      results[0] = sinks[0].commit(false, false, tag, st);
    });
    struct stat st {};
    results[1] = sinks[1].commit(false, false, tag, st);
    a.join();
    const int ok = (results[0] == 0) + (results[1] == 0);
    if (ok == 2) ++both;
    if (ok == 0) ++none;
    for (int i = 0; i < 2; ++i) CHECK((results[i] == 0 || results[i] == -ESTALE));
  }
  CHECK(both == 0);
  CHECK(none == 0);
}
