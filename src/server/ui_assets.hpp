// The browser page's files (ui/), compiled into the binary by scripts/embed_ui.py: served
// under /.httpfs-ui/<version>/<name> (server/ui.hpp). The bytes live as long as the program.
#pragma once

#include <span>
#include <string_view>

namespace httpfs::server {

struct UiAsset {
  std::string_view name;  // "app.js"
  std::string_view type;  // Content-Type
  std::string_view bytes;
};

std::span<const UiAsset> ui_assets() noexcept;
// 12 hex digits that change whenever any asset does.
std::string_view ui_version() noexcept;

}  // namespace httpfs::server
