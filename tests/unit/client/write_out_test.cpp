#include "client/write_out.hpp"

#include <doctest/doctest.h>

#include <string>
#include <vector>

using namespace httpfs::client;

namespace {

RunFacts facts() {
  RunFacts f;
  f.http_code = 200;
  f.http_version = "1.1";
  f.method = "GET";
  f.url_effective = "http://127.0.0.1:8080/a.txt";
  f.content_type = "text/plain";
  f.filename_effective = "a.txt";
  f.num_redirects = 1;
  f.size_download = 2000;
  f.size_upload = 0;
  f.size_header = 120;
  f.time_starttransfer = 0.25;
  f.time_total = 0.5;
  f.headers = {{"Content-Type", "text/plain"}, {"Vary", "a"}, {"vary", "b"}};
  return f;
}

// Stdout text only, when the format does not switch streams.
std::string text(std::string_view format, const RunFacts& f = facts()) {
  std::vector<std::string> unknown;
  const std::vector<WriteOutPiece> p = format_write_out(format, f, unknown);
  REQUIRE(p.size() == 1);
  return p[0].text;
}

}  // namespace

TEST_CASE("-w: variables, escapes and percent signs as curl prints them") {
  struct Row {
    const char* format;
    const char* want;
  };
  const Row rows[] = {
      {"%{http_code}", "200"},
      {"%{response_code}\\n", "200\n"},
      {"%{http_version} %{method} %{num_redirects}", "1.1 GET 1"},
      {"%{url_effective}", "http://127.0.0.1:8080/a.txt"},
      {"%{size_download}/%{size_upload}/%{size_header}", "2000/0/120"},
      {"%{speed_download}", "4000"},  // bytes per second over the run, whole
      {"%{time_total} %{time_starttransfer}", "0.500000 0.250000"},
      {"%{content_type};%{filename_effective};%{exitcode};%{errormsg}", "text/plain;a.txt;0;"},
      {"%header{content-type}|%header{VARY}|%header{none}", "text/plain|a, b|"},
      {"100%% done\\t\\r\\\\", "100% done\t\r\\"},
      {"\\x %x %{ %", "\\x %x %{ %"},  // left as they are
      {"", ""},
  };
  for (const Row& r : rows) {
    CAPTURE(r.format);
    CHECK(text(r.format) == r.want);
  }
  RunFacts none = facts();
  none.http_code = 0;
  CHECK(text("%{http_code}", none) == "000");
}

TEST_CASE("-w: %{stderr} and %{stdout} switch streams; unknown variables are named once") {
  std::vector<std::string> unknown;
  const std::vector<WriteOutPiece> p =
      format_write_out("a%{stderr}b%{nope}%{nope}%{stdout}c", facts(), unknown);
  REQUIRE(p.size() == 3);
  CHECK(p[0].stream == WriteOutStream::Stdout);
  CHECK(p[0].text == "a");
  CHECK(p[1].stream == WriteOutStream::Stderr);
  CHECK(p[1].text == "b");
  CHECK(p[2].text == "c");
  CHECK(unknown == std::vector<std::string>{"nope"});
}

TEST_CASE("-w: %{json} holds every variable, numbers as numbers, missing text as null") {
  RunFacts f = facts();
  f.errormsg = "a \"quoted\"\nline";
  f.filename_effective.clear();
  const std::string j = text("%{json}", f);
  CHECK(j.front() == '{');
  CHECK(j.back() == '}');
  CHECK(j.find("\"http_code\":200,") != std::string::npos);
  CHECK(j.find("\"size_download\":2000,") != std::string::npos);
  CHECK(j.find("\"time_total\":0.500000,") != std::string::npos);
  CHECK(j.find("\"errormsg\":\"a \\\"quoted\\\"\\nline\",") != std::string::npos);
  CHECK(j.find("\"filename_effective\":null,") != std::string::npos);
  CHECK(j.find("\"url_effective\":\"http://127.0.0.1:8080/a.txt\"}") != std::string::npos);
}
