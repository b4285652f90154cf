#include "http/target.hpp"

#include "http/percent.hpp"

namespace httpfs::http {

std::string_view normalize_target(std::string_view target, TargetForm form, RequestPath& out) {
  out.path.clear();
  out.query = {};
  if (form == TargetForm::Asterisk || form == TargetForm::Authority)
    return "request-target has no path";
  if (form == TargetForm::Absolute) {
    // scheme "://" authority path-abempty [ "?" query ]; the parser validated the shape.
    std::size_t after = target.find("://") + 3;
    std::size_t path_start = target.find_first_of("/?", after);
    target =
        path_start == std::string_view::npos ? std::string_view("/") : target.substr(path_start);
    if (target.front() == '?') {
      out.query = target.substr(1);
      target = "/";
    }
  }
  std::size_t q = target.find('?');
  if (q != std::string_view::npos) {
    out.query = target.substr(q + 1);
    target = target.substr(0, q);
  }
  if (target.empty() || target.front() != '/') return "path does not start with /";

  // Walk raw segments so that an encoded "/" (%2F) can be told from a real one.
  std::string decoded;
  std::string& path = out.path;
  path.reserve(target.size());
  std::size_t pos = 1;
  bool trailing_slash = false;
  for (;;) {
    std::size_t slash = target.find('/', pos);
    std::string_view raw =
        target.substr(pos, slash == std::string_view::npos ? slash : slash - pos);
    if (!percent_decode(raw, decoded)) return "invalid percent-encoding";
    for (char c : decoded) {
      if (c == '/' || c == '\\') return "encoded slash or backslash in path";
      if (c == '\0') return "NUL in path";
    }
    if (!valid_utf8(decoded)) return "path is not valid UTF-8";
    const bool last = slash == std::string_view::npos;
    if (decoded == "..") {
      if (path.empty()) return "path climbs above the root";
      path.erase(path.rfind('/'));
      trailing_slash = true;
    } else if (decoded.empty() || decoded == ".") {
      // "//" and "/./" collapse; a final empty or "." segment means "the directory".
      trailing_slash = true;
    } else {
      path += '/';
      path += decoded;
      trailing_slash = false;
    }
    if (last) break;
    pos = slash + 1;
  }
  if (path.empty() || trailing_slash) path += '/';
  return {};
}

std::optional<std::string> query_param(std::string_view query, std::string_view name) {
  while (!query.empty()) {
    std::size_t amp = query.find('&');
    std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view{} : query.substr(amp + 1);
    std::size_t eq = pair.find('=');
    if (pair.substr(0, eq) != name) continue;
    std::string raw(eq == std::string_view::npos ? std::string_view{} : pair.substr(eq + 1));
    for (char& c : raw)
      if (c == '+') c = ' ';
    std::string value;
    if (!percent_decode(raw, value)) return std::nullopt;
    return value;
  }
  return std::nullopt;
}

}  // namespace httpfs::http
