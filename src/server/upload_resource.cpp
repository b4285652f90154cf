#include "server/upload_resource.hpp"

#include <spdlog/spdlog.h>

#include <ctime>

#include "http/status.hpp"
#include "http/upload_fields.hpp"
#include "net/errors.hpp"
#include "server/debug_log.hpp"
#include "server/errno_status.hpp"
#include "server/upload.hpp"

namespace httpfs::server {

Handling UploadResourceHandler::handle(const Request& request, Reply& reply) {
  const std::string_view id = upload_id_of(request.path.path);
  Handling h;
  switch (request.method()) {
    case http::Method::Options:
      reply.begin(http::status::kNoContent);
      reply.header("Allow", kAllow);
      reply.header("Accept-Patch", "application/partial-upload");
      reply.end_head(0);
      reply.finish();
      return h;
    case http::Method::Head:
    case http::Method::Patch:
    case http::Method::Delete:
      break;
    default:
      reply_error(reply, http::status::kMethodNotAllowed, "An upload is not a file.", "Allow",
                  kAllow);
      return h;
  }
  if (options_.read_only && request.method() != http::Method::Head) {
    reply_error(reply, http::status::kForbidden, "This server is read-only.");
    return h;
  }
  if (id.empty()) {
    reply_error(reply, http::status::kNotFound, "There is no upload at this URL.");
    return h;
  }
  if (request.method() == http::Method::Patch)
    h.sink = Upload::append(dav_, uploads_, id, request, reply);
  else if (request.method() == http::Method::Head)
    head(id, request, reply);
  else
    cancel(id, request, reply);
  return h;
}

bool UploadResourceHandler::find(std::string_view id, const Request& request, Reply& reply,
                                 io::Upload& out) {
  const int r = find_own_upload(uploads_, id, request, out);
  if (r == -ENOENT) {
    HTTPFS_DEBUG("{}: no upload {} for this client", request.peer.host(), id);
    reply_error(reply, http::status::kNotFound, "There is no upload at this URL.");
    return false;
  }
  if (r < 0) {
    spdlog::warn("{}: cannot read upload {}: {}", request.peer.host(), id, net::errno_text(r));
    reply_error(reply, status_from_errno(r), "The upload cannot be read now.");
    return false;
  }
  return true;
}

void UploadResourceHandler::head(std::string_view id, const Request& request, Reply& reply) {
  // A client asks for the offset after it lost its connection: a request of its still
  // appending here has failed, and records what it got before the answer (find()).
  io::Upload upload;
  if (!find(id, request, reply, upload)) return;
  const Interop interop = interop_for(http::parse_upload_fields(request.head.headers), upload);
  reply.begin(http::status::kNoContent);
  add_upload_state(reply, upload, interop);
  reply.header("Upload-Limit", upload_limit(options_, interop, upload.expires));
  reply.header("Cache-Control", "no-store");
  reply.end_head(0);
  reply.finish();
}

void UploadResourceHandler::cancel(std::string_view id, const Request& request, Reply& reply) {
  io::Upload upload;
  if (!find(id, request, reply, upload)) return;
  if (int r = uploads_.store.remove(id); r < 0 && r != -ENOENT) {
    spdlog::warn("{}: cannot remove upload {}: {}", request.peer.host(), id, net::errno_text(r));
    reply_error(reply, status_from_errno(r), "The upload could not be removed.");
    return;
  }
  spdlog::info("{} {}: upload {} cancelled", request.peer.host(), upload.target, id);
  reply.begin(http::status::kNoContent);
  reply.end_head(0);
  reply.finish();
}

}  // namespace httpfs::server
