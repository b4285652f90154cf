// GET and HEAD: files (with validators, conditionals and ranges), directories (redirect to
// the slash form, index.html, listings).
#pragma once

#include <sys/stat.h>

#include <string>
#include <string_view>

#include "io/docroot.hpp"
#include "server/docroot_handler.hpp"
#include "server/options.hpp"

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

class FileHandler final : public DocrootHandler {
 public:
  // `cache` may be null (no cache); it outlives the handler.
  FileHandler(const io::Docroot& root, const ServerOptions& options, io::FileCache* cache)
      : DocrootHandler(root, options), cache_(cache) {}
  Handling handle(const Request& request, Reply& reply) override;

 private:
  io::FileCache* cache_;
};

// True when a segment of the (normalised) path starts with '.', except ".well-known"
// (RFC 8615), which is served like any directory.
bool is_hidden_path(std::string_view path) noexcept;

}  // namespace httpfs::server
