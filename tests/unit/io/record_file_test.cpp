#include "io/record_file.hpp"

#include <doctest/doctest.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <string>
#include <thread>

#include "support/process.hpp"

using namespace httpfs::io;
using httpfs::test::TempDir;
using namespace std::string_literals;

TEST_CASE("records round-trip any bytes, and a malformed one stops the reading") {
  std::string out;
  put_record(out, "path", "/a b\nc\0d"s);
  put_record(out, "empty", "");
  put_record(out, "end", "");
  CHECK(out == "path 8\n/a b\nc\0d\nempty 0\n\nend 0\n\n"s);
  std::string_view rest = out, name, value;
  REQUIRE(next_record(rest, name, value));
  CHECK(name == "path");
  CHECK(value == "/a b\nc\0d"s);
  REQUIRE(next_record(rest, name, value));
  CHECK(name == "empty");
  CHECK(value.empty());
  REQUIRE(next_record(rest, name, value));
  CHECK(name == "end");
  CHECK(rest.empty());
  CHECK_FALSE(next_record(rest, name, value));

  for (std::string_view bad :
       {"name", "name 3\nab\n", "name 2\nabc\n", "name x\nab\n", "name -1\n\n", "name 2\nab",
        "na\nme 1\na\n", "name  1\na\n", "name 99999999999999999999999\na\n"}) {
    CAPTURE(bad);
    std::string_view r = bad;
    CHECK_FALSE(next_record(r, name, value));
  }
}

TEST_CASE("decimal fields: digits only") {
  std::uint64_t u = 0;
  CHECK(parse_decimal("123", u));
  CHECK(u == 123);
  for (std::string_view bad : {"", "-1", "+1", " 1", "1 ", "1a", "18446744073709551616"}) {
    CAPTURE(bad);
    CHECK_FALSE(parse_decimal(bad, u));
  }
  long long s = 0;
  CHECK(parse_decimal("-5", s));
  CHECK(s == -5);
}

TEST_CASE("files are replaced whole, and only regular files of bounded size are read") {
  TempDir t;
  const int dir = ::open(t.path().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  REQUIRE(dir >= 0);
  REQUIRE(write_file_atomically(dir, "rec", "first") == 0);
  REQUIRE(write_file_atomically(dir, "rec", "second") == 0);
  std::string got;
  CHECK(read_small_file(dir, "rec", got, 100) == 0);
  CHECK(got == "second");
  CHECK(httpfs::test::entries(t.path()) == std::vector<std::string>{"rec"});  // no temporary
  struct stat st {};
  REQUIRE(::fstatat(dir, "rec", &st, 0) == 0);
  CHECK((st.st_mode & 0777) == 0600);

  got.clear();
  CHECK(read_small_file(dir, "rec", got, 3) == -EFBIG);
  got.clear();
  CHECK(read_small_file(dir, "missing", got, 100) == -ENOENT);
  REQUIRE(::mkfifoat(dir, "fifo", 0600) == 0);
  CHECK(read_small_file(dir, "fifo", got, 100) == -EINVAL);  // and it did not block
  REQUIRE(::symlinkat("rec", dir, "link") == 0);
  CHECK(read_small_file(dir, "link", got, 100) == -ELOOP);
  REQUIRE(::mkdirat(dir, "sub", 0700) == 0);
  CHECK(read_small_file(dir, "sub", got, 100) == -EINVAL);

  std::size_t seen = 0;
  for_each_entry(dir, [&](const std::string&) { ++seen; });
  CHECK(seen == 4);  // rec, fifo, link, sub
  const std::size_t n = unlink_entries(dir, [](const std::string& name) {
    if (name == "rec") return Doom::Remove;
    if (name == "fifo") return Doom::RemoveUncounted;
    return Doom::Keep;  // link; sub (a directory) would fail anyway
  });
  CHECK(n == 1);
  CHECK(httpfs::test::entries(t.path()) == std::vector<std::string>{"link", "sub"});
  ::close(dir);
}

TEST_CASE("a DirGuard excludes another one, in this process too, until it ends") {
  TempDir t;
  const int dir = ::open(t.path().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  REQUIRE(dir >= 0);
  std::atomic<bool> second_held{false};
  std::thread other;
  {
    DirGuard first(dir);
    REQUIRE(first.error() == 0);
    other = std::thread([&] {
      DirGuard second(dir);
      second_held = second.error() == 0;
    });
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    CHECK_FALSE(second_held.load());  // still waiting for the first
  }
  other.join();
  CHECK(second_held.load());
  ::close(dir);
}

TEST_CASE("lower hex, two digits a byte") {
  const unsigned char bytes[] = {0x00, 0x0f, 0xa5, 0xff};
  CHECK(lower_hex(bytes, sizeof bytes) == "000fa5ff");
  CHECK(lower_hex(bytes, 0).empty());
}

TEST_CASE("random bytes differ from call to call") {
  unsigned char a[16] = {}, b[16] = {};
  REQUIRE(fill_random(a, sizeof a) == 0);
  REQUIRE(fill_random(b, sizeof b) == 0);
  CHECK(std::string(reinterpret_cast<char*>(a), 16) != std::string(reinterpret_cast<char*>(b), 16));
}

TEST_CASE("a record file: every required record once, unknown ones skipped, nothing after end") {
  auto apply = [](std::string_view name, std::string_view value) {
    if (name == "a") return value == "bad" ? -1 : 1;
    if (name == "b") return 2;
    return 0;
  };
  auto file = [](std::initializer_list<std::pair<std::string_view, std::string_view>> records) {
    std::string out = "kind 1\n";
    for (const auto& [name, value] : records) put_record(out, name, value);
    return out;
  };
  CHECK(decode_records(file({{"a", "x"}, {"b", ""}, {"end", ""}}), "kind 1\n", 3, apply));
  CHECK(decode_records(file({{"b", ""}, {"later", "?"}, {"a", "x"}, {"end", ""}}), "kind 1\n", 3,
                       apply));
  CHECK_FALSE(decode_records(file({{"a", "x"}, {"end", ""}}), "kind 1\n", 3, apply));  // no b
  CHECK_FALSE(
      decode_records(file({{"a", "x"}, {"a", "y"}, {"b", ""}, {"end", ""}}), "kind 1\n", 3, apply));
  CHECK_FALSE(decode_records(file({{"a", "bad"}, {"b", ""}, {"end", ""}}), "kind 1\n", 3, apply));
  CHECK_FALSE(decode_records(file({{"a", "x"}, {"b", ""}}), "kind 1\n", 3, apply));  // no end
  CHECK_FALSE(decode_records(file({{"a", "x"}, {"b", ""}, {"end", "x"}}), "kind 1\n", 3, apply));
  CHECK_FALSE(
      decode_records(file({{"a", "x"}, {"b", ""}, {"end", ""}}) + "more", "kind 1\n", 3, apply));
  CHECK_FALSE(decode_records(file({{"a", "x"}, {"b", ""}, {"end", ""}}), "kind 2\n", 3, apply));
}
