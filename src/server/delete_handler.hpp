// DELETE: removes a file or an empty directory. 204; 404 when missing, 409 for a non-empty
// directory, 412 on a failed precondition, 403 on a read-only server or for the root.
#pragma once

#include "io/docroot.hpp"
#include "server/handler.hpp"
#include "server/options.hpp"

namespace httpfs::server {

class DeleteHandler final : public Handler {
 public:
  DeleteHandler(const io::Docroot& root, const ServerOptions& options)
      : root_(root), options_(options) {}
  Handling handle(const Request& request, Reply& reply) override;

 private:
  const io::Docroot& root_;
  const ServerOptions& options_;
};

}  // namespace httpfs::server
