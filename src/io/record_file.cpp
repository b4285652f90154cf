#include "io/record_file.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>

#include "io/write_all.hpp"

namespace httpfs::io {

namespace {

std::atomic<unsigned> g_counter{0};

// A name no other writer uses: the pid alone is not unique across hosts sharing the tree.
std::string temp_name() {
  unsigned char r[4] = {};
  fill_random(r, sizeof r);
  char buf[80];
  std::snprintf(buf, sizeof buf, "%.*s%d-%u-%02x%02x%02x%02x",
                static_cast<int>(kRecordTempPrefix.size()), kRecordTempPrefix.data(),
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

}  // namespace

void put_record(std::string& out, std::string_view name, std::string_view value) {
  out += name;
  out += ' ';
  out += std::to_string(value.size());
  out += '\n';
  out += value;
  out += '\n';
}

bool next_record(std::string_view& rest, std::string_view& name, std::string_view& value) {
  const std::size_t sp = rest.find(' ');
  if (sp == std::string_view::npos) return false;
  name = rest.substr(0, sp);
  const std::size_t nl = rest.find('\n', sp);
  if (nl == std::string_view::npos || name.find('\n') != std::string_view::npos) return false;
  std::size_t len = 0;
  if (!parse_decimal(rest.substr(sp + 1, nl - sp - 1), len)) return false;
  rest.remove_prefix(nl + 1);
  if (len >= rest.size() || rest[len] != '\n') return false;
  value = rest.substr(0, len);
  rest.remove_prefix(len + 1);
  return true;
}

bool decode_records(std::string_view bytes, std::string_view magic, unsigned required,
                    const std::function<int(std::string_view, std::string_view)>& apply) {
  if (!bytes.starts_with(magic)) return false;
  std::string_view rest = bytes.substr(magic.size());
  unsigned seen = 0;
  std::string_view name, value;
  while (next_record(rest, name, value)) {
    if (name == "end") return rest.empty() && value.empty() && seen == required;
    const int bit = apply(name, value);
    if (bit < 0 || (seen & static_cast<unsigned>(bit)) != 0) return false;
    seen |= static_cast<unsigned>(bit);
  }
  return false;
}

int read_small_file(int dir, const char* name, std::string& out, std::size_t max) {
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
    if (out.size() > max) r = -EFBIG;
  }
  ::close(fd);
  return r;
}

int write_file_atomically(int dir, const std::string& name, std::string_view bytes) {
  std::string tmp;
  if (int r = write_temp(dir, bytes, tmp); r < 0) return r;
  if (::renameat(dir, tmp.c_str(), dir, name.c_str()) != 0) {
    int e = -errno;
    ::unlinkat(dir, tmp.c_str(), 0);
    return e;
  }
  return ::fsync(dir) != 0 ? -errno : 0;
}

void for_each_entry(int dir, const std::function<void(const std::string&)>& f) {
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

std::size_t unlink_entries(int dir, const std::function<Doom(const std::string&)>& doom) {
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

std::string lower_hex(const unsigned char* bytes, std::size_t n) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(2 * n);
  for (std::size_t i = 0; i < n; ++i) {
    out += kHex[bytes[i] >> 4];
    out += kHex[bytes[i] & 15];
  }
  return out;
}

DirGuard::DirGuard(int dir) {
  fd_ = ::openat(dir, std::string(kGuardName).c_str(), O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC,
                 0600);
  if (fd_ < 0) {
    error_ = -errno;
    return;
  }
  int r = take(F_OFD_SETLKW);
  if (r == -EINVAL) {
    ofd_ = false;
    r = take(F_SETLKW);  // no OFD locks on this kernel
  }
  if (r < 0) {
    error_ = r;
    ::close(fd_);
    fd_ = -1;
  }
}

DirGuard::~DirGuard() {
  if (fd_ < 0) return;
  // Released before the close: on GlusterFS a lock let go by close() alone still held
  // against another mount for some milliseconds.
  struct flock fl {};
  fl.l_type = F_UNLCK;
  fl.l_whence = SEEK_SET;
  ::fcntl(fd_, ofd_ ? F_OFD_SETLK : F_SETLK, &fl);
  ::close(fd_);
}

int DirGuard::take(int cmd) {
  struct flock fl {};
  fl.l_type = F_WRLCK;
  fl.l_whence = SEEK_SET;  // l_start = l_len = 0: the whole file; l_pid must be 0 for OFD
  while (::fcntl(fd_, cmd, &fl) != 0) {
    if (errno != EINTR) return -errno;
  }
  return 0;
}

}  // namespace httpfs::io
