#include "server/router.hpp"

#include "http/status.hpp"
#include "http/target.hpp"
#include "io/state_dir.hpp"
#include "server/cross_site.hpp"
#include "server/debug_log.hpp"
#include "server/resumable.hpp"
#include "server/ui.hpp"

namespace httpfs::server {

Router::Router(const ServerOptions& options, Authenticator& auth)
    : options_(options), auth_(auth) {}

void Router::add(std::initializer_list<http::Method> methods, Access access,
                 std::unique_ptr<Handler> handler) {
  for (http::Method m : methods) {
    routes_[static_cast<std::size_t>(m)] = Route{handler.get(), access};
    if (access == Access::Write && options_.read_only) continue;
    if (!allow_.empty()) allow_ += ", ";
    allow_ += http::method_name(m);
  }
  handlers_.push_back(std::move(handler));
}

bool Router::refuse(Request& req, const Route& route, Reply& reply) {
  const http::RequestHead& h = req.head;
  if (h.method == http::Method::Connect) {
    reply_error(reply, http::status::kNotImplemented, "This server does not open tunnels.");
    return true;
  }
  if (h.method == http::Method::Unknown) {
    reply_error(reply, http::status::kNotImplemented, "This method is not known to the server.");
    return true;
  }

  if (h.expect_other) {
    reply_error(reply, http::status::kExpectationFailed, "Only 100-continue can be expected.");
    return true;
  }
  // A CORS preflight (Fetch standard) carries no credentials: answered before they are asked.
  if (h.method == http::Method::Options && h.find("access-control-request-method") != nullptr &&
      !allowed_origin(h, options_.cors).empty()) {
    reply_preflight(req, reply);
    return true;
  }
  const bool write = route.handler != nullptr && route.access == Access::Write;
  const bool checked = write || options_.auth_all;
  if (checked && unauthenticated(req, reply)) return true;
  if (h.form == http::TargetForm::Asterisk && h.method == http::Method::Options) {
    req.path.path.assign(1, '*');  // the server as a whole (RFC 9110 9.3.7)
    return false;
  }
  if (std::string_view why = http::normalize_target(h.target, h.form, req.path); !why.empty()) {
    HTTPFS_DEBUG("{}: bad target: {}", req.peer.host(), why);
    reply_error(reply, http::status::kBadRequest, why);
    return true;
  }
  if (io::is_state_path(req.path.path)) {  // the server's own state: never served
    reply_error(reply, http::status::kNotFound, "There is nothing at this path.");
    return true;
  }
  // Every request to an upload resource takes part in writing a file.
  const bool upload = upload_resource_ && is_upload_path(req.path.path);
  if (!checked && upload && unauthenticated(req, reply)) return true;
  if ((write || upload) && from_another_origin(h, !options_.tls_cert.empty()) &&
      allowed_origin(h, options_.cors).empty()) {
    HTTPFS_DEBUG("{}: a write from another origin", req.peer.host());
    reply_error(reply, http::status::kForbidden, "Writes from other sites are refused.");
    return true;
  }
  return false;
}

bool Router::implemented_anywhere(http::Method m) const noexcept {
  // PATCH appends to resumable uploads only; every other method has a route or none.
  if (m == http::Method::Patch && upload_resource_) return true;
  return routes_[static_cast<std::size_t>(m)].handler != nullptr;
}

void Router::reply_preflight(const Request& req, Reply& reply) {
  const http::Header* asked = req.head.find("access-control-request-headers");
  reply.begin(http::status::kNoContent);
  // Access-Control-Allow-Origin and -Credentials come with every answer to an allowed
  // origin (the protocol driver adds them).
  reply.header("Access-Control-Allow-Methods", allow_);
  if (asked != nullptr) reply.header("Access-Control-Allow-Headers", asked->value);
  reply.header("Access-Control-Max-Age", "600");
  reply.end_head(0);
  reply.finish();
}

bool Router::unauthenticated(Request& req, Reply& reply) {
  if (!auth_.enabled()) return false;
  const http::Header* a = req.head.find("authorization");
  if (auth_.check(a ? a->value : std::string_view{}, req.user)) return false;
  HTTPFS_DEBUG("{}: credentials missing or wrong", req.peer.host());
  reply_error(reply, http::status::kUnauthorized, "Credentials are required.", "WWW-Authenticate",
              Authenticator::kChallenge);
  return true;
}

void Router::set_upload_resource(std::unique_ptr<Handler> handler) {
  upload_resource_ = std::move(handler);
}

void Router::set_ui_assets(std::unique_ptr<Handler> handler) {
  ui_assets_ = std::move(handler);
}

Handling Router::dispatch(Request& req, Reply& reply) {
  const Route& route = routes_[static_cast<std::size_t>(req.head.method)];
  if (refuse(req, route, reply)) return {};
  if (upload_resource_ && is_upload_path(req.path.path))
    return upload_resource_->handle(req, reply);
  if (ui_assets_ && is_ui_path(req.path.path)) return ui_assets_->handle(req, reply);
  if (route.handler == nullptr) {
    // RFC 9110 9.1 and 15.6.2: 501 for a method implemented for no resource at all (TRACE,
    // SEARCH, QUERY), 405 with Allow for one implemented for others.
    if (!implemented_anywhere(req.head.method))
      reply_error(reply, http::status::kNotImplemented, "This method is not implemented here.");
    else
      reply_error(reply, http::status::kMethodNotAllowed, "This method is not served here.",
                  "Allow", allow_);
    return {};
  }
  return route.handler->handle(req, reply);
}

}  // namespace httpfs::server
