// On-disk format of one upload's record, `uploads/<id>` (`uploads/<id>.done` once
// committed, where `complete` must be "1"):
//
//   httpfs-upload 1 LF
//   then records (io/record_file.hpp), each present once, in any order:
//     id              the upload id (must match the file name)
//     target          the normalised path it will be committed to, starting with "/"
//     interop         the protocol revision, decimal
//     offset          bytes stored and synced, decimal
//     length          the whole length, decimal, or empty while unknown
//     complete        "1" or "0"
//     if-match        the creation request's If-Match, as sent (empty: none)
//     if-none-match   "*" or empty
//     digest          32 bytes of sha-256, or empty
//     principal       any bytes
//     client          any bytes
//     expires         seconds since the epoch, decimal
//   and last `end 0 LF LF`.
//
// Unknown record names are skipped; a missing, repeated or malformed one makes the record
// unreadable (find() says -ENOENT, sweep() removes it). A record of another version is
// left alone: another httpfs may be sharing the tree.
#include "io/upload_store.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <vector>

#include "io/record_file.hpp"

namespace httpfs::io {

namespace {

constexpr std::string_view kMagic = "httpfs-upload 1\n";
constexpr std::string_view kMagicAnyVersion = "httpfs-upload ";
constexpr std::string_view kDataSuffix = ".data";
constexpr std::size_t kIdLength = 32;
constexpr std::size_t kMaxRecord = 64 << 10;

constexpr std::string_view kDoneSuffix = ".done";

std::string data_name(std::string_view id) {
  return std::string(id) + std::string(kDataSuffix);
}

std::string done_name(std::string_view id) {
  return std::string(id) + std::string(kDoneSuffix);
}

// The upload id a record's file name holds ("" for names that are no record).
std::string_view record_id(std::string_view name) noexcept {
  if (name.ends_with(kDoneSuffix)) name.remove_suffix(kDoneSuffix.size());
  return UploadStore::valid_id(name) ? name : std::string_view{};
}

int new_id(std::string& id) {
  unsigned char b[kIdLength / 2];
  if (int r = fill_random(b, sizeof b); r < 0) return r;
  id = lower_hex(b, sizeof b);
  return 0;
}

std::string encode(const Upload& u) {
  std::string out(kMagic);
  put_record(out, "id", u.id);
  put_record(out, "target", u.target);
  put_record(out, "interop", std::to_string(u.interop));
  put_record(out, "offset", std::to_string(u.offset));
  put_record(out, "length", u.length ? std::to_string(*u.length) : std::string());
  put_record(out, "complete", u.complete ? "1" : "0");
  put_record(out, "if-match", u.if_match);
  put_record(out, "if-none-match", u.if_none_match_any ? "*" : "");
  put_record(out, "digest", u.digest);
  put_record(out, "principal", u.principal);
  put_record(out, "client", u.client);
  put_record(out, "expires", std::to_string(u.expires));
  put_record(out, "end", "");
  return out;
}

// The record names, in the order of their bits in decode()'s `seen`.
constexpr std::string_view kNames[] = {"id",     "target",    "interop",  "offset",
                                       "length", "complete",  "if-match", "if-none-match",
                                       "digest", "principal", "client",   "expires"};

// What the server writes as a target: "/" then segments that are not empty, "." or "..",
// and no NUL (a record with one would have the system calls stop short of it and commit to
// another name).
bool normal_target(std::string_view t) {
  if (!t.starts_with('/') || t.size() < 2 || t.find('\0') != std::string_view::npos) return false;
  for (std::size_t at = 1; at <= t.size();) {
    const std::size_t end = std::min(t.find('/', at), t.size());
    const std::string_view seg = t.substr(at, end - at);
    if (seg.empty() || seg == "." || seg == "..") return false;
    at = end + 1;
  }
  return true;
}

// Stores the value of record `index` (of kNames) in `u`; false for a bad value.
bool apply(std::size_t index, std::string_view v, Upload& u) {
  switch (index) {
    case 0:
      u.id = v;
      return UploadStore::valid_id(v);
    case 1:
      u.target = v;
      return normal_target(v);
    case 2:
      return parse_decimal(v, u.interop);
    case 3:
      return parse_decimal(v, u.offset);
    case 4: {
      std::uint64_t n = 0;
      if (v.empty())
        u.length.reset();
      else if (parse_decimal(v, n))
        u.length = n;
      else
        return false;
      return true;
    }
    case 5:
      u.complete = v == "1";
      return u.complete || v == "0";
    case 6:
      u.if_match = v;
      return true;
    case 7:
      u.if_none_match_any = v == "*";
      return u.if_none_match_any || v.empty();
    case 8:
      u.digest = v;
      return v.empty() || v.size() == 32;
    case 9:
      u.principal = v;
      return true;
    case 10:
      u.client = v;
      return true;
    case 11:
      return parse_decimal(v, u.expires);
  }
  return false;
}

// Stores one record in `u`: its bit among the required ones, 0 for an unknown name (to
// skip), -1 for a bad value.
int apply_record(std::string_view name, std::string_view value, Upload& u) {
  for (std::size_t i = 0; i < std::size(kNames); ++i)
    if (kNames[i] == name) return apply(i, value, u) ? 1 << i : -1;
  return 0;
}

bool decode(std::string_view bytes, Upload& u) {
  constexpr unsigned kAll = (1u << std::size(kNames)) - 1;
  return decode_records(bytes, kMagic, kAll, [&](std::string_view name, std::string_view value) {
    return apply_record(name, value, u);
  });
}

enum class Loaded : unsigned char { Ok, Missing, Unreadable, Corrupt, OtherVersion };

// Reads the record in file `name` (the id, or a completed upload's "<id>.done").
Loaded load(int dir, const std::string& name, Upload& u) {
  std::string bytes;
  if (int r = read_small_file(dir, name.c_str(), bytes, kMaxRecord); r < 0) {
    if (r == -ENOENT) return Loaded::Missing;
    // Not a regular file, too big, or a symlink: not a record of ours. Anything else
    // (EMFILE, EIO, ESTALE) says nothing about the record, which must then be kept.
    return r == -EINVAL || r == -EFBIG || r == -ELOOP ? Loaded::Corrupt : Loaded::Unreadable;
  }
  if (!decode(bytes, u)) {
    const bool other = bytes.starts_with(kMagicAnyVersion) && !bytes.starts_with(kMagic);
    return other ? Loaded::OtherVersion : Loaded::Corrupt;
  }
  const bool done = name.ends_with(kDoneSuffix);
  return u.id == record_id(name) && (u.complete || !done) ? Loaded::Ok : Loaded::Corrupt;
}

}  // namespace

bool UploadStore::valid_id(std::string_view id) noexcept {
  if (id.size() != kIdLength) return false;
  for (char c : id)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  return true;
}

int UploadStore::open(const Docroot& root, std::time_t lifetime_s) {
  lifetime_s_ = lifetime_s;
  dir_.attach(root);
  const int fd = dir_.fd(false);
  return fd == -ENOENT ? 0 : (fd < 0 ? fd : 0);
}

int UploadStore::create(Upload& upload) {
  if (!normal_target(upload.target)) return -EINVAL;      // it could not be read back
  if (encode(upload).size() > kMaxRecord) return -E2BIG;  // it could not be read back
  const int d = dir_.fd(true);
  if (d < 0) return d;
  DirGuard guard(d);
  if (guard.error() < 0) return guard.error();
  // 128 random bits do not collide; O_EXCL makes sure of it anyway.
  for (int attempt = 0;; ++attempt) {
    if (int r = new_id(upload.id); r < 0) return r;
    const int fd = ::openat(d, data_name(upload.id).c_str(),
                            O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd >= 0) {
      ::close(fd);
      break;
    }
    if (errno != EEXIST || attempt == 3) return -errno;
  }
  if (int r = write_file_atomically(d, upload.id, encode(upload)); r < 0) {
    ::unlinkat(d, data_name(upload.id).c_str(), 0);
    return r;
  }
  return 0;
}

int UploadStore::find(std::string_view id, std::time_t now, Upload& out) const {
  if (!valid_id(id)) return -ENOENT;
  const int d = dir_.fd(false);
  if (d < 0) return d;
  Upload u;
  Loaded loaded = load(d, std::string(id), u);
  if (loaded == Loaded::Missing) loaded = load(d, done_name(id), u);
  if (loaded == Loaded::Unreadable) return -EIO;
  if (loaded == Loaded::Corrupt) return -EUCLEAN;
  if (loaded != Loaded::Ok || u.expires <= now) return -ENOENT;
  u.expires = std::min(u.expires, now + lifetime_s_);
  out = std::move(u);
  return 0;
}

int UploadStore::update(const Upload& upload) {
  if (!valid_id(upload.id)) return -ENOENT;
  const std::string bytes = encode(upload);
  if (bytes.size() > kMaxRecord) return -E2BIG;
  const int d = dir_.fd(false);
  if (d < 0) return d;
  DirGuard guard(d);
  if (guard.error() < 0) return guard.error();
  Upload current;
  if (load(d, upload.id, current) != Loaded::Ok) return -ENOENT;  // cancelled meanwhile
  return write_file_atomically(d, upload.id, bytes);
}

void UploadStore::close_data(int fd) noexcept {
  if (fd < 0) return;
  struct flock lk {};
  lk.l_type = F_UNLCK;
  lk.l_whence = SEEK_SET;
  ::fcntl(fd, F_OFD_SETLK, &lk);
  ::close(fd);
}

int UploadStore::open_data(std::string_view id, int flags, std::uint64_t offset) const {
  if (!valid_id(id)) return -ENOENT;
  const int d = dir_.fd(false);
  if (d < 0) return d;
  const int fd = ::openat(d, data_name(id).c_str(), flags | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) return -errno;
  struct stat st {};
  int r = ::fstat(fd, &st) != 0 ? -errno : 0;
  // Not a regular file of its own (a hard link would make appends change another file), or
  // shorter than the record says: the upload cannot go on.
  if (r == 0 && (!S_ISREG(st.st_mode) || st.st_nlink != 1)) r = -EUCLEAN;
  if (r == 0 && static_cast<std::uint64_t>(st.st_size) < offset) r = -EUCLEAN;  // data lost
  if (r == 0 && (flags & O_ACCMODE) != O_RDONLY) {
    // One writer per upload across processes: the lock is the open file description's, so
    // it holds until this descriptor closes, and another open() of the file conflicts.
    struct flock lk {};
    lk.l_type = F_WRLCK;
    lk.l_whence = SEEK_SET;
    if (::fcntl(fd, F_OFD_SETLK, &lk) != 0)
      r = errno == EAGAIN || errno == EACCES ? -EBUSY : -errno;
    else if (::ftruncate(fd, static_cast<off_t>(offset)) != 0)
      r = -errno;
  }
  if (r < 0) {
    ::close(fd);
    return r;
  }
  return fd;
}

int UploadStore::adopt_data(std::string_view id, int dir_fd, std::string name,
                            FileSink& sink) const {
  const int d = valid_id(id) ? dir_.fd(false) : -ENOENT;
  const int own = d < 0 ? d : ::fcntl(d, F_DUPFD_CLOEXEC, 0);
  if (own < 0) {
    ::close(dir_fd);
    return d < 0 ? d : -errno;
  }
  return sink.adopt(own, data_name(id), dir_fd, std::move(name));
}

int UploadStore::complete(const Upload& upload) {
  if (!valid_id(upload.id) || !upload.complete) return -EINVAL;
  const std::string bytes = encode(upload);
  if (bytes.size() > kMaxRecord) return -E2BIG;
  const int d = dir_.fd(false);
  if (d < 0) return d;
  DirGuard guard(d);
  if (guard.error() < 0) return guard.error();
  // The completed record first, then the unfinished one goes: there is always one of them.
  if (int r = write_file_atomically(d, done_name(upload.id), bytes); r < 0) return r;
  ::unlinkat(d, upload.id.c_str(), 0);
  ::unlinkat(d, data_name(upload.id).c_str(), 0);
  ::fsync(d);
  return 0;
}

int UploadStore::remove(std::string_view id) {
  if (!valid_id(id)) return -ENOENT;
  const int d = dir_.fd(false);
  if (d < 0) return d;
  DirGuard guard(d);
  if (guard.error() < 0) return guard.error();
  // The record first: once it is gone the upload is, whatever happens to the data.
  const bool unfinished = ::unlinkat(d, std::string(id).c_str(), 0) == 0;
  const bool done = ::unlinkat(d, done_name(id).c_str(), 0) == 0;
  if (!unfinished && !done) return -ENOENT;
  ::unlinkat(d, data_name(id).c_str(), 0);
  ::fsync(d);
  return 0;
}

std::size_t UploadStore::sweep(std::time_t now) {
  const int d = dir_.fd(false);
  if (d < 0) return 0;
  DirGuard guard(d);
  if (guard.error() < 0) return 0;
  // Records first (a data file whose record goes is then an orphan), then the orphans.
  std::size_t n = unlink_entries(d, [&](const std::string& name) {
    if (name.starts_with(kRecordTempPrefix)) return Doom::RemoveUncounted;
    if (record_id(name).empty()) return Doom::Keep;
    Upload u;
    const Loaded loaded = load(d, name, u);
    const bool dead = loaded == Loaded::Corrupt || (loaded == Loaded::Ok && u.expires <= now);
    if (!dead && loaded == Loaded::Ok && u.expires > now + lifetime_s_) {
      u.expires = now + lifetime_s_;  // from a clock far ahead: it ends within the lifetime
      write_file_atomically(d, name, encode(u));
    }
    return dead ? Doom::Remove : Doom::Keep;
  });
  unlink_entries(d, [&](const std::string& name) {
    if (!name.ends_with(kDataSuffix)) return Doom::Keep;
    const std::string id = name.substr(0, name.size() - kDataSuffix.size());
    struct stat st {};
    const bool orphan =
        valid_id(id) && ::fstatat(d, id.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0 && errno == ENOENT;
    return orphan ? Doom::RemoveUncounted : Doom::Keep;
  });
  return n;
}

UploadStore::Usage UploadStore::usage(std::string_view client, std::size_t enough) const {
  Usage use;
  const int d = dir_.fd(false);
  if (d < 0) return use;
  // Counted by name (a completed upload's record has another): no record is read when
  // there are `enough` already.
  std::vector<std::string> ids;
  for_each_entry(d, [&](const std::string& name) {
    if (valid_id(name)) ids.push_back(name);
  });
  use.uploads = ids.size();
  if (use.uploads >= enough) return use;
  for (const std::string& id : ids) {
    Upload u;
    if (load(d, id, u) == Loaded::Ok && u.client == client) ++use.client_uploads;
    struct stat st {};
    if (::fstatat(d, data_name(id).c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0)
      use.bytes += static_cast<std::uint64_t>(st.st_blocks) * 512;
  }
  return use;
}

}  // namespace httpfs::io
