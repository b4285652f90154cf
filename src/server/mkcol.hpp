// MKCOL (RFC 4918 9.3): makes a collection. 201; 405 when something exists there; 409 when
// the parent is missing (RFC 4918 9.3.1: no intermediate collections are made); 415 when a
// body comes (this server knows no MKCOL body); 403 on a read-only server or a hidden path.
#pragma once

#include "server/dav.hpp"
#include "server/docroot_handler.hpp"

namespace httpfs::server {

class MkcolHandler final : public DocrootHandler {
 public:
  explicit MkcolHandler(const DavContext& dav)
      : DocrootHandler(dav.root, dav.options), dav_(dav) {}
  Handling handle(const Request& request, Reply& reply) override;

 private:
  const DavContext& dav_;
};

// The path of the collection that holds `path` ("/a/b" and "/a/b/" -> "/a"; "/x" -> "/").
std::string parent_path(std::string_view path);

}  // namespace httpfs::server
