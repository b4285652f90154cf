// On-disk format of one lock, `locks/<uuid>` (the uuid being the token without "urn:uuid:"):
//
//   httpfs-lock 1 LF
//   then records, each `<name> SP <decimal byte count> LF <that many bytes> LF`:
//     token      "urn:uuid:<uuid>" (must match the file name)
//     root       the locked path, normalised, starting with "/"
//     scope      "exclusive" | "shared"
//     depth      "0" | "infinity"
//     timeout    seconds granted, decimal
//     expires    seconds since the epoch, decimal
//     principal  any bytes
//     owner      any bytes (the lockinfo owner XML)
//   and last `end 0 LF LF`, then nothing.
//
// Values are length-prefixed, so they may hold any byte, newlines included (a path can).
// Records of unknown names are skipped (room for later fields); a missing, repeated or
// malformed record, or anything after `end`, makes the file not parse, and such a file is
// ignored by lookups and removed by sweep(). A file whose first line names another version
// is left alone: another httpfs may be sharing the tree.
//
// Locking: every change (create, refresh, remove, remove_within, sweep) runs under an
// exclusive fcntl lock on `locks/.guard`, opened afresh by each operation and closed (which
// releases it) at its end. Open file description locks (F_OFD_SETLKW) are used: they exclude
// two LockStores of one process, or two threads, as well as two processes. Opening per
// operation rather than keeping the descriptor is what makes that hold: a descriptor kept
// open would be shared with every child forked after open(), and an OFD lock taken through a
// shared description does not exclude the other holders. Kernels without OFD locks (before
// 3.15) fall back to process-wide POSIX locks, which still exclude other processes.
// Readers take no lock: files are only ever renamed into place whole. Writers write to
// `locks/.tmp-<pid>-<n>-<random>` (O_EXCL) under the guard, so a temporary found under the
// guard is a dead writer's and sweep() removes it.
//
// A lock is alive while now < expires; create() and refresh() set expires = now + timeout_s
// (saturating at the largest time_t).
#include "io/lock_store.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <limits>

#include "io/state_dir.hpp"
#include "io/write_all.hpp"

namespace httpfs::io {

namespace {

constexpr std::string_view kTokenPrefix = "urn:uuid:";
constexpr std::string_view kMagic = "httpfs-lock 1\n";
constexpr std::string_view kMagicAnyVersion = "httpfs-lock ";
constexpr std::string_view kLockTempPrefix = ".tmp-";
constexpr const char* kGuardName = ".guard";
constexpr std::size_t kMaxLockFile = 4u << 20;  // owner XML is bounded by the body limit

std::atomic<unsigned> g_counter{0};

std::string_view normalise(std::string_view path) {
  if (path.empty()) return "/";
  if (path.size() > 1 && path.back() == '/') path.remove_suffix(1);
  return path;
}

// Whether `path` is `root` or lies below it (both normalised).
bool is_within(std::string_view path, std::string_view root) {
  if (path == root) return true;
  if (root == "/") return path.starts_with('/');
  return path.size() > root.size() && path.starts_with(root) && path[root.size()] == '/';
}

bool is_uuid(std::string_view s) {
  if (s.size() != 36) return false;
  for (std::size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (c != '-') return false;
    } else if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
      return false;
    }
  }
  return true;
}

// The file name a token maps to, or "" for anything that is not one of our tokens (which
// must never reach openat: a client sends them).
std::string token_uuid(std::string_view token) {
  if (!token.starts_with(kTokenPrefix)) return {};
  token.remove_prefix(kTokenPrefix.size());
  return is_uuid(token) ? std::string(token) : std::string();
}

int fill_random(unsigned char* buf, std::size_t n) {
  while (n > 0) {
    ssize_t got = ::getrandom(buf, n, 0);
    if (got < 0) {
      if (errno == EINTR) continue;
      return -errno;
    }
    buf += got;
    n -= static_cast<std::size_t>(got);
  }
  return 0;
}

// "urn:uuid:" + a random version-4 UUID (RFC 9562 5.4).
int new_token(std::string& token) {
  unsigned char b[16];
  if (int r = fill_random(b, sizeof b); r < 0) return r;
  b[6] = static_cast<unsigned char>((b[6] & 0x0f) | 0x40);
  b[8] = static_cast<unsigned char>((b[8] & 0x3f) | 0x80);
  char text[37];
  std::snprintf(text, sizeof text,
                "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0], b[1],
                b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14],
                b[15]);
  token = std::string(kTokenPrefix) + text;
  return 0;
}

std::time_t expiry(std::time_t now, std::uint64_t timeout_s) {
  constexpr std::time_t kMax = std::numeric_limits<std::time_t>::max();
  if (now >= 0 && timeout_s > static_cast<std::uint64_t>(kMax - now)) return kMax;
  return now + static_cast<std::time_t>(timeout_s);
}

bool conflicts(const Lock& existing, const Lock& wanted) {
  if (!existing.exclusive && !wanted.exclusive) return false;
  return existing.covers(wanted.root) || (wanted.infinite && is_within(existing.root, wanted.root));
}

// ---- the file format ----

void put(std::string& out, std::string_view name, std::string_view value) {
  out += name;
  out += ' ';
  out += std::to_string(value.size());
  out += '\n';
  out += value;
  out += '\n';
}

std::string encode(const Lock& lock) {
  std::string out(kMagic);
  put(out, "token", lock.token);
  put(out, "root", lock.root);
  put(out, "scope", lock.exclusive ? "exclusive" : "shared");
  put(out, "depth", lock.infinite ? "infinity" : "0");
  put(out, "timeout", std::to_string(lock.timeout_s));
  put(out, "expires", std::to_string(lock.expires));
  put(out, "principal", lock.principal);
  put(out, "owner", lock.owner_xml);
  put(out, "end", "");
  return out;
}

// Takes the next record off `rest`; false when there is none well-formed.
bool next_record(std::string_view& rest, std::string_view& name, std::string_view& value) {
  const std::size_t sp = rest.find(' ');
  if (sp == std::string_view::npos) return false;
  name = rest.substr(0, sp);
  const std::size_t nl = rest.find('\n', sp);
  if (nl == std::string_view::npos || name.find('\n') != std::string_view::npos) return false;
  const std::string_view digits = rest.substr(sp + 1, nl - sp - 1);
  std::size_t len = 0;
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), len);
  if (digits.empty() || ec != std::errc() || end != digits.data() + digits.size()) return false;
  rest.remove_prefix(nl + 1);
  if (len >= rest.size() || rest[len] != '\n') return false;
  value = rest.substr(0, len);
  rest.remove_prefix(len + 1);
  return true;
}

template <class T>
bool parse_number(std::string_view s, T& out) {
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return !s.empty() && ec == std::errc() && end == s.data() + s.size();
}

// Stores one record in `lock`: its bit among the required ones, 0 for an unknown name (to
// skip), -1 for a bad value.
int apply_record(std::string_view name, std::string_view value, Lock& lock) {
  if (name == "token") {
    lock.token = value;
    return 1;
  }
  if (name == "root") {
    lock.root = value;
    return value.starts_with('/') ? 2 : -1;
  }
  if (name == "scope") {
    lock.exclusive = value == "exclusive";
    return lock.exclusive || value == "shared" ? 4 : -1;
  }
  if (name == "depth") {
    lock.infinite = value == "infinity";
    return lock.infinite || value == "0" ? 8 : -1;
  }
  if (name == "timeout") return parse_number(value, lock.timeout_s) ? 16 : -1;
  if (name == "expires") return parse_number(value, lock.expires) ? 32 : -1;
  if (name == "principal") {
    lock.principal = value;
    return 64;
  }
  if (name == "owner") {
    lock.owner_xml = value;
    return 128;
  }
  return 0;
}

bool decode(std::string_view bytes, Lock& lock) {
  if (!bytes.starts_with(kMagic)) return false;
  std::string_view rest = bytes.substr(kMagic.size());
  int seen = 0;
  std::string_view name, value;
  while (next_record(rest, name, value)) {
    if (name == "end") return rest.empty() && value.empty() && seen == 255;
    const int bit = apply_record(name, value, lock);
    if (bit < 0 || (seen & bit) != 0) return false;
    seen |= bit;
  }
  return false;
}

// ---- files ----

// Reads a whole (small, regular) file. O_NONBLOCK: a FIFO planted there must not hang us.
int read_small_file(int dir, const char* name, std::string& out) {
  int fd = ::openat(dir, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) return -errno;
  struct stat st {};
  int r = ::fstat(fd, &st) != 0 ? -errno : 0;
  if (r == 0 && !S_ISREG(st.st_mode)) r = -EINVAL;
  char buf[65536];
  while (r == 0) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      r = n < 0 ? -errno : 0;
      break;
    }
    out.append(buf, static_cast<std::size_t>(n));
    if (out.size() > kMaxLockFile) r = -EFBIG;
  }
  ::close(fd);
  return r;
}

enum class Loaded : unsigned char { Ok, Unreadable, Corrupt, OtherVersion };

Loaded load(int dir, const std::string& uuid, Lock& lock) {
  std::string bytes;
  if (int r = read_small_file(dir, uuid.c_str(), bytes); r < 0)
    // Not a regular file (a FIFO, a directory), too big, or a symlink: not a lock of ours.
    return r == -EINVAL || r == -EFBIG || r == -ELOOP ? Loaded::Corrupt : Loaded::Unreadable;
  if (!decode(bytes, lock)) {
    const bool other = bytes.starts_with(kMagicAnyVersion) && !bytes.starts_with(kMagic);
    return other ? Loaded::OtherVersion : Loaded::Corrupt;
  }
  return token_uuid(lock.token) == uuid ? Loaded::Ok : Loaded::Corrupt;
}

// Calls f(name) for every entry of the directory but "." and "..".
template <class F>
void for_each_entry(int dir, F&& f) {
  // A descriptor of its own: readdir's position lives in it, and fdopendir takes it.
  int fd = ::openat(dir, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return;
  DIR* d = ::fdopendir(fd);
  if (d == nullptr) {
    ::close(fd);
    return;
  }
  while (dirent* e = ::readdir(d)) {
    std::string_view name = e->d_name;
    if (name != "." && name != "..") f(std::string(name));
  }
  ::closedir(d);
}

template <class Pred>
std::vector<Lock> unexpired(int dir, std::time_t now, Pred pred) {
  std::vector<Lock> out;
  if (dir < 0) return out;
  for_each_entry(dir, [&](const std::string& name) {
    Lock lock;
    if (is_uuid(name) && load(dir, name, lock) == Loaded::Ok && lock.expires > now && pred(lock))
      out.push_back(std::move(lock));
  });
  std::sort(out.begin(), out.end(), [](const Lock& a, const Lock& b) {
    return a.root != b.root ? a.root < b.root : a.token < b.token;
  });
  return out;
}

// The exclusive lock on locks/.guard, held while the object lives.
class Guard {
 public:
  explicit Guard(int dir) {
    fd_ = ::openat(dir, kGuardName, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd_ < 0) {
      error_ = -errno;
      return;
    }
    int r = take(F_OFD_SETLKW);
    if (r == -EINVAL) r = take(F_SETLKW);  // no OFD locks on this kernel
    if (r < 0) {
      error_ = r;
      ::close(fd_);
      fd_ = -1;
    }
  }
  ~Guard() {
    if (fd_ >= 0) ::close(fd_);  // releases the lock
  }
  Guard(const Guard&) = delete;
  Guard& operator=(const Guard&) = delete;
  int error() const noexcept { return error_; }

 private:
  int take(int cmd) {
    struct flock fl {};
    fl.l_type = F_WRLCK;
    fl.l_whence = SEEK_SET;  // l_start = l_len = 0: the whole file; l_pid must be 0 for OFD
    while (::fcntl(fd_, cmd, &fl) != 0) {
      if (errno != EINTR) return -errno;
    }
    return 0;
  }

  int fd_ = -1;
  int error_ = 0;
};

std::string temp_name() {
  unsigned char r[4] = {};
  fill_random(r, sizeof r);  // the pid alone is not unique across hosts sharing the tree
  char buf[80];
  std::snprintf(buf, sizeof buf, "%s%d-%u-%02x%02x%02x%02x", std::string(kLockTempPrefix).c_str(),
                static_cast<int>(::getpid()), g_counter.fetch_add(1), r[0], r[1], r[2], r[3]);
  return buf;
}

int write_temp(int dir, std::string_view bytes, std::string& tmp) {
  int fd = -1;
  for (int attempt = 0; attempt < 16 && fd < 0; ++attempt) {
    tmp = temp_name();
    fd = ::openat(dir, tmp.c_str(), O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0 && errno != EEXIST) return -errno;
  }
  if (fd < 0) return -EEXIST;
  std::uint64_t written = 0;
  int r = write_all(fd, bytes, written);
  if (r == 0 && ::fsync(fd) != 0) r = -errno;
  if (::close(fd) != 0 && r == 0) r = -errno;  // a network file system may report only here
  if (r < 0) ::unlinkat(dir, tmp.c_str(), 0);
  return r;
}

// Writes `lock` to its file, replacing any: the bytes reach the disk under a temporary
// name and only then take the lock's, and the directory is synced after the rename, so a
// reader sees the whole lock or none, and a crash after return keeps it. Under the guard.
int write_lock_file(int dir, const Lock& lock) {
  std::string tmp;
  if (int r = write_temp(dir, encode(lock), tmp); r < 0) return r;
  const std::string name = token_uuid(lock.token);
  if (::renameat(dir, tmp.c_str(), dir, name.c_str()) != 0) {
    int e = -errno;
    ::unlinkat(dir, tmp.c_str(), 0);
    return e;
  }
  return ::fsync(dir) != 0 ? -errno : 0;
}

enum class Doom : unsigned char { Keep, Remove, RemoveUncounted };

// Unlinks every entry `doom` picks, then syncs the directory once. Under the guard. Returns
// how many of the counted ones went.
template <class DoomFn>
std::size_t unlink_entries(int dir, DoomFn doom) {
  std::size_t counted = 0;
  bool any = false;
  for_each_entry(dir, [&](const std::string& name) {
    const Doom d = doom(name);
    if (d == Doom::Keep || ::unlinkat(dir, name.c_str(), 0) != 0) return;
    any = true;
    counted += d == Doom::Remove ? 1 : 0;
  });
  if (any) ::fsync(dir);
  return counted;
}

}  // namespace

bool Lock::covers(std::string_view path) const noexcept {
  const std::string_view p = normalise(path), r = normalise(root);
  return p == r || (infinite && is_within(p, r));
}

LockStore::LockStore(LockStore&& other) noexcept
    : root_(other.root_), dir_(other.dir_.exchange(-1)) {}

LockStore& LockStore::operator=(LockStore&& other) noexcept {
  if (this != &other) {
    if (const int old = dir_.exchange(other.dir_.exchange(-1)); old >= 0) ::close(old);
    root_ = other.root_;
  }
  return *this;
}

LockStore::~LockStore() {
  if (const int fd = dir_.load(); fd >= 0) ::close(fd);
}

int LockStore::open(const Docroot& root) {
  root_ = &root;
  const int fd = dir(false);
  return fd == -ENOENT ? 0 : (fd < 0 ? fd : 0);
}

int LockStore::dir(bool create) const {
  if (const int fd = dir_.load(); fd >= 0) return fd;
  if (root_ == nullptr) return -EIO;
  const int fd = open_state_subdir(*root_, "locks", create);
  if (fd < 0) return fd;
  int expected = -1;
  if (dir_.compare_exchange_strong(expected, fd)) return fd;
  ::close(fd);  // another thread got there first
  return expected;
}

std::vector<Lock> LockStore::covering(std::string_view path, std::time_t now) const {
  const int d = dir(false);
  const std::string_view p = normalise(path);
  return unexpired(d, now, [&](const Lock& lock) { return lock.covers(p); });
}

std::vector<Lock> LockStore::within(std::string_view path, std::time_t now) const {
  const int d = dir(false);
  const std::string_view p = normalise(path);
  return unexpired(d, now, [&](const Lock& lock) { return is_within(lock.root, p); });
}

bool LockStore::find(std::string_view token, std::time_t now, Lock& out) const {
  const int d = dir(false);
  const std::string uuid = token_uuid(token);
  if (d < 0 || uuid.empty()) return false;
  Lock lock;
  if (load(d, uuid, lock) != Loaded::Ok || lock.expires <= now) return false;
  out = std::move(lock);
  return true;
}

// The lock gets its token and `expires` (now + timeout_s) here; its root is normalised.
int LockStore::create(Lock& lock, std::time_t now, Created& result) {
  const int d = dir(true);
  result = Created::Ok;
  if (d < 0) return d;
  lock.root = std::string(normalise(lock.root));
  if (!lock.root.starts_with('/')) return -EINVAL;
  lock.expires = expiry(now, lock.timeout_s);
  Guard guard(d);
  if (guard.error() < 0) return guard.error();
  if (!unexpired(d, now, [&](const Lock& l) { return conflicts(l, lock); }).empty()) {
    result = Created::Conflict;
    return 0;
  }
  for (int attempt = 0; attempt < 8; ++attempt) {
    if (int r = new_token(lock.token); r < 0) return r;
    struct stat st {};
    // Under the guard nobody else creates, so this check cannot race: a (122 random bits)
    // collision takes another token rather than replacing a lock.
    if (::fstatat(d, token_uuid(lock.token).c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0) continue;
    if (errno != ENOENT) return -errno;
    return write_lock_file(d, lock);
  }
  return -EEXIST;
}

int LockStore::refresh(std::string_view token, std::uint64_t timeout_s, std::time_t now,
                       Lock& out) {
  const int d = dir(false);
  if (d < 0) return -EIO;
  const std::string uuid = token_uuid(token);
  if (uuid.empty()) return -ENOENT;
  Guard guard(d);
  if (guard.error() < 0) return guard.error();
  Lock lock;
  if (load(d, uuid, lock) != Loaded::Ok || lock.expires <= now) return -ENOENT;
  lock.timeout_s = timeout_s;
  lock.expires = expiry(now, timeout_s);
  if (int r = write_lock_file(d, lock); r < 0) return r;
  out = std::move(lock);
  return 0;
}

int LockStore::remove(std::string_view token) {
  const int d = dir(false);
  if (d < 0) return -EIO;
  const std::string uuid = token_uuid(token);
  if (uuid.empty()) return -ENOENT;
  Guard guard(d);
  if (guard.error() < 0) return guard.error();
  if (::unlinkat(d, uuid.c_str(), 0) != 0) return -errno;
  ::fsync(d);  // an unlocked resource must not come back locked after a crash
  return 0;
}

// Expired locks within `path` go too (they are garbage), but only live ones are counted.
std::size_t LockStore::remove_within(std::string_view path, std::time_t now) {
  const int d = dir(false);
  if (d < 0) return 0;
  const std::string_view p = normalise(path);
  Guard guard(d);
  if (guard.error() < 0) return 0;
  return unlink_entries(d, [&](const std::string& name) {
    Lock lock;
    if (!is_uuid(name) || load(d, name, lock) != Loaded::Ok || !is_within(lock.root, p))
      return Doom::Keep;
    return lock.expires > now ? Doom::Remove : Doom::RemoveUncounted;
  });
}

// Removes expired and corrupt lock files, and temporaries: writers hold the guard from
// creating a temporary to renaming it, so under the guard any left is a dead writer's.
std::size_t LockStore::sweep(std::time_t now) {
  const int d = dir(false);
  if (d < 0) return 0;
  Guard guard(d);
  if (guard.error() < 0) return 0;
  return unlink_entries(d, [&](const std::string& name) {
    if (name.starts_with(kLockTempPrefix)) return Doom::RemoveUncounted;
    if (!is_uuid(name)) return Doom::Keep;
    Lock lock;
    const Loaded loaded = load(d, name, lock);
    const bool dead = loaded == Loaded::Corrupt || (loaded == Loaded::Ok && lock.expires <= now);
    return dead ? Doom::Remove : Doom::Keep;
  });
}

}  // namespace httpfs::io
