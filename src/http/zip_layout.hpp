// ZIP (PKWARE APPNOTE 6.3.x) as an ArchiveLayout: stored (no compression), streamed.
//
// Each file is a local header, its data, and a data descriptor after it (general purpose
// bit 3): its CRC-32 is only known once its bytes have passed. A directory is a local header
// alone. Then one central directory record per entry, then the end records. Names are UTF-8
// (bit 11); every header has the extended timestamp (0x5455) beside the DOS date and time.
//
// ZIP64 where the 32-bit fields end: an entry whose size or local header offset is
// 0xFFFFFFFF or more is a ZIP64 entry (version needed 4.5; a file's local header carries a
// 0x0001 extra field and its descriptor 8-byte sizes); the ZIP64 end record and locator come
// before the classic end record when there is a ZIP64 entry, 65 535 entries or more, or a
// central directory that starts or spans past 0xFFFFFFFF.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "http/archive_layout.hpp"

namespace httpfs::http {

// ArchivePiece::tag of a ZIP layout's pieces.
inline constexpr std::uint32_t kZipLocalHeader = 0;     // Bytes: an entry's local file header
inline constexpr std::uint32_t kZipFileData = 1;        // FileData
inline constexpr std::uint32_t kZipDataDescriptor = 2;  // Bytes: a file's CRC-32 and sizes
inline constexpr std::uint32_t kZipCentralRecord = 3;   // Bytes: an entry's central record
inline constexpr std::uint32_t kZipEnd = 4;  // Bytes: [ZIP64 end record, locator,] end record

// Null when an entry cannot be stored: see ArchiveLayout::normalize(), or a name longer than
// 65 535 bytes.
std::unique_ptr<ArchiveLayout> make_zip_layout(std::vector<ArchiveEntry> entries);

}  // namespace httpfs::http
