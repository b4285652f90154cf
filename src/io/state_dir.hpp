// The state directory: what the server must remember across restarts and share with other
// httpfs processes serving the same tree (WebDAV locks; later, resumable uploads) lives in
// one hidden directory under the served root, never reachable by a request path, never
// listed, whatever --show-hidden says.
#pragma once

#include <string_view>

#include "io/docroot.hpp"

namespace httpfs::io {

inline constexpr std::string_view kStateDirName = ".httpfs-state";

// True when a normalised request path is the state directory or lies inside it.
bool is_state_path(std::string_view path) noexcept;

// Opens the state directory's subdirectory `sub` (e.g. "locks") under the root, without
// following symlinks; with `create`, making what is missing (mode 0700). A descriptor
// (O_DIRECTORY, close on exec) or -errno (-ENOENT: not there yet).
int open_state_subdir(const Docroot& root, std::string_view sub, bool create = true);

}  // namespace httpfs::io
