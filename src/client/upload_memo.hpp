// Where httpc remembers an unfinished resumable upload, so that `httpc -C - -T FILE URL`
// continues it after httpc itself was killed: the upload resource's URL, and what the source
// file looked like when the upload began (size and modification time) to tell whether it is
// still the same file.
//
// The memo is kept with the source file, in its extended attribute user.httpc.upload, so it
// travels with a rename and goes with the file. Where that cannot be written (a file the user
// may read but not change, a read-only mount, a file system without user xattrs) it is a
// small file in the state directory instead ($XDG_STATE_HOME/httpc/uploads/, by default
// ~/.local/state/httpc/uploads/), named by a hash of the source's path and the target URL.
// Both hold the same bytes (io/record_file.hpp format, "httpc-upload 1").
#pragma once

#include <sys/stat.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace httpfs::client {

struct UploadMemo {
  std::string target_url;  // where the file is going
  std::string upload_url;  // the upload resource the server made for it
  std::uint64_t size = 0;  // the source when the upload began
  std::int64_t mtime_ns = 0;
};

// Whether the source, as `st` shows it now, is still the file the memo was made for.
bool same_source(const UploadMemo& memo, const struct stat& st) noexcept;

class UploadMemos {
 public:
  // `state_dir` is made (0700) when the first memo needs it.
  explicit UploadMemos(std::string state_dir) : state_dir_(std::move(state_dir)) {}
  // $XDG_STATE_HOME/httpc, else $HOME/.local/state/httpc; "" when neither is set.
  static std::string default_state_dir();

  // The memo for uploading the open file `source_fd` (at `source_path`) to `target_url`.
  std::optional<UploadMemo> recall(int source_fd, const std::string& source_path,
                                   std::string_view target_url) const;
  // Keeps `memo` for that source and target: 0 or -errno.
  int remember(int source_fd, const std::string& source_path, const UploadMemo& memo);
  // Drops it (the upload completed or was cancelled). Idempotent.
  void forget(int source_fd, const std::string& source_path, std::string_view target_url);

 private:
  std::string memo_file(const std::string& source_path, std::string_view target_url) const;

  std::string state_dir_;
};

}  // namespace httpfs::client
