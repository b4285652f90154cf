#include "server/delete_handler.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "http/conditional.hpp"
#include "http/status.hpp"
#include "io/file_etag.hpp"
#include "net/errors.hpp"
#include "server/errno_status.hpp"
#include "server/file_handler.hpp"

namespace httpfs::server {

namespace {

void answer_delete(const io::Docroot& root, const ServerOptions& o, const Request& request,
                   Reply& reply) {
  const http::RequestPath& path = request.path;
  if (o.read_only) return reply_error(reply, http::status::kForbidden, "This server is read-only.");
  if (path.path == "/")
    return reply_error(reply, http::status::kForbidden,
                       "The served directory itself cannot be deleted.");
  if (!o.show_hidden && is_hidden_path(path.path))
    return reply_error(reply, http::status::kNotFound, "There is nothing at this path.");
  std::string name;
  int dir = root.open_parent(path.path, false, name);
  if (dir < 0) {
    int status = status_from_errno(dir);
    return reply_error(reply, status,
                       status == 404 ? "There is nothing at this path." : net::errno_text(dir));
  }
  struct stat st {};
  if (::fstatat(dir, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
    int e = errno;
    ::close(dir);
    return reply_error(reply, status_from_errno(e), "There is nothing at this path.");
  }
  const bool is_dir = S_ISDIR(st.st_mode);
  if (path.path.back() == '/' && !is_dir) {
    ::close(dir);
    return reply_error(reply, http::status::kNotFound, "There is nothing at this path.");
  }
  std::string etag = S_ISREG(st.st_mode) ? io::file_etag(st) : std::string();
  http::Validators v{true, etag, st.st_mtim.tv_sec};
  if (http::evaluate_preconditions(request.head, v) != http::Precondition::Proceed) {
    ::close(dir);
    return reply_error(reply, http::status::kPreconditionFailed,
                       "A precondition of the request does not hold.");
  }
  int r = ::unlinkat(dir, name.c_str(), is_dir ? AT_REMOVEDIR : 0);
  int e = errno;
  ::close(dir);
  if (r != 0) {
    if (e == ENOTEMPTY || e == EEXIST)
      return reply_error(reply, http::status::kConflict, "The directory is not empty.");
    return reply_error(reply, status_from_errno(e), "Cannot delete: " + net::errno_text(e));
  }
  reply.begin(http::status::kNoContent);
  reply.end_head(0);
  reply.finish();
}

}  // namespace

Handling DeleteHandler::handle(const Request& request, Reply& reply) {
  answer_delete(root_, options_, request, reply);
  return {};
}

}  // namespace httpfs::server
