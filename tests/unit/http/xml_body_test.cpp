// XmlBodyParser: the three bodies of RFC 4918 14, their namespaces, PROPPATCH values that
// survive being written out again, and the bodies that must be refused. Every body goes
// through parse() below, which feeds it in one piece, byte by byte and split at every offset,
// and insists that all feedings agree.
#include "http/xml_body.hpp"

#include <doctest/doctest.h>
#include <expat.h>

#include <algorithm>
#include <optional>
#include <string>
#include <vector>

#include "http/xml_writer.hpp"

using namespace httpfs::http;
using Expect = XmlBodyParser::Expect;
using Limits = XmlBodyParser::Limits;

namespace {

constexpr std::string_view kLitmusNs = "http://example.com/neon/litmus/";

std::string name_of(const XmlName& n) {
  return "{" + n.ns + "}" + n.local;
}

// The result in one line per item, so that a row states all of it at once.
std::string render(const XmlBodyParser& p, Expect expect) {
  std::string out;
  switch (expect) {
    case Expect::Propfind: {
      const PropfindBody& b = p.propfind();
      out = b.kind == PropfindBody::Kind::AllProp    ? "allprop"
            : b.kind == PropfindBody::Kind::PropName ? "propname"
                                                     : "prop";
      for (const XmlName& n : b.props) out += " " + name_of(n);
      for (const XmlName& n : b.include) out += " include " + name_of(n);
      break;
    }
    case Expect::Propertyupdate:
      for (const ProppatchBody::Op& op : p.proppatch().ops) {
        if (!out.empty()) out += "\n";
        out += (op.remove ? "remove " : "set ") + name_of(op.prop.name);
        if (!op.prop.lang.empty()) out += " lang=" + op.prop.lang;
        if (!op.remove) out += " = " + op.prop.value_xml;
      }
      break;
    case Expect::Lockinfo:
      out = p.lockinfo().exclusive ? "exclusive" : "shared";
      out += " owner=" + p.lockinfo().owner_xml;
      break;
  }
  return out;
}

struct Outcome {
  bool ok = false;
  bool empty = false;
  std::string result;  // render() when ok, else "error: " and the error
  bool operator==(const Outcome&) const = default;
};

std::ostream& operator<<(std::ostream& os, const Outcome& o) {
  return os << (o.ok ? "ok" : "failed") << (o.empty ? " empty " : " ") << o.result;
}

// Feeds `body` cut before each offset in `cuts` (ascending), then finishes.
Outcome run(Expect expect, std::string_view body, const std::vector<std::size_t>& cuts,
            Limits limits) {
  XmlBodyParser p(expect, limits);
  std::size_t at = 0;
  bool fed = true;
  for (std::size_t cut : cuts) {
    // A copy of just the piece, so that reading past it is a sanitizer error.
    fed = p.feed(std::string(body.substr(at, cut - at))) && fed;
    at = cut;
  }
  fed = p.feed(std::string(body.substr(at))) && fed;
  bool ok = p.finish();
  if (!fed) CHECK_FALSE(ok);  // a failure is for good
  CHECK(ok == p.error().empty());
  CHECK(p.error().find('\n') == std::string::npos);
  Outcome o{ok, p.empty(), ok ? render(p, expect) : "error: " + p.error()};
  return o;
}

Outcome parse(Expect expect, std::string_view body, Limits limits = Limits{}) {
  Outcome whole = run(expect, body, {}, limits);
  std::vector<std::size_t> every;
  for (std::size_t i = 1; i < body.size(); ++i) every.push_back(i);
  CHECK(run(expect, body, every, limits) == whole);
  // Every two-piece split; a long body is cut at a sample of offsets.
  std::size_t step = body.size() > 2000 ? 97 : 1;
  for (std::size_t i = 1; i < body.size(); i += step) {
    Outcome split = run(expect, body, {i}, limits);
    CHECK_MESSAGE(split == whole, "split at " << i);
  }
  return whole;
}

struct Row {
  std::string name;
  std::string body;
  std::string result;  // render(), or "error: " and a part of the error
};

void check_rows(Expect expect, const std::vector<Row>& rows) {
  for (const Row& row : rows) {
    CAPTURE(row.name);
    CAPTURE(row.body);
    Outcome o = parse(expect, row.body);
    if (row.result.rfind("error: ", 0) == 0) {
      CHECK_FALSE(o.ok);
      CHECK_MESSAGE(o.result.find(row.result.substr(7)) != std::string::npos, o.result);
    } else {
      CHECK(o.ok);
      CHECK(o.result == row.result);
    }
  }
}

std::string propertyupdate(std::string_view inner) {
  return "<D:propertyupdate xmlns:D=\"DAV:\">" + std::string(inner) + "</D:propertyupdate>";
}

std::string set_prop(std::string_view props, std::string_view set_attributes = "") {
  return propertyupdate("<D:set" + std::string(set_attributes) + "><D:prop>" + std::string(props) +
                        "</D:prop></D:set>");
}

// An element tree as expat reads a document: names expanded, the xml:lang in scope on every
// element (and xml:lang attributes themselves left out of the attributes), text merged.
// Comments and processing instructions are not part of it.
struct Node {
  std::string name;  // "{ns}local", or "" for text
  std::string text, lang;
  std::vector<std::string> attributes;  // "{ns}local=value", sorted
  std::vector<Node> children;
};

std::string dump(const Node& n) {
  if (n.name.empty()) return "\"" + n.text + "\"";
  std::string out = "<" + n.name;
  if (!n.lang.empty()) out += " lang=" + n.lang;
  for (const std::string& a : n.attributes) out += " " + a;
  out += ">";
  for (const Node& c : n.children) out += dump(c);
  return out + "</>";
}

// The children of an element only: what a property's value is.
std::string dump_content(const Node& n) {
  std::string out;
  for (const Node& c : n.children) out += dump(c);
  return out;
}

class TreeReader {
 public:
  // The document element, or nothing when the document is not namespace-well-formed.
  std::optional<Node> read(std::string_view doc) {
    XML_Parser p = XML_ParserCreateNS(nullptr, kSeparator);
    XML_SetUserData(p, this);
    XML_SetElementHandler(p, start, end);
    XML_SetCharacterDataHandler(p, chars);
    bool ok = XML_Parse(p, doc.data(), static_cast<int>(doc.size()), XML_TRUE) != 0;
    XML_ParserFree(p);
    if (!ok || holder_.children.size() != 1) return std::nullopt;
    return holder_.children[0];
  }

 private:
  static constexpr XML_Char kSeparator = '\x01';

  static std::string expand(const XML_Char* s) {
    std::string_view v(s);
    std::size_t cut = v.rfind(kSeparator);
    if (cut == std::string_view::npos) return "{}" + std::string(v);
    return "{" + std::string(v.substr(0, cut)) + "}" + std::string(v.substr(cut + 1));
  }
  Node& top() { return open_.empty() ? holder_ : *open_.back(); }
  static void XMLCALL start(void* self, const XML_Char* name, const XML_Char** atts) {
    auto* r = static_cast<TreeReader*>(self);
    Node n;
    n.name = expand(name);
    n.lang = r->open_.empty() ? "" : r->open_.back()->lang;
    for (; *atts != nullptr; atts += 2) {
      std::string a = expand(atts[0]);
      if (a == "{" + std::string(kXmlNamespace) + "}lang") {
        n.lang = atts[1];
      } else {
        n.attributes.push_back(a + "=" + atts[1]);
      }
    }
    std::sort(n.attributes.begin(), n.attributes.end());
    r->top().children.push_back(std::move(n));
    r->open_.push_back(&r->top().children.back());
  }
  static void XMLCALL end(void* self, const XML_Char*) {
    static_cast<TreeReader*>(self)->open_.pop_back();
  }
  static void XMLCALL chars(void* self, const XML_Char* s, int len) {
    std::vector<Node>& siblings = static_cast<TreeReader*>(self)->top().children;
    if (siblings.empty() || !siblings.back().name.empty()) siblings.push_back(Node{});
    siblings.back().text.append(s, static_cast<std::size_t>(len));
  }

  Node holder_;
  std::vector<Node*> open_;  // a parent's children do not move while one of them is open
};

std::optional<Node> read_tree(std::string_view doc) {
  return TreeReader().read(doc);
}

}  // namespace

TEST_CASE("xml body: propfind") {
  check_rows(
      Expect::Propfind,
      {
          {"allprop",
           R"(<?xml version="1.0" encoding="utf-8"?>)"
           R"(<D:propfind xmlns:D="DAV:"><D:allprop/></D:propfind>)",
           "allprop"},
          {"default namespace", R"(<propfind xmlns="DAV:"><allprop/></propfind>)", "allprop"},
          {"allprop with include",
           R"(<D:propfind xmlns:D="DAV:"><D:allprop/><D:include><D:supportedlock/>)"
           R"(<x:y xmlns:x="urn:x"/></D:include></D:propfind>)",
           "allprop include {DAV:}supportedlock include {urn:x}y"},
          {"include first",
           R"(<D:propfind xmlns:D="DAV:"><D:include><D:lockdiscovery/></D:include>)"
           R"(<D:allprop/></D:propfind>)",
           "allprop include {DAV:}lockdiscovery"},
          {"include means nothing without allprop",
           R"(<D:propfind xmlns:D="DAV:"><D:propname/><D:include><D:a/></D:include>)"
           R"(</D:propfind>)",
           "propname"},
          {"propname", R"(<D:propfind xmlns:D="DAV:"><D:propname/></D:propfind>)", "propname"},
          {"prop in several namespaces",
           R"(<propfind xmlns="DAV:"><prop><getetag/><foo xmlns="urn:x"/>)"
           R"(<z:bar xmlns:z="urn:z"/><nonamespace xmlns=""/></prop></propfind>)",
           "prop {DAV:}getetag {urn:x}foo {urn:z}bar {}nonamespace"},
          {"a prefix bound on the root",
           R"(<a:propfind xmlns:a="DAV:" xmlns:b="urn:b"><a:prop><b:x/><a:displayname/>)"
           R"(</a:prop></a:propfind>)",
           "prop {urn:b}x {DAV:}displayname"},
          {"a prefix bound again lower down",
           R"(<D:propfind xmlns:D="DAV:"><D:prop><D:x xmlns:D="urn:other"/><D:y/></D:prop>)"
           R"(</D:propfind>)",
           "prop {urn:other}x {DAV:}y"},
          {"litmus propwformed",
           R"(<?xml version="1.0" encoding="utf-8" ?><propfind xmlns='DAV:'><prop>)"
           R"(<valnspace xmlns='http://example.com/neon/litmus/'/></prop></propfind>)",
           "prop {http://example.com/neon/litmus/}valnspace"},
          {"litmus propextended: an unknown element",
           R"(<propfind xmlns="DAV:"><foobar/><allprop/></propfind>)", "allprop"},
          {"unknown elements are ignored with their content",
           R"(<D:propfind xmlns:D="DAV:"><x:ext xmlns:x="urn:x"><D:prop><D:getetag/>)"
           R"(</D:prop></x:ext><D:future><D:allprop/></D:future><D:propname/></D:propfind>)",
           "propname"},
          {"the content of a property name is ignored",
           R"(<D:propfind xmlns:D="DAV:"><D:prop><D:getetag>junk<x/></D:getetag></D:prop>)"
           R"(</D:propfind>)",
           "prop {DAV:}getetag"},
          {"whitespace, comments and processing instructions",
           "\r\n <!-- c --><?pi x?>\n<D:propfind xmlns:D=\"DAV:\">\n  <D:prop>\n"
           "    <D:getetag/> <!-- c -->\n  </D:prop>\n</D:propfind>\n<!-- end -->\n",
           "prop {DAV:}getetag"},
          {"text in the wrong place is not WebDAV's",
           R"(<D:propfind xmlns:D="DAV:">text<D:prop>more<D:getetag/></D:prop></D:propfind>)",
           "prop {DAV:}getetag"},
          {"two props ask for both lists",
           R"(<D:propfind xmlns:D="DAV:"><D:prop><D:a/></D:prop><D:prop><D:b/></D:prop>)"
           R"(</D:propfind>)",
           "prop {DAV:}a {DAV:}b"},
          {"attributes are ignored",
           R"(<D:propfind xmlns:D="DAV:" a="1"><D:prop x="y"><D:a z="1"/></D:prop>)"
           R"(</D:propfind>)",
           "prop {DAV:}a"},
          {"ISO-8859-1 is read as what it says",
           "<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><propfind xmlns=\"DAV:\"><prop>"
           "<caf\xe9 xmlns=\"urn:x\"/></prop></propfind>",
           "prop {urn:x}caf\xc3\xa9"},
          {"a name beyond U+FFFF is no name to expat (XML 1.0 fourth edition, B)",
           "<propfind xmlns=\"DAV:\"><prop><\xf0\x90\x80\x80 xmlns=\"urn:x\"/></prop>"
           "</propfind>",
           "error: malformed XML: not well-formed (invalid token) (line 1, column 31)"},
          {"allprop and prop", R"(<D:propfind xmlns:D="DAV:"><D:allprop/><D:prop/></D:propfind>)",
           "error: DAV:propfind holds more than one of"},
          {"propname and allprop",
           R"(<D:propfind xmlns:D="DAV:"><D:propname/><D:allprop/></D:propfind>)",
           "error: more than one"},
          {"none of the three", R"(<D:propfind xmlns:D="DAV:"/>)",
           "error: DAV:propfind holds none of DAV:allprop, DAV:propname and DAV:prop"},
          {"only an include",
           R"(<D:propfind xmlns:D="DAV:"><D:include><D:a/></D:include></D:propfind>)",
           "error: holds none of"},
          {"the DAV: prefix bound elsewhere",
           R"(<D:propfind xmlns:D="DAV:"><D:prop xmlns:D="urn:x"><D:a/></D:prop></D:propfind>)",
           "error: holds none of"},
          {"another body", R"(<D:propertyupdate xmlns:D="DAV:"/>)",
           "error: the body is DAV:propertyupdate, not DAV:propfind (line 1, column 1)"},
          {"no namespace", "<propfind><allprop/></propfind>",
           "error: the body is propfind, not DAV:propfind"},
          {"another namespace", "<propfind xmlns=\"urn:dav\"><allprop/></propfind>",
           "error: the body is {urn:dav}propfind, not DAV:propfind"},
          {"litmus propfind_invalid", "<foo>", "error: the body is foo, not DAV:propfind"},
          {"litmus propfind_invalid2: an empty prefix binding",
           R"(<D:propfind xmlns:D="DAV:"><D:prop><bar:foo xmlns:bar=""/></D:prop></D:propfind>)",
           "error: malformed XML: "},
          {"unclosed", R"(<D:propfind xmlns:D="DAV:"><D:allprop/>)",
           "error: malformed XML: no element found"},
          {"mismatched tag", R"(<D:propfind xmlns:D="DAV:"><D:allprop></D:propfind>)",
           "error: malformed XML: mismatched tag (line 1, column 41)"},
          {"junk after the document", R"(<D:propfind xmlns:D="DAV:"><D:allprop/></D:propfind>x)",
           "error: malformed XML: junk after document element"},
          {"two roots",
           R"(<D:propfind xmlns:D="DAV:"><D:allprop/></D:propfind><D:propfind xmlns:D="DAV:"/>)",
           "error: malformed XML: junk after document element"},
          {"unbound prefix", "<D:propfind><D:allprop/></D:propfind>",
           "error: malformed XML: unbound prefix"},
          {"text before the root", "x<propfind xmlns=\"DAV:\"><allprop/></propfind>",
           "error: malformed XML: not well-formed (invalid token) (line 1, column 2)"},
          {"XML declaration not first", " <?xml version=\"1.0\"?><propfind xmlns=\"DAV:\"/>",
           "error: malformed XML: XML or text declaration not at start of entity"},
          {"only an XML declaration", "<?xml version=\"1.0\"?>",
           "error: malformed XML: no element found"},
          {"only a comment", "<!-- nothing -->", "error: malformed XML: no element found"},
          {"a control character", "<propfind xmlns=\"DAV:\">\x01<allprop/></propfind>",
           "error: malformed XML: not well-formed (invalid token)"},
          {"invalid UTF-8", "<propfind xmlns=\"DAV:\"><prop><a\xff/></prop></propfind>",
           "error: malformed XML: not well-formed (invalid token)"},
          {"an undeclared entity", "<propfind xmlns=\"DAV:\">&xxe;<allprop/></propfind>",
           "error: malformed XML: undefined entity"},
          {"duplicate attributes after expansion",
           R"(<propfind xmlns="DAV:" xmlns:a="urn:x" xmlns:b="urn:x" a:q="1" b:q="2"/>)",
           "error: malformed XML: duplicate attribute"},
          {"an unknown encoding",
           "<?xml version=\"1.0\" encoding=\"x-unknown\"?><propfind xmlns=\"DAV:\"/>",
           "error: malformed XML: unknown encoding"},
      });
}

TEST_CASE("xml body: an empty body is reported and means allprop") {
  struct EmptyRow {
    std::string name, body;
    bool empty;
  };
  const EmptyRow rows[] = {
      {"nothing", "", true},
      {"whitespace", " \r\n\t ", true},
      {"a BOM is not whitespace", "\xef\xbb\xbf", false},
      {"a body", "<propfind xmlns=\"DAV:\"><propname/></propfind>", false},
  };
  for (const EmptyRow& row : rows) {
    CAPTURE(row.name);
    for (Expect e : {Expect::Propfind, Expect::Propertyupdate, Expect::Lockinfo}) {
      CAPTURE(static_cast<int>(e));
      Outcome o = parse(e, row.body);
      CHECK(o.empty == row.empty);
      if (row.empty) {
        CHECK(o.ok);
        CHECK(o.result == render(XmlBodyParser(e, Limits{}), e));  // the defaults
      }
    }
  }
  CHECK(parse(Expect::Propfind, "  ").result == "allprop");
  CHECK(parse(Expect::Propertyupdate, "\n").result.empty());
  CHECK(parse(Expect::Lockinfo, "").result == "exclusive owner=");
}

TEST_CASE("xml body: propertyupdate") {
  const std::string ns(kLitmusNs);
  check_rows(
      Expect::Propertyupdate,
      {
          {"litmus propset",
           "<?xml version=\"1.0\" encoding=\"utf-8\"?>" +
               set_prop("<prop0 xmlns=\"" + ns + "\">value0</prop0><prop1 xmlns=\"" + ns +
                        "\">value1</prop1>"),
           "set {" + ns + "}prop0 = value0\nset {" + ns + "}prop1 = value1"},
          {"litmus propremoveset: document order",
           "<propertyupdate xmlns='DAV:'><remove><prop><removeset xmlns='" + ns +
               "'/></prop></remove><set><prop><removeset xmlns='" + ns +
               "'>x</removeset></prop></set><set><prop><removeset xmlns='" + ns +
               "'>y</removeset></prop></set></propertyupdate>",
           "remove {" + ns + "}removeset\nset {" + ns + "}removeset = x\nset {" + ns +
               "}removeset = y"},
          {"litmus propsetremove",
           "<propertyupdate xmlns='DAV:'><set><prop><removeset xmlns='" + ns +
               "'>x</removeset></prop></set><remove><prop><removeset xmlns='" + ns +
               "'/></prop></remove></propertyupdate>",
           "set {" + ns + "}removeset = x\nremove {" + ns + "}removeset"},
          {"litmus propnullns",
           "<propertyupdate xmlns=\"DAV:\"><set><prop><nonamespace xmlns=\"\">randomvalue"
           "</nonamespace></prop></set></propertyupdate>",
           "set {}nonamespace = randomvalue"},
          {"litmus prophighunicode",
           "<propertyupdate xmlns='DAV:'><set><prop><high-unicode xmlns='" + ns +
               "'>&#65536;</high-unicode></prop></set></propertyupdate>",
           "set {" + ns + "}high-unicode = \xf0\x90\x80\x80"},
          {"litmus propvalnspace",
           "<propertyupdate xmlns='DAV:'><set><prop><t:valnspace xmlns:t='" + ns +
               "'><foo xmlns='http://bar'/></t:valnspace></prop></set></propertyupdate>",
           "set {" + ns + "}valnspace = <ns0:foo xmlns:ns0=\"http://bar\"/>"},
          {"an empty value", set_prop("<x:p xmlns:x=\"urn:x\"/><x:q xmlns:x=\"urn:x\"></x:q>"),
           "set {urn:x}p = \nset {urn:x}q = "},
          {"a comment is no value", set_prop("<x:p xmlns:x=\"urn:x\"><!-- c --></x:p>"),
           "set {urn:x}p = "},
          {"whitespace is a value", set_prop("<x:p xmlns:x=\"urn:x\">  \n\t </x:p>"),
           "set {urn:x}p =   \n\t "},
          {"line ends are normalised, a CR reference is kept",
           set_prop("<x:p xmlns:x=\"urn:x\">a\r\nb\rc&#13;</x:p>"), "set {urn:x}p = a\nb\nc&#13;"},
          {"escaping", set_prop("<x:p xmlns:x=\"urn:x\">a &lt; b &amp; c &gt; \"d\" 'e'</x:p>"),
           "set {urn:x}p = a &lt; b &amp; c &gt; \"d\" 'e'"},
          {"CDATA becomes text", set_prop("<x:p xmlns:x=\"urn:x\"><![CDATA[<b>&]]></x:p>"),
           "set {urn:x}p = &lt;b&gt;&amp;"},
          {"mixed content", set_prop("<x:p xmlns:x=\"urn:x\">a<x:b>c</x:b>d<x:e/>f</x:p>"),
           "set {urn:x}p = a<ns0:b xmlns:ns0=\"urn:x\">c</ns0:b>d"
           "<ns0:e xmlns:ns0=\"urn:x\"/>f"},
          {"attributes with namespaces",
           set_prop("<x:p xmlns:x=\"urn:x\"><x:e x:a=\"1\" b=\"2\" y:c=\"3\" xmlns:y=\"urn:y\" "
                    "xml:lang=\"fr\"/></x:p>"),
           "set {urn:x}p = <ns0:e xmlns:ns0=\"urn:x\" ns0:a=\"1\" b=\"2\" xmlns:ns1=\"urn:y\" "
           "ns1:c=\"3\" xml:lang=\"fr\"/>"},
          {"an attribute value with tabs and quotes",
           set_prop("<x:p xmlns:x=\"urn:x\"><x:e a='&#9;\"&#10;'/></x:p>"),
           "set {urn:x}p = <ns0:e xmlns:ns0=\"urn:x\" a=\"&#9;&quot;&#10;\"/>"},
          {"DAV: elements in a value",
           set_prop("<x:p xmlns:x=\"urn:x\"><D:href>/a</D:href><href xmlns=\"DAV:\">/b</href>"
                    "</x:p>"),
           "set {urn:x}p = <D:href>/a</D:href><D:href>/b</D:href>"},
          {"xml:lang on the property",
           set_prop("<x:p xmlns:x=\"urn:x\" xml:lang=\"de\">Hallo</x:p>"),
           "set {urn:x}p lang=de = Hallo"},
          {"xml:lang in scope from set",
           set_prop("<x:p xmlns:x=\"urn:x\">Hi</x:p><x:q xmlns:x=\"urn:x\" xml:lang=\"\">-</x:q>",
                    " xml:lang=\"en\""),
           "set {urn:x}p lang=en = Hi\nset {urn:x}q = -"},
          {"xml:lang ends with its element",
           propertyupdate("<D:set xml:lang=\"en\"><D:prop><x:p xmlns:x=\"urn:x\">a</x:p>"
                          "</D:prop></D:set><D:set><D:prop><x:q xmlns:x=\"urn:x\">b</x:q>"
                          "</D:prop></D:set>"),
           "set {urn:x}p lang=en = a\nset {urn:x}q = b"},
          {"remove ignores content and xml:lang",
           propertyupdate("<D:remove xml:lang=\"en\"><D:prop><x:p xmlns:x=\"urn:x\">junk<y/>"
                          "</x:p><D:displayname/></D:prop></D:remove>"),
           "remove {urn:x}p\nremove {DAV:}displayname"},
          {"unknown elements are ignored",
           propertyupdate("<D:future/><x:ext xmlns:x=\"urn:x\"><D:set><D:prop><D:a/></D:prop>"
                          "</D:set></x:ext><D:set><D:other/><D:prop><D:b>v</D:b></D:prop>"
                          "</D:set>"),
           "set {DAV:}b = v"},
          {"a set with an empty prop", propertyupdate("<D:set><D:prop/></D:set>"), ""},
          {"a set without prop", propertyupdate("<D:set/>"), "error: DAV:set holds no DAV:prop"},
          {"a remove without prop", propertyupdate("<D:remove><D:other/></D:remove>"),
           "error: DAV:remove holds no DAV:prop"},
          {"neither set nor remove", propertyupdate("<D:future/>"),
           "error: DAV:propertyupdate holds no DAV:set or DAV:remove"},
          {"another body", "<D:propfind xmlns:D=\"DAV:\"><D:allprop/></D:propfind>",
           "error: the body is DAV:propfind, not DAV:propertyupdate"},
          {"malformed value", set_prop("<x:p xmlns:x=\"urn:x\"><a></b></x:p>"),
           "error: malformed XML: mismatched tag"},
          {"an undeclared entity in a value", set_prop("<x:p xmlns:x=\"urn:x\">&nbsp;</x:p>"),
           "error: malformed XML: undefined entity"},
      });
}

TEST_CASE("xml body: lockinfo") {
  check_rows(
      Expect::Lockinfo,
      {
          {"litmus lock body",
           "<?xml version=\"1.0\" encoding=\"utf-8\"?><lockinfo xmlns='DAV:'><lockscope>"
           "<exclusive/></lockscope><locktype><write/></locktype><owner>"
           "<href>http://www.webdav.org/neon/litmus/</href></owner></lockinfo>",
           "exclusive owner=<D:href>http://www.webdav.org/neon/litmus/</D:href>"},
          {"shared, text owner",
           "<D:lockinfo xmlns:D=\"DAV:\"><D:lockscope><D:shared/></D:lockscope><D:locktype>"
           "<D:write/></D:locktype><D:owner>litmus &amp; co</D:owner></D:lockinfo>",
           "shared owner=litmus &amp; co"},
          {"no owner",
           "<D:lockinfo xmlns:D=\"DAV:\"><D:locktype><D:write/></D:locktype><D:lockscope>"
           "<D:exclusive/></D:lockscope></D:lockinfo>",
           "exclusive owner="},
          {"an owner in another namespace, whitespace kept",
           "<D:lockinfo xmlns:D=\"DAV:\"><D:lockscope><D:exclusive/></D:lockscope>"
           "<D:locktype><D:write/></D:locktype><D:owner>\n <o:me xmlns:o=\"urn:o\" o:id=\"7\">"
           "Me</o:me>\n</D:owner></D:lockinfo>",
           "exclusive owner=\n <ns0:me xmlns:ns0=\"urn:o\" ns0:id=\"7\">Me</ns0:me>\n"},
          {"unknown elements are ignored",
           "<D:lockinfo xmlns:D=\"DAV:\"><x:ext xmlns:x=\"urn:x\"><D:lockscope><D:shared/>"
           "</D:lockscope></x:ext><D:lockscope><D:future/><D:exclusive/></D:lockscope>"
           "<D:locktype><D:write/><D:other/></D:locktype><D:more/></D:lockinfo>",
           "exclusive owner="},
          {"whitespace between elements",
           "\n<D:lockinfo xmlns:D=\"DAV:\">\n  <D:lockscope> <D:shared/> </D:lockscope>\n"
           "  <D:locktype>\n <D:write/>\n </D:locktype>\n</D:lockinfo>\n",
           "shared owner="},
          {"no lockscope",
           "<D:lockinfo xmlns:D=\"DAV:\"><D:locktype><D:write/></D:locktype></D:lockinfo>",
           "error: DAV:lockinfo holds no DAV:lockscope"},
          {"no locktype",
           "<D:lockinfo xmlns:D=\"DAV:\"><D:lockscope><D:exclusive/></D:lockscope>"
           "</D:lockinfo>",
           "error: DAV:lockinfo holds no DAV:locktype"},
          {"an empty lockscope",
           "<D:lockinfo xmlns:D=\"DAV:\"><D:lockscope><D:future/></D:lockscope><D:locktype>"
           "<D:write/></D:locktype></D:lockinfo>",
           "error: DAV:lockscope holds neither DAV:exclusive nor DAV:shared"},
          {"both scopes",
           "<D:lockinfo xmlns:D=\"DAV:\"><D:lockscope><D:exclusive/><D:shared/>"
           "</D:lockscope><D:locktype><D:write/></D:locktype></D:lockinfo>",
           "error: DAV:lockscope holds both DAV:exclusive and DAV:shared"},
          {"a lock type other than write",
           "<D:lockinfo xmlns:D=\"DAV:\"><D:lockscope><D:exclusive/></D:lockscope>"
           "<D:locktype><x:read xmlns:x=\"urn:x\"/></D:locktype></D:lockinfo>",
           "error: DAV:locktype holds no DAV:write"},
          {"a scope in another namespace",
           "<D:lockinfo xmlns:D=\"DAV:\"><D:lockscope><exclusive/></D:lockscope>"
           "<D:locktype><D:write/></D:locktype></D:lockinfo>",
           "error: holds neither"},
          {"an empty root", "<lockinfo xmlns=\"DAV:\"/>",
           "error: DAV:lockinfo holds no DAV:lockscope"},
          {"another body", "<D:propfind xmlns:D=\"DAV:\"><D:allprop/></D:propfind>",
           "error: the body is DAV:propfind, not DAV:lockinfo"},
      });
}

TEST_CASE("xml body: a DOCTYPE of any kind is refused, so no entity can be declared") {
  const std::string lockinfo =
      "<D:lockinfo xmlns:D=\"DAV:\"><D:lockscope><D:exclusive/></D:lockscope>"
      "<D:locktype><D:write/></D:locktype><D:owner>&e;</D:owner></D:lockinfo>";
  std::string laughs = "<?xml version=\"1.0\"?>\n<!DOCTYPE lolz [\n<!ENTITY e \"lol\">\n";
  for (int i = 1; i <= 9; ++i) {
    std::string prev = i == 1 ? "e" : "lol" + std::to_string(i - 1);
    laughs += "<!ENTITY lol" + std::to_string(i) + " \"";
    for (int k = 0; k < 10; ++k) laughs += "&" + prev + ";";
    laughs += "\">\n";
  }
  laughs += "]>\n" + lockinfo;
  const Row rows[] = {
      {"billion laughs", laughs, "a DOCTYPE is not allowed (line 2, column 16)"},
      {"external entity to /etc/passwd",
       "<?xml version=\"1.0\"?><!DOCTYPE D:lockinfo [<!ENTITY e SYSTEM "
       "\"file:///etc/passwd\">]>" +
           lockinfo,
       "a DOCTYPE is not allowed (line 1, column 43)"},
      {"external parameter entity",
       "<!DOCTYPE x [<!ENTITY % p SYSTEM \"http://127.0.0.1/x.dtd\"> %p;]>" + lockinfo,
       "a DOCTYPE is not allowed (line 1, column 13)"},
      {"external DTD", "<!DOCTYPE D:lockinfo SYSTEM \"file:///etc/passwd\">" + lockinfo,
       "a DOCTYPE is not allowed (line 1, column 49)"},
      {"public DTD",
       "<!DOCTYPE D:lockinfo PUBLIC \"-//x//y\" \"http://127.0.0.1/y.dtd\">" + lockinfo,
       "a DOCTYPE is not allowed (line 1, column 63)"},
      {"a plain DOCTYPE", "<!DOCTYPE lockinfo>" + lockinfo,
       "a DOCTYPE is not allowed (line 1, column 19)"},
      {"an empty internal subset", "<!-- c -->\n<!DOCTYPE lockinfo []>" + lockinfo,
       "a DOCTYPE is not allowed (line 2, column 20)"},
  };
  for (const Row& row : rows) {
    CAPTURE(row.name);
    for (Expect e : {Expect::Propfind, Expect::Propertyupdate, Expect::Lockinfo}) {
      CAPTURE(static_cast<int>(e));
      Outcome o = parse(e, row.body);
      CHECK_FALSE(o.ok);
      CHECK(o.result == "error: " + row.result);
    }
  }
  // Without the DOCTYPE the entity is simply undefined.
  CHECK(parse(Expect::Lockinfo, lockinfo).result.find("undefined entity") != std::string::npos);
}

TEST_CASE("xml body: max_bytes counts every byte fed") {
  const std::string body = "<D:propfind xmlns:D=\"DAV:\"><D:propname/></D:propfind>";
  struct LimitRow {
    std::string name, body;
    std::size_t max_bytes;
    std::string result;
  };
  const LimitRow rows[] = {
      {"exactly max_bytes", body, body.size(), "propname"},
      {"max_bytes + 1", body, body.size() - 1,
       "error: the body is larger than " + std::to_string(body.size() - 1) + " bytes"},
      {"whitespace counts", body + "\n", body.size(), "error: the body is larger than"},
      {"an empty body over the limit", std::string(11, ' '), 10,
       "error: the body is larger than 10 bytes"},
      {"nothing, no limit", "", 0, "allprop"},
  };
  for (const LimitRow& row : rows) {
    CAPTURE(row.name);
    Limits limits;
    limits.max_bytes = row.max_bytes;
    Outcome o = parse(Expect::Propfind, row.body, limits);
    if (row.result.rfind("error: ", 0) == 0) {
      CHECK_FALSE(o.ok);
      CHECK(o.result.rfind(row.result, 0) == 0);
    } else {
      CHECK(o.ok);
      CHECK(o.result == row.result);
    }
  }
  // A body cut in pieces is counted over all of them; later pieces change nothing.
  XmlBodyParser p(Expect::Propfind, Limits{10, 64});
  CHECK(p.feed("<D:propfi"));
  CHECK_FALSE(p.feed("nd"));
  CHECK_FALSE(p.feed(""));
  CHECK_FALSE(p.finish());
  CHECK(p.error() == "the body is larger than 10 bytes");
}

TEST_CASE("xml body: max_depth bounds nesting everywhere") {
  // `n` elements in all: the root and n - 1 nested inside it, in the place `where` says.
  auto nested = [](std::size_t n, const std::string& where) {
    std::string open, close;
    std::size_t outer = 0;
    std::string body;
    if (where == "value") {
      body = "<D:propertyupdate xmlns:D=\"DAV:\"><D:set><D:prop><x:p xmlns:x=\"urn:x\">";
      outer = 4;
    } else if (where == "ignored") {
      body = "<D:propertyupdate xmlns:D=\"DAV:\"><D:set><D:prop/></D:set><D:future>";
      outer = 2;
    } else {  // a removed property's content
      body = "<D:propertyupdate xmlns:D=\"DAV:\"><D:remove><D:prop><x:p xmlns:x=\"urn:x\">";
      outer = 4;
    }
    for (std::size_t i = outer; i < n; ++i) open += "<a>", close += "</a>";
    std::string tail = where == "ignored" ? "</D:future></D:propertyupdate>"
                       : where == "value" ? "</x:p></D:prop></D:set></D:propertyupdate>"
                                          : "</x:p></D:prop></D:remove></D:propertyupdate>";
    return body + open + close + tail;
  };
  for (std::size_t max_depth : {std::size_t{5}, std::size_t{8}, Limits{}.max_depth}) {
    for (const std::string where : {"value", "ignored", "remove"}) {
      CAPTURE(max_depth);
      CAPTURE(where);
      Limits limits;
      limits.max_depth = max_depth;
      CHECK(parse(Expect::Propertyupdate, nested(max_depth, where), limits).ok);
      Outcome deep = parse(Expect::Propertyupdate, nested(max_depth + 1, where), limits);
      CHECK_FALSE(deep.ok);
      CHECK(deep.result.rfind("error: elements are nested deeper than " +
                                  std::to_string(max_depth) + " (line 1, column ",
                              0) == 0);
    }
  }
  Limits one;
  one.max_depth = 1;
  CHECK(parse(Expect::Propfind, "<propfind xmlns=\"DAV:\"/>", one).result.find("holds none") !=
        std::string::npos);
  CHECK(parse(Expect::Propfind, "<propfind xmlns=\"DAV:\"><allprop/></propfind>", one).result ==
        "error: elements are nested deeper than 1 (line 1, column 24)");
}

TEST_CASE("xml body: what is kept may not outgrow the body by much") {
  // One long namespace, declared once, named by many short elements: each name would copy
  // it.
  std::string uri = "urn:" + std::string(1000, 'n');
  std::string names;
  for (int i = 0; i < 40; ++i) names += "<x:a/>";
  Limits limits;
  limits.max_bytes = 4096;
  std::string propfind = "<D:propfind xmlns:D=\"DAV:\"><D:prop xmlns:x=\"" + uri + "\">" + names +
                         "</D:prop></D:propfind>";
  REQUIRE(propfind.size() <= limits.max_bytes);
  Outcome o = parse(Expect::Propfind, propfind, limits);
  CHECK(o.result.rfind("error: the body's names and values take more than 32768 bytes", 0) == 0);
  // Likewise a value whose every element would declare it again.
  std::string value = set_prop("<x:p xmlns:x=\"" + uri + "\">" + names + "</x:p>");
  REQUIRE(value.size() <= limits.max_bytes);
  o = parse(Expect::Propertyupdate, value, limits);
  CHECK(o.result.rfind("error: the body's names and values take more than", 0) == 0);
  // With room to spare, both are fine.
  limits.max_bytes = 1 << 20;
  CHECK(parse(Expect::Propfind, propfind, limits).ok);
  CHECK(parse(Expect::Propertyupdate, value, limits).ok);
}

TEST_CASE("xml body: errors are sticky and finish() may be called again") {
  XmlBodyParser p(Expect::Propfind, Limits{});
  CHECK_FALSE(p.feed("<a><b></a>"));
  std::string error = p.error();
  CHECK_FALSE(error.empty());
  CHECK_FALSE(p.feed("<D:propfind xmlns:D=\"DAV:\"><D:allprop/></D:propfind>"));
  CHECK_FALSE(p.finish());
  CHECK_FALSE(p.finish());
  CHECK(p.error() == error);

  XmlBodyParser q(Expect::Propfind, Limits{});
  CHECK(q.feed("<D:propfind xmlns:D=\"DAV:\"><D:propname/></D:propfind>"));
  CHECK(q.finish());
  CHECK(q.finish());
  CHECK(q.propfind().kind == PropfindBody::Kind::PropName);
}

TEST_CASE("xml body: names in error messages stay on one line and short") {
  std::string body = "<x:" + std::string(300, 'a') + " xmlns:x=\"urn:a&#9;b&#13;c\"/>";
  Outcome o = parse(Expect::Propfind, body);
  CHECK_FALSE(o.ok);
  CHECK(o.result.rfind("error: the body is {urn:a?b?c}aaa", 0) == 0);
  CHECK(o.result.find("...") != std::string::npos);
  CHECK(o.result.size() < 200);
}

// A PROPPATCH value, written inside a 207 body with property_element() and read again by
// expat, has the same elements, namespaces, attributes, text and xml:lang (RFC 4918 4.3).
TEST_CASE("xml body: values round-trip through xml_writer") {
  struct TripRow {
    std::string name;
    std::string prop;  // one property element, inside D:set/D:prop
    std::string set_attributes = "";
  };
  const std::string ns(kLitmusNs);
  const TripRow rows[] = {
      {"litmus propvalnspace",
       "<t:valnspace xmlns:t='" + ns + "'><foo xmlns='http://bar'/></t:valnspace>"},
      {"litmus prophighunicode",
       "<high-unicode xmlns='" + ns + "'>&#65536;\xf4\x8f\xbf\xbf</high-unicode>"},
      {"litmus propnullns", "<nonamespace xmlns=\"\">randomvalue</nonamespace>"},
      {"litmus propmanyns", "<somename xmlns=\"http://example.com/alpha\">manynsvalue</somename>"},
      {"empty", "<x:p xmlns:x=\"urn:x\"/>"},
      {"whitespace", "<x:p xmlns:x=\"urn:x\">\n  \t</x:p>"},
      {"default namespaces nested and undeclared",
       "<x:p xmlns:x=\"urn:x\"><a xmlns=\"urn:a\"><b>t</b><c xmlns=\"\">u<d/></c></a></x:p>"},
      {"a prefix rebound lower down",
       "<ns0:p xmlns:ns0=\"urn:a\"><ns0:q xmlns:ns0=\"urn:b\"><ns1:r xmlns:ns1=\"urn:a\" "
       "ns0:at=\"v\"/></ns0:q><ns0:s/></ns0:p>"},
      {"many namespaces on one element",
       "<x:p xmlns:x=\"urn:x\"><x:e xmlns:a=\"urn:1\" xmlns:b=\"urn:2\" xmlns:c=\"urn:3\" "
       "a:i=\"1\" b:j=\"2\" c:k=\"3\" x:l=\"4\" m=\"5\" xml:space=\"preserve\"/></x:p>"},
      {"attributes in no namespace under a default one",
       "<p xmlns=\"urn:x\"><e a=\"1\"><f xmlns=\"\" b=\"2\"/></e></p>"},
      {"xml:lang inside the value",
       "<x:p xmlns:x=\"urn:x\"><x:t xml:lang=\"fr\">bonjour<x:u>salut</x:u></x:t>"
       "<x:t xml:lang=\"\">none</x:t></x:p>"},
      {"xml:lang on the property", "<x:p xmlns:x=\"urn:x\" xml:lang=\"en-GB\">colour</x:p>"},
      {"xml:lang inherited", "<x:p xmlns:x=\"urn:x\"><x:q>x</x:q>y</x:p>", " xml:lang=\"de\""},
      {"DAV: elements",
       "<x:p xmlns:x=\"urn:x\"><D:href>/a</D:href><href xmlns=\"DAV:\">/b"
       "</href></x:p>"},
      {"a property in DAV:", "<D:displayname>name</D:displayname>"},
      {"escapes in text and attributes",
       "<x:p xmlns:x=\"urn:x\">&lt;&amp;&gt;\"'&#13;<x:e a=\"&lt;&amp;&quot;'&#9;&#10;&#13;\" "
       "b='\"'/></x:p>"},
      {"CDATA", "<x:p xmlns:x=\"urn:x\"><![CDATA[<not> & ]]]]><![CDATA[>]]></x:p>"},
      {"comments and processing instructions are not values",
       "<x:p xmlns:x=\"urn:x\">a<!-- c -->b<?pi data?>c</x:p>"},
      {"non-ASCII names and text",
       "<x:caf\xc3\xa9 xmlns:x=\"urn:\xc3\xa9\"><x:\xe6\x97\xa5 \xc3\xa9=\"\xc3\xa9\">"
       "\xe2\x82\xac</x:\xe6\x97\xa5></x:caf\xc3\xa9>"},
      {"deep", "<x:p xmlns:x=\"urn:x\"><a><b><c><d><e>deep</e></d></c></b></a></x:p>"},
  };
  for (const TripRow& row : rows) {
    CAPTURE(row.name);
    std::string body = set_prop(row.prop, row.set_attributes);
    CAPTURE(body);

    // What the client sent, as expat reads it.
    std::optional<Node> sent = read_tree(body);
    REQUIRE(sent.has_value());
    const Node& original = sent->children.at(0).children.at(0).children.at(0);

    Outcome o = parse(Expect::Propertyupdate, body);
    REQUIRE(o.ok);
    XmlBodyParser p(Expect::Propertyupdate, Limits{});
    REQUIRE(p.feed(body));
    REQUIRE(p.finish());
    REQUIRE(p.proppatch().ops.size() == 1);
    const PropertyValue& value = p.proppatch().ops[0].prop;
    CAPTURE(value.value_xml);

    // Written into a 207 body the way PROPFIND answers, and read back.
    std::string doc = "<D:multistatus xmlns:D=\"DAV:\"><D:response><D:propstat><D:prop>";
    property_element(doc, value.name, value.value_xml, value.lang);
    doc += "</D:prop></D:propstat></D:response></D:multistatus>";
    std::optional<Node> written = read_tree(doc);
    REQUIRE(written.has_value());
    const Node& back = written->children.at(0).children.at(0).children.at(0).children.at(0);
    CHECK(back.name == original.name);
    CHECK(back.lang == original.lang);
    CHECK(dump_content(back) == dump_content(original));

    // The value holds its own namespaces: under a default namespace and a prefix it does not
    // use, it reads the same (D: and the xml:lang in scope come from where it is written).
    std::string wrapped = "<w xmlns=\"urn:trap\" xmlns:ns0=\"urn:trap0\" xmlns:D=\"DAV:\"";
    if (!value.lang.empty()) wrapped += " xml:lang=\"" + value.lang + "\"";
    wrapped += ">" + value.value_xml + "</w>";
    std::optional<Node> alone = read_tree(wrapped);
    REQUIRE(alone.has_value());
    CHECK(dump_content(*alone) == dump_content(original));

    // Sent again as a PROPPATCH, it comes back byte for byte.
    std::string again_prop;
    property_element(again_prop, value.name, value.value_xml, value.lang);
    Outcome again = parse(Expect::Propertyupdate, set_prop(again_prop));
    CHECK(again == o);
  }
}

TEST_CASE("xml body: attributes of the property element itself are not part of its value") {
  // RFC 4918 4.3 asks for xml:lang only; the value is the element's content.
  Outcome o = parse(Expect::Propertyupdate,
                    set_prop("<x:p xmlns:x=\"urn:x\" x:a=\"1\" b=\"2\" xml:lang=\"en\">v</x:p>"));
  CHECK(o.result == "set {urn:x}p lang=en = v");
}
