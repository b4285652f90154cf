#include "http/percent.hpp"

#include <doctest/doctest.h>

using namespace httpfs::http;

TEST_CASE("percent-decoding happens once and refuses bad escapes") {
  std::string out;
  CHECK(percent_decode("a%20b%2Fc%252e", out));
  CHECK(out == "a b/c%2e");
  CHECK(percent_decode("a+b", out));
  CHECK(out == "a+b");
  CHECK_FALSE(percent_decode("%", out));
  CHECK_FALSE(percent_decode("%4", out));
  CHECK_FALSE(percent_decode("%g0", out));
}

TEST_CASE("paths are encoded so that they decode back and are safe in HTML attributes") {
  CHECK(percent_encode_path("/a b/c#d?e%f") == "/a%20b/c%23d%3Fe%25f");
  CHECK(percent_encode_path("/\"<>'`;") == "/%22%3C%3E%27%60%3B");
  CHECK(percent_encode_path("a/b", false) == "a%2Fb");
  CHECK(percent_encode_path("\xc3\xa9t\xc3\xa9") == "%C3%A9t%C3%A9");
  std::string all;
  for (int c = 1; c < 256; ++c) all += static_cast<char>(c);
  std::string back;
  CHECK(percent_decode(percent_encode_path(all), back));
  CHECK(back == all);
}

TEST_CASE("UTF-8 validation is strict") {
  CHECK(valid_utf8("plain ascii"));
  CHECK(valid_utf8("\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80"));  // é € 😀
  CHECK_FALSE(valid_utf8("\xc0\xae"));                        // overlong '.'
  CHECK_FALSE(valid_utf8("\xe0\x80\xae"));                    // overlong '.' in 3 bytes
  CHECK_FALSE(valid_utf8("\xed\xa0\x80"));                    // surrogate
  CHECK_FALSE(valid_utf8("\xf4\x90\x80\x80"));                // above U+10FFFF
  CHECK_FALSE(valid_utf8("\xc3"));                            // truncated
  CHECK_FALSE(valid_utf8("\x80"));                            // lone continuation
  CHECK_FALSE(valid_utf8("\xff"));
}
