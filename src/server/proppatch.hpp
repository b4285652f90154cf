// PROPPATCH (RFC 4918 9.2): sets and removes dead properties, all or nothing. The properties
// live in one extended attribute of the file (io/dead_props.hpp), so one setxattr makes the
// whole request happen or not. Live properties are protected: 403 with
// DAV:cannot-modify-protected-property, and 424 for every other property of the request. A
// file system without user extended attributes answers 403 (or 507 when it is out of room)
// for each property: nothing is ever answered 200 that was not stored.
#pragma once

#include "server/dav.hpp"

namespace httpfs::server {

class ProppatchHandler final : public DavHandler {
 public:
  using DavHandler::DavHandler;
  Handling handle(const Request& request, Reply& reply) override;
};

// Whether `name` is a live property this server computes (and so cannot be set).
bool is_live_property(const http::XmlName& name) noexcept;

}  // namespace httpfs::server
