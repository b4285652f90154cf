// libFuzzer target: the WebDAV If header (http/if_header.hpp), parsed and evaluated.
// Input: 1 byte of resource state for the evaluation, then the field value.
// Checks: parsing is deterministic; a refusal has a one-line reason; an accepted header has
// the shape the header file promises (untagged: one group without a resource; tagged: every
// resource an absolute URI or absolute path; at least one list per group and one condition
// per list; state tokens are absolute URIs of URI bytes, entity-tags quoted, with W/ or not);
// written back in canonical form it parses to the same header; state_tokens() is every state
// token once, in order; and if_header_holds() agrees with a plain evaluation of RFC 4918
// 10.4.3 over the same resource states.
#include <cctype>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "http/chars.hpp"
#include "http/if_header.hpp"

using namespace httpfs::http;

namespace {

// A broken invariant: which one, then a crash libFuzzer reports.
[[noreturn]] void fail(int line, const char* what) {
  std::fprintf(stderr, "fuzz_if_header.cpp:%d: check failed: %s\n", line, what);
  __builtin_trap();
}
#define check(ok) ((ok) ? void() : fail(__LINE__, #ok))

// scheme ":" (RFC 3986 3.1).
bool has_scheme(std::string_view uri) {
  if (uri.empty() || !chars::is_alpha(uri[0])) return false;
  for (std::size_t i = 1; i < uri.size(); ++i) {
    const char c = uri[i];
    if (c == ':') return true;
    if (!chars::is_alpha(c) && !chars::is_digit(c) && c != '+' && c != '-' && c != '.') return false;
  }
  return false;
}

// URI bytes only, and "%" only as a pct-encoded octet.
bool uri_bytes(std::string_view s) {
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (!chars::is_target(s[i]) || s[i] == '<' || s[i] == '>') return false;
    if (s[i] == '%') {
      if (i + 2 >= s.size()) return false;
      if (chars::hex_value(s[i + 1]) < 0 || chars::hex_value(s[i + 2]) < 0) return false;
      i += 2;
    }
  }
  return true;
}

// "\"...\"" or "W/\"...\"", with no quote inside (RFC 9110 8.8.3).
bool entity_tag(std::string_view e) {
  if (e.starts_with("W/")) e.remove_prefix(2);
  if (e.size() < 2 || e.front() != '"' || e.back() != '"') return false;
  return e.substr(1, e.size() - 2).find('"') == std::string_view::npos;
}

void check_shape(const IfHeader& h) {
  check(!h.groups.empty());
  if (!h.tagged) check(h.groups.size() == 1 && h.groups[0].resource.empty());
  std::vector<std::string> tokens;
  std::set<std::string> seen;
  for (const IfGroup& g : h.groups) {
    if (h.tagged) {
      const std::string_view r = g.resource;
      check(!r.empty() && uri_bytes(r));
      check(has_scheme(r) || (r.starts_with('/') && !r.starts_with("//") &&
                              r.find_first_of("[]") == std::string_view::npos));
    }
    check(!g.lists.empty());
    for (const IfList& l : g.lists) {
      check(!l.conditions.empty());
      for (const IfCondition& c : l.conditions) {
        if (c.kind == IfCondition::Kind::StateToken) {
          check(has_scheme(c.value) && uri_bytes(c.value));
          if (seen.insert(c.value).second) tokens.push_back(c.value);
        } else {
          check(c.kind == IfCondition::Kind::EntityTag && entity_tag(c.value));
        }
      }
    }
  }
  check(h.state_tokens() == tokens);
}

std::string canonical(const IfHeader& h) {
  std::string out;
  for (const IfGroup& g : h.groups) {
    if (!g.resource.empty()) out += " <" + g.resource + ">";
    for (const IfList& l : g.lists) {
      out += " (";
      for (const IfCondition& c : l.conditions) {
        if (c.negated) out += "Not ";
        out += c.kind == IfCondition::Kind::StateToken ? "<" + c.value + "> " : "[" + c.value + "] ";
      }
      out += ")";
    }
  }
  return out;
}

bool same(const IfHeader& a, const IfHeader& b) {
  if (a.tagged != b.tagged || a.groups.size() != b.groups.size()) return false;
  for (std::size_t i = 0; i < a.groups.size(); ++i) {
    const IfGroup &x = a.groups[i], &y = b.groups[i];
    if (x.resource != y.resource || x.lists.size() != y.lists.size()) return false;
    for (std::size_t j = 0; j < x.lists.size(); ++j) {
      const auto &p = x.lists[j].conditions, &q = y.lists[j].conditions;
      if (p.size() != q.size()) return false;
      for (std::size_t k = 0; k < p.size(); ++k)
        if (p[k].kind != q[k].kind || p[k].negated != q[k].negated || p[k].value != q[k].value)
          return false;
    }
  }
  return true;
}

// A resource state that depends on the path and on the input's state byte only.
std::size_t mix(std::string_view s, unsigned salt) {
  std::size_t h = 1469598103934665603ull ^ salt;
  for (char c : s) h = (h ^ static_cast<unsigned char>(c)) * 1099511628211ull;
  return h;
}

struct World {
  unsigned salt;
  IfResourceState state(std::string_view path) const {
    IfResourceState s;
    const std::size_t h = mix(path, salt);
    s.exists = (h & 1) != 0;
    static const char* const kEtags[] = {"\"a\"", "\"b\"", "W/\"a\"", ""};
    s.etag = kEtags[(h >> 1) % 4];
    const unsigned salt_copy = salt;
    const std::string p(path);
    s.locked_by = [salt_copy, p](std::string_view token) {
      return (mix(std::string(token) + "\n" + p, salt_copy) & 2) != 0;
    };
    return s;
  }
  // Tags that end in "x" are on another server.
  static std::optional<std::string> tag_path(std::string_view tag) {
    if (tag.ends_with('x')) return std::nullopt;
    return std::string(tag);
  }
};

// RFC 4918 10.4.3-10.4.4, written out plainly.
bool plain_holds(const IfHeader& h, std::string_view request_path, const World& w) {
  for (const IfGroup& g : h.groups) {
    std::optional<std::string> path =
        g.resource.empty() ? std::optional<std::string>(request_path) : World::tag_path(g.resource);
    if (!path) continue;
    const IfResourceState s = w.state(*path);
    for (const IfList& l : g.lists) {
      bool all = true;
      for (const IfCondition& c : l.conditions) {
        bool match;
        if (c.kind == IfCondition::Kind::EntityTag) {
          match = s.exists && !c.value.starts_with("W/") && !s.etag.starts_with("W/") &&
                  c.value == s.etag;
        } else {
          std::string lower = c.value;
          for (char& ch : lower) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
          match = lower != "dav:no-lock" && s.locked_by(c.value);
        }
        if (match == c.negated) all = false;
      }
      if (all) return true;
    }
  }
  return false;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  const World world{data[0]};
  std::string_view in(reinterpret_cast<const char*>(data + 1), size - 1);
  std::string error;
  const std::optional<IfHeader> h = parse_if_header(in, &error);
  std::string error2;
  const std::optional<IfHeader> h2 = parse_if_header(std::string(in), &error2);
  check(h.has_value() == h2.has_value() && error == error2);
  if (!h) {
    check(!error.empty());
    for (char c : error) check(c != '\n' && c != '\r' && c != '\0');
    return 0;
  }
  check(error.empty());
  check(same(*h, *h2));
  check_shape(*h);
  const std::optional<IfHeader> again = parse_if_header(canonical(*h));
  check(again.has_value() && same(*h, *again));

  const auto state_of = [&](std::string_view path) { return world.state(path); };
  const auto tag_path = [](std::string_view tag) { return World::tag_path(tag); };
  for (std::string_view request_path : {"/", "/a", "/a/b.txt"}) {
    const bool holds = if_header_holds(*h, request_path, state_of, tag_path);
    check(holds == plain_holds(*h, request_path, world));
  }
  return 0;
}
