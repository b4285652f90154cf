#include "io/dir_reader.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>

#include "io/state_dir.hpp"

namespace httpfs::io {

DirReader::~DirReader() {
  if (dir_ != nullptr) ::closedir(dir_);
}

int DirReader::open(const Docroot& root, std::string_view dir_path, bool show_hidden) {
  const int fd = root.open(dir_path, O_RDONLY | O_DIRECTORY);
  if (fd < 0) return fd;
  dir_ = ::fdopendir(fd);
  if (dir_ == nullptr) {
    const int e = errno;
    ::close(fd);
    return -e;
  }
  root_ = &root;
  at_root_ = root.is_root(fd);
  prefix_ = std::string(dir_path);
  if (prefix_.empty() || prefix_.back() != '/') prefix_ += '/';
  show_hidden_ = show_hidden;
  return 0;
}

bool DirReader::next(std::string& name, struct stat& st) {
  while (dirent* d = ::readdir(dir_)) {
    const std::string_view n = d->d_name;
    if (n == "." || n == "..") continue;
    // The state directory is never listed, also where a link led to the root ("/self/").
    if (n.front() == '.' && (!show_hidden_ || (at_root_ && n == kStateDirName) ||
                             is_state_path(prefix_ + std::string(n))))
      continue;
    if (::fstatat(::dirfd(dir_), d->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0) continue;
    link_ = S_ISLNK(st.st_mode);
    if (link_) {
      // A link is listed only if a request for it could be served: resolve it the way a
      // request would, through the docroot.
      const int target = root_->open(prefix_ + std::string(n), O_PATH);
      if (target < 0) continue;
      const int r = ::fstat(target, &st);
      ::close(target);
      if (r != 0) continue;
    }
    if (!S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode)) continue;
    name.assign(n);
    return true;
  }
  return false;
}

}  // namespace httpfs::io
