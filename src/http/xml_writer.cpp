#include "http/xml_writer.hpp"

#include <cstddef>
#include <vector>

namespace httpfs::http {
namespace {

// Namespaces in XML 1.0 3: no element or attribute may be in this namespace, and it may not
// be bound to a prefix; a name that claims it is written without a namespace.
constexpr std::string_view kXmlnsNamespace = "http://www.w3.org/2000/xmlns/";
constexpr std::string_view kReplacement = "\xEF\xBF\xBD";  // U+FFFD
constexpr char32_t kInvalid = 0xFFFFFFFF;

// One code point of `s` at `i`, advancing `i`. Anything RFC 3629 does not allow (a stray
// continuation byte, a truncated or overlong sequence, a surrogate, a value above U+10FFFF)
// is kInvalid and consumes one byte, so each bad byte becomes one replacement.
char32_t next_code_point(std::string_view s, std::size_t& i) noexcept {
  auto lead = static_cast<unsigned char>(s[i]);
  if (lead < 0x80) return s[i++];
  std::size_t len;
  char32_t cp, min;
  if ((lead & 0xE0) == 0xC0) {
    len = 2, cp = lead & 0x1F, min = 0x80;
  } else if ((lead & 0xF0) == 0xE0) {
    len = 3, cp = lead & 0x0F, min = 0x800;
  } else if ((lead & 0xF8) == 0xF0) {
    len = 4, cp = lead & 0x07, min = 0x10000;
  } else {
    ++i;
    return kInvalid;
  }
  if (s.size() - i < len) return ++i, kInvalid;
  for (std::size_t k = 1; k < len; ++k) {
    auto b = static_cast<unsigned char>(s[i + k]);
    if ((b & 0xC0) != 0x80) return ++i, kInvalid;
    cp = (cp << 6) | (b & 0x3F);
  }
  if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return ++i, kInvalid;
  i += len;
  return cp;
}

// XML 1.0 2.2 Char.
bool is_xml_char(char32_t c) noexcept {
  return c == 0x9 || c == 0xA || c == 0xD || (c >= 0x20 && c <= 0xD7FF) ||
         (c >= 0xE000 && c <= 0xFFFD) || (c >= 0x10000 && c <= 0x10FFFF);
}

// XML 1.0 (fifth edition) 2.3 NameStartChar and NameChar, less ':' (an NCName).
bool is_name_start(char32_t c) noexcept {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_' || (c >= 0xC0 && c <= 0xD6) ||
         (c >= 0xD8 && c <= 0xF6) || (c >= 0xF8 && c <= 0x2FF) || (c >= 0x370 && c <= 0x37D) ||
         (c >= 0x37F && c <= 0x1FFF) || (c >= 0x200C && c <= 0x200D) ||
         (c >= 0x2070 && c <= 0x218F) || (c >= 0x2C00 && c <= 0x2FEF) ||
         (c >= 0x3001 && c <= 0xD7FF) || (c >= 0xF900 && c <= 0xFDCF) ||
         (c >= 0xFDF0 && c <= 0xFFFD) || (c >= 0x10000 && c <= 0xEFFFF);
}

bool is_name_char(char32_t c) noexcept {
  return is_name_start(c) || c == '-' || c == '.' || (c >= '0' && c <= '9') || c == 0xB7 ||
         (c >= 0x300 && c <= 0x36F) || (c >= 0x203F && c <= 0x2040);
}

// The escape for a character that cannot be written as itself, or "".
std::string_view escape_of(char32_t c, bool attribute) noexcept {
  switch (c) {
    case '&':
      return "&amp;";
    case '<':
      return "&lt;";
    case '>':
      return "&gt;";  // also keeps "]]>" out of character data (XML 1.0 2.4)
    case '\r':
      return "&#13;";
    case '"':
      return attribute ? "&quot;" : "";
    case '\t':
      return attribute ? "&#9;" : "";
    case '\n':
      return attribute ? "&#10;" : "";
    default:
      return "";
  }
}

// Printable ASCII that stands for itself: the common case, copied a run at a time.
bool is_plain(char c, bool attribute) noexcept {
  return c >= 0x20 && c < 0x7F && c != '&' && c != '<' && c != '>' && (c != '"' || !attribute);
}

void escape(std::string& out, std::string_view text, bool attribute) {
  std::size_t i = 0;
  while (i < text.size()) {
    std::size_t start = i;
    while (i < text.size() && is_plain(text[i], attribute)) ++i;
    out.append(text, start, i - start);
    if (i == text.size()) break;
    start = i;
    char32_t c = next_code_point(text, i);
    if (c == kInvalid || !is_xml_char(c)) {
      out += kReplacement;
    } else if (std::string_view e = escape_of(c, attribute); !e.empty()) {
      out += e;
    } else {
      out.append(text, start, i - start);
    }
  }
}

// The local name as written: itself when it is an NCName, else the stand-in of the header.
void append_local(std::string& out, std::string_view local) {
  std::size_t i = 0;
  bool first = true;
  while (i < local.size()) {
    std::size_t start = i;
    char32_t c = next_code_point(local, i);
    if (first && !is_name_start(c) && c != kInvalid && is_name_char(c)) out += '_';
    if (c != kInvalid && is_name_char(c)) {
      out.append(local, start, i - start);
    } else {
      out += '_';
    }
    first = false;
  }
  if (first) out += '_';  // an empty name
}

// The namespace a name is written in: its own unless that is the reserved xmlns namespace.
std::string_view written_ns(const XmlName& name) noexcept {
  return name.ns == kXmlnsNamespace ? std::string_view() : std::string_view(name.ns);
}

// A prefix every document has without declaring it here ("D" by the caller's declaration on
// the root, "xml" by definition), or "" when the namespace needs a declaration of its own.
std::string_view fixed_prefix(std::string_view ns) noexcept {
  if (ns == kDavNamespace) return "D";
  if (ns == kXmlNamespace) return "xml";
  return "";
}

// The namespaces one start tag declares, in order: the i-th is bound to "ns<i>".
using Declared = std::vector<std::string_view>;

// Writes "prefix:" for `ns` (nothing for no namespace), declaring it first if it is new: the
// declaration goes to `decls`, written out after the name.
void append_prefix(std::string& out, std::string& decls, Declared& declared, std::string_view ns) {
  if (ns.empty()) return;
  std::string_view fixed = fixed_prefix(ns);
  if (!fixed.empty()) {
    out.append(fixed).append(":");
    return;
  }
  std::size_t k = 0;
  while (k < declared.size() && declared[k] != ns) ++k;
  std::string prefix = "ns" + std::to_string(k);
  if (k == declared.size()) {
    declared.push_back(ns);
    decls.append(" xmlns:").append(prefix).append("=\"");
    xml_escape_attribute(decls, ns);
    decls += '"';
  }
  out.append(prefix).append(":");
}

// The element's qualified name; an element in no namespace undeclares any default namespace
// of its ancestors (Namespaces in XML 1.0 6.2), so it cannot be captured by one.
void append_element_name(std::string& out, std::string& decls, Declared& declared,
                         const XmlName& name) {
  std::string_view ns = written_ns(name);
  append_prefix(out, decls, declared, ns);
  append_local(out, name.local);
  if (ns.empty()) decls += " xmlns=\"\"";
}

// " prefix:local=\"value\"" for each attribute; one that would repeat an earlier written name
// (possible only for names that had to be replaced) is left out, as XML 1.0 3.1 requires.
void append_attributes(std::string& out, Declared& declared,
                       std::span<const XmlAttribute> attributes) {
  std::vector<std::string> written;  // the qualified names so far
  for (const XmlAttribute& a : attributes) {
    std::string decls, qname;
    Declared tentative = declared;
    append_prefix(qname, decls, tentative, written_ns(a.name));
    append_local(qname, a.name.local);
    // An unprefixed "xmlns" would be a namespace declaration (Namespaces in XML 1.0 3).
    if (qname == "xmlns") qname.insert(qname.begin(), '_');
    bool repeat = false;
    for (const std::string& w : written) repeat = repeat || w == qname;
    if (repeat) continue;
    declared = std::move(tentative);
    out.append(decls).append(" ").append(qname).append("=\"");
    xml_escape_attribute(out, a.value);
    out += '"';
    written.push_back(std::move(qname));
  }
}

}  // namespace

void xml_escape_text(std::string& out, std::string_view text) {
  escape(out, text, false);
}

void xml_escape_attribute(std::string& out, std::string_view text) {
  escape(out, text, true);
}

void open_element(std::string& out, const XmlName& name, bool empty) {
  open_element(out, name, std::span<const XmlAttribute>(), empty);
}

void open_element(std::string& out, const XmlName& name, std::span<const XmlAttribute> attributes,
                  bool empty) {
  Declared declared;
  std::string decls;
  out += '<';
  append_element_name(out, decls, declared, name);
  out += decls;
  append_attributes(out, declared, attributes);
  out += empty ? "/>" : ">";
}

void close_element(std::string& out, const XmlName& name) {
  // The same prefix open_element() chose: the element's namespace always comes first.
  Declared declared;
  std::string decls;
  out += "</";
  append_prefix(out, decls, declared, written_ns(name));
  append_local(out, name.local);
  out += '>';
}

void property_element(std::string& out, const XmlName& name, std::string_view value_xml,
                      std::string_view lang) {
  std::vector<XmlAttribute> attributes;
  if (!lang.empty()) {
    attributes.push_back({{std::string(kXmlNamespace), "lang"}, std::string(lang)});
  }
  open_element(out, name, attributes, value_xml.empty());
  if (value_xml.empty()) return;
  out += value_xml;
  close_element(out, name);
}

}  // namespace httpfs::http
