// Content-Type by file name extension.
#pragma once

#include <string_view>

namespace httpfs::http {

inline constexpr std::string_view kDefaultMimeType = "application/octet-stream";

// The media type for a file name (case-insensitive extension match), with
// "; charset=utf-8" for text types. Unknown extensions get kDefaultMimeType.
std::string_view mime_type_for(std::string_view file_name) noexcept;

// True for media types that compress well (RFC 9110 8.4): text/*, JSON, JavaScript, XML and
// their +json/+xml kinds (SVG, RSS, XHTML), WASM. Parameters (charset) are ignored. False for
// everything else, images, audio, video, fonts and archives are compressed already.
bool is_compressible_type(std::string_view type) noexcept;

// Self-check of the table order (the lookup is a binary search).
bool mime_table_sorted() noexcept;

}  // namespace httpfs::http
