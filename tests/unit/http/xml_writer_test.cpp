// xml_writer: escaping, names with their namespaces, property elements. Besides the exact
// bytes, every row reads what was written back with expat (namespaces on) and checks that a
// parser sees the same names, attributes and text: the bytes could be right and still mean
// something else.
#include "http/xml_writer.hpp"

#include <doctest/doctest.h>
#include <expat.h>

#include <algorithm>
#include <string>
#include <vector>

using namespace httpfs::http;

namespace {

#define FFFD "\xEF\xBF\xBD"

constexpr std::string_view kXmlnsNs = "http://www.w3.org/2000/xmlns/";
// Expat's namespace separator here: a control character, which the writer never lets through
// (a newline could be in a namespace it writes, and expat refuses one holding its separator).
constexpr XML_Char kSeparator = '\x01';

// What expat reads in `doc`: "<{ns}local {ns}attr=value ...>" for a start tag (attributes
// sorted), the text (merged), "</>" for an end tag; or "error: ..." when the document is not
// namespace-well-formed.
struct ReadBack {
  std::string out, text;
  int starts = 0;

  static std::string name(const XML_Char* expanded) {
    std::string_view s(expanded);
    std::size_t cut = s.rfind(kSeparator);
    if (cut == std::string_view::npos) return "{}" + std::string(s);
    return "{" + std::string(s.substr(0, cut)) + "}" + std::string(s.substr(cut + 1));
  }
  void flush() {
    out += text;
    text.clear();
  }
  static void XMLCALL start(void* self, const XML_Char* element, const XML_Char** atts) {
    auto* r = static_cast<ReadBack*>(self);
    r->flush();
    ++r->starts;
    std::vector<std::string> attributes;
    for (; *atts != nullptr; atts += 2) attributes.push_back(name(atts[0]) + "=" + atts[1]);
    std::sort(attributes.begin(), attributes.end());
    r->out += "<" + name(element);
    for (const std::string& a : attributes) r->out += " " + a;
    r->out += ">";
  }
  static void XMLCALL end(void* self, const XML_Char*) {
    auto* r = static_cast<ReadBack*>(self);
    r->flush();
    r->out += "</>";
  }
  static void XMLCALL chars(void* self, const XML_Char* s, int len) {
    static_cast<ReadBack*>(self)->text.append(s, static_cast<std::size_t>(len));
  }
};

std::string read_back(std::string_view doc, int* starts = nullptr) {
  XML_Parser p = XML_ParserCreateNS(nullptr, kSeparator);
  ReadBack r;
  XML_SetUserData(p, &r);
  XML_SetElementHandler(p, ReadBack::start, ReadBack::end);
  XML_SetCharacterDataHandler(p, ReadBack::chars);
  if (XML_Parse(p, doc.data(), static_cast<int>(doc.size()), XML_TRUE) == XML_STATUS_ERROR) {
    r.out = std::string("error: ") + XML_ErrorString(XML_GetErrorCode(p));
  }
  XML_ParserFree(p);
  if (starts != nullptr) *starts = r.starts;
  return r.out;
}

// `inner` inside a root that declares D: as xml_writer's callers do.
std::string in_document(std::string_view inner) {
  return "<D:r xmlns:D=\"DAV:\">" + std::string(inner) + "</D:r>";
}

std::string text(std::string_view s) {
  std::string out;
  xml_escape_text(out, s);
  return out;
}

std::string attribute(std::string_view s) {
  std::string out;
  xml_escape_attribute(out, s);
  return out;
}

}  // namespace

TEST_CASE("xml writer: text and attribute escaping, controls and invalid UTF-8") {
  struct Row {
    std::string name;
    std::string input, as_text, as_attribute;
    std::string back;  // what a parser reads from either
  };
  const Row rows[] = {
      {"plain", "abc", "abc", "abc", "abc"},
      {"markup", "<a href=\"x\">&amp;</a>", "&lt;a href=\"x\"&gt;&amp;amp;&lt;/a&gt;",
       "&lt;a href=&quot;x&quot;&gt;&amp;amp;&lt;/a&gt;", "<a href=\"x\">&amp;</a>"},
      {"cdata end", "]]>", "]]&gt;", "]]&gt;", "]]>"},
      {"apostrophe", "it's", "it's", "it's", "it's"},
      {"tab and LF", "a\tb\nc", "a\tb\nc", "a&#9;b&#10;c", "a\tb\nc"},
      {"CR survives line-end normalisation", "a\r\nb\r", "a&#13;\nb&#13;", "a&#13;&#10;b&#13;",
       "a\r\nb\r"},
      {"NUL", std::string("a\0b", 3), "a" FFFD "b", "a" FFFD "b", "a" FFFD "b"},
      {"C0 controls", "\x01\x08\x0b\x0c\x1f", FFFD FFFD FFFD FFFD FFFD, FFFD FFFD FFFD FFFD FFFD,
       FFFD FFFD FFFD FFFD FFFD},
      {"DEL and C1 are characters", "\x7f\xc2\x85", "\x7f\xc2\x85", "\x7f\xc2\x85", "\x7f\xc2\x85"},
      {"two to four bytes", "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80",
       "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80", "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80",
       "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80"},
      {"U+10FFFF and U+E000", "\xf4\x8f\xbf\xbf\xee\x80\x80", "\xf4\x8f\xbf\xbf\xee\x80\x80",
       "\xf4\x8f\xbf\xbf\xee\x80\x80", "\xf4\x8f\xbf\xbf\xee\x80\x80"},
      {"U+FFFD stays", FFFD, FFFD, FFFD, FFFD},
      {"U+FFFE and U+FFFF are not characters", "\xef\xbf\xbe\xef\xbf\xbf", FFFD FFFD, FFFD FFFD,
       FFFD FFFD},
      {"lone continuation byte", "a\x80z", "a" FFFD "z", "a" FFFD "z", "a" FFFD "z"},
      {"bytes that never start UTF-8", "\xff\xfe", FFFD FFFD, FFFD FFFD, FFFD FFFD},
      {"truncated at the end", "a\xc3", "a" FFFD, "a" FFFD, "a" FFFD},
      {"truncated before ASCII", "\xe2\x82<", FFFD FFFD "&lt;", FFFD FFFD "&lt;", FFFD FFFD "<"},
      {"overlong", "\xc0\xae", FFFD FFFD, FFFD FFFD, FFFD FFFD},
      {"surrogate", "\xed\xa0\x80", FFFD FFFD FFFD, FFFD FFFD FFFD, FFFD FFFD FFFD},
      {"above U+10FFFF", "\xf4\x90\x80\x80", FFFD FFFD FFFD FFFD, FFFD FFFD FFFD FFFD,
       FFFD FFFD FFFD FFFD},
      {"five-byte form", "\xf8\x88\x80\x80\x80", FFFD FFFD FFFD FFFD FFFD, FFFD FFFD FFFD FFFD FFFD,
       FFFD FFFD FFFD FFFD FFFD},
  };
  for (const Row& row : rows) {
    CAPTURE(row.name);
    CHECK(text(row.input) == row.as_text);
    CHECK(attribute(row.input) == row.as_attribute);
    std::string doc = "<r a=\"" + attribute(row.input) + "\">" + text(row.input) + "</r>";
    CHECK(read_back(doc) == "<{}r {}a=" + row.back + ">" + row.back + "</>");
  }
}

TEST_CASE("xml writer: escaping appends") {
  std::string out = "x";
  xml_escape_text(out, "<");
  xml_escape_attribute(out, "\"");
  CHECK(out == "x&lt;&quot;");
}

TEST_CASE("xml writer: element names with and without a namespace") {
  struct Row {
    std::string name;
    XmlName element;
    std::string open, close;
    std::string back;  // the expanded name a parser reads
  };
  const std::string xml_ns(kXmlNamespace);
  const Row rows[] = {
      {"DAV: uses the root's D prefix",
       {"DAV:", "getetag"},
       "<D:getetag>",
       "</D:getetag>",
       "{DAV:}getetag"},
      {"another namespace is declared on the element",
       {"urn:x", "foo"},
       "<ns0:foo xmlns:ns0=\"urn:x\">",
       "</ns0:foo>",
       "{urn:x}foo"},
      {"no namespace undeclares the default", {"", "foo"}, "<foo xmlns=\"\">", "</foo>", "{}foo"},
      {"a namespace is escaped",
       {"urn:a&b\"<", "x"},
       "<ns0:x xmlns:ns0=\"urn:a&amp;b&quot;&lt;\">",
       "</ns0:x>",
       "{urn:a&b\"<}x"},
      {"a namespace with a tab",
       {"urn:a\tb", "x"},
       "<ns0:x xmlns:ns0=\"urn:a&#9;b\">",
       "</ns0:x>",
       "{urn:a\tb}x"},
      {"the xml namespace keeps its prefix",
       {xml_ns, "foo"},
       "<xml:foo>",
       "</xml:foo>",
       "{" + xml_ns + "}foo"},
      {"the xmlns namespace cannot be written",
       {std::string(kXmlnsNs), "foo"},
       "<foo xmlns=\"\">",
       "</foo>",
       "{}foo"},
      {"non-ASCII name",
       {"urn:x", "caf\xc3\xa9"},
       "<ns0:caf\xc3\xa9 xmlns:ns0=\"urn:x\">",
       "</ns0:caf\xc3\xa9>",
       "{urn:x}caf\xc3\xa9"},
      {"name characters",
       {"urn:x",
        "a-b.c_d\xc2\xb7"
        "9"},
       "<ns0:a-b.c_d\xc2\xb7"
       "9 xmlns:ns0=\"urn:x\">",
       "</ns0:a-b.c_d\xc2\xb7"
       "9>",
       "{urn:x}a-b.c_d\xc2\xb7"
       "9"},
      {"a digit may not start a name",
       {"urn:x", "1abc"},
       "<ns0:_1abc xmlns:ns0=\"urn:x\">",
       "</ns0:_1abc>",
       "{urn:x}_1abc"},
      {"nor a hyphen", {"", "-x"}, "<_-x xmlns=\"\">", "</_-x>", "{}_-x"},
      {"nor a middle dot",
       {"", "\xc2\xb7"},
       "<_\xc2\xb7 xmlns=\"\">",
       "</_\xc2\xb7>",
       "{}_\xc2\xb7"},
      {"empty name", {"urn:x", ""}, "<ns0:_ xmlns:ns0=\"urn:x\">", "</ns0:_>", "{urn:x}_"},
      {"space", {"", "a b"}, "<a_b xmlns=\"\">", "</a_b>", "{}a_b"},
      {"colon", {"urn:x", "a:b"}, "<ns0:a_b xmlns:ns0=\"urn:x\">", "</ns0:a_b>", "{urn:x}a_b"},
      {"markup in a name", {"DAV:", "x\"/><y"}, "<D:x____y>", "</D:x____y>", "{DAV:}x____y"},
      {"invalid UTF-8 in a name", {"", "a\xff\xc3"}, "<a__ xmlns=\"\">", "</a__>", "{}a__"},
      {"a noncharacter in a name", {"", "a\xef\xbf\xbe"}, "<a_ xmlns=\"\">", "</a_>", "{}a_"},
  };
  for (const Row& row : rows) {
    CAPTURE(row.name);
    std::string open, empty, close;
    open_element(open, row.element);
    open_element(empty, row.element, true);
    close_element(close, row.element);
    CHECK(open == row.open);
    CHECK(close == row.close);
    std::string expected_empty = row.open;
    expected_empty.insert(expected_empty.size() - 1, "/");
    CHECK(empty == expected_empty);
    CHECK(read_back(in_document(open + "t" + close)) == "<{DAV:}r><" + row.back + ">t</></>");
    CHECK(read_back(in_document(empty)) == "<{DAV:}r><" + row.back + "></></>");
  }
}

TEST_CASE("xml writer: an element without a namespace is not captured by a default one") {
  std::string doc = "<r xmlns=\"urn:default\">";
  open_element(doc, {"", "foo"});
  open_element(doc, {"urn:a", "x"});
  open_element(doc, {"urn:b", "y"}, true);
  open_element(doc, {"", "bar"}, true);
  close_element(doc, {"urn:a", "x"});
  close_element(doc, {"", "foo"});
  doc += "</r>";
  CHECK(read_back(doc) == "<{urn:default}r><{}foo><{urn:a}x><{urn:b}y></><{}bar></></></></>");
}

TEST_CASE("xml writer: attributes keep their namespaces") {
  struct Row {
    std::string name;
    XmlName element;
    std::vector<XmlAttribute> attributes;
    std::string open;
    std::string back;  // the start tag a parser reads
  };
  const std::string xml_ns(kXmlNamespace), xmlns_ns(kXmlnsNs);
  const Row rows[] = {
      {"plain",
       {"urn:x", "e"},
       {{{"", "a"}, "1"}},
       "<ns0:e xmlns:ns0=\"urn:x\" a=\"1\">",
       "<{urn:x}e {}a=1>"},
      {"the element's namespace",
       {"urn:x", "e"},
       {{{"urn:x", "a"}, "1"}},
       "<ns0:e xmlns:ns0=\"urn:x\" ns0:a=\"1\">",
       "<{urn:x}e {urn:x}a=1>"},
      {"other namespaces, each declared once",
       {"urn:x", "e"},
       {{{"urn:y", "a"}, "1"}, {{"urn:z", "b"}, "2"}, {{"urn:y", "c"}, "3"}},
       "<ns0:e xmlns:ns0=\"urn:x\" xmlns:ns1=\"urn:y\" ns1:a=\"1\" xmlns:ns2=\"urn:z\" "
       "ns2:b=\"2\" ns1:c=\"3\">",
       "<{urn:x}e {urn:y}a=1 {urn:y}c=3 {urn:z}b=2>"},
      {"xml:lang",
       {"urn:x", "e"},
       {{{xml_ns, "lang"}, "en"}},
       "<ns0:e xmlns:ns0=\"urn:x\" xml:lang=\"en\">",
       "<{urn:x}e {" + xml_ns + "}lang=en>"},
      {"DAV: attribute",
       {"DAV:", "e"},
       {{{"DAV:", "a"}, "1"}},
       "<D:e D:a=\"1\">",
       "<{DAV:}e {DAV:}a=1>"},
      {"no-namespace element",
       {"", "e"},
       {{{"urn:y", "a"}, "1"}, {{"", "b"}, "2"}},
       "<e xmlns=\"\" xmlns:ns0=\"urn:y\" ns0:a=\"1\" b=\"2\">",
       "<{}e {urn:y}a=1 {}b=2>"},
      {"value escaping",
       {"DAV:", "e"},
       {{{"", "a"}, "q\"<&\t\n\r"}},
       "<D:e a=\"q&quot;&lt;&amp;&#9;&#10;&#13;\">",
       "<{DAV:}e {}a=q\"<&\t\n\r>"},
      {"an attribute named xmlns",
       {"DAV:", "e"},
       {{{"", "xmlns"}, "urn:evil"}},
       "<D:e _xmlns=\"urn:evil\">",
       "<{DAV:}e {}_xmlns=urn:evil>"},
      {"the xmlns namespace",
       {"DAV:", "e"},
       {{{xmlns_ns, "p"}, "urn:evil"}},
       "<D:e p=\"urn:evil\">",
       "<{DAV:}e {}p=urn:evil>"},
      {"a bad attribute name",
       {"DAV:", "e"},
       {{{"", "a b=\"x\""}, "1"}},
       "<D:e a_b__x_=\"1\">",
       "<{DAV:}e {}a_b__x_=1>"},
      {"names that come out the same are written once",
       {"DAV:", "e"},
       {{{"", "a b"}, "1"}, {{"", "a_b"}, "2"}, {{"urn:y", "a b"}, "3"}, {{"urn:y", "a:b"}, "4"}},
       "<D:e a_b=\"1\" xmlns:ns0=\"urn:y\" ns0:a_b=\"3\">",
       "<{DAV:}e {urn:y}a_b=3 {}a_b=1>"},
  };
  for (const Row& row : rows) {
    CAPTURE(row.name);
    std::string open, empty;
    open_element(open, row.element, row.attributes);
    open_element(empty, row.element, row.attributes, true);
    CHECK(open == row.open);
    CHECK(empty == row.open.substr(0, row.open.size() - 1) + "/>");
    std::string close;
    close_element(close, row.element);
    CHECK(read_back(in_document(open + close)) == "<{DAV:}r>" + row.back + "</></>");
  }
}

TEST_CASE("xml writer: property elements") {
  struct Row {
    std::string name;
    XmlName prop;
    std::string value, lang, written;
  };
  const Row rows[] = {
      {"empty value", {"DAV:", "displayname"}, "", "", "<D:displayname/>"},
      {"text", {"urn:x", "p"}, "a &amp; b", "", "<ns0:p xmlns:ns0=\"urn:x\">a &amp; b</ns0:p>"},
      {"with xml:lang",
       {"urn:x", "p"},
       "v",
       "en",
       "<ns0:p xmlns:ns0=\"urn:x\" xml:lang=\"en\">v</ns0:p>"},
      {"empty, with xml:lang",
       {"urn:x", "p"},
       "",
       "en-GB",
       "<ns0:p xmlns:ns0=\"urn:x\" xml:lang=\"en-GB\"/>"},
      {"an element value",
       {"", "p"},
       "<ns0:q xmlns:ns0=\"urn:q\"/>",
       "",
       "<p xmlns=\"\"><ns0:q xmlns:ns0=\"urn:q\"/></p>"},
  };
  for (const Row& row : rows) {
    CAPTURE(row.name);
    std::string out;
    property_element(out, row.prop, row.value, row.lang);
    CHECK(out == row.written);
    CHECK(read_back(in_document(out)).rfind("error", 0) == std::string::npos);
  }
}

TEST_CASE("xml writer: hostile names and values never break the document") {
  const std::vector<std::string> hostile = {
      "",      "<",
      ">",     "&",
      "\"",    "'",
      "]]>",   "</D:r>",
      "a b",   "x=\"y\"",
      "\x01",  std::string("\0", 1),
      "\xff",  "\xed\xa0\x80",
      "xmlns", "xmlns:D",
      "-",     "1",
      ":",     "a:b:c",
      "\r\n",  "\xef\xbf\xbf",
      "<!--",  "<?pi?>",
  };
  for (const std::string& h : hostile) {
    CAPTURE(h);
    std::string body;
    for (const std::string& ns : {std::string(), std::string("DAV:"), h}) {
      XmlName name{ns, h};
      open_element(body, name, std::vector<XmlAttribute>{{{ns, h}, h}, {{"", h}, h}});
      xml_escape_text(body, h);
      open_element(body, name, true);
      close_element(body, name);
      property_element(body, name, "", h);
    }
    int starts = 0;
    CHECK(read_back(in_document(body), &starts).rfind("error", 0) == std::string::npos);
    // The root, then per namespace an element holding an empty one, and a property element.
    CHECK(starts == 1 + 3 * 3);
  }
}
