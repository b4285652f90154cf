#include "client/listing.hpp"

#include <cstdlib>
#include <ctime>
#include <nlohmann/json.hpp>

#include "http/chars.hpp"
#include "http/percent.hpp"

namespace httpfs::client {

namespace {

// "2026-12-03T10:31:04Z" (what httpfs writes; an offset or fraction is not needed here).
std::optional<std::int64_t> parse_rfc3339_utc(std::string_view s) {
  std::tm tm{};
  if (s.size() != 20 || s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' ||
      s[16] != ':' || s[19] != 'Z')
    return std::nullopt;
  auto num = [&](std::size_t at, std::size_t len, int& out) {
    out = 0;
    for (std::size_t i = at; i < at + len; ++i) {
      if (!http::chars::is_digit(s[i])) return false;
      out = out * 10 + (s[i] - '0');
    }
    return true;
  };
  int year = 0, month = 0;
  if (!num(0, 4, year) || !num(5, 2, month) || !num(8, 2, tm.tm_mday) || !num(11, 2, tm.tm_hour) ||
      !num(14, 2, tm.tm_min) || !num(17, 2, tm.tm_sec))
    return std::nullopt;
  tm.tm_year = year - 1900;
  tm.tm_mon = month - 1;
  return static_cast<std::int64_t>(::timegm(&tm));
}

// The entry `reference` names, if it is a child of `base`'s directory: its decoded name.
std::optional<ListingEntry> child(const http::Url& base, std::string_view reference) {
  if (reference.empty() || reference.find_first_of("?#") != std::string_view::npos)
    return std::nullopt;
  const auto url = http::resolve_reference(base, reference);
  if (!url || url->scheme != base.scheme || url->host != base.host || url->port != base.port)
    return std::nullopt;
  const std::string& dir = base.target;
  if (!url->target.starts_with(dir) || url->target.size() == dir.size()) return std::nullopt;
  std::string_view rest = std::string_view(url->target).substr(dir.size());
  ListingEntry e;
  e.directory = rest.ends_with('/');
  if (e.directory) rest.remove_suffix(1);
  if (rest.empty() || rest.find('/') != std::string_view::npos) return std::nullopt;
  if (!http::percent_decode(rest, e.name)) e.name = std::string(rest);
  e.url = *url;
  return e;
}

void add(Listing& out, ListingEntry e) {
  if (!safe_local_name(e.name)) {
    out.refused.push_back(e.name);
    return;
  }
  for (const ListingEntry& have : out.entries)
    if (have.name == e.name) return;  // a page links a name twice (icon and text)
  out.entries.push_back(std::move(e));
}

// &amp; &lt; &gt; &quot; &apos; &#N; &#xN; in an attribute value.
std::string decode_entities(std::string_view v) {
  std::string out;
  for (std::size_t i = 0; i < v.size(); ++i) {
    if (v[i] != '&') {
      out += v[i];
      continue;
    }
    const std::size_t semi = v.find(';', i);
    if (semi == std::string_view::npos || semi - i > 10) {
      out += v[i];
      continue;
    }
    const std::string_view name = v.substr(i + 1, semi - i - 1);
    unsigned long code = 0;
    if (name == "amp")
      code = '&';
    else if (name == "lt")
      code = '<';
    else if (name == "gt")
      code = '>';
    else if (name == "quot")
      code = '"';
    else if (name == "apos")
      code = '\'';
    else if (name.starts_with("#x") || name.starts_with("#X"))
      code = std::strtoul(std::string(name.substr(2)).c_str(), nullptr, 16);
    else if (name.starts_with("#"))
      code = std::strtoul(std::string(name.substr(1)).c_str(), nullptr, 10);
    if (code == 0 || code > 0x7f) {  // only ASCII matters in a link; keep the rest as it is
      out += v[i];
      continue;
    }
    out += static_cast<char>(code);
    i = semi;
  }
  return out;
}

}  // namespace

bool safe_local_name(std::string_view name) {
  if (name.empty() || name == "." || name == "..") return false;
  for (const char c : name)
    if (c == '/' || static_cast<unsigned char>(c) < 0x20 || c == 0x7f) return false;
  return http::valid_utf8(name);
}

std::optional<Listing> parse_json_listing(std::string_view text, const http::Url& base) {
  const nlohmann::json doc = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!doc.is_object() || !doc.contains("entries") || !doc["entries"].is_array())
    return std::nullopt;
  Listing out;
  for (const nlohmann::json& j : doc["entries"]) {
    if (!j.is_object() || !j.contains("name") || !j["name"].is_string()) continue;
    const std::string name = j["name"].get<std::string>();
    const bool directory = j.value("type", "") == "directory";
    std::string link = j.contains("link") && j["link"].is_string()
                           ? j["link"].get<std::string>()
                           : http::percent_encode_path(name, false) + (directory ? "/" : "");
    std::optional<ListingEntry> e = child(base, link);
    if (!e || e->name != name || e->directory != directory) {
      out.refused.push_back(name);  // a link that is not this directory's child of that name
      continue;
    }
    if (j.contains("size") && j["size"].is_number_unsigned())
      e->size = j["size"].get<std::uint64_t>();
    if (j.contains("mtime") && j["mtime"].is_string())
      e->mtime = parse_rfc3339_utc(j["mtime"].get<std::string>());
    add(out, std::move(*e));
  }
  return out;
}

Listing parse_html_listing(std::string_view text, const http::Url& base) {
  Listing out;
  for (std::size_t at = 0; (at = text.find("<a", at)) != std::string_view::npos;) {
    const std::size_t end = text.find('>', at);
    if (end == std::string_view::npos) break;
    const std::string_view tag = text.substr(at, end - at);
    at = end;
    if (tag.size() < 3 || (tag[2] != ' ' && tag[2] != '\t' && tag[2] != '\n' && tag[2] != '\r'))
      continue;  // <a ...>, not <abbr>
    const std::size_t href = tag.find("href=");
    if (href == std::string_view::npos || href + 5 >= tag.size()) continue;
    const char quote = tag[href + 5];
    std::string_view value;
    if (quote == '"' || quote == '\'') {
      const std::size_t close = tag.find(quote, href + 6);
      if (close == std::string_view::npos) continue;
      value = tag.substr(href + 6, close - href - 6);
    } else {
      value = tag.substr(href + 5);
      value = value.substr(0, value.find_first_of(" \t\r\n"));
    }
    if (std::optional<ListingEntry> e = child(base, decode_entities(value)))
      add(out, std::move(*e));
  }
  return out;
}

}  // namespace httpfs::client
