#include "io/dir_listing.hpp"

#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

using namespace httpfs::io;

TEST_CASE("listings: sorting, escaping, the three formats") {
  std::vector<DirEntry> e = {{"b.txt", false, 10, 300},
                             {"a<&>.txt", false, 30, 100},
                             {"dir", true, 0, 200},
                             {"caf\xc3\xa9", false, 20, 400},
                             {std::string("bad\xff", 4), false, 1, 50}};
  sort_entries(e, ListingSort::Name, false);
  CHECK(e[0].name == "dir");
  CHECK(e[1].name == "a<&>.txt");
  sort_entries(e, ListingSort::Size, true);
  CHECK(e[1].name == "a<&>.txt");
  CHECK(e[4].name == std::string("bad\xff", 4));
  sort_entries(e, ListingSort::Mtime, false);
  CHECK(e[1].name == std::string("bad\xff", 4));

  const std::string html = render_listing(ListingFormat::Html, "/d/", e, ListingSort::Mtime, false);
  CHECK(html.find("a&lt;&amp;&gt;.txt") != std::string::npos);
  CHECK(html.find("href=\"./a%3C&amp;%3E.txt\"") != std::string::npos);
  CHECK(html.find("bad\xef\xbf\xbd") != std::string::npos);    // U+FFFD for the invalid byte
  CHECK(html.find("href=\"./bad%FF\"") != std::string::npos);  // the link stays exact

  auto j = nlohmann::json::parse(
      render_listing(ListingFormat::Json, "/d/", e, ListingSort::Name, false));
  CHECK(j["path"] == "/d/");
  CHECK(j["entries"].size() == 5);
  for (const auto& x : j["entries"]) {
    CHECK(x.contains("name"));
    CHECK(x.contains("size"));
    CHECK(x["link"].get<std::string>().rfind("/d/", 0) == 0);
  }
  CHECK(render_listing(ListingFormat::Text, "/", {{"x\ny", false, 1, 1}, {"d", true, 0, 1}},
                       ListingSort::Name, false) == "x?y\nd/\n");
  std::string s;
  append_json_string(s, "q\"\\\n\x01");
  CHECK(s == "\"q\\\"\\\\\\u000a\\u0001\"");
}
