// The base of the handlers that work on the served directory: what they all hold.
#pragma once

#include "io/docroot.hpp"
#include "server/handler.hpp"
#include "server/options.hpp"

namespace httpfs::server {

class DocrootHandler : public Handler {
 public:
  // Both outlive the handler (they are the Server's).
  DocrootHandler(const io::Docroot& root, const ServerOptions& options)
      : root_(root), options_(options) {}

 protected:
  const io::Docroot& root_;
  const ServerOptions& options_;
};

}  // namespace httpfs::server
