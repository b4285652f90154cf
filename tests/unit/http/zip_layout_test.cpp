#include "http/zip_layout.hpp"

#include <doctest/doctest.h>

#include <cstdio>
#include <string>
#include <vector>

#include "http/archive_check.hpp"
#include "support/process.hpp"

using namespace httpfs::http;
using namespace httpfs::test::archive;
using httpfs::test::RunResult;
using httpfs::test::TempDir;

namespace {

constexpr std::uint64_t kGiB = std::uint64_t{1} << 30;
constexpr std::uint16_t kTime = 22 << 11 | 13 << 5 | 20 / 2;  // 22:13:20, of kMtime
constexpr std::uint16_t kDate = 43 << 9 | 11 << 5 | 14;       // 2023-11-14

struct LocalHeader {
  std::uint16_t needed, flags, method, time, date;
  std::uint32_t crc;
  std::uint64_t csize, usize;
  std::string name, extra;
};

struct CentralRecord {
  std::uint16_t made_by, needed, flags, method, time, date;
  std::uint32_t crc;
  std::uint64_t csize, usize;  // the 32-bit slots
  std::uint32_t external;
  std::uint64_t offset;  // the 32-bit slot
  std::string name, extra;
};

// The bytes of one extra field `id` in `extra`, or nullopt.
std::optional<std::string> extra_field(std::string_view extra, std::uint16_t id) {
  std::size_t at = 0;
  while (at + 4 <= extra.size()) {
    const auto len = static_cast<std::size_t>(le(extra, at + 2, 2));
    REQUIRE(at + 4 + len <= extra.size());
    if (le(extra, at, 2) == id) return std::string(extra.substr(at + 4, len));
    at += 4 + len;
  }
  CHECK(at == extra.size());
  return std::nullopt;
}

// The extended timestamp's modification time, checking its form (flags 1, 32 bits).
std::uint64_t ut_mtime(std::string_view extra) {
  const std::optional<std::string> ut = extra_field(extra, 0x5455);
  REQUIRE(ut);
  REQUIRE(ut->size() == 5);
  CHECK((*ut)[0] == '\x01');
  return le(*ut, 1, 4);
}

// The 8-byte values of the ZIP64 extra field (empty without one).
std::vector<std::uint64_t> zip64_fields(std::string_view extra) {
  std::vector<std::uint64_t> r;
  if (const std::optional<std::string> z = extra_field(extra, 0x0001)) {
    REQUIRE(z->size() % 8 == 0);
    for (std::size_t at = 0; at < z->size(); at += 8) r.push_back(le(*z, at, 8));
  }
  return r;
}

LocalHeader parse_local(std::string_view b) {
  REQUIRE(b.size() >= 30);
  REQUIRE(le(b, 0, 4) == 0x04034b50);
  LocalHeader h{};
  h.needed = static_cast<std::uint16_t>(le(b, 4, 2));
  h.flags = static_cast<std::uint16_t>(le(b, 6, 2));
  h.method = static_cast<std::uint16_t>(le(b, 8, 2));
  h.time = static_cast<std::uint16_t>(le(b, 10, 2));
  h.date = static_cast<std::uint16_t>(le(b, 12, 2));
  h.crc = static_cast<std::uint32_t>(le(b, 14, 4));
  h.csize = le(b, 18, 4);
  h.usize = le(b, 22, 4);
  const auto name_len = static_cast<std::size_t>(le(b, 26, 2));
  const auto extra_len = static_cast<std::size_t>(le(b, 28, 2));
  REQUIRE(b.size() == 30 + name_len + extra_len);
  h.name = b.substr(30, name_len);
  h.extra = b.substr(30 + name_len, extra_len);
  return h;
}

struct Trailer {
  bool zip64 = false;
  // From the ZIP64 end record when there is one, else from the classic one.
  std::uint64_t entries = 0, cd_size = 0, cd_offset = 0;
  // The classic end record's fields, as written.
  std::uint64_t end_entries = 0, end_cd_size = 0, end_cd_offset = 0;
  std::uint64_t end64_offset = 0;
  std::vector<CentralRecord> records;
};

// Reads the end records and the central directory from `tail`: the archive's bytes from
// `tail_offset` to its end (the central directory and end records at least).
Trailer parse_trailer(std::string_view tail, std::uint64_t tail_offset) {
  Trailer t;
  REQUIRE(tail.size() >= 22);
  const std::size_t end = tail.size() - 22;  // no archive comment
  REQUIRE(le(tail, end, 4) == 0x06054b50);
  CHECK(le(tail, end + 4, 2) == 0);  // this disk
  CHECK(le(tail, end + 6, 2) == 0);  // the central directory's disk
  CHECK(le(tail, end + 8, 2) == le(tail, end + 10, 2));
  t.end_entries = le(tail, end + 10, 2);
  t.end_cd_size = le(tail, end + 12, 4);
  t.end_cd_offset = le(tail, end + 16, 4);
  CHECK(le(tail, end + 20, 2) == 0);  // comment length
  t.entries = t.end_entries;
  t.cd_size = t.end_cd_size;
  t.cd_offset = t.end_cd_offset;
  if (end >= 20 && le(tail, end - 20, 4) == 0x07064b50) {
    t.zip64 = true;
    const std::size_t loc = end - 20;
    CHECK(le(tail, loc + 4, 4) == 0);
    t.end64_offset = le(tail, loc + 8, 8);
    CHECK(le(tail, loc + 16, 4) == 1);
    REQUIRE(t.end64_offset >= tail_offset);
    const auto e64 = static_cast<std::size_t>(t.end64_offset - tail_offset);
    REQUIRE(e64 + 56 == loc);  // the ZIP64 end record right before its locator
    REQUIRE(le(tail, e64, 4) == 0x06064b50);
    CHECK(le(tail, e64 + 4, 8) == 44);
    CHECK(le(tail, e64 + 12, 2) == 0x032D);
    CHECK(le(tail, e64 + 14, 2) == 45);
    CHECK(le(tail, e64 + 16, 4) == 0);
    CHECK(le(tail, e64 + 20, 4) == 0);
    CHECK(le(tail, e64 + 24, 8) == le(tail, e64 + 32, 8));
    t.entries = le(tail, e64 + 32, 8);
    t.cd_size = le(tail, e64 + 40, 8);
    t.cd_offset = le(tail, e64 + 48, 8);
    CHECK(t.cd_offset + t.cd_size == t.end64_offset);
  } else {
    CHECK(t.cd_offset + t.cd_size == tail_offset + end);
  }
  REQUIRE(t.cd_offset >= tail_offset);
  auto at = static_cast<std::size_t>(t.cd_offset - tail_offset);
  const std::size_t cd_end = at + static_cast<std::size_t>(t.cd_size);
  while (at < cd_end) {
    REQUIRE(le(tail, at, 4) == 0x02014b50);
    CentralRecord r{};
    r.made_by = static_cast<std::uint16_t>(le(tail, at + 4, 2));
    r.needed = static_cast<std::uint16_t>(le(tail, at + 6, 2));
    r.flags = static_cast<std::uint16_t>(le(tail, at + 8, 2));
    r.method = static_cast<std::uint16_t>(le(tail, at + 10, 2));
    r.time = static_cast<std::uint16_t>(le(tail, at + 12, 2));
    r.date = static_cast<std::uint16_t>(le(tail, at + 14, 2));
    r.crc = static_cast<std::uint32_t>(le(tail, at + 16, 4));
    r.csize = le(tail, at + 20, 4);
    r.usize = le(tail, at + 24, 4);
    const auto name_len = static_cast<std::size_t>(le(tail, at + 28, 2));
    const auto extra_len = static_cast<std::size_t>(le(tail, at + 30, 2));
    CHECK(le(tail, at + 32, 2) == 0);  // comment length
    CHECK(le(tail, at + 34, 2) == 0);  // disk number start
    CHECK(le(tail, at + 36, 2) == 0);  // internal attributes
    r.external = static_cast<std::uint32_t>(le(tail, at + 38, 4));
    r.offset = le(tail, at + 42, 4);
    r.name = tail.substr(at + 46, name_len);
    r.extra = tail.substr(at + 46 + name_len, extra_len);
    t.records.push_back(std::move(r));
    at += 46 + name_len + extra_len;
  }
  CHECK(at == cd_end);
  CHECK(t.records.size() == t.entries);
  return t;
}

// The bytes of the central directory and end records, without making any FileData.
std::pair<std::string, std::uint64_t> trailer_bytes(
    const ArchiveLayout& layout, const std::function<std::uint32_t(std::size_t)>& crc) {
  std::size_t first = layout.pieces().size();
  while (first > 0 && layout.pieces()[first - 1].tag != kZipDataDescriptor &&
         layout.pieces()[first - 1].tag != kZipLocalHeader)
    --first;
  std::string out;
  for (std::size_t i = first; i < layout.pieces().size(); ++i) layout.append_bytes(i, crc, out);
  return {out, layout.pieces()[first].offset};
}

std::string piece_bytes(const ArchiveLayout& layout, std::size_t i,
                        const std::function<std::uint32_t(std::size_t)>& crc) {
  std::string out;
  layout.append_bytes(i, crc, out);
  return out;
}

// The index of the first piece of `entry` with `tag`.
std::size_t find_piece(const ArchiveLayout& layout, std::size_t entry, std::uint32_t tag) {
  for (std::size_t i = 0; i < layout.pieces().size(); ++i)
    if (layout.pieces()[i].entry == entry && layout.pieces()[i].tag == tag) return i;
  FAIL("no piece " << tag << " for entry " << entry);
  return 0;
}

std::function<std::uint32_t(std::size_t)> crc_of(const std::vector<Member>& members) {
  return [&members](std::size_t e) { return crc32_update(0, members.at(e).data); };
}

}  // namespace

TEST_CASE("zip layout: crc32_update is zlib's CRC-32 and goes on from where it was") {
  CHECK(crc32_update(0, "") == 0);
  CHECK(crc32_update(0, "123456789") == 0xCBF43926);  // the ISO-HDLC check value
  CHECK(crc32_update(crc32_update(0, "1234"), "56789") == 0xCBF43926);
  CHECK(crc32_update(0xCBF43926, std::string_view()) == 0xCBF43926);
  CHECK(crc32_update(0, std::string(1, '\0')) == 0xD202EF8D);
}

TEST_CASE("zip layout: pieces cover the archive, in the order of the format") {
  const std::vector<Member> members = sample_tree();
  const auto layout = make_zip_layout(entries_of(members));
  REQUIRE(layout);
  check_pieces(*layout, crc_of(members));

  // Per entry: local header, data (none when empty), descriptor (files only); then one
  // central record per entry; then the end records.
  std::vector<std::pair<std::uint32_t, std::size_t>> want;
  for (std::size_t i = 0; i < members.size(); ++i) {
    want.emplace_back(kZipLocalHeader, i);
    if (members[i].entry.dir) continue;
    if (!members[i].data.empty()) want.emplace_back(kZipFileData, i);
    want.emplace_back(kZipDataDescriptor, i);
  }
  for (std::size_t i = 0; i < members.size(); ++i) want.emplace_back(kZipCentralRecord, i);
  want.emplace_back(kZipEnd, ArchivePiece::kNoEntry);
  std::vector<std::pair<std::uint32_t, std::size_t>> got;
  for (const ArchivePiece& p : layout->pieces()) {
    got.emplace_back(p.tag, p.entry);
    CHECK((p.kind == ArchivePiece::Kind::FileData) == (p.tag == kZipFileData));
    if (p.kind == ArchivePiece::Kind::FileData) CHECK(p.length == members[p.entry].data.size());
  }
  CHECK(got == want);

  // A CRC-32 is asked for where one is written, and never for an empty file or a directory.
  for (std::size_t i = 0; i < layout->pieces().size(); ++i) {
    const ArchivePiece& p = layout->pieces()[i];
    const bool crc_field = p.tag == kZipDataDescriptor || p.tag == kZipCentralRecord;
    const bool has_data = p.entry < members.size() && !members[p.entry].data.empty();
    CHECK(layout->needs_crc(i) == (crc_field && has_data));
  }
  CHECK_FALSE(layout->needs_crc(layout->pieces().size()));
  CHECK(make_zip_layout({})->size() == 22);  // the end record alone
}

TEST_CASE("zip layout: a piece's bytes do not depend on the order pieces are made in") {
  const std::vector<Member> members = sample_tree();
  const auto layout = make_zip_layout(entries_of(members));
  REQUIRE(layout);
  check_any_order(*layout, crc_of(members));
}

TEST_CASE("zip layout: headers, descriptors and central records carry the fields set") {
  const std::vector<Member> members = sample_tree();
  const auto layout = make_zip_layout(entries_of(members));
  REQUIRE(layout);
  const std::string zip = assemble(*layout, members);
  REQUIRE(zip.size() == layout->size());
  const Trailer t = parse_trailer(zip, 0);
  CHECK_FALSE(t.zip64);
  REQUIRE(t.records.size() == members.size());
  CHECK(t.end_entries == members.size());
  CHECK(t.cd_offset == layout->pieces()[find_piece(*layout, 0, kZipCentralRecord)].offset);

  for (std::size_t i = 0; i < members.size(); ++i) {
    const ArchiveEntry& e = members[i].entry;
    const CentralRecord& r = t.records[i];
    INFO(e.name);
    const std::uint16_t flags = e.dir ? 0x0800 : 0x0808;  // UTF-8 names; files: descriptor
    const std::uint32_t crc = crc32_update(0, members[i].data);
    CHECK(r.name == e.name);
    CHECK(r.made_by == 0x031E);
    CHECK(r.needed == 20);
    CHECK(r.flags == flags);
    CHECK(r.method == 0);
    CHECK(r.time == kTime);
    CHECK(r.date == kDate);
    CHECK(r.crc == crc);
    CHECK(r.csize == e.size);
    CHECK(r.usize == e.size);
    CHECK(r.external == (e.dir ? ((040000u | e.mode) << 16 | 0x10) : (0100000u | e.mode) << 16));
    CHECK(ut_mtime(r.extra) == kMtime);
    CHECK(zip64_fields(r.extra).empty());
    const std::size_t local = find_piece(*layout, i, kZipLocalHeader);
    REQUIRE(r.offset == layout->pieces()[local].offset);

    // The local header at that offset.
    const LocalHeader h =
        parse_local(std::string_view(zip).substr(r.offset, layout->pieces()[local].length));
    CHECK(h.name == e.name);
    CHECK(h.needed == 20);
    CHECK(h.flags == flags);
    CHECK(h.method == 0);
    CHECK(h.time == kTime);
    CHECK(h.date == kDate);
    CHECK(h.crc == 0);  // in the descriptor (bit 3)
    CHECK(h.csize == 0);
    CHECK(h.usize == 0);
    CHECK(ut_mtime(h.extra) == kMtime);
    CHECK(zip64_fields(h.extra).empty());

    // The data, then the descriptor.
    const std::uint64_t data_at = r.offset + layout->pieces()[local].length;
    CHECK(zip.compare(data_at, e.size, members[i].data) == 0);
    if (e.dir) continue;
    const std::string_view d = std::string_view(zip).substr(data_at + e.size, 16);
    CHECK(le(d, 0, 4) == 0x08074b50);
    CHECK(le(d, 4, 4) == crc);
    CHECK(le(d, 8, 4) == e.size);
    CHECK(le(d, 12, 4) == e.size);
  }
}

TEST_CASE("zip layout: a backslash in a name is stored as '_', never as a separator") {
  // Legal POSIX names that extractors on Windows would split at '\\' and climb out with.
  const std::vector<Member> members = {file("..\\..\\evil.txt", "x"), file("a\\..\\..\\b.txt", "y"),
                                       dir("d\\..\\/")};
  const auto layout = make_zip_layout(entries_of(members));
  REQUIRE(layout);
  const std::string zip = assemble(*layout, members);
  REQUIRE(zip.size() == layout->size());
  const Trailer t = parse_trailer(zip, 0);
  REQUIRE(t.records.size() == 3);
  const std::vector<std::string> want = {".._.._evil.txt", "a_.._.._b.txt", "d_.._/"};
  for (std::size_t i = 0; i < members.size(); ++i) {
    CHECK(t.records[i].name == want[i]);
    const std::size_t local = find_piece(*layout, i, kZipLocalHeader);
    const LocalHeader h = parse_local(
        std::string_view(zip).substr(t.records[i].offset, layout->pieces()[local].length));
    CHECK(h.name == want[i]);
    // The file is still read by its real name.
    CHECK(layout->entries()[i].name == members[i].entry.name);
  }
}

TEST_CASE("zip layout: real tools read a small tree back") {
  const std::vector<Member> members = sample_tree();
  const auto layout = make_zip_layout(entries_of(members));
  REQUIRE(layout);
  TempDir tmp;
  const std::string zip = tmp / "tree.zip";
  httpfs::test::write_file(zip, assemble(*layout, members));
  write_tree(members, tmp / "want");

  // zipfile reads the central directory; testzip() checks every CRC-32.
  const std::string script = R"(
import os, stat, sys, zipfile
z = zipfile.ZipFile(sys.argv[1])
modes = dict(zip(sys.argv[3::2], sys.argv[4::2]))
assert z.testzip() is None
root = sys.argv[2]
want = []
for d, dirs, files in os.walk(root):
    rel = os.path.relpath(d, root)
    want += [os.path.normpath(os.path.join(rel, x)) + '/' for x in dirs]
    want += [os.path.normpath(os.path.join(rel, x)) for x in files]
assert sorted(z.namelist()) == sorted(want), (sorted(z.namelist()), sorted(want))
for i in z.infolist():
    path = os.path.join(root, i.filename)
    assert i.is_dir() == os.path.isdir(path), i.filename
    kind = stat.S_IFDIR if i.is_dir() else stat.S_IFREG
    assert i.external_attr >> 16 == kind | int(modes[i.filename], 8), i.filename
    assert bool(i.external_attr & 0x10) == i.is_dir(), i.filename
    if not i.is_dir():
        assert z.read(i) == open(path, 'rb').read(), i.filename
    assert i.date_time == (2023, 11, 14, 22, 13, 20), i.date_time
print('ok', len(z.namelist()))
)";
  const std::optional<std::string> python = tool("python3");
  REQUIRE(python);
  std::vector<std::string> argv{*python, "-c", script, zip, tmp / "want"};
  for (const Member& m : members) {
    char mode[8];
    std::snprintf(mode, sizeof mode, "%o", m.entry.mode);
    argv.push_back(m.entry.name);
    argv.emplace_back(mode);
  }
  RunResult r = run_tool(argv);
  CHECK_MESSAGE(r.status == 0, r.out << r.err);
  CHECK(r.out == "ok " + std::to_string(members.size()) + "\n");

  if (const auto unzip = tool("unzip")) {
    r = run_tool({*unzip, "-t", zip});
    CHECK_MESSAGE(r.status == 0, r.out << r.err);
    CHECK(r.out.find("No errors detected in compressed data of " + zip) != std::string::npos);
    r = run_tool({*unzip, "-l", zip});
    CHECK_MESSAGE(r.status == 0, r.out << r.err);
    for (const Member& m : members)
      CHECK_MESSAGE(r.out.find(m.entry.name) != std::string::npos, m.entry.name);
    CHECK(r.out.find(std::to_string(members.size()) + " files") != std::string::npos);
    r = run_tool({*unzip, "-q", zip, "-d", tmp / "unzip"});
    CHECK_MESSAGE(r.status == 0, r.out << r.err);
    check_tree(members, tmp / "unzip", "unzip");
  }
  if (const auto bsdtar = tool("bsdtar")) {
    r = run_tool({*bsdtar, "-tf", zip});
    CHECK_MESSAGE(r.status == 0, r.out << r.err);
    std::string names;
    for (const Member& m : members) names += m.entry.name + "\n";
    CHECK(r.out == names);
    std::filesystem::create_directories(tmp / "bsdtar");
    r = run_tool({*bsdtar, "-xf", zip, "-C", tmp / "bsdtar"});
    CHECK_MESSAGE(r.status == 0, r.out << r.err);
    check_tree(members, tmp / "bsdtar", "bsdtar");
  }
  if (const auto sevenzip = tool("7z")) {
    r = run_tool({*sevenzip, "t", zip});
    CHECK_MESSAGE(r.status == 0, r.out << r.err);
    CHECK(r.out.find("Everything is Ok") != std::string::npos);
  }
}

TEST_CASE("zip layout: times are clamped to what the DOS fields and the timestamp hold") {
  struct Case {
    std::int64_t mtime;
    std::uint16_t time, date;
    std::uint32_t ut;
  };
  const Case cases[] = {
      {-1, 0, 0 << 9 | 1 << 5 | 1, 0},                     // before 1980: 1980-01-01 00:00
      {315532800 + 1, 0, 0 << 9 | 1 << 5 | 1, 315532801},  // odd seconds round down
      {1709210096, 12 << 11 | 34 << 5 | 28, 44 << 9 | 2 << 5 | 29, 1709210096},    // 2024-02-29
      {4354819199, 23 << 11 | 59 << 5 | 29, 127 << 9 | 12 << 5 | 31, 4294967295},  // 2107
      {100000000000, 23 << 11 | 59 << 5 | 29, 127 << 9 | 12 << 5 | 31, 4294967295},
  };
  for (const Case& c : cases) {
    INFO(c.mtime);
    const auto layout = make_zip_layout({{"f", false, 1, c.mtime, 0644}});
    REQUIRE(layout);
    const auto crc = [](std::size_t) { return 0u; };
    const LocalHeader h = parse_local(piece_bytes(*layout, 0, crc));
    CHECK(h.time == c.time);
    CHECK(h.date == c.date);
    CHECK(ut_mtime(h.extra) == c.ut);
    const auto [tail, at] = trailer_bytes(*layout, crc);
    const Trailer t = parse_trailer(tail, at);
    REQUIRE(t.records.size() == 1);
    CHECK(t.records[0].time == c.time);
    CHECK(t.records[0].date == c.date);
    CHECK(ut_mtime(t.records[0].extra) == c.ut);
  }
}

TEST_CASE("zip layout: a 5 GiB file and every entry after it are ZIP64") {
  const std::uint64_t big = 5 * kGiB;
  const std::vector<ArchiveEntry> entries{
      {"small.txt", false, 10, kMtime, 0644},
      {"big.bin", false, big, kMtime, 0644},
      {"after.txt", false, 3, kMtime, 0600},  // its local header starts past 4 GiB
      {"later/", true, 0, kMtime, 0755},
  };
  const std::vector<std::optional<std::string>> data{"0123456789", std::nullopt, "xyz", ""};
  const auto crc = [&](std::size_t e) -> std::uint32_t {
    return e == 1 ? 0xDEADBEEF : crc32_update(0, *data.at(e));  // big.bin's is never checked
  };
  const auto layout = make_zip_layout(entries);
  REQUIRE(layout);
  check_pieces(*layout, crc);
  check_any_order(*layout, crc);

  const auto local_at = [&](std::size_t e) {
    return layout->pieces()[find_piece(*layout, e, kZipLocalHeader)].offset;
  };
  CHECK(local_at(2) > 0xFFFFFFFFu);
  CHECK(local_at(2) == local_at(1) + 30 + 7 + 29 + big + 24);

  // small.txt: a plain entry.
  LocalHeader h = parse_local(piece_bytes(*layout, find_piece(*layout, 0, kZipLocalHeader), crc));
  CHECK(h.needed == 20);
  CHECK(zip64_fields(h.extra).empty());
  CHECK(layout->pieces()[find_piece(*layout, 0, kZipDataDescriptor)].length == 16);

  // big.bin and after.txt: 4.5, sizes 0xFFFFFFFF in the header and 0 in its ZIP64 extra, the
  // real ones in 8-byte descriptor fields.
  for (std::size_t e : {1, 2}) {
    INFO(entries[e].name);
    h = parse_local(piece_bytes(*layout, find_piece(*layout, e, kZipLocalHeader), crc));
    CHECK(h.needed == 45);
    CHECK(h.flags == 0x0808);
    CHECK(h.csize == 0xFFFFFFFF);
    CHECK(h.usize == 0xFFFFFFFF);
    CHECK(zip64_fields(h.extra) == std::vector<std::uint64_t>{0, 0});
    CHECK(ut_mtime(h.extra) == kMtime);
    const std::string d = piece_bytes(*layout, find_piece(*layout, e, kZipDataDescriptor), crc);
    REQUIRE(d.size() == 24);
    CHECK(le(d, 0, 4) == 0x08074b50);
    CHECK(le(d, 4, 4) == crc(e));
    CHECK(le(d, 8, 8) == entries[e].size);
    CHECK(le(d, 16, 8) == entries[e].size);
  }
  // later/: a directory past 4 GiB: 4.5, but its local header's sizes are real (0).
  h = parse_local(piece_bytes(*layout, find_piece(*layout, 3, kZipLocalHeader), crc));
  CHECK(h.needed == 45);
  CHECK(h.flags == 0x0800);
  CHECK(h.csize == 0);
  CHECK(zip64_fields(h.extra).empty());

  // Central records: the ZIP64 extra holds only the fields whose slot is 0xFFFFFFFF.
  const auto [tail, tail_at] = trailer_bytes(*layout, crc);
  const Trailer t = parse_trailer(tail, tail_at);
  REQUIRE(t.records.size() == 4);
  CHECK(t.records[0].needed == 20);
  CHECK(t.records[0].offset == 0);
  CHECK(t.records[0].usize == 10);
  CHECK(zip64_fields(t.records[0].extra).empty());
  CHECK(t.records[1].needed == 45);
  CHECK(t.records[1].crc == 0xDEADBEEF);
  CHECK(t.records[1].csize == 0xFFFFFFFF);
  CHECK(t.records[1].usize == 0xFFFFFFFF);
  CHECK(t.records[1].offset == local_at(1));
  CHECK(zip64_fields(t.records[1].extra) == std::vector<std::uint64_t>{big, big});
  CHECK(t.records[2].needed == 45);
  CHECK(t.records[2].crc == crc(2));
  CHECK(t.records[2].csize == 3);
  CHECK(t.records[2].usize == 3);
  CHECK(t.records[2].offset == 0xFFFFFFFF);
  CHECK(zip64_fields(t.records[2].extra) == std::vector<std::uint64_t>{local_at(2)});
  CHECK(t.records[3].needed == 45);
  CHECK(t.records[3].offset == 0xFFFFFFFF);
  CHECK(zip64_fields(t.records[3].extra) == std::vector<std::uint64_t>{local_at(3)});
  for (const CentralRecord& r : t.records) CHECK(ut_mtime(r.extra) == kMtime);

  // End records: the ZIP64 ones, and the classic one with 0xFFFFFFFF where it overflows.
  CHECK(t.zip64);
  CHECK(t.entries == 4);
  CHECK(t.end_entries == 4);
  CHECK(t.cd_offset == tail_at);
  CHECK(t.cd_offset > 0xFFFFFFFFu);
  CHECK(t.end_cd_offset == 0xFFFFFFFF);
  CHECK(t.end_cd_size == t.cd_size);
  CHECK(t.end64_offset == layout->pieces().back().offset);
  CHECK(layout->pieces().back().length == 56 + 20 + 22);
  CHECK(t.end64_offset + 98 == layout->size());

  // Real readers of a sparse copy: they list it from the central directory, and read the
  // members whose bytes are there.
  TempDir tmp;
  const std::string zip = tmp / "big.zip";
  write_sparse(*layout, crc, data, zip);
  const std::string script = R"(
import sys, zipfile
z = zipfile.ZipFile(sys.argv[1])
for i in z.infolist():
    print(i.filename, i.file_size, i.compress_size, i.header_offset)
assert z.read('small.txt') == b'0123456789'
assert z.read('after.txt') == b'xyz'
)";
  RunResult r = run_tool({*tool("python3"), "-c", script, zip});
  CHECK_MESSAGE(r.status == 0, r.out << r.err);
  CHECK(r.out == "small.txt 10 10 0\nbig.bin " + std::to_string(big) + " " + std::to_string(big) +
                     " " + std::to_string(local_at(1)) + "\nafter.txt 3 3 " +
                     std::to_string(local_at(2)) + "\nlater/ 0 0 " + std::to_string(local_at(3)) +
                     "\n");
  if (const auto unzip = tool("unzip")) {
    r = run_tool({*unzip, "-l", zip});
    CHECK_MESSAGE(r.status == 0, r.out << r.err);
    CHECK_MESSAGE(r.out.find(std::to_string(big) + "  ") != std::string::npos, r.out);
    CHECK(r.out.find(" big.bin\n") != std::string::npos);
    r = run_tool({*unzip, "-p", zip, "after.txt"});
    CHECK_MESSAGE(r.status == 0, r.out << r.err);
    CHECK(r.out == "xyz");
  }
  if (const auto bsdtar = tool("bsdtar")) {
    r = run_tool({*bsdtar, "-tf", zip});
    CHECK_MESSAGE(r.status == 0, r.out << r.err);
    CHECK(r.out == "small.txt\nbig.bin\nafter.txt\nlater/\n");
  }
  if (const auto sevenzip = tool("7z")) {
    r = run_tool({*sevenzip, "l", zip});
    CHECK_MESSAGE(r.status == 0, r.out << r.err);
    CHECK(r.out.find(std::to_string(big)) != std::string::npos);
  }
}

TEST_CASE("zip layout: a file is ZIP64 from a size of 0xFFFFFFFF") {
  const auto crc = [](std::size_t) { return 0u; };
  for (const std::uint64_t size : {std::uint64_t{0xFFFFFFFE}, std::uint64_t{0xFFFFFFFF}}) {
    INFO(size);
    const bool zip64 = size == 0xFFFFFFFF;
    const auto layout = make_zip_layout({{"f", false, size, kMtime, 0644}});
    REQUIRE(layout);
    CHECK(layout->pieces()[0].length == 30 + 1 + 9 + (zip64 ? 20 : 0));
    CHECK(layout->pieces()[2].length == (zip64 ? 24u : 16u));
    const LocalHeader h = parse_local(piece_bytes(*layout, 0, crc));
    CHECK(h.needed == (zip64 ? 45 : 20));
    const auto [tail, at] = trailer_bytes(*layout, crc);
    const Trailer t = parse_trailer(tail, at);
    REQUIRE(t.records.size() == 1);
    CHECK(t.records[0].needed == (zip64 ? 45 : 20));
    CHECK(t.records[0].usize == (zip64 ? 0xFFFFFFFF : size));
    CHECK(zip64_fields(t.records[0].extra) ==
          (zip64 ? std::vector<std::uint64_t>{size, size} : std::vector<std::uint64_t>{}));
    // Either way the central directory starts past 0xFFFFFFFF: the end records say so.
    CHECK(t.zip64);
    CHECK(t.cd_offset == at);
    CHECK(t.end_cd_offset == 0xFFFFFFFF);
    CHECK(t.end_cd_size == t.cd_size);
  }
  // Just under: no ZIP64 at all.
  const std::uint64_t size = 0xFFFFFFFFu - 30 - 1 - 9 - 16 - 1;
  const auto layout = make_zip_layout({{"f", false, size, kMtime, 0644}});
  REQUIRE(layout);
  const auto [tail, at] = trailer_bytes(*layout, crc);
  CHECK(at == 0xFFFFFFFEu);
  const Trailer t = parse_trailer(tail, at);
  CHECK_FALSE(t.zip64);
  CHECK(t.end_cd_offset == 0xFFFFFFFEu);
  CHECK(layout->pieces().back().length == 22);
}

TEST_CASE("zip layout: from 65 535 entries the count is in the ZIP64 end record") {
  const auto crc = [](std::size_t) { return 0u; };
  for (const std::size_t n : {std::size_t{65534}, std::size_t{65535}}) {
    INFO(n);
    std::vector<ArchiveEntry> entries;
    for (std::size_t i = 0; i < n; ++i)
      entries.push_back({"e" + std::to_string(i), false, 0, kMtime});
    const auto layout = make_zip_layout(std::move(entries));
    REQUIRE(layout);
    const auto [tail, at] = trailer_bytes(*layout, crc);
    const Trailer t = parse_trailer(tail, at);
    CHECK(t.zip64 == (n == 65535));
    CHECK(t.entries == n);
    CHECK(t.end_entries == n);  // 65 535 is also 0xFFFF: "see the ZIP64 record"
  }
}

TEST_CASE("zip layout: 70 000 entries make a valid archive with ZIP64 end records") {
  std::vector<Member> members{dir("many/")};
  for (int i = 0; i < 70000; ++i) {
    char name[32];
    std::snprintf(name, sizeof name, "many/f%05d", i);
    members.push_back(file(name, i % 1000 == 0 ? std::to_string(i) : std::string()));
  }
  const auto layout = make_zip_layout(entries_of(members));
  REQUIRE(layout);
  check_pieces(*layout, crc_of(members));
  const std::string zip_bytes = assemble(*layout, members);
  REQUIRE(zip_bytes.size() == layout->size());
  const Trailer t = parse_trailer(zip_bytes, 0);
  CHECK(t.zip64);
  CHECK(t.entries == 70001);
  CHECK(t.end_entries == 0xFFFF);
  CHECK(t.end_cd_offset == t.cd_offset);  // both fit 32 bits
  CHECK(t.end_cd_size == t.cd_size);
  for (std::size_t i = 0; i < members.size(); ++i) {
    CHECK(t.records[i].name == members[i].entry.name);
    CHECK(t.records[i].needed == 20);
    CHECK(zip64_fields(t.records[i].extra).empty());
  }

  TempDir tmp;
  const std::string zip = tmp / "many.zip";
  httpfs::test::write_file(zip, zip_bytes);
  const std::string script = R"(
import sys, zipfile
z = zipfile.ZipFile(sys.argv[1])
names = z.namelist()
assert len(names) == 70001, len(names)
assert names[0] == 'many/' and names[-1] == 'many/f69999', (names[0], names[-1])
assert z.read('many/f42000') == b'42000'
assert z.testzip() is None
print('ok')
)";
  RunResult r = run_tool({*tool("python3"), "-c", script, zip});
  CHECK_MESSAGE(r.status == 0, r.out << r.err);
  CHECK(r.out == "ok\n");
  if (const auto unzip = tool("unzip")) {
    r = run_tool({*unzip, "-tq", zip});
    CHECK_MESSAGE(r.status == 0, r.out << r.err);
  }
}

TEST_CASE("zip layout: names it cannot store, and directories without their '/'") {
  CHECK_FALSE(make_zip_layout({{"", false, 0}}));
  CHECK_FALSE(make_zip_layout({{"/abs", false, 0}}));
  CHECK_FALSE(make_zip_layout({{std::string("a\0b", 3), false, 0}}));
  CHECK_FALSE(make_zip_layout({{"file/", false, 0}}));
  CHECK_FALSE(make_zip_layout({{std::string(65536, 'a'), false, 0}}));
  CHECK(make_zip_layout({{std::string(65535, 'a'), false, 0}}));

  const auto layout = make_zip_layout({{"d", true, 99, kMtime, 040755}});
  REQUIRE(layout);
  CHECK(layout->entries()[0].name == "d/");
  CHECK(layout->entries()[0].size == 0);
  CHECK(layout->entries()[0].mode == 0755);
  CHECK(layout->pieces().size() == 3);  // local header, central record, end
}
