// PROPFIND (RFC 4918 9.1): the properties of a resource, and with Depth: 1 of each member of a
// collection, as a 207 Multi-Status written while the directory is read: memory stays
// constant whatever the number of entries, and the first response leaves before the walk
// ends. Depth: infinity (also when Depth is absent) is refused with 403 and
// DAV:propfind-finite-depth, as Apache does by default: one request must not walk a whole
// tree.
//
// Live properties: resourcetype, getcontentlength, getlastmodified, getetag (the ETag GET
// sends), getcontenttype, creationdate, displayname, supportedlock, lockdiscovery. Dead
// properties come from the extended attribute PROPPATCH writes (io/dead_props.hpp). Members
// are those a listing shows (io/dir_reader.hpp).
#pragma once

#include "server/dav.hpp"

namespace httpfs::server {

class PropfindHandler final : public DavHandler {
 public:
  using DavHandler::DavHandler;
  Handling handle(const Request& request, Reply& reply) override;
};

}  // namespace httpfs::server
