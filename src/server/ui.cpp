#include "server/ui.hpp"

#include <array>

#include "http/chars.hpp"
#include "http/conditional.hpp"
#include "http/content_encoder.hpp"
#include "http/fields.hpp"
#include "http/negotiate.hpp"
#include "http/status.hpp"
#include "http/target.hpp"
#include "io/dir_listing.hpp"
#include "server/compression.hpp"
#include "server/ui_assets.hpp"

namespace httpfs::server {

namespace {

void security_headers(Reply& reply) {
  reply.header("Content-Security-Policy", kUiContentSecurityPolicy);
  reply.header("X-Content-Type-Options", "nosniff");
  reply.header("Referrer-Policy", "same-origin");
  reply.header("X-Frame-Options", "DENY");
}

// True when Accept names text/html itself (not through */* or text/*) with q > 0 and the
// listing's negotiation picks HTML: what browsers send for a navigation.
bool accept_names_html(std::string_view accept) {
  bool named = false;
  http::for_each_list_element(accept, [&](std::string_view element) {
    const auto [media, q] = http::weighted_element(element);
    if (q > 0 && http::chars::iequals(media, "text/html")) named = true;
    return !named;
  });
  if (!named) return false;
  static constexpr std::array<std::string_view, 3> kTypes = {"text/html", "application/json",
                                                             "text/plain"};
  return http::choose_media_type(accept, kTypes) == 0;
}

}  // namespace

bool is_ui_path(std::string_view path) noexcept {
  return path.starts_with(kUiPrefix);
}

bool wants_ui_page(const ServerOptions& o, const http::RequestHead& req, std::string_view query) {
  if (!o.ui || !o.listing) return false;
  if (req.method != http::Method::Get && req.method != http::Method::Head) return false;
  if (http::query_param(query, "format")) return false;
  const http::Header* accept = req.find("accept");
  return accept != nullptr && accept_names_html(accept->value);
}

void reply_ui_page(const ServerOptions& o, std::string_view dir, Reply& reply) {
  const std::string base = std::string(kUiPrefix) + std::string(ui_version()) + "/";
  std::string page =
      "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>";
  io::append_html_escaped(page, dir);
  page += " \xC2\xB7 httpfs</title>\n<link rel=\"stylesheet\" href=\"" + base +
          "app.css\">\n<script type=\"module\" src=\"" + base +
          "app.js\"></script>\n</head><body data-read-only=\"" + (o.read_only ? "true" : "false") +
          "\" data-auth=\"" +
          (o.auth.empty() && o.auth_file.empty() ? "none"
           : o.auth_all                          ? "all"
                                                 : "writes") +
          "\" data-version=\"" HTTPFS_VERSION
          "\">\n"
          "<noscript><p>This page needs JavaScript. <a href=\"?format=html\">The plain "
          "listing</a> works without it.</p></noscript>\n<div id=\"app\"></div></body></html>\n";
  reply.begin(http::status::kOk);
  reply.header("Content-Type", "text/html; charset=utf-8");
  reply.header("Cache-Control", "no-cache");
  reply.header("Vary", "Accept");
  security_headers(reply);
  reply.end_head(page.size());
  reply.body(page);
  reply.finish();
}

UiAssetHandler::UiAssetHandler() {
  for (const UiAsset& a : ui_assets())
    coded_.push_back({http::encode_all(http::Coding::Zstd, 9, a.bytes),
                      http::encode_all(http::Coding::Gzip, 9, a.bytes)});
}

Handling UiAssetHandler::handle(const Request& request, Reply& reply) {
  const http::RequestHead& req = request.head;
  if (req.method != http::Method::Get && req.method != http::Method::Head) {
    reply_error(reply, http::status::kMethodNotAllowed, "The page's files are only read.", "Allow",
                "GET, HEAD");
    return {};
  }
  // /.httpfs-ui/<version>/<name>: another version is gone (a page from an older httpfs
  // reloads and gets the new one).
  std::string_view rest = std::string_view(request.path.path).substr(kUiPrefix.size());
  const std::size_t slash = rest.find('/');
  const std::string_view version = rest.substr(0, slash);
  const std::string_view name =
      slash == std::string_view::npos ? std::string_view{} : rest.substr(slash + 1);
  const auto assets = ui_assets();
  std::size_t i = 0;
  while (i < assets.size() && assets[i].name != name) ++i;
  if (version != ui_version() || i == assets.size()) {
    reply_error(reply, http::status::kNotFound, "There is nothing at this path.");
    return {};
  }
  const UiAsset& a = assets[i];
  const http::Coding coding =
      negotiate_coding(req, http::CodingSet{http::Coding::Zstd, http::Coding::Gzip});
  std::string_view body = a.bytes;
  if (coding == http::Coding::Zstd) body = coded_[i].zstd;
  if (coding == http::Coding::Gzip) body = coded_[i].gzip;
  const std::string etag = "\"" + std::string(ui_version()) + "-" + std::to_string(i) + "-" +
                           std::string(http::coding_name(coding)) + "\"";
  const http::Header* inm = req.find("if-none-match");
  const bool not_modified = inm != nullptr && http::etag_list_matches(inm->value, etag, false);
  reply.begin(not_modified ? http::status::kNotModified : http::status::kOk);
  reply.header("ETag", etag);
  reply.header("Cache-Control", "public, max-age=31536000, immutable");
  reply.header("Vary", "Accept-Encoding");
  security_headers(reply);
  if (not_modified) {
    reply.end_head(0);
    reply.finish();
    return {};
  }
  reply.header("Content-Type", a.type);
  if (coding != http::Coding::Identity) reply.header("Content-Encoding", http::coding_name(coding));
  reply.end_head(body.size());
  reply.body(body);
  reply.finish();
  return {};
}

}  // namespace httpfs::server
