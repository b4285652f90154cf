// MKCOL (RFC 4918 9.3): makes a collection. 201; 405 when something exists there; 409 when
// the parent is missing (RFC 4918 9.3.1: no intermediate collections are made); 415 when a
// body comes (this server knows no MKCOL body); 403 on a read-only server or a hidden path.
#pragma once

#include "server/dav.hpp"

namespace httpfs::server {

class MkcolHandler final : public DavHandler {
 public:
  using DavHandler::DavHandler;
  Handling handle(const Request& request, Reply& reply) override;
};

// The path of the collection that holds `path` ("/a/b" and "/a/b/" -> "/a"; "/x" -> "/").
std::string parent_path(std::string_view path);

}  // namespace httpfs::server
