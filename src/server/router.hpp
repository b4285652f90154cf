// Picks the handler for a request. First what no handler should have to think about:
//
//   CONNECT, a method nobody registered      501
//   an expectation other than 100-continue   417 (RFC 9110 10.1.1)
//   credentials missing or wrong             401, for writes (or everything, --auth-all)
//   a write a browser sends from another site 403 (server/cross_site.hpp), unless --cors
//   lists its origin
//   a CORS preflight from an origin --cors lists   204 with what it may send
//   a target that does not normalise         400
//   a path inside the state directory        404
//
// then, for a path under /.httpfs-upload/ (resumable uploads' own resources, which every
// method on them counts as a write), the upload resource's handler; under /.httpfs-ui/, the
// browser page's files; else the handler
// registered for the method, or 405 with Allow for a method this server knows but does not
// serve. "OPTIONS *" reaches the OPTIONS handler with the path "*". A new
// method is one add().
//
// Lifetime: built once by the Server; the handlers it holds outlive every request.
#pragma once

#include <array>
#include <initializer_list>
#include <memory>
#include <string>
#include <vector>

#include "http/method.hpp"
#include "server/auth.hpp"
#include "server/handler.hpp"
#include "server/options.hpp"

namespace httpfs::server {

class Router {
 public:
  enum class Access : std::uint8_t {
    Read,   // open to all unless --auth-all
    Write,  // needs credentials when any are configured; not offered when --read-only
  };

  Router(const ServerOptions& options, Authenticator& auth);
  // Registers `handler` for `methods`, in the order Allow lists them.
  void add(std::initializer_list<http::Method> methods, Access access,
           std::unique_ptr<Handler> handler);

  // The handler of every request to an upload resource (server/resumable.hpp).
  void set_upload_resource(std::unique_ptr<Handler> handler);
  // The handler of the browser page's files, under /.httpfs-ui/ (server/ui.hpp).
  void set_ui_assets(std::unique_ptr<Handler> handler);

  // Fills in request.path and request.user, then runs the handler (or answers itself).
  Handling dispatch(Request& request, Reply& reply);

  // The Allow field value: every registered method this server serves.
  const std::string& allow() const noexcept { return allow_; }

 private:
  struct Route {
    Handler* handler = nullptr;
    Access access = Access::Read;
  };
  static constexpr std::size_t kMethods = static_cast<std::size_t>(http::Method::Query) + 1;

  // The answer to what no handler sees; false when the request passes.
  bool implemented_anywhere(http::Method m) const noexcept;
  bool refuse(Request& request, const Route& route, Reply& reply);
  // 204 to a CORS preflight from an allowed origin.
  void reply_preflight(const Request& request, Reply& reply);
  // 401 unless the request carries valid credentials; false when it does (or none are set).
  bool unauthenticated(Request& request, Reply& reply);

  const ServerOptions& options_;
  Authenticator& auth_;
  std::vector<std::unique_ptr<Handler>> handlers_;
  std::unique_ptr<Handler> upload_resource_;
  std::unique_ptr<Handler> ui_assets_;
  std::array<Route, kMethods> routes_{};
  std::string allow_;
};

}  // namespace httpfs::server
