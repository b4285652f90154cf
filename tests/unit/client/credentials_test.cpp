#include "client/credentials.hpp"

#include <doctest/doctest.h>

#include <optional>
#include <string>

using httpfs::client::basic_authorization;
using httpfs::client::Login;
using httpfs::client::netrc_lookup;

namespace {

std::string found(std::string_view text, std::string_view host) {
  const std::optional<Login> l = netrc_lookup(text, host);
  return l ? l->user + ":" + l->password : "none";
}

}  // namespace

TEST_CASE("netrc: the first machine entry of the host, else the default") {
  struct Row {
    const char* text;
    const char* host;
    const char* want;
  };
  const Row rows[] = {
      {"machine a.example login u password p", "a.example", "u:p"},
      {"machine a.example login u password p", "A.Example", "u:p"},  // case-insensitive
      {"machine a.example login u password p", "b.example", "none"},
      // One entry per machine, on several lines, in any order of its words.
      {"machine a login ua password pa\nmachine b\n  password pb\n  login ub\n", "b", "ub:pb"},
      // The first entry of a host wins; default only when no machine matched.
      {"machine a login first password 1\nmachine a login second password 2", "a", "first:1"},
      {"machine a login ua password pa\ndefault login anon password guest", "b", "anon:guest"},
      {"default login anon password guest\nmachine a login ua password pa", "a", "ua:pa"},
      // Quoted tokens, with escapes; macdef skips its macro up to the empty line.
      {"machine a login \"u s\" password \"p\\\"w\\\\d\"", "a", "u s:p\"w\\d"},
      {"macdef init\nmachine evil login x password y\n\nmachine a login u password p", "a", "u:p"},
      {"macdef init\nmachine a login x password y\n\n", "a", "none"},
      // account and unknown words take a value; an entry without a login has an empty one.
      {"machine a account acct login u password p", "a", "u:p"},
      {"machine a password only", "a", ":only"},
      {"", "a", "none"},
      {"machine", "a", "none"},
  };
  for (const Row& r : rows) {
    CAPTURE(r.text);
    CAPTURE(r.host);
    CHECK(found(r.text, r.host) == r.want);
  }
}

TEST_CASE("Basic credentials are base64 of user:password (RFC 7617)") {
  CHECK(basic_authorization("Aladdin", "open sesame") == "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==");
  CHECK(basic_authorization("u", "") == "Basic dTo=");
  CHECK(basic_authorization("u", "a:b") == "Basic dTphOmI=");
}
