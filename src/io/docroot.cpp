#include "io/docroot.hpp"

#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "io/state_dir.hpp"

namespace httpfs::io {

namespace {

constexpr int kMaxSymlinks = 40;  // as the kernel's MAXSYMLINKS
constexpr int kStaleRetries = 4;

long sys_openat2(int dirfd, const char* path, open_how* how) {
  return syscall(SYS_openat2, dirfd, path, how, sizeof *how);
}

// openat2(2) as open(2) flags and RESOLVE_* flags; the fd or -errno. EAGAIN means a
// concurrent rename raced the resolution, and the kernel asks to retry.
long openat2_retrying(int dir_fd, const std::string& rel, int flags, mode_t mode,
                      unsigned long long resolve) {
  open_how how{};
  how.flags = static_cast<unsigned long long>(flags);
  how.mode = (flags & (O_CREAT | O_TMPFILE)) ? mode : 0;
  how.resolve = resolve;
  for (int attempt = 0;; ++attempt) {
    const long fd = sys_openat2(dir_fd, rel.c_str(), &how);
    if (fd >= 0) return fd;
    if (errno != EAGAIN || attempt == 8) return -errno;
  }
}

// "a/b" from "/a/b"; "." for the root.
std::string relative(std::string_view path) {
  while (!path.empty() && path.front() == '/') path.remove_prefix(1);
  while (!path.empty() && path.back() == '/') path.remove_suffix(1);
  return path.empty() ? std::string(".") : std::string(path);
}

void split_into(std::string_view path, std::vector<std::string>& out) {
  std::size_t pos = 0;
  while (pos <= path.size()) {
    std::size_t slash = path.find('/', pos);
    std::string_view seg = path.substr(pos, slash == std::string_view::npos ? slash : slash - pos);
    if (!seg.empty()) out.emplace_back(seg);
    if (slash == std::string_view::npos) break;
    pos = slash + 1;
  }
}

void close_all(std::vector<int>& fds) {
  for (int fd : fds) ::close(fd);
  fds.clear();
}

}  // namespace

Docroot::~Docroot() {
  if (fd_ >= 0) ::close(fd_);
}

Docroot::Docroot(Docroot&& o) noexcept
    : fd_(o.fd_), path_(std::move(o.path_)), options_(o.options_), openat2_(o.openat2_) {
  o.fd_ = -1;
}

Docroot& Docroot::operator=(Docroot&& o) noexcept {
  if (this != &o) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = o.fd_;
    path_ = std::move(o.path_);
    options_ = o.options_;
    openat2_ = o.openat2_;
    o.fd_ = -1;
  }
  return *this;
}

int Docroot::open_root(const std::string& dir, Options options) {
  int fd = ::open(dir.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return -errno;
  char* real = ::realpath(dir.c_str(), nullptr);
  if (real == nullptr) {
    int e = errno;
    ::close(fd);
    return -e;
  }
  if (fd_ >= 0) ::close(fd_);
  fd_ = fd;
  struct stat st {};
  if (::fstat(fd_, &st) == 0) {
    root_dev_ = st.st_dev;
    root_ino_ = st.st_ino;
  }
  path_ = real;
  std::free(real);
  if (path_.size() > 1 && path_.back() == '/') path_.pop_back();
  options_ = options;
  // Probe openat2 once: ENOSYS on old kernels, EPERM under some seccomp filters.
  open_how how{};
  how.flags = O_PATH | O_CLOEXEC;
  how.resolve = RESOLVE_BENEATH;
  long probe = sys_openat2(fd_, ".", &how);
  openat2_ = probe >= 0 && !options.force_walk;
  if (probe >= 0) ::close(static_cast<int>(probe));
  return 0;
}

int Docroot::open(std::string_view path, int flags, mode_t mode) const {
  // ESTALE: a network or distributed file system's cached handle names a file that another
  // host replaced or removed meanwhile. The kernel drops that handle; a new lookup by name
  // finds the current file (or none).
  int fd = -ESTALE;
  for (int attempt = 0; attempt < kStaleRetries && fd == -ESTALE; ++attempt)
    fd = open_once(path, flags, mode);
  return fd;
}

int Docroot::open_stat(std::string_view path, int flags, struct stat& st) const {
  int fd = -ESTALE;
  for (int attempt = 0; attempt < kStaleRetries && fd == -ESTALE; ++attempt) {
    fd = open_once(path, flags, 0);
    if (fd >= 0 && ::fstat(fd, &st) != 0) {
      const int e = errno;
      ::close(fd);
      fd = -e;
    }
  }
  return fd;
}

int Docroot::open_once(std::string_view path, int flags, mode_t mode) const {
  const std::string rel = relative(path);
  if (rel.size() >= PATH_MAX) return -ENAMETOOLONG;
  // The state directory is never a request's to open, by name or through a link.
  if (is_state_path(rel)) return -ENOENT;
  flags |= O_CLOEXEC;
  if (options_.follow_symlinks) return open_trusting_links(rel, flags, mode);
  if (!openat2_) return open_walk(rel, flags, mode);
  // Most paths hold no symlink: the kernel resolves them in one call. One that does is
  // walked in user space (ELOOP), which sees every component it enters and so the links
  // that lead into the state directory.
  const long fd = openat2_retrying(fd_, rel, flags, mode,
                                   RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_SYMLINKS);
  if (fd != -ELOOP) return static_cast<int>(fd);
  return open_walk(rel, flags, mode);
}

int Docroot::open_trusting_links(const std::string& rel, int flags, mode_t mode) const {
  // The path has no ".." (normalised), so only the directory's own links lead elsewhere,
  // and the operator asked to trust them; but not into the state directory.
  if (openat2_) {
    const long fd = openat2_retrying(fd_, rel, flags, mode, RESOLVE_NO_SYMLINKS);
    if (fd != -ELOOP) return static_cast<int>(fd);
  }
  const int fd = ::openat(fd_, rel.c_str(), flags, mode);
  if (fd < 0) return -errno;
  if (!inside_state_dir(fd)) return fd;
  ::close(fd);
  return -ENOENT;
}

bool Docroot::inside_state_dir(int fd) const {
  // Where the descriptor landed, as the kernel names it. Without /proc that cannot be told,
  // and the answer must never be a wrong "no".
  char link[64];
  std::snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
  char target[PATH_MAX];
  const ssize_t n = ::readlink(link, target, sizeof target);
  if (n <= 0 || static_cast<std::size_t>(n) >= sizeof target) return true;
  std::string_view at(target, static_cast<std::size_t>(n));
  const std::string_view root = path_ == "/" ? std::string_view{} : std::string_view(path_);
  if (!at.starts_with(root) || at.size() == root.size() || at[root.size()] != '/') return false;
  return is_state_path(at.substr(root.size()));
}

int Docroot::open_walk(std::string_view rel, int flags, mode_t mode) const {
  // `stack` holds an O_PATH fd per directory entered, root first (a dup, so closing the
  // stack never closes fd_). Symlinks are read and their targets spliced into `todo`; ".."
  // pops the stack and refuses to pop the root.
  std::vector<std::string> todo;
  if (rel != ".") split_into(rel, todo);
  std::vector<int> stack;
  int root = ::fcntl(fd_, F_DUPFD_CLOEXEC, 0);
  if (root < 0) return -errno;
  stack.push_back(root);
  // Opens the directory on top of the stack itself, and ends the walk.
  auto open_here = [&]() {
    int fd = ::openat(stack.back(), ".", flags, mode);
    int e = errno;
    close_all(stack);
    return fd >= 0 ? fd : -e;
  };
  if (todo.empty()) return open_here();
  int links = 0;
  std::size_t i = 0;
  while (i < todo.size()) {
    const std::string comp = todo[i];
    const bool last = i + 1 == todo.size();
    if (comp == ".") {
      ++i;
      if (last) return open_here();
      continue;
    }
    if (comp == "..") {
      if (stack.size() == 1) {
        close_all(stack);
        return -EXDEV;
      }
      ::close(stack.back());
      stack.pop_back();
      ++i;
      if (last) return open_here();
      continue;
    }
    const int dir = stack.back();
    // However the walk got back to the root (a link), the state directory is not entered.
    if (stack.size() == 1 && comp == kStateDirName) {
      close_all(stack);
      return -ENOENT;
    }
    int fd = last ? ::openat(dir, comp.c_str(), flags | O_NOFOLLOW, mode)
                  : ::openat(dir, comp.c_str(), O_PATH | O_NOFOLLOW | O_CLOEXEC);
    if (last && fd < 0 && errno != ELOOP && !(errno == ENOTDIR && (flags & O_DIRECTORY))) {
      int e = errno;
      close_all(stack);
      return -e;
    }
    bool is_link = false;
    if (fd >= 0) {
      struct stat st {};
      if (::fstat(fd, &st) != 0) {
        int e = errno;
        ::close(fd);
        close_all(stack);
        return -e;
      }
      is_link = S_ISLNK(st.st_mode);
      if (!is_link) {
        if (last) {
          close_all(stack);
          return fd;
        }
        if (!S_ISDIR(st.st_mode)) {
          ::close(fd);
          close_all(stack);
          return -ENOTDIR;
        }
        stack.push_back(fd);
        ++i;
        continue;
      }
      ::close(fd);
    } else if (!last) {
      int e = errno;
      close_all(stack);
      return -e;
    } else {
      // The last component refused O_NOFOLLOW: look at it without following.
      struct stat st {};
      if (::fstatat(dir, comp.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISLNK(st.st_mode)) {
        close_all(stack);
        return -ENOTDIR;
      }
      is_link = true;
    }
    // A symlink: splice its target into the walk.
    if (++links > kMaxSymlinks) {
      close_all(stack);
      return -ELOOP;
    }
    char target[PATH_MAX];
    ssize_t n = ::readlinkat(dir, comp.c_str(), target, sizeof target - 1);
    if (n < 0) {
      int e = errno;
      close_all(stack);
      return -e;
    }
    if (n == 0 || target[0] == '/') {  // absolute: outside by construction
      close_all(stack);
      return -EXDEV;
    }
    std::vector<std::string> parts;
    split_into(std::string_view(target, static_cast<std::size_t>(n)), parts);
    if (parts.empty()) parts.emplace_back(".");
    todo.erase(todo.begin() + static_cast<std::ptrdiff_t>(i));
    todo.insert(todo.begin() + static_cast<std::ptrdiff_t>(i), parts.begin(), parts.end());
  }
  return open_here();  // not reached: every path above returns at its last component
}

int Docroot::open_parent(std::string_view path, bool create, std::string& name) const {
  while (!path.empty() && path.back() == '/') path.remove_suffix(1);
  const std::size_t slash = path.rfind('/');
  const std::string_view parent =
      slash == std::string_view::npos ? std::string_view{} : path.substr(0, slash);
  name = std::string(slash == std::string_view::npos ? path : path.substr(slash + 1));
  int fd = open(parent, O_PATH | O_DIRECTORY);
  if (fd >= 0) return refuse_state_dir(fd, name);
  if (fd != -ENOENT || !create || is_state_path(parent)) return fd;
  // Create what is missing, one component at a time, each step confined like any open.
  std::string prefix;
  std::size_t pos = 0;
  while (pos < parent.size()) {
    while (pos < parent.size() && parent[pos] == '/') ++pos;
    if (pos >= parent.size()) break;
    std::size_t next = parent.find('/', pos);
    std::string_view comp =
        parent.substr(pos, next == std::string_view::npos ? std::string_view::npos : next - pos);
    const std::string c(comp);
    int dir = open(prefix, O_PATH | O_DIRECTORY);
    if (dir >= 0) dir = refuse_state_dir(dir, c);
    if (dir < 0) return dir;
    int r = ::mkdirat(dir, c.c_str(), 0755);
    int e = errno;
    ::close(dir);
    if (r != 0 && e != EEXIST) return -e;
    prefix += "/";
    prefix += c;
    pos = next == std::string_view::npos ? parent.size() : next + 1;
  }
  fd = open(parent, O_PATH | O_DIRECTORY);
  return fd >= 0 ? refuse_state_dir(fd, name) : fd;
}

bool Docroot::is_root(int dir_fd) const noexcept {
  struct stat st {};
  return ::fstat(dir_fd, &st) == 0 && st.st_dev == root_dev_ && st.st_ino == root_ino_;
}

int Docroot::refuse_state_dir(int dir_fd, std::string_view name) const {
  // Whatever path led to the root (a link to "." or to ".."), its entry of that name is
  // the state directory.
  if (name != kStateDirName || !is_root(dir_fd)) return dir_fd;
  ::close(dir_fd);
  return -ENOENT;
}

}  // namespace httpfs::io
