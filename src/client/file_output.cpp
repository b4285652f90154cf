#include "client/file_output.hpp"

#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <cerrno>

#include "io/write_all.hpp"

namespace httpfs::client {

namespace {

constexpr const char* kValidatorAttr = "user.httpc.validator";

}  // namespace

FileOutput::FileOutput(std::string path) : path_(std::move(path)), part_(path_ + ".part") {}

FileOutput::~FileOutput() {
  close();
}

bool FileOutput::exists() const {
  struct stat st {};
  return ::lstat(path_.c_str(), &st) == 0;
}

std::uint64_t FileOutput::part_size() const {
  struct stat st {};
  if (::stat(part_.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) return 0;
  return static_cast<std::uint64_t>(st.st_size);
}

std::string FileOutput::part_validator() const {
  char buf[512];
  ssize_t n = ::getxattr(part_.c_str(), kValidatorAttr, buf, sizeof buf);
  return n > 0 ? std::string(buf, static_cast<std::size_t>(n)) : std::string();
}

int FileOutput::open(bool append, std::string_view validator) {
  close();
  // Not O_APPEND: splice(2) refuses such a file. Continuing at the end of the file is the
  // file position's job.
  fd_ = ::open(part_.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC | (append ? 0 : O_TRUNC), 0644);
  if (fd_ < 0) return -errno;
  const off_t end = append ? ::lseek(fd_, 0, SEEK_END) : 0;
  if (end < 0) return -errno;
  size_ = static_cast<std::uint64_t>(end);
  // Without a place to keep the validator a resume could not tell versions apart: an
  // empty attribute makes a later --continue start from zero.
  if (validator.empty())
    ::fremovexattr(fd_, kValidatorAttr);
  else
    ::fsetxattr(fd_, kValidatorAttr, validator.data(), validator.size(), 0);
  return 0;
}

int FileOutput::reserve(std::uint64_t bytes) {
  if (bytes == 0) return 0;
  if (::fallocate(fd_, FALLOC_FL_KEEP_SIZE, static_cast<off_t>(size_), static_cast<off_t>(bytes)) ==
      0)
    return 0;
  // EOPNOTSUPP (tmpfs before 3.5, FUSE, NFSv3...) and the like: write without reserving.
  return errno == ENOSPC || errno == EDQUOT || errno == EFBIG ? -errno : 0;
}

int FileOutput::preallocate(std::uint64_t length) {
  if (::fallocate(fd_, 0, 0, static_cast<off_t>(length)) == 0) return 0;
  if (errno == ENOSPC || errno == EDQUOT || errno == EFBIG) return -errno;
  // EOPNOTSUPP and the like: a sparse file of that length will do.
  return ::ftruncate(fd_, static_cast<off_t>(length)) == 0 ? 0 : -errno;
}

int FileOutput::write(std::string_view bytes) {
  return io::write_all(fd_, bytes, size_);
}

int FileOutput::commit(std::optional<std::int64_t> mtime, bool no_clobber) {
  if (fd_ < 0) {
    // Not open (closed, or never opened for an empty body): open it without truncating.
    if (int r = open(true, {}); r < 0) return r;
  }
  ::fremovexattr(fd_, kValidatorAttr);
  if (mtime) {
    timespec times[2] = {{0, UTIME_OMIT}, {static_cast<time_t>(*mtime), 0}};
    ::futimens(fd_, times);
  }
  close();
  if (no_clobber) {
    // Never replace a file that appeared while downloading.
    if (::renameat2(AT_FDCWD, part_.c_str(), AT_FDCWD, path_.c_str(), RENAME_NOREPLACE) != 0) {
      if (errno != EINVAL && errno != ENOSYS) return -errno;
      if (::link(part_.c_str(), path_.c_str()) != 0) return -errno;
      ::unlink(part_.c_str());
    }
    return 0;
  }
  return ::rename(part_.c_str(), path_.c_str()) == 0 ? 0 : -errno;
}

void FileOutput::discard() {
  close();
  ::unlink(part_.c_str());
}

void FileOutput::close() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

}  // namespace httpfs::client
