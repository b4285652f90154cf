// Cross-site writes (the browser page's defence against other sites): a write that a browser
// says comes from another origin is refused, so a page elsewhere cannot make the user's
// browser create, change or delete files here with the user's credentials, not even with
// a simple form POST (which needs no CORS preflight). Clients that are not browsers send
// neither field and are not affected.
#pragma once

#include "http/request_parser.hpp"

namespace httpfs::server {

// True when `req` comes from another origin by the browser's own account: Sec-Fetch-Site
// "cross-site" or "same-site" (another origin of the same site), or, from browsers that do
// not send it, an Origin that is not this server's own (scheme://Host, `tls` telling the
// scheme), "null" included (sandboxed documents, such as the users' files served under
// server/ui.hpp's policy).
bool from_another_origin(const http::RequestHead& req, bool tls);

}  // namespace httpfs::server
