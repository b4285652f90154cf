// WebDAV request bodies (RFC 4918 14): PROPFIND's propfind, PROPPATCH's propertyupdate and
// LOCK's lockinfo, parsed with libexpat as they arrive (feed() per piece of the body).
//
// Safe by construction: namespaces on; no DTD at all (a DOCTYPE is an error, so no entity can
// be declared: no billion laughs, no external entity); bounded element depth and bytes.
// Anything that is not well-formed XML, or not the element the method expects, is an error
// with a one-line reason for a 400.
//
// Sans-I/O: the caller feeds bytes and reads the result; no file or network access.
#pragma once

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace httpfs::http {

// An expanded XML name: namespace URI ("" for none) and local part.
struct XmlName {
  std::string ns;
  std::string local;
  bool operator==(const XmlName&) const = default;
};

struct PropfindBody {
  enum class Kind : unsigned char { AllProp, PropName, Prop };
  Kind kind = Kind::AllProp;     // an empty body is allprop (RFC 4918 9.1)
  std::vector<XmlName> props;    // Prop: the properties asked for, in order
  std::vector<XmlName> include;  // AllProp: <include> (RFC 4918 14.8)
};

// A property as PROPPATCH sets it: its name and its value as self-contained XML (the
// children and text of the property element, re-serialised so that every element and
// attribute carries its namespace; see xml_writer.hpp), empty for an empty value.
struct PropertyValue {
  XmlName name;
  std::string value_xml;
  // The xml:lang in scope on the property element (its own or an ancestor's), "" for none:
  // RFC 4918 4.3 has servers keep it with a dead property's value.
  std::string lang;
};

struct ProppatchBody {
  struct Op {
    bool remove = false;
    PropertyValue prop;  // remove: value_xml is empty
  };
  std::vector<Op> ops;  // in document order (RFC 4918 9.2: applied in that order)
};

struct LockinfoBody {
  bool exclusive = true;  // lockscope
  std::string owner_xml;  // the owner element's content, self-contained; "" when absent
};

// Feed the body in pieces, then finish(). Limits: `max_bytes` of body, `max_depth` of element
// nesting; what is kept (names, values, xml:lang), which a namespace URI declared once and
// used often could blow up, may take at most 8 times max_bytes.
class XmlBodyParser {
 public:
  enum class Expect : unsigned char { Propfind, Propertyupdate, Lockinfo };
  struct Limits {
    std::size_t max_bytes = 1 << 20;
    std::size_t max_depth = 64;
  };

  XmlBodyParser(Expect expect, Limits limits);
  ~XmlBodyParser();
  XmlBodyParser(const XmlBodyParser&) = delete;
  XmlBodyParser& operator=(const XmlBodyParser&) = delete;

  // False once the body is known to be bad (error() says why); later calls do nothing.
  bool feed(std::string_view bytes);
  // The end of the body. False when it is bad or incomplete.
  bool finish();
  const std::string& error() const noexcept;
  // Whether any byte other than whitespace came (an empty PROPFIND or LOCK body means
  // something of its own).
  bool empty() const noexcept;

  // After a successful finish(), the one matching `expect`.
  const PropfindBody& propfind() const noexcept;
  const ProppatchBody& proppatch() const noexcept;
  const LockinfoBody& lockinfo() const noexcept;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace httpfs::http
