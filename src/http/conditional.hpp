// Conditional requests (RFC 9110 13): entity-tags and the evaluation order of 13.2.2.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "http/request_parser.hpp"

namespace httpfs::http {

// Strong comparison: both tags strong and identical. `tag` includes quotes (and W/).
bool etag_strong_match(std::string_view a, std::string_view b) noexcept;
// Weak comparison: identical opaque-tags, W/ ignored.
bool etag_weak_match(std::string_view a, std::string_view b) noexcept;

// True when the entity-tag list (or "*") in `field` matches `etag`. A representation that
// does not exist matches nothing, not even "*".
bool etag_list_matches(std::string_view field, std::string_view etag, bool strong,
                       bool exists = true) noexcept;

enum class Precondition {
  Proceed,      // go on with the method (and Range handling)
  NotModified,  // 304 (GET/HEAD only)
  Failed,       // 412
};

// The state of the selected representation. `etag` empty and last_modified nullopt when it
// does not exist.
struct Validators {
  bool exists = false;
  std::string_view etag;
  std::optional<std::int64_t> last_modified;  // seconds since the epoch
};

// RFC 9110 13.2.2: If-Match, If-Unmodified-Since, If-None-Match, If-Modified-Since in that
// order. Unparsable dates make their field be ignored.
Precondition evaluate_preconditions(const RequestHead& request, const Validators& v) noexcept;

// If-Range (RFC 9110 13.1.5): true when the Range field should be honoured.
bool if_range_holds(std::string_view if_range, const Validators& v) noexcept;

}  // namespace httpfs::http
