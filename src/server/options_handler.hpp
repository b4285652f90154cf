// OPTIONS (RFC 9110 9.3.7, RFC 4918 10.1, 18): what a path accepts, in Allow, and that the
// server speaks WebDAV class 1 and 2 (DAV: 1, 2; MS-Author-Via: DAV, which Windows clients
// look for). "OPTIONS *" answers for the server as a whole.
#pragma once

#include <string>
#include <string_view>

#include "server/docroot_handler.hpp"

namespace httpfs::server {

enum class ResourceKind : unsigned char { Missing, File, Collection };

// The methods a resource of `kind` accepts (read-only servers: only those that change
// nothing), as an Allow value.
std::string allowed_for(ResourceKind kind, bool read_only);

class OptionsHandler final : public DocrootHandler {
 public:
  // `server_allow`: every method the server serves (the Router's), for "OPTIONS *"; it
  // outlives the handler.
  OptionsHandler(const io::Docroot& root, const ServerOptions& options,
                 const std::string& server_allow)
      : DocrootHandler(root, options), server_allow_(server_allow) {}
  Handling handle(const Request& request, Reply& reply) override;

 private:
  const std::string& server_allow_;
};

}  // namespace httpfs::server
