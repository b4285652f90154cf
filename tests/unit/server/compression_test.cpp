#include "server/compression.hpp"

#include <doctest/doctest.h>

#include <string>
#include <vector>

using namespace httpfs;
using namespace httpfs::server;
using http::Coding;

namespace {

// A parsed request with `fields` ("Name: value\r\n" lines), kept alive with its bytes.
struct Req {
  std::string bytes;
  http::RequestParser parser;
  explicit Req(std::string_view fields) {
    bytes = "GET /f HTTP/1.1\r\nHost: h\r\n" + std::string(fields) + "\r\n";
    REQUIRE(parser.parse(bytes) == http::RequestParser::Result::Complete);
  }
  const http::RequestHead& head() const { return parser.head(); }
};

const http::CodingSet kSiblings{Coding::Zstd, Coding::Br, Coding::Gzip};
const http::CodingSet kOnTheFly{Coding::Zstd, Coding::Gzip};

std::string describe(const std::vector<CodingChoice>& v) {
  std::string out;
  for (const CodingChoice& c : v) {
    if (!out.empty()) out += ' ';
    out += std::string(http::coding_name(c.coding)) + (c.precompressed ? ".file" : ".now");
  }
  return out;
}

}  // namespace

TEST_CASE("coding_choices: by q, then a sibling before coding on the fly, then zstd, br, gzip") {
  struct Case {
    std::string_view fields;
    http::CodingSet siblings, on_the_fly;
    std::string_view expected;
  };
  const Case cases[] = {
      {"Accept-Encoding: gzip, deflate, br, zstd\r\n", kSiblings, kOnTheFly,
       "zstd.file br.file gzip.file zstd.now gzip.now"},
      {"Accept-Encoding: gzip\r\n", kSiblings, kOnTheFly, "gzip.file gzip.now"},
      {"Accept-Encoding: gzip;q=1, br;q=0.5\r\n", kSiblings, kOnTheFly,
       "gzip.file gzip.now br.file"},
      {"Accept-Encoding: br;q=0.9, zstd;q=0.8\r\n", kSiblings, kOnTheFly,
       "br.file zstd.file zstd.now"},
      {"Accept-Encoding: gzip, zstd\r\n", {}, kOnTheFly, "zstd.now gzip.now"},
      {"Accept-Encoding: gzip, zstd\r\n", kSiblings, {}, "zstd.file gzip.file"},
      {"Accept-Encoding: gzip;q=0, zstd\r\n", kSiblings, kOnTheFly, "zstd.file zstd.now"},
      {"Accept-Encoding: identity\r\n", kSiblings, kOnTheFly, ""},
      {"Accept-Encoding: gzip;q=0.5, identity\r\n", kSiblings, kOnTheFly, ""},
      {"Accept-Encoding: \r\n", kSiblings, kOnTheFly, ""},
      {"", kSiblings, kOnTheFly, ""},
      // Several field lines make one list (RFC 9110 5.3).
      {"Accept-Encoding: gzip;q=0.5\r\naccept-encoding: zstd\r\n", kSiblings, kOnTheFly,
       "zstd.file zstd.now gzip.file gzip.now"},
  };
  for (const Case& c : cases) {
    CAPTURE(c.fields);
    Req r(c.fields);
    CHECK(describe(coding_choices(r.head(), c.siblings, c.on_the_fly)) == c.expected);
  }
}

TEST_CASE("on-the-fly codings: type, size bounds, Range, --compress") {
  ServerOptions o;
  Req plain("");
  Req ranged("Range: bytes=0-10\r\n");
  const auto has = [](http::CodingSet s) { return s.has(Coding::Zstd) && s.has(Coding::Gzip); };
  CHECK(has(on_the_fly_codings(o, plain.head(), "text/css", 1024, BodyKind::File)));
  CHECK(on_the_fly_codings(o, plain.head(), "text/css", 1023, BodyKind::File).empty());
  CHECK(has(on_the_fly_codings(o, plain.head(), "text/css", 64ull << 20, BodyKind::File)));
  CHECK(on_the_fly_codings(o, plain.head(), "text/css", (64ull << 20) + 1, BodyKind::File).empty());
  // A listing has no upper bound but --max-listing.
  CHECK(has(on_the_fly_codings(o, plain.head(), "text/html", 1ull << 30, BodyKind::Listing)));
  CHECK(on_the_fly_codings(o, plain.head(), "image/png", 5000, BodyKind::File).empty());
  CHECK(on_the_fly_codings(o, ranged.head(), "text/css", 5000, BodyKind::File).empty());
  CHECK_FALSE(
      on_the_fly_codings(o, plain.head(), "text/css", 5000, BodyKind::File).has(Coding::Br));
  o.compress = false;
  CHECK(on_the_fly_codings(o, plain.head(), "text/css", 5000, BodyKind::File).empty());
}

TEST_CASE("Vary: Accept-Encoding whenever the answer could differ") {
  ServerOptions o;
  CHECK(varies_by_coding(o, "image/png", 10));  // a sibling may appear
  o.precompressed = false;
  CHECK_FALSE(varies_by_coding(o, "image/png", 5000));
  CHECK(varies_by_coding(o, "text/plain", 5000));
  CHECK_FALSE(varies_by_coding(o, "text/plain", 100));
  o.compress = false;
  CHECK_FALSE(varies_by_coding(o, "text/plain", 5000));
}

TEST_CASE("the ETag of a body coded on the fly is weak and names the coding") {
  CHECK(coded_etag("\"abc\"", Coding::Gzip) == "W/\"abc-gzip\"");
  CHECK(coded_etag("\"abc\"", Coding::Zstd) == "W/\"abc-zstd\"");
  CHECK(coded_etag("W/\"abc\"", Coding::Zstd) == "W/\"abc-zstd\"");
}
