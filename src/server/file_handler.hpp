// GET and HEAD: files (with validators, conditionals and ranges), directories (redirect to
// the slash form, index.html, listings).
#pragma once

#include <sys/stat.h>

#include <string>
#include <string_view>

#include "http/request_parser.hpp"
#include "http/target.hpp"
#include "io/docroot.hpp"
#include "server/options.hpp"
#include "server/reply.hpp"

namespace httpfs::io {
class FileCache;
}

namespace httpfs::server {

struct FileContext {
  const io::Docroot& root;
  const ServerOptions& options;
  io::FileCache* cache = nullptr;  // small hot files; may be null
  std::uint64_t now = 0;           // loop time, ms
};

// True when a segment of the (normalised) path starts with '.', except ".well-known"
// (RFC 8615), which is served like any directory.
bool is_hidden_path(std::string_view path) noexcept;

void serve_get(const FileContext& ctx, const http::RequestHead& request,
               const http::RequestPath& path, Reply& reply);

}  // namespace httpfs::server
