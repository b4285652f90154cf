#include "io/tree.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <memory>

#include "io/dead_props.hpp"
#include "io/file_sink.hpp"

namespace httpfs::io {

namespace {

struct DirCloser {
  void operator()(DIR* d) const noexcept { ::closedir(d); }
};
using DirPtr = std::unique_ptr<DIR, DirCloser>;

void note(std::vector<TreeFailure>& failures, std::size_t max, const std::string& path, int err) {
  if (failures.size() < max) failures.push_back(TreeFailure{path, err < 0 ? -err : err});
}

std::string join(const std::string& base, const char* name) {
  return base.empty() ? std::string(name) : base + "/" + name;
}

bool remove_members(int fd, const std::string& rel, std::vector<TreeFailure>& failures,
                    std::size_t max);

// Removes `name` (in `dir`, at `rel` from the tree's root).
bool remove_one(int dir, const char* name, const std::string& rel,
                std::vector<TreeFailure>& failures, std::size_t max) {
  struct stat st {};
  if (::fstatat(dir, name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
    note(failures, max, rel, errno);
    return false;
  }
  if (S_ISDIR(st.st_mode)) {
    const int fd = ::openat(dir, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) {
      note(failures, max, rel, errno);
      return false;
    }
    if (!remove_members(fd, rel, failures, max)) return false;  // fd closed there
  }
  if (::unlinkat(dir, name, S_ISDIR(st.st_mode) ? AT_REMOVEDIR : 0) != 0) {
    note(failures, max, rel, errno);
    return false;
  }
  return true;
}

// Removes everything in the directory `fd` (taken, closed here).
bool remove_members(int fd, const std::string& rel, std::vector<TreeFailure>& failures,
                    std::size_t max) {
  DirPtr d(::fdopendir(fd));
  if (!d) {
    note(failures, max, rel, errno);
    ::close(fd);
    return false;
  }
  bool all = true;
  while (dirent* e = ::readdir(d.get())) {
    const std::string_view n = e->d_name;
    if (n == "." || n == "..") continue;
    all = remove_one(::dirfd(d.get()), e->d_name, join(rel, e->d_name), failures, max) && all;
  }
  return all;
}

int copy_bytes(int from, int to, off_t size) {
  off_t done = 0;
  while (done < size) {
    const ssize_t n =
        ::copy_file_range(from, nullptr, to, nullptr, static_cast<std::size_t>(size - done), 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return n < 0 ? -errno : -EIO;  // 0: the source shrank
    done += n;
  }
  return 0;
}

bool copy_member(int from_dir, const char* name, int to_dir, const std::string& rel, bool durable,
                 std::vector<TreeFailure>& failures, std::size_t max);

bool copy_members(int from_fd, int to_fd, const std::string& rel, bool durable,
                  std::vector<TreeFailure>& failures, std::size_t max) {
  const int dup = ::fcntl(from_fd, F_DUPFD_CLOEXEC, 0);
  DirPtr d(dup >= 0 ? ::fdopendir(dup) : nullptr);
  if (!d) {
    if (dup >= 0) ::close(dup);
    note(failures, max, rel, errno);
    return false;
  }
  bool all = true;
  while (dirent* e = ::readdir(d.get())) {
    const std::string_view n = e->d_name;
    if (n == "." || n == "..") continue;
    all =
        copy_member(from_fd, e->d_name, to_fd, join(rel, e->d_name), durable, failures, max) && all;
  }
  return all;
}

bool copy_member(int from_dir, const char* name, int to_dir, const std::string& rel, bool durable,
                 std::vector<TreeFailure>& failures, std::size_t max) {
  struct stat st {};
  if (::fstatat(from_dir, name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
    note(failures, max, rel, errno);
    return false;
  }
  int r = 0;
  if (S_ISREG(st.st_mode)) {
    r = copy_file(from_dir, name, to_dir, name, false, durable);
  } else if (S_ISLNK(st.st_mode)) {
    char target[4096];
    const ssize_t n = ::readlinkat(from_dir, name, target, sizeof target - 1);
    if (n < 0) {
      r = -errno;
    } else {
      target[n] = 0;
      if (::symlinkat(target, to_dir, name) != 0) r = -errno;
    }
  } else if (S_ISDIR(st.st_mode)) {
    std::vector<TreeFailure> sub;
    if (!copy_tree(from_dir, name, to_dir, name, true, durable, sub, max)) {
      for (TreeFailure& f : sub)
        note(failures, max, f.path.empty() ? rel : rel + "/" + f.path, f.error);
      return false;
    }
    return true;
  } else {
    r = -EPERM;  // a FIFO, socket or device is not something to copy
  }
  if (r < 0) note(failures, max, rel, r);
  return r == 0;
}

}  // namespace

bool remove_tree(int dir_fd, const std::string& name, std::vector<TreeFailure>& failures,
                 std::size_t max_failures) {
  return remove_one(dir_fd, name.c_str(), "", failures, max_failures);
}

int copy_file(int from_dir, const std::string& from_name, int to_dir, const std::string& to_name,
              bool replace, bool durable) {
  const int from = ::openat(from_dir, from_name.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  if (from < 0) return -errno;
  struct stat st {};
  if (::fstat(from, &st) != 0 || !S_ISREG(st.st_mode)) {
    const int e = S_ISREG(st.st_mode) ? errno : EPERM;
    ::close(from);
    return -e;
  }
  // The sink takes a directory descriptor of its own, and the file appears only on commit.
  const int dir = ::fcntl(to_dir, F_DUPFD_CLOEXEC, 0);
  FileSink sink;
  int r = dir < 0 ? -errno : sink.open(dir, to_name, st.st_mode & 07777);
  if (r == 0) r = copy_bytes(from, sink.fd(), st.st_size);
  if (r == 0) r = copy_dead_props(from, sink.fd());
  ::close(from);
  if (r != 0) return r;
  struct stat committed {};
  return sink.commit(durable, !replace, {}, committed);
}

bool copy_tree(int from_dir, const std::string& from_name, int to_dir, const std::string& to_name,
               bool members, bool durable, std::vector<TreeFailure>& failures,
               std::size_t max_failures) {
  const int from =
      ::openat(from_dir, from_name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (from < 0) {
    note(failures, max_failures, "", errno);
    return false;
  }
  struct stat st {};
  ::fstat(from, &st);
  if (::mkdirat(to_dir, to_name.c_str(), st.st_mode & 07777) != 0) {
    note(failures, max_failures, "", errno);
    ::close(from);
    return false;
  }
  const int to = ::openat(to_dir, to_name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (to < 0) {
    note(failures, max_failures, "", errno);
    ::close(from);
    return false;
  }
  bool all = true;
  if (int r = copy_dead_props(from, to); r < 0) {
    note(failures, max_failures, "", r);
    all = false;
  }
  if (members) all = copy_members(from, to, "", durable, failures, max_failures) && all;
  if (durable) ::fsync(to);
  ::close(to);
  ::close(from);
  return all;
}

}  // namespace httpfs::io
