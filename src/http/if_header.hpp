// The If request header of WebDAV (RFC 4918 10.4): lists of conditions on lock state tokens
// and entity tags, untagged (about the request's resource) or tagged with the resource they
// are about. Parsed once, then evaluated against the state of the resources a request
// touches; also the source of the lock tokens a request "submits" (RFC 4918 7.5, 10.4.1).
//
//   If: (<urn:uuid:181d4fae-...> ["etag"]) (Not <DAV:no-lock>)
//   If: <http://example.com/a> (<urn:uuid:...>) </b> (["etag"])
//
// Sans-I/O: the caller supplies what a resource's state is through a callback.
#pragma once

#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace httpfs::http {

struct IfCondition {
  enum class Kind : unsigned char { StateToken, EntityTag };
  Kind kind = Kind::StateToken;
  bool negated = false;  // "Not"
  // StateToken: the Coded-URL without its angle brackets ("urn:uuid:...", "DAV:no-lock").
  // EntityTag: the entity-tag as written, with its quotes and any "W/" ("\"abc\"").
  std::string value;
};

struct IfList {
  std::vector<IfCondition> conditions;  // all must hold
};

struct IfGroup {
  // The Resource-Tag without its angle brackets (an absolute URI or an absolute path, as
  // sent: not decoded); empty for untagged lists, which are about the request's resource.
  std::string resource;
  std::vector<IfList> lists;  // at least one
};

struct IfHeader {
  std::vector<IfGroup> groups;  // untagged: exactly one group with an empty resource
  bool tagged = false;          // a header is either all tagged or all untagged

  // Every state token named in the header, negated or not, in order, without duplicates:
  // the lock tokens the request submits.
  std::vector<std::string> state_tokens() const;
};

// Parses a whole If field value (RFC 4918 10.4.2, with the OWS the grammar allows between
// its parts). nullopt and `error` (one line, for a 400) when it does not parse.
std::optional<IfHeader> parse_if_header(std::string_view value, std::string* error = nullptr);

// What the evaluation needs to know about one resource.
struct IfResourceState {
  bool exists = false;  // mapped; an unmapped resource has no entity tag
  std::string etag;     // its current strong entity-tag, with quotes ("" when none)
  // Whether `token` is a lock currently held on the resource (directly, or through a
  // depth-infinity lock on an ancestor). Asked for unmapped resources too: a lock's scope
  // covers URLs, mapped or not (RFC 4918 7.4, 10.4.4).
  std::function<bool(std::string_view token)> locked_by;
};

// Evaluates the header (RFC 4918 10.4.3-10.4.4). `state_of` is asked about `request_path`
// for untagged lists, and about the resource of each tag for tagged ones; `tag_path` turns a
// Resource-Tag into the path `state_of` understands (nullopt: a tag this server does not
// serve, whose lists then cannot hold). The header holds when at least one of its groups
// holds -- the untagged lists, or any one Resource-Tag with its lists, even when the other
// tags' lists fail: 10.4.3 makes the whole header a disjunction of its No-tag-list and
// Tagged-list productions, not a conjunction over the resources it names. A group holds when
// one of its lists holds; a list holds when all its conditions do ("Not" reverses one). An
// entity-tag condition compares strongly (RFC 9110 8.8.3.2; 10.4.4 allows weak or strong),
// and an unmapped resource matches no entity-tag (10.4.4). "DAV:no-lock" is never a lock.
// Whether the locks the request needs were submitted is a separate question, answered from
// state_tokens() whether or not the header holds (10.4.1).
bool if_header_holds(
    const IfHeader& header, std::string_view request_path,
    const std::function<IfResourceState(std::string_view path)>& state_of,
    const std::function<std::optional<std::string>(std::string_view tag)>& tag_path);

}  // namespace httpfs::http
