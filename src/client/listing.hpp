// What a directory listing page says (httpc --mirror): the entries of one directory, from
// httpfs's JSON listing (src/io/dir_listing.hpp's schema) or from an HTML index page as
// nginx's autoindex, Apache's mod_autoindex, lighttpd's dirlisting and httpfs's own pages
// write them (the links of <a href="...">). Pure: the page is given as text.
//
// Only a listing's children count: a link that leaves the directory (its parent, another
// directory, another origin), carries a query (sorting links) or a fragment is not an entry.
// Names are percent-decoded and then must be safe as one local path component
// (safe_local_name): anything else is left out and reported.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "http/url.hpp"

namespace httpfs::client {

struct ListingEntry {
  std::string name;  // decoded, one path component
  bool directory = false;
  http::Url url;  // of the entry (a directory's ends in '/')
  // From a JSON listing: what the server says (an HTML page's numbers are not trusted).
  std::optional<std::uint64_t> size;
  std::optional<std::int64_t> mtime;  // seconds since the epoch
};

struct Listing {
  std::vector<ListingEntry> entries;
  std::vector<std::string> refused;  // names (as linked) that are not safe here
};

// True when `name` can stand as one component of a local path: not empty, not "." or "..",
// no '/', no NUL or other control byte, valid UTF-8.
bool safe_local_name(std::string_view name);

// `base`: the listing's own URL (its path ends in '/'). nullopt when the text is not a
// listing of that kind at all (not JSON, no such schema).
std::optional<Listing> parse_json_listing(std::string_view text, const http::Url& base);
Listing parse_html_listing(std::string_view text, const http::Url& base);

}  // namespace httpfs::client
