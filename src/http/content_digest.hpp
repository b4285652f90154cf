// Content-Digest / Repr-Digest (RFC 9530): a dictionary of algorithm = :base64 bytes:.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace httpfs::http {

// The decoded sha-256 digest (32 bytes) from a Content-Digest or Repr-Digest value.
// nullopt when the field has no sha-256 member. `malformed` is set when the field is not a
// valid dictionary of byte sequences or the sha-256 member is not 32 bytes.
std::optional<std::string> sha256_from_digest_field(std::string_view value, bool& malformed);

// "sha-256=:BASE64:" for 32 digest bytes.
std::string digest_field_sha256(std::string_view digest);

}  // namespace httpfs::http
