// Percent-encoding (RFC 3986 2.1) and UTF-8 validation.
#pragma once

#include <string>
#include <string_view>

namespace httpfs::http {

// Decodes %XX escapes once. Returns false on a malformed escape. '+' is left alone (it only
// means space in form bodies, not in paths).
bool percent_decode(std::string_view in, std::string& out);

// Encodes every byte that may not stand literally in a path segment (see chars::kPathSafe).
// With keep_slash, '/' is kept as the segment separator.
void percent_encode_path(std::string_view in, std::string& out, bool keep_slash = true);
std::string percent_encode_path(std::string_view in, bool keep_slash = true);

// Encodes every byte but the unreserved ones (RFC 3986 2.3: ALPHA DIGIT - . _ ~), a space
// as '+': a value of application/x-www-form-urlencoded, as curl's --data-urlencode writes it.
std::string percent_encode_form(std::string_view in);

// Strict UTF-8 (RFC 3629): no overlong forms, no surrogates, nothing above U+10FFFF.
bool valid_utf8(std::string_view s) noexcept;

}  // namespace httpfs::http
