#include "server/upload.hpp"

#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <ctime>

#include "http/chars.hpp"
#include "http/conditional.hpp"
#include "http/content_digest.hpp"
#include "http/fields.hpp"
#include "http/percent.hpp"
#include "http/status.hpp"
#include "http/upload_fields.hpp"
#include "io/file_etag.hpp"
#include "net/errors.hpp"
#include "server/debug_log.hpp"
#include "server/errno_status.hpp"
#include "server/file_handler.hpp"
#include "server/mkcol.hpp"

namespace httpfs::server {

namespace {

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

// What is at the target now: nothing, or a regular file (`existed`, its validators in `v`).
std::optional<PreBodyRefusal> examine_target(int dir, const std::string& name, bool& existed,
                                             http::Validators& v, std::string& etag) {
  struct stat st {};
  if (::fstatat(dir, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
    if (errno == ENOENT) return std::nullopt;
    return refusal_from_errno(errno, "Cannot look at the target");
  }
  if (S_ISDIR(st.st_mode))
    return PreBodyRefusal{http::status::kConflict, "A directory of that name exists."};
  // A symlink or special file: replacing it would not do what the client thinks.
  if (!S_ISREG(st.st_mode))
    return PreBodyRefusal{http::status::kForbidden, "Only regular files can be replaced."};
  existed = true;
  etag = io::file_etag(st);
  v = http::Validators{true, etag, st.st_mtim.tv_sec};
  return std::nullopt;
}

// What is at the target now decides 201 or 204 and the preconditions; then there must be
// room for the `need` bytes announced. `dir` is the target's directory; on a refusal the
// caller closes it.
std::optional<PreBodyRefusal> check_target(int dir, const std::string& name, const Request& req,
                                           std::optional<std::uint64_t> need, bool& existed) {
  http::Validators v;
  std::string etag;
  if (auto r = examine_target(dir, name, existed, v, etag)) return r;
  if (http::evaluate_preconditions(req.head, v) != http::Precondition::Proceed)
    return PreBodyRefusal{http::status::kPreconditionFailed,
                          "A precondition of the request does not hold."};
  // Enough room for a declared length? (A chunked body is checked as it arrives: ENOSPC.)
  if (need) {
    struct statvfs fs {};
    if (::fstatvfs(dir, &fs) == 0) {
      const auto room = static_cast<unsigned long long>(fs.f_bavail) * fs.f_frsize;
      if (*need > room)
        return PreBodyRefusal{http::status::kInsufficientStorage,
                              "Not enough free space for " + std::to_string(*need) + " bytes."};
    }
  }
  return std::nullopt;
}

// Answers a refusal made before the body.
void reply_refusal(Reply& reply, const PreBodyRefusal& r) {
  if (!r.problem.empty())
    reply_problem(reply, r.status, r.problem, r.detail, r.expected_offset, r.provided_offset);
  else
    reply_error(reply, r.status, r.detail, r.extra_name, r.extra_value);
}

// Whether the data file holds `digest` (sha-256, 32 bytes). Blocking.
bool data_matches(int fd, std::string_view digest) {
  io::Sha256 sha;
  return sha.update_from_file(fd) == 0 && sha.finish_text() == digest;
}

}  // namespace

// How long the record of a completed upload is kept (at most --upload-expiry).
constexpr std::uint64_t kCompletedRecordSeconds = 3600;

// The resumable half of an Upload: the upload's record and this request's part in it.
struct ResumableUpload {
  ResumableUpload(const UploadContext& c, const ServerOptions& o)
      : store(c.store), writers(c.writers), options(o) {}
  ~ResumableUpload() { io::UploadStore::close_data(lock_fd); }
  ResumableUpload(const ResumableUpload&) = delete;
  ResumableUpload& operator=(const ResumableUpload&) = delete;

  io::UploadStore& store;
  UploadRegistry& writers;
  const ServerOptions& options;
  io::Upload record;  // as recorded; record.offset is where this request began
  Interop interop = Interop::None;
  bool creation = false;   // this request made the upload: 201 with its Location
  bool completes = false;  // Upload-Complete: ?1
  bool claimed = false;    // registered as the upload's writer (UploadRegistry)
  int lock_fd = -1;        // the data file, holding the writer lock until closed
};

namespace {

// The answer to an append the drafts' rules refuse (server/upload_rules.hpp).
std::optional<PreBodyRefusal> refusal_of(const Append& a, const io::Upload& rec, Interop interop,
                                         const http::UploadFields& f, const Request& req) {
  PreBodyRefusal r;
  switch (a.verdict) {
    case AppendVerdict::Append:
      return std::nullopt;
    case AppendVerdict::WrongMediaType:
      return PreBodyRefusal{http::status::kUnsupportedMediaType,
                            "An append must be of type application/partial-upload.", "Accept-Patch",
                            "application/partial-upload"};
    case AppendVerdict::MissingField:
      return PreBodyRefusal{http::status::kBadRequest,
                            interop == Interop::V8
                                ? "An append needs Upload-Offset and Upload-Complete."
                                : "An append needs Upload-Offset."};
    case AppendVerdict::OffsetMismatch:
      r = {http::status::kConflict, "Upload-Offset is not the upload's offset."};
      r.problem = kProblemOffset;
      r.expected_offset = rec.offset;
      r.provided_offset = f.offset;
      return r;
    case AppendVerdict::Completed:
      r.status = completed_status(interop, req.body_length());
      r.detail = "This upload is complete.";
      if (r.status == http::status::kBadRequest)
        r.problem = interop == Interop::V6 ? kProblemCompleted : kProblemLength;
      return r;
    case AppendVerdict::InconsistentLength:
      r = {http::status::kBadRequest, "The upload's lengths disagree."};
      r.problem = kProblemLength;
      return r;
  }
  return std::nullopt;
}

// Makes the file durable and gives it its name, on the worker pool; then answers. For a
// resumable upload, the whole is checked against its Repr-Digest first, and the record says
// afterwards whether it was committed (or, on failure, keeps the bytes for a retry).
class CommitJob final : public Job {
 public:
  CommitJob(std::unique_ptr<io::FileSink> sink, std::string path, std::string peer,
            std::string if_match, bool durable, bool no_replace, bool existed,
            std::unique_ptr<ResumableUpload> res)
      : sink_(std::move(sink)),
        res_(std::move(res)),
        path_(std::move(path)),
        peer_(std::move(peer)),
        if_match_(std::move(if_match)),
        durable_(durable),
        no_replace_(no_replace),
        existed_(existed) {}

  void run() override {
    if (!res_) {
      result_ = sink_->commit(durable_, no_replace_, if_match_, st_);
      return;
    }
    io::Upload& rec = res_->record;
    const std::uint64_t size = sink_->size();
    if (!rec.digest.empty() && !data_matches(sink_->fd(), rec.digest)) {
      result_ = -EBADMSG;  // nothing a retry could mend: the upload goes
      sink_->abort();
      res_->store.remove(rec.id);
      return;
    }
    result_ = sink_->commit(durable_, no_replace_, if_match_, st_);
    if (result_ == 0) {
      // The record stays a while, for a client whose last answer was lost to ask (HEAD).
      rec.complete = true;
      rec.offset = size;
      rec.expires = expiry_after(
          std::min<std::uint64_t>(res_->options.upload_expiry_s, kCompletedRecordSeconds));
      if (int r = res_->store.complete(rec); r < 0) update_error_ = r;
    } else if (sink_->is_open()) {
      // Kept for a retry: a PATCH at the full offset with Upload-Complete: ?1 tries again.
      persist(res_->store, rec, sink_->fd(), size, durable_, res_->options.upload_expiry_s);
    }
  }

  void answer(Reply& reply) override {
    if (result_ == 0) {
      answer_committed(reply);
    } else if (result_ == -EEXIST || result_ == -ESTALE) {
      // Another writer got there first (If-None-Match: *), or changed the file (If-Match).
      reply_error(reply, http::status::kPreconditionFailed,
                  "The file changed while this upload was received.");
    } else if (result_ == -EBADMSG) {
      reply_error(reply, http::status::kBadRequest,
                  "The upload does not match its Repr-Digest. It was discarded.");
    } else {
      spdlog::warn("{} {}: cannot commit the upload: {}", peer_, path_, net::errno_text(result_));
      reply_error(reply, status_from_errno(result_),
                  res_ ? "The upload could not be saved; its bytes are kept for a retry."
                       : "The upload could not be saved. Nothing was changed.");
    }
  }

 private:
  void answer_committed(Reply& reply) {
    if (update_error_ < 0)
      spdlog::warn("{} {}: committed, but its upload record could not be updated: {}", peer_, path_,
                   net::errno_text(update_error_));
    const std::string etag = io::file_etag(st_);
    const bool created = !existed_ || (res_ && res_->creation);
    reply.begin(created ? http::status::kCreated : http::status::kNoContent);
    if (created)
      reply.header("Location", res_ && res_->creation ? upload_path(res_->record.id)
                                                      : http::percent_encode_path(path_));
    reply.header("ETag", etag);
    if (res_) add_upload_state(reply, res_->record, res_->interop);
    if (created) {
      static constexpr std::string_view kCreated = "File Created\n";
      reply.header("Content-Type", "text/plain; charset=utf-8");
      reply.end_head(kCreated.size());
      reply.body(kCreated);
    } else {
      reply.end_head(0);
    }
    reply.finish();
  }

  // A failed commit leaves the temporary file to the sink's destructor, which removes it
  // (or, for a resumable upload, keeps it).
  std::unique_ptr<io::FileSink> sink_;
  std::unique_ptr<ResumableUpload> res_;
  std::string path_, peer_, if_match_;
  bool durable_, no_replace_, existed_;
  int result_ = 0;
  int update_error_ = 0;
  struct stat st_ {};
};

// Syncs what a request appended and records the new offset, on the worker pool; then
// reports it.
class PersistJob final : public Job {
 public:
  PersistJob(std::unique_ptr<io::FileSink> sink, std::unique_ptr<ResumableUpload> res, bool durable,
             std::string peer)
      : sink_(std::move(sink)), res_(std::move(res)), durable_(durable), peer_(std::move(peer)) {}

  void run() override {
    result_ = persist(res_->store, res_->record, sink_->fd(), sink_->size(), durable_,
                      res_->options.upload_expiry_s);
  }

  void answer(Reply& reply) override {
    const io::Upload& rec = res_->record;
    if (result_ == -ENOENT) {
      reply_error(reply, http::status::kNotFound, "The upload was cancelled meanwhile.");
      return;
    }
    if (result_ < 0) {
      spdlog::warn("{} {}: cannot save the upload's progress: {}", peer_, rec.target,
                   net::errno_text(result_));
      reply_error(reply, status_from_errno(result_), "The upload's progress could not be saved.");
      return;
    }
    reply.begin(res_->creation ? http::status::kCreated : http::status::kNoContent);
    if (res_->creation) reply.header("Location", upload_path(rec.id));
    add_upload_state(reply, rec, res_->interop);
    reply.header("Upload-Limit", upload_limit(res_->options, res_->interop, rec.expires));
    reply.end_head(0);
    reply.finish();
  }

 private:
  std::unique_ptr<io::FileSink> sink_;  // its destructor closes the data file and keeps it
  std::unique_ptr<ResumableUpload> res_;
  bool durable_;
  std::string peer_;
  int result_ = 0;
};

}  // namespace

Upload::Upload() = default;

std::optional<PreBodyRefusal> Upload::take_digest(const Request& req) {
  const http::Header* d = req.find("content-digest");
  if (d == nullptr) return std::nullopt;
  bool malformed = false;
  auto digest = http::sha256_from_digest_field(d->value, malformed);
  if (malformed) return PreBodyRefusal{http::status::kBadRequest, "Content-Digest is malformed."};
  if (digest) {
    expected_sha256_ = std::move(*digest);
    sha_ = std::make_unique<io::Sha256>();
  }
  return std::nullopt;
}

std::unique_ptr<Upload> Upload::begin(const DavContext& dav, const UploadContext& uploads,
                                      const Request& req, Reply& reply) {
  const io::Docroot& root = dav.root;
  const ServerOptions& o = dav.options;
  auto refuse = [&](const PreBodyRefusal& r) {
    HTTPFS_DEBUG("{}: upload to {} refused: {}", req.peer.host(), req.path.path, r.detail);
    reply_refusal(reply, r);
    return nullptr;
  };
  if (auto r = check_request(o, req)) return refuse(*r);
  const http::UploadFields fields = http::parse_upload_fields(req.head.headers);
  const Creation plan = plan_creation(fields, req.body_length());
  if (plan.status != 0)
    return refuse(
        {plan.status, "The upload's fields contradict each other.", {}, {}, plan.problem});
  if (plan.length && *plan.length > o.max_body)
    return refuse({http::status::kContentTooLarge,
                   "The upload is larger than " + std::to_string(o.max_body) + " bytes."});

  std::unique_ptr<Upload> up(new Upload());
  up->path_ = req.path.path;
  if (auto r = up->take_digest(req)) return refuse(*r);
  std::string name;
  const int dir = root.open_parent(req.path.path, o.create_dirs, name);
  if (dir < 0) return refuse(refusal_from_errno(dir, "Cannot open the directory"));
  const std::optional<std::uint64_t> need = plan.length ? plan.length : expected_length(req);
  if (auto r = check_target(dir, name, req, need, up->existed_)) {
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

  up->peer_ = req.peer.host();
  up->declared_ = req.body_length();
  up->max_body_ = o.max_body;
  up->durable_ = o.durable;
  up->sink_ = std::make_unique<io::FileSink>();
  if (plan.resumable) {
    if (auto r = up->open_resource(uploads, o, req, fields, plan, dir, std::move(name)))
      return refuse(*r);
    up->send_resumption_supported(reply);
  } else if (int r = up->sink_->open(dir, name); r < 0) {
    return refuse(refusal_from_errno(r, "Cannot create the file"));
  }
  up->sink_->set_early_writeback(o.durable);
  return up;
}

// A resumable creation: the limits on unfinished uploads, then the record and the data file
// (locked for this request), which the sink appends to. Takes `dir`.
std::optional<PreBodyRefusal> Upload::open_resource(const UploadContext& uploads,
                                                    const ServerOptions& o, const Request& req,
                                                    const http::UploadFields& fields,
                                                    const Creation& plan, int dir,
                                                    std::string name) {
  const std::string client = upload_client(req);
  const io::UploadStore::Usage use = uploads.store.usage(client, o.max_uploads);
  std::optional<PreBodyRefusal> limit;
  if (use.uploads >= o.max_uploads)
    limit = PreBodyRefusal{http::status::kServiceUnavailable,
                           "Too many unfinished uploads on this server.", "Retry-After", "60"};
  else if (use.client_uploads >= o.max_client_uploads)
    limit = PreBodyRefusal{http::status::kTooManyRequests,
                           "Too many unfinished uploads from this client.", "Retry-After", "60"};
  else if (use.bytes + plan.length.value_or(declared_.value_or(0)) > o.max_upload_space)
    limit = PreBodyRefusal{http::status::kInsufficientStorage,
                           "Unfinished uploads hold all the space they may."};
  if (limit) {
    ::close(dir);
    return limit;
  }
  res_ = std::make_unique<ResumableUpload>(uploads, o);
  ResumableUpload& r = *res_;
  r.creation = true;
  r.interop = interop_of(fields);
  r.completes = fields.complete.value_or(false);
  io::Upload& rec = r.record;
  rec.target = path_;
  rec.interop = interop_number(r.interop);
  rec.length = plan.length;
  rec.if_match = if_match_;
  rec.if_none_match_any = no_replace_;
  rec.principal = req.user;
  rec.client = client;
  rec.expires = expiry_after(o.upload_expiry_s);
  if (const http::Header* d = req.find("repr-digest")) {
    bool malformed = false;
    if (auto digest = http::sha256_from_digest_field(d->value, malformed)) rec.digest = *digest;
    if (malformed) {
      ::close(dir);
      return PreBodyRefusal{http::status::kBadRequest, "Repr-Digest is malformed."};
    }
  }
  if (int e = uploads.store.create(rec); e < 0) {
    ::close(dir);
    if (e == -E2BIG)
      return PreBodyRefusal{http::status::kBadRequest, "The upload's fields are too long."};
    spdlog::warn("{} {}: cannot make an upload record: {}", peer_, path_, net::errno_text(e));
    return refusal_from_errno(e, "Cannot make the upload");
  }
  if (auto refused = open_data(dir, std::move(name))) {
    uploads.store.remove(rec.id);
    return refused;
  }
  return std::nullopt;
}

// The upload's data file: the writer lock, then the sink that appends to it. Takes `dir`.
std::optional<PreBodyRefusal> Upload::open_data(int dir, std::string name) {
  ResumableUpload& r = *res_;
  r.lock_fd = r.store.open_data(r.record.id, O_RDWR, r.record.offset);
  if (r.lock_fd == -EBUSY) {
    ::close(dir);
    return PreBodyRefusal{http::status::kServiceUnavailable,
                          "Another request is appending to this upload.", "Retry-After", "1"};
  }
  int e = r.lock_fd < 0 ? r.lock_fd : r.store.adopt_data(r.record.id, dir, std::move(name), *sink_);
  if (r.lock_fd < 0) ::close(dir);
  if (e < 0) {
    sink_.reset();  // nothing of this request is there to keep
    if (e == -EUCLEAN) {
      // Its data is lost or not its own: the upload is over, as if it had expired.
      spdlog::warn("{} {}: upload {} has a damaged data file; removed", peer_, path_, r.record.id);
      r.store.remove(r.record.id);
    }
    if (e == -EUCLEAN || e == -ENOENT)
      return PreBodyRefusal{http::status::kNotFound, "There is no upload at this URL."};
    spdlog::warn("{} {}: cannot open the upload's data: {}", peer_, path_, net::errno_text(e));
    return refusal_from_errno(e, "Cannot open the upload's data");
  }
  r.writers.claim(r.record.id, *this);
  r.claimed = true;
  return std::nullopt;
}

// 104 (interop 6 and 8): where the upload can be resumed, before any of the body is read.
void Upload::send_resumption_supported(Reply& reply) const {
  const std::string location = upload_path(res_->record.id);
  const std::string version = std::to_string(interop_number(res_->interop));
  const std::string limit = upload_limit(res_->options, res_->interop, res_->record.expires);
  const Field fields[] = {
      {"Location", location}, {"Upload-Draft-Interop-Version", version}, {"Upload-Limit", limit}};
  reply.informational(http::status::kUploadResumptionSupported, fields);
}

std::unique_ptr<Upload> Upload::append(const DavContext& dav, const UploadContext& uploads,
                                       std::string_view id, const Request& req, Reply& reply) {
  const ServerOptions& o = dav.options;
  auto refuse = [&](const PreBodyRefusal& r) {
    HTTPFS_DEBUG("{}: append to upload {} refused: {}", req.peer.host(), id, r.detail);
    reply_refusal(reply, r);
    return nullptr;
  };
  // A newer request ends the one before it (the drafts' concurrency rule); that one records
  // what it received, so the record read is current.
  std::unique_ptr<Upload> up(new Upload());
  up->res_ = std::make_unique<ResumableUpload>(uploads, o);
  ResumableUpload& r = *up->res_;
  const int found = find_own_upload(uploads, id, req, r.record);
  if (found == -ENOENT) return refuse({http::status::kNotFound, "There is no upload at this URL."});
  if (found < 0) {
    spdlog::warn("{}: cannot read upload {}: {}", req.peer.host(), id, net::errno_text(found));
    return refuse(refusal_from_errno(found, "Cannot read the upload"));
  }
  const http::UploadFields fields = http::parse_upload_fields(req.head.headers);
  r.interop = interop_for(fields, r.record);
  const http::Header* type = req.find("content-type");
  const Append a = judge_append(r.record, fields, req.body_length(),
                                type != nullptr && is_partial_upload_type(type->value), r.interop);
  if (auto refused = refusal_of(a, r.record, r.interop, fields, req)) return refuse(*refused);
  if (a.length && *a.length > o.max_body)
    return refuse({http::status::kContentTooLarge,
                   "The upload is larger than " + std::to_string(o.max_body) + " bytes."});
  r.completes = a.completes;
  r.record.length = a.length;
  up->path_ = r.record.target;
  if (auto refused = up->take_digest(req)) return refuse(*refused);
  std::string name;
  const int dir = dav.root.open_parent(r.record.target, o.create_dirs, name);
  if (dir < 0) return refuse(refusal_from_errno(dir, "Cannot open the target's directory"));
  http::Validators v;
  std::string etag;
  if (auto refused = examine_target(dir, name, up->existed_, v, etag)) {
    ::close(dir);
    return refuse(*refused);
  }
  // The last byte commits the file: it must not go under somebody else's lock.
  if (r.completes) {
    std::vector<WriteTarget> targets = {{r.record.target, false}};
    if (!up->existed_) targets.push_back({parent_path(r.record.target), false});
    if (auto locked = check_write(dav, req, targets)) {
      ::close(dir);
      reply_refusal(reply, *locked);
      return nullptr;
    }
  }
  up->if_match_ = r.record.if_match;
  up->no_replace_ = r.record.if_none_match_any;
  up->peer_ = req.peer.host();
  up->declared_ = req.body_length();
  up->max_body_ = o.max_body;
  up->durable_ = o.durable;
  up->sink_ = std::make_unique<io::FileSink>();
  if (auto refused = up->open_data(dir, std::move(name))) return refuse(*refused);
  up->sink_->set_early_writeback(o.durable);
  return up;
}

Upload::~Upload() {
  // A body dropped unfinished keeps what arrived, like one cut off.
  if (res_ && sink_) keep_received("the request ended");
  release_claim();
}  // an unfinished plain upload's temporary file goes with its sink

void Upload::release_claim() noexcept {
  if (!res_ || !res_->claimed) return;
  res_->writers.release(res_->record.id, *this);
  res_->claimed = false;
}

std::uint64_t Upload::start() const noexcept {
  return res_ ? res_->record.offset : 0;
}

std::optional<BodyFault> Upload::check_size() const {
  const std::uint64_t total = start() + received_;
  if (total > max_body_)
    return BodyFault{http::status::kContentTooLarge,
                     "more than " + std::to_string(max_body_) + " bytes", false};
  if (res_ && res_->record.length && total > *res_->record.length)
    return BodyFault{
        http::status::kBadRequest,
        "more than the " + std::to_string(*res_->record.length) + " bytes the upload's length says",
        false};
  return std::nullopt;
}

std::uint64_t Upload::splice_room() const {
  std::uint64_t limit = max_body_;
  if (res_ && res_->record.length) limit = std::min(limit, *res_->record.length);
  const std::uint64_t total = start() + received_;
  return total > limit ? 1 : limit - total + 1;
}

namespace {
const BodyFault kTakenOver{http::status::kConflict, "a newer request took over this upload", false};
}  // namespace

std::optional<BodyFault> Upload::write(std::string_view bytes) {
  if (!sink_) return kTakenOver;
  received_ += bytes.size();
  if (auto f = check_size()) return f;
  if (sha_) sha_->update(bytes);
  if (int r = sink_->write(bytes); r < 0)
    // The disk said no (ENOSPC, EDQUOT, EFBIG, EIO): a server-side fault.
    return BodyFault{status_from_errno(r), "cannot write: " + net::errno_text(r), true};
  return std::nullopt;
}

long Upload::splice_from(int pipe_fd, std::size_t n) {
  return sink_ ? sink_->splice_from(pipe_fd, n) : -ECANCELED;
}

std::optional<BodyFault> Upload::spliced(std::uint64_t moved, int write_error) {
  received_ += moved;
  if (!sink_) return kTakenOver;
  if (write_error != 0)
    return BodyFault{status_from_errno(write_error),
                     "cannot write: " + net::errno_text(write_error), true};
  return check_size();
}

BodySink::Finish Upload::finish(Reply&) {
  Finish f;
  if (!sink_) {
    f.fault = kTakenOver;
    return f;
  }
  if (sha_) {
    const io::Sha256::Digest d = sha_->finish();
    if (std::string_view(reinterpret_cast<const char*>(d.data()), d.size()) != expected_sha256_) {
      discard_ = true;
      f.fault =
          BodyFault{http::status::kBadRequest, "the body does not match its Content-Digest", false};
      return f;
    }
  }
  if (res_) return finish_resumable();
  f.job = std::make_unique<CommitJob>(std::move(sink_), path_, peer_, if_match_, durable_,
                                      no_replace_, existed_, nullptr);
  return f;
}

BodySink::Finish Upload::finish_resumable() {
  Finish f;
  ResumableUpload& r = *res_;
  const std::uint64_t size = sink_->size();
  // A zero-byte upload is whole at creation (interop 6 clients never send ?1 for one).
  const bool last = r.completes || (r.creation && r.record.length == 0 && size == 0);
  if (last && r.record.length && *r.record.length != size) {
    f.fault = BodyFault{http::status::kBadRequest,
                        "the upload ended at byte " + std::to_string(size) + " of " +
                            std::to_string(*r.record.length),
                        false};
    return f;
  }
  release_claim();  // the job holds the data file's lock until it is done
  if (last) {
    r.record.length = size;
    f.job = std::make_unique<CommitJob>(std::move(sink_), path_, peer_, if_match_, durable_,
                                        no_replace_, existed_, std::move(res_));
  } else {
    f.job = std::make_unique<PersistJob>(std::move(sink_), std::move(res_), durable_, peer_);
  }
  return f;
}

// What arrived of a resumable upload stays: synced and recorded, on the loop (a cut
// connection, a refused body, a newer request). Then the data file and its lock go.
void Upload::keep_received(std::string_view why) {
  if (!res_ || !sink_) return;
  ResumableUpload& r = *res_;
  if (!discard_ && sink_->is_open()) {
    const std::uint64_t size = sink_->size();
    if (int e = persist(r.store, r.record, sink_->fd(), size, durable_, r.options.upload_expiry_s);
        e < 0)
      spdlog::warn("{} {}: cannot keep the upload's bytes: {}", peer_, path_, net::errno_text(e));
    else
      spdlog::info("{} {}: upload {} kept at byte {} ({})", peer_, path_, r.record.id, size, why);
  }
  sink_.reset();  // an adopted file stays
  io::UploadStore::close_data(std::exchange(r.lock_fd, -1));
}

void Upload::interrupt() {
  if (res_) res_->claimed = false;  // the registry has forgotten this writer already
  keep_received("a newer request for it came");
  // Its connection is most likely dead: end the request rather than wait for a timeout.
  if (control_ != nullptr) control_->end_soon();
}

void Upload::fail(const BodyFault& fault, Reply& reply) {
  if (fault.server_fault)
    spdlog::warn("{} {}: upload failed at byte {}: {}", peer_, path_, received_, fault.why);
  else
    spdlog::info("{} {}: upload refused at byte {}: {}", peer_, path_, received_, fault.why);
  if (res_) {
    keep_received(fault.why);
    const std::string offset = std::to_string(res_->record.offset);
    reply_error(reply, fault.status, "The upload failed: " + fault.why + ".", "Upload-Offset",
                offset);
    return;
  }
  if (sink_) sink_->abort();
  reply_error(reply, fault.status, "The upload failed: " + fault.why + ". Nothing was written.");
}

void Upload::abandon(std::string_view why) {
  // The client went away or stalled: no answer can be sent, but the event is worth a line.
  spdlog::info("{} {}: upload aborted at byte {}{}: {}", peer_, path_, received_,
               declared_ && *declared_ > 0 ? " of " + std::to_string(*declared_) : std::string(),
               why);
  if (res_) {
    keep_received(why);
    return;
  }
  if (sink_) sink_->abort();
}

Handling UploadHandler::handle(const Request& request, Reply& reply) {
  Handling h;
  h.sink = Upload::begin(dav_, uploads_, request, reply);
  return h;
}

}  // namespace httpfs::server
