#include "support/node.hpp"

#include <unistd.h>

#include <cstdlib>
#include <sstream>

namespace httpfs::test {

namespace fs = std::filesystem;

fs::path source_dir(const char* file) {
  fs::path source = file;
  if (source.is_relative()) {
    const char* bin = std::getenv("HTTPFS_BIN_DIR");
    source = fs::path(bin != nullptr && *bin != '\0' ? bin : "build") / source;
  }
  return fs::absolute(source).lexically_normal().parent_path();
}

fs::path npm_dir(const fs::path& integration_dir) {
  if (const char* d = std::getenv("HTTPFS_NPM_DIR"); d != nullptr && *d != '\0') return d;
  return integration_dir / "tus";
}

std::optional<std::string> find_node() {
  const char* path = std::getenv("PATH");
  std::istringstream dirs(path != nullptr ? path : "/usr/local/bin:/usr/bin:/bin");
  for (std::string dir; std::getline(dirs, dir, ':');)
    if (!dir.empty() && ::access((dir + "/node").c_str(), X_OK) == 0) return dir + "/node";
  return std::nullopt;
}

}  // namespace httpfs::test
