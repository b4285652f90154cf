// tar (POSIX.1-2001 pax, readable as ustar) as an ArchiveLayout, streamed.
//
// Each entry is a ustar header, then (files) its data padded to a 512-byte block. What ustar
// cannot say goes first in a pax extended header ('x') of its own: a name that is not ASCII
// or does not fit the name and prefix fields (path), a size of 8 GiB or more (size), a
// modification time outside the octal field (mtime), and hdrcharset=BINARY for a name that is
// not UTF-8. The ustar fields then hold what they can: a size or time too big for octal in
// base-256 (the GNU form, which pax readers ignore and others understand), a name with its
// non-ASCII bytes as '_'. Two zero blocks end the archive.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "http/archive_layout.hpp"

namespace httpfs::http {

// ArchivePiece::tag of a tar layout's pieces.
inline constexpr std::uint32_t kTarHeader = 0;    // Bytes: [pax header, records,] ustar header
inline constexpr std::uint32_t kTarFileData = 1;  // FileData
inline constexpr std::uint32_t kTarPadding = 2;   // Bytes: zeros to the data's next block
inline constexpr std::uint32_t kTarEnd = 3;       // Bytes: two zero blocks

// Null when an entry cannot be stored: see ArchiveLayout::normalize().
std::unique_ptr<ArchiveLayout> make_tar_layout(std::vector<ArchiveEntry> entries);

}  // namespace httpfs::http
