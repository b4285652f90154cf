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
// The record format, atomic writes and the directory guard are io/record_file.hpp's.
// Records of unknown names are skipped (room for later fields); a missing, repeated or
// malformed record, or anything after `end`, makes the file not parse, and such a file is
// ignored by lookups and removed by sweep(). A file whose first line names another version
// is left alone: another httpfs may be sharing the tree.
//
// Every change (create, refresh, remove, remove_within, sweep) runs under the guard of
// `locks/`; readers take no lock.
//
// A lock is alive while now < expires; create() and refresh() set expires = now + timeout_s
// (saturating at the largest time_t).
#include "io/lock_store.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <limits>

#include "io/record_file.hpp"
#include "io/state_dir.hpp"

namespace httpfs::io {

namespace {

constexpr std::string_view kTokenPrefix = "urn:uuid:";
constexpr std::string_view kMagic = "httpfs-lock 1\n";
constexpr std::string_view kMagicAnyVersion = "httpfs-lock ";
constexpr std::size_t kMaxLockFile = 4u << 20;  // owner XML is bounded by the body limit

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

std::string encode(const Lock& lock) {
  std::string out(kMagic);
  put_record(out, "token", lock.token);
  put_record(out, "root", lock.root);
  put_record(out, "scope", lock.exclusive ? "exclusive" : "shared");
  put_record(out, "depth", lock.infinite ? "infinity" : "0");
  put_record(out, "timeout", std::to_string(lock.timeout_s));
  put_record(out, "expires", std::to_string(lock.expires));
  put_record(out, "principal", lock.principal);
  put_record(out, "owner", lock.owner_xml);
  put_record(out, "end", "");
  return out;
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
  if (name == "timeout") return parse_decimal(value, lock.timeout_s) ? 16 : -1;
  if (name == "expires") return parse_decimal(value, lock.expires) ? 32 : -1;
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
  return decode_records(bytes, kMagic, 255, [&](std::string_view name, std::string_view value) {
    return apply_record(name, value, lock);
  });
}

// ---- files ----

enum class Loaded : unsigned char { Ok, Unreadable, Corrupt, OtherVersion };

Loaded load(int dir, const std::string& uuid, Lock& lock) {
  std::string bytes;
  if (int r = read_small_file(dir, uuid.c_str(), bytes, kMaxLockFile); r < 0)
    // Not a regular file (a FIFO, a directory), too big, or a symlink: not a lock of ours.
    return r == -EINVAL || r == -EFBIG || r == -ELOOP ? Loaded::Corrupt : Loaded::Unreadable;
  if (!decode(bytes, lock)) {
    const bool other = bytes.starts_with(kMagicAnyVersion) && !bytes.starts_with(kMagic);
    return other ? Loaded::OtherVersion : Loaded::Corrupt;
  }
  return token_uuid(lock.token) == uuid ? Loaded::Ok : Loaded::Corrupt;
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

// Writes `lock` to its file, replacing any (atomically). Under the guard.
int write_lock_file(int dir, const Lock& lock) {
  return write_file_atomically(dir, token_uuid(lock.token), encode(lock));
}

}  // namespace

bool Lock::covers(std::string_view path) const noexcept {
  const std::string_view p = normalise(path), r = normalise(root);
  return p == r || (infinite && is_within(p, r));
}

int LockStore::open(const Docroot& root) {
  dir_.attach(root);
  const int fd = dir(false);
  return fd == -ENOENT ? 0 : (fd < 0 ? fd : 0);
}

int LockStore::dir(bool create) const {
  return dir_.fd(create);
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
  DirGuard guard(d);
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
  DirGuard guard(d);
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
  DirGuard guard(d);
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
  DirGuard guard(d);
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
  DirGuard guard(d);
  if (guard.error() < 0) return 0;
  return unlink_entries(d, [&](const std::string& name) {
    if (name.starts_with(kRecordTempPrefix)) return Doom::RemoveUncounted;
    if (!is_uuid(name)) return Doom::Keep;
    Lock lock;
    const Loaded loaded = load(d, name, lock);
    const bool dead = loaded == Loaded::Corrupt || (loaded == Loaded::Ok && lock.expires <= now);
    return dead ? Doom::Remove : Doom::Keep;
  });
}

}  // namespace httpfs::io
