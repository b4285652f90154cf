#include "client/listing.hpp"

#include <doctest/doctest.h>

#include <string>
#include <vector>

using namespace httpfs::client;

namespace {

httpfs::http::Url url(const char* text) {
  return *httpfs::http::parse_url(text);
}

std::vector<std::string> names(const Listing& l) {
  std::vector<std::string> out;
  for (const ListingEntry& e : l.entries) out.push_back(e.name + (e.directory ? "/" : ""));
  return out;
}

using V = std::vector<std::string>;

}  // namespace

TEST_CASE("safe_local_name: one harmless path component") {
  for (const char* ok : {"a.txt", "b c", ".hidden", "ünïcode", "a..b", "-rf"}) {
    CAPTURE(ok);
    CHECK(safe_local_name(ok));
  }
  for (const std::string& bad : {std::string(""), std::string("."), std::string(".."),
                                 std::string("a/b"), std::string("a\0b", 3), std::string("a\nb"),
                                 std::string("a\x7f"), std::string("\xff\xfe")}) {
    CAPTURE(bad);
    CHECK_FALSE(safe_local_name(bad));
  }
}

TEST_CASE("parse_json_listing: httpfs's schema, children only") {
  const auto base = url("http://h:8080/dir/");
  const std::string text = R"({"path":"/dir/","entries":[
    {"name":"sub","type":"directory","size":0,"mtime":"2026-12-03T10:31:04Z","link":"/dir/sub/"},
    {"name":"b c.txt","type":"file","size":3,"mtime":"2026-12-03T10:31:04Z","link":"/dir/b%20c.txt"},
    {"name":"evil","type":"file","size":1,"link":"/etc/passwd"},
    {"name":"..","type":"directory","link":"/dir/../"},
    {"name":"liar","type":"file","link":"/dir/other"}]})";
  const auto l = parse_json_listing(text, base);
  REQUIRE(l.has_value());
  CHECK(names(*l) == V{"sub/", "b c.txt"});
  CHECK(l->entries[1].size == 3u);
  CHECK(l->entries[1].mtime == 1796293864);
  CHECK(l->entries[1].url.target == "/dir/b%20c.txt");
  CHECK(l->refused.size() == 3);
  CHECK_FALSE(parse_json_listing("<html>", base).has_value());
  CHECK_FALSE(parse_json_listing(R"({"entries": 5})", base).has_value());
}

TEST_CASE("parse_html_listing: nginx, Apache and lighttpd index pages") {
  const auto base = url("http://h/pub/");
  // nginx autoindex.
  const std::string nginx = R"(<html><head><title>Index of /pub/</title></head><body>
<h1>Index of /pub/</h1><hr><pre><a href="../">../</a>
<a href="docs/">docs/</a>                                              03-Dec-2026 10:00       -
<a href="a%20b.txt">a b.txt</a>                                          03-Dec-2026 10:00       3
<a href="x&amp;y.txt">x&amp;y.txt</a>                                          03-Dec-2026 10:00       3
</pre><hr></body></html>)";
  CHECK(names(parse_html_listing(nginx, base)) == V{"docs/", "a b.txt", "x&y.txt"});
  // Apache mod_autoindex: sorting links, the parent by absolute path, icons linking twice.
  const std::string apache = R"(<table><tr><th><a href="?C=N;O=D">Name</a></th>
<th><a href="?C=M;O=A">Last modified</a></th></tr>
<tr><td><a href="/">Parent Directory</a></td></tr>
<tr><td><a href="sub/"><img src="/icons/folder.gif"></a></td><td><a href="sub/">sub/</a></td></tr>
<tr><td><a href='f.bin'>f.bin</a></td></tr>
<tr><td><a href=g.txt>g.txt</a></td></tr>
<tr><td><a href="http://other.example/pub/x">x</a></td></tr>
<tr><td><a href="/pub/deep/er/">deep</a></td></tr>
<tr><td><a href="%2e%2e/">dots</a></td></tr>
<tr><td><a href="#top">top</a><abbr href="no">y</abbr></td></tr></table>)";
  const Listing l = parse_html_listing(apache, base);
  CHECK(names(l) == V{"sub/", "f.bin", "g.txt"});
  // lighttpd: absolute links of the directory's own path.
  const std::string lighttpd =
      R"(<tr><td class="n"><a href="../">Parent Directory</a>/</td></tr>
<tr><td class="n"><a href="/pub/file%231.txt">file#1.txt</a></td></tr>)";
  CHECK(names(parse_html_listing(lighttpd, base)) == V{"file#1.txt"});
  // Names that are not safe here are refused, not followed.
  const Listing bad = parse_html_listing(R"(<a href="a%2fb">x</a><a href="%00x">y</a>)", base);
  CHECK(bad.entries.empty());
  CHECK(bad.refused.size() == 2);
}
