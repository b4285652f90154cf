// A streamed archive (GET /dir/?download=zip|tar) as a table of pieces, laid out before any
// byte is made: the exact Content-Length is known up front, and any byte range maps to the
// pieces that hold it. The layout makes its own bytes (headers, records, padding) on demand,
// one piece at a time and in any order; the caller reads the files' bytes (FileData pieces).
// The formats: http/zip_layout.hpp, http/tar_layout.hpp.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace httpfs::http {

struct ArchiveEntry {
  std::string name;  // relative path, '/'-separated, no leading '/', UTF-8 (any bytes but NUL);
                     // a directory ends with '/'
  bool dir = false;
  std::uint64_t size = 0;     // 0 for directories
  std::int64_t mtime = 0;     // seconds since the epoch (UTC)
  std::uint32_t mode = 0644;  // permission bits (0755 typical for dirs)
};

struct ArchivePiece {
  enum class Kind : std::uint8_t {
    Bytes,     // made by the layout: append_bytes()
    FileData,  // the entry's file bytes, read by the caller
  };
  // `entry` of the pieces that belong to no entry (end records).
  static constexpr std::size_t kNoEntry = SIZE_MAX;

  Kind kind;
  std::size_t entry;     // index into the entries, or kNoEntry
  std::uint64_t offset;  // in the archive
  std::uint64_t length;  // never 0: an empty file has no FileData piece
  std::uint32_t tag;     // layout-specific: which kind of piece this is (kZip..., kTar...)
};

class ArchiveLayout {
 public:
  virtual ~ArchiveLayout() = default;
  ArchiveLayout(const ArchiveLayout&) = delete;
  ArchiveLayout& operator=(const ArchiveLayout&) = delete;

  // The exact archive length.
  std::uint64_t size() const noexcept { return size_; }
  // In order, contiguous, covering [0, size()).
  const std::vector<ArchivePiece>& pieces() const noexcept { return pieces_; }
  // The index of the piece holding byte `offset` (< size()).
  std::size_t piece_at(std::uint64_t offset) const;
  // As given to the factory, but a directory's name always ends in '/' and its size is 0.
  const std::vector<ArchiveEntry>& entries() const noexcept { return entries_; }

  // Whether making Bytes piece `piece` needs the CRC-32 of its entry's data (ZIP: a data
  // descriptor or a central directory record of a non-empty file; tar: never). An empty
  // file's CRC-32 is 0 and never asked for.
  virtual bool needs_crc(std::size_t piece) const noexcept = 0;
  // Appends the bytes of Bytes piece `piece` to `out`: exactly pieces()[piece].length of them,
  // the same whatever was made before. `crc(entry)` is called only when needs_crc(piece).
  virtual void append_bytes(std::size_t piece, const std::function<std::uint32_t(std::size_t)>& crc,
                            std::string& out) const = 0;

 protected:
  explicit ArchiveLayout(std::vector<ArchiveEntry> entries) : entries_(std::move(entries)) {}

  // Gives each directory its trailing '/' and size 0, and keeps the permission bits of each
  // mode only. False when an entry cannot be archived: an empty name, a NUL in it, a leading
  // '/', or a file whose name ends in '/'.
  static bool normalize(std::vector<ArchiveEntry>& entries);

  // Adds a piece at the end of the archive; one of length 0 is not added.
  void add_piece(ArchivePiece::Kind kind, std::size_t entry, std::uint64_t length,
                 std::uint32_t tag);

  std::vector<ArchiveEntry> entries_;

 private:
  std::vector<ArchivePiece> pieces_;
  std::uint64_t size_ = 0;
};

// CRC-32 (ISO-HDLC, zlib's) of `bytes`, continuing from `crc` (start with 0).
std::uint32_t crc32_update(std::uint32_t crc, std::string_view bytes) noexcept;

}  // namespace httpfs::http
