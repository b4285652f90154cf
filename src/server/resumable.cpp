#include "server/resumable.hpp"

#include <spdlog/spdlog.h>
#include <unistd.h>

#include <cerrno>
#include <ctime>

#include "http/chars.hpp"
#include "http/structured_field.hpp"
#include "http/upload_fields.hpp"

namespace httpfs::server {

bool is_upload_path(std::string_view path) noexcept {
  return path.starts_with(kUploadPathPrefix) ||
         path == kUploadPathPrefix.substr(0, kUploadPathPrefix.size() - 1);
}

std::string upload_path(std::string_view id) {
  std::string out(kUploadPathPrefix);
  out += id;
  return out;
}

std::string_view upload_id_of(std::string_view path) noexcept {
  if (!path.starts_with(kUploadPathPrefix)) return {};
  path.remove_prefix(kUploadPathPrefix.size());
  return io::UploadStore::valid_id(path) ? path : std::string_view{};
}

int find_own_upload(const UploadContext& uploads, std::string_view id, const Request& request,
                    io::Upload& out) {
  const std::time_t now = std::time(nullptr);
  int r = uploads.store.find(id, now, out);
  if (r == -EUCLEAN) {
    // The server's own state, damaged on disk (a crash of the disk, a hand edit): the client
    // cannot use it and is told there is no upload; the operator is told why.
    spdlog::warn("{}: upload {} has a damaged record; answered 404, the next sweep removes it",
                 request.peer.host(), id);
    return -ENOENT;
  }
  if (r == 0 && out.principal != request.user) return -ENOENT;
  if (r < 0) return r;
  // Only the owner ends a request of the owner's; then the record is read again.
  uploads.writers.interrupt(id);
  r = uploads.store.find(id, now, out);
  return r == 0 && out.principal != request.user ? -ENOENT : r;
}

bool is_partial_upload_type(std::string_view content_type) noexcept {
  const std::size_t semi = content_type.find(';');
  if (semi != std::string_view::npos) content_type = content_type.substr(0, semi);
  return http::chars::iequals_lower(http::chars::trim_ows(content_type),
                                    "application/partial-upload");
}

std::string upload_client(const Request& request) {
  return request.user.empty() ? request.peer.host() : "user:" + request.user;
}

std::time_t expiry_after(std::uint64_t lifetime_s) {
  // time() drops the fraction of the second already gone: one more second makes up for it.
  return std::time(nullptr) + static_cast<std::time_t>(lifetime_s) + 1;
}

std::string upload_limit(const ServerOptions& options, Interop interop,
                         std::optional<std::time_t> expires) {
  http::UploadLimits limits;
  limits.max_size = options.max_body;
  if (expires) {
    const std::time_t now = std::time(nullptr);
    // What is left for sure: the second expiry_after() added may be partly gone already.
    limits.lifetime_s = *expires > now + 1 ? static_cast<std::uint64_t>(*expires - now - 1) : 0;
  }
  return http::upload_limit_field(limits, interop_number(interop));
}

void add_upload_state(Reply& reply, const io::Upload& upload, Interop interop) {
  reply.header("Upload-Draft-Interop-Version", static_cast<std::uint64_t>(interop_number(interop)));
  reply.header("Upload-Offset", upload.offset);
  reply.header("Upload-Complete", http::sf_boolean(upload.complete));
  if (upload.length) reply.header("Upload-Length", *upload.length);
}

void reply_problem(Reply& reply, int status, std::string_view type, std::string_view title,
                   std::optional<std::uint64_t> expected, std::optional<std::uint64_t> provided) {
  const std::string body = problem_json(type, title, expected, provided);
  reply.begin(status);
  reply.header("Content-Type", "application/problem+json");
  if (expected) reply.header("Upload-Offset", *expected);
  reply.end_head(body.size());
  reply.body(body);
  reply.finish();
}

int persist(io::UploadStore& store, io::Upload& upload, int data_fd, std::uint64_t offset,
            bool durable, std::uint64_t expiry_s) {
  if (durable && ::fdatasync(data_fd) != 0) return -errno;
  io::Upload next = upload;
  next.offset = offset;
  next.expires = expiry_after(expiry_s);
  if (int r = store.update(next); r < 0) return r;
  upload = std::move(next);
  return 0;
}

}  // namespace httpfs::server
