#include "server/delete_handler.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <ctime>

#include "http/conditional.hpp"
#include "http/status.hpp"
#include "io/file_etag.hpp"
#include "io/tree.hpp"
#include "net/errors.hpp"
#include "server/errno_status.hpp"
#include "server/file_handler.hpp"
#include "server/mkcol.hpp"

namespace httpfs::server {

namespace {

// A collection and everything in it, removed on the worker pool (RFC 4918 9.6.1: DELETE of a
// collection acts as if Depth: infinity); what could not be removed is reported in a 207.
class DeleteTreeJob final : public Job {
 public:
  DeleteTreeJob(const DavContext& dav, int dir, std::string name, std::string path)
      : dav_(dav), dir_(dir), name_(std::move(name)), path_(std::move(path)) {}
  ~DeleteTreeJob() override { ::close(dir_); }

  void run() override {
    io::remove_tree(dir_, name_, failures_);
    // Locks go with what they locked, also those on members that went.
    dav_.locks.remove_within(path_, std::time(nullptr));
  }

  void answer(Reply& reply) override {
    if (failures_.empty()) {
      reply.begin(http::status::kNoContent);
      reply.end_head(0);
      return reply.finish();
    }
    reply_tree_failures(reply, path_, failures_);
  }

 private:
  const DavContext& dav_;
  int dir_;
  std::string name_, path_;
  std::vector<io::TreeFailure> failures_;
};

}  // namespace

Handling DeleteHandler::handle(const Request& request, Reply& reply) {
  const auto refuse = [&](int status, std::string_view why) {
    reply_error(reply, status, why);
    return Handling{};
  };
  const std::string path = resource_path(request.path.path);
  if (options_.read_only) return refuse(http::status::kForbidden, "This server is read-only.");
  if (path == "/")
    return refuse(http::status::kForbidden, "The served directory itself cannot be deleted.");
  if (!options_.show_hidden && is_hidden_path(path))
    return refuse(http::status::kNotFound, "There is nothing at this path.");
  std::string name;
  const int dir = root_.open_parent(path, false, name);
  if (dir < 0) {
    const int status = status_from_errno(dir);
    return refuse(status, status == 404 ? "There is nothing at this path." : net::errno_text(dir));
  }
  struct stat st {};
  if (::fstatat(dir, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
    const int e = errno;
    ::close(dir);
    return refuse(status_from_errno(e), "There is nothing at this path.");
  }
  const bool is_dir = S_ISDIR(st.st_mode);
  const std::string etag = S_ISREG(st.st_mode) ? io::file_etag(st) : std::string();
  const http::Validators v{true, etag, st.st_mtim.tv_sec};
  std::optional<Refusal> refusal;
  if (request.path.path.back() == '/' && !is_dir)
    refusal = Refusal{http::status::kNotFound, "There is nothing at this path."};
  else if (http::evaluate_preconditions(request.head, v) != http::Precondition::Proceed)
    refusal =
        Refusal{http::status::kPreconditionFailed, "A precondition of the request does not hold."};
  else
    refusal = check_write(dav_, request, {WriteTarget{path, true}, WriteTarget{parent_path(path)}});
  if (refusal) {
    ::close(dir);
    reply_refusal(reply, *refusal);
    return {};
  }
  if (is_dir) {
    Handling h;
    h.job = std::make_unique<DeleteTreeJob>(dav_, dir, std::move(name), path);
    return h;
  }
  const int r = ::unlinkat(dir, name.c_str(), 0);
  const int e = errno;
  ::close(dir);
  if (r != 0) return refuse(status_from_errno(e), "Cannot delete: " + net::errno_text(e));
  dav_.locks.remove_within(path, std::time(nullptr));
  reply.begin(http::status::kNoContent);
  reply.end_head(0);
  reply.finish();
  return {};
}

}  // namespace httpfs::server
