#include "server/dav.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>

#include "http/chars.hpp"
#include "http/percent.hpp"
#include "http/status.hpp"
#include "http/url.hpp"
#include "http/xml_writer.hpp"
#include "io/file_etag.hpp"
#include "server/debug_log.hpp"
#include "server/errno_status.hpp"

namespace httpfs::server {

namespace {

// The state of one resource, as the If header asks about it.
http::IfResourceState resource_state(const DavContext& dav, std::string_view path,
                                     std::time_t now) {
  http::IfResourceState s;
  const int fd = dav.root.open(path, O_PATH);
  if (fd >= 0) {
    struct stat st {};
    if (::fstat(fd, &st) == 0) {
      s.exists = true;
      if (S_ISREG(st.st_mode)) s.etag = io::file_etag(st);
    }
    ::close(fd);
  }
  std::vector<io::Lock> locks = dav.locks.covering(resource_path(path), now);
  s.locked_by = [locks = std::move(locks)](std::string_view token) {
    return std::any_of(locks.begin(), locks.end(),
                       [&](const io::Lock& l) { return l.token == token; });
  };
  return s;
}

// The path a Resource-Tag of the If header names on this server, if any.
std::optional<std::string> tag_path(std::string_view tag, std::string_view host) {
  std::optional<http::Url> url;
  if (!tag.starts_with("/")) {
    url = http::parse_url(tag);
    if (!url || !http::chars::iequals(url->host_header(), host)) return std::nullopt;
  }
  // `url` outlives the view of its target.
  const std::string_view path = url ? std::string_view(url->target) : tag;
  http::RequestPath p;
  if (!http::normalize_target(path, http::TargetForm::Origin, p).empty()) return std::nullopt;
  return resource_path(p.path);
}

// Whether the request submits a token of one of `locks` (with the principal that took it).
bool submitted(const std::vector<io::Lock>& locks, const std::vector<std::string>& tokens,
               std::string_view user) {
  return std::any_of(locks.begin(), locks.end(), [&](const io::Lock& l) {
    const bool named = std::find(tokens.begin(), tokens.end(), l.token) != tokens.end();
    return named && (l.principal.empty() || l.principal == user);
  });
}

}  // namespace

std::string resource_path(std::string_view path) {
  if (path.size() > 1 && path.back() == '/') path.remove_suffix(1);
  return std::string(path.empty() ? "/" : path);
}

std::string status_line(int status) {
  return "HTTP/1.1 " + std::to_string(status) + " " + std::string(http::reason_phrase(status));
}

void append_href(std::string& out, std::string_view path) {
  // Per thread, so that a listing's ten thousand hrefs reuse one allocation.
  thread_local std::string encoded;
  encoded.clear();
  http::percent_encode_path(path, encoded);
  out += "<D:href>";
  http::xml_escape_text(out, encoded);
  out += "</D:href>";
}

void reply_multistatus(Reply& reply, std::string_view responses) {
  std::string body(kMultistatusOpen);
  body += responses;
  body += kMultistatusClose;
  reply.begin(http::status::kMultiStatus);
  reply.header("Content-Type", "application/xml; charset=utf-8");
  reply.end_head(body.size());
  reply.body(body);
  reply.finish();
}

void reply_tree_failures(Reply& reply, std::string_view base,
                         const std::vector<io::TreeFailure>& failures) {
  std::string responses;
  for (const io::TreeFailure& f : failures)
    append_status_response(responses,
                           f.path.empty() ? std::string(base) : std::string(base) + "/" + f.path,
                           status_from_errno(f.error));
  reply_multistatus(reply, responses);
}

void append_status_response(std::string& out, std::string_view path, int status) {
  out += "<D:response>";
  append_href(out, path);
  out += "<D:status>";
  out += status_line(status);
  out += "</D:status></D:response>\n";
}

void append_activelock(std::string& out, const io::Lock& l, std::time_t now) {
  out += "<D:activelock><D:locktype><D:write/></D:locktype><D:lockscope>";
  out += l.exclusive ? "<D:exclusive/>" : "<D:shared/>";
  out += "</D:lockscope><D:depth>";
  out += l.infinite ? "infinity" : "0";
  out += "</D:depth>";
  if (!l.owner_xml.empty()) out += "<D:owner>" + l.owner_xml + "</D:owner>";
  out += "<D:timeout>Second-" + std::to_string(l.expires > now ? l.expires - now : 0) +
         "</D:timeout><D:locktoken><D:href>";
  http::xml_escape_text(out, l.token);
  out += "</D:href></D:locktoken><D:lockroot>";
  append_href(out, l.root);
  out += "</D:lockroot></D:activelock>";
}

std::optional<Refusal> parse_if(const Request& request, std::optional<http::IfHeader>& out) {
  out.reset();
  const http::Header* h = request.find("if");
  if (h == nullptr) return std::nullopt;
  std::string error;
  out = http::parse_if_header(h->value, &error);
  if (!out) return Refusal{http::status::kBadRequest, "The If header is malformed: " + error};
  return std::nullopt;
}

std::optional<Refusal> check_write(const DavContext& dav, const Request& request,
                                   const std::vector<WriteTarget>& targets) {
  std::optional<http::IfHeader> if_header;
  if (auto r = parse_if(request, if_header)) return r;
  const std::time_t now = std::time(nullptr);
  if (if_header) {
    const std::string host(request.head.host);
    const bool holds = http::if_header_holds(
        *if_header, resource_path(request.path.path),
        [&](std::string_view p) { return resource_state(dav, p, now); },
        [&](std::string_view tag) { return tag_path(tag, host); });
    if (!holds)
      return Refusal{http::status::kPreconditionFailed, "The If header's conditions do not hold."};
  }
  const std::vector<std::string> tokens =
      if_header ? if_header->state_tokens() : std::vector<std::string>{};
  for (const WriteTarget& t : targets) {
    const std::string path = resource_path(t.path);
    std::vector<io::Lock> covering = dav.locks.covering(path, now);
    if (!covering.empty() && !submitted(covering, tokens, request.user))
      return Refusal{http::status::kLocked, "The resource is locked.", "lock-token-submitted",
                     covering.front().root};
    if (!t.subtree) continue;
    for (const io::Lock& l : dav.locks.within(path, now)) {
      if (l.root == path) continue;  // covering, checked above
      if (!submitted(dav.locks.covering(l.root, now), tokens, request.user))
        return Refusal{http::status::kLocked, "A member of the collection is locked.",
                       "lock-token-submitted", l.root};
    }
  }
  return std::nullopt;
}

void reply_refusal(Reply& reply, const Refusal& r) {
  if (r.precondition.empty()) return reply_error(reply, r.status, r.detail);
  std::string body = "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<D:error xmlns:D=\"DAV:\"><D:";
  body += r.precondition;
  if (r.href.empty()) {
    body += "/>";
  } else {
    body += ">";
    append_href(body, r.href);
    body += "</D:" + r.precondition + ">";
  }
  body += "</D:error>\n";
  reply.begin(r.status);
  reply.header("Content-Type", "application/xml; charset=utf-8");
  reply.end_head(body.size());
  reply.body(body);
  reply.finish();
}

XmlBodySink::XmlBodySink(http::XmlBodyParser::Expect expect, std::size_t max_bytes, Answer on_body)
    : parser_(expect, {max_bytes, 64}), on_body_(std::move(on_body)) {}

std::optional<BodyFault> XmlBodySink::write(std::string_view bytes) {
  if (parser_.feed(bytes)) return std::nullopt;
  // Too large, or not XML: the rest is not worth reading.
  return BodyFault{parser_.error().find("larger") != std::string::npos
                       ? http::status::kContentTooLarge
                       : http::status::kBadRequest,
                   parser_.error(), false};
}

BodySink::Finish XmlBodySink::finish(Reply& reply) {
  if (!parser_.finish())
    return Finish{nullptr, BodyFault{http::status::kBadRequest, parser_.error(), false}};
  return on_body_(parser_, reply);
}

void XmlBodySink::fail(const BodyFault& fault, Reply& reply) {
  HTTPFS_DEBUG("request body refused: {}", fault.why);
  reply_error(reply, fault.status, "The request body is not acceptable: " + fault.why + ".");
}

}  // namespace httpfs::server
