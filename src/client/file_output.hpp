// A download's file: written as NAME.part and renamed to NAME only when complete, so a
// failed or interrupted download never leaves something that looks finished. The .part
// file keeps the validator (ETag or Last-Modified) of what it holds in an extended
// attribute, so that --continue can ask for the rest with If-Range and restart from zero if
// the file changed on the server.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace httpfs::client {

class FileOutput {
 public:
  explicit FileOutput(std::string path);
  ~FileOutput();
  FileOutput(const FileOutput&) = delete;
  FileOutput& operator=(const FileOutput&) = delete;

  const std::string& path() const noexcept { return path_; }
  const std::string& part_path() const noexcept { return part_; }
  bool exists() const;  // the final name

  // What a resume can build on: the .part file's size and stored validator (both empty or 0
  // when there is nothing usable).
  std::uint64_t part_size() const;
  std::string part_validator() const;

  // Opens the .part file: appending (a 206 that continues it) or from zero. Stores
  // `validator` for a later resume. 0 or -errno.
  int open(bool append, std::string_view validator);
  // Reserves disk space for `bytes` more bytes past the current end without changing the
  // file's size (so a partial file still says how much arrived): a download that cannot fit
  // fails at once rather than after most of it. 0, -ENOSPC/-EDQUOT, or 0 where the file
  // system cannot reserve.
  int reserve(std::uint64_t bytes);
  // Makes the open file `length` bytes long, its blocks allocated where the file system can
  // (a segmented download writes anywhere in it): 0, -ENOSPC/-EDQUOT/-EFBIG, or -errno.
  int preallocate(std::uint64_t length);
  int write(std::string_view bytes);  // 0 or -errno
  int fd() const noexcept { return fd_; }
  std::uint64_t size() const noexcept { return size_; }
  // Completes: sets the mtime (when known), renames NAME.part to NAME (refusing to replace
  // an existing NAME when no_clobber). 0 or -errno.
  int commit(std::optional<std::int64_t> mtime, bool no_clobber);
  // Removes the .part file (its content is known to be wrong).
  void discard();
  void close();

 private:
  std::string path_;
  std::string part_;
  int fd_ = -1;
  std::uint64_t size_ = 0;
};

}  // namespace httpfs::client
