#include "server/propfind.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>

#include "http/date.hpp"
#include "http/mime.hpp"
#include "http/status.hpp"
#include "http/xml_writer.hpp"
#include "io/dead_props.hpp"
#include "io/dir_reader.hpp"
#include "io/file_etag.hpp"
#include "server/debug_log.hpp"
#include "server/file_handler.hpp"

namespace httpfs::server {

namespace {

enum class Depth : unsigned char { Zero, One, Infinity, Bad };

Depth parse_depth(const Request& r) {
  const http::Header* d = r.find("depth");
  if (d == nullptr) return Depth::Infinity;  // RFC 4918 9.1: no Depth means infinity
  if (d->value == "0") return Depth::Zero;
  if (d->value == "1") return Depth::One;
  if (d->value == "infinity" || d->value == "Infinity") return Depth::Infinity;
  return Depth::Bad;
}

// The live properties, in the order allprop and propname list them.
constexpr std::array<std::string_view, 9> kLive = {
    "resourcetype", "getcontentlength", "getlastmodified", "getetag",      "getcontenttype",
    "creationdate", "displayname",      "supportedlock",   "lockdiscovery"};

bool is_live(const http::XmlName& n) {
  return n.ns == http::kDavNamespace &&
         std::find(kLive.begin(), kLive.end(), n.local) != kLive.end();
}

// One resource of the answer.
struct Resource {
  std::string path;  // decoded URL path; a collection's ends in '/'
  std::string name;  // its last segment
  struct stat st {};
};

std::string iso8601(std::int64_t t) {
  return http::format_rfc3339(t);
}

constexpr std::string_view kSupportedLock =
    "<D:lockentry><D:lockscope><D:exclusive/></D:lockscope><D:locktype><D:write/></D:locktype>"
    "</D:lockentry><D:lockentry><D:lockscope><D:shared/></D:lockscope><D:locktype><D:write/>"
    "</D:locktype></D:lockentry>";

// Appends the value of live property `local` of `r`; false when `r` has no such property
// (getcontentlength, getcontenttype and getetag of a collection).
bool live_value(std::string& out, std::string_view local, const Resource& r,
                const std::vector<io::Lock>& locks, std::time_t now) {
  const bool dir = S_ISDIR(r.st.st_mode);
  auto element = [&](std::string_view value, bool escape) {
    out += "<D:" + std::string(local) + ">";
    if (escape)
      http::xml_escape_text(out, value);
    else
      out += value;
    out += "</D:" + std::string(local) + ">";
  };
  if (local == "resourcetype") {
    out += dir ? "<D:resourcetype><D:collection/></D:resourcetype>" : "<D:resourcetype/>";
  } else if (local == "getcontentlength") {
    if (dir) return false;
    element(std::to_string(r.st.st_size), false);
  } else if (local == "getlastmodified") {
    element(http::format_http_date(r.st.st_mtim.tv_sec), false);
  } else if (local == "getetag") {
    if (dir) return false;
    element(io::file_etag(r.st), true);
  } else if (local == "getcontenttype") {
    if (dir) return false;
    element(http::mime_type_for(r.name), true);
  } else if (local == "creationdate") {
    element(iso8601(std::min(r.st.st_ctim.tv_sec, r.st.st_mtim.tv_sec)), false);
  } else if (local == "displayname") {
    element(r.name, true);
  } else if (local == "supportedlock") {
    element(kSupportedLock, false);
  } else if (local == "lockdiscovery") {
    std::string active;
    for (const io::Lock& l : locks)
      if (l.covers(resource_path(r.path))) append_activelock(active, l, now);
    element(active, false);
  } else {
    return false;
  }
  return true;
}

// The answer, made while the directory is read.
class PropfindBody final : public BodySource {
 public:
  PropfindBody(const DavContext& dav, http::PropfindBody query, Resource self, bool members)
      : dav_(dav), query_(std::move(query)), self_(std::move(self)), members_(members) {
    now_ = std::time(nullptr);
    locks_ = dav.locks.covering(resource_path(self_.path), now_);
    if (members_)
      for (io::Lock& l : dav.locks.within(resource_path(self_.path), now_))
        if (l.root != resource_path(self_.path)) locks_.push_back(std::move(l));
  }

  bool next(std::string& out, std::size_t hint, int& error) override {
    if (!started_) {
      started_ = true;
      out += kMultistatusOpen;
      respond(out, self_, -1);
      if (members_) {
        if (int r = dir_.open(dav_.root, self_.path, dav_.options.show_hidden); r < 0) {
          error = -r;
          return false;
        }
      }
    }
    Resource m;
    while (members_ && out.size() < hint && dir_.next(m.name, m.st)) {
      m.path = self_.path + m.name + (S_ISDIR(m.st.st_mode) ? "/" : "");
      respond(out, m, dir_.fd());
    }
    if (members_ && out.size() >= hint) return true;
    out += kMultistatusClose;
    return false;
  }

 private:
  void respond(std::string& out, const Resource& r, int dir_fd) {
    std::vector<io::DeadProperty> dead;
    if (query_.kind != http::PropfindBody::Kind::Prop || needs_dead()) read_dead(r, dir_fd, dead);
    out += "<D:response>";
    append_href(out, r.path);
    std::string missing;
    out += "<D:propstat><D:prop>";
    switch (query_.kind) {
      case http::PropfindBody::Kind::AllProp:
        for (std::string_view p : kLive) live_value(out, p, r, locks_, now_);
        for (const io::DeadProperty& d : dead)
          http::property_element(out, d.name, d.value_xml, d.lang);
        break;
      case http::PropfindBody::Kind::PropName:
        for (std::string_view p : kLive)
          if (std::string probe; live_value(probe, p, r, locks_, now_))
            out += "<D:" + std::string(p) + "/>";
        for (const io::DeadProperty& d : dead) http::open_element(out, d.name, true);
        break;
      case http::PropfindBody::Kind::Prop:
        for (const http::XmlName& n : query_.props) named(out, missing, n, r, dead);
        break;
    }
    out += "</D:prop><D:status>HTTP/1.1 200 OK</D:status></D:propstat>";
    if (!missing.empty())
      out += "<D:propstat><D:prop>" + missing +
             "</D:prop><D:status>HTTP/1.1 404 Not Found</D:status></D:propstat>";
    out += "</D:response>\n";
  }

  void named(std::string& out, std::string& missing, const http::XmlName& n, const Resource& r,
             const std::vector<io::DeadProperty>& dead) {
    if (is_live(n) && live_value(out, n.local, r, locks_, now_)) return;
    for (const io::DeadProperty& d : dead) {
      if (d.name == n) return http::property_element(out, d.name, d.value_xml, d.lang);
    }
    http::open_element(missing, n, true);
  }

  bool needs_dead() const {
    return std::any_of(query_.props.begin(), query_.props.end(),
                       [](const http::XmlName& n) { return !is_live(n); });
  }

  void read_dead(const Resource& r, int dir_fd, std::vector<io::DeadProperty>& dead) {
    const int r_ = dir_fd >= 0 ? read_member_dead(dir_fd, r.name, dead) : read_self_dead(r, dead);
    if (r_ < 0) dead.clear();  // unreadable: listed without them (the live ones still hold)
  }

  static int read_member_dead(int dir_fd, const std::string& name,
                              std::vector<io::DeadProperty>& dead) {
    const int fd =
        ::openat(dir_fd, name.c_str(), O_RDONLY | O_NONBLOCK | O_NOCTTY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) return -errno;
    const int res = io::read_dead_props(fd, dead);
    ::close(fd);
    return res;
  }

  int read_self_dead(const Resource& r, std::vector<io::DeadProperty>& dead) {
    const int fd = dav_.root.open(r.path, O_RDONLY | O_NONBLOCK | O_NOCTTY);
    if (fd < 0) return fd;
    const int res = io::read_dead_props(fd, dead);
    ::close(fd);
    return res;
  }

  const DavContext& dav_;
  http::PropfindBody query_;
  Resource self_;
  bool members_;
  bool started_ = false;
  std::time_t now_ = 0;
  std::vector<io::Lock> locks_;  // covering the resource, and within it when listing members
  io::DirReader dir_;
};

// Starts the answer: 207 and the streamed body.
void answer(const DavContext& dav, http::PropfindBody query, Resource self, bool members,
            Reply& reply) {
  reply.begin(http::status::kMultiStatus);
  reply.header("Content-Type", "application/xml; charset=utf-8");
  reply.end_head_streamed();
  reply.body_source(
      std::make_unique<PropfindBody>(dav, std::move(query), std::move(self), members));
  reply.finish();
}

}  // namespace

Handling PropfindHandler::handle(const Request& request, Reply& reply) {
  const Depth depth = parse_depth(request);
  if (depth == Depth::Bad) {
    reply_error(reply, http::status::kBadRequest, "Depth must be 0, 1 or infinity.");
    return {};
  }
  if (depth == Depth::Infinity) {
    reply_refusal(reply, Refusal{http::status::kForbidden, "", "propfind-finite-depth", ""});
    return {};
  }
  Resource self;
  self.path = request.path.path;
  if (!options_.show_hidden && is_hidden_path(self.path)) {
    reply_error(reply, http::status::kNotFound, "There is nothing at this path.");
    return {};
  }
  const int fd = root_.open(self.path, O_PATH);
  if (fd < 0 || ::fstat(fd, &self.st) != 0 ||
      (!S_ISDIR(self.st.st_mode) && !S_ISREG(self.st.st_mode)) ||
      (S_ISREG(self.st.st_mode) && self.path.back() == '/')) {
    if (fd >= 0) ::close(fd);
    reply_error(reply, http::status::kNotFound, "There is nothing at this path.");
    return {};
  }
  ::close(fd);
  if (S_ISDIR(self.st.st_mode) && self.path.back() != '/') self.path += '/';
  const std::string path = resource_path(self.path);
  self.name = path == "/" ? "/" : std::string(path.substr(path.rfind('/') + 1));
  const bool members = depth == Depth::One && S_ISDIR(self.st.st_mode);
  if (!request.has_body()) {
    answer(dav_, http::PropfindBody{}, std::move(self), members, reply);
    return {};
  }
  Handling h;
  h.sink = std::make_unique<XmlBodySink>(
      http::XmlBodyParser::Expect::Propfind, options_.max_xml_body,
      [this, self = std::move(self), members](const http::XmlBodyParser& body, Reply& r) mutable {
        answer(dav_, body.propfind(), std::move(self), members, r);
        return BodySink::Finish{};
      });
  return h;
}

}  // namespace httpfs::server
