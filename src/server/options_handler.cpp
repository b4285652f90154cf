#include "server/options_handler.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "http/status.hpp"
#include "http/upload_fields.hpp"
#include "server/file_handler.hpp"
#include "server/resumable.hpp"

namespace httpfs::server {

namespace {

ResourceKind kind_of(const io::Docroot& root, std::string_view path, bool show_hidden) {
  if (!show_hidden && is_hidden_path(path)) return ResourceKind::Missing;
  const int fd = root.open(path, O_PATH);
  if (fd < 0) return ResourceKind::Missing;
  struct stat st {};
  const bool ok = ::fstat(fd, &st) == 0;
  ::close(fd);
  if (!ok) return ResourceKind::Missing;
  if (S_ISDIR(st.st_mode)) return ResourceKind::Collection;
  return S_ISREG(st.st_mode) ? ResourceKind::File : ResourceKind::Missing;
}

}  // namespace

std::string allowed_for(ResourceKind kind, bool read_only) {
  switch (kind) {
    case ResourceKind::Missing:
      return read_only ? "OPTIONS" : "OPTIONS, PUT, POST, MKCOL, LOCK";
    case ResourceKind::File:
      return read_only ? "GET, HEAD, OPTIONS, PROPFIND"
                       : "GET, HEAD, PUT, POST, DELETE, OPTIONS, PROPFIND, PROPPATCH, COPY, "
                         "MOVE, LOCK, UNLOCK";
    case ResourceKind::Collection:
      return read_only ? "GET, HEAD, OPTIONS, PROPFIND"
                       : "GET, HEAD, DELETE, OPTIONS, PROPFIND, PROPPATCH, COPY, MOVE, LOCK, "
                         "UNLOCK";
  }
  return "OPTIONS";
}

Handling OptionsHandler::handle(const Request& request, Reply& reply) {
  const std::string allow =
      request.path.path == "*"
          ? server_allow_
          : allowed_for(kind_of(root_, request.path.path, options_.show_hidden),
                        options_.read_only);
  reply.begin(http::status::kOk);
  reply.header("Allow", allow);
  reply.header("DAV", "1, 2");
  reply.header("MS-Author-Via", "DAV");
  if (!options_.read_only) {
    // Resumable uploads: older drafts say so with Accept-Patch, newer ones with Upload-Limit.
    reply.header("Accept-Patch", "application/partial-upload");
    reply.header(
        "Upload-Limit",
        upload_limit(options_, interop_of(http::parse_upload_fields(request.head.headers))));
  }
  reply.end_head(0);
  reply.finish();
  return {};
}

}  // namespace httpfs::server
