// Writing WebDAV XML (207 Multi-Status, prop, lockdiscovery) into a string: every text and
// attribute value escaped, every name carried with its namespace, so that no client-supplied
// name or value can break the document.
//
// Names are written as prefixed names: "D:" for DAV:, and for every other namespace a
// declaration on the element itself (xmlns:ns0="..."), which keeps each element
// self-contained (a property from any namespace can be written anywhere). The caller declares
// xmlns:D="DAV:" on the root element of every document; stored values rely on it too.
#pragma once

#include <span>
#include <string>
#include <string_view>

#include "http/xml_body.hpp"

namespace httpfs::http {

inline constexpr std::string_view kDavNamespace = "DAV:";
// Bound to the prefix "xml" by definition (Namespaces in XML 1.0 3): xml:lang, xml:space.
inline constexpr std::string_view kXmlNamespace = "http://www.w3.org/XML/1998/namespace";

// An attribute of a start tag: its expanded name ("" namespace for a plain attribute) and value.
struct XmlAttribute {
  XmlName name;
  std::string value;
  bool operator==(const XmlAttribute&) const = default;
};

// Appends `text` escaped for character data (&, <, >) or for a double-quoted attribute value
// (also "), as UTF-8; bytes that cannot appear in XML 1.0 (controls other than tab, CR, LF;
// invalid UTF-8) are written as U+FFFD. CR (and in attributes tab and LF) are written as
// character references, so that a parser's line-end and attribute-value normalisation gives
// them back unchanged (XML 1.0 2.11, 3.3.3).
void xml_escape_text(std::string& out, std::string_view text);
void xml_escape_attribute(std::string& out, std::string_view text);

// "<D:name>" or "<ns0:name xmlns:ns0=\"uri\">" (and the element with no namespace as
// "<name xmlns=\"\">"); `empty` makes it "<.../>". close_element() writes the matching end tag.
// Attributes in a namespace get a prefix declared on the same start tag (ns1, ns2, ...; the
// element's own when they share its namespace), xml:lang stays xml:lang.
//
// A local name that is not an NCName (Namespaces in XML 1.0 3) is never written raw: every
// character that may not appear is written as '_' (and '_' goes before a name that may not
// start with its first character), so the document stays well-formed. XmlBodyParser never
// produces such names (expat checks them); this only guards against other sources. Likewise
// a name in the reserved xmlns namespace is written without a namespace, and an attribute
// that would come out twice is written once.
void open_element(std::string& out, const XmlName& name, bool empty = false);
void open_element(std::string& out, const XmlName& name, std::span<const XmlAttribute> attributes,
                  bool empty = false);
void close_element(std::string& out, const XmlName& name);

// A property element with a value PROPPATCH stored (PropertyValue::value_xml): written as
// <name ...>value</name>, the value already self-contained; "<name .../>" for an empty value.
// `lang`, when not empty, is written as the element's xml:lang (PropertyValue::lang).
void property_element(std::string& out, const XmlName& name, std::string_view value_xml,
                      std::string_view lang = {});

}  // namespace httpfs::http
