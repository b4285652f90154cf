// libFuzzer target: the Destination header of COPY and MOVE (server/copy_move.hpp
// parse_destination(): an absolute http(s) URL of this server or an absolute path, to the
// normalised path on this server), and resource_path() that the handler applies to it.
// Input: the request's Host value, "\n", then the Destination value.
// Checks on an accepted Destination: the path starts with "/", has no "." or ".." segment,
// no empty segment but a trailing one, no "\" and no NUL, and is valid UTF-8 (so it cannot
// leave the served directory, whatever the encoding: %2e%2e, %2f, %5c, %00, overlongs); it
// is normalised (sent again, encoded, as a path or as a URL of the same host, it comes back
// unchanged); a URL was accepted only for the request's own authority, and names the path
// parse_url() sees in it; resource_path() of it is the same path without its trailing "/".
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "http/chars.hpp"
#include "http/percent.hpp"
#include "http/request_parser.hpp"
#include "http/target.hpp"
#include "http/url.hpp"
#include "net/address.hpp"
#include "server/copy_move.hpp"
#include "server/dav.hpp"
#include "server/request.hpp"

using namespace httpfs;

namespace {

// A broken invariant: which one, then a crash libFuzzer reports.
[[noreturn]] void fail(int line, const char* what) {
  std::fprintf(stderr, "fuzz_destination.cpp:%d: check failed: %s\n", line, what);
  __builtin_trap();
}
#define check(ok) ((ok) ? void() : fail(__LINE__, #ok))

void check_path(const std::string& p) {
  check(!p.empty() && p.front() == '/');
  check(http::valid_utf8(p));
  for (char c : p) check(c != '\\' && c != '\0');
  std::size_t pos = 1;
  while (pos < p.size()) {
    const std::size_t slash = p.find('/', pos);
    const std::string_view seg(p.data() + pos,
                               (slash == std::string::npos ? p.size() : slash) - pos);
    check(seg != "." && seg != "..");
    check(!seg.empty());
    if (slash == std::string::npos) break;
    pos = slash + 1;
  }
}

// parse_destination() for a request to `host` carrying `destination`; nullopt when refused.
std::optional<std::string> destination(std::string_view host, std::string_view destination,
                                       int* refusal = nullptr) {
  http::RequestHead head;
  head.method = http::Method::Move;
  head.target = "/src";
  head.host = host;
  head.host_count = 1;
  head.headers = {{"Host", host}, {"Destination", destination}};
  const net::SocketAddress peer;
  const server::Request request{head, {}, {}, peer, 0};
  http::RequestPath out;
  if (auto r = server::parse_destination(request, out)) {
    if (refusal) *refusal = r->status;
    return std::nullopt;
  }
  return out.path;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  const std::size_t nl = in.find('\n');
  if (nl == std::string_view::npos) return 0;
  const std::string_view host = in.substr(0, nl);
  const std::string_view dest = in.substr(nl + 1);

  int refusal = 0;
  const std::optional<std::string> path = destination(host, dest, &refusal);
  if (!path) {
    check(refusal == 400 || refusal == 502);
    return 0;
  }
  check_path(*path);

  // Normalised: the path, encoded, is itself, whether sent as a path or as a URL.
  const std::string encoded = http::percent_encode_path(*path);
  check(destination(host, encoded) == path);
  check(destination("elsewhere.example", encoded) == path);  // a path needs no authority

  if (!dest.starts_with('/')) {
    // Only http(s) URLs of this very server are taken.
    std::optional<http::Url> url = http::parse_url(dest);
    check(url.has_value() && (dest.starts_with("http://") || dest.starts_with("https://")));
    check(http::chars::iequals(url->host_header(), host));
    check(destination(host, url->scheme + "://" + std::string(host) + encoded) == path);
    check(!destination(std::string(host) + "x", dest).has_value());
    // The path the server acts on is the one a URL reader sees in the Destination (a '#'
    // is refused: parse_url() would drop a fragment that normalize_target() reads as path).
    check(dest.find('#') == std::string_view::npos);
    http::RequestPath seen;
    check(http::normalize_target(url->target, http::TargetForm::Origin, seen).empty());
    check(seen.path == *path);
  }

  const std::string resource = server::resource_path(*path);
  check_path(resource);
  check(resource == "/" || resource.back() != '/');
  check(*path == resource || *path == resource + "/");
  check(server::resource_path(resource) == resource);
  return 0;
}
