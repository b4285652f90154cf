// DELETE: removes a file, or a collection and everything in it (RFC 4918 9.6.1), the latter
// on the worker pool. 204; 207 listing what could not be removed; 404 when missing, 412 on a
// failed precondition (If-Match, If), 423 under a lock whose token was not submitted, 403 on
// a read-only server or for the root.
#pragma once

#include "io/docroot.hpp"
#include "server/dav.hpp"
#include "server/handler.hpp"
#include "server/options.hpp"

namespace httpfs::server {

class DeleteHandler final : public DavHandler {
 public:
  using DavHandler::DavHandler;
  Handling handle(const Request& request, Reply& reply) override;
};

}  // namespace httpfs::server
