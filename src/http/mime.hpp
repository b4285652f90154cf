// Content-Type by file name extension.
#pragma once

#include <string_view>

namespace httpfs::http {

inline constexpr std::string_view kDefaultMimeType = "application/octet-stream";

// The media type for a file name (case-insensitive extension match), with
// "; charset=utf-8" for text types. Unknown extensions get kDefaultMimeType.
std::string_view mime_type_for(std::string_view file_name) noexcept;

// Self-check of the table order (the lookup is a binary search).
bool mime_table_sorted() noexcept;

}  // namespace httpfs::http
