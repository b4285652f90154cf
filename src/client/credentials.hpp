// Credentials for Basic authentication (RFC 7617): -u USER[:PASS], and the netrc file as
// curl reads it (--netrc, --netrc-file). Only the origin of the URL given gets them: a
// redirect to another origin drops the Authorization field (client/policy.hpp).
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace httpfs::client {

struct Login {
  std::string user;
  std::string password;
};

// The entry of a netrc file for `host` (ASCII case-insensitive): the first `machine` entry
// of that name, else the `default` entry. Tokens are separated by blanks and newlines; a
// token may be quoted ("..." with \" \\ \n \r \t escapes); `macdef NAME` skips its macro,
// up to the next empty line; `account` and unknown words take their value and are ignored.
// nullopt when nothing matches.
std::optional<Login> netrc_lookup(std::string_view text, std::string_view host);

// "Basic " and the base64 of "user:password".
std::string basic_authorization(std::string_view user, std::string_view password);

// Asks for a password on the terminal (/dev/tty), without echo. nullopt when there is no
// terminal, or reading it failed.
std::optional<std::string> ask_password(const std::string& prompt);

}  // namespace httpfs::client
