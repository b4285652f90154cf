// Cross-site writes (the browser page's defence against other sites): a write that a browser
// says comes from another origin is refused, so a page elsewhere cannot make the user's
// browser create, change or delete files here with the user's credentials, not even with
// a simple form POST (which needs no CORS preflight). Clients that are not browsers send
// neither field and are not affected.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "http/request_parser.hpp"

namespace httpfs::server {

// True when `req` comes from another origin by the browser's own account: Sec-Fetch-Site
// "cross-site" or "same-site" (another origin of the same site), or, from browsers that do
// not send it, an Origin that is not this server's own (scheme://Host, `tls` telling the
// scheme), "null" included (sandboxed documents, such as the users' files served under
// server/ui.hpp's policy).
bool from_another_origin(const http::RequestHead& req, bool tls);

// The request's Origin when it is one of `allowed` (--cors), else empty. A view into the
// request's head.
std::string_view allowed_origin(const http::RequestHead& req,
                                const std::vector<std::string>& allowed);

// The fields of a CORS answer to an allowed origin (Fetch standard, "CORS protocol"): who
// may read it, with credentials, and which of its fields a script may see.
inline constexpr std::string_view kCorsExposed =
    "Content-Length, Content-Range, Content-Disposition, ETag, Last-Modified, Location, "
    "Upload-Offset, Upload-Complete, Upload-Length, Upload-Limit, Upload-Draft-Interop-Version";

}  // namespace httpfs::server
