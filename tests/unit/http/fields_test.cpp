#include "http/fields.hpp"

#include <doctest/doctest.h>

#include <string>
#include <vector>

using namespace httpfs::http;

TEST_CASE("list elements") {
  std::vector<std::string> got;
  for_each_list_element(" a, ,b ,\"c, d\" , e;q=\"x,y\",", [&](std::string_view e) {
    got.emplace_back(e);
    return true;
  });
  CHECK(got == std::vector<std::string>{"a", "b", "\"c, d\"", "e;q=\"x,y\""});
  CHECK(list_contains_token("keep-alive, Upgrade", "upgrade"));
  CHECK_FALSE(list_contains_token("keep-alive", "close"));
}

TEST_CASE("the vectorised value scan agrees with the table at every length and offset") {
  for (int bad : {0x00, 0x01, 0x0a, 0x0d, 0x1f, 0x7f}) {
    for (std::size_t len = 1; len < 70; ++len) {
      for (std::size_t at = 0; at < len; at += 7) {
        std::string s(len, 'a');
        s[len / 3] = '\xe9';  // obs-text is allowed
        s[len / 2] = '\t';    // so is HTAB
        s[at] = static_cast<char>(bad);
        CHECK(find_non_field_value_byte(s.data(), s.data() + s.size()) == at);
      }
    }
  }
  std::string ok(100, 'x');
  CHECK(find_non_field_value_byte(ok.data(), ok.data() + ok.size()) == 100);
}

TEST_CASE("Content-Length values") {
  std::uint64_t n = 0;
  CHECK(parse_content_length("0", n) == ParseError::None);
  CHECK(parse_content_length("00012", n) == ParseError::None);
  CHECK(n == 12);
  CHECK(parse_content_length("9223372036854775807", n) == ParseError::None);
  CHECK(parse_content_length("9223372036854775808", n) == ParseError::ContentLengthOverflow);
  CHECK(parse_content_length("18446744073709551616", n) == ParseError::ContentLengthOverflow);
  CHECK(parse_content_length("", n) == ParseError::BadContentLength);
  CHECK(parse_content_length("-1", n) == ParseError::BadContentLength);
  CHECK(parse_content_length("1 2", n) == ParseError::BadContentLength);
  CHECK(parse_content_length("0x10", n) == ParseError::BadContentLength);
}

TEST_CASE("every parse error has a status and a message") {
  for (int i = 1; i <= static_cast<int>(ParseError::UnexpectedEof); ++i) {
    auto e = static_cast<ParseError>(i);
    CHECK(error_status(e) >= 400);
    CHECK(!error_message(e).empty());
    CHECK(!error_name(e).empty());
  }
  CHECK(error_status(ParseError::None) == 0);
}
