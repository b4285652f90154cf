#include "server/lock_handler.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <ctime>

#include "http/chars.hpp"
#include "http/fields.hpp"
#include "http/status.hpp"
#include "io/state_dir.hpp"
#include "net/errors.hpp"
#include "server/errno_status.hpp"
#include "server/file_handler.hpp"

namespace httpfs::server {

namespace {

// The answer to a LOCK: the lock's discovery as the body, and its token (RFC 4918 9.10.1).
void answer_lock(Reply& reply, int status, const io::Lock& lock, bool with_token) {
  std::string body =
      "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<D:prop xmlns:D=\"DAV:\"><D:lockdiscovery>";
  append_activelock(body, lock, std::time(nullptr));
  body += "</D:lockdiscovery></D:prop>\n";
  reply.begin(status);
  if (with_token) reply.header("Lock-Token", "<" + lock.token + ">");
  reply.header("Content-Type", "application/xml; charset=utf-8");
  reply.end_head(body.size());
  reply.body(body);
  reply.finish();
}

// Makes an empty file at an unmapped URL (RFC 4918 7.3): 0, or -errno.
int create_empty(const io::Docroot& root, std::string_view path) {
  std::string name;
  const int dir = root.open_parent(path, false, name);
  if (dir < 0) return dir;
  const int fd = ::openat(dir, name.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  const int err = fd < 0 ? errno : 0;
  if (fd >= 0) ::close(fd);
  ::close(dir);
  return -err;
}

// A new lock on `path`, from the lockinfo body.
BodySink::Finish new_lock(const DavContext& dav, std::string path, bool infinite, std::string user,
                          std::string_view timeout_header, const http::LockinfoBody& info,
                          Reply& reply) {
  const std::time_t now = std::time(nullptr);
  io::Lock lock;
  lock.root = path;
  lock.exclusive = info.exclusive;
  lock.infinite = infinite;
  lock.owner_xml = info.owner_xml;
  lock.principal = std::move(user);
  lock.timeout_s = lock_timeout(timeout_header, dav.options.max_lock_timeout_s);
  io::LockStore::Created created = io::LockStore::Created::Ok;
  if (int r = dav.locks.create(lock, now, created); r < 0) {
    reply_error(reply, status_from_errno(r), "The lock cannot be stored: " + net::errno_text(r));
    return {};
  }
  if (created == io::LockStore::Created::Conflict) {
    reply_refusal(reply, Refusal{http::status::kLocked, "A conflicting lock is held.",
                                 "no-conflicting-lock", ""});
    return {};
  }
  int status = http::status::kOk;
  if (const int fd = dav.root.open(path, O_PATH); fd >= 0) {
    ::close(fd);
  } else if (int r = create_empty(dav.root, path); r == 0) {
    status = http::status::kCreated;
  } else if (r != -EEXIST) {
    dav.locks.remove(lock.token);
    reply_error(reply,
                r == -ENOENT || r == -ENOTDIR ? http::status::kConflict : status_from_errno(r),
                "Nothing can be made at this path: " + net::errno_text(r));
    return {};
  }
  answer_lock(reply, status, lock, true);
  return {};
}

}  // namespace

std::uint64_t lock_timeout(std::string_view header, std::uint64_t max_s) noexcept {
  std::uint64_t chosen = max_s;
  http::for_each_list_element(header, [&](std::string_view v) {
    if (http::chars::iequals(v, "infinite")) return false;  // the longest we grant: max_s
    if (!v.starts_with("Second-") || v.size() == 7 || v.size() > 7 + 18) return true;
    std::uint64_t n = 0;
    for (char c : v.substr(7)) {
      if (!http::chars::is_digit(c)) return true;  // not understood: look at the next one
      n = n * 10 + static_cast<std::uint64_t>(c - '0');
    }
    chosen = std::min(n, max_s);
    return false;
  });
  return chosen;
}

Handling LockHandler::handle(const Request& request, Reply& reply) {
  const std::string path = resource_path(request.path.path);
  if (options_.read_only) {
    reply_error(reply, http::status::kForbidden, "This server is read-only.");
    return {};
  }
  if ((!options_.show_hidden && is_hidden_path(path)) || path == "/") {
    reply_error(reply, http::status::kForbidden, "This path cannot be locked.");
    return {};
  }
  bool infinite = true;
  if (const http::Header* d = request.find("depth"); d && d->value != "infinity") {
    if (d->value != "0") {
      reply_error(reply, http::status::kBadRequest, "LOCK takes Depth: 0 or infinity.");
      return {};
    }
    infinite = false;
  }
  if (!request.has_body() || request.body_length() == std::optional<std::uint64_t>(0))
    return refresh(request, reply);
  std::optional<http::IfHeader> if_header;
  if (auto r = parse_if(request, if_header)) {
    reply_refusal(reply, *r);
    return {};
  }
  if (if_header) {
    // Only the If header's own conditions matter here: a lock is not a write under a lock.
    if (auto r = check_write(dav_, request, {})) {
      reply_refusal(reply, *r);
      return {};
    }
  }
  const http::Header* t = request.find("timeout");
  Handling h;
  h.sink = std::make_unique<XmlBodySink>(
      http::XmlBodyParser::Expect::Lockinfo, options_.max_xml_body,
      [this, path, infinite, user = request.user,
       timeout = std::string(t ? t->value : std::string_view{})](const http::XmlBodyParser& body,
                                                                 Reply& r) {
        return new_lock(dav_, path, infinite, user, timeout, body.lockinfo(), r);
      });
  return h;
}

Handling LockHandler::refresh(const Request& request, Reply& reply) {
  std::optional<http::IfHeader> if_header;
  if (auto r = parse_if(request, if_header)) {
    reply_refusal(reply, *r);
    return {};
  }
  const std::string path = resource_path(request.path.path);
  const std::time_t now = std::time(nullptr);
  const http::Header* t = request.find("timeout");
  const std::uint64_t timeout =
      lock_timeout(t ? t->value : std::string_view{}, options_.max_lock_timeout_s);
  for (const std::string& token :
       if_header ? if_header->state_tokens() : std::vector<std::string>{}) {
    io::Lock lock;
    if (!dav_.locks.find(token, now, lock) || !lock.covers(path)) continue;
    if (!lock.principal.empty() && lock.principal != request.user) continue;
    if (dav_.locks.refresh(token, timeout, now, lock) == 0) {
      answer_lock(reply, http::status::kOk, lock, false);
      return {};
    }
  }
  reply_refusal(reply, Refusal{http::status::kPreconditionFailed,
                               "No lock of this URL is named in the If header to refresh.",
                               "lock-token-submitted", ""});
  return {};
}

Handling UnlockHandler::handle(const Request& request, Reply& reply) {
  const http::Header* h = request.find("lock-token");
  std::string_view token = h ? http::chars::trim_ows(h->value) : std::string_view{};
  if (token.size() < 3 || token.front() != '<' || token.back() != '>') {
    reply_error(reply, http::status::kBadRequest, "Lock-Token must name a lock: <urn:uuid:...>.");
    return {};
  }
  token = token.substr(1, token.size() - 2);
  io::Lock lock;
  const std::string path = resource_path(request.path.path);
  if (!dav_.locks.find(token, std::time(nullptr), lock) || !lock.covers(path)) {
    reply_refusal(reply, Refusal{http::status::kConflict, "That lock does not cover this URL.",
                                 "lock-token-matches-request-uri", ""});
    return {};
  }
  if (!lock.principal.empty() && lock.principal != request.user) {
    reply_error(reply, http::status::kForbidden, "The lock belongs to another user.");
    return {};
  }
  dav_.locks.remove(token);
  reply.begin(http::status::kNoContent);
  reply.end_head(0);
  reply.finish();
  return {};
}

}  // namespace httpfs::server
