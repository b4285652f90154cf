#include "http/xml_body.hpp"

#include <expat.h>

#include <algorithm>
#include <climits>
#include <cstdint>
#include <new>
#include <utility>

#include "http/xml_writer.hpp"

namespace httpfs::http {
namespace {

// Expat reports a name in a namespace as URI, separator, local part. A newline is not a URI
// character (RFC 3986 2), so expat refuses a namespace name holding one (its fix for
// CVE-2022-25236), and no local name can hold one: the last newline always splits correctly.
constexpr XML_Char kNsSeparator = '\n';

// What the parser keeps can outgrow the body: a long namespace URI, declared once, is copied
// into every name that uses it and re-declared on every value element in it. The names,
// values and xml:lang values kept may take this many times max_bytes, no more.
constexpr std::size_t kKeptFactor = 8;

constexpr std::string_view kRootNames[] = {"propfind", "propertyupdate", "lockinfo"};

XmlName split_name(const XML_Char* expanded) {
  std::string_view s(expanded);
  std::size_t cut = s.rfind(kNsSeparator);
  if (cut == std::string_view::npos) return {"", std::string(s)};
  return {std::string(s.substr(0, cut)), std::string(s.substr(cut + 1))};
}

bool is_dav(const XmlName& name, std::string_view local) {
  return name.ns == kDavNamespace && name.local == local;
}

// XML 1.0 2.3 S.
bool is_xml_space(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

// A name for an error message: one line, of bounded length, cut between characters.
std::string describe(const XmlName& name) {
  std::string out = name.ns.empty() ? "" : name.ns == kDavNamespace ? "DAV:" : "{" + name.ns + "}";
  out += name.local;
  constexpr std::size_t kMax = 120;
  if (out.size() > kMax) {
    std::size_t cut = kMax;
    while (cut > 0 && (static_cast<unsigned char>(out[cut]) & 0xC0) == 0x80) --cut;
    out.resize(cut);
    out += "...";
  }
  for (char& c : out) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7F) c = '?';
  }
  return out;
}

// What an open element is to the parser.
enum class Frame : unsigned char {
  Ignored,       // not understood (RFC 4918 17) or not asked for: skipped with its content
  Root,          // propfind, propertyupdate or lockinfo
  PropfindProp,  // propfind's prop: each child names a property (RFC 4918 14.18)
  Include,       // propfind's include: likewise (RFC 4918 14.8)
  Update,        // propertyupdate's set or remove (RFC 4918 14.26, 14.23)
  UpdateProp,    // their prop: each child is a property
  LockScope,     // RFC 4918 14.13
  LockType,      // RFC 4918 14.15
  ValueRoot,     // a property being set, or owner: its content is the value
  Value,         // an element inside a value
};

// A value element's start tag, held until the next event tells whether it is empty.
struct PendingStart {
  XmlName name;
  std::vector<XmlAttribute> attributes;
};

}  // namespace

struct XmlBodyParser::Impl {
  Impl(Expect expect, Limits limits);
  ~Impl() { XML_ParserFree(parser_); }
  Impl(const Impl&) = delete;
  Impl& operator=(const Impl&) = delete;

  bool feed(std::string_view bytes);
  bool finish();

  // Expat's callbacks, `self` being the Impl.
  static void XMLCALL on_start(void* self, const XML_Char* name, const XML_Char** atts);
  static void XMLCALL on_end(void* self, const XML_Char* name);
  static void XMLCALL on_text(void* self, const XML_Char* s, int len);
  static void XMLCALL on_doctype(void* self, const XML_Char*, const XML_Char*, const XML_Char*,
                                 int);
  static void XMLCALL on_entity_decl(void* self, const XML_Char*, int, const XML_Char*, int,
                                     const XML_Char*, const XML_Char*, const XML_Char*,
                                     const XML_Char*);
  static int XMLCALL on_external_entity(XML_Parser parser, const XML_Char*, const XML_Char*,
                                        const XML_Char*, const XML_Char*);

  void parse(const char* data, int size, bool final);
  void fail(std::string reason);
  void fail_expat();
  std::string position() const;
  void keep(std::size_t bytes);

  void start(const XML_Char* raw, const XML_Char** atts);
  void end(const XML_Char* raw);
  void note_lang(const XML_Char** atts);
  Frame child_frame(XmlName name, const XML_Char** atts);
  Frame root_frame(const XmlName& name);
  Frame root_child(const XmlName& name);
  Frame propfind_child(std::string_view local);
  Frame update_child(std::string_view local);
  Frame lockinfo_child(std::string_view local);
  Frame property(XmlName name);
  void set_kind(PropfindBody::Kind kind);
  void lock_scope(const XmlName& name);
  void end_root();
  void end_value_root();

  void value_start(XmlName name, const XML_Char** atts);
  void value_end(const XML_Char* raw);
  void emit_pending(bool empty);
  void flush_text();

  XML_Parser parser_;
  Expect expect_;
  Limits limits_;
  std::size_t bytes_ = 0, kept_ = 0;
  bool empty_ = true, failed_ = false, finished_ = false, parsing_ = false;
  std::string error_;
  std::vector<Frame> frames_;
  // xml:lang in scope (XML 1.0 2.12): the depth of the element that gave it, and its value.
  std::vector<std::pair<std::size_t, std::string>> langs_;

  // The value being captured: serialised so far, text not yet written, a start tag not yet
  // written.
  std::string value_, text_;
  std::optional<PendingStart> pending_;

  PropfindBody propfind_;
  bool kind_seen_ = false;
  ProppatchBody proppatch_;
  bool any_update_ = false, update_remove_ = false, update_has_prop_ = false;
  LockinfoBody lockinfo_;
  bool scope_element_ = false, type_element_ = false, scope_chosen_ = false, write_ = false;
};

XmlBodyParser::Impl::Impl(Expect expect, Limits limits)
    : parser_(XML_ParserCreateNS(nullptr, kNsSeparator)), expect_(expect), limits_(limits) {
  if (parser_ == nullptr) throw std::bad_alloc();
  XML_SetUserData(parser_, this);
  XML_SetElementHandler(parser_, on_start, on_end);
  XML_SetCharacterDataHandler(parser_, on_text);
  // No DTD at all: a DOCTYPE stops the parse before any declaration in it is read, so no
  // entity can be declared (no billion laughs) and none can be external (no file read).
  XML_SetStartDoctypeDeclHandler(parser_, on_doctype);
  XML_SetEntityDeclHandler(parser_, on_entity_decl);
  XML_SetExternalEntityRefHandler(parser_, on_external_entity);
  XML_SetParamEntityParsing(parser_, XML_PARAM_ENTITY_PARSING_NEVER);
}

void XMLCALL XmlBodyParser::Impl::on_start(void* self, const XML_Char* name,
                                           const XML_Char** atts) {
  static_cast<Impl*>(self)->start(name, atts);
}

void XMLCALL XmlBodyParser::Impl::on_end(void* self, const XML_Char* name) {
  static_cast<Impl*>(self)->end(name);
}

void XMLCALL XmlBodyParser::Impl::on_text(void* self, const XML_Char* s, int len) {
  auto* impl = static_cast<Impl*>(self);
  if (impl->failed_ || impl->frames_.empty()) return;
  Frame f = impl->frames_.back();
  // Text anywhere but in a value is not WebDAV's: whitespace between elements, or content
  // of elements that are ignored.
  if (f == Frame::ValueRoot || f == Frame::Value) impl->text_.append(s, len);
}

void XMLCALL XmlBodyParser::Impl::on_doctype(void* self, const XML_Char*, const XML_Char*,
                                             const XML_Char*, int) {
  static_cast<Impl*>(self)->fail("a DOCTYPE is not allowed");
}

void XMLCALL XmlBodyParser::Impl::on_entity_decl(void* self, const XML_Char*, int, const XML_Char*,
                                                 int, const XML_Char*, const XML_Char*,
                                                 const XML_Char*, const XML_Char*) {
  static_cast<Impl*>(self)->fail("an entity declaration is not allowed");
}

int XMLCALL XmlBodyParser::Impl::on_external_entity(XML_Parser parser, const XML_Char*,
                                                    const XML_Char*, const XML_Char*,
                                                    const XML_Char*) {
  static_cast<Impl*>(XML_GetUserData(parser))->fail("an external entity is not allowed");
  return XML_STATUS_ERROR;
}

bool XmlBodyParser::Impl::feed(std::string_view bytes) {
  if (failed_ || finished_) return !failed_;
  if (empty_) empty_ = std::all_of(bytes.begin(), bytes.end(), is_xml_space);
  if (bytes.size() > limits_.max_bytes - bytes_) {
    fail("the body is larger than " + std::to_string(limits_.max_bytes) + " bytes");
    return false;
  }
  bytes_ += bytes.size();
  while (!bytes.empty() && !failed_) {
    auto size = static_cast<int>(std::min<std::size_t>(bytes.size(), INT_MAX));
    parse(bytes.data(), size, false);
    bytes.remove_prefix(static_cast<std::size_t>(size));
  }
  return !failed_;
}

bool XmlBodyParser::Impl::finish() {
  if (failed_ || finished_) return !failed_;
  finished_ = true;
  // Nothing but whitespace: no document, which the caller gives its meaning (RFC 4918 9.1:
  // PROPFIND without a body is allprop).
  if (empty_) return true;
  parse("", 0, true);
  return !failed_;
}

void XmlBodyParser::Impl::parse(const char* data, int size, bool final) {
  parsing_ = true;
  XML_Status status = XML_Parse(parser_, data, size, final ? XML_TRUE : XML_FALSE);
  parsing_ = false;
  if (status == XML_STATUS_ERROR && !failed_) fail_expat();
}

// The first failure is the one reported; from a callback it says where, and stops expat.
void XmlBodyParser::Impl::fail(std::string reason) {
  if (failed_) return;
  failed_ = true;
  error_ = std::move(reason);
  if (!parsing_) return;
  error_ += position();
  XML_StopParser(parser_, XML_FALSE);
}

void XmlBodyParser::Impl::fail_expat() {
  failed_ = true;
  error_ = std::string("malformed XML: ") + XML_ErrorString(XML_GetErrorCode(parser_)) + position();
}

// Where expat is: the event being reported, or the error it found.
std::string XmlBodyParser::Impl::position() const {
  return " (line " + std::to_string(XML_GetCurrentLineNumber(parser_)) + ", column " +
         std::to_string(XML_GetCurrentColumnNumber(parser_) + 1) + ")";
}

void XmlBodyParser::Impl::keep(std::size_t bytes) {
  std::size_t most =
      limits_.max_bytes > SIZE_MAX / kKeptFactor ? SIZE_MAX : limits_.max_bytes * kKeptFactor;
  kept_ += bytes;
  if (kept_ > most) {
    fail("the body's names and values take more than " + std::to_string(most) + " bytes");
  }
}

void XmlBodyParser::Impl::start(const XML_Char* raw, const XML_Char** atts) {
  if (failed_) return;
  if (frames_.size() >= limits_.max_depth) {
    return fail("elements are nested deeper than " + std::to_string(limits_.max_depth));
  }
  note_lang(atts);
  Frame f = child_frame(split_name(raw), atts);
  frames_.push_back(f);
}

void XmlBodyParser::Impl::note_lang(const XML_Char** atts) {
  for (; *atts != nullptr; atts += 2) {
    XmlName name = split_name(atts[0]);
    if (name.ns != kXmlNamespace || name.local != "lang") continue;
    keep(std::char_traits<char>::length(atts[1]));
    langs_.emplace_back(frames_.size() + 1, atts[1]);
  }
}

Frame XmlBodyParser::Impl::child_frame(XmlName name, const XML_Char** atts) {
  if (frames_.empty()) return root_frame(name);
  switch (frames_.back()) {
    case Frame::Root:
      return root_child(name);
    case Frame::PropfindProp:
    case Frame::Include: {
      keep(name.ns.size() + name.local.size());
      auto& names = frames_.back() == Frame::Include ? propfind_.include : propfind_.props;
      names.push_back(std::move(name));
      return Frame::Ignored;  // the content of a property name means nothing (RFC 4918 14.18)
    }
    case Frame::Update:
      if (!is_dav(name, "prop")) return Frame::Ignored;
      update_has_prop_ = true;
      return Frame::UpdateProp;
    case Frame::UpdateProp:
      return property(std::move(name));
    case Frame::LockScope:
      lock_scope(name);
      return Frame::Ignored;
    case Frame::LockType:
      write_ = write_ || is_dav(name, "write");
      return Frame::Ignored;
    case Frame::ValueRoot:
    case Frame::Value:
      value_start(std::move(name), atts);
      return Frame::Value;
    case Frame::Ignored:
      break;
  }
  return Frame::Ignored;
}

Frame XmlBodyParser::Impl::root_frame(const XmlName& name) {
  std::string_view want = kRootNames[static_cast<int>(expect_)];
  if (is_dav(name, want)) return Frame::Root;
  fail("the body is " + describe(name) + ", not DAV:" + std::string(want));
  return Frame::Ignored;
}

// Elements of other namespaces, and DAV: elements this version does not know, are ignored
// with their content (RFC 4918 17).
Frame XmlBodyParser::Impl::root_child(const XmlName& name) {
  if (name.ns != kDavNamespace) return Frame::Ignored;
  switch (expect_) {
    case Expect::Propfind:
      return propfind_child(name.local);
    case Expect::Propertyupdate:
      return update_child(name.local);
    case Expect::Lockinfo:
      return lockinfo_child(name.local);
  }
  return Frame::Ignored;
}

Frame XmlBodyParser::Impl::propfind_child(std::string_view local) {
  if (local == "allprop") {
    set_kind(PropfindBody::Kind::AllProp);
  } else if (local == "propname") {
    set_kind(PropfindBody::Kind::PropName);
  } else if (local == "prop") {
    set_kind(PropfindBody::Kind::Prop);
    return Frame::PropfindProp;
  } else if (local == "include") {
    return Frame::Include;
  }
  return Frame::Ignored;
}

// RFC 4918 14.20: one of propname, allprop (with include) and prop. The same one twice is
// taken as one (two props ask for both lists).
void XmlBodyParser::Impl::set_kind(PropfindBody::Kind kind) {
  if (kind_seen_ && propfind_.kind != kind) {
    return fail("DAV:propfind holds more than one of DAV:allprop, DAV:propname and DAV:prop");
  }
  kind_seen_ = true;
  propfind_.kind = kind;
}

Frame XmlBodyParser::Impl::update_child(std::string_view local) {
  if (local != "set" && local != "remove") return Frame::Ignored;
  any_update_ = true;
  update_remove_ = local == "remove";
  update_has_prop_ = false;
  return Frame::Update;
}

Frame XmlBodyParser::Impl::lockinfo_child(std::string_view local) {
  if (local == "lockscope") {
    scope_element_ = true;
    return Frame::LockScope;
  }
  if (local == "locktype") {
    type_element_ = true;
    return Frame::LockType;
  }
  if (local == "owner") {
    value_.clear();
    return Frame::ValueRoot;
  }
  return Frame::Ignored;
}

// One property of a set or remove, in document order (RFC 4918 9.2). A removed property's
// content means nothing; a set property's content is its value, and the xml:lang in scope
// goes with it (RFC 4918 4.3).
Frame XmlBodyParser::Impl::property(XmlName name) {
  ProppatchBody::Op op;
  op.remove = update_remove_;
  keep(name.ns.size() + name.local.size());
  op.prop.name = std::move(name);
  if (!op.remove && !langs_.empty()) {
    keep(langs_.back().second.size());
    op.prop.lang = langs_.back().second;
  }
  proppatch_.ops.push_back(std::move(op));
  if (update_remove_) return Frame::Ignored;
  value_.clear();
  return Frame::ValueRoot;
}

void XmlBodyParser::Impl::lock_scope(const XmlName& name) {
  if (!is_dav(name, "exclusive") && !is_dav(name, "shared")) return;
  bool exclusive = name.local == "exclusive";
  if (scope_chosen_ && lockinfo_.exclusive != exclusive) {
    return fail("DAV:lockscope holds both DAV:exclusive and DAV:shared");
  }
  scope_chosen_ = true;
  lockinfo_.exclusive = exclusive;
}

void XmlBodyParser::Impl::end(const XML_Char* raw) {
  if (failed_) return;
  Frame f = frames_.back();
  frames_.pop_back();
  if (!langs_.empty() && langs_.back().first == frames_.size() + 1) langs_.pop_back();
  switch (f) {
    case Frame::Value:
      return value_end(raw);
    case Frame::ValueRoot:
      return end_value_root();
    case Frame::Update:
      if (!update_has_prop_) {
        fail(std::string(update_remove_ ? "DAV:remove" : "DAV:set") + " holds no DAV:prop");
      }
      return;
    case Frame::LockScope:
      if (!scope_chosen_) fail("DAV:lockscope holds neither DAV:exclusive nor DAV:shared");
      return;
    case Frame::LockType:
      // Write locks are the only kind there is (RFC 4918 7).
      if (!write_) fail("DAV:locktype holds no DAV:write");
      return;
    case Frame::Root:
      return end_root();
    default:
      return;
  }
}

// The elements each body must hold (RFC 4918 14.20, 14.19, 14.11).
void XmlBodyParser::Impl::end_root() {
  switch (expect_) {
    case Expect::Propfind:
      if (!kind_seen_) fail("DAV:propfind holds none of DAV:allprop, DAV:propname and DAV:prop");
      if (propfind_.kind != PropfindBody::Kind::AllProp) propfind_.include.clear();
      return;
    case Expect::Propertyupdate:
      if (!any_update_) fail("DAV:propertyupdate holds no DAV:set or DAV:remove");
      return;
    case Expect::Lockinfo:
      if (!scope_element_) return fail("DAV:lockinfo holds no DAV:lockscope");
      if (!type_element_) fail("DAV:lockinfo holds no DAV:locktype");
      return;
  }
}

void XmlBodyParser::Impl::end_value_root() {
  flush_text();
  std::string& to =
      expect_ == Expect::Lockinfo ? lockinfo_.owner_xml : proppatch_.ops.back().prop.value_xml;
  to = std::move(value_);
  value_.clear();
}

// A value is re-serialised with xml_writer: every element and attribute carries its namespace
// wherever the value is written later, whatever prefixes the client used (RFC 4918 4.3).
// Comments and processing instructions are not kept.
void XmlBodyParser::Impl::value_start(XmlName name, const XML_Char** atts) {
  flush_text();
  emit_pending(false);
  PendingStart p;
  keep(name.ns.size() + name.local.size());
  p.name = std::move(name);
  for (; *atts != nullptr; atts += 2) {
    XmlAttribute a{split_name(atts[0]), atts[1]};
    keep(a.name.ns.size() + a.name.local.size() + a.value.size());
    p.attributes.push_back(std::move(a));
  }
  pending_ = std::move(p);
}

void XmlBodyParser::Impl::value_end(const XML_Char* raw) {
  flush_text();
  if (pending_) return emit_pending(true);
  std::size_t before = value_.size();
  close_element(value_, split_name(raw));
  keep(value_.size() - before);
}

void XmlBodyParser::Impl::emit_pending(bool empty) {
  if (!pending_) return;
  std::size_t before = value_.size();
  open_element(value_, pending_->name, pending_->attributes, empty);
  pending_.reset();
  keep(value_.size() - before);
}

// Expat hands text over in pieces that depend on how the body was cut; it is written as one.
void XmlBodyParser::Impl::flush_text() {
  if (text_.empty()) return;
  emit_pending(false);
  std::size_t before = value_.size();
  xml_escape_text(value_, text_);
  text_.clear();
  keep(value_.size() - before);
}

XmlBodyParser::XmlBodyParser(Expect expect, Limits limits)
    : impl_(std::make_unique<Impl>(expect, limits)) {}

XmlBodyParser::~XmlBodyParser() = default;

bool XmlBodyParser::feed(std::string_view bytes) {
  return impl_->feed(bytes);
}

bool XmlBodyParser::finish() {
  return impl_->finish();
}

const std::string& XmlBodyParser::error() const noexcept {
  return impl_->error_;
}

bool XmlBodyParser::empty() const noexcept {
  return impl_->empty_;
}

const PropfindBody& XmlBodyParser::propfind() const noexcept {
  return impl_->propfind_;
}

const ProppatchBody& XmlBodyParser::proppatch() const noexcept {
  return impl_->proppatch_;
}

const LockinfoBody& XmlBodyParser::lockinfo() const noexcept {
  return impl_->lockinfo_;
}

}  // namespace httpfs::http
