#include "server/copy_move.hpp"

#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <utility>

#include "http/chars.hpp"
#include "http/percent.hpp"
#include "http/status.hpp"
#include "http/url.hpp"
#include "io/state_dir.hpp"
#include "io/tree.hpp"
#include "net/errors.hpp"
#include "server/errno_status.hpp"
#include "server/file_handler.hpp"
#include "server/mkcol.hpp"

namespace httpfs::server {

namespace {

// An open parent directory and the name in it.
struct Place {
  int dir = -1;
  std::string name;
  Place() = default;
  Place(Place&& o) noexcept : dir(std::exchange(o.dir, -1)), name(std::move(o.name)) {}
  Place& operator=(Place&&) = delete;
  ~Place() {
    if (dir >= 0) ::close(dir);
  }
};

// The work, on the worker pool.
class CopyMoveJob final : public Job {
 public:
  CopyMoveJob(const DavContext& dav, bool move, bool members, Place from, Place to,
              std::string from_path, std::string to_path, bool replacing, bool is_dir)
      : dav_(dav),
        move_(move),
        members_(members),
        from_(std::move(from)),
        to_(std::move(to)),
        from_path_(std::move(from_path)),
        to_path_(std::move(to_path)),
        replacing_(replacing),
        is_dir_(is_dir) {}

  void run() override {
    const bool durable = dav_.options.durable;
    if (replacing_ && !io::remove_tree(to_.dir, to_.name, failures_)) return;
    if (move_ && ::renameat(from_.dir, from_.name.c_str(), to_.dir, to_.name.c_str()) == 0) {
      if (durable) sync_dirs();
      return moved();
    }
    if (move_ && errno != EXDEV) {
      failures_.push_back(io::TreeFailure{"", errno});
      return;
    }
    // A copy (or a move to another file system: copy, then remove the source).
    if (is_dir_) {
      io::copy_tree(from_.dir, from_.name, to_.dir, to_.name, members_, durable, failures_);
    } else if (int r = io::copy_file(from_.dir, from_.name, to_.dir, to_.name, false, durable);
               r < 0) {
      failures_.push_back(io::TreeFailure{"", -r});
    }
    if (move_ && failures_.empty()) {
      if (io::remove_tree(from_.dir, from_.name, failures_)) moved();
    }
  }

  void answer(Reply& reply) override {
    if (failures_.empty()) {
      reply.begin(replacing_ ? http::status::kNoContent : http::status::kCreated);
      if (!replacing_) reply.header("Location", http::percent_encode_path(to_path_));
      reply.end_head(0);
      return reply.finish();
    }
    const io::TreeFailure& first = failures_.front();
    if (failures_.size() == 1 && first.path.empty()) {
      // The resource itself: one status says it.
      spdlog::warn("{} {} to {}: {}", move_ ? "MOVE" : "COPY", from_path_, to_path_,
                   net::errno_text(first.error));
      return reply_error(
          reply, status_from_errno(first.error),
          std::string(move_ ? "Cannot move: " : "Cannot copy: ") + net::errno_text(first.error));
    }
    reply_tree_failures(reply, to_path_, failures_);
  }

 private:
  void moved() { dav_.locks.remove_within(from_path_, std::time(nullptr)); }
  void sync_dirs() {
    ::fsync(from_.dir);
    ::fsync(to_.dir);
  }

  const DavContext& dav_;
  bool move_, members_;
  Place from_, to_;
  std::string from_path_, to_path_;
  bool replacing_, is_dir_;
  std::vector<io::TreeFailure> failures_;
};

bool same_authority(std::string_view a, std::string_view b) {
  return http::chars::iequals(a, b);
}

// Depth for COPY (0 or infinity) and MOVE (infinity only): members, or a refusal.
std::optional<Refusal> parse_depth(const Request& r, bool move, bool& members) {
  members = true;
  const http::Header* d = r.find("depth");
  if (d == nullptr || d->value == "infinity" || d->value == "Infinity") return std::nullopt;
  if (d->value == "0" && !move) {
    members = false;
    return std::nullopt;
  }
  return Refusal{http::status::kBadRequest,
                 move ? "MOVE takes Depth: infinity only." : "COPY takes Depth: 0 or infinity."};
}

bool opens(const io::Docroot& root, std::string_view path, struct stat& st) {
  const int fd = root.open(path, O_PATH);
  if (fd < 0) return false;
  const bool ok = ::fstat(fd, &st) == 0;
  ::close(fd);
  return ok;
}

}  // namespace

std::optional<Refusal> parse_destination(const Request& request, http::RequestPath& out) {
  const http::Header* h = request.find("destination");
  if (h == nullptr) return Refusal{http::status::kBadRequest, "Destination is required."};
  std::string_view target = h->value;
  // A Simple-ref (RFC 4918 10.3) has no fragment, and the parsers would not agree on where
  // one ends ("http://h/a#/../b": a URL reader sees /a). A '#' in a name is sent as %23.
  if (target.find('#') != std::string_view::npos)
    return Refusal{http::status::kBadRequest, "Destination may not hold a fragment ('#')."};
  http::TargetForm form = http::TargetForm::Origin;
  if (!target.starts_with("/")) {
    std::string error;
    auto url = http::parse_url(target, &error);
    if (!url || !(target.starts_with("http://") || target.starts_with("https://")))
      return Refusal{http::status::kBadRequest, "Destination is not a URL: " + error};
    if (!same_authority(url->host_header(), request.head.host))
      return Refusal{http::status::kBadGateway, "Destination is on another server."};
    form = http::TargetForm::Absolute;
  }
  if (std::string_view why = http::normalize_target(target, form, out); !why.empty())
    return Refusal{http::status::kBadRequest, "Destination: " + std::string(why)};
  return std::nullopt;
}

Handling CopyMoveHandler::handle(const Request& request, Reply& reply) {
  const auto refuse = [&](Refusal r) {
    reply_refusal(reply, r);
    return Handling{};
  };
  if (options_.read_only) return refuse({http::status::kForbidden, "This server is read-only."});
  http::RequestPath dest;
  if (auto r = parse_destination(request, dest)) return refuse(*r);
  bool members = true;
  if (auto r = parse_depth(request, move_, members)) return refuse(*r);
  const std::string from = resource_path(request.path.path);
  const std::string to = resource_path(dest.path);
  const auto hidden = [&](const std::string& p) {
    return (!options_.show_hidden && is_hidden_path(p)) || io::is_state_path(p);
  };
  if (hidden(from)) return refuse({http::status::kNotFound, "There is nothing at this path."});
  if (hidden(to)) return refuse({http::status::kForbidden, "Hidden paths cannot be written."});
  struct stat src {};
  if (!opens(root_, from, src) || !(S_ISREG(src.st_mode) || S_ISDIR(src.st_mode)))
    return refuse({http::status::kNotFound, "There is nothing at this path."});
  if (from == to) return refuse({http::status::kForbidden, "The destination is the source."});
  if ((move_ && from == "/") || to == "/")
    return refuse({http::status::kForbidden, "The served directory itself cannot be replaced."});
  if (S_ISDIR(src.st_mode) && to.starts_with(from == "/" ? from : from + "/"))
    return refuse({http::status::kForbidden, "A collection cannot go into itself."});

  bool overwrite = true;
  if (const http::Header* o = request.find("overwrite")) {
    if (o->value == "F" || o->value == "f")
      overwrite = false;
    else if (o->value != "T" && o->value != "t")
      return refuse({http::status::kBadRequest, "Overwrite must be T or F."});
  }
  struct stat existing {};
  const bool exists = opens(root_, to, existing);
  if (exists && !overwrite)
    return refuse({http::status::kPreconditionFailed, "The destination exists (Overwrite: F)."});

  std::vector<WriteTarget> targets = {{to, true}, {parent_path(to), false}};
  if (move_) {
    targets.push_back({from, true});
    targets.push_back({parent_path(from), false});
  }
  if (auto r = check_write(dav_, request, targets)) return refuse(*r);

  Place src_place, dst_place;
  src_place.dir = root_.open_parent(from, false, src_place.name);
  dst_place.dir = root_.open_parent(to, false, dst_place.name);
  if (src_place.dir < 0) return refuse({http::status::kNotFound, "There is nothing at this path."});
  if (dst_place.dir < 0)
    return refuse({http::status::kConflict, "The destination's parent collection does not exist."});
  Handling h;
  h.job =
      std::make_unique<CopyMoveJob>(dav_, move_, members, std::move(src_place),
                                    std::move(dst_place), from, to, exists, S_ISDIR(src.st_mode));
  return h;
}

}  // namespace httpfs::server
