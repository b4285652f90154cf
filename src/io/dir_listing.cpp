#include "io/dir_listing.hpp"

#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>

#include "http/date.hpp"
#include "http/percent.hpp"
#include "io/dir_reader.hpp"

namespace httpfs::io {

namespace {

// Valid UTF-8 as is; each byte of an invalid sequence becomes U+FFFD, so that text output
// stays valid UTF-8 whatever bytes a file name holds.
std::string displayable(std::string_view name) {
  if (http::valid_utf8(name)) return std::string(name);
  std::string out;
  for (std::size_t i = 0; i < name.size();) {
    // Take the longest valid prefix sequence starting at i (1 to 4 bytes).
    std::size_t len = 0;
    for (std::size_t k = 1; k <= 4 && i + k <= name.size(); ++k)
      if (http::valid_utf8(name.substr(i, k))) len = k;
    if (len == 0) {
      out += "\xEF\xBF\xBD";
      ++i;
    } else {
      out.append(name.substr(i, len));
      i += len;
    }
  }
  return out;
}

std::string human_size(std::uint64_t n) {
  static const char* kUnits[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};
  double v = static_cast<double>(n);
  int u = 0;
  while (v >= 1024 && u < 5) v /= 1024, ++u;
  char buf[32];
  if (u == 0)
    std::snprintf(buf, sizeof buf, "%llu B", static_cast<unsigned long long>(n));
  else
    std::snprintf(buf, sizeof buf, v < 10 ? "%.1f %s" : "%.0f %s", v, kUnits[u]);
  return buf;
}

const char* sort_name(ListingSort k) {
  switch (k) {
    case ListingSort::Size:
      return "size";
    case ListingSort::Mtime:
      return "mtime";
    case ListingSort::Name:
      break;
  }
  return "name";
}

std::string render_html(std::string_view dir, const std::vector<DirEntry>& entries, ListingSort key,
                        bool desc) {
  std::string out;
  out.reserve(512 + entries.size() * 160);
  std::string title;
  append_html_escaped(title, displayable(dir));
  out +=
      "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>Index of ";
  out += title;
  out +=
      "</title>\n<style>body{font:15px/1.4 system-ui,sans-serif;margin:2rem;color:#222}"
      "table{border-collapse:collapse}th,td{padding:.15rem 1.2rem .15rem 0;text-align:left}"
      "td.n{text-align:right;font-variant-numeric:tabular-nums}th a{color:inherit}"
      "a{text-decoration:none}a:hover{text-decoration:underline}</style>\n</head>\n<body>\n"
      "<h1>Index of ";
  out += title;
  out += "</h1>\n<table>\n<thead><tr>";
  for (ListingSort k : {ListingSort::Name, ListingSort::Size, ListingSort::Mtime}) {
    // A header link sorts by its column; clicking the current column flips the order.
    bool flip = k == key && !desc;
    out += "<th><a href=\"?sort=";
    out += sort_name(k);
    out += flip ? "&amp;order=desc\">" : "&amp;order=asc\">";
    out += k == ListingSort::Name ? "Name" : k == ListingSort::Size ? "Size" : "Modified (UTC)";
    if (k == key) out += desc ? " &#9660;" : " &#9650;";
    out += "</a></th>";
  }
  out += "</tr></thead>\n<tbody>\n";
  if (dir != "/") out += "<tr><td><a href=\"../\">../</a></td><td></td><td></td></tr>\n";
  for (const DirEntry& e : entries) {
    std::string link = http::percent_encode_path(e.name, /*keep_slash=*/false);
    if (e.is_dir) link += '/';
    out += "<tr><td><a href=\"./";   // "./" keeps a name like "a:b" from reading as a scheme
    append_html_escaped(out, link);  // '&' is legal in a path but starts a character reference
    out += "\">";
    append_html_escaped(out, displayable(e.name));
    if (e.is_dir) out += '/';
    out += "</a></td><td class=\"n\"";
    if (!e.is_dir) {
      out += " title=\"" + std::to_string(e.size) + " bytes\">";
      out += human_size(e.size);
    } else {
      out += ">-";
    }
    out += "</td><td>";
    std::string when = http::format_rfc3339(e.mtime);
    when[10] = ' ';
    when.pop_back();
    out += when;
    out += "</td></tr>\n";
  }
  out += "</tbody>\n</table>\n</body>\n</html>\n";
  return out;
}

std::string render_json(std::string_view dir, const std::vector<DirEntry>& entries) {
  std::string out;
  out.reserve(64 + entries.size() * 128);
  out += "{\"path\":";
  append_json_string(out, displayable(dir));
  out += ",\"entries\":[";
  const std::string base = http::percent_encode_path(dir);
  bool first = true;
  for (const DirEntry& e : entries) {
    if (!first) out += ',';
    first = false;
    out += "{\"name\":";
    append_json_string(out, displayable(e.name));
    out += ",\"type\":";
    out += e.is_dir ? "\"directory\"" : "\"file\"";
    out += ",\"size\":";
    out += std::to_string(e.is_dir ? 0 : e.size);
    out += ",\"mtime\":\"";
    out += http::format_rfc3339(e.mtime);
    out += "\",\"link\":";
    std::string link = base + http::percent_encode_path(e.name, false) + (e.is_dir ? "/" : "");
    append_json_string(out, link);
    out += '}';
  }
  out += "]}\n";
  return out;
}

std::string render_text(const std::vector<DirEntry>& entries) {
  std::string out;
  for (const DirEntry& e : entries) {
    // One entry per line: a name with a line break in it would read as two entries, so
    // control bytes are shown as '?'.
    for (char c : displayable(e.name))
      out += (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) ? '?' : c;
    if (e.is_dir) out += '/';
    out += '\n';
  }
  return out;
}

}  // namespace

void append_html_escaped(std::string& out, std::string_view text) {
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f)
          out += "&#xFFFD;";
        else
          out += c;
    }
  }
}

void append_json_string(std::string& out, std::string_view text) {
  static constexpr char kHex[] = "0123456789abcdef";
  out += '"';
  for (char c : text) {
    auto u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (u < 0x20) {
      out += "\\u00";
      out += kHex[u >> 4];
      out += kHex[u & 15];
    } else {
      out += c;
    }
  }
  out += '"';
}

int read_directory(const Docroot& root, std::string_view dir_path, bool show_hidden,
                   std::size_t max_entries, std::vector<DirEntry>& out) {
  out.clear();
  DirReader reader;
  if (int r = reader.open(root, dir_path, show_hidden); r < 0) return r;
  std::string name;
  struct stat st {};
  while (out.size() < max_entries && reader.next(name, st))
    out.push_back(DirEntry{name, S_ISDIR(st.st_mode), static_cast<std::uint64_t>(st.st_size),
                           st.st_mtim.tv_sec});
  return 0;
}

void sort_entries(std::vector<DirEntry>& entries, ListingSort key, bool descending) {
  std::stable_sort(entries.begin(), entries.end(), [&](const DirEntry& a, const DirEntry& b) {
    if (a.is_dir != b.is_dir) return a.is_dir;
    auto less = [&](const DirEntry& x, const DirEntry& y) {
      switch (key) {
        case ListingSort::Size:
          if (x.size != y.size) return x.size < y.size;
          break;
        case ListingSort::Mtime:
          if (x.mtime != y.mtime) return x.mtime < y.mtime;
          break;
        case ListingSort::Name:
          break;
      }
      return x.name < y.name;
    };
    return descending ? less(b, a) : less(a, b);
  });
}

std::string render_listing(ListingFormat format, std::string_view dir_path,
                           const std::vector<DirEntry>& entries, ListingSort key, bool descending) {
  switch (format) {
    case ListingFormat::Json:
      return render_json(dir_path, entries);
    case ListingFormat::Text:
      return render_text(entries);
    case ListingFormat::Html:
      break;
  }
  return render_html(dir_path, entries, key, descending);
}

}  // namespace httpfs::io
