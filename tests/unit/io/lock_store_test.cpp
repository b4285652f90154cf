// The state directory and the WebDAV lock store: lookups, expiry, the conflict rules, the
// on-disk format's strictness, and atomicity between processes.
#include "io/lock_store.hpp"

#include <doctest/doctest.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cctype>
#include <limits>
#include <set>
#include <string>
#include <vector>

#include "io/docroot.hpp"
#include "io/state_dir.hpp"
#include "support/process.hpp"

using httpfs::io::Docroot;
using httpfs::io::Lock;
using httpfs::io::LockStore;
using httpfs::test::TempDir;

namespace {

constexpr std::time_t kNow = 1'700'000'000;
constexpr bool X = true, S = false;         // scope: exclusive, shared
constexpr bool kInf = true, kZero = false;  // depth

struct Fixture {
  TempDir tmp;
  Docroot root;
  LockStore store;
  Fixture() {
    REQUIRE(root.open_root(tmp.path(), {}) == 0);
    REQUIRE(store.open(root) == 0);
  }
  std::string locks_dir() const { return tmp / ".httpfs-state/locks"; }
  std::string file_of(const Lock& l) const { return locks_dir() + "/" + l.token.substr(9); }
};

Lock make_lock(std::string root, bool exclusive, bool infinite, std::uint64_t timeout = 600) {
  Lock l;
  l.root = std::move(root);
  l.exclusive = exclusive;
  l.infinite = infinite;
  l.timeout_s = timeout;
  l.owner_xml = "<D:href xmlns:D=\"DAV:\">mailto:a@example.com</D:href>";
  l.principal = "alice";
  return l;
}

// Creates and requires success; returns the lock as created (token, expires filled in).
Lock must_create(LockStore& store, Lock l, std::time_t now = kNow) {
  LockStore::Created result{};
  REQUIRE(store.create(l, now, result) == 0);
  REQUIRE(result == LockStore::Created::Ok);
  return l;
}

LockStore::Created try_create(LockStore& store, Lock l, std::time_t now = kNow) {
  LockStore::Created result{};
  REQUIRE(store.create(l, now, result) == 0);
  return result;
}

std::set<std::string> roots(const std::vector<Lock>& locks) {
  std::set<std::string> out;
  for (const Lock& l : locks) out.insert(l.root);
  return out;
}

bool same_lock(const Lock& a, const Lock& b) {
  return a.token == b.token && a.root == b.root && a.exclusive == b.exclusive &&
         a.infinite == b.infinite && a.owner_xml == b.owner_xml && a.principal == b.principal &&
         a.timeout_s == b.timeout_s && a.expires == b.expires;
}

std::string replaced(std::string s, const std::string& from, const std::string& to) {
  const std::size_t at = s.find(from);
  REQUIRE_MESSAGE(at != std::string::npos, from);
  return s.replace(at, from.size(), to);
}

}  // namespace

TEST_CASE("is_state_path") {
  struct Row {
    const char* path;
    bool state;
  };
  const Row rows[] = {
      {"/.httpfs-state", true},
      {"/.httpfs-state/", true},
      {"/.httpfs-state/locks", true},
      {"/.httpfs-state/locks/x", true},
      {".httpfs-state/locks", true},
      {"//.httpfs-state", true},
      {"/.httpfs-statex", false},
      {"/.httpfs-stat", false},
      {"/x/.httpfs-state", false},
      {"/", false},
      {"", false},
      {"/.httpfs-state-old/x", false},
      {"/.HTTPFS-STATE", false},
      {"/.httpfs-tmp-1-2", false},
  };
  for (const Row& r : rows) CHECK_MESSAGE(httpfs::io::is_state_path(r.path) == r.state, r.path);
}

TEST_CASE("the state directory is made 0700 and never through a symlink") {
  TempDir tmp;
  Docroot root;
  REQUIRE(root.open_root(tmp.path(), {}) == 0);
  int fd = httpfs::io::open_state_subdir(root, "locks");
  REQUIRE(fd >= 0);
  ::close(fd);
  for (const std::string dir : {".httpfs-state", ".httpfs-state/locks"}) {
    struct stat st {};
    REQUIRE(::lstat((tmp / dir).c_str(), &st) == 0);
    CHECK_MESSAGE(S_ISDIR(st.st_mode), dir);
    CHECK_MESSAGE((st.st_mode & 07777) == 0700, dir);
  }
  fd = httpfs::io::open_state_subdir(root, "locks");  // existing: fine
  CHECK(fd >= 0);
  if (fd >= 0) ::close(fd);
  for (const char* bad : {"", ".", "..", "a/b"})
    CHECK_MESSAGE(httpfs::io::open_state_subdir(root, bad) == -EINVAL, bad);

  // A symlink planted as the subdirectory, or as the state directory itself.
  tmp.mkdir("elsewhere");
  REQUIRE(::symlink((tmp / "elsewhere").c_str(), (tmp / ".httpfs-state/uploads").c_str()) == 0);
  fd = httpfs::io::open_state_subdir(root, "uploads");
  CHECK((fd == -ELOOP || fd == -ENOTDIR));
  TempDir tmp2;
  tmp2.mkdir("elsewhere");
  REQUIRE(::symlink((tmp2 / "elsewhere").c_str(), (tmp2 / ".httpfs-state").c_str()) == 0);
  Docroot root2;
  REQUIRE(root2.open_root(tmp2.path(), {}) == 0);
  fd = httpfs::io::open_state_subdir(root2, "locks");
  CHECK((fd == -ELOOP || fd == -ENOTDIR));
  CHECK(httpfs::test::entries(tmp2 / "elsewhere").empty());
  CHECK(httpfs::test::entries(tmp / "elsewhere").empty());

  // A store that cannot open refuses changes and finds nothing.
  LockStore store;
  CHECK(store.open(root2) < 0);
  Lock l = make_lock("/a", X, kZero);
  LockStore::Created result{};
  CHECK(store.create(l, kNow, result) < 0);
  CHECK(store.covering("/a", kNow).empty());
  CHECK(store.remove("urn:uuid:00000000-0000-4000-8000-000000000000") == -EIO);
  CHECK(httpfs::test::entries(tmp2 / "elsewhere").empty());
}

TEST_CASE("Lock::covers") {
  struct Row {
    const char* root;
    bool infinite;
    const char* path;
    bool covered;
  };
  const Row rows[] = {
      {"/a", kZero, "/a", true},      {"/a", kZero, "/a/", true},
      {"/a", kZero, "/a/b", false},   {"/a", kInf, "/a/b", true},
      {"/a", kInf, "/a/b/c/", true},  {"/a", kInf, "/ab", false},
      {"/a", kInf, "/", false},       {"/a/", kInf, "/a/b", true},
      {"/", kZero, "/", true},        {"/", kZero, "/a", false},
      {"/", kInf, "/a/b", true},      {"/", kInf, "/", true},
      {"/a b", kInf, "/a b/c", true}, {"/a\nb", kInf, "/a\nb/c", true},
      {"/a", kInf, "/a\n/b", false},
  };
  for (const Row& r : rows) {
    Lock l = make_lock(r.root, X, r.infinite);
    CHECK_MESSAGE(l.covers(r.path) == r.covered, r.root << " " << r.infinite << " " << r.path);
  }
}

TEST_CASE("create, find, covering, within, refresh, remove") {
  Fixture f;
  Lock a = must_create(f.store, make_lock("/dir/", X, kInf, 100));
  CHECK(a.root == "/dir");  // one trailing slash is the same resource
  CHECK(a.expires == kNow + 100);
  Lock b = must_create(f.store, make_lock("/other/file.txt", S, kZero, 50));
  CHECK(a.token != b.token);

  Lock got;
  REQUIRE(f.store.find(a.token, kNow, got));
  CHECK(same_lock(got, a));
  CHECK(roots(f.store.covering("/dir/sub/x", kNow)) == std::set<std::string>{"/dir"});
  CHECK(roots(f.store.covering("/dir/", kNow)) == std::set<std::string>{"/dir"});
  CHECK(f.store.covering("/dirx", kNow).empty());
  CHECK(f.store.covering("/other", kNow).empty());
  CHECK(roots(f.store.within("/", kNow)) == std::set<std::string>{"/dir", "/other/file.txt"});
  CHECK(roots(f.store.within("/other/", kNow)) == std::set<std::string>{"/other/file.txt"});
  CHECK(f.store.within("/dir/sub", kNow).empty());

  Lock refreshed;
  REQUIRE(f.store.refresh(b.token, 900, kNow + 10, refreshed) == 0);
  CHECK(refreshed.expires == kNow + 910);
  CHECK(refreshed.timeout_s == 900);
  REQUIRE(f.store.find(b.token, kNow + 500, got));
  CHECK(got.expires == kNow + 910);
  CHECK(got.owner_xml == b.owner_xml);

  CHECK(f.store.remove(a.token) == 0);
  CHECK(f.store.remove(a.token) == -ENOENT);
  CHECK_FALSE(f.store.find(a.token, kNow, got));
  CHECK(f.store.covering("/dir/sub/x", kNow).empty());
  Lock ignored;
  CHECK(f.store.refresh(a.token, 10, kNow, ignored) == -ENOENT);
  // Nothing but the guard and the one remaining lock is left behind.
  CHECK(httpfs::test::entries(f.locks_dir()) ==
        std::vector<std::string>{".guard", b.token.substr(9)});
  struct stat st {};
  REQUIRE(::stat(f.file_of(b).c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
}

TEST_CASE("tokens are urn:uuid: version-4 UUIDs, and foreign tokens find nothing") {
  Fixture f;
  std::set<std::string> seen;
  for (int i = 0; i < 20; ++i) {
    Lock l = must_create(f.store, make_lock("/t" + std::to_string(i), X, kZero));
    REQUIRE(l.token.size() == 45);
    CHECK(l.token.substr(0, 9) == "urn:uuid:");
    const std::string u = l.token.substr(9);
    for (std::size_t k : {8u, 13u, 18u, 23u}) CHECK(u[k] == '-');
    CHECK(u[14] == '4');
    CHECK(std::string("89ab").find(u[19]) != std::string::npos);
    CHECK(u.find_first_not_of("0123456789abcdef-") == std::string::npos);
    seen.insert(l.token);
  }
  CHECK(seen.size() == 20);
  const std::string real = *seen.begin();
  std::string upper = real;
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  Lock got, ignored;
  for (const std::string& bad : {std::string("urn:uuid:../../../etc/passwd"),
                                 std::string("urn:uuid:.guard"), upper, real.substr(9), real + "0",
                                 std::string("opaquelocktoken:") + real.substr(9), std::string()}) {
    CHECK_FALSE_MESSAGE(f.store.find(bad, kNow, got), bad);
    CHECK_MESSAGE(f.store.remove(bad) == -ENOENT, bad);
    CHECK_MESSAGE(f.store.refresh(bad, 5, kNow, ignored) == -ENOENT, bad);
  }
  CHECK(f.store.find(real, kNow, got));
}

TEST_CASE("expiry: lookups ignore expired locks, refresh refuses them, sweep removes them") {
  Fixture f;
  Lock a = must_create(f.store, make_lock("/a", X, kInf, 10));
  Lock b = must_create(f.store, make_lock("/b", X, kZero, 1000));
  Lock got;
  CHECK(f.store.find(a.token, kNow + 9, got));
  CHECK_FALSE(f.store.find(a.token, kNow + 10, got));  // expires is the first dead second
  CHECK(f.store.covering("/a/x", kNow + 9).size() == 1);
  CHECK(f.store.covering("/a/x", kNow + 10).empty());
  CHECK(f.store.within("/", kNow + 10).size() == 1);
  // An expired lock neither conflicts nor can be revived.
  CHECK(try_create(f.store, make_lock("/a/x", X, kZero), kNow + 9) == LockStore::Created::Conflict);
  Lock ignored;
  CHECK(f.store.refresh(a.token, 100, kNow + 10, ignored) == -ENOENT);
  Lock c = must_create(f.store, make_lock("/a/x", X, kZero, 10), kNow + 10);

  CHECK(f.store.sweep(kNow + 9) == 0);
  CHECK(f.store.sweep(kNow + 10) == 1);  // a
  CHECK_FALSE(httpfs::test::file_exists(f.file_of(a)));
  CHECK(httpfs::test::file_exists(f.file_of(b)));
  CHECK(httpfs::test::file_exists(f.file_of(c)));
  CHECK(f.store.sweep(kNow + 20) == 1);  // c
  CHECK(f.store.sweep(kNow + 20) == 0);
  CHECK(f.store.find(b.token, kNow + 999, got));

  // A timeout past the end of time_t saturates rather than wrapping into the past.
  Lock forever = must_create(f.store, make_lock("/forever", X, kZero, ~std::uint64_t{0}));
  CHECK(forever.expires == std::numeric_limits<std::time_t>::max());
  CHECK(f.store.find(forever.token, kNow + 1'000'000'000, got));
}

TEST_CASE("conflicts: scope x depth x where the new lock is") {
  struct Row {
    bool old_exclusive, old_infinite, new_exclusive, new_infinite;
    const char* new_root;  // the existing lock is on /a/b
    bool conflict;
  };
  const Row rows[] = {
      {X, kZero, X, kZero, "/a/b", true},    {X, kZero, X, kZero, "/a", false},
      {X, kZero, X, kZero, "/a/b/c", false}, {X, kZero, X, kZero, "/a/bc", false},
      {X, kZero, X, kInf, "/a/b", true},     {X, kZero, X, kInf, "/a", true},
      {X, kZero, X, kInf, "/a/b/c", false},  {X, kZero, X, kInf, "/a/bc", false},
      {X, kZero, S, kZero, "/a/b", true},    {X, kZero, S, kZero, "/a", false},
      {X, kZero, S, kZero, "/a/b/c", false}, {X, kZero, S, kZero, "/a/bc", false},
      {X, kZero, S, kInf, "/a/b", true},     {X, kZero, S, kInf, "/a", true},
      {X, kZero, S, kInf, "/a/b/c", false},  {X, kZero, S, kInf, "/a/bc", false},
      {X, kInf, X, kZero, "/a/b", true},     {X, kInf, X, kZero, "/a", false},
      {X, kInf, X, kZero, "/a/b/c", true},   {X, kInf, X, kZero, "/a/bc", false},
      {X, kInf, X, kInf, "/a/b", true},      {X, kInf, X, kInf, "/a", true},
      {X, kInf, X, kInf, "/a/b/c", true},    {X, kInf, X, kInf, "/a/bc", false},
      {X, kInf, S, kZero, "/a/b", true},     {X, kInf, S, kZero, "/a", false},
      {X, kInf, S, kZero, "/a/b/c", true},   {X, kInf, S, kZero, "/a/bc", false},
      {X, kInf, S, kInf, "/a/b", true},      {X, kInf, S, kInf, "/a", true},
      {X, kInf, S, kInf, "/a/b/c", true},    {X, kInf, S, kInf, "/a/bc", false},
      {S, kZero, X, kZero, "/a/b", true},    {S, kZero, X, kZero, "/a", false},
      {S, kZero, X, kZero, "/a/b/c", false}, {S, kZero, X, kZero, "/a/bc", false},
      {S, kZero, X, kInf, "/a/b", true},     {S, kZero, X, kInf, "/a", true},
      {S, kZero, X, kInf, "/a/b/c", false},  {S, kZero, X, kInf, "/a/bc", false},
      {S, kZero, S, kZero, "/a/b", false},   {S, kZero, S, kZero, "/a", false},
      {S, kZero, S, kZero, "/a/b/c", false}, {S, kZero, S, kZero, "/a/bc", false},
      {S, kZero, S, kInf, "/a/b", false},    {S, kZero, S, kInf, "/a", false},
      {S, kZero, S, kInf, "/a/b/c", false},  {S, kZero, S, kInf, "/a/bc", false},
      {S, kInf, X, kZero, "/a/b", true},     {S, kInf, X, kZero, "/a", false},
      {S, kInf, X, kZero, "/a/b/c", true},   {S, kInf, X, kZero, "/a/bc", false},
      {S, kInf, X, kInf, "/a/b", true},      {S, kInf, X, kInf, "/a", true},
      {S, kInf, X, kInf, "/a/b/c", true},    {S, kInf, X, kInf, "/a/bc", false},
      {S, kInf, S, kZero, "/a/b", false},    {S, kInf, S, kZero, "/a", false},
      {S, kInf, S, kZero, "/a/b/c", false},  {S, kInf, S, kZero, "/a/bc", false},
      {S, kInf, S, kInf, "/a/b", false},     {S, kInf, S, kInf, "/a", false},
      {S, kInf, S, kInf, "/a/b/c", false},   {S, kInf, S, kInf, "/a/bc", false},
  };
  Fixture f;
  int n = 0;
  for (const Row& r : rows) {
    // Each row in a subtree of its own, so rows do not see each other's locks.
    const std::string prefix = "/t" + std::to_string(n++);
    must_create(f.store, make_lock(prefix + "/a/b", r.old_exclusive, r.old_infinite));
    const auto want = r.conflict ? LockStore::Created::Conflict : LockStore::Created::Ok;
    CHECK_MESSAGE(
        try_create(f.store, make_lock(prefix + r.new_root, r.new_exclusive, r.new_infinite)) ==
            want,
        "old " << (r.old_exclusive ? "exclusive " : "shared ") << (r.old_infinite ? "inf" : "0")
               << " on /a/b, new " << (r.new_exclusive ? "exclusive " : "shared ")
               << (r.new_infinite ? "inf" : "0") << " on " << r.new_root);
    CHECK(f.store.within(prefix, kNow).size() == (r.conflict ? 1u : 2u));
  }
}

TEST_CASE("conflicts: the root, and many shared locks") {
  // The root: an infinite lock on "/" meets everything; a depth-0 one only "/".
  Fixture g;
  must_create(g.store, make_lock("/", S, kZero));
  CHECK(try_create(g.store, make_lock("/x", X, kInf)) == LockStore::Created::Ok);
  CHECK(try_create(g.store, make_lock("/", X, kZero)) == LockStore::Created::Conflict);
  CHECK(try_create(g.store, make_lock("/", S, kInf)) == LockStore::Created::Conflict);  // /x
  Fixture h;
  must_create(h.store, make_lock("/", X, kInf));
  CHECK(try_create(h.store, make_lock("/deep/down/file", S, kZero)) ==
        LockStore::Created::Conflict);
  // Many shared locks on one resource, then no exclusive one.
  Fixture s;
  for (int i = 0; i < 3; ++i) must_create(s.store, make_lock("/shared", S, kInf));
  CHECK(try_create(s.store, make_lock("/shared/x", X, kZero)) == LockStore::Created::Conflict);
  CHECK(s.store.covering("/shared/x", kNow).size() == 3);
}

TEST_CASE("remove_within removes the subtree's locks only") {
  Fixture f;
  for (const char* r : {"/d", "/d/x", "/d/x/y", "/dx", "/e"})
    must_create(f.store, make_lock(r, X, kZero));
  Lock old = must_create(f.store, make_lock("/d/old", X, kZero, 5), kNow - 10);  // expired
  CHECK(f.store.remove_within("/d/", kNow) == 3);
  CHECK(roots(f.store.within("/", kNow)) == std::set<std::string>{"/dx", "/e"});
  CHECK_FALSE(httpfs::test::file_exists(f.file_of(old)));
  CHECK(f.store.remove_within("/nothing", kNow) == 0);
  CHECK(f.store.remove_within("/", kNow) == 2);
  CHECK(httpfs::test::entries(f.locks_dir()) == std::vector<std::string>{".guard"});
}

TEST_CASE("two LockStores on one root see each other's locks") {
  Fixture f;
  LockStore other;
  REQUIRE(other.open(f.root) == 0);
  Lock a = must_create(f.store, make_lock("/shared/doc", X, kZero));
  Lock got;
  REQUIRE(other.find(a.token, kNow, got));
  CHECK(same_lock(got, a));
  CHECK(other.covering("/shared/doc", kNow).size() == 1);
  CHECK(try_create(other, make_lock("/shared", X, kInf)) == LockStore::Created::Conflict);
  Lock refreshed;
  CHECK(other.refresh(a.token, 30, kNow + 1, refreshed) == 0);
  REQUIRE(f.store.find(a.token, kNow, got));
  CHECK(got.expires == kNow + 31);
  CHECK(other.remove(a.token) == 0);
  CHECK_FALSE(f.store.find(a.token, kNow, got));
  must_create(f.store, make_lock("/shared", X, kInf));

  // Moving a store moves its descriptor.
  LockStore moved(std::move(other));
  CHECK(moved.covering("/shared/doc", kNow).size() == 1);
}

TEST_CASE("paths, owners and principals round-trip byte for byte, newlines included") {
  Fixture f;
  std::string all_bytes;
  for (int c = 1; c < 256; ++c) all_bytes += static_cast<char>(c);
  Lock l = make_lock("/dir\nwith newline/file\n", X, kZero);
  l.owner_xml = "<o>\nline\r\n" + all_bytes + "\n</o>\n";
  l.principal = "name\nwith\nnewlines 5\n";
  l = must_create(f.store, l);
  CHECK(l.root == "/dir\nwith newline/file\n");
  Lock got;
  REQUIRE(f.store.find(l.token, kNow, got));
  CHECK(same_lock(got, l));
  CHECK(f.store.covering("/dir\nwith newline/file\n", kNow).size() == 1);
  CHECK(f.store.covering("/dir\nwith newline/file", kNow).empty());
  CHECK(f.store.within("/dir\nwith newline", kNow).size() == 1);
  // Empty owner and principal too.
  Lock bare = make_lock("/bare", S, kInf);
  bare.owner_xml.clear();
  bare.principal.clear();
  bare = must_create(f.store, bare);
  REQUIRE(f.store.find(bare.token, kNow, got));
  CHECK(same_lock(got, bare));
}

namespace {

// One lock on /c, and its file's exact bytes.
struct OneLock : Fixture {
  Lock lock;
  std::string path, good;
  OneLock() {
    Lock l = make_lock("/c", X, kZero, 600);
    l.owner_xml = "<x/>";
    lock = must_create(store, l);
    path = file_of(lock);
    good = httpfs::test::read_file(path);
  }
};

}  // namespace

TEST_CASE("the lock file format, byte for byte") {
  OneLock f;
  const std::string expires = std::to_string(f.lock.expires);
  CHECK(f.good == "httpfs-lock 1\ntoken 45\n" + f.lock.token +
                      "\nroot 2\n/c\nscope 9\nexclusive\ndepth 1\n0\ntimeout 3\n600\nexpires " +
                      std::to_string(expires.size()) + "\n" + expires +
                      "\nprincipal 5\nalice\nowner 4\n<x/>\nend 0\n\n");
}

TEST_CASE("a damaged lock file is ignored") {
  OneLock f;
  const std::string& good = f.good;
  const std::string& path = f.path;
  const std::string token = f.lock.token;
  Lock got;
  auto visible = [&](const std::string& content) {
    httpfs::test::write_file(path, content);
    const bool found = f.store.find(token, kNow, got);
    CHECK(found == !f.store.covering("/c", kNow).empty());
    return found;
  };
  CHECK(visible(good));
  for (std::size_t n = 0; n < good.size(); ++n)
    CHECK_MESSAGE(!visible(good.substr(0, n)), "truncated to " << n);
  const std::string end = "end 0\n\n";
  std::string other_token = token;
  other_token.back() = token.back() == '0' ? '1' : '0';  // a well-formed token, not its file's
  const std::vector<std::string> bad = {
      good + "x",
      replaced(good, "exclusive", "exclusivX"),
      replaced(good, "depth 1\n0", "depth 1\n1"),
      replaced(good, "timeout 3\n600", "timeout 3\n6x0"),
      replaced(good, "timeout 3\n600", "timeout 4\n+600"),
      replaced(good, "root 2\n/c", "root 9\n/c"),
      replaced(good, "root 2\n/c", "root 2\nxc"),
      replaced(good, "root 2\n", "root  2\n"),
      replaced(good, end, "root 2\n/d\n" + end),  // twice
      replaced(good, "principal 5\nalice\n", ""),
      replaced(good, end, ""),
      replaced(good, end, "end 1\nx\n"),
      replaced(good, "token 45\n" + token, "token 45\n" + other_token),
      replaced(good, "httpfs-lock 1", "httpfs-lock 1 "),
      "garbage",
  };
  for (const std::string& b : bad) CHECK_MESSAGE(!visible(b), b);
  // A record of a name this version does not know is skipped: room for later fields.
  CHECK(visible(replaced(good, end, "future 3\na\nb\n" + end)));
}

TEST_CASE("sweep removes damaged lock files, not another version's or other names") {
  OneLock f;
  const std::string& good = f.good;
  const std::string& path = f.path;
  // Corrupt files do not conflict either.
  httpfs::test::write_file(path, "garbage");
  CHECK(try_create(f.store, make_lock("/c", X, kZero)) == LockStore::Created::Ok);
  const std::string other_version = f.locks_dir() + "/00000000-0000-4000-8000-000000000001";
  httpfs::test::write_file(other_version, replaced(good, "httpfs-lock 1", "httpfs-lock 2"));
  const std::string fifo = f.locks_dir() + "/00000000-0000-4000-8000-000000000002";
  REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);  // must not hang a reader
  const std::string link = f.locks_dir() + "/00000000-0000-4000-8000-000000000003";
  f.tmp.write("outside", good);
  REQUIRE(::symlink((f.tmp / "outside").c_str(), link.c_str()) == 0);
  const std::string subdir = f.locks_dir() + "/00000000-0000-4000-8000-000000000004";
  REQUIRE(::mkdir(subdir.c_str(), 0700) == 0);
  const std::string unknown = f.locks_dir() + "/README";
  httpfs::test::write_file(unknown, "x");
  const std::string stale_temp = f.locks_dir() + "/.tmp-1-2-deadbeef";
  httpfs::test::write_file(stale_temp, good);
  CHECK(f.store.covering("/c", kNow).size() == 1);
  CHECK(f.store.sweep(kNow) == 3);  // the garbage, the FIFO and the symlink
  CHECK_FALSE(httpfs::test::file_exists(path));
  CHECK_FALSE(httpfs::test::file_exists(fifo));
  CHECK_FALSE(httpfs::test::file_exists(stale_temp));
  CHECK_FALSE(httpfs::test::file_exists(link));
  CHECK(httpfs::test::file_exists(f.tmp / "outside"));
  CHECK(httpfs::test::file_exists(subdir));
  CHECK(httpfs::test::file_exists(other_version));
  CHECK(httpfs::test::file_exists(unknown));
  CHECK(f.store.covering("/c", kNow).size() == 1);
}

namespace {

// Two children race to lock, round after round; each reports one byte per round: 'o' got
// it, 'c' conflict, 'e' error. Children use the parent's store when `inherit` (a descriptor
// shared across fork), else open their own.
std::string race_child(Fixture& f, bool inherit, int who, int rounds, int go_fd) {
  char start;
  (void)!::read(go_fd, &start, 1);  // returns at EOF: both children start together
  LockStore own;
  if (!inherit && own.open(f.root) != 0) return std::string(static_cast<std::size_t>(rounds), 'e');
  LockStore& store = inherit ? f.store : own;
  std::string results;
  for (int i = 0; i < rounds; ++i) {
    // Even rounds: both want the same path; odd: one wants it with depth infinity, the other
    // a member of it.
    const std::string root = "/race/" + std::to_string(i);
    Lock l = make_lock(who == 1 && i % 2 == 1 ? root + "/member" : root, X, i % 2 == 1 && who == 0);
    LockStore::Created result{};
    const int r = store.create(l, kNow, result);
    results += r < 0 ? 'e' : result == LockStore::Created::Ok ? 'o' : 'c';
  }
  return results;
}

void race(bool inherit) {
  constexpr int kRounds = 120;
  Fixture f;
  // Changes before fork: an implementation keeping its guard descriptor open would now share
  // it (and its lock) with both children.
  must_create(f.store, make_lock("/warmup", X, kZero));
  f.store.sweep(kNow);
  int go[2];
  REQUIRE(::pipe(go) == 0);
  int out[2][2];
  pid_t kids[2];
  for (int who = 0; who < 2; ++who) {
    REQUIRE(::pipe(out[who]) == 0);
    kids[who] = ::fork();
    REQUIRE(kids[who] >= 0);
    if (kids[who] == 0) {
      ::close(go[1]);
      ::close(out[who][0]);
      const std::string results = race_child(f, inherit, who, kRounds, go[0]);
      const bool sent = ::write(out[who][1], results.data(), results.size()) ==
                        static_cast<ssize_t>(results.size());
      ::_exit(sent ? 0 : 1);  // no doctest, no atexit handlers in the child
    }
    ::close(out[who][1]);
  }
  ::close(go[0]);
  ::close(go[1]);  // go
  std::string results[2];
  for (int who = 0; who < 2; ++who) {
    char buf[4096];
    ssize_t n;
    while ((n = ::read(out[who][0], buf, sizeof buf)) > 0)
      results[who].append(buf, static_cast<std::size_t>(n));
    ::close(out[who][0]);
    int status = 0;
    ::waitpid(kids[who], &status, 0);
    CHECK(WIFEXITED(status));
  }
  REQUIRE(results[0].size() == kRounds);
  REQUIRE(results[1].size() == kRounds);
  for (int i = 0; i < kRounds; ++i) {
    const std::string pair{results[0][i], results[1][i]};
    CHECK_MESSAGE((pair == "oc" || pair == "co"), "round " << i << ": " << pair);
  }
  CHECK(f.store.within("/race", kNow).size() == kRounds);
}

}  // namespace

TEST_CASE("two processes racing for conflicting locks: exactly one wins each round") {
  SUBCASE("each opens its own store") {
    race(false);
  }
  SUBCASE("both use a store opened before fork") {
    race(true);
  }
}

TEST_CASE("no state directory until the first lock; a store opened before it sees it then") {
  TempDir tmp;
  Docroot root;
  REQUIRE(root.open_root(tmp.path(), {}) == 0);
  LockStore first, second;
  REQUIRE(first.open(root) == 0);
  REQUIRE(second.open(root) == 0);
  CHECK(first.covering("/a", kNow).empty());
  CHECK(httpfs::test::entries(tmp.path()).empty());  // a tree never locked gets nothing
  must_create(first, make_lock("/a", X, kZero));
  CHECK(httpfs::test::entries(tmp.path()) == std::vector<std::string>{".httpfs-state"});
  CHECK(second.covering("/a", kNow).size() == 1);  // attached when it was there
}
