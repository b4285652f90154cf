#include "http/content_coding.hpp"

#include <doctest/doctest.h>

#include <string_view>

using namespace httpfs::http;

namespace {

const CodingSet kAll{Coding::Zstd, Coding::Br, Coding::Gzip};
const CodingSet kOnTheFly{Coding::Zstd, Coding::Gzip};

struct Case {
  std::string_view accept;
  CodingSet available;
  Coding expected;
};

}  // namespace

TEST_CASE("choose_coding weighs Accept-Encoding, then prefers zstd, br, gzip") {
  const Case cases[] = {
      {"gzip", kAll, Coding::Gzip},
      {"gzip, deflate, br, zstd", kAll, Coding::Zstd},
      {"gzip, deflate, br", kAll, Coding::Br},
      {"gzip, deflate, br", kOnTheFly, Coding::Gzip},
      {"br", kOnTheFly, Coding::Identity},
      {"zstd;q=0.5, gzip", kAll, Coding::Gzip},
      {"zstd;q=0.5, gzip;q=0.5", kAll, Coding::Zstd},
      {"gzip;q=0", kAll, Coding::Identity},
      {"GZIP", kAll, Coding::Gzip},
      {"x-gzip", kAll, Coding::Gzip},
      {"*", kAll, Coding::Zstd},
      {"*;q=0.2, zstd;q=0", kAll, Coding::Br},
      {"*, gzip;q=0, zstd;q=0, br;q=0", kAll, Coding::Identity},
      {"identity", kAll, Coding::Identity},
      {"", kAll, Coding::Identity},
      {"deflate, compress", kAll, Coding::Identity},
      // A coding weighed below identity loses to it; above, wins.
      {"gzip;q=0.4, identity;q=0.5", kAll, Coding::Identity},
      {"gzip;q=0.5, identity;q=0.5", kAll, Coding::Gzip},
      {"gzip;q=0.5, identity;q=0", kAll, Coding::Gzip},
      // A malformed weight drops that element only.
      {"zstd;q=2, gzip", kAll, Coding::Gzip},
      {"zstd;q=abc", kAll, Coding::Identity},
      {"gzip;q=0.001", kAll, Coding::Gzip},
      {"  gzip ;  q=1 ,br;q=0.9", kAll, Coding::Gzip},
      {"gzip", CodingSet{}, Coding::Identity},
      {",,gzip,,", kAll, Coding::Gzip},
  };
  for (const Case& c : cases) {
    CAPTURE(c.accept);
    CHECK(choose_coding(c.accept, true, c.available) == c.expected);
  }
}

TEST_CASE("choose_coding: no Accept-Encoding field means identity") {
  CHECK(choose_coding("", false, kAll) == Coding::Identity);
  CHECK(choose_coding("gzip", false, kAll) == Coding::Identity);
}

TEST_CASE("coding names and sibling suffixes") {
  CHECK(coding_name(Coding::Zstd) == "zstd");
  CHECK(coding_name(Coding::Br) == "br");
  CHECK(coding_name(Coding::Gzip) == "gzip");
  CHECK(coding_suffix(Coding::Zstd) == ".zst");
  CHECK(coding_suffix(Coding::Br) == ".br");
  CHECK(coding_suffix(Coding::Gzip) == ".gz");
  CHECK(coding_suffix(Coding::Identity).empty());
  CHECK(coding_from_name("x-gzip") == Coding::Gzip);
  CHECK(coding_from_name("Zstd") == Coding::Zstd);
  CHECK(coding_from_name(" br ") == Coding::Br);
  CHECK(coding_from_name("identity") == Coding::Identity);
  CHECK_FALSE(coding_from_name("deflate").has_value());
  CHECK_FALSE(coding_from_name("").has_value());
}
