// Directory listings: reading a directory and rendering it as HTML, JSON or plain text.
//
// JSON schema (application/json):
//   { "path": "/docs/",                          the directory's URL path, decoded
//     "entries": [
//       { "name": "report.pdf",                   the file name (invalid UTF-8 bytes shown as
//       U+FFFD)
//         "type": "file" | "directory",
//         "size": 12345,                          bytes; 0 for directories
//         "mtime": "2024-05-01T12:00:00Z",        RFC 3339, UTC
//         "link": "/docs/report.pdf" } ] }        percent-encoded URL path, exact
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "io/docroot.hpp"

namespace httpfs::io {

struct DirEntry {
  std::string name;
  bool is_dir = false;
  std::uint64_t size = 0;
  std::int64_t mtime = 0;  // seconds since the epoch
};

enum class ListingSort { Name, Size, Mtime };
enum class ListingFormat { Html, Json, Text };

// Reads the directory `dir_path` (normalised, "/" for the root) through the docroot, with
// the rules of DirReader (io/dir_reader.hpp). Returns 0 or -errno.
int read_directory(const Docroot& root, std::string_view dir_path, bool show_hidden,
                   std::size_t max_entries, std::vector<DirEntry>& out);

// Directories first, then by the key; names compare bytewise.
void sort_entries(std::vector<DirEntry>& entries, ListingSort key, bool descending);

// `dir_path` is the decoded URL path of the directory, ending in "/".
std::string render_listing(ListingFormat format, std::string_view dir_path,
                           const std::vector<DirEntry>& entries, ListingSort key, bool descending);

// Helpers shared with error pages.
void append_html_escaped(std::string& out, std::string_view text);
void append_json_string(std::string& out, std::string_view text);  // with quotes

}  // namespace httpfs::io
