#include "client/upload_memo.hpp"

#include <doctest/doctest.h>
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
  m.dev = static_cast<std::uint64_t>(st.st_dev);
  m.ino = static_cast<std::uint64_t>(st.st_ino);
  m.size = static_cast<std::uint64_t>(st.st_size);
  m.mtime_ns = static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec;
  return m;
}

}  // namespace

TEST_CASE("a memo is kept in the private state directory, per source and target") {
  TempDir t;
  t.write("src/big.bin", "0123456789");
  const std::string source = t / "src/big.bin";
  struct stat st {};
  REQUIRE(::stat(source.c_str(), &st) == 0);
  UploadMemos memos(t / "state/httpc");
  CHECK_FALSE(memos.recall(source, "http://h/dir/big.bin").has_value());
  REQUIRE(memos.remember(source, memo_for(st)) == 0);
  REQUIRE(memos.remember(source, memo_for(st, "http://h/other.bin")) == 0);
  // Nothing is left with the source file, where others could read the capability.
  CHECK(::getxattr(source.c_str(), "user.httpc.upload", nullptr, 0) < 0);
  const std::vector<std::string> files = httpfs::test::entries(t / "state/httpc/uploads");
  REQUIRE(files.size() == 2);
  CHECK(files[0].size() == 64);  // a sha-256 in hex
  struct stat dir {};
  REQUIRE(::stat((t / "state/httpc").c_str(), &dir) == 0);
  CHECK((dir.st_mode & 0777) == 0700);

  auto got = memos.recall(source, "http://h/dir/big.bin");
  REQUIRE(got.has_value());
  CHECK(got->upload_url == "http://h/.httpfs-upload/0123456789abcdef0123456789abcdef");
  CHECK(same_source(*got, st));
  CHECK(memos.recall(source, "http://h/other.bin").has_value());
  CHECK_FALSE(memos.recall(source, "http://h/elsewhere.bin").has_value());
  // Found again from another working directory, by the file's real path.
  char cwd[4096];
  REQUIRE(::getcwd(cwd, sizeof cwd) != nullptr);
  REQUIRE(::chdir(t.path().c_str()) == 0);
  got = memos.recall("./src/big.bin", "http://h/dir/big.bin");
  REQUIRE(::chdir(cwd) == 0);
  CHECK(got.has_value());

  memos.forget(source, "http://h/dir/big.bin");
  memos.forget(source, "http://h/dir/big.bin");  // twice is fine
  CHECK_FALSE(memos.recall(source, "http://h/dir/big.bin").has_value());
  CHECK(memos.recall(source, "http://h/other.bin").has_value());
  // Without a state directory there is nowhere to keep it.
  UploadMemos nowhere("");
  CHECK(nowhere.remember(source, memo_for(st)) == -ENOENT);
  CHECK_FALSE(nowhere.recall(source, "http://h/other.bin").has_value());
}

TEST_CASE("a changed source is not the same source") {
  struct stat st {};
  st.st_size = 10;
  st.st_mtim.tv_sec = 1700000000;
  st.st_mtim.tv_nsec = 5;
  st.st_dev = 2049;
  st.st_ino = 77;
  const UploadMemo m = memo_for(st);
  CHECK(same_source(m, st));
  struct stat replaced = st;  // another file renamed over it, same size and time
  replaced.st_ino = 78;
  CHECK_FALSE(same_source(m, replaced));
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
