#include "io/state_dir.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <string>

namespace httpfs::io {

namespace {

// mkdir (0700: lock owners and principals are nobody else's business) and open without
// following a symlink: whoever can write to the served tree must not be able to redirect
// the server's own state elsewhere by planting a link.
int open_or_make(int parent, const std::string& name, bool create) {
  if (create && ::mkdirat(parent, name.c_str(), 0700) != 0 && errno != EEXIST) return -errno;
  int fd = ::openat(parent, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  return fd < 0 ? -errno : fd;
}

}  // namespace

bool is_state_path(std::string_view path) noexcept {
  // Normalised paths have one leading slash; accept any number (and none) anyway, since a
  // false "no" here would expose the state.
  while (!path.empty() && path.front() == '/') path.remove_prefix(1);
  if (path.substr(0, kStateDirName.size()) != kStateDirName) return false;
  path.remove_prefix(kStateDirName.size());
  return path.empty() || path.front() == '/';
}

int open_state_subdir(const Docroot& root, std::string_view sub, bool create) {
  if (root.fd() < 0) return -EBADF;
  if (sub.empty() || sub == "." || sub == ".." || sub.find('/') != std::string_view::npos ||
      sub.find('\0') != std::string_view::npos)
    return -EINVAL;
  int state = open_or_make(root.fd(), std::string(kStateDirName), create);
  if (state < 0) return state;
  int fd = open_or_make(state, std::string(sub), create);
  ::close(state);
  return fd;
}

StateSubdir::StateSubdir(StateSubdir&& other) noexcept
    : name_(other.name_), root_(other.root_), fd_(other.fd_.exchange(-1)) {}

StateSubdir& StateSubdir::operator=(StateSubdir&& other) noexcept {
  if (this != &other) {
    if (const int old = fd_.exchange(other.fd_.exchange(-1)); old >= 0) ::close(old);
    name_ = other.name_;
    root_ = other.root_;
  }
  return *this;
}

StateSubdir::~StateSubdir() {
  if (const int fd = fd_.load(); fd >= 0) ::close(fd);
}

int StateSubdir::fd(bool create) const {
  if (const int fd = fd_.load(); fd >= 0) return fd;
  if (root_ == nullptr) return -EIO;
  const int fd = open_state_subdir(*root_, name_, create);
  if (fd < 0) return fd;
  int expected = -1;
  if (fd_.compare_exchange_strong(expected, fd)) return fd;
  ::close(fd);  // another thread got there first
  return expected;
}

}  // namespace httpfs::io
