// Where httpc remembers an unfinished resumable upload, so that `httpc -C - -T FILE URL`
// continues it after httpc itself was killed: the upload resource's URL, and what the source
// file was when the upload began (device, inode, size, modification time) to tell whether it
// is still the same file.
//
// The upload URL is a capability: whoever has it may append to or cancel the upload. So the
// memo is kept only in the user's own state directory ($XDG_STATE_HOME/httpc/uploads/, by
// default ~/.local/state/httpc/uploads/, mode 0700), never with the source file, where
// anyone who can read the file (or a copy made with cp -a, rsync -X or tar --xattrs) would
// find it. One file per source and target, named by a hash of the source's real path and the
// target URL, in the io/record_file.hpp format ("httpc-upload 1").
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
  // The source when the upload began.
  std::uint64_t dev = 0;
  std::uint64_t ino = 0;
  std::uint64_t size = 0;
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

  // The memo for uploading the file at `source_path` to `target_url`.
  std::optional<UploadMemo> recall(const std::string& source_path,
                                   std::string_view target_url) const;
  // Keeps `memo` for that source and its target: 0, -ENOENT (no state directory), -errno.
  int remember(const std::string& source_path, const UploadMemo& memo);
  // Drops it (the upload completed or was cancelled). Idempotent.
  void forget(const std::string& source_path, std::string_view target_url);

 private:
  std::string memo_file(const std::string& source_path, std::string_view target_url) const;

  std::string state_dir_;
};

}  // namespace httpfs::client
