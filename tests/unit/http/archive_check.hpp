// What the ZIP and tar layout tests share: a tree of members with their bytes, the archive
// made of a layout's pieces, the invariants every layout keeps, and the real tools that judge
// the archives.
#pragma once

#include <doctest/doctest.h>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "http/archive_layout.hpp"
#include "support/process.hpp"

namespace httpfs::test::archive {

inline constexpr std::int64_t kMtime = 1700000000;  // 2023-11-14T22:13:20Z: even seconds

struct Member {
  http::ArchiveEntry entry;
  std::string data;  // a file's bytes
};

inline Member dir(std::string name, std::uint32_t mode = 0755) {
  return {{std::move(name), true, 0, kMtime, mode}, {}};
}
inline Member file(std::string name, std::string data, std::uint32_t mode = 0644) {
  const std::uint64_t size = data.size();
  return {{std::move(name), false, size, kMtime, mode}, std::move(data)};
}

// A 150-byte path of short parts (ustar splits it into prefix and name) and one whose last
// part alone is 145 bytes (no split fits: tar needs a pax path).
inline std::string splittable_long_name() {
  return std::string(60, 'p') + "/" + std::string(50, 'q') + "/" + std::string(34, 'r') + ".txt";
}
inline std::string unsplittable_long_name() {
  return "deep/" + std::string(145, 'n');
}

// Empty file, nested directories, an empty directory, a non-ASCII name, 150-byte names, an
// executable, and a file bigger than any buffer a tool would read it with at once.
inline std::vector<Member> sample_tree() {
  return {
      dir("docs/"),
      file("docs/empty.txt", ""),
      file("docs/readme.txt", "hello, archive\n"),
      dir("docs/nested/"),
      dir("docs/nested/deeper/", 0700),
      file("docs/nested/deeper/data.bin", random_bytes(70000, 7), 0600),
      dir("empty-dir/"),
      dir("café/"),
      file("café/naïve ✓.txt", "bonjour ✓\n"),
      dir("deep/"),
      file(unsplittable_long_name(), "a long name\n"),
      dir(std::string(60, 'p') + "/"),
      dir(std::string(60, 'p') + "/" + std::string(50, 'q') + "/"),
      file(splittable_long_name(), "another long name\n"),
      file("run.sh", "#!/bin/sh\necho hi\n", 0755),
      file("block.bin", std::string(512, 'b')),  // no padding after it in tar
  };
}

inline std::vector<http::ArchiveEntry> entries_of(const std::vector<Member>& members) {
  std::vector<http::ArchiveEntry> r;
  for (const Member& m : members) r.push_back(m.entry);
  return r;
}

// The whole archive: Bytes pieces from the layout, FileData from the members, CRC-32s of
// them as the server would compute them.
inline std::string assemble(const http::ArchiveLayout& layout, const std::vector<Member>& members) {
  std::string out;
  for (std::size_t i = 0; i < layout.pieces().size(); ++i) {
    const http::ArchivePiece& p = layout.pieces()[i];
    if (p.kind == http::ArchivePiece::Kind::FileData) {
      out += members.at(p.entry).data;
      continue;
    }
    const auto crc = [&](std::size_t e) {
      CHECK(layout.needs_crc(i));
      CHECK(e == p.entry);
      return http::crc32_update(0, members.at(e).data);
    };
    layout.append_bytes(i, crc, out);
  }
  return out;
}

// Invariants of every layout: pieces non-empty, contiguous, covering [0, size()), found by
// piece_at() at each boundary and a byte either side; each Bytes piece made at its length.
// `crc` answers for the entries whose CRC-32 is asked for.
inline void check_pieces(const http::ArchiveLayout& layout,
                         const std::function<std::uint32_t(std::size_t)>& crc) {
  const std::vector<http::ArchivePiece>& pieces = layout.pieces();
  REQUIRE_FALSE(pieces.empty());
  CHECK(pieces.size() <= 4 * layout.entries().size() + 1);
  std::uint64_t at = 0;
  std::string bytes;
  for (std::size_t i = 0; i < pieces.size(); ++i) {
    const http::ArchivePiece& p = pieces[i];
    INFO("piece " << i << " tag " << p.tag << " entry " << p.entry);
    REQUIRE(p.offset == at);
    REQUIRE(p.length > 0);
    at += p.length;
    CHECK(layout.piece_at(p.offset) == i);
    CHECK(layout.piece_at(p.offset + p.length - 1) == i);
    if (i > 0) CHECK(layout.piece_at(p.offset - 1) == i - 1);
    if (p.length > 1) CHECK(layout.piece_at(p.offset + 1) == i);
    if (p.offset + p.length < layout.size()) CHECK(layout.piece_at(p.offset + p.length) == i + 1);
    if (p.entry != http::ArchivePiece::kNoEntry) REQUIRE(p.entry < layout.entries().size());
    if (p.kind == http::ArchivePiece::Kind::Bytes) {
      bytes.assign("previous bytes");  // appended to, never replaced
      layout.append_bytes(i, crc, bytes);
      CHECK(bytes.size() == p.length + 14);
      CHECK(bytes.compare(0, 14, "previous bytes") == 0);
    }
  }
  CHECK(at == layout.size());
  CHECK(layout.piece_at(layout.size() - 1) == pieces.size() - 1);
}

// Each Bytes piece made in order, backwards and shuffled, as range requests would make them:
// the same bytes every time.
inline void check_any_order(const http::ArchiveLayout& layout,
                            const std::function<std::uint32_t(std::size_t)>& crc) {
  std::vector<std::size_t> order;
  for (std::size_t i = 0; i < layout.pieces().size(); ++i)
    if (layout.pieces()[i].kind == http::ArchivePiece::Kind::Bytes) order.push_back(i);
  std::vector<std::string> forward(layout.pieces().size());
  for (std::size_t i : order) layout.append_bytes(i, crc, forward[i]);
  const auto again = [&](const std::vector<std::size_t>& o) {
    for (std::size_t i : o) {
      std::string b;
      layout.append_bytes(i, crc, b);
      CHECK_MESSAGE(b == forward[i], "piece " << i);
    }
  };
  std::vector<std::size_t> backward(order.rbegin(), order.rend());
  again(backward);
  std::vector<std::size_t> shuffled = order;
  std::shuffle(shuffled.begin(), shuffled.end(), std::mt19937(12345));
  again(shuffled);
}

// The path of an installed tool, or nullopt (with a MESSAGE saying the check is skipped).
inline std::optional<std::string> tool(const std::string& name) {
  const RunResult r = run({"/bin/sh", "-c", "command -v " + name});
  std::string path = r.out;
  while (!path.empty() && (path.back() == '\n' || path.back() == '\r')) path.pop_back();
  if (r.status != 0 || path.empty()) {
    MESSAGE(name << " is not installed: its check is skipped");
    return std::nullopt;
  }
  return path;
}

// Tools print and take names by the locale: UTF-8, whatever the caller's is.
inline RunResult run_tool(std::vector<std::string> argv, const std::string& cwd = {}) {
  RunResult r = run(std::move(argv), std::chrono::seconds(120), std::nullopt,
                    {"LC_ALL=C.UTF-8", "LANG=C.UTF-8"}, cwd);
  return r;
}

// Writes the members under `root` (directories made, files written, modes set).
inline void write_tree(const std::vector<Member>& members, const std::string& root) {
  namespace fs = std::filesystem;
  fs::create_directories(root);
  for (const Member& m : members) {
    const fs::path p = fs::path(root) / m.entry.name;
    if (m.entry.dir) {
      fs::create_directories(p);
    } else {
      fs::create_directories(p.parent_path());
      write_file(p.string(), m.data);
    }
  }
}

// `root` holds exactly the members: each directory, each file with its bytes, nothing more.
inline void check_tree(const std::vector<Member>& members, const std::string& root,
                       const std::string& who) {
  namespace fs = std::filesystem;
  INFO(who << " extracted into " << root);
  std::size_t found = 0;
  for (auto it = fs::recursive_directory_iterator(root); it != fs::recursive_directory_iterator();
       ++it)
    ++found;
  CHECK(found == members.size());
  for (const Member& m : members) {
    const fs::path p = fs::path(root) / m.entry.name;
    INFO(m.entry.name);
    if (m.entry.dir) {
      CHECK(fs::is_directory(p));
    } else {
      REQUIRE(fs::is_regular_file(p));
      CHECK(read_file(p.string()) == m.data);
    }
  }
}

// Writes the Bytes pieces of `layout` at their offsets in a sparse file of size(), and the
// FileData of the entries `data` has bytes for: archives of many GiB on no disk, for tools
// that only list them (or read the members that were written).
inline void write_sparse(const http::ArchiveLayout& layout,
                         const std::function<std::uint32_t(std::size_t)>& crc,
                         const std::vector<std::optional<std::string>>& data,
                         const std::string& path) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  REQUIRE(fd >= 0);
  const auto put = [&](const std::string& b, std::uint64_t offset) {
    REQUIRE(::pwrite(fd, b.data(), b.size(), static_cast<off_t>(offset)) ==
            static_cast<ssize_t>(b.size()));
  };
  for (std::size_t i = 0; i < layout.pieces().size(); ++i) {
    const http::ArchivePiece& p = layout.pieces()[i];
    if (p.kind == http::ArchivePiece::Kind::Bytes) {
      std::string b;
      layout.append_bytes(i, crc, b);
      put(b, p.offset);
    } else if (p.entry < data.size() && data[p.entry]) {
      put(*data[p.entry], p.offset);
    }
  }
  REQUIRE(::ftruncate(fd, static_cast<off_t>(layout.size())) == 0);
  ::close(fd);
}

// Little-endian fields of ZIP records.
inline std::uint64_t le(std::string_view s, std::size_t at, std::size_t n) {
  REQUIRE(at + n <= s.size());
  std::uint64_t v = 0;
  for (std::size_t i = n; i-- > 0;) v = v << 8 | static_cast<unsigned char>(s[at + i]);
  return v;
}

}  // namespace httpfs::test::archive
