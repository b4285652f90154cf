#include "http/mime.hpp"

#include <algorithm>
#include <array>

#include "http/chars.hpp"

namespace httpfs::http {

namespace {

struct Entry {
  std::string_view ext;  // lower case, no dot
  std::string_view type;
};

// Sorted by extension for binary search (checked by a unit test).
constexpr std::array kTypes = {
    Entry{"7z", "application/x-7z-compressed"},
    Entry{"aac", "audio/aac"},
    Entry{"apng", "image/apng"},
    Entry{"avif", "image/avif"},
    Entry{"bmp", "image/bmp"},
    Entry{"bz2", "application/x-bzip2"},
    Entry{"c", "text/plain; charset=utf-8"},
    Entry{"cpp", "text/plain; charset=utf-8"},
    Entry{"css", "text/css; charset=utf-8"},
    Entry{"csv", "text/csv; charset=utf-8"},
    Entry{"epub", "application/epub+zip"},
    Entry{"flac", "audio/flac"},
    Entry{"gif", "image/gif"},
    Entry{"gz", "application/gzip"},
    Entry{"h", "text/plain; charset=utf-8"},
    Entry{"hpp", "text/plain; charset=utf-8"},
    Entry{"htm", "text/html; charset=utf-8"},
    Entry{"html", "text/html; charset=utf-8"},
    Entry{"ico", "image/vnd.microsoft.icon"},
    Entry{"ics", "text/calendar; charset=utf-8"},
    Entry{"jpeg", "image/jpeg"},
    Entry{"jpg", "image/jpeg"},
    Entry{"js", "text/javascript; charset=utf-8"},
    Entry{"json", "application/json"},
    Entry{"jsonld", "application/ld+json"},
    Entry{"log", "text/plain; charset=utf-8"},
    Entry{"m4a", "audio/mp4"},
    Entry{"map", "application/json"},
    Entry{"md", "text/markdown; charset=utf-8"},
    Entry{"mjs", "text/javascript; charset=utf-8"},
    Entry{"mkv", "video/x-matroska"},
    Entry{"mov", "video/quicktime"},
    Entry{"mp3", "audio/mpeg"},
    Entry{"mp4", "video/mp4"},
    Entry{"mpeg", "video/mpeg"},
    Entry{"oga", "audio/ogg"},
    Entry{"ogg", "audio/ogg"},
    Entry{"ogv", "video/ogg"},
    Entry{"otf", "font/otf"},
    Entry{"pdf", "application/pdf"},
    Entry{"png", "image/png"},
    Entry{"py", "text/plain; charset=utf-8"},
    Entry{"rss", "application/rss+xml"},
    Entry{"rtf", "application/rtf"},
    Entry{"sh", "text/plain; charset=utf-8"},
    Entry{"svg", "image/svg+xml"},
    Entry{"tar", "application/x-tar"},
    Entry{"tif", "image/tiff"},
    Entry{"tiff", "image/tiff"},
    Entry{"toml", "text/plain; charset=utf-8"},
    Entry{"ts", "video/mp2t"},
    Entry{"ttf", "font/ttf"},
    Entry{"txt", "text/plain; charset=utf-8"},
    Entry{"wasm", "application/wasm"},
    Entry{"wav", "audio/wav"},
    Entry{"weba", "audio/webm"},
    Entry{"webm", "video/webm"},
    Entry{"webmanifest", "application/manifest+json"},
    Entry{"webp", "image/webp"},
    Entry{"woff", "font/woff"},
    Entry{"woff2", "font/woff2"},
    Entry{"xhtml", "application/xhtml+xml"},
    Entry{"xml", "application/xml"},
    Entry{"xz", "application/x-xz"},
    Entry{"yaml", "text/plain; charset=utf-8"},
    Entry{"yml", "text/plain; charset=utf-8"},
    Entry{"zip", "application/zip"},
    Entry{"zst", "application/zstd"},
};

}  // namespace

std::string_view mime_type_for(std::string_view name) noexcept {
  std::size_t dot = name.rfind('.');
  std::size_t slash = name.rfind('/');
  if (dot == std::string_view::npos || (slash != std::string_view::npos && dot < slash))
    return kDefaultMimeType;
  std::string_view ext = name.substr(dot + 1);
  char lower[16];
  if (ext.empty() || ext.size() > sizeof lower) return kDefaultMimeType;
  for (std::size_t i = 0; i < ext.size(); ++i) lower[i] = chars::to_lower(ext[i]);
  std::string_view key(lower, ext.size());
  auto it = std::lower_bound(kTypes.begin(), kTypes.end(), key,
                             [](const Entry& e, std::string_view k) { return e.ext < k; });
  return it != kTypes.end() && it->ext == key ? it->type : kDefaultMimeType;
}

bool mime_table_sorted() noexcept {
  return std::is_sorted(kTypes.begin(), kTypes.end(),
                        [](const Entry& a, const Entry& b) { return a.ext < b.ext; });
}

bool is_compressible_type(std::string_view type) noexcept {
  type = chars::trim_ows(type.substr(0, type.find(';')));
  const std::size_t slash = type.find('/');
  if (slash == std::string_view::npos) return false;
  const std::string_view major = type.substr(0, slash), minor = type.substr(slash + 1);
  if (chars::iequals(major, "text")) return true;
  if (!chars::iequals(major, "application") && !chars::iequals(major, "image")) return false;
  auto ends_with = [&](std::string_view suffix) {
    return minor.size() >= suffix.size() &&
           chars::iequals(minor.substr(minor.size() - suffix.size()), suffix);
  };
  if (ends_with("+json") || ends_with("+xml")) return true;  // ld+json, svg+xml, rss+xml
  if (!chars::iequals(major, "application")) return false;
  for (std::string_view m : {"json", "javascript", "xml", "wasm", "x-javascript"})
    if (chars::iequals(minor, m)) return true;
  return false;
}

}  // namespace httpfs::http
