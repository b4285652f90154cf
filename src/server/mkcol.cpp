#include "server/mkcol.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "http/percent.hpp"
#include "http/status.hpp"
#include "net/errors.hpp"
#include "server/errno_status.hpp"
#include "server/file_handler.hpp"
#include "server/options_handler.hpp"

namespace httpfs::server {

std::string parent_path(std::string_view path) {
  const std::string p = resource_path(path);
  const std::size_t slash = p.rfind('/');
  return slash == 0 || slash == std::string::npos ? "/" : p.substr(0, slash);
}

Handling MkcolHandler::handle(const Request& request, Reply& reply) {
  const std::string path = resource_path(request.path.path);
  if (options_.read_only) {
    reply_error(reply, http::status::kForbidden, "This server is read-only.");
  } else if (request.has_body() && request.body_length() != std::optional<std::uint64_t>(0)) {
    reply_error(reply, http::status::kUnsupportedMediaType, "MKCOL takes no request body here.");
  } else if (path == "/") {
    reply_error(reply, http::status::kMethodNotAllowed, "The collection exists.", "Allow",
                allowed_for(ResourceKind::Collection, false));
  } else if (!options_.show_hidden && is_hidden_path(path)) {
    reply_error(reply, http::status::kForbidden, "Hidden paths cannot be written.");
  } else if (auto refusal = check_write(
                 dav_, request, {WriteTarget{path, false}, WriteTarget{parent_path(path)}})) {
    reply_refusal(reply, *refusal);
  } else {
    std::string name;
    const int dir = root_.open_parent(path, false, name);
    int err = dir < 0 ? -dir : 0;
    if (dir >= 0 && ::mkdirat(dir, name.c_str(), 0755) != 0) err = errno;
    if (dir >= 0) ::close(dir);
    if (err == 0) {
      reply.begin(http::status::kCreated);
      reply.header("Location", http::percent_encode_path(path) + "/");
      reply.end_head(0);
      reply.finish();
    } else if (err == EEXIST) {
      reply_error(reply, http::status::kMethodNotAllowed, "Something exists at this path.", "Allow",
                  allowed_for(ResourceKind::Collection, false));
    } else if (err == ENOENT || err == ENOTDIR) {
      reply_error(reply, http::status::kConflict, "The parent collection does not exist.");
    } else {
      reply_error(reply, status_from_errno(err),
                  "Cannot make the collection: " + net::errno_text(err));
    }
  }
  return {};
}

}  // namespace httpfs::server
