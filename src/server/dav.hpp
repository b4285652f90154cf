// What the WebDAV handlers (RFC 4918) share: the served tree, the options, the lock store;
// the checks every write makes before it changes anything (the If header, locks); and the
// request body as XML.
//
//   check_write()   412 when the If header does not hold, 423 when a lock on a resource
//                   the request changes was not submitted (RFC 4918 7.5, 10.4)
//   XmlBodySink     takes a PROPFIND, PROPPATCH or LOCK body, parses it as it arrives
//                   (bounded: --max-xml-body), then lets the handler answer
//
// Lifetime: a DavContext is the Server's and outlives every request.
#pragma once

#include <ctime>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "http/if_header.hpp"
#include "http/xml_body.hpp"
#include "io/docroot.hpp"
#include "io/lock_store.hpp"
#include "io/no_props_cache.hpp"
#include "io/tree.hpp"
#include "server/docroot_handler.hpp"
#include "server/handler.hpp"
#include "server/options.hpp"

namespace httpfs::server {

struct DavContext {
  const io::Docroot& root;
  const ServerOptions& options;
  io::LockStore& locks;
  io::NoPropsCache& no_props;  // PROPFIND's memory of files without dead properties
};

// The base of the handlers that need the lock store too.
class DavHandler : public DocrootHandler {
 public:
  explicit DavHandler(const DavContext& dav) : DocrootHandler(dav.root, dav.options), dav_(dav) {}

 protected:
  const DavContext& dav_;
};

// A resource a write changes: the path, and whether everything below it changes too (a
// collection deleted, moved or overwritten).
struct WriteTarget {
  std::string path;
  bool subtree = false;
};

// An answer that refuses a request, with an optional DAV:error body element (RFC 4918 16)
// naming the precondition that failed, and the resource it is about.
struct Refusal {
  int status = 0;
  std::string detail;
  std::string precondition;  // a DAV: element name, e.g. "lock-token-submitted"; "" none
  std::string href;          // for lock-token-submitted: the locked resource's path
};

// The If header of a request, parsed (nullopt when absent); a malformed one is a Refusal.
std::optional<Refusal> parse_if(const Request& request, std::optional<http::IfHeader>& out);

// Checks a write to `targets`: the If header (when sent) must hold, and every lock on the
// targets must have its token submitted in it by the principal that took it.
std::optional<Refusal> check_write(const DavContext& dav, const Request& request,
                                   const std::vector<WriteTarget>& targets);

// Answers a refusal: an HTML page, or the DAV:error XML body when it names a precondition.
void reply_refusal(Reply& reply, const Refusal& r);

// The path a normalised request path names without its trailing slash ("/" stays "/").
std::string resource_path(std::string_view path);

// A request body read as XML, answered by `on_body` once it is complete and valid.
class XmlBodySink final : public BodySink {
 public:
  using Answer = std::function<BodySink::Finish(const http::XmlBodyParser& body, Reply& reply)>;
  XmlBodySink(http::XmlBodyParser::Expect expect, std::size_t max_bytes, Answer on_body);

  std::optional<BodyFault> write(std::string_view bytes) override;
  std::optional<BodyFault> spliced(std::uint64_t, int) override { return std::nullopt; }
  Finish finish(Reply& reply) override;
  void fail(const BodyFault& fault, Reply& reply) override;
  void abandon(std::string_view) override {}

 private:
  http::XmlBodyParser parser_;
  Answer on_body_;
};

// The start and end of a 207 Multi-Status body, and one <D:response> with a status.
inline constexpr std::string_view kMultistatusOpen =
    "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<D:multistatus xmlns:D=\"DAV:\">\n";
inline constexpr std::string_view kMultistatusClose = "</D:multistatus>\n";
void append_href(std::string& out, std::string_view path);
// A complete 207 answer whose body `responses` are <D:response> elements.
void reply_multistatus(Reply& reply, std::string_view responses);
// A 207 naming each member of the tree at `base` that a DELETE, COPY or MOVE could not handle,
// with the status its errno means.
void reply_tree_failures(Reply& reply, std::string_view base,
                         const std::vector<io::TreeFailure>& failures);
void append_status_response(std::string& out, std::string_view path, int status);
std::string status_line(int status);  // "HTTP/1.1 404 Not Found"
// <D:activelock> of `lock` (RFC 4918 14.1), its timeout counted from `now`.
void append_activelock(std::string& out, const io::Lock& lock, std::time_t now);

}  // namespace httpfs::server
