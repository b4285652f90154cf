#include "http/tar_layout.hpp"

#include <algorithm>
#include <cstring>
#include <optional>
#include <string_view>

namespace httpfs::http {

namespace {

constexpr std::uint64_t kBlock = 512;
constexpr std::size_t kNameField = 100;
constexpr std::size_t kPrefixField = 155;
constexpr std::uint64_t kOctal11 = std::uint64_t{1} << 33;  // 8^11: past 11 octal digits
constexpr std::string_view kPaxDir = "PaxHeaders/";

std::uint64_t round_up(std::uint64_t n) {
  return (n + kBlock - 1) / kBlock * kBlock;
}

bool is_ascii(std::string_view s) {
  return std::all_of(s.begin(), s.end(),
                     [](char c) { return static_cast<unsigned char>(c) < 0x80; });
}

// Well-formed UTF-8 (RFC 3629): no overlongs, surrogates or code points past U+10FFFF.
bool is_utf8(std::string_view s) {
  std::size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    std::size_t n = 0;
    unsigned lo = 0x80, hi = 0xBF;  // the range of the second byte
    if (c < 0x80) {
      ++i;
      continue;
    } else if (c >= 0xC2 && c <= 0xDF) {
      n = 1;
    } else if (c >= 0xE0 && c <= 0xEF) {
      n = 2;
      if (c == 0xE0) lo = 0xA0;
      if (c == 0xED) hi = 0x9F;
    } else if (c >= 0xF0 && c <= 0xF4) {
      n = 3;
      if (c == 0xF0) lo = 0x90;
      if (c == 0xF4) hi = 0x8F;
    } else {
      return false;
    }
    if (i + n >= s.size()) return false;  // cut short
    for (std::size_t k = 1; k <= n; ++k) {
      const auto b = static_cast<unsigned char>(s[i + k]);
      if (b < (k == 1 ? lo : 0x80) || b > (k == 1 ? hi : 0xBF)) return false;
    }
    i += n + 1;
  }
  return true;
}

// Where the ustar prefix field ends when `name` needs it: the longest prefix (at most 155
// bytes) before a '/' that leaves 1..100 bytes after it. 0 when the name field alone holds
// it, nullopt when no split fits.
std::optional<std::size_t> ustar_split(std::string_view name) {
  if (name.size() <= kNameField) return 0;
  for (std::size_t k = std::min(kPrefixField, name.size() - 2); k > 0; --k) {
    if (name[k] != '/') continue;
    if (name.size() - k - 1 <= kNameField) return k;
    return std::nullopt;  // a shorter prefix leaves even more
  }
  return std::nullopt;
}

// Non-ASCII and control bytes as '_': for the fields older readers see.
std::string ascii_only(std::string_view s) {
  std::string r(s);
  for (char& c : r)
    if (static_cast<unsigned char>(c) >= 0x80 || static_cast<unsigned char>(c) < 0x20) c = '_';
  return r;
}

// "%d key=value\n", where %d counts the whole record, itself included.
void add_record(std::string& out, std::string_view key, std::string_view value) {
  const std::size_t body = key.size() + value.size() + 3;  // ' ', '=', '\n'
  std::size_t length = body + 1;
  while (length != body + std::to_string(length).size())
    length = body + std::to_string(length).size();
  out += std::to_string(length);
  out += ' ';
  out += key;
  out += '=';
  out += value;
  out += '\n';
}

// The pax records an entry needs; empty when ustar alone holds it.
std::string pax_records(const ArchiveEntry& e) {
  std::string r;
  if (!is_utf8(e.name)) add_record(r, "hdrcharset", "BINARY");
  if (!is_ascii(e.name) || !ustar_split(e.name)) add_record(r, "path", e.name);
  if (e.size >= kOctal11) add_record(r, "size", std::to_string(e.size));
  if (e.mtime < 0 || static_cast<std::uint64_t>(e.mtime) >= kOctal11)
    add_record(r, "mtime", std::to_string(e.mtime));
  return r;
}

// `width - 1` octal digits and a NUL; `v` fits (checked by the callers).
void put_octal(char* field, std::size_t width, std::uint64_t v) {
  field[width - 1] = '\0';
  for (std::size_t i = width - 1; i-- > 0; v >>= 3) field[i] = static_cast<char>('0' + (v & 7));
}

// A 12-byte numeric field: octal when it fits, else GNU base-256 (two's complement, big
// endian, the first byte 0x80 or 0xFF for a negative value).
void put_number(char* field, std::int64_t v, bool is_unsigned) {
  const auto bits = static_cast<std::uint64_t>(v);
  if ((is_unsigned || v >= 0) && bits < kOctal11) return put_octal(field, 12, bits);
  const bool negative = !is_unsigned && v < 0;
  field[0] = static_cast<char>(negative ? 0xFF : 0x80);
  for (std::size_t i = 1; i < 4; ++i) field[i] = static_cast<char>(negative ? 0xFF : 0);
  for (std::size_t i = 0; i < 8; ++i) field[11 - i] = static_cast<char>((bits >> (8 * i)) & 0xff);
}

struct Header {
  std::string_view prefix;
  std::string_view name;
  std::uint32_t mode;
  std::uint64_t size;
  std::int64_t mtime;
  char type;
};

void append_header(const Header& h, std::string& out) {
  const std::size_t at = out.size();
  out.append(kBlock, '\0');
  char* b = out.data() + at;
  // (copy_n, not memcpy: an empty view may have no data pointer at all)
  std::copy_n(h.name.data(), std::min(h.name.size(), kNameField), b);
  put_octal(b + 100, 8, h.mode & 07777);
  put_octal(b + 108, 8, 0);  // uid
  put_octal(b + 116, 8, 0);  // gid
  put_number(b + 124, static_cast<std::int64_t>(h.size), true);
  put_number(b + 136, h.mtime, false);
  std::memset(b + 148, ' ', 8);  // the checksum counts its own field as spaces
  b[156] = h.type;
  std::memcpy(b + 257, "ustar", 6);  // magic, NUL included
  std::memcpy(b + 263, "00", 2);     // version
  put_octal(b + 329, 8, 0);          // devmajor
  put_octal(b + 337, 8, 0);          // devminor
  std::copy_n(h.prefix.data(), std::min(h.prefix.size(), kPrefixField), b + 345);
  std::uint32_t sum = 0;
  for (std::size_t i = 0; i < kBlock; ++i) sum += static_cast<unsigned char>(b[i]);
  put_octal(b + 148, 7, sum);  // six digits, NUL, and the space left from above
}

class TarLayout final : public ArchiveLayout {
 public:
  static std::unique_ptr<ArchiveLayout> make(std::vector<ArchiveEntry> entries) {
    if (!normalize(entries)) return nullptr;
    return std::make_unique<TarLayout>(std::move(entries));
  }

  explicit TarLayout(std::vector<ArchiveEntry> entries) : ArchiveLayout(std::move(entries)) {
    for (std::size_t i = 0; i < entries_.size(); ++i) {
      const ArchiveEntry& e = entries_[i];
      // The records are made again with the header: keeping them would cost memory per entry.
      const std::uint64_t records = pax_records(e).size();
      const std::uint64_t header = records == 0 ? kBlock : 2 * kBlock + round_up(records);
      add_piece(ArchivePiece::Kind::Bytes, i, header, kTarHeader);
      if (e.dir) continue;
      add_piece(ArchivePiece::Kind::FileData, i, e.size, kTarFileData);
      add_piece(ArchivePiece::Kind::Bytes, i, round_up(e.size) - e.size, kTarPadding);
    }
    add_piece(ArchivePiece::Kind::Bytes, ArchivePiece::kNoEntry, 2 * kBlock, kTarEnd);
  }

  bool needs_crc(std::size_t) const noexcept override { return false; }

  void append_bytes(std::size_t piece, const std::function<std::uint32_t(std::size_t)>&,
                    std::string& out) const override {
    const ArchivePiece& p = pieces()[piece];
    switch (p.tag) {
      case kTarHeader:
        return append_headers(entries_[p.entry], out);
      case kTarPadding:
      case kTarEnd:
        out.append(static_cast<std::size_t>(p.length), '\0');
        return;
      default:
        return;  // FileData: not the layout's to make
    }
  }

 private:
  static void append_headers(const ArchiveEntry& e, std::string& out) {
    const std::string records = pax_records(e);
    if (!records.empty()) {
      std::string_view base = std::string_view(e.name).substr(0, e.name.size() - (e.dir ? 1 : 0));
      base = base.substr(base.rfind('/') + 1);  // npos + 1 == 0
      const std::string pax_name =
          std::string(kPaxDir) + ascii_only(base.substr(0, kNameField - kPaxDir.size()));
      const std::int64_t mtime =
          std::clamp<std::int64_t>(e.mtime, 0, static_cast<std::int64_t>(kOctal11) - 1);
      append_header({{}, pax_name, 0644, records.size(), mtime, 'x'}, out);
      out += records;
      out.append(round_up(records.size()) - records.size(), '\0');
    }
    // With a path record, the name fields are for readers that do not know pax: the name as
    // ASCII, split if it can be, cut if it cannot.
    const std::string fallback = is_ascii(e.name) ? std::string() : ascii_only(e.name);
    const std::string_view name = fallback.empty() ? std::string_view(e.name) : fallback;
    const std::optional<std::size_t> split = ustar_split(name);
    Header h{{}, name, e.mode, e.size, e.mtime, e.dir ? '5' : '0'};
    if (split && *split > 0) {
      h.prefix = name.substr(0, *split);
      h.name = name.substr(*split + 1);
    }
    append_header(h, out);
  }
};

}  // namespace

std::unique_ptr<ArchiveLayout> make_tar_layout(std::vector<ArchiveEntry> entries) {
  return TarLayout::make(std::move(entries));
}

}  // namespace httpfs::http
