#include "server/upload.hpp"

#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <cerrno>

#include "http/chars.hpp"
#include "http/conditional.hpp"
#include "http/content_digest.hpp"
#include "http/fields.hpp"
#include "http/percent.hpp"
#include "http/status.hpp"
#include "io/file_etag.hpp"
#include "net/errors.hpp"
#include "server/debug_log.hpp"
#include "server/errno_status.hpp"
#include "server/file_handler.hpp"
#include "server/mkcol.hpp"

namespace httpfs::server {

namespace {

// A refusal before the body: status, reason, and at most one more header.
struct PreBodyRefusal {
  int status = 0;
  std::string detail;
  std::string extra_name, extra_value;
};

// An errno from opening or creating under the docroot, as a refusal.
PreBodyRefusal refusal_from_errno(int err, const char* doing) {
  switch (err < 0 ? -err : err) {
    case ENOENT:
      return {http::status::kConflict, "The parent directory does not exist."};
    case ENOTDIR:
      return {http::status::kConflict, "A parent of this path is a file."};
    case EXDEV:
    case ELOOP:
      return {http::status::kForbidden, "This path leads outside the served directory."};
    default:
      break;
  }
  return {status_from_errno(err), std::string(doing) + ": " + net::errno_text(err)};
}

// The body's length: Content-Length, or, for a chunked body, what X-Expected-Entity-Length
// announces (macOS Finder sends its uploads chunked with it).
std::optional<std::uint64_t> expected_length(const Request& req) {
  if (auto n = req.body_length()) return n;
  const http::Header* x = req.find("x-expected-entity-length");
  std::uint64_t n = 0;
  if (x == nullptr || http::parse_content_length(x->value, n) != http::ParseError::None)
    return std::nullopt;
  return n;
}

// The checks that need no file system.
std::optional<PreBodyRefusal> check_request(const ServerOptions& o, const Request& req) {
  const std::string& path = req.path.path;
  if (o.read_only) return PreBodyRefusal{http::status::kForbidden, "This server is read-only."};
  if (path.back() == '/')
    return PreBodyRefusal{http::status::kMethodNotAllowed, "A directory cannot be uploaded to.",
                          "Allow", "GET, HEAD, OPTIONS"};
  if (!o.show_hidden && is_hidden_path(path))
    return PreBodyRefusal{http::status::kForbidden, "Hidden paths cannot be written."};
  if (auto n = expected_length(req); n && *n > o.max_body)
    return PreBodyRefusal{http::status::kContentTooLarge,
                          "The upload is larger than " + std::to_string(o.max_body) + " bytes."};
  return std::nullopt;
}

// What is at the target now decides 201 or 204 and the preconditions. `dir` is the target's
// directory; on a refusal the caller closes it.
std::optional<PreBodyRefusal> check_target(int dir, const std::string& name, const Request& req,
                                           bool& existed) {
  struct stat st {};
  http::Validators v;
  std::string etag;
  if (::fstatat(dir, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0) {
    if (S_ISDIR(st.st_mode))
      return PreBodyRefusal{http::status::kConflict, "A directory of that name exists."};
    // A symlink or special file: replacing it would not do what the client thinks.
    if (!S_ISREG(st.st_mode))
      return PreBodyRefusal{http::status::kForbidden, "Only regular files can be replaced."};
    existed = true;
    etag = io::file_etag(st);
    v = http::Validators{true, etag, st.st_mtim.tv_sec};
  } else if (errno != ENOENT) {
    return refusal_from_errno(errno, "Cannot look at the target");
  }
  if (http::evaluate_preconditions(req.head, v) != http::Precondition::Proceed)
    return PreBodyRefusal{http::status::kPreconditionFailed,
                          "A precondition of the request does not hold."};
  // Enough room for a declared length? (A chunked body is checked as it arrives: ENOSPC.)
  if (auto n = expected_length(req); n) {
    struct statvfs fs {};
    if (::fstatvfs(dir, &fs) == 0) {
      const auto room = static_cast<unsigned long long>(fs.f_bavail) * fs.f_frsize;
      if (*n > room)
        return PreBodyRefusal{http::status::kInsufficientStorage,
                              "Not enough free space for " + std::to_string(*n) + " bytes."};
    }
  }
  return std::nullopt;
}

// Makes the file durable and gives it its name, on the worker pool; then answers.
class CommitJob final : public Job {
 public:
  CommitJob(std::unique_ptr<io::FileSink> sink, std::string path, std::string peer,
            std::string if_match, bool durable, bool no_replace, bool existed)
      : sink_(std::move(sink)),
        path_(std::move(path)),
        peer_(std::move(peer)),
        if_match_(std::move(if_match)),
        durable_(durable),
        no_replace_(no_replace),
        existed_(existed) {}

  void run() override { result_ = sink_->commit(durable_, no_replace_, if_match_, st_); }

  void answer(Reply& reply) override {
    if (result_ == 0) {
      const std::string etag = io::file_etag(st_);
      if (existed_) {
        reply.begin(http::status::kNoContent);
        reply.header("ETag", etag);
        reply.end_head(0);
      } else {
        static constexpr std::string_view kCreated = "File Created\n";
        reply.begin(http::status::kCreated);
        reply.header("Location", http::percent_encode_path(path_));
        reply.header("ETag", etag);
        reply.header("Content-Type", "text/plain; charset=utf-8");
        reply.end_head(kCreated.size());
        reply.body(kCreated);
      }
      reply.finish();
    } else if (result_ == -EEXIST || result_ == -ESTALE) {
      // Another writer got there first (If-None-Match: *), or changed the file (If-Match).
      reply_error(reply, http::status::kPreconditionFailed,
                  "The file changed while this upload was received.");
    } else {
      spdlog::warn("{} {}: cannot commit the upload: {}", peer_, path_, net::errno_text(result_));
      reply_error(reply, status_from_errno(result_),
                  "The upload could not be saved. Nothing was changed.");
    }
  }

 private:
  // A failed commit leaves the temporary file to the sink's destructor, which removes it.
  std::unique_ptr<io::FileSink> sink_;
  std::string path_, peer_, if_match_;
  bool durable_, no_replace_, existed_;
  int result_ = 0;
  struct stat st_ {};
};

}  // namespace

std::unique_ptr<Upload> Upload::begin(const DavContext& dav, const Request& req, Reply& reply) {
  const io::Docroot& root = dav.root;
  const ServerOptions& o = dav.options;
  auto refuse = [&](const PreBodyRefusal& r) {
    HTTPFS_DEBUG("{}: upload to {} refused: {}", req.peer.host(), req.path.path, r.detail);
    reply_error(reply, r.status, r.detail, r.extra_name, r.extra_value);
    return nullptr;
  };
  if (auto r = check_request(o, req)) return refuse(*r);

  std::unique_ptr<Upload> up(new Upload());
  up->path_ = req.path.path;
  if (const http::Header* d = req.find("content-digest")) {
    bool malformed = false;
    auto digest = http::sha256_from_digest_field(d->value, malformed);
    if (malformed) return refuse({http::status::kBadRequest, "Content-Digest is malformed."});
    if (digest) {
      up->expected_sha256_ = std::move(*digest);
      up->sha_ = std::make_unique<io::Sha256>();
    }
  }
  std::string name;
  const int dir = root.open_parent(req.path.path, o.create_dirs, name);
  if (dir < 0) return refuse(refusal_from_errno(dir, "Cannot open the directory"));
  if (auto r = check_target(dir, name, req, up->existed_)) {
    ::close(dir);
    return refuse(*r);
  }
  // Under a lock (of the file, or of the collection a new file joins): its token, or 423.
  std::vector<WriteTarget> targets = {{req.path.path, false}};
  if (!up->existed_) targets.push_back({parent_path(req.path.path), false});
  if (auto r = check_write(dav, req, targets)) {
    ::close(dir);
    HTTPFS_DEBUG("{}: upload to {} refused: {}", req.peer.host(), req.path.path, r->detail);
    reply_refusal(reply, *r);
    return nullptr;
  }
  if (const http::Header* inm = req.find("if-none-match");
      inm && http::chars::trim_ows(inm->value) == "*")
    up->no_replace_ = true;
  if (const http::Header* im = req.find("if-match"); im && http::chars::trim_ows(im->value) != "*")
    up->if_match_ = std::string(im->value);

  up->sink_ = std::make_unique<io::FileSink>();
  if (int r = up->sink_->open(dir, name); r < 0)
    return refuse(refusal_from_errno(r, "Cannot create the file"));
  up->sink_->set_early_writeback(o.durable);
  up->peer_ = req.peer.host();
  up->declared_ = req.body_length();
  up->max_body_ = o.max_body;
  up->durable_ = o.durable;
  return up;
}

Upload::~Upload() = default;  // an unfinished upload's temporary file goes with its sink

std::optional<BodyFault> Upload::check_size() const {
  if (received_ <= max_body_) return std::nullopt;
  return BodyFault{http::status::kContentTooLarge,
                   "more than " + std::to_string(max_body_) + " bytes", false};
}

std::optional<BodyFault> Upload::write(std::string_view bytes) {
  received_ += bytes.size();
  if (auto f = check_size()) return f;
  if (sha_) sha_->update(bytes);
  if (int r = sink_->write(bytes); r < 0)
    // The disk said no (ENOSPC, EDQUOT, EFBIG, EIO): a server-side fault.
    return BodyFault{status_from_errno(r), "cannot write: " + net::errno_text(r), true};
  return std::nullopt;
}

long Upload::splice_from(int pipe_fd, std::size_t n) {
  return sink_->splice_from(pipe_fd, n);
}

std::optional<BodyFault> Upload::spliced(std::uint64_t moved, int write_error) {
  received_ += moved;
  if (write_error != 0)
    return BodyFault{status_from_errno(write_error),
                     "cannot write: " + net::errno_text(write_error), true};
  return check_size();
}

BodySink::Finish Upload::finish(Reply&) {
  Finish f;
  if (sha_) {
    const io::Sha256::Digest d = sha_->finish();
    if (std::string_view(reinterpret_cast<const char*>(d.data()), d.size()) != expected_sha256_) {
      f.fault =
          BodyFault{http::status::kBadRequest, "the body does not match its Content-Digest", false};
      return f;
    }
  }
  f.job = std::make_unique<CommitJob>(std::move(sink_), path_, peer_, if_match_, durable_,
                                      no_replace_, existed_);
  return f;
}

void Upload::fail(const BodyFault& fault, Reply& reply) {
  if (fault.server_fault)
    spdlog::warn("{} {}: upload failed at byte {}: {}", peer_, path_, received_, fault.why);
  else
    spdlog::info("{} {}: upload refused at byte {}: {}", peer_, path_, received_, fault.why);
  if (sink_) sink_->abort();
  reply_error(reply, fault.status, "The upload failed: " + fault.why + ". Nothing was written.");
}

void Upload::abandon(std::string_view why) {
  // The client went away or stalled: no answer can be sent, but the event is worth a line.
  spdlog::info("{} {}: upload aborted at byte {}{}: {}", peer_, path_, received_,
               declared_ && *declared_ > 0 ? " of " + std::to_string(*declared_) : std::string(),
               why);
  if (sink_) sink_->abort();
}

Handling UploadHandler::handle(const Request& request, Reply& reply) {
  Handling h;
  h.sink = Upload::begin(dav_, request, reply);
  return h;
}

}  // namespace httpfs::server
