// DELETE: removes a file or an empty directory. 204; 404 when missing, 409 for a non-empty
// directory, 412 on a failed precondition, 403 on a read-only server or for the root.
#pragma once

#include "io/docroot.hpp"
#include "server/docroot_handler.hpp"
#include "server/handler.hpp"
#include "server/options.hpp"

namespace httpfs::server {

class DeleteHandler final : public DocrootHandler {
 public:
  using DocrootHandler::DocrootHandler;
  Handling handle(const Request& request, Reply& reply) override;
};

}  // namespace httpfs::server
