// HTTP-date (RFC 9110 5.6.7): IMF-fixdate out; IMF-fixdate, RFC 850 and asctime in.
// Pure arithmetic on a proleptic Gregorian calendar: no locale, no time zone, no syscalls.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace httpfs::http {

inline constexpr std::size_t kHttpDateLength = 29;  // "Sun, 06 Nov 1994 08:49:37 GMT"

// Writes exactly kHttpDateLength bytes (no terminator) for seconds since the Unix epoch.
void format_http_date(std::int64_t unix_seconds, char* out) noexcept;
std::string format_http_date(std::int64_t unix_seconds);

// Seconds since the Unix epoch, or nullopt for anything that is not one of the three forms.
std::optional<std::int64_t> parse_http_date(std::string_view text) noexcept;

// RFC 3339 UTC timestamp "1994-11-06T08:49:37Z", for JSON listings and WebDAV creationdate;
// the first writes exactly kRfc3339Length bytes (no terminator).
inline constexpr std::size_t kRfc3339Length = 20;
void format_rfc3339(std::int64_t unix_seconds, char* out) noexcept;
std::string format_rfc3339(std::int64_t unix_seconds);

}  // namespace httpfs::http
