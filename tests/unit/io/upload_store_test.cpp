// The upload store: records round-trip, ids are the only names, data is truncated to the
// promised offset, expiry and sweeping, and usage for the limits.
#include "io/upload_store.hpp"

#include <doctest/doctest.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <string>
#include <vector>

#include "io/docroot.hpp"
#include "support/process.hpp"

using httpfs::io::Docroot;
using httpfs::io::Upload;
using httpfs::io::UploadStore;
using httpfs::test::TempDir;

namespace {

constexpr std::time_t kNow = 1'700'000'000;

struct Fixture {
  TempDir tmp;
  Docroot root;
  UploadStore store;
  Fixture() {
    REQUIRE(root.open_root(tmp.path(), {}) == 0);
    REQUIRE(store.open(root) == 0);
  }
  std::string dir() const { return tmp / ".httpfs-state/uploads"; }
};

Upload make_upload(std::string target, std::string client = "127.0.0.1") {
  Upload u;
  u.target = std::move(target);
  u.interop = 8;
  u.length = 1000;
  u.if_match = "\"abc\"";
  u.if_none_match_any = false;
  u.digest = std::string(32, '\x7f');
  u.principal = "alice\nwith a newline";
  u.client = std::move(client);
  u.expires = kNow + 3600;
  return u;
}

void write_data(int fd, const std::string& bytes) {
  REQUIRE(::write(fd, bytes.data(), bytes.size()) == static_cast<ssize_t>(bytes.size()));
}

}  // namespace

TEST_CASE("an upload is made lazily, found by its id, and its record round-trips") {
  Fixture f;
  CHECK(!httpfs::test::file_exists(f.tmp / ".httpfs-state"));  // nothing until the first
  Upload u = make_upload("/dir/big file.bin");
  REQUIRE(f.store.create(u) == 0);
  CHECK(UploadStore::valid_id(u.id));
  CHECK(httpfs::test::entries(f.dir()) ==
        std::vector<std::string>{".guard", u.id, u.id + ".data"});  // sorted: "." < digits
  Upload got;
  REQUIRE(f.store.find(u.id, kNow, got) == 0);
  CHECK(got.id == u.id);
  CHECK(got.target == "/dir/big file.bin");
  CHECK(got.interop == 8);
  CHECK(got.offset == 0);
  CHECK(got.length == std::optional<std::uint64_t>(1000));
  CHECK_FALSE(got.complete);
  CHECK(got.if_match == "\"abc\"");
  CHECK(got.digest == std::string(32, '\x7f'));
  CHECK(got.principal == "alice\nwith a newline");
  CHECK(got.client == "127.0.0.1");
  CHECK(got.expires == kNow + 3600);

  got.offset = 600;
  got.length.reset();
  got.complete = true;
  got.if_none_match_any = true;
  REQUIRE(f.store.update(got) == 0);
  Upload again;
  REQUIRE(f.store.find(u.id, kNow, again) == 0);
  CHECK(again.offset == 600);
  CHECK_FALSE(again.length.has_value());
  CHECK(again.complete);
  CHECK(again.if_none_match_any);

  // Ids are distinct and are the only names a client can reach.
  Upload other = make_upload("/x");
  REQUIRE(f.store.create(other) == 0);
  CHECK(other.id != u.id);
  for (const char* bad :
       {"", "..", ".guard", "0123", "../../etc/passwd", "0123456789ABCDEF0123456789ABCDEF",
        "0123456789abcdef0123456789abcdeg", "0123456789abcdef0123456789abcdef0"}) {
    CAPTURE(bad);
    CHECK_FALSE(UploadStore::valid_id(bad));
    CHECK(f.store.find(bad, kNow, got) == -ENOENT);
    CHECK(f.store.remove(bad) == -ENOENT);
    CHECK(f.store.open_data(bad, O_RDONLY, 0) == -ENOENT);
  }
  Upload no_target;
  CHECK(f.store.create(no_target) == -EINVAL);
  // A record that could not be read back is not made (a long If-Match, say).
  Upload huge = make_upload("/huge");
  huge.if_match = std::string(70000, 'x');
  CHECK(f.store.create(huge) == -E2BIG);
  got.if_match = std::string(70000, 'x');
  CHECK(f.store.update(got) == -E2BIG);
}

TEST_CASE("the data file is cut back to the promised offset before appending") {
  Fixture f;
  Upload u = make_upload("/f");
  REQUIRE(f.store.create(u) == 0);
  int fd = f.store.open_data(u.id, O_RDWR | O_APPEND, 0);
  REQUIRE(fd >= 0);
  write_data(fd, "0123456789");
  ::close(fd);
  u.offset = 6;  // only six were synced and promised; four more were written after
  REQUIRE(f.store.update(u) == 0);
  fd = f.store.open_data(u.id, O_RDWR | O_APPEND, u.offset);
  REQUIRE(fd >= 0);
  write_data(fd, "xy");
  ::close(fd);
  CHECK(httpfs::test::read_file(f.dir() + "/" + u.id + ".data") == "012345xy");
  // Reading does not cut; a file shorter than its promise is lost data.
  fd = f.store.open_data(u.id, O_RDONLY, 8);
  REQUIRE(fd >= 0);
  ::close(fd);
  CHECK(f.store.open_data(u.id, O_RDONLY, 9) == -EUCLEAN);
  // A data file with a second link is not the upload's own: appending would change the other.
  const std::string data = f.dir() + "/" + u.id + ".data";
  REQUIRE(::link(data.c_str(), (f.dir() + "/other").c_str()) == 0);
  CHECK(f.store.open_data(u.id, O_RDWR, 8) == -EUCLEAN);
  ::unlink((f.dir() + "/other").c_str());
  fd = f.store.open_data(u.id, O_RDWR, 8);
  CHECK(fd >= 0);
  UploadStore::close_data(fd);
}

TEST_CASE("one writer at a time: the data file's lock holds until its descriptor closes") {
  Fixture f;
  Upload u = make_upload("/f");
  REQUIRE(f.store.create(u) == 0);
  const int first = f.store.open_data(u.id, O_RDWR, 0);
  REQUIRE(first >= 0);
  write_data(first, "abc");
  // A second writer (another request, or another process) is refused, and cuts nothing.
  CHECK(f.store.open_data(u.id, O_RDWR, 0) == -EBUSY);
  CHECK(httpfs::test::read_file(f.dir() + "/" + u.id + ".data") == "abc");
  // Readers are not writers.
  const int reader = f.store.open_data(u.id, O_RDONLY, 3);
  CHECK(reader >= 0);
  ::close(reader);
  ::close(first);
  const int next = f.store.open_data(u.id, O_RDWR, 1);
  CHECK(next >= 0);
  ::close(next);
  CHECK(httpfs::test::read_file(f.dir() + "/" + u.id + ".data") == "a");
}

TEST_CASE("remove, expiry and sweep; a cancelled upload cannot be updated") {
  Fixture f;
  Upload live = make_upload("/live"), old = make_upload("/old"), gone = make_upload("/gone");
  old.expires = kNow - 1;
  REQUIRE(f.store.create(live) == 0);
  REQUIRE(f.store.create(old) == 0);
  REQUIRE(f.store.create(gone) == 0);
  Upload got;
  CHECK(f.store.find(old.id, kNow, got) == -ENOENT);  // expired: as if gone
  REQUIRE(f.store.remove(gone.id) == 0);
  CHECK(f.store.remove(gone.id) == -ENOENT);
  CHECK(f.store.update(gone) == -ENOENT);
  CHECK(!httpfs::test::file_exists(f.dir() + "/" + gone.id + ".data"));

  // Damage: a record that does not parse, an orphaned data file, a dead writer's temporary,
  // and a record of another version (another httpfs sharing the tree: left alone).
  const std::string junk(32, 'a'), orphan(32, 'b'), future(32, 'c');
  httpfs::test::write_file(f.dir() + "/" + junk, "httpfs-upload 1\ngarbage");
  httpfs::test::write_file(f.dir() + "/" + orphan + ".data", "bytes");
  httpfs::test::write_file(f.dir() + "/.tmp-1-2-abcd", "half");
  httpfs::test::write_file(f.dir() + "/" + future, "httpfs-upload 2\nwhatever");
  CHECK(f.store.sweep(kNow) == 2);  // old and junk
  std::vector<std::string> left = {".guard", future, live.id, live.id + ".data"};
  std::sort(left.begin(), left.end());
  CHECK(httpfs::test::entries(f.dir()) == left);
  CHECK(f.store.find(live.id, kNow, got) == 0);
}

TEST_CASE("usage counts unfinished uploads, their bytes, and those of one client") {
  Fixture f;
  CHECK(f.store.usage("a").uploads == 0);
  Upload a1 = make_upload("/1", "a"), a2 = make_upload("/2", "a"), b = make_upload("/3", "b");
  Upload expired = make_upload("/4", "a");
  expired.expires = kNow;
  for (Upload* u : {&a1, &a2, &b, &expired}) REQUIRE(f.store.create(*u) == 0);
  const int fd = f.store.open_data(a1.id, O_RDWR, 0);
  REQUIRE(fd >= 0);
  write_data(fd, std::string(100000, 'x'));
  ::fsync(fd);
  ::close(fd);
  // An expired upload holds its place until a sweep removes it.
  UploadStore::Usage use = f.store.usage("a");
  CHECK(use.uploads == 4);
  CHECK(use.client_uploads == 3);
  CHECK(use.bytes >= 100000);  // allocated blocks
  CHECK(f.store.usage("b").client_uploads == 1);
  f.store.sweep(kNow);
  CHECK(f.store.usage("a").uploads == 3);
  // At the limit, the count is all there is: nothing else was read.
  use = f.store.usage("a", 3);
  CHECK(use.uploads == 3);
  CHECK(use.client_uploads == 0);
  CHECK(use.bytes == 0);
  // A completed upload is no longer an upload that takes a place; find() still knows it.
  a2.complete = true;
  a2.offset = 10;
  REQUIRE(f.store.complete(a2) == 0);
  CHECK(f.store.usage("a").uploads == 2);
  CHECK(f.store.usage("a").client_uploads == 1);
  Upload got;
  REQUIRE(f.store.find(a2.id, kNow, got) == 0);
  CHECK(got.complete);
  CHECK(got.offset == 10);
  CHECK_FALSE(httpfs::test::file_exists(f.dir() + "/" + a2.id + ".data"));
  CHECK(f.store.remove(a2.id) == 0);
  CHECK(f.store.find(a2.id, kNow, got) == -ENOENT);
  CHECK(f.store.remove(a2.id) == -ENOENT);
}

TEST_CASE("a completed record is swept when it expires, and must say it is complete") {
  Fixture f;
  Upload u = make_upload("/done");
  REQUIRE(f.store.create(u) == 0);
  u.complete = true;
  u.expires = kNow + 10;
  REQUIRE(f.store.complete(u) == 0);
  Upload got;
  CHECK(f.store.sweep(kNow) == 0);
  CHECK(f.store.find(u.id, kNow, got) == 0);
  CHECK(f.store.sweep(kNow + 10) == 1);
  CHECK(f.store.find(u.id, kNow, got) == -ENOENT);
  // An unfinished record under the completed name is not believed.
  Upload v = make_upload("/v");
  REQUIRE(f.store.create(v) == 0);
  httpfs::test::write_file(f.dir() + "/" + v.id + ".done",
                           httpfs::test::read_file(f.dir() + "/" + v.id));
  REQUIRE(::unlink((f.dir() + "/" + v.id).c_str()) == 0);
  CHECK(f.store.find(v.id, kNow, got) == -EUCLEAN);
  Upload incomplete = make_upload("/w");
  CHECK(f.store.complete(incomplete) == -EINVAL);
}

TEST_CASE("a target that is not a normal path is refused, and read back as damage") {
  Fixture f;
  const std::vector<std::string> bads = {
      "", "x", "/", "/a/../b", "/..", "/./a", "/a//b", "/a/", std::string("/a\0b", 4)};
  for (const std::string& bad : bads) {
    Upload u = make_upload(bad);
    CHECK_MESSAGE(f.store.create(u) == -EINVAL, bad);
  }
  // A record edited on disk: "/ok" becomes "/.." (same length), or "/o\0" (the system calls
  // would stop at the NUL and commit to "/o").
  const std::vector<std::string> edits = {"/..", std::string("/o\0", 3)};
  for (const std::string& edit : edits) {
    Upload u = make_upload("/ok");
    REQUIRE(f.store.create(u) == 0);
    const std::string path = f.dir() + "/" + u.id;
    std::string record = httpfs::test::read_file(path);
    const std::size_t at = record.find("/ok");
    REQUIRE(at != std::string::npos);
    record.replace(at, 3, edit);
    httpfs::test::write_file(path, record);
    Upload got;
    CHECK(f.store.find(u.id, kNow, got) == -EUCLEAN);
    CHECK(f.store.sweep(kNow) == 1);
    CHECK(f.store.find(u.id, kNow, got) == -ENOENT);
    CHECK_FALSE(httpfs::test::file_exists(path));
  }
}

TEST_CASE("an expiry beyond the lifetime (a clock that was ahead) ends within the lifetime") {
  TempDir tmp;
  Docroot root;
  REQUIRE(root.open_root(tmp.path(), {}) == 0);
  UploadStore store;
  REQUIRE(store.open(root, 60) == 0);
  Upload u = make_upload("/far");
  u.expires = kNow + 10 * 365 * 24 * 3600;
  REQUIRE(store.create(u) == 0);
  Upload got;
  REQUIRE(store.find(u.id, kNow, got) == 0);
  CHECK(got.expires == kNow + 60);  // what HEAD's Upload-Limit then says
  CHECK(store.sweep(kNow) == 0);    // kept, and its record written down with that expiry
  UploadStore unbounded;
  REQUIRE(unbounded.open(root) == 0);
  REQUIRE(unbounded.find(u.id, kNow, got) == 0);
  CHECK(got.expires == kNow + 60);
  CHECK(unbounded.find(u.id, kNow + 61, got) == -ENOENT);
  CHECK(store.sweep(kNow + 61) == 1);
}
