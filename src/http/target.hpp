// From a request-target to the path a file server may map onto its directory.
//
// normalize_target() is the one place where a URL path becomes a file path. It decodes
// percent-escapes exactly once and then refuses what could make a decoded path mean
// something other than what the checks saw: NUL, an encoded "/" or "\" inside a segment,
// invalid or overlong UTF-8 (e.g. %c0%ae), and dot segments that climb above the root. The
// result never contains "." or ".." segments, "\", NUL or empty segments. Other control
// bytes are valid in file names and stay: whoever puts a path into a header or a log line
// encodes it there (percent-encoding, log escaping).
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "http/request_parser.hpp"

namespace httpfs::http {

struct RequestPath {
  std::string path;        // decoded, starts with "/", keeps a trailing "/" if the target had one
  std::string_view query;  // raw query after "?", a view into the target; empty if none
};

// On success returns an empty view; otherwise the reason the target is refused (answer 400).
std::string_view normalize_target(std::string_view target, TargetForm form, RequestPath& out);

// Value of the first `name` parameter in an application/x-www-form-urlencoded query,
// decoded ('+' is a space). nullopt when absent or malformed.
std::optional<std::string> query_param(std::string_view query, std::string_view name);

}  // namespace httpfs::http
