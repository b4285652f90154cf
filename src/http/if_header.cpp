#include "http/if_header.hpp"

#include <algorithm>
#include <unordered_set>
#include <utility>

#include "http/chars.hpp"
#include "http/conditional.hpp"

namespace httpfs::http {

namespace {

// A recursive-descent parser over the field value (RFC 4918 10.4.2):
//
//   If = ( 1*No-tag-list | 1*Tagged-list )
//   No-tag-list = List
//   Tagged-list = Resource-Tag 1*List
//   List = "(" 1*Condition ")"
//   Condition = ["Not"] (State-token | "[" entity-tag "]")
//   State-token = Coded-URL                  ; "<" absolute-URI ">" (10.1)
//   Resource-Tag = "<" Simple-ref ">"        ; absolute-URI or absolute path (8.3)
//
// The grammar is written with RFC 2616's implied LWS, so OWS may stand between any two of
// these parts, but not inside a Coded-URL or Resource-Tag, nor between "[", the entity-tag
// and "]". The first error stops the parse.
struct Cursor {
  std::string_view in;
  std::size_t pos = 0;
  std::string error;

  bool at_end() const { return pos == in.size(); }
  char peek() const { return in[pos]; }
  bool next_is(char c) const { return !at_end() && peek() == c; }
  void skip_ows() {
    while (!at_end() && chars::is_ows(peek())) ++pos;
  }
  bool fail_at(std::size_t at, std::string_view what) {
    error = "If: " + std::string(what) + " at offset " + std::to_string(at);
    return false;
  }
  bool fail(std::string_view what) { return fail_at(pos, what); }
  // What stands at the cursor, for "unexpected ..." messages that stay on one line.
  std::string here() const {
    if (at_end()) return "end of field";
    const auto b = static_cast<unsigned char>(peek());
    if (b > 0x20 && b < 0x7f) return std::string("'") + peek() + "'";
    static constexpr char kHex[] = "0123456789abcdef";
    return std::string("byte 0x") + kHex[b >> 4] + kHex[b & 15];
  }
  bool unexpected(std::string_view context) {
    return fail("unexpected " + here() + " " + std::string(context));
  }
};

// scheme ":" with scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ) (RFC 3986 3.1): what
// makes a reference an absolute-URI rather than a relative one.
bool has_scheme(std::string_view uri) {
  if (uri.empty() || !chars::is_alpha(uri[0])) return false;
  for (std::size_t i = 1; i < uri.size(); ++i) {
    const char c = uri[i];
    if (c == ':') return true;
    if (!chars::is_alpha(c) && !chars::is_digit(c) && c != '+' && c != '-' && c != '.')
      return false;
  }
  return false;
}

// Simple-ref (RFC 4918 8.3): an absolute-URI, or a path-absolute with an optional query. A
// path-absolute does not start with "//" (that would be a network-path reference), and its
// brackets are reserved for IP-literal hosts.
bool is_simple_ref(std::string_view ref) {
  if (has_scheme(ref)) return true;
  return ref.starts_with('/') && !ref.starts_with("//") &&
         ref.find_first_of("[]") == std::string_view::npos;
}

// Reads "<" URI ">" and returns what is between the brackets. Only URI bytes (RFC 3986) may
// stand inside: no whitespace, no raw non-ASCII, and "%" only as a pct-encoded octet.
bool read_angle(Cursor& c, std::string_view what, std::string_view& out) {
  const std::size_t open = c.pos++;
  while (!c.at_end() && c.peek() != '>') {
    if (!chars::is_target(c.peek())) return c.unexpected(std::string("in ") + std::string(what));
    if (c.peek() == '%') {
      if (c.pos + 2 >= c.in.size() || chars::hex_value(c.in[c.pos + 1]) < 0 ||
          chars::hex_value(c.in[c.pos + 2]) < 0)
        return c.fail(std::string("bad percent-encoding in ") + std::string(what));
      c.pos += 2;
    }
    ++c.pos;
  }
  if (c.at_end()) return c.fail_at(open, std::string("unterminated ") + std::string(what));
  out = c.in.substr(open + 1, c.pos - open - 1);
  ++c.pos;
  return true;
}

// etagc = %x21 / %x23-7E / obs-text (RFC 9110 8.8.3).
bool is_etagc(char c) {
  const auto b = static_cast<unsigned char>(c);
  return b == 0x21 || (b >= 0x23 && b <= 0x7e) || b >= 0x80;
}

// Reads "[" entity-tag "]" and returns the entity-tag as written (quotes and any "W/").
bool read_entity_tag(Cursor& c, std::string& out) {
  const std::size_t open = c.pos;
  std::size_t p = open + 1;
  const std::string_view in = c.in;
  if (in.substr(p, 2) == "W/") p += 2;
  if (p >= in.size() || in[p] != '"') return c.fail_at(open, "malformed entity-tag");
  ++p;
  while (p < in.size() && is_etagc(in[p])) ++p;
  if (p >= in.size() || in[p] != '"') return c.fail_at(open, "malformed entity-tag");
  ++p;
  if (p >= in.size() || in[p] != ']') return c.fail_at(p, "expected ']' after entity-tag");
  out.assign(in.substr(open + 1, p - open - 1));
  c.pos = p + 1;
  return true;
}

// Condition = ["Not"] (State-token | "[" entity-tag "]"); "Not" is case-insensitive
// (RFC 4918 10.4.2 writes it as a quoted string, which ABNF matches without case).
bool read_condition(Cursor& c, IfCondition& out) {
  if (chars::iequals_lower(c.in.substr(c.pos, 3), "not")) {
    out.negated = true;
    c.pos += 3;
    c.skip_ows();
  }
  if (c.next_is('<')) {
    std::string_view uri;
    const std::size_t at = c.pos;
    if (!read_angle(c, "state token", uri)) return false;
    if (!has_scheme(uri)) return c.fail_at(at, "state token is not an absolute URI");
    out.kind = IfCondition::Kind::StateToken;
    out.value.assign(uri);
    return true;
  }
  if (c.next_is('[')) {
    out.kind = IfCondition::Kind::EntityTag;
    return read_entity_tag(c, out.value);
  }
  return c.unexpected(out.negated ? "after Not" : "in a list");
}

// List = "(" 1*Condition ")".
bool read_list(Cursor& c, IfList& out) {
  const std::size_t open = c.pos++;
  c.skip_ows();
  while (!c.at_end() && c.peek() != ')') {
    IfCondition& cond = out.conditions.emplace_back();
    if (!read_condition(c, cond)) return false;
    c.skip_ows();
  }
  if (c.at_end()) return c.fail_at(open, "unterminated list");
  if (out.conditions.empty()) return c.fail_at(open, "empty list");
  ++c.pos;
  return true;
}

// 1*List, with OWS around each; an empty result is for the caller to judge.
bool read_lists(Cursor& c, std::vector<IfList>& out) {
  c.skip_ows();
  while (c.next_is('(')) {
    if (!read_list(c, out.emplace_back())) return false;
    c.skip_ows();
  }
  return true;
}

bool read_untagged(Cursor& c, IfHeader& h) {
  IfGroup& group = h.groups.emplace_back();
  if (!read_lists(c, group.lists)) return false;
  if (c.next_is('<')) return c.fail("tagged and untagged lists mixed");
  return c.at_end() || c.unexpected("between lists");
}

bool read_tagged(Cursor& c, IfHeader& h) {
  while (!c.at_end()) {
    if (!c.next_is('<')) return c.unexpected("where a Resource-Tag should be");
    const std::size_t at = c.pos;
    std::string_view tag;
    if (!read_angle(c, "Resource-Tag", tag)) return false;
    if (!is_simple_ref(tag))
      return c.fail_at(at, "Resource-Tag is neither an absolute URI nor an absolute path");
    IfGroup& group = h.groups.emplace_back();
    group.resource.assign(tag);
    if (!read_lists(c, group.lists)) return false;
    if (group.lists.empty()) return c.fail_at(at, "Resource-Tag without a list");
  }
  return true;
}

// RFC 4918 10.4.4: a lock token matches when the resource is anywhere in the scope of the
// lock, which `locked_by` answers (for unmapped URLs too: a depth-infinity lock covers the
// URLs below it, mapped or not, RFC 4918 7.4). "DAV:no-lock" is known never to be a current
// lock (10.4.8), whatever the callback would say; a URI scheme is case-insensitive.
bool condition_matches(const IfCondition& cond, const IfResourceState& state) {
  if (cond.kind == IfCondition::Kind::EntityTag)
    return state.exists && etag_strong_match(cond.value, state.etag);
  if (chars::iequals_lower(cond.value, "dav:no-lock")) return false;
  return state.locked_by && state.locked_by(cond.value);
}

// A List is the conjunction of its Conditions; "Not" reverses one Condition (10.4.3).
bool list_holds(const IfList& list, const IfResourceState& state) {
  return std::all_of(list.conditions.begin(), list.conditions.end(), [&](const IfCondition& c) {
    return condition_matches(c, state) != c.negated;
  });
}

}  // namespace

std::vector<std::string> IfHeader::state_tokens() const {
  std::vector<std::string> tokens;
  std::unordered_set<std::string_view> seen;
  for (const IfGroup& group : groups)
    for (const IfList& list : group.lists)
      for (const IfCondition& cond : list.conditions)
        if (cond.kind == IfCondition::Kind::StateToken && seen.insert(cond.value).second)
          tokens.push_back(cond.value);
  return tokens;
}

std::optional<IfHeader> parse_if_header(std::string_view value, std::string* error) {
  Cursor c{value};
  c.skip_ows();
  IfHeader h;
  bool ok = false;
  if (c.at_end()) {
    c.fail("empty field");
  } else if (c.next_is('(')) {
    ok = read_untagged(c, h);
  } else if (c.next_is('<')) {
    h.tagged = true;
    ok = read_tagged(c, h);
  } else {
    c.unexpected("where a list or Resource-Tag should be");
  }
  if (ok) return h;
  if (error) *error = std::move(c.error);
  return std::nullopt;
}

// RFC 4918 10.4.3: a No-tag-list or Tagged-list production holds when any of its Lists does,
// and the whole header holds when at least one production does. Untagged lists are about the
// Request-URI, tagged ones about the resource their tag names (10.4.4 "Identifying a
// resource"); a tag this server cannot map names no resource whose state it knows.
bool if_header_holds(
    const IfHeader& header, std::string_view request_path,
    const std::function<IfResourceState(std::string_view path)>& state_of,
    const std::function<std::optional<std::string>(std::string_view tag)>& tag_path) {
  return std::any_of(header.groups.begin(), header.groups.end(), [&](const IfGroup& group) {
    std::optional<std::string> path;
    if (group.resource.empty())
      path.emplace(request_path);
    else if (tag_path)
      path = tag_path(group.resource);
    if (!path) return false;
    const IfResourceState state = state_of(*path);
    return std::any_of(group.lists.begin(), group.lists.end(),
                       [&](const IfList& list) { return list_holds(list, state); });
  });
}

}  // namespace httpfs::http
