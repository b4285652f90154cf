#include "io/file_sink.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <deque>
#include <utility>

#include "http/conditional.hpp"
#include "io/file_etag.hpp"
#include "io/write_all.hpp"

namespace httpfs::io {

namespace {

std::atomic<unsigned> g_counter{0};
std::atomic<bool> g_named_only{false};
constexpr std::uint64_t kWritebackStep = 8ull << 20;
constexpr std::size_t kNameMax = 255;

bool all_hex(std::string_view s) {
  return !s.empty() && s.find_first_not_of("0123456789abcdef") == std::string_view::npos;
}

bool parse_long(std::string_view s, long& out) {
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return !s.empty() && ec == std::errc() && end == s.data() + s.size();
}

// fsync(2) of a directory held as O_PATH (which cannot be synced itself).
void sync_dir(int dir_fd) noexcept {
  const int d = ::openat(dir_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (d < 0) return;
  ::fsync(d);
  ::close(d);
}

}  // namespace

void use_named_temps_only(bool on) noexcept {
  g_named_only.store(on);
}

std::string_view host_tag() {
  static const std::string tag = [] {
    char host[256] = {};
    ::gethostname(host, sizeof host - 1);
    std::uint32_t h = 2166136261u;  // FNV-1a: stable across processes and hosts
    for (const char* p = host; *p != 0; ++p) h = (h ^ static_cast<unsigned char>(*p)) * 16777619u;
    char buf[16];
    std::snprintf(buf, sizeof buf, "%08x", h);
    return std::string(buf);
  }();
  return tag;
}

std::string make_temp_name(std::string_view target) {
  char suffix[64];
  std::snprintf(suffix, sizeof suffix, ".%.*s%.*s-%d-%u", static_cast<int>(kTempMark.size()),
                kTempMark.data(), static_cast<int>(host_tag().size()), host_tag().data(),
                static_cast<int>(::getpid()), g_counter.fetch_add(1));
  const std::size_t room = kNameMax - 1 - std::strlen(suffix);
  std::string name = ".";
  name.append(target.substr(0, room));
  name.append(suffix);
  return name;
}

std::optional<TempName> parse_temp_name(std::string_view name) noexcept {
  const std::size_t dot = name.rfind('.');
  if (name.empty() || name.front() != '.' || dot == std::string_view::npos) return std::nullopt;
  std::string_view rest = name.substr(dot + 1);
  if (!rest.starts_with(kTempMark)) return std::nullopt;
  rest.remove_prefix(kTempMark.size());
  // "<host>-<pid>-<n>", or "<pid>-<n>" in the older form (which had nothing before it).
  std::string_view parts[3];
  std::size_t count = 0;
  for (;;) {
    if (count == 3) return std::nullopt;  // a fourth part
    const std::size_t dash = rest.find('-');
    parts[count++] = rest.substr(0, dash);
    if (dash == std::string_view::npos) break;
    rest.remove_prefix(dash + 1);
  }
  TempName out;
  long n = 0;
  if (count == 3 && parts[0].size() == 8 && all_hex(parts[0]) && parse_long(parts[1], out.pid) &&
      parse_long(parts[2], n)) {
    out.host = parts[0];
  } else if (!(count == 2 && dot == 0 && parse_long(parts[0], out.pid) &&
               parse_long(parts[1], n))) {
    return std::nullopt;
  }
  if (out.pid <= 0) return std::nullopt;
  return out;
}

FileSink::~FileSink() {
  abort();
}

int FileSink::open(int dir_fd, std::string name, mode_t mode) {
  dir_fd_ = dir_fd;
  name_ = std::move(name);
  if (!g_named_only.load(std::memory_order_relaxed)) {
    fd_ = ::openat(dir_fd_, ".", O_TMPFILE | O_WRONLY | O_CLOEXEC, mode);
    if (fd_ >= 0) return 0;
    if (errno != EOPNOTSUPP && errno != EISDIR && errno != EINVAL) return -errno;
  }
  // No O_TMPFILE here (or not wanted): a named, hidden temporary file.
  for (int attempt = 0; attempt < 16; ++attempt) {
    temp_name_ = make_temp_name(name_);
    fd_ = ::openat(dir_fd_, temp_name_.c_str(),
                   O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC | O_NOFOLLOW, mode);
    if (fd_ >= 0) return 0;
    if (errno != EEXIST) break;
  }
  temp_name_.clear();
  return -errno;
}

int FileSink::adopt(int temp_dir_fd, std::string temp_name, int dir_fd, std::string name) {
  temp_dir_fd_ = temp_dir_fd;
  dir_fd_ = dir_fd;
  adopted_ = true;
  temp_name_ = std::move(temp_name);
  name_ = std::move(name);
  fd_ = ::openat(temp_dir_fd_, temp_name_.c_str(), O_RDWR | O_NOFOLLOW | O_CLOEXEC);
  if (fd_ < 0) return -errno;
  struct stat st {};
  if (::fstat(fd_, &st) != 0) return -errno;
  if (!S_ISREG(st.st_mode)) return -EINVAL;
  size_ = flushed_ = static_cast<std::uint64_t>(st.st_size);
  if (::lseek(fd_, 0, SEEK_END) < 0) return -errno;  // writes append to what is there
  return 0;
}

int FileSink::write(std::string_view bytes) {
  if (int r = write_all(fd_, bytes, size_); r < 0) return r;
  maybe_start_writeback();
  return 0;
}

void FileSink::maybe_start_writeback() noexcept {
  if (!early_writeback_ || size_ - flushed_ < kWritebackStep) return;
  const std::uint64_t upto = size_ / kWritebackStep * kWritebackStep;
  ::sync_file_range(fd_, static_cast<off64_t>(flushed_), static_cast<off64_t>(upto - flushed_),
                    SYNC_FILE_RANGE_WRITE);
  flushed_ = upto;
}

long FileSink::splice_from(int pipe_fd, std::size_t max) {
  for (;;) {
    ssize_t n = ::splice(pipe_fd, nullptr, fd_, nullptr, max, SPLICE_F_MOVE);
    if (n < 0) {
      if (errno == EINTR) continue;
      return -errno;
    }
    size_ += static_cast<std::uint64_t>(n);
    maybe_start_writeback();
    return n;
  }
}

namespace {

// A descriptor closed at the end of its scope; one that holds a flock lets go of it first
// (on GlusterFS, a lock released by close() alone still held against another mount for
// some milliseconds).
struct Fd {
  int fd = -1;
  bool flocked = false;
  ~Fd() {
    if (fd < 0) return;
    if (flocked) ::flock(fd, LOCK_UN);
    ::close(fd);
  }
};

// Opens the file now named `name` in `dir` and takes an exclusive flock(2) on it, which other
// threads, processes and (on file systems with cluster-wide locks) hosts respect; returns the
// descriptor (closing it lets go) when that file still matches `if_match`, -ESTALE when it
// does not. A writer that waited here for another finds the name on a new file afterwards:
// it looks again, and that file's tag no longer matches.
int lock_if_matching(int dir, const std::string& name, std::string_view if_match) {
  for (int attempt = 0; attempt < 16; ++attempt) {
    Fd held;
    // Open for writing where allowed: NFS emulates flock with a byte-range lock, whose
    // exclusive kind needs a descriptor open for writing. Nothing is written through it.
    constexpr int kFlags = O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC;
    held.fd = ::openat(dir, name.c_str(), O_RDWR | kFlags);
    if (held.fd < 0 && (errno == EACCES || errno == EISDIR || errno == EROFS || errno == ETXTBSY))
      held.fd = ::openat(dir, name.c_str(), O_RDONLY | kFlags);
    if (held.fd < 0) return errno == ENOENT || errno == ELOOP ? -ESTALE : -errno;
    int r;
    while ((r = ::flock(held.fd, LOCK_EX)) != 0 && errno == EINTR) {
    }
    if (r != 0) return -errno;
    held.flocked = true;
    struct stat locked {};
    struct stat named {};
    if (::fstat(held.fd, &locked) != 0) return -errno;
    if (::fstatat(dir, name.c_str(), &named, AT_SYMLINK_NOFOLLOW) != 0)
      return errno == ENOENT ? -ESTALE : -errno;
    if (locked.st_ino != named.st_ino || locked.st_dev != named.st_dev) continue;  // replaced
    if (!http::etag_list_matches(if_match, file_etag(named), /*strong=*/true)) return -ESTALE;
    return std::exchange(held.fd, -1);
  }
  return -ESTALE;
}

// Copies the first `size` bytes of `from` into `to`: copy_file_range(2) where the kernel
// copies between these file systems, else through a buffer.
int copy_range(int from, FileSink& to, std::uint64_t size) {
  for (loff_t at = 0; static_cast<std::uint64_t>(at) < size;) {
    const ssize_t n =
        ::copy_file_range(from, &at, to.fd(), nullptr, static_cast<std::size_t>(size - at), 0);
    if (n > 0) continue;
    if (n < 0 && errno == EINTR) continue;
    if (n == 0) return -EIO;  // it shrank: not the bytes that were promised
    if (errno != EXDEV && errno != EINVAL && errno != EOPNOTSUPP && errno != ENOSYS) return -errno;
    std::string buf(1 << 20, '\0');
    while (static_cast<std::uint64_t>(at) < size) {
      const ssize_t got = ::pread(from, buf.data(), buf.size(), at);
      if (got < 0 && errno == EINTR) continue;
      if (got <= 0) return got < 0 ? -errno : -EIO;
      if (int r = to.write(std::string_view(buf.data(), static_cast<std::size_t>(got))); r < 0)
        return r;
      at += got;
    }
    return 0;
  }
  return 0;
}

}  // namespace

int FileSink::copy_across_file_systems() {
  struct stat data {};
  struct stat dir {};
  if (::fstat(fd_, &data) != 0 || ::fstat(dir_fd_, &dir) != 0) return -errno;
  if (data.st_dev == dir.st_dev) return 0;  // a rename will do
  FileSink copy;
  const int dup = ::fcntl(dir_fd_, F_DUPFD_CLOEXEC, 0);
  if (dup < 0) return -errno;
  if (int r = copy.open(dup, name_); r < 0) return r;
  if (int r = copy_range(fd_, copy, static_cast<std::uint64_t>(data.st_size)); r < 0) return r;
  // From here on this sink is the copy's; the adopted file stays for its owner to remove.
  ::close(fd_);
  fd_ = std::exchange(copy.fd_, -1);
  temp_name_ = std::exchange(copy.temp_name_, {});
  size_ = static_cast<std::uint64_t>(data.st_size);
  ::close(temp_dir_fd_);
  temp_dir_fd_ = -1;
  adopted_ = false;
  return 0;
}

int FileSink::commit(bool durable, bool no_replace, std::string_view if_match, struct stat& st) {
  if (adopted_) {
    if (int r = copy_across_file_systems(); r < 0) return r;
  }
  if (durable && ::fsync(fd_) != 0) return -errno;
  // Checked again here, as close to the rename as it gets: another writer may have replaced
  // the file while this upload was arriving; and held until the rename, so that two
  // conditional replaces of one version never both succeed.
  Fd guard;
  if (!if_match.empty()) {
    guard.fd = lock_if_matching(dir_fd_, name_, if_match);
    if (guard.fd < 0) return guard.fd;
    guard.flocked = true;
  }
  if (adopted_ && ::fchmod(fd_, 0644) != 0) return -errno;  // it was private until now
  if (::fstat(fd_, &st) != 0) return -errno;
  const int from = temp_dir_fd_ >= 0 ? temp_dir_fd_ : dir_fd_;
  if (temp_name_.empty()) {
    // Unnamed: link it into the directory under a temporary name, or straight under the
    // final one when it must not replace anything (linkat never replaces: atomic create).
    char proc[64];
    std::snprintf(proc, sizeof proc, "/proc/self/fd/%d", fd_);
    std::string linked = no_replace ? name_ : make_temp_name(name_);
    int r = ::linkat(AT_FDCWD, proc, dir_fd_, linked.c_str(), AT_SYMLINK_FOLLOW);
    if (r != 0 && errno == ENOENT) {
      // /proc is not mounted: AT_EMPTY_PATH needs CAP_DAC_READ_SEARCH, try it anyway.
      r = ::linkat(fd_, "", dir_fd_, linked.c_str(), AT_EMPTY_PATH);
    }
    if (r != 0) return -errno;
    if (!no_replace) {
      temp_name_ = linked;
      if (::renameat(dir_fd_, temp_name_.c_str(), dir_fd_, name_.c_str()) != 0) return -errno;
    }
  } else if (no_replace) {
    if (::linkat(from, temp_name_.c_str(), dir_fd_, name_.c_str(), 0) != 0) return -errno;
    ::unlinkat(from, temp_name_.c_str(), 0);
  } else if (::renameat(from, temp_name_.c_str(), dir_fd_, name_.c_str()) != 0) {
    return -errno;
  }
  temp_name_.clear();  // the file has its name now: nothing to remove any more
  if (durable) {
    // The directory entry too, so the new name survives a crash; and an adopted file's old
    // directory, so that the name it left does not come back.
    sync_dir(dir_fd_);
    if (adopted_) sync_dir(from);
  }
  ::close(fd_);
  fd_ = -1;
  close_dirs();
  return 0;
}

void FileSink::abort() noexcept {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
  if (!temp_name_.empty() && dir_fd_ >= 0 && !adopted_) ::unlinkat(dir_fd_, temp_name_.c_str(), 0);
  temp_name_.clear();
  close_dirs();
}

void FileSink::close_dirs() noexcept {
  if (dir_fd_ >= 0) ::close(dir_fd_);
  dir_fd_ = -1;
  if (temp_dir_fd_ >= 0) ::close(temp_dir_fd_);
  temp_dir_fd_ = -1;
}

namespace {

// A temporary file of a live process is an upload in progress (another instance). Another
// host's processes cannot be asked: their files are judged by their age.
bool temp_is_stale(int dir, const char* name, const TempName& temp) {
  if (temp.host.empty() || temp.host == host_tag())
    return temp.pid != ::getpid() && ::kill(static_cast<pid_t>(temp.pid), 0) != 0 && errno == ESRCH;
  struct stat st {};
  if (::fstatat(dir, name, &st, AT_SYMLINK_NOFOLLOW) != 0) return false;
  return std::time(nullptr) - st.st_mtim.tv_sec > kForeignTempAgeS;
}

}  // namespace

std::size_t sweep_stale_temps(const Docroot& root, std::size_t max_dirs) {
  std::size_t removed = 0, visited = 0;
  std::deque<int> dirs;
  int first = ::openat(root.fd(), ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (first < 0) return 0;
  dirs.push_back(first);
  while (!dirs.empty()) {
    int dfd = dirs.front();
    dirs.pop_front();
    DIR* d = ::fdopendir(dfd);
    if (d == nullptr) {
      ::close(dfd);
      continue;
    }
    ++visited;
    while (dirent* e = ::readdir(d)) {
      std::string_view name = e->d_name;
      if (name == "." || name == "..") continue;
      if (e->d_type == DT_DIR || e->d_type == DT_UNKNOWN) {
        if (visited + dirs.size() < max_dirs) {
          int sub = ::openat(dfd, e->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
          if (sub >= 0) dirs.push_back(sub);
        }
        if (e->d_type == DT_DIR) continue;
      }
      const std::optional<TempName> temp = parse_temp_name(name);
      if (!temp || !temp_is_stale(dfd, e->d_name, *temp)) continue;
      if (::unlinkat(dfd, e->d_name, 0) == 0) ++removed;
    }
    ::closedir(d);
  }
  for (int fd : dirs) ::close(fd);
  return removed;
}

}  // namespace httpfs::io
