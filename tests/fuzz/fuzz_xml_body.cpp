// libFuzzer target: the WebDAV request body parser (http/xml_body.hpp) for all three bodies.
// Input: 1 byte of body kind (propfind, propertyupdate, lockinfo) and piece count, 1 byte of
// max_depth, 2 bytes of max_bytes, 2 bytes of split seed, then the body.
// Checks: the body fed in 2..5 pieces and in one piece gives the same verdict and result
// (not always the same reason: see below); a failure is for good (feed and finish stay
// false, the error does not change) and its reason is one line; ok means no error; an accepted body is at most max_bytes and
// nested at most max_depth deep (counted again by a plain expat parse), and what it keeps is
// at most 8 times max_bytes; and a PROPPATCH value or LOCK owner, written out with
// xml_writer and sent again, comes back byte for byte (RFC 4918 4.3).
#include <expat.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "http/xml_body.hpp"
#include "http/xml_writer.hpp"

using namespace httpfs::http;
using Expect = XmlBodyParser::Expect;
using Limits = XmlBodyParser::Limits;

namespace {

// A broken invariant: which one, then a crash libFuzzer reports.
[[noreturn]] void fail(int line, const char* what) {
  std::fprintf(stderr, "fuzz_xml_body.cpp:%d: check failed: %s\n", line, what);
  __builtin_trap();
}
#define check(ok) ((ok) ? void() : fail(__LINE__, #ok))

std::string name_of(const XmlName& n) {
  return "{" + n.ns + "}" + n.local;
}

// The whole result in one string, so that two feedings can be compared at once.
std::string render(const XmlBodyParser& p, Expect expect) {
  std::string out;
  switch (expect) {
    case Expect::Propfind: {
      const PropfindBody& b = p.propfind();
      out = std::to_string(static_cast<int>(b.kind));
      for (const XmlName& n : b.props) out += " " + name_of(n);
      for (const XmlName& n : b.include) out += " +" + name_of(n);
      break;
    }
    case Expect::Propertyupdate:
      for (const ProppatchBody::Op& op : p.proppatch().ops)
        out += (op.remove ? "\n-" : "\n+") + name_of(op.prop.name) + " " + op.prop.lang + "=" +
               op.prop.value_xml;
      break;
    case Expect::Lockinfo:
      out = (p.lockinfo().exclusive ? "x " : "s ") + p.lockinfo().owner_xml;
      break;
  }
  return out;
}

struct Outcome {
  bool ok = false;
  bool empty = false;
  std::string error;
  std::string result;
  bool operator==(const Outcome&) const = default;
};

// Feeds `body` cut before each of `cuts` (ascending), then finishes, checking what holds
// after every call.
Outcome run(Expect expect, std::string_view body, const std::vector<std::size_t>& cuts,
            XmlBodyParser& p) {
  std::size_t at = 0;
  bool failed = false;
  std::string first_error;
  auto feed = [&](std::string_view piece) {
    // A copy of just the piece, so that reading past it is an ASan error.
    const bool fed = p.feed(std::string(piece));
    if (failed) check(!fed && p.error() == first_error);
    if (!fed && !failed) {
      failed = true;
      first_error = p.error();
      check(!first_error.empty());
    }
    check(fed == p.error().empty());
  };
  for (std::size_t cut : cuts) {
    feed(body.substr(at, cut - at));
    at = cut;
  }
  feed(body.substr(at));
  const bool ok = p.finish();
  if (failed) check(!ok && p.error() == first_error);
  check(ok == p.error().empty());
  check(p.error().find('\n') == std::string::npos);
  // Later calls change nothing.
  check(p.finish() == ok);
  if (!ok) check(!p.feed("<") && p.error() != "");
  return {ok, p.empty(), p.error(), ok ? render(p, expect) : ""};
}

// The element depth of a well-formed document, by expat without namespaces.
struct DepthCounter {
  std::size_t depth = 0, deepest = 0;
  static void XMLCALL start(void* self, const XML_Char*, const XML_Char**) {
    auto* d = static_cast<DepthCounter*>(self);
    if (++d->depth > d->deepest) d->deepest = d->depth;
  }
  static void XMLCALL end(void* self, const XML_Char*) { --static_cast<DepthCounter*>(self)->depth; }
};

std::optional<std::size_t> deepest(std::string_view body) {
  XML_Parser p = XML_ParserCreate(nullptr);
  DepthCounter d;
  XML_SetUserData(p, &d);
  XML_SetElementHandler(p, DepthCounter::start, DepthCounter::end);
  const bool ok = XML_Parse(p, body.data(), static_cast<int>(body.size()), XML_TRUE) != 0;
  XML_ParserFree(p);
  if (!ok) return std::nullopt;
  return d.deepest;
}

std::size_t kept_size(const XmlBodyParser& p, Expect expect) {
  std::size_t n = 0;
  switch (expect) {
    case Expect::Propfind:
      for (const XmlName& x : p.propfind().props) n += x.ns.size() + x.local.size();
      for (const XmlName& x : p.propfind().include) n += x.ns.size() + x.local.size();
      break;
    case Expect::Propertyupdate:
      for (const ProppatchBody::Op& op : p.proppatch().ops)
        n += op.prop.name.ns.size() + op.prop.name.local.size() + op.prop.value_xml.size() +
             op.prop.lang.size();
      break;
    case Expect::Lockinfo:
      n = p.lockinfo().owner_xml.size();
      break;
  }
  return n;
}

// What the parser keeps, written the way the server writes it and sent again, is read the
// same. The bodies sent again are no deeper than the one accepted.
void check_round_trip(const XmlBodyParser& p, Expect expect, std::size_t max_depth) {
  const Limits again_limits{std::size_t{16} << 20, max_depth};
  if (expect == Expect::Propertyupdate) {
    for (const ProppatchBody::Op& op : p.proppatch().ops) {
      if (op.remove) {
        check(op.prop.value_xml.empty() && op.prop.lang.empty());
        continue;
      }
      check(!op.prop.name.local.empty());
      std::string body = "<D:propertyupdate xmlns:D=\"DAV:\"><D:set><D:prop>";
      property_element(body, op.prop.name, op.prop.value_xml, op.prop.lang);
      body += "</D:prop></D:set></D:propertyupdate>";
      XmlBodyParser q(Expect::Propertyupdate, again_limits);
      check(q.feed(body) && q.finish());
      check(q.proppatch().ops.size() == 1);
      const ProppatchBody::Op& back = q.proppatch().ops[0];
      check(!back.remove && back.prop.name == op.prop.name);
      check(back.prop.value_xml == op.prop.value_xml && back.prop.lang == op.prop.lang);
    }
  } else if (expect == Expect::Lockinfo) {
    const LockinfoBody& l = p.lockinfo();
    const std::string body = std::string("<D:lockinfo xmlns:D=\"DAV:\"><D:lockscope>") +
                             (l.exclusive ? "<D:exclusive/>" : "<D:shared/>") +
                             "</D:lockscope><D:locktype><D:write/></D:locktype><D:owner>" +
                             l.owner_xml + "</D:owner></D:lockinfo>";
    XmlBodyParser q(Expect::Lockinfo, again_limits);
    check(q.feed(body) && q.finish());
    check(q.lockinfo().exclusive == l.exclusive && q.lockinfo().owner_xml == l.owner_xml);
  } else {
    const PropfindBody& b = p.propfind();
    if (b.kind != PropfindBody::Kind::AllProp) check(b.include.empty());
    for (const XmlName& n : b.props) check(!n.local.empty());
    for (const XmlName& n : b.include) check(!n.local.empty());
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 6) return 0;
  const auto expect = static_cast<Expect>(data[0] % 3);
  const std::size_t pieces = 2 + (data[0] / 3) % 4;  // 2..5
  Limits limits;
  // Mostly the server's depth; sometimes a small one, to reach the limit often.
  limits.max_depth = data[1] < 128 ? Limits{}.max_depth : 1 + data[1] % 16;
  const unsigned bytes_seed = data[2] | (data[3] << 8);
  // Mostly the server's 1 MiB (more than any input); sometimes up to 32 KiB, near the body's size.
  std::string_view body(reinterpret_cast<const char*>(data + 6), size - 6);
  if (bytes_seed >= 0x8000) limits.max_bytes = bytes_seed & 0x7fff;
  unsigned seed = data[4] | (data[5] << 8);

  std::vector<std::size_t> cuts;
  for (std::size_t i = 1; i < pieces && !body.empty(); ++i) {
    seed = seed * 1103515245u + 12345u;
    cuts.push_back((seed >> 8) % (body.size() + 1));
  }
  std::sort(cuts.begin(), cuts.end());

  XmlBodyParser split_parser(expect, limits);
  const Outcome split = run(expect, body, cuts, split_parser);
  XmlBodyParser whole_parser(expect, limits);
  const Outcome whole = run(expect, body, {}, whole_parser);
  // Over max_bytes, which error comes first depends on the pieces: a piece within the limit
  // may show malformed XML before the one that crosses it.
  if (body.size() > limits.max_bytes) {
    check(!whole.ok && !split.ok);
    return 0;
  }
  // The reason may differ: expat itself reports malformed input differently by chunking
  // ("u\0" whole: "syntax error" at column 1; as "u" and "\0": "invalid token" at column 2).
  check(split.ok == whole.ok && split.empty == whole.empty && split.result == whole.result);
  if (!whole.ok) return 0;
  check(whole.empty == (body.find_first_not_of(" \t\r\n") == std::string_view::npos));
  if (whole.empty) return 0;
  const std::optional<std::size_t> depth = deepest(body);
  check(depth.has_value() && *depth <= limits.max_depth);
  const std::size_t most = limits.max_bytes * 8;
  check(kept_size(whole_parser, expect) <= most);
  check_round_trip(whole_parser, expect, limits.max_depth);
  return 0;
}
