#include "http/structured_field.hpp"

#include <doctest/doctest.h>

#include <optional>
#include <string_view>

using namespace httpfs::http;

TEST_CASE("sf-integer items: the value, or nothing for anything else (RFC 8941 4.2.4)") {
  struct Row {
    std::string_view field;
    std::optional<std::int64_t> value;
  };
  const Row rows[] = {
      {"0", 0},
      {"42", 42},
      {"  42  ", 42},  // leading and trailing SP are discarded
      {"-7", -7},
      {"007", 7},
      {"999999999999999", kSfIntegerMax},
      {"-999999999999999", -kSfIntegerMax},
      {"1;a", 1},  // parameters are checked and ignored
      {"1;a=2;b=\"x\";c=?0;d=:AQ==:;e=tok/x;f=1.5", 1},
      {"1; a=1", 1},
      {"", std::nullopt},
      {" ", std::nullopt},
      {"1000000000000000", std::nullopt},  // 16 digits
      {"+1", std::nullopt},
      {"-", std::nullopt},
      {"1.0", std::nullopt},  // a decimal
      {"1.", std::nullopt},
      {"0x10", std::nullopt},
      {"1 2", std::nullopt},
      {"1,2", std::nullopt},  // two field lines combined: a list, not an item
      {"\t1", std::nullopt},  // only SP is discarded
      {"1\t", std::nullopt},
      {"1;", std::nullopt},
      {"1;A=1", std::nullopt},  // keys are lowercase
      {"1;a=", std::nullopt},
      {"1;a=\"unterminated", std::nullopt},
      {"1;a=:not base64!:", std::nullopt},
      {"1;a=1.2345", std::nullopt},  // three fractional digits at most
      {"?1", std::nullopt},
      {"\"1\"", std::nullopt},
  };
  for (const Row& r : rows) {
    CAPTURE(r.field);
    CHECK(parse_sf_integer(r.field) == r.value);
  }
}

TEST_CASE("sf-boolean items: ?1 and ?0 only (RFC 8941 4.2.8)") {
  struct Row {
    std::string_view field;
    std::optional<bool> value;
  };
  const Row rows[] = {
      {"?1", true},          {"?0", false},         {" ?1 ", true},         {"?1;x", true},
      {"?1;x=?0", true},     {"", std::nullopt},    {"?", std::nullopt},    {"?2", std::nullopt},
      {"?10", std::nullopt}, {"1", std::nullopt},   {"true", std::nullopt}, {"?1,?0", std::nullopt},
      {"? 1", std::nullopt}, {"?1;", std::nullopt},
  };
  for (const Row& r : rows) {
    CAPTURE(r.field);
    CHECK(parse_sf_boolean(r.field) == r.value);
  }
  CHECK(sf_boolean(true) == "?1");
  CHECK(sf_boolean(false) == "?0");
  CHECK(parse_sf_boolean(sf_boolean(true)) == true);
  CHECK(parse_sf_boolean(sf_boolean(false)) == false);
}
