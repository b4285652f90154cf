// libFuzzer target: request-target normalisation and the client's URL handling.
// Invariants of a normalised path: starts with "/", no "." or ".." segment, no empty segment,
// no backslash, no NUL, valid UTF-8; and normalising its encoded form is identity.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "http/percent.hpp"
#include "http/target.hpp"
#include "http/url.hpp"

using namespace httpfs::http;

namespace {

void check(bool ok) {
  if (!ok) std::abort();
}

void check_path(const std::string& p) {
  check(!p.empty() && p.front() == '/');
  check(valid_utf8(p));
  for (char c : p) check(c != '\\' && c != '\0');
  std::size_t pos = 1;
  while (pos < p.size()) {
    std::size_t slash = p.find('/', pos);
    std::string_view seg(p.data() + pos, (slash == std::string::npos ? p.size() : slash) - pos);
    check(seg != "." && seg != "..");
    check(!seg.empty() || slash == std::string::npos);
    if (slash == std::string::npos) break;
    pos = slash + 1;
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  RequestPath rp;
  if (normalize_target(in, TargetForm::Origin, rp).empty()) {
    check_path(rp.path);
    RequestPath again;
    check(normalize_target(percent_encode_path(rp.path), TargetForm::Origin, again).empty());
    check(again.path == rp.path);
  }
  if (auto url = parse_url(in)) {
    check(!url->host.empty() && !url->target.empty() && url->target.front() == '/');
    auto again = parse_url(url->to_string());
    check(again && again->to_string() == url->to_string());
    if (auto r = resolve_reference(*url, in.substr(in.size() / 2))) check(!r->host.empty());
  }
  return 0;
}
