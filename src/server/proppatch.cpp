#include "server/proppatch.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>

#include "http/status.hpp"
#include "http/xml_writer.hpp"
#include "io/dead_props.hpp"
#include "server/debug_log.hpp"
#include "server/file_handler.hpp"

namespace httpfs::server {

namespace {

// The status each property of the request gets.
struct Outcome {
  http::XmlName name;
  int status = 0;
};

void answer(Reply& reply, std::string_view path, const std::vector<Outcome>& outcomes,
            bool protected_failure) {
  std::string body = "<D:response>";
  append_href(body, path);
  for (int status : {200, 403, 424, 507}) {
    std::string props;
    for (const Outcome& o : outcomes)
      if (o.status == status) http::open_element(props, o.name, true);
    if (props.empty()) continue;
    body += "<D:propstat><D:prop>" + props + "</D:prop><D:status>" + status_line(status) +
            "</D:status>";
    if (status == 403 && protected_failure)
      body += "<D:error><D:cannot-modify-protected-property/></D:error>";
    body += "</D:propstat>";
  }
  body += "</D:response>\n";
  reply_multistatus(reply, body);
}

// Applies the operations to the properties of the open resource `fd`.
std::vector<Outcome> apply(int fd, const http::ProppatchBody& patch, bool& protected_failure) {
  std::vector<Outcome> out;
  protected_failure = std::any_of(patch.ops.begin(), patch.ops.end(),
                                  [](const auto& op) { return is_live_property(op.prop.name); });
  std::vector<io::DeadProperty> props;
  int err = protected_failure ? 0 : io::read_dead_props(fd, props);
  if (!protected_failure && err == 0) {
    for (const auto& op : patch.ops) {
      if (op.remove)
        io::remove_dead_prop(props, op.prop.name);
      else
        io::set_dead_prop(props, io::DeadProperty{op.prop.name, op.prop.value_xml, op.prop.lang});
    }
    err = io::write_dead_props(fd, props);
  }
  const int failed = err == -ENOSPC || err == -E2BIG || err == -EDQUOT ? 507 : 403;
  for (const auto& op : patch.ops) {
    int status = 200;
    if (protected_failure)
      status = is_live_property(op.prop.name) ? 403 : 424;
    else if (err != 0)
      status = failed;
    out.push_back(Outcome{op.prop.name, status});
  }
  if (err != 0) HTTPFS_DEBUG("PROPPATCH: cannot store the properties: errno {}", -err);
  return out;
}

}  // namespace

bool is_live_property(const http::XmlName& n) noexcept {
  static constexpr std::array<std::string_view, 10> kLive = {
      "resourcetype", "getcontentlength", "getlastmodified", "getetag",       "getcontenttype",
      "creationdate", "displayname",      "supportedlock",   "lockdiscovery", "getcontentlanguage"};
  return n.ns == http::kDavNamespace &&
         std::find(kLive.begin(), kLive.end(), n.local) != kLive.end();
}

Handling ProppatchHandler::handle(const Request& request, Reply& reply) {
  if (options_.read_only) {
    reply_error(reply, http::status::kForbidden, "This server is read-only.");
    return {};
  }
  const std::string path = request.path.path;
  if (!options_.show_hidden && is_hidden_path(path)) {
    reply_error(reply, http::status::kNotFound, "There is nothing at this path.");
    return {};
  }
  const int probe = root_.open(path, O_PATH);
  if (probe < 0) {
    reply_error(reply, http::status::kNotFound, "There is nothing at this path.");
    return {};
  }
  ::close(probe);
  if (auto refusal = check_write(dav_, request, {WriteTarget{path, false}})) {
    reply_refusal(reply, *refusal);
    return {};
  }
  Handling h;
  h.sink = std::make_unique<XmlBodySink>(
      http::XmlBodyParser::Expect::Propertyupdate, options_.max_xml_body,
      [this, path](const http::XmlBodyParser& body, Reply& r) {
        // RFC 4918 9.2: the body is a propertyupdate naming at least one change; a 207
        // without a single propstat would not be a valid answer (14.24).
        if (body.proppatch().ops.empty()) {
          HTTPFS_DEBUG("PROPPATCH {}: no property to set or remove", path);
          reply_error(r, http::status::kBadRequest,
                      "PROPPATCH needs a propertyupdate body with a set or a remove.");
          return BodySink::Finish{};
        }
        // O_RDONLY: fsetxattr needs a real descriptor; directories open the same way.
        const int fd = root_.open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY);
        if (fd < 0) {
          reply_error(r, http::status::kNotFound, "There is nothing at this path.");
          return BodySink::Finish{};
        }
        bool protected_failure = false;
        const std::vector<Outcome> outcomes = apply(fd, body.proppatch(), protected_failure);
        ::close(fd);
        answer(r, path, outcomes, protected_failure);
        return BodySink::Finish{};
      });
  return h;
}

}  // namespace httpfs::server
