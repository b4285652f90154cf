// normalize_target: the one place where a request-target becomes a file path.
#include "http/target.hpp"

#include <doctest/doctest.h>

using namespace httpfs::http;

namespace {

std::string norm(std::string_view target, TargetForm form = TargetForm::Origin) {
  RequestPath p;
  std::string_view err = normalize_target(target, form, p);
  return err.empty() ? p.path : "!" + std::string(err);
}

}  // namespace

TEST_CASE("paths are decoded once and dot segments removed") {
  CHECK(norm("/") == "/");
  CHECK(norm("/a/b.txt") == "/a/b.txt");
  CHECK(norm("/a/b/") == "/a/b/");
  CHECK(norm("/a//b") == "/a/b");
  CHECK(norm("/a/./b") == "/a/b");
  CHECK(norm("/a/b/..") == "/a/");
  CHECK(norm("/a/b/../c") == "/a/c");
  CHECK(norm("/a/.") == "/a/");
  CHECK(norm("/%61%20b") == "/a b");
  CHECK(norm("/%252e%252e/x") == "/%2e%2e/x");  // decoded once: a literal name "%2e%2e"
  CHECK(norm("/caf%C3%A9") == "/caf\xc3\xa9");
  CHECK(norm("/tab%09here") == "/tab\there");  // a valid, if odd, file name
  CHECK(norm("/a%0d%0aX") == "/a\r\nX");       // encoded again wherever it is echoed
  CHECK(norm("/x?y=1") == "/x");
  CHECK(norm("http://h:80/a/../b?q", TargetForm::Absolute) == "/b");
  CHECK(norm("http://h", TargetForm::Absolute) == "/");
  RequestPath p;
  CHECK(normalize_target("/d/?format=json&sort=size", TargetForm::Origin, p).empty());
  CHECK(p.query == "format=json&sort=size");
}

TEST_CASE("traversal in any encoding is refused") {
  for (const char* t : {"/..",
                        "/../etc/passwd",
                        "/a/../../etc",
                        "/%2e%2e/etc",
                        "/%2E%2E/etc",
                        "/.%2e/etc",
                        "/%2e./etc",
                        "/a/%2e%2e/%2e%2e/etc",
                        "/..%2fetc",
                        "/..%2Fetc",
                        "/a%2f..%2f..%2fetc",
                        "/..%5cetc",
                        "/a%5c..%5c..",
                        "/%c0%ae%c0%ae/etc",
                        "/%e0%80%ae%e0%80%ae/",
                        "/%c0%af",
                        "/a%00.txt",
                        "/%00",
                        "/%ff",
                        "/%c3"}) {
    std::string r = norm(t);
    CHECK_MESSAGE(r.front() == '!', t << " -> " << r);
  }
  CHECK(norm("*", TargetForm::Asterisk).front() == '!');
  CHECK(norm("h:443", TargetForm::Authority).front() == '!');
}

TEST_CASE("query parameters") {
  CHECK(query_param("format=json&sort=size", "sort") == "size");
  CHECK(query_param("a=1&a=2", "a") == "1");
  CHECK(query_param("q=a+b%21", "q") == "a b!");
  CHECK(query_param("flag", "flag") == "");
  CHECK_FALSE(query_param("a=1", "b").has_value());
  CHECK_FALSE(query_param("a=%zz", "a").has_value());
}
