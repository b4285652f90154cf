// The browser page: a small HTML shell for a directory, which loads the page's script and
// style (ui/, compiled in: server/ui_assets.hpp) from /.httpfs-ui/<version>/. The script
// fetches the JSON listing and does everything else through the server's public protocols
// (WebDAV, resumable uploads, archives), so every action it offers is also a curl command.
//
// Browsers get the page for a directory when they ask for HTML by name (Accept: text/html)
// and give no ?format=; everything else (curl's */*, ?format=html) gets the plain listing,
// which is also the page's fallback without JavaScript. --ui off serves the plain listing
// to everyone.
#pragma once

#include <array>
#include <string>
#include <string_view>
#include <vector>

#include "http/content_coding.hpp"
#include "http/request_parser.hpp"
#include "server/handler.hpp"
#include "server/options.hpp"

namespace httpfs::server {

inline constexpr std::string_view kUiPrefix = "/.httpfs-ui/";

// The fields every page and asset carries (RFC 9110 has none of them; they are the
// browsers'): a Content-Security-Policy that allows only this origin's script and style,
// no inline code, no eval, no framing; nosniff; no Referer to other origins.
inline constexpr std::string_view kUiContentSecurityPolicy =
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
    "media-src 'self' blob:; connect-src 'self'; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'";

// What a user's file is served with unless --trust-content: an uploaded HTML page runs in
// an opaque origin (no allow-same-origin), so its script cannot act with the page's
// credentials on this server (its requests come with Origin: null, which writes refuse).
inline constexpr std::string_view kUserContentPolicy =
    "sandbox allow-scripts allow-forms allow-popups allow-modals allow-downloads";

bool is_ui_path(std::string_view path) noexcept;

// True when a GET or HEAD of a directory should get the page (see above). `query` is the
// target's query.
bool wants_ui_page(const ServerOptions& o, const http::RequestHead& req, std::string_view query);

// The page for directory `dir` (its request path, ending in '/').
void reply_ui_page(const ServerOptions& o, std::string_view dir, Reply& reply);

// GET and HEAD of /.httpfs-ui/<version>/<name>: the assets, cached for a year (their URL
// changes with their bytes), in zstd or gzip when accepted (coded once, at start).
class UiAssetHandler final : public Handler {
 public:
  UiAssetHandler();
  Handling handle(const Request& request, Reply& reply) override;

 private:
  struct Coded {
    std::string zstd, gzip;
  };
  std::vector<Coded> coded_;  // by index in ui_assets()
};

}  // namespace httpfs::server
