#include "server/upload_handler.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <cerrno>

#include "http/chars.hpp"
#include "http/conditional.hpp"
#include "http/content_digest.hpp"
#include "http/status.hpp"
#include "io/file_etag.hpp"
#include "net/errors.hpp"
#include "server/errno_status.hpp"
#include "server/file_handler.hpp"

namespace httpfs::server {

namespace {

UploadStart refuse(int status, std::string detail, std::string extra_name = {},
                   std::string extra_value = {}) {
  UploadStart u;
  u.status = status;
  u.detail = std::move(detail);
  u.extra_name = std::move(extra_name);
  u.extra_value = std::move(extra_value);
  return u;
}

// An errno from opening or creating under the docroot, as an answer.
UploadStart refuse_errno(int err, const char* doing) {
  switch (err < 0 ? -err : err) {
    case ENOENT:
      return refuse(http::status::kConflict, "The parent directory does not exist.");
    case ENOTDIR:
      return refuse(http::status::kConflict, "A parent of this path is a file.");
    case EXDEV:
    case ELOOP:
      return refuse(http::status::kForbidden, "This path leads outside the served directory.");
    default:
      break;
  }
  return refuse(status_from_errno(err), std::string(doing) + ": " + net::errno_text(err));
}

}  // namespace

std::string_view allowed_methods(const ServerOptions& options) noexcept {
  return options.read_only ? "GET, HEAD, OPTIONS" : "GET, HEAD, PUT, POST, DELETE, OPTIONS";
}

UploadStart start_upload(const UploadContext& ctx, const http::RequestHead& req,
                         const http::RequestPath& path) {
  const ServerOptions& o = ctx.options;
  if (o.read_only) return refuse(http::status::kForbidden, "This server is read-only.");
  if (path.path.back() == '/')
    return refuse(http::status::kMethodNotAllowed, "A directory cannot be uploaded to.", "Allow",
                  "GET, HEAD, OPTIONS");
  if (!o.show_hidden && is_hidden_path(path.path))
    return refuse(http::status::kForbidden, "Hidden paths cannot be written.");
  if (req.framing == http::BodyFraming::Length && req.content_length > o.max_body)
    return refuse(http::status::kContentTooLarge,
                  "The upload is larger than " + std::to_string(o.max_body) + " bytes.");

  UploadStart u;
  u.path = path.path;
  if (const http::Header* d = req.find("content-digest")) {
    bool malformed = false;
    u.expected_sha256 = http::sha256_from_digest_field(d->value, malformed);
    if (malformed) return refuse(http::status::kBadRequest, "Content-Digest is malformed.");
  }

  std::string name;
  int dir = ctx.root.open_parent(path.path, o.create_dirs, name);
  if (dir < 0) return refuse_errno(dir, "Cannot open the directory");

  // What is there now decides 201 or 204, and the preconditions.
  struct stat st {};
  http::Validators v;
  std::string etag;
  if (::fstatat(dir, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0) {
    if (S_ISDIR(st.st_mode)) {
      ::close(dir);
      return refuse(http::status::kConflict, "A directory of that name exists.");
    }
    if (!S_ISREG(st.st_mode)) {
      // A symlink or special file: replacing it would not do what the client thinks.
      ::close(dir);
      return refuse(http::status::kForbidden, "Only regular files can be replaced.");
    }
    u.existed = true;
    etag = io::file_etag(st);
    v = http::Validators{true, etag, st.st_mtim.tv_sec};
  } else if (errno != ENOENT) {
    int e = errno;
    ::close(dir);
    return refuse_errno(e, "Cannot look at the target");
  }
  if (http::evaluate_preconditions(req, v) != http::Precondition::Proceed) {
    ::close(dir);
    return refuse(http::status::kPreconditionFailed,
                  "A precondition of the request does not hold.");
  }
  if (const http::Header* inm = req.find("if-none-match");
      inm && http::chars::trim_ows(inm->value) == "*")
    u.no_replace = true;
  if (const http::Header* im = req.find("if-match"); im && http::chars::trim_ows(im->value) != "*")
    u.if_match = std::string(im->value);

  // Enough room for a declared length? (A chunked body is checked as it arrives: ENOSPC.)
  if (req.framing == http::BodyFraming::Length) {
    struct statvfs fs {};
    if (::fstatvfs(dir, &fs) == 0) {
      const auto room = static_cast<unsigned long long>(fs.f_bavail) * fs.f_frsize;
      if (req.content_length > room) {
        ::close(dir);
        return refuse(
            http::status::kInsufficientStorage,
            "Not enough free space for " + std::to_string(req.content_length) + " bytes.");
      }
    }
  }
  u.sink = std::make_unique<io::FileSink>();
  if (int r = u.sink->open(dir, name); r < 0) return refuse_errno(r, "Cannot create the file");
  return u;
}

void answer_delete(const UploadContext& ctx, const http::RequestHead& req,
                   const http::RequestPath& path, Reply& reply) {
  const ServerOptions& o = ctx.options;
  if (o.read_only) return reply_error(reply, http::status::kForbidden, "This server is read-only.");
  if (path.path == "/")
    return reply_error(reply, http::status::kForbidden,
                       "The served directory itself cannot be deleted.");
  if (!o.show_hidden && is_hidden_path(path.path))
    return reply_error(reply, http::status::kNotFound, "There is nothing at this path.");
  std::string name;
  int dir = ctx.root.open_parent(path.path, false, name);
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
  if (http::evaluate_preconditions(req, v) != http::Precondition::Proceed) {
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

}  // namespace httpfs::server
