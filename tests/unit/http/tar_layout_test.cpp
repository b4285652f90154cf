#include "http/tar_layout.hpp"

#include <doctest/doctest.h>
#include <sys/stat.h>

#include <cstdio>
#include <map>
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
constexpr std::uint64_t kOctal11 = std::uint64_t{1} << 33;  // 8^11

// A NUL-terminated (or full) text field.
std::string text(std::string_view b, std::size_t at, std::size_t width) {
  const std::string_view f = b.substr(at, width);
  return std::string(f.substr(0, f.find('\0')));
}

// A numeric field: octal digits (NUL or space ended), or GNU base-256.
std::int64_t number(std::string_view b, std::size_t at, std::size_t width) {
  const auto first = static_cast<unsigned char>(b[at]);
  if (first == 0x80 || first == 0xFF) {
    std::uint64_t v = first == 0xFF ? ~std::uint64_t{0} : 0;
    for (std::size_t i = 1; i < width; ++i) v = v << 8 | static_cast<unsigned char>(b[at + i]);
    return static_cast<std::int64_t>(v);
  }
  std::int64_t v = 0;
  std::size_t i = 0;
  for (; i < width && b[at + i] >= '0' && b[at + i] <= '7'; ++i) v = v * 8 + (b[at + i] - '0');
  CHECK(i == width - 1);  // every digit there, then the terminator
  CHECK((b[at + i] == '\0' || b[at + i] == ' '));
  return v;
}

struct Header {
  std::string name, prefix;
  std::int64_t mode, uid, gid, size, mtime;
  char type;
};

// One ustar header block, checking what ustar fixes: checksum, magic, version, empty owner
// names, zero uid, gid and device numbers.
Header parse_header(std::string_view b) {
  REQUIRE(b.size() >= 512);
  b = b.substr(0, 512);
  std::uint32_t sum = 0;
  for (std::size_t i = 0; i < 512; ++i)
    sum += i >= 148 && i < 156 ? ' ' : static_cast<unsigned char>(b[i]);
  CHECK(number(b, 148, 7) == sum);  // six digits and a NUL,
  CHECK(b[155] == ' ');             // then a space
  CHECK(b.substr(257, 6) == std::string_view("ustar\0", 6));
  CHECK(b.substr(263, 2) == "00");
  CHECK(text(b, 157, 100).empty());                             // linkname
  CHECK(text(b, 265, 32).empty());                              // uname
  CHECK(text(b, 297, 32).empty());                              // gname
  CHECK(b.substr(329, 8) == std::string_view("0000000\0", 8));  // devmajor
  CHECK(b.substr(337, 8) == std::string_view("0000000\0", 8));  // devminor
  Header h{};
  h.name = text(b, 0, 100);
  h.mode = number(b, 100, 8);
  h.uid = number(b, 108, 8);
  h.gid = number(b, 116, 8);
  h.size = number(b, 124, 12);
  h.mtime = number(b, 136, 12);
  h.type = b[156];
  h.prefix = text(b, 345, 155);
  CHECK(h.uid == 0);
  CHECK(h.gid == 0);
  return h;
}

// The records of a pax extended header's data, checking each length prefix.
std::map<std::string, std::string> parse_records(std::string_view d) {
  std::map<std::string, std::string> r;
  while (!d.empty()) {
    const std::size_t space = d.find(' ');
    REQUIRE(space != std::string_view::npos);
    const std::size_t length = std::stoul(std::string(d.substr(0, space)));
    REQUIRE(length <= d.size());
    const std::string_view rec = d.substr(space + 1, length - space - 1);
    REQUIRE(rec.back() == '\n');
    const std::size_t eq = rec.find('=');
    REQUIRE(eq != std::string_view::npos);
    r[std::string(rec.substr(0, eq))] = std::string(rec.substr(eq + 1, rec.size() - eq - 2));
    d.remove_prefix(length);
  }
  return r;
}

// A header piece: the pax records (empty without them) and the ustar header.
struct Headers {
  std::optional<Header> pax;
  std::map<std::string, std::string> records;
  Header ustar;
};

Headers parse_headers(std::string_view b) {
  Headers h;
  REQUIRE(b.size() % 512 == 0);
  if (b.size() > 512) {
    h.pax = parse_header(b);
    CHECK(h.pax->type == 'x');
    CHECK(h.pax->name.rfind("PaxHeaders/", 0) == 0);
    CHECK(h.pax->prefix.empty());
    const auto n = static_cast<std::size_t>(h.pax->size);
    REQUIRE(b.size() == 512 + (n + 511) / 512 * 512 + 512);
    h.records = parse_records(b.substr(512, n));
    CHECK(b.substr(512 + n, b.size() - 1024 - n).find_first_not_of('\0') == std::string::npos);
    b.remove_prefix(b.size() - 512);
  }
  h.ustar = parse_header(b);
  return h;
}

const std::function<std::uint32_t(std::size_t)> kNoCrc = [](std::size_t) -> std::uint32_t {
  FAIL("tar asked for a CRC");
  return 0;
};

std::string piece_bytes(const ArchiveLayout& layout, std::size_t i) {
  std::string out;
  layout.append_bytes(i, kNoCrc, out);
  return out;
}

std::size_t header_piece(const ArchiveLayout& layout, std::size_t entry) {
  for (std::size_t i = 0; i < layout.pieces().size(); ++i)
    if (layout.pieces()[i].entry == entry && layout.pieces()[i].tag == kTarHeader) return i;
  FAIL("no header for entry " << entry);
  return 0;
}

}  // namespace

TEST_CASE("tar layout: pieces cover the archive, in the order of the format") {
  const std::vector<Member> members = sample_tree();
  const auto layout = make_tar_layout(entries_of(members));
  REQUIRE(layout);
  check_pieces(*layout, kNoCrc);
  std::vector<std::pair<std::uint32_t, std::size_t>> want, got;
  for (std::size_t i = 0; i < members.size(); ++i) {
    want.emplace_back(kTarHeader, i);
    if (!members[i].data.empty()) want.emplace_back(kTarFileData, i);
    if (members[i].data.size() % 512 != 0) want.emplace_back(kTarPadding, i);
  }
  want.emplace_back(kTarEnd, ArchivePiece::kNoEntry);
  for (std::size_t i = 0; i < layout->pieces().size(); ++i) {
    const ArchivePiece& p = layout->pieces()[i];
    got.emplace_back(p.tag, p.entry);
    CHECK_FALSE(layout->needs_crc(i));
    CHECK((p.kind == ArchivePiece::Kind::FileData) == (p.tag == kTarFileData));
    if (p.tag == kTarFileData) CHECK(p.length == members[p.entry].data.size());
    if (p.tag == kTarPadding) CHECK((p.offset + p.length) % 512 == 0);
    if (p.tag == kTarHeader || p.tag == kTarEnd) CHECK(p.offset % 512 == 0);
  }
  CHECK(got == want);
  CHECK(layout->pieces().back().length == 1024);
  CHECK(make_tar_layout({})->size() == 1024);
}

TEST_CASE("tar layout: a piece's bytes do not depend on the order pieces are made in") {
  const std::vector<Member> members = sample_tree();
  const auto layout = make_tar_layout(entries_of(members));
  REQUIRE(layout);
  check_any_order(*layout, kNoCrc);
}

TEST_CASE("tar layout: ustar headers, and pax records where ustar cannot say it") {
  const std::vector<Member> members = sample_tree();
  const auto layout = make_tar_layout(entries_of(members));
  REQUIRE(layout);
  const std::string tar = assemble(*layout, members);
  REQUIRE(tar.size() == layout->size());
  CHECK(tar.size() % 512 == 0);
  CHECK(tar.substr(tar.size() - 1024) == std::string(1024, '\0'));

  for (std::size_t i = 0; i < members.size(); ++i) {
    const ArchiveEntry& e = members[i].entry;
    INFO(e.name);
    const ArchivePiece& p = layout->pieces()[header_piece(*layout, i)];
    const Headers h = parse_headers(std::string_view(tar).substr(p.offset, p.length));
    CHECK(h.ustar.type == (e.dir ? '5' : '0'));
    CHECK(h.ustar.mode == e.mode);
    CHECK(h.ustar.size == static_cast<std::int64_t>(e.size));
    CHECK(h.ustar.mtime == kMtime);
    const std::string ustar_name =
        h.ustar.prefix.empty() ? h.ustar.name : h.ustar.prefix + "/" + h.ustar.name;
    if (e.name == unsplittable_long_name()) {
      CHECK(h.records == std::map<std::string, std::string>{{"path", e.name}});
      CHECK(h.pax->name == "PaxHeaders/" + std::string(89, 'n'));
      CHECK(ustar_name == e.name.substr(0, 100));  // for readers without pax
    } else if (e.name.find("café") == 0) {
      CHECK(h.records == std::map<std::string, std::string>{{"path", e.name}});
      CHECK(h.pax->name == (e.dir ? "PaxHeaders/caf__" : "PaxHeaders/na__ve ___.txt"));
      CHECK(ustar_name == (e.dir ? "caf__/" : "caf__/na__ve ___.txt"));
    } else {
      CHECK_FALSE(h.pax);
      CHECK(ustar_name == e.name);
      if (e.name == splittable_long_name()) {
        CHECK(h.ustar.prefix == std::string(60, 'p') + "/" + std::string(50, 'q'));
        CHECK(h.ustar.name == std::string(34, 'r') + ".txt");
      }
    }
    if (h.pax) CHECK(h.pax->mtime == kMtime);
    const std::uint64_t data_at = p.offset + p.length;
    CHECK(tar.compare(data_at, e.size, members[i].data) == 0);
    const std::uint64_t padded = (e.size + 511) / 512 * 512;
    CHECK(tar.substr(data_at + e.size, padded - e.size) == std::string(padded - e.size, '\0'));
  }
}

TEST_CASE("tar layout: real tools read a small tree back") {
  const std::vector<Member> members = sample_tree();
  const auto layout = make_tar_layout(entries_of(members));
  REQUIRE(layout);
  TempDir tmp;
  const std::string tar = tmp / "tree.tar";
  httpfs::test::write_file(tar, assemble(*layout, members));

  std::string names;    // as tar -t prints them
  std::string listing;  // as the script below prints them
  for (const Member& m : members) {
    names += m.entry.name + "\n";
    char line[64];
    std::snprintf(line, sizeof line, " %c %o %zu %lld\n", m.entry.dir ? '5' : '0', m.entry.mode,
                  m.data.size(), static_cast<long long>(m.entry.mtime));
    listing +=
        (m.entry.dir ? m.entry.name.substr(0, m.entry.name.size() - 1) : m.entry.name) + line;
  }

  // tarfile: each member as a reader sees it, then extracted.
  const std::string script = R"(
import sys, tarfile
with tarfile.open(sys.argv[1]) as t:
    for m in t.getmembers():
        assert m.uid == 0 and m.gid == 0 and m.uname == '' and m.gname == '', m.name
        print(m.name, m.type.decode(), oct(m.mode)[2:], m.size, int(m.mtime))
    if hasattr(tarfile, 'fully_trusted_filter'):
        t.extractall(sys.argv[2], filter='fully_trusted')
    else:
        t.extractall(sys.argv[2])
)";
  const std::optional<std::string> python = tool("python3");
  REQUIRE(python);
  RunResult r = run_tool({*python, "-c", script, tar, tmp / "python"});
  CHECK_MESSAGE(r.status == 0, r.out << r.err);
  CHECK(r.out == listing);
  check_tree(members, tmp / "python", "python tarfile");
  for (const Member& m : members) {
    if (m.entry.dir) continue;
    struct stat st {};
    REQUIRE(::stat((tmp / "python/" + m.entry.name).c_str(), &st) == 0);
    CHECK((st.st_mode & 07777) == m.entry.mode);
    CHECK(st.st_mtime == m.entry.mtime);
  }

  if (const auto gnu_tar = tool("tar")) {
    r = run_tool({*gnu_tar, "--quoting-style=literal", "-tf", tar});
    CHECK_MESSAGE(r.status == 0, r.out << r.err);
    CHECK(r.out == names);
    std::filesystem::create_directories(tmp / "gnu");
    r = run_tool({*gnu_tar, "-xf", tar, "-C", tmp / "gnu"});
    CHECK_MESSAGE(r.status == 0, r.out << r.err);
    check_tree(members, tmp / "gnu", "tar");
  }
  if (const auto bsdtar = tool("bsdtar")) {
    r = run_tool({*bsdtar, "-tf", tar});
    CHECK_MESSAGE(r.status == 0, r.out << r.err);
    CHECK(r.out == names);
    std::filesystem::create_directories(tmp / "bsdtar");
    r = run_tool({*bsdtar, "-xf", tar, "-C", tmp / "bsdtar"});
    CHECK_MESSAGE(r.status == 0, r.out << r.err);
    check_tree(members, tmp / "bsdtar", "bsdtar");
  }
  if (const auto sevenzip = tool("7z")) {
    r = run_tool({*sevenzip, "t", tar});
    CHECK_MESSAGE(r.status == 0, r.out << r.err);
    CHECK(r.out.find("Everything is Ok") != std::string::npos);
  }
}

TEST_CASE("tar layout: a 10 GiB file has a pax size record") {
  const std::uint64_t big = 10 * kGiB;
  const std::vector<ArchiveEntry> entries{
      {"big.bin", false, big, kMtime, 0644},
      {"after.txt", false, 3, kMtime, 0644},
  };
  const auto layout = make_tar_layout(entries);
  REQUIRE(layout);
  check_pieces(*layout, kNoCrc);
  check_any_order(*layout, kNoCrc);

  const Headers h = parse_headers(piece_bytes(*layout, 0));
  CHECK(h.records == std::map<std::string, std::string>{{"size", "10737418240"}});
  CHECK(h.pax->name == "PaxHeaders/big.bin");
  // The ustar field too big for octal: base-256, the true size for readers without pax.
  CHECK(piece_bytes(*layout, 0).substr(1024 + 124, 12) ==
        std::string("\x80\0\0\0\0\0\0\x02\x80\0\0\0", 12));
  CHECK(h.ustar.size == static_cast<std::int64_t>(big));
  CHECK(h.ustar.name == "big.bin");
  CHECK(layout->pieces()[1].kind == ArchivePiece::Kind::FileData);
  CHECK(layout->pieces()[1].length == big);
  CHECK(layout->pieces()[2].tag == kTarHeader);  // 10 GiB is whole blocks: no padding
  CHECK(layout->size() == 1536 + big + 512 + 512 + 1024);

  // Real readers of a sparse copy skip the hole by the size they read.
  TempDir tmp;
  const std::string tar = tmp / "big.tar";
  write_sparse(*layout, kNoCrc, {std::nullopt, "xyz"}, tar);
  const std::string script = R"(
import sys, tarfile
with tarfile.open(sys.argv[1]) as t:
    for m in t.getmembers():
        print(m.name, m.size, m.offset_data)
    assert t.extractfile('after.txt').read() == b'xyz'
)";
  RunResult r = run_tool({*tool("python3"), "-c", script, tar});
  CHECK_MESSAGE(r.status == 0, r.out << r.err);
  CHECK(r.out == "big.bin " + std::to_string(big) + " 1536\nafter.txt 3 " +
                     std::to_string(1536 + big + 512) + "\n");
  if (const auto gnu_tar = tool("tar")) {
    r = run_tool({*gnu_tar, "-tvf", tar});
    CHECK_MESSAGE(r.status == 0, r.out << r.err);
    CHECK(r.out.find(" " + std::to_string(big) + " ") != std::string::npos);
    CHECK(r.out.find(" big.bin\n") != std::string::npos);
    r = run_tool({*gnu_tar, "-xOf", tar, "after.txt"});
    CHECK_MESSAGE(r.status == 0, r.out << r.err);
    CHECK(r.out == "xyz");
  }
  if (const auto bsdtar = tool("bsdtar")) {
    r = run_tool({*bsdtar, "-tvf", tar});
    CHECK_MESSAGE(r.status == 0, r.out << r.err);
    CHECK(r.out.find(std::to_string(big)) != std::string::npos);
    CHECK(r.out.find("after.txt") != std::string::npos);
  }
}

TEST_CASE("tar layout: the octal fields' limits") {
  struct Case {
    std::uint64_t size;
    std::int64_t mtime;
    std::map<std::string, std::string> records;
  };
  const Case cases[] = {
      {kOctal11 - 1, kMtime, {}},
      {kOctal11, kMtime, {{"size", std::to_string(kOctal11)}}},
      {0, static_cast<std::int64_t>(kOctal11) - 1, {}},
      {0, static_cast<std::int64_t>(kOctal11), {{"mtime", std::to_string(kOctal11)}}},
      {0, 0, {}},
      {0, -1, {{"mtime", "-1"}}},
      {kOctal11, -100, {{"mtime", "-100"}, {"size", std::to_string(kOctal11)}}},
  };
  for (const Case& c : cases) {
    INFO(c.size << " " << c.mtime);
    const auto layout = make_tar_layout({{"f", false, c.size, c.mtime, 0644}});
    REQUIRE(layout);
    check_pieces(*layout, kNoCrc);
    const Headers h = parse_headers(piece_bytes(*layout, 0));
    CHECK(h.records == c.records);
    CHECK(h.ustar.size == static_cast<std::int64_t>(c.size));
    CHECK(h.ustar.mtime == c.mtime);
    if (h.pax)
      CHECK(h.pax->mtime ==
            std::clamp<std::int64_t>(c.mtime, 0, static_cast<std::int64_t>(kOctal11) - 1));
  }
}

TEST_CASE("tar layout: a record's length counts its own digits") {
  // "path=" + n bytes + 3 (' ', '=', '\n') + the length's digits: 999 bytes at n = 989, and
  // 1001 (not 1000) at n = 990.
  for (std::size_t n = 80; n < 1100; ++n) {
    const std::string name = std::string(n, 'x');
    const auto layout = make_tar_layout({{name, false, 0, kMtime, 0644}});
    REQUIRE(layout);
    const Headers h = parse_headers(piece_bytes(*layout, 0));
    if (n <= 100) {
      CHECK_FALSE(h.pax);
    } else {
      CHECK(h.records.at("path") == name);  // parse_records checks each length
    }
  }
}

TEST_CASE("tar layout: a name that is not UTF-8 is marked binary") {
  const std::string name = "bad\xff\xfename";
  const auto layout = make_tar_layout({{name, false, 0, kMtime, 0644}});
  REQUIRE(layout);
  const Headers h = parse_headers(piece_bytes(*layout, 0));
  CHECK(h.records == std::map<std::string, std::string>{{"hdrcharset", "BINARY"}, {"path", name}});
  CHECK(h.ustar.name == "bad__name");
  // Well-formed UTF-8 has no hdrcharset: a 4-byte character, the last code point.
  const auto ok = make_tar_layout({{"\xf0\x9f\x98\x80\xf4\x8f\xbf\xbf", false, 0, kMtime}});
  REQUIRE(ok);
  CHECK(parse_headers(piece_bytes(*ok, 0)).records.count("hdrcharset") == 0);
  // Overlong, surrogate, past U+10FFFF, cut short: binary.
  for (const char* bad : {"\xc0\xaf", "\xed\xa0\x80", "\xf4\x90\x80\x80", "ab\xe2\x9c"}) {
    const auto l = make_tar_layout({{bad, false, 0, kMtime}});
    REQUIRE(l);
    CHECK(parse_headers(piece_bytes(*l, 0)).records.count("hdrcharset") == 1);
  }
}

TEST_CASE("tar layout: names it cannot store, and directories without their '/'") {
  CHECK_FALSE(make_tar_layout({{"", false, 0}}));
  CHECK_FALSE(make_tar_layout({{"/abs", false, 0}}));
  CHECK_FALSE(make_tar_layout({{std::string("a\0b", 3), false, 0}}));
  CHECK_FALSE(make_tar_layout({{"file/", false, 0}}));

  const auto layout = make_tar_layout({{"d", true, 99, kMtime, 0755}});
  REQUIRE(layout);
  CHECK(layout->entries()[0].name == "d/");
  CHECK(layout->entries()[0].size == 0);
  CHECK(layout->pieces().size() == 2);  // header, end
  const Headers h = parse_headers(piece_bytes(*layout, 0));
  CHECK(h.ustar.name == "d/");
  CHECK(h.ustar.size == 0);
}
