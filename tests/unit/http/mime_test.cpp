#include "http/mime.hpp"

#include <doctest/doctest.h>

using namespace httpfs::http;

TEST_CASE("media types by extension") {
  CHECK(mime_table_sorted());
  CHECK(mime_type_for("index.html") == "text/html; charset=utf-8");
  CHECK(mime_type_for("INDEX.HTM") == "text/html; charset=utf-8");
  CHECK(mime_type_for("app.js") == "text/javascript; charset=utf-8");
  CHECK(mime_type_for("mod.mjs") == "text/javascript; charset=utf-8");
  CHECK(mime_type_for("x.wasm") == "application/wasm");
  CHECK(mime_type_for("x.svg") == "image/svg+xml");
  CHECK(mime_type_for("x.webp") == "image/webp");
  CHECK(mime_type_for("x.json") == "application/json");
  CHECK(mime_type_for("README.md") == "text/markdown; charset=utf-8");
  CHECK(mime_type_for("notes.txt") == "text/plain; charset=utf-8");
  CHECK(mime_type_for("style.css") == "text/css; charset=utf-8");
  CHECK(mime_type_for("archive.tar.gz") == "application/gzip");
  CHECK(mime_type_for("noext") == kDefaultMimeType);
  CHECK(mime_type_for("dir.d/noext") == kDefaultMimeType);
  CHECK(mime_type_for("x.") == kDefaultMimeType);
  CHECK(mime_type_for(".bashrc") == kDefaultMimeType);
  CHECK(mime_type_for("x.averyveryverylongextension") == kDefaultMimeType);
}

TEST_CASE("compressible media types") {
  for (std::string_view t :
       {"text/plain; charset=utf-8", "text/html", "TEXT/CSS", "text/javascript; charset=utf-8",
        "application/json", "application/ld+json", "application/manifest+json", "application/xml",
        "application/xhtml+xml", "application/rss+xml", "image/svg+xml", "application/wasm",
        "application/javascript", " text/csv "}) {
    CAPTURE(t);
    CHECK(is_compressible_type(t));
  }
  for (std::string_view t :
       {"image/png", "image/jpeg", "video/mp4", "audio/mpeg", "font/woff2", "application/zip",
        "application/gzip", "application/zstd", "application/octet-stream", "application/pdf",
        "application/x-tar", "image/webp", "", "text", "application/jsonx", "image/json"}) {
    CAPTURE(t);
    CHECK_FALSE(is_compressible_type(t));
  }
  // Every type the table gives a text extension is compressible.
  CHECK(is_compressible_type(mime_type_for("a.js")));
  CHECK(is_compressible_type(mime_type_for("a.svg")));
  CHECK(is_compressible_type(mime_type_for("a.wasm")));
  CHECK_FALSE(is_compressible_type(mime_type_for("a.js.gz")));
}
