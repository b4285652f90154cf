// libFuzzer target: the ZIP and tar layouts of folder downloads (http/zip_layout.hpp,
// http/tar_layout.hpp): the Content-Length they predict, and the bytes they make.
// Input: 1 byte of format and shape, then entries, a few bytes each (kind, name length and
// bytes, size class, mtime class, mode): names short, near the ustar 100/155 fields, long
// enough for a pax path, non-ASCII, not UTF-8, up to past the ZIP 65 535 limit; sizes
// around 4 GiB (ZIP64) and 8 GiB (past ustar octal); mtimes past both ends of every field.
// Not here: 65 535 entries and more (ZIP64 for the count), which take seconds a run under
// the sanitizers; zip_layout_test covers them.
//
// The archive is made as archive.cpp makes it: every Bytes piece with append_bytes(), every
// FileData piece counted, not read (a file's bytes are the caller's). Checks: the layout is
// null exactly when an entry cannot be stored; the pieces are contiguous, non-empty, cover
// [0, size()) and piece_at() finds each of their bytes; a Bytes piece is exactly its length
// and the same whatever came before; the CRC is asked for exactly when needs_crc() says, and
// only for a non-empty file. Then the archive is read back as a tar or ZIP reader would
// (headers, checksums, pax records, ZIP64 extra fields, data descriptors, the central
// directory and end records), with every header at the offset the previous one says and
// every file's data exactly where and as long as the headers say, ending at size().
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "http/archive_layout.hpp"
#include "http/tar_layout.hpp"
#include "http/zip_layout.hpp"

using namespace httpfs::http;

namespace {

// A broken invariant: which one, then a crash libFuzzer reports.
[[noreturn]] void fail(int line, const char* what) {
  std::fprintf(stderr, "fuzz_archive_layout.cpp:%d: check failed: %s\n", line, what);
  __builtin_trap();
}
#define check(ok) ((ok) ? void() : fail(__LINE__, #ok))

class Input {
 public:
  Input(const std::uint8_t* data, std::size_t size) : data_(data), size_(size) {}
  bool empty() const { return at_ == size_; }
  std::uint8_t u8() { return at_ < size_ ? data_[at_++] : 0; }
  std::uint64_t bytes(int n) {
    std::uint64_t v = 0;
    for (int i = 0; i < n; ++i) v = v << 8 | u8();
    return v;
  }

 private:
  const std::uint8_t* data_;
  std::size_t size_, at_ = 0;
};

// Name bytes: letters mostly, with separators, dots, UTF-8, bytes that are not UTF-8, control
// bytes and NUL now and then.
std::string make_name(Input& in, std::uint32_t& rng, bool dir, unsigned bad) {
  const std::uint8_t shape = in.u8();
  static constexpr std::size_t kLengths[] = {1, 5, 12, 99, 100, 101, 150, 155, 156, 160,
                                             250, 256, 300, 1000, 65535, 65536};
  std::size_t length = kLengths[shape & 15];
  if (length > 1 && length < 1000) length += (shape >> 4) % 3 - 1;  // one either side
  const std::uint8_t alphabet = in.u8();
  std::string name;
  name.reserve(length + 4);
  while (name.size() < length) {
    rng = rng * 1103515245u + 12345u;
    const unsigned r = (rng >> 16) & 63;
    if (r < 44) {
      name += static_cast<char>('a' + r % 26);
    } else if (r < 52) {
      name += '/';
    } else if (r < 54) {
      name += '.';
    } else if ((alphabet & 1) && r < 58) {
      name += "\xc3\xa9";  // é
    } else if ((alphabet & 2) && r < 60) {
      name += "\xe6\x97\xa5";  // 日
    } else if ((alphabet & 4) && r == 60) {
      name += '\xff';
    } else if ((alphabet & 8) && r == 61) {
      name += '\x01';
    } else if ((alphabet & 16) && r == 62) {
      name += '\0';
    } else {
      name += 'z';
    }
  }
  // A few bytes from the input at the end: any byte the fuzzer likes.
  for (int i = 0; i < (alphabet >> 5); ++i) name += static_cast<char>(in.u8());
  // A relative name that does not end in '/' (a directory's may), unless `bad` asks for a
  // name no layout takes.
  if (name.front() == '/') name.front() = 'a';
  if (!dir && name.back() == '/') name.back() = 'b';
  switch (bad) {
    case 5:
      name.clear();
      break;
    case 6:
      name.front() = '/';
      break;
    case 7:
      name.back() = '/';
      break;
    default:
      break;
  }
  return name;
}

std::uint64_t make_size(Input& in) {
  const std::uint8_t c = in.u8();
  const auto delta = static_cast<std::int64_t>(static_cast<std::int8_t>(in.u8()));
  switch (c & 7) {
    case 0:
      return 0;
    case 1:
      return in.bytes(2) % 3000;
    case 2:
      return static_cast<std::uint64_t>(0xFFFFFFFFll + delta);
    case 3:
      return static_cast<std::uint64_t>((1ll << 33) + delta);
    case 4:
      return in.bytes(6) % (std::uint64_t{1} << 44);
    case 5:
      return 512 * in.bytes(1) + static_cast<std::uint64_t>(delta & 3);
    case 6:
      return static_cast<std::uint64_t>(0xFFFFFFFFll - 512 + delta * 4);
    default:
      return in.bytes(4);
  }
}

std::int64_t make_mtime(Input& in) {
  const std::uint8_t c = in.u8();
  const auto delta = static_cast<std::int64_t>(static_cast<std::int8_t>(in.u8()));
  switch (c & 7) {
    case 0:
      return 1700000000;
    case 1:
      return delta;
    case 2:
      return -1 - static_cast<std::int64_t>(in.bytes(4));
    case 3:
      return (1ll << 33) + delta;
    case 4:
      return static_cast<std::int64_t>(in.bytes(8));
    case 5:
      return 315532800 + delta;
    case 6:
      return 4354819199 + delta;
    default:
      return 0xFFFFFFFFll + delta;
  }
}

// ArchiveLayout::normalize(), and ZIP's name length limit, written out again.
bool storable(std::vector<ArchiveEntry>& entries, bool zip) {
  for (ArchiveEntry& e : entries) {
    if (e.name.empty() || e.name[0] == '/' || e.name.find('\0') != std::string::npos) return false;
    if (e.dir) {
      if (e.name.back() != '/') e.name += '/';
      e.size = 0;
    } else if (e.name.back() == '/') {
      return false;
    }
    e.mode &= 07777;
    if (zip && e.name.size() > 0xFFFF) return false;
  }
  return true;
}

std::uint32_t fake_crc(std::size_t entry) {
  return static_cast<std::uint32_t>(entry * 0x9E3779B1u + 1);
}

// The archive as a reader sees it: bytes of Bytes pieces, and FileData regions of known
// length whose bytes nobody reads here.
class Archive {
 public:
  explicit Archive(const ArchiveLayout& layout) : layout_(layout) {}

  void make() {
    const auto& pieces = layout_.pieces();
    std::uint64_t at = 0;
    std::vector<std::uint64_t> data_of(layout_.entries().size(), 0);
    bytes_.resize(pieces.size());
    std::string scratch = "whatever came before";
    for (std::size_t i = 0; i < pieces.size(); ++i) {
      const ArchivePiece& p = pieces[i];
      check(p.offset == at && p.length > 0);
      check(layout_.piece_at(p.offset) == i && layout_.piece_at(p.offset + p.length - 1) == i);
      at += p.length;
      if (p.kind == ArchivePiece::Kind::FileData) {
        check(p.entry < layout_.entries().size());
        const ArchiveEntry& e = layout_.entries()[p.entry];
        check(!e.dir && e.size == p.length);
        data_of[p.entry] += p.length;
        check(!layout_.needs_crc(i));
        continue;
      }
      check(p.kind == ArchivePiece::Kind::Bytes);
      check(p.entry == ArchivePiece::kNoEntry || p.entry < layout_.entries().size());
      bool asked = false;
      const auto crc = [&](std::size_t entry) {
        check(!asked && entry == p.entry);
        const ArchiveEntry& e = layout_.entries()[entry];
        check(!e.dir && e.size > 0);
        asked = true;
        return fake_crc(entry);
      };
      layout_.append_bytes(i, crc, bytes_[i]);
      check(bytes_[i].size() == p.length);
      check(asked == layout_.needs_crc(i));
      // The same bytes when made after others.
      const std::size_t before = scratch.size();
      layout_.append_bytes(i, crc_again(), scratch);
      check(std::string_view(scratch).substr(before) == bytes_[i]);
      scratch.resize(before);
    }
    check(at == layout_.size());  // the Content-Length is exactly what was made
    for (std::size_t e = 0; e < data_of.size(); ++e)
      check(data_of[e] == layout_.entries()[e].size);
  }

  // `n` bytes at `offset`, which must lie within one Bytes piece.
  std::string_view read(std::uint64_t offset, std::uint64_t n) const {
    check(offset < layout_.size() && n <= layout_.size() - offset);
    const std::size_t i = layout_.piece_at(offset);
    const ArchivePiece& p = layout_.pieces()[i];
    check(p.kind == ArchivePiece::Kind::Bytes && offset >= p.offset &&
          offset + n <= p.offset + p.length);
    return std::string_view(bytes_[i]).substr(offset - p.offset, n);
  }
  // Whether [offset, offset + n) is exactly entry `entry`'s FileData piece (n > 0).
  void expect_data(std::uint64_t offset, std::uint64_t n, std::size_t entry) const {
    if (n == 0) return;
    check(offset < layout_.size());
    const ArchivePiece& p = layout_.pieces()[layout_.piece_at(offset)];
    check(p.kind == ArchivePiece::Kind::FileData && p.offset == offset && p.length == n &&
          p.entry == entry);
  }

 private:
  static std::function<std::uint32_t(std::size_t)> crc_again() { return fake_crc; }

  const ArchiveLayout& layout_;
  std::vector<std::string> bytes_;
};

std::uint64_t le(std::string_view s, std::size_t at, int n) {
  std::uint64_t v = 0;
  for (int i = n - 1; i >= 0; --i) v = v << 8 | static_cast<unsigned char>(s.at(at + i));
  return v;
}

// ---- tar -----------------------------------------------------------------------------------

std::uint64_t round512(std::uint64_t n) {
  return (n + 511) / 512 * 512;
}

std::uint64_t octal(std::string_view f) {
  // Digits, then NUL (or space) terminated; nothing else.
  std::uint64_t v = 0;
  std::size_t i = 0;
  for (; i < f.size() && f[i] >= '0' && f[i] <= '7'; ++i) v = v * 8 + static_cast<unsigned>(f[i] - '0');
  check(i > 0 && i < f.size() && (f[i] == '\0' || f[i] == ' '));
  return v;
}

// A 12-byte numeric field: octal, or GNU base-256 (two's complement, big endian).
std::int64_t number12(std::string_view f) {
  const auto b0 = static_cast<unsigned char>(f[0]);
  if (b0 != 0x80 && b0 != 0xFF) return static_cast<std::int64_t>(octal(f));
  std::uint64_t v = 0;
  for (int i = 4; i < 12; ++i) v = v << 8 | static_cast<unsigned char>(f[i]);
  const auto s = static_cast<std::int64_t>(v);
  const unsigned char fill = s < 0 ? 0xFF : 0;
  check(b0 == (s < 0 ? 0xFF : 0x80));
  for (int i = 1; i < 4; ++i) check(static_cast<unsigned char>(f[i]) == fill);
  return s;
}

std::string_view cstr(std::string_view f) {
  return f.substr(0, std::min(f.find('\0'), f.size()));
}

void check_ustar_block(std::string_view b) {
  check(b.size() == 512);
  check(b.substr(257, 6) == std::string_view("ustar\0", 6) && b.substr(263, 2) == "00");
  std::uint32_t sum = 0;
  for (std::size_t i = 0; i < 512; ++i)
    sum += (i >= 148 && i < 156) ? ' ' : static_cast<unsigned char>(b[i]);
  check(octal(b.substr(148, 8)) == sum);
}

void read_tar(const Archive& a, const ArchiveLayout& layout) {
  std::uint64_t off = 0;
  for (std::size_t i = 0; i < layout.entries().size(); ++i) {
    const ArchiveEntry& e = layout.entries()[i];
    std::map<std::string, std::string> pax;
    std::string_view h = a.read(off, 512);
    check_ustar_block(h);
    if (h[156] == 'x') {
      const std::uint64_t n = octal(h.substr(124, 12));
      check(n > 0);
      std::string_view records = a.read(off + 512, n);
      while (!records.empty()) {
        const std::size_t sp = records.find(' ');
        check(sp != std::string_view::npos && sp > 0);
        std::uint64_t len = 0;
        for (char c : records.substr(0, sp)) {
          check(c >= '0' && c <= '9');
          len = len * 10 + static_cast<unsigned>(c - '0');
        }
        check(len > sp + 1 && len <= records.size() && records[len - 1] == '\n');
        const std::string_view kv = records.substr(sp + 1, len - sp - 2);
        const std::size_t eq = kv.find('=');
        check(eq != std::string_view::npos);
        check(pax.emplace(std::string(kv.substr(0, eq)), std::string(kv.substr(eq + 1))).second);
        records.remove_prefix(len);
      }
      if (round512(n) > n)
        for (char c : a.read(off + 512 + n, round512(n) - n)) check(c == '\0');
      off += 512 + round512(n);
      h = a.read(off, 512);
      check_ustar_block(h);
    }
    check(h[156] == (e.dir ? '5' : '0'));
    // The name: the pax path when there is one, else prefix "/" name.
    const std::string_view prefix = cstr(h.substr(345, 155)), base = cstr(h.substr(0, 100));
    const std::string ustar_name =
        prefix.empty() ? std::string(base) : std::string(prefix) + "/" + std::string(base);
    bool ascii = true;
    for (char c : e.name) ascii = ascii && static_cast<unsigned char>(c) < 0x80;
    if (auto p = pax.find("path"); p != pax.end()) {
      check(p->second == e.name);
      for (char c : ustar_name) check(static_cast<unsigned char>(c) < 0x80);
    } else {
      check(ascii && ustar_name == e.name);
    }
    if (pax.count("hdrcharset")) check(pax["hdrcharset"] == "BINARY" && pax.count("path"));
    check(octal(h.substr(100, 8)) == e.mode);
    // Size and mtime: the pax record wins; the ustar field holds it too (base-256 past octal).
    const std::int64_t size_field = number12(h.substr(124, 12));
    check(static_cast<std::uint64_t>(size_field) == e.size);
    if (pax.count("size")) check(pax["size"] == std::to_string(e.size));
    else check(e.size < (std::uint64_t{1} << 33));
    check(number12(h.substr(136, 12)) == e.mtime);
    if (pax.count("mtime")) check(pax["mtime"] == std::to_string(e.mtime));
    else check(e.mtime >= 0 && e.mtime < (1ll << 33));
    for (const auto& [key, value] : pax)
      check(key == "path" || key == "size" || key == "mtime" || key == "hdrcharset");
    off += 512;
    if (e.dir) continue;
    a.expect_data(off, e.size, i);
    off += e.size;
    const std::uint64_t pad = round512(e.size) - e.size;
    if (pad > 0)
      for (char c : a.read(off, pad)) check(c == '\0');
    off += pad;
  }
  for (char c : a.read(off, 1024)) check(c == '\0');
  check(off + 1024 == layout.size());
}

// ---- ZIP -----------------------------------------------------------------------------------

constexpr std::uint64_t kMax32 = 0xFFFFFFFF;

struct Extra {
  std::map<std::uint16_t, std::string_view> fields;
};

Extra extras(std::string_view s) {
  Extra x;
  while (!s.empty()) {
    check(s.size() >= 4);
    const auto id = static_cast<std::uint16_t>(le(s, 0, 2));
    const std::uint64_t n = le(s, 2, 2);
    check(s.size() >= 4 + n);
    check(x.fields.emplace(id, s.substr(4, n)).second);
    s.remove_prefix(4 + n);
  }
  return x;
}

void check_time_extra(const Extra& x, std::int64_t mtime) {
  const auto t = x.fields.find(0x5455);
  check(t != x.fields.end() && t->second.size() == 5 && t->second[0] == 1);
  check(le(t->second, 1, 4) ==
        static_cast<std::uint64_t>(std::clamp<std::int64_t>(mtime, 0, 0xFFFFFFFFll)));
}

// A member name as a zip stores it: a backslash, which extractors on Windows take for a
// separator, as '_' (http/zip_layout.cpp).
std::string zip_name(std::string name) {
  std::replace(name.begin(), name.end(), '\\', '_');
  return name;
}

void read_zip(const Archive& a, const ArchiveLayout& layout) {
  const auto& entries = layout.entries();
  const std::uint64_t n = entries.size();
  const std::uint64_t total = layout.size();
  // The locals, in order from 0: where each starts, and whether it is a ZIP64 entry.
  std::vector<std::uint64_t> local(n);
  std::uint64_t off = 0;
  bool any_zip64 = false;
  for (std::size_t i = 0; i < n; ++i) {
    const ArchiveEntry& e = entries[i];
    local[i] = off;
    const bool z = e.size >= kMax32 || off >= kMax32;
    any_zip64 = any_zip64 || z;
    std::string_view h = a.read(off, 30);
    check(le(h, 0, 4) == 0x04034b50);
    check(le(h, 4, 2) == (z ? 45u : 20u));
    check(le(h, 6, 2) == (e.dir ? 0x800u : 0x808u));
    check(le(h, 8, 2) == 0 && le(h, 14, 4) == 0);
    const std::uint64_t name_len = le(h, 26, 2), extra_len = le(h, 28, 2);
    check(a.read(off + 30, name_len) == zip_name(e.name));
    const Extra x = extras(a.read(off + 30 + name_len, extra_len));
    check_time_extra(x, e.mtime);
    const bool local64 = z && !e.dir;
    check(x.fields.count(1) == (local64 ? 1u : 0u) && x.fields.size() == (local64 ? 2u : 1u));
    check(le(h, 18, 4) == (local64 ? kMax32 : 0) && le(h, 22, 4) == (local64 ? kMax32 : 0));
    if (local64) check(x.fields.at(1).size() == 16);
    off += 30 + name_len + extra_len;
    if (e.dir) continue;
    a.expect_data(off, e.size, i);
    off += e.size;
    std::string_view d = a.read(off, z ? 24 : 16);
    check(le(d, 0, 4) == 0x08074b50);
    check(le(d, 4, 4) == (e.size > 0 ? fake_crc(i) : 0));
    if (z) check(le(d, 8, 8) == e.size && le(d, 16, 8) == e.size);
    else check(le(d, 8, 4) == e.size && le(d, 12, 4) == e.size);
    off += z ? 24 : 16;
  }
  const std::uint64_t cd_offset = off;
  for (std::size_t i = 0; i < n; ++i) {
    const ArchiveEntry& e = entries[i];
    const bool big = e.size >= kMax32, far = local[i] >= kMax32;
    std::string_view h = a.read(off, 46);
    check(le(h, 0, 4) == 0x02014b50);
    check(le(h, 6, 2) == (big || far ? 45u : 20u));
    check(le(h, 8, 2) == (e.dir ? 0x800u : 0x808u) && le(h, 10, 2) == 0);
    check(le(h, 16, 4) == (e.dir || e.size == 0 ? 0 : fake_crc(i)));
    check(le(h, 20, 4) == std::min(e.size, kMax32) && le(h, 24, 4) == std::min(e.size, kMax32));
    const std::uint64_t name_len = le(h, 28, 2), extra_len = le(h, 30, 2);
    check(le(h, 32, 2) == 0 && le(h, 34, 2) == 0);
    const std::uint64_t attributes = le(h, 38, 4);
    check((attributes >> 16) == ((e.dir ? 0040000u : 0100000u) | e.mode));
    check(((attributes & 0x10) != 0) == e.dir);
    check(le(h, 42, 4) == std::min(local[i], kMax32));
    check(a.read(off + 46, name_len) == zip_name(e.name));
    const Extra x = extras(a.read(off + 46 + name_len, extra_len));
    check_time_extra(x, e.mtime);
    if (big || far) {
      const std::string_view z = x.fields.at(1);
      check(z.size() == (big ? 16u : 0u) + (far ? 8u : 0u));
      std::size_t at = 0;
      if (big) {
        check(le(z, 0, 8) == e.size && le(z, 8, 8) == e.size);
        at = 16;
      }
      if (far) check(le(z, at, 8) == local[i]);
    } else {
      check(x.fields.count(1) == 0);
    }
    off += 46 + name_len + extra_len;
  }
  const std::uint64_t cd_size = off - cd_offset;
  const bool zip64_end = any_zip64 || n >= 0xFFFF || cd_offset >= kMax32 || cd_size >= kMax32;
  if (zip64_end) {
    std::string_view r = a.read(off, 56);
    check(le(r, 0, 4) == 0x06064b50 && le(r, 4, 8) == 44);
    check(le(r, 12, 2) == 0x032D && le(r, 14, 2) == 45 && le(r, 16, 4) == 0 && le(r, 20, 4) == 0);
    check(le(r, 24, 8) == n && le(r, 32, 8) == n);
    check(le(r, 40, 8) == cd_size && le(r, 48, 8) == cd_offset);
    std::string_view l = a.read(off + 56, 20);
    check(le(l, 0, 4) == 0x07064b50 && le(l, 4, 4) == 0 && le(l, 8, 8) == off && le(l, 16, 4) == 1);
    off += 76;
  }
  std::string_view end = a.read(off, 22);
  check(le(end, 0, 4) == 0x06054b50 && le(end, 4, 4) == 0);
  check(le(end, 8, 2) == std::min<std::uint64_t>(n, 0xFFFF) &&
        le(end, 10, 2) == std::min<std::uint64_t>(n, 0xFFFF));
  check(le(end, 12, 4) == std::min(cd_size, kMax32) && le(end, 16, 4) == std::min(cd_offset, kMax32));
  check(le(end, 20, 2) == 0);
  check(off + 22 == total);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  Input in(data, size);
  const bool zip = in.u8() & 1;
  std::uint32_t rng = static_cast<std::uint32_t>(in.bytes(2));
  std::vector<ArchiveEntry> entries;
  while (!in.empty() && entries.size() < 64) {
    const std::uint8_t kind = in.u8();
    ArchiveEntry e;
    e.dir = kind & 1;
    e.name = make_name(in, rng, e.dir, (kind >> 2) & 7);
    e.size = make_size(in);
    e.mtime = make_mtime(in);
    e.mode = kind & 2 ? static_cast<std::uint32_t>(in.bytes(4)) : (e.dir ? 0755 : 0644);
    entries.push_back(std::move(e));
  }

  std::vector<ArchiveEntry> expected = entries;
  const bool ok = storable(expected, zip);
  const std::unique_ptr<ArchiveLayout> layout =
      zip ? make_zip_layout(std::move(entries)) : make_tar_layout(std::move(entries));
  check((layout != nullptr) == ok);
  if (!layout) return 0;
  check(layout->entries().size() == expected.size());
  for (std::size_t i = 0; i < expected.size(); ++i) {
    const ArchiveEntry &x = layout->entries()[i], &y = expected[i];
    check(x.name == y.name && x.dir == y.dir && x.size == y.size && x.mtime == y.mtime &&
          x.mode == y.mode);
  }
  Archive archive(*layout);
  archive.make();
  if (zip)
    read_zip(archive, *layout);
  else
    read_tar(archive, *layout);
  return 0;
}
