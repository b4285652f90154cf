#include "client/upload_memo.hpp"

#include <doctest/doctest.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <cstdlib>
#include <string>

#include "support/process.hpp"

using httpfs::client::same_source;
using httpfs::client::UploadMemo;
using httpfs::client::UploadMemos;
using httpfs::test::TempDir;

namespace {

UploadMemo memo_for(const struct stat& st, std::string target = "http://h/dir/big.bin") {
  UploadMemo m;
  m.target_url = std::move(target);
  m.upload_url = "http://h/.httpfs-upload/0123456789abcdef0123456789abcdef";
  m.size = static_cast<std::uint64_t>(st.st_size);
  m.mtime_ns = static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec;
  return m;
}

bool has_attr(int fd) {
  return ::fgetxattr(fd, "user.httpc.upload", nullptr, 0) > 0;
}

}  // namespace

TEST_CASE("a memo is kept with the source file, for one target, until forgotten") {
  TempDir t;
  t.write("big.bin", "0123456789");
  const std::string source = t / "big.bin";
  const int fd = ::open(source.c_str(), O_RDONLY | O_CLOEXEC);
  REQUIRE(fd >= 0);
  struct stat st {};
  REQUIRE(::fstat(fd, &st) == 0);
  UploadMemos memos(t / "state");
  CHECK_FALSE(memos.recall(fd, source, "http://h/dir/big.bin").has_value());
  const UploadMemo m = memo_for(st);
  const int r = memos.remember(fd, source, m);
  REQUIRE(r == 0);
  if (!has_attr(fd))
    MESSAGE("this file system keeps no user xattrs: the memo went to the state file");
  auto got = memos.recall(fd, source, "http://h/dir/big.bin");
  REQUIRE(got.has_value());
  CHECK(got->upload_url == m.upload_url);
  CHECK(got->size == 10);
  CHECK(got->mtime_ns == m.mtime_ns);
  CHECK(same_source(*got, st));
  CHECK_FALSE(memos.recall(fd, source, "http://h/elsewhere.bin").has_value());
  memos.forget(fd, source, "http://h/dir/big.bin");
  CHECK_FALSE(memos.recall(fd, source, "http://h/dir/big.bin").has_value());
  CHECK_FALSE(has_attr(fd));
  ::close(fd);
}

TEST_CASE("where the attribute cannot be written, a state file keeps the memo") {
  TempDir t;
  t.write("src/big.bin", "0123456789");
  const std::string source = t / "src/big.bin";
  // An O_PATH descriptor has no attributes to read or write: the state file is used.
  const int fd = ::open(source.c_str(), O_PATH | O_CLOEXEC);
  REQUIRE(fd >= 0);
  struct stat st {};
  REQUIRE(::fstat(fd, &st) == 0);
  UploadMemos memos(t / "state/httpc");
  REQUIRE(memos.remember(fd, source, memo_for(st)) == 0);
  const std::vector<std::string> files = httpfs::test::entries(t / "state/httpc/uploads");
  REQUIRE(files.size() == 1);
  CHECK(files[0].size() == 64);  // a sha-256 in hex
  struct stat dir {};
  REQUIRE(::stat((t / "state/httpc").c_str(), &dir) == 0);
  CHECK((dir.st_mode & 0777) == 0700);
  // Found again from another working directory, by the file's real path.
  const std::string relative = "./src/big.bin";
  char cwd[4096];
  REQUIRE(::getcwd(cwd, sizeof cwd) != nullptr);
  REQUIRE(::chdir(t.path().c_str()) == 0);
  auto got = memos.recall(fd, relative, "http://h/dir/big.bin");
  REQUIRE(::chdir(cwd) == 0);
  REQUIRE(got.has_value());
  CHECK(got->size == 10);
  memos.forget(fd, source, "http://h/dir/big.bin");
  CHECK(httpfs::test::entries(t / "state/httpc/uploads").empty());
  // Without a state directory there is nowhere to keep it.
  UploadMemos nowhere("");
  CHECK(nowhere.remember(fd, source, memo_for(st)) == -ENOENT);
  ::close(fd);
}

TEST_CASE("a changed source is not the same source") {
  struct stat st {};
  st.st_size = 10;
  st.st_mtim.tv_sec = 1700000000;
  st.st_mtim.tv_nsec = 5;
  const UploadMemo m = memo_for(st);
  CHECK(same_source(m, st));
  struct stat grown = st;
  grown.st_size = 11;
  CHECK_FALSE(same_source(m, grown));
  struct stat touched = st;
  touched.st_mtim.tv_nsec = 6;
  CHECK_FALSE(same_source(m, touched));
}

TEST_CASE("the state directory follows XDG_STATE_HOME, then HOME") {
  const char* xdg = std::getenv("XDG_STATE_HOME");
  const char* home = std::getenv("HOME");
  const std::string saved_xdg = xdg ? xdg : "", saved_home = home ? home : "";
  ::setenv("XDG_STATE_HOME", "/x/state", 1);
  ::setenv("HOME", "/home/u", 1);
  CHECK(UploadMemos::default_state_dir() == "/x/state/httpc");
  ::setenv("XDG_STATE_HOME", "relative", 1);  // not absolute: ignored (XDG Base Directory)
  CHECK(UploadMemos::default_state_dir() == "/home/u/.local/state/httpc");
  ::unsetenv("XDG_STATE_HOME");
  ::unsetenv("HOME");
  CHECK(UploadMemos::default_state_dir().empty());
  if (xdg) ::setenv("XDG_STATE_HOME", saved_xdg.c_str(), 1);
  if (home) ::setenv("HOME", saved_home.c_str(), 1);
}
