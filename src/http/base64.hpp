// Base64 (RFC 4648 section 4, with padding), for Basic credentials and Content-Digest.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace httpfs::http {

std::string base64_encode(std::string_view bytes);
// Strict: the standard alphabet, correct padding, no whitespace. nullopt otherwise.
std::optional<std::string> base64_decode(std::string_view text);

}  // namespace httpfs::http
