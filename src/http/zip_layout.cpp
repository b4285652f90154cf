#include "http/zip_layout.hpp"

#include <algorithm>

namespace httpfs::http {

namespace {

constexpr std::uint64_t kMax32 = 0xFFFFFFFF;  // a 32-bit field at this value: see ZIP64
constexpr std::uint64_t kMax16 = 0xFFFF;

constexpr std::uint32_t kSigLocal = 0x04034b50;
constexpr std::uint32_t kSigDescriptor = 0x08074b50;
constexpr std::uint32_t kSigCentral = 0x02014b50;
constexpr std::uint32_t kSigEnd64 = 0x06064b50;
constexpr std::uint32_t kSigLocator64 = 0x07064b50;
constexpr std::uint32_t kSigEnd = 0x06054b50;

constexpr std::uint16_t kMadeBy = 0x031E;    // Unix attributes, APPNOTE 3.0
constexpr std::uint16_t kMadeBy64 = 0x032D;  // Unix attributes, APPNOTE 4.5 (ZIP64 end record)
constexpr std::uint16_t kNeeds = 20;         // 2.0: directories, stored data
constexpr std::uint16_t kNeeds64 = 45;       // 4.5: ZIP64
constexpr std::uint16_t kFlagDescriptor = 1u << 3;
constexpr std::uint16_t kFlagUtf8 = 1u << 11;

constexpr std::uint16_t kExtraZip64 = 0x0001;
constexpr std::uint16_t kExtraTime = 0x5455;

constexpr std::uint64_t kLocalFixed = 30;
constexpr std::uint64_t kCentralFixed = 46;
constexpr std::uint64_t kTimeExtra = 9;         // id, length, flags, mtime
constexpr std::uint64_t kLocalZip64Extra = 20;  // id, length, both sizes
constexpr std::uint64_t kDescriptor = 16;
constexpr std::uint64_t kDescriptor64 = 24;
constexpr std::uint64_t kEnd = 22;
constexpr std::uint64_t kEnd64 = 56;
constexpr std::uint64_t kLocator64 = 20;

constexpr std::uint32_t kUnixFile = 0100000;  // S_IFREG
constexpr std::uint32_t kUnixDir = 0040000;   // S_IFDIR
constexpr std::uint32_t kDosDir = 0x10;

void put16(std::string& out, std::uint64_t v) {
  out += static_cast<char>(v & 0xff);
  out += static_cast<char>((v >> 8) & 0xff);
}
void put32(std::string& out, std::uint64_t v) {
  put16(out, v & 0xffff);
  put16(out, (v >> 16) & 0xffff);
}
void put64(std::string& out, std::uint64_t v) {
  put32(out, v & 0xffffffff);
  put32(out, v >> 32);
}
// A 32-bit slot: the value, or 0xFFFFFFFF when it is in the ZIP64 extra field instead.
void put32_or_max(std::string& out, std::uint64_t v) {
  put32(out, std::min(v, kMax32));
}

struct DosTime {
  std::uint16_t time;
  std::uint16_t date;
};

// MS-DOS date and time of `unix_seconds` in UTC, clamped to the years the fields hold
// (1980..2107); seconds in steps of two.
DosTime dos_time(std::int64_t unix_seconds) {
  constexpr std::int64_t kFirst = 315532800;  // 1980-01-01T00:00:00Z
  constexpr std::int64_t kLast = 4354819199;  // 2107-12-31T23:59:59Z
  const std::int64_t t = std::clamp(unix_seconds, kFirst, kLast);
  const std::int64_t secs = t % 86400;
  // Howard Hinnant's civil_from_days, for days >= 0 only (t is past 1980).
  const std::int64_t z = t / 86400 + 719468;
  const std::int64_t era = z / 146097;
  const auto doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  const unsigned day = doy - (153 * mp + 2) / 5 + 1;
  const unsigned month = mp < 10 ? mp + 3 : mp - 9;
  const std::int64_t year = static_cast<std::int64_t>(yoe) + era * 400 + (month <= 2 ? 1 : 0);
  const auto hour = static_cast<unsigned>(secs / 3600);
  const auto minute = static_cast<unsigned>(secs / 60 % 60);
  const auto second = static_cast<unsigned>(secs % 60);
  return {static_cast<std::uint16_t>(hour << 11 | minute << 5 | second / 2),
          static_cast<std::uint16_t>(static_cast<unsigned>(year - 1980) << 9 | month << 5 | day)};
}

void put_time_extra(std::string& out, std::int64_t mtime) {
  put16(out, kExtraTime);
  put16(out, 5);
  out += '\x01';  // flags: modification time only (the central record's form too)
  put32(out, static_cast<std::uint64_t>(std::clamp<std::int64_t>(mtime, 0, kMax32)));
}

// A member name as stored: APPNOTE 4.4.17.1 allows only '/' as a separator, and extractors
// on Windows split at a backslash too, so a POSIX name holding one ("..\..\x") could climb out
// of the folder it is extracted into. It is written as '_': same length, so the layout's
// offsets hold, and the file is still read by its real name (entries()).
void append_name(std::string& out, std::string_view name) {
  const std::size_t at = out.size();
  out += name;
  std::replace(out.begin() + static_cast<std::ptrdiff_t>(at), out.end(), '\\', '_');
}

class ZipLayout final : public ArchiveLayout {
 public:
  static std::unique_ptr<ArchiveLayout> make(std::vector<ArchiveEntry> entries) {
    if (!normalize(entries)) return nullptr;
    for (const ArchiveEntry& e : entries)
      if (e.name.size() > kMax16) return nullptr;  // the name length field's limit
    return std::make_unique<ZipLayout>(std::move(entries));
  }

  explicit ZipLayout(std::vector<ArchiveEntry> entries) : ArchiveLayout(std::move(entries)) {
    local_offset_.reserve(entries_.size());
    bool any_zip64 = false;
    for (std::size_t i = 0; i < entries_.size(); ++i) {
      const ArchiveEntry& e = entries_[i];
      local_offset_.push_back(size());
      const bool z = zip64(i);
      any_zip64 = any_zip64 || z;
      add_piece(ArchivePiece::Kind::Bytes, i, local_length(i), kZipLocalHeader);
      if (e.dir) continue;
      add_piece(ArchivePiece::Kind::FileData, i, e.size, kZipFileData);
      add_piece(ArchivePiece::Kind::Bytes, i, z ? kDescriptor64 : kDescriptor, kZipDataDescriptor);
    }
    cd_offset_ = size();
    for (std::size_t i = 0; i < entries_.size(); ++i)
      add_piece(ArchivePiece::Kind::Bytes, i, central_length(i), kZipCentralRecord);
    cd_size_ = size() - cd_offset_;
    // 0xFFFF entries already: a count field at 0xFFFF is read as "see the ZIP64 record".
    zip64_end_ =
        any_zip64 || entries_.size() >= kMax16 || cd_offset_ >= kMax32 || cd_size_ >= kMax32;
    add_piece(ArchivePiece::Kind::Bytes, ArchivePiece::kNoEntry,
              kEnd + (zip64_end_ ? kEnd64 + kLocator64 : 0), kZipEnd);
  }

  bool needs_crc(std::size_t piece) const noexcept override {
    if (piece >= pieces().size()) return false;
    const ArchivePiece& p = pieces()[piece];
    return (p.tag == kZipDataDescriptor || p.tag == kZipCentralRecord) && has_data(p.entry);
  }

  void append_bytes(std::size_t piece, const std::function<std::uint32_t(std::size_t)>& crc,
                    std::string& out) const override {
    const ArchivePiece& p = pieces()[piece];
    const std::uint32_t c = needs_crc(piece) ? crc(p.entry) : 0;
    switch (p.tag) {
      case kZipLocalHeader:
        return append_local(p.entry, out);
      case kZipDataDescriptor:
        return append_descriptor(p.entry, c, out);
      case kZipCentralRecord:
        return append_central(p.entry, c, out);
      case kZipEnd:
        return append_end(out);
      default:
        return;  // FileData: not the layout's to make
    }
  }

 private:
  bool has_data(std::size_t i) const noexcept {
    return i < entries_.size() && !entries_[i].dir && entries_[i].size > 0;
  }
  bool zip64(std::size_t i) const noexcept {
    return entries_[i].size >= kMax32 || local_offset_[i] >= kMax32;
  }
  // A directory's local header has its real sizes (0): no ZIP64 extra field even when its
  // offset makes it a ZIP64 entry (the offset is in the central record only).
  bool local_zip64_extra(std::size_t i) const noexcept { return zip64(i) && !entries_[i].dir; }
  std::uint16_t flags(std::size_t i) const noexcept {
    return entries_[i].dir ? kFlagUtf8 : kFlagUtf8 | kFlagDescriptor;
  }
  // How many 8-byte fields the central record's ZIP64 extra holds.
  unsigned central_zip64_fields(std::size_t i) const noexcept {
    return (entries_[i].size >= kMax32 ? 2 : 0) + (local_offset_[i] >= kMax32 ? 1 : 0);
  }
  std::uint64_t local_extra_length(std::size_t i) const noexcept {
    return kTimeExtra + (local_zip64_extra(i) ? kLocalZip64Extra : 0);
  }
  std::uint64_t local_length(std::size_t i) const noexcept {
    return kLocalFixed + entries_[i].name.size() + local_extra_length(i);
  }
  std::uint64_t central_extra_length(std::size_t i) const noexcept {
    const unsigned n = central_zip64_fields(i);
    return kTimeExtra + (n > 0 ? 4 + 8 * n : 0);
  }
  std::uint64_t central_length(std::size_t i) const noexcept {
    return kCentralFixed + entries_[i].name.size() + central_extra_length(i);
  }

  void append_local(std::size_t i, std::string& out) const {
    const ArchiveEntry& e = entries_[i];
    const DosTime dt = dos_time(e.mtime);
    put32(out, kSigLocal);
    put16(out, zip64(i) ? kNeeds64 : kNeeds);
    put16(out, flags(i));
    put16(out, 0);  // stored
    put16(out, dt.time);
    put16(out, dt.date);
    put32(out, 0);  // CRC-32: in the data descriptor (bit 3), 0 for a directory
    // Sizes: in the descriptor too. A ZIP64 file says so with 0xFFFFFFFF and its extra field.
    put32(out, local_zip64_extra(i) ? kMax32 : 0);
    put32(out, local_zip64_extra(i) ? kMax32 : 0);
    put16(out, e.name.size());
    put16(out, local_extra_length(i));
    append_name(out, e.name);
    if (local_zip64_extra(i)) {
      put16(out, kExtraZip64);
      put16(out, 16);
      put64(out, 0);  // uncompressed size, then compressed size: in the descriptor
      put64(out, 0);
    }
    put_time_extra(out, e.mtime);
  }

  void append_descriptor(std::size_t i, std::uint32_t crc, std::string& out) const {
    const ArchiveEntry& e = entries_[i];
    put32(out, kSigDescriptor);
    put32(out, crc);
    if (zip64(i)) {
      put64(out, e.size);
      put64(out, e.size);
    } else {
      put32(out, e.size);
      put32(out, e.size);
    }
  }

  void append_central(std::size_t i, std::uint32_t crc, std::string& out) const {
    const ArchiveEntry& e = entries_[i];
    const DosTime dt = dos_time(e.mtime);
    const std::uint32_t attributes =
        e.dir ? (kUnixDir | e.mode) << 16 | kDosDir : (kUnixFile | e.mode) << 16;
    put32(out, kSigCentral);
    put16(out, kMadeBy);
    put16(out, zip64(i) ? kNeeds64 : kNeeds);
    put16(out, flags(i));
    put16(out, 0);  // stored
    put16(out, dt.time);
    put16(out, dt.date);
    put32(out, crc);
    put32_or_max(out, e.size);  // compressed
    put32_or_max(out, e.size);  // uncompressed
    put16(out, e.name.size());
    put16(out, central_extra_length(i));
    put16(out, 0);  // comment length
    put16(out, 0);  // disk number start
    put16(out, 0);  // internal attributes
    put32(out, attributes);
    put32_or_max(out, local_offset_[i]);
    append_name(out, e.name);
    if (const unsigned n = central_zip64_fields(i); n > 0) {
      // Only the fields whose 32-bit slot is 0xFFFFFFFF, in the APPNOTE's order.
      put16(out, kExtraZip64);
      put16(out, 8 * n);
      if (e.size >= kMax32) {
        put64(out, e.size);  // uncompressed
        put64(out, e.size);  // compressed
      }
      if (local_offset_[i] >= kMax32) put64(out, local_offset_[i]);
    }
    put_time_extra(out, e.mtime);
  }

  void append_end(std::string& out) const {
    const std::uint64_t n = entries_.size();
    if (zip64_end_) {
      const std::uint64_t end64_offset = cd_offset_ + cd_size_;
      put32(out, kSigEnd64);
      put64(out, kEnd64 - 12);  // the size of the rest of the record
      put16(out, kMadeBy64);
      put16(out, kNeeds64);
      put32(out, 0);  // this disk
      put32(out, 0);  // the disk where the central directory starts
      put64(out, n);  // entries on this disk
      put64(out, n);  // entries in all
      put64(out, cd_size_);
      put64(out, cd_offset_);
      put32(out, kSigLocator64);
      put32(out, 0);  // the disk of the ZIP64 end record
      put64(out, end64_offset);
      put32(out, 1);  // disks in all
    }
    put32(out, kSigEnd);
    put16(out, 0);  // this disk
    put16(out, 0);  // the disk where the central directory starts
    put16(out, std::min(n, kMax16));
    put16(out, std::min(n, kMax16));
    put32_or_max(out, cd_size_);
    put32_or_max(out, cd_offset_);
    put16(out, 0);  // comment length
  }

  std::vector<std::uint64_t> local_offset_;  // by entry
  std::uint64_t cd_offset_ = 0;
  std::uint64_t cd_size_ = 0;
  bool zip64_end_ = false;
};

}  // namespace

std::unique_ptr<ArchiveLayout> make_zip_layout(std::vector<ArchiveEntry> entries) {
  return ZipLayout::make(std::move(entries));
}

}  // namespace httpfs::http
