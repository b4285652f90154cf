// node and the npm packages scripts/lib.sh installs, for the tests whose judge is JavaScript
// (tus-js-client, playwright-core driving Chromium).
#pragma once

#include <filesystem>
#include <optional>
#include <string>

namespace httpfs::test {

// The directory of a test's source file, from its __FILE__: meson compiles it by a path
// relative to the build directory, which is $HTTPFS_BIN_DIR (else ./build).
std::filesystem::path source_dir(const char* file);

// Where scripts/lib.sh installs the npm packages: $HTTPFS_NPM_DIR, else
// tests/integration/tus (`integration_dir`).
std::filesystem::path npm_dir(const std::filesystem::path& integration_dir);

// node on PATH, or nullopt.
std::optional<std::string> find_node();

}  // namespace httpfs::test
