#include "client/upload_memo.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdlib>

#include "io/record_file.hpp"
#include "io/sha256.hpp"

namespace httpfs::client {

namespace {

constexpr std::string_view kMagic = "httpc-upload 1\n";
constexpr std::size_t kMaxMemo = 64 << 10;

std::int64_t mtime_ns(const struct stat& st) noexcept {
  return static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec;
}

std::string encode(const UploadMemo& m) {
  std::string out(kMagic);
  io::put_record(out, "target", m.target_url);
  io::put_record(out, "upload", m.upload_url);
  io::put_record(out, "dev", std::to_string(m.dev));
  io::put_record(out, "ino", std::to_string(m.ino));
  io::put_record(out, "size", std::to_string(m.size));
  io::put_record(out, "mtime", std::to_string(m.mtime_ns));
  io::put_record(out, "end", "");
  return out;
}

// Stores one record of a memo: its bit, 0 for an unknown name, -1 for a bad value.
int apply(std::string_view name, std::string_view value, UploadMemo& m) {
  if (name == "target") {
    m.target_url = value;
    return 1;
  }
  if (name == "upload") {
    m.upload_url = value;
    return value.empty() ? -1 : 2;
  }
  if (name == "size") return io::parse_decimal(value, m.size) ? 4 : -1;
  if (name == "mtime") return io::parse_decimal(value, m.mtime_ns) ? 8 : -1;
  if (name == "dev") return io::parse_decimal(value, m.dev) ? 16 : -1;
  if (name == "ino") return io::parse_decimal(value, m.ino) ? 32 : -1;
  return 0;
}

std::optional<UploadMemo> decode(std::string_view bytes) {
  UploadMemo m;
  if (!io::decode_records(bytes, kMagic, 63,
                          [&](std::string_view n, std::string_view v) { return apply(n, v, m); }))
    return std::nullopt;
  return m;
}

// Makes `dir` and its parents (0700) as needed: 0 or -errno.
int make_dirs(const std::string& dir) {
  for (std::size_t i = 1; i <= dir.size(); ++i) {
    if (i < dir.size() && dir[i] != '/') continue;
    const std::string prefix = dir.substr(0, i);
    if (::mkdir(prefix.c_str(), 0700) != 0 && errno != EEXIST) return -errno;
  }
  return 0;
}

}  // namespace

bool same_source(const UploadMemo& memo, const struct stat& st) noexcept {
  return static_cast<std::uint64_t>(st.st_dev) == memo.dev &&
         static_cast<std::uint64_t>(st.st_ino) == memo.ino &&
         static_cast<std::uint64_t>(st.st_size) == memo.size && mtime_ns(st) == memo.mtime_ns;
}

std::string UploadMemos::default_state_dir() {
  if (const char* xdg = std::getenv("XDG_STATE_HOME"); xdg && *xdg == '/')
    return std::string(xdg) + "/httpc";
  if (const char* home = std::getenv("HOME"); home && *home == '/')
    return std::string(home) + "/.local/state/httpc";
  return {};
}

std::string UploadMemos::memo_file(const std::string& source_path,
                                   std::string_view target_url) const {
  if (state_dir_.empty()) return {};
  // The file's absolute path, so that another working directory finds the same memo.
  char real[PATH_MAX];
  const std::string path = ::realpath(source_path.c_str(), real) ? real : source_path;
  io::Sha256 h;
  h.update(path);
  h.update(std::string_view("\0", 1));
  h.update(target_url);
  const io::Sha256::Digest digest = h.finish();
  return state_dir_ + "/uploads/" + io::lower_hex(digest.data(), digest.size());
}

std::optional<UploadMemo> UploadMemos::recall(const std::string& source_path,
                                              std::string_view target_url) const {
  const std::string file = memo_file(source_path, target_url);
  if (file.empty()) return std::nullopt;
  const std::size_t slash = file.rfind('/');
  const int dir = ::open(file.substr(0, slash).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir < 0) return std::nullopt;
  std::string bytes;
  const int r = io::read_small_file(dir, file.c_str() + slash + 1, bytes, kMaxMemo);
  ::close(dir);
  if (r < 0) return std::nullopt;
  auto m = decode(bytes);
  if (!m || m->target_url != target_url) return std::nullopt;
  return m;
}

int UploadMemos::remember(const std::string& source_path, const UploadMemo& memo) {
  const std::string file = memo_file(source_path, memo.target_url);
  if (file.empty()) return -ENOENT;
  const std::size_t slash = file.rfind('/');
  const std::string dir_path = file.substr(0, slash);
  if (int r = make_dirs(dir_path); r < 0) return r;
  const int dir = ::open(dir_path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir < 0) return -errno;
  const int r = io::write_file_atomically(dir, file.substr(slash + 1), encode(memo));
  ::close(dir);
  return r;
}

void UploadMemos::forget(const std::string& source_path, std::string_view target_url) {
  const std::string file = memo_file(source_path, target_url);
  if (!file.empty()) ::unlink(file.c_str());
}

}  // namespace httpfs::client
