#include "server/propfind.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <charconv>
#include <ctime>
#include <optional>

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
enum class Live : unsigned char {
  ResourceType,
  ContentLength,
  LastModified,
  ETag,
  ContentType,
  CreationDate,
  DisplayName,
  SupportedLock,
  LockDiscovery,
};
constexpr std::array<std::string_view, 9> kLive = {
    "resourcetype", "getcontentlength", "getlastmodified", "getetag",      "getcontenttype",
    "creationdate", "displayname",      "supportedlock",   "lockdiscovery"};
constexpr std::array<Live, 9> kAllLive = {
    Live::ResourceType, Live::ContentLength, Live::LastModified,
    Live::ETag,         Live::ContentType,   Live::CreationDate,
    Live::DisplayName,  Live::SupportedLock, Live::LockDiscovery};

std::string_view name_of(Live p) {
  return kLive[static_cast<std::size_t>(p)];
}

std::optional<Live> live_property(const http::XmlName& n) {
  if (n.ns != http::kDavNamespace) return std::nullopt;
  const auto it = std::find(kLive.begin(), kLive.end(), n.local);
  if (it == kLive.end()) return std::nullopt;
  return kAllLive[static_cast<std::size_t>(it - kLive.begin())];
}

// One resource of the answer.
struct Resource {
  std::string path;  // decoded URL path; a collection's ends in '/'
  std::string name;  // its last segment
  struct stat st {};
};

constexpr std::string_view kSupportedLock =
    "<D:lockentry><D:lockscope><D:exclusive/></D:lockscope><D:locktype><D:write/></D:locktype>"
    "</D:lockentry><D:lockentry><D:lockscope><D:shared/></D:lockscope><D:locktype><D:write/>"
    "</D:locktype></D:lockentry>";

// The text of a time, made again only when the second changes: the entries of a directory
// often share a few. `Format` writes exactly `N` bytes.
template <std::size_t N, void (*Format)(std::int64_t, char*) noexcept>
class DateMemo {
 public:
  std::string_view get(std::int64_t seconds) {
    if (!valid_ || seconds != seconds_) {
      Format(seconds, text_);
      seconds_ = seconds;
      valid_ = true;
    }
    return std::string_view(text_, N);
  }

 private:
  std::int64_t seconds_ = 0;
  bool valid_ = false;
  char text_[N];
};

// The live properties of RFC 4918 15, written straight into the answer: a listing writes
// nine per entry, so nothing here allocates once the memos are warm.
class LiveProps {
 public:
  LiveProps(std::vector<io::Lock> locks, std::time_t now) : locks_(std::move(locks)), now_(now) {}

  // Appends property `p` of `r`; false when `r` has no such property (getcontentlength,
  // getcontenttype and getetag of a collection).
  bool append(std::string& out, Live p, const Resource& r) {
    const bool dir = S_ISDIR(r.st.st_mode);
    const std::string_view local = name_of(p);
    switch (p) {
      case Live::ResourceType:
        out += dir ? "<D:resourcetype><D:collection/></D:resourcetype>" : "<D:resourcetype/>";
        return true;
      case Live::ContentLength: {
        if (dir) return false;
        char buf[24];
        char* end = std::to_chars(buf, buf + sizeof buf, r.st.st_size).ptr;
        element(out, local, std::string_view(buf, static_cast<std::size_t>(end - buf)));
        return true;
      }
      case Live::LastModified:
        element(out, local, modified_.get(r.st.st_mtim.tv_sec));
        return true;
      case Live::ETag:
        if (dir) return false;
        open(out, local);
        io::append_file_etag(out, r.st);  // hex digits, '-' and '"': nothing to escape
        close(out, local);
        return true;
      case Live::ContentType:
        if (dir) return false;
        escaped(out, local, http::mime_type_for(r.name));
        return true;
      case Live::CreationDate: {
        // Linux keeps no birth time in struct stat; the older of ctime and mtime stands in.
        const std::int64_t born = std::min(r.st.st_ctim.tv_sec, r.st.st_mtim.tv_sec);
        element(out, local, created_.get(born));
        return true;
      }
      case Live::DisplayName:
        escaped(out, local, r.name);
        return true;
      case Live::SupportedLock:
        element(out, local, kSupportedLock);
        return true;
      case Live::LockDiscovery:
        lockdiscovery(out, r);
        return true;
    }
    return false;
  }

  const std::vector<io::Lock>& locks() const noexcept { return locks_; }

 private:
  static void open(std::string& out, std::string_view local) {
    out.append("<D:").append(local).append(">");
  }
  static void close(std::string& out, std::string_view local) {
    out.append("</D:").append(local).append(">");
  }
  static void element(std::string& out, std::string_view local, std::string_view value) {
    open(out, local);
    out += value;
    close(out, local);
  }
  static void escaped(std::string& out, std::string_view local, std::string_view value) {
    open(out, local);
    http::xml_escape_text(out, value);
    close(out, local);
  }

  void lockdiscovery(std::string& out, const Resource& r) const {
    if (locks_.empty()) {
      out += "<D:lockdiscovery/>";
      return;
    }
    open(out, "lockdiscovery");
    const std::string path = resource_path(r.path);
    for (const io::Lock& l : locks_)
      if (l.covers(path)) append_activelock(out, l, now_);
    close(out, "lockdiscovery");
  }

  std::vector<io::Lock> locks_;  // covering the resource, and within it when listing members
  std::time_t now_;
  DateMemo<http::kHttpDateLength, http::format_http_date> modified_;
  DateMemo<http::kRfc3339Length, http::format_rfc3339> created_;
};

struct timespec realtime_now() {
  struct timespec t {};
  ::clock_gettime(CLOCK_REALTIME, &t);
  return t;
}

// Locks that matter to the answer: those covering the resource, and when its members are
// listed, those rooted below it.
std::vector<io::Lock> relevant_locks(const DavContext& dav, const Resource& self, bool members,
                                     std::time_t now) {
  const std::string path = resource_path(self.path);
  std::vector<io::Lock> locks = dav.locks.covering(path, now);
  if (members)
    for (io::Lock& l : dav.locks.within(path, now))
      if (l.root != path) locks.push_back(std::move(l));
  return locks;
}

// The answer, made while the directory is read.
class PropfindBody final : public BodySource {
 public:
  PropfindBody(const DavContext& dav, http::PropfindBody query, Resource self, bool members)
      : dav_(dav),
        query_(std::move(query)),
        self_(std::move(self)),
        members_(members),
        now_(realtime_now()),
        live_(relevant_locks(dav, self_, members, now_.tv_sec), now_.tv_sec) {
    for (const http::XmlName& n : query_.props) asked_.push_back(live_property(n));
    needs_dead_ = query_.kind != http::PropfindBody::Kind::Prop ||
                  std::any_of(asked_.begin(), asked_.end(),
                              [](std::optional<Live> p) { return !p.has_value(); });
  }

  bool next(std::string& out, std::size_t hint, int& error) override {
    if (!started_) {
      started_ = true;
      out += kMultistatusOpen;
      respond(out, self_, false);
      if (members_) {
        if (int r = dir_.open(dav_.root, self_.path, dav_.options.show_hidden); r < 0) {
          error = -r;
          return false;
        }
        cacheable_ = io::NoPropsCache::trusted(dir_.fd());
      }
    }
    const std::size_t limit = out.size() + hint;
    out.reserve(limit + kEntryReserve);
    while (members_ && out.size() < limit && dir_.next(member_.name, member_.st)) {
      member_.path.assign(self_.path).append(member_.name);
      if (S_ISDIR(member_.st.st_mode)) member_.path += '/';
      respond(out, member_, true);
    }
    if (members_ && out.size() >= limit) return true;
    out += kMultistatusClose;
    return false;
  }

 private:
  static constexpr std::size_t kEntryReserve = 2048;  // one typical entry past the hint

  void respond(std::string& out, const Resource& r, bool member) {
    dead_.clear();
    const bool allprop = query_.kind == http::PropfindBody::Kind::AllProp;
    if (allprop && member) dav_.no_props.prefetch(r.st);  // read after the live properties
    if (needs_dead_ && !allprop) read_dead(r, member);
    out += "<D:response>";
    append_href(out, r.path);
    missing_.clear();
    out += "<D:propstat><D:prop>";
    switch (query_.kind) {
      case http::PropfindBody::Kind::AllProp:
        for (Live p : kAllLive) live_.append(out, p, r);
        read_dead(r, member);
        for (const io::DeadProperty& d : dead_)
          http::property_element(out, d.name, d.value_xml, d.lang);
        break;
      case http::PropfindBody::Kind::PropName:
        for (Live p : kAllLive)
          if (std::string probe; live_.append(probe, p, r))
            out.append("<D:").append(name_of(p)).append("/>");
        for (const io::DeadProperty& d : dead_) http::open_element(out, d.name, true);
        break;
      case http::PropfindBody::Kind::Prop:
        for (std::size_t i = 0; i < asked_.size(); ++i) named(out, i, r);
        break;
    }
    out += "</D:prop><D:status>HTTP/1.1 200 OK</D:status></D:propstat>";
    if (!missing_.empty())
      out.append("<D:propstat><D:prop>")
          .append(missing_)
          .append("</D:prop><D:status>HTTP/1.1 404 Not Found</D:status></D:propstat>");
    out += "</D:response>\n";
  }

  // The i-th property the query asked for.
  void named(std::string& out, std::size_t i, const Resource& r) {
    const http::XmlName& n = query_.props[i];
    if (asked_[i] && live_.append(out, *asked_[i], r)) return;
    for (const io::DeadProperty& d : dead_) {
      if (d.name == n) return http::property_element(out, d.name, d.value_xml, d.lang);
    }
    http::open_element(missing_, n, true);
  }

  // A member is read through the directory (one syscall), and skipped when the cache knows
  // it has none. A symlink's are its target's, as a request for its path would find them,
  // read through the docroot and kept out of the cache: the link's ctime is not the
  // target's.
  void read_dead(const Resource& r, bool member) {
    const bool through_dir = member && !dir_.link();
    const bool cached = through_dir && cacheable_;
    if (cached && dav_.no_props.known_none(r.st)) return;
    const int res =
        through_dir ? io::read_dead_props_at(dir_.fd(), r.name, dead_) : read_self_dead(r, dead_);
    if (res < 0) {
      dead_.clear();  // unreadable: listed without them (the live ones still hold)
    } else if (cached && dead_.empty()) {
      dav_.no_props.note_none(r.st, now_);  // now_ is earlier than the read: stricter
    }
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
  std::vector<std::optional<Live>> asked_;  // query_.props as live properties, where they are
  Resource self_;
  bool members_;
  bool needs_dead_ = true;
  bool started_ = false;
  bool cacheable_ = false;  // the listed directory is on a file system the cache trusts
  struct timespec now_;     // when the answer began
  LiveProps live_;
  io::DirReader dir_;
  // Reused for every entry, so that their capacity is allocated once per answer.
  Resource member_;
  std::vector<io::DeadProperty> dead_;
  std::string missing_;
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
