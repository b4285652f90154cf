// Structured Field Values (RFC 8941): the Item fields that carry one integer or one boolean,
// such as the resumable-upload fields Upload-Offset (sf-integer) and Upload-Complete
// (sf-boolean).
//
// Parsing follows RFC 8941 4.2 strictly: the whole field value is one Item (leading and
// trailing spaces allowed, nothing else), and a parse failure means the field is ignored or
// refused as a whole, never read in part. Parameters after the item are checked for syntax
// and then ignored: no field this server reads defines any.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace httpfs::http {

// The largest magnitude of an sf-integer: 15 decimal digits (RFC 8941 3.3.1).
inline constexpr std::int64_t kSfIntegerMax = 999'999'999'999'999;

// The integer of a field whose value is one sf-integer Item; nullopt for anything else.
std::optional<std::int64_t> parse_sf_integer(std::string_view field) noexcept;
// The boolean of a field whose value is one sf-boolean Item ("?0" or "?1"); nullopt else.
std::optional<bool> parse_sf_boolean(std::string_view field) noexcept;

// The serialisation of a boolean (RFC 8941 4.1.9): "?1" or "?0". Integers serialise as
// their decimal digits.
std::string_view sf_boolean(bool b) noexcept;

}  // namespace httpfs::http
