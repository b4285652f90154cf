#include "http/archive_layout.hpp"

#include <zlib.h>

#include <algorithm>

namespace httpfs::http {

std::size_t ArchiveLayout::piece_at(std::uint64_t offset) const {
  // The last piece that starts at or before `offset`: pieces are never empty, so it holds it.
  const auto it =
      std::upper_bound(pieces_.begin(), pieces_.end(), offset,
                       [](std::uint64_t off, const ArchivePiece& p) { return off < p.offset; });
  return static_cast<std::size_t>(it - pieces_.begin()) - 1;
}

bool ArchiveLayout::normalize(std::vector<ArchiveEntry>& entries) {
  for (ArchiveEntry& e : entries) {
    if (e.name.empty() || e.name.front() == '/' || e.name.find('\0') != std::string::npos)
      return false;
    if (e.dir) {
      if (e.name.back() != '/') e.name += '/';
      e.size = 0;
    } else if (e.name.back() == '/') {
      return false;  // every reader would take it for a directory
    }
    e.mode &= 07777;
  }
  return true;
}

void ArchiveLayout::add_piece(ArchivePiece::Kind kind, std::size_t entry, std::uint64_t length,
                              std::uint32_t tag) {
  if (length == 0) return;
  pieces_.push_back(ArchivePiece{kind, entry, size_, length, tag});
  size_ += length;
}

std::uint32_t crc32_update(std::uint32_t crc, std::string_view bytes) noexcept {
  // zlib answers 0 for a null buffer, whatever `crc` was (an empty string_view may be one).
  if (bytes.empty()) return crc;
  // crc32_z takes a size_t length: no 4 GiB limit.
  return static_cast<std::uint32_t>(
      ::crc32_z(crc, reinterpret_cast<const Bytef*>(bytes.data()), bytes.size()));
}

}  // namespace httpfs::http
