// httpc's small local-file chores, outside its streaming output (client/file_output.hpp):
// reading a small file whole (a netrc file, -d @FILE, -w @FILE, -b FILE), replacing one
// whole (-c, --etag-save), and making the directories of an output (--create-dirs).
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <string>
#include <string_view>

namespace httpfs::client {

// Reads all of `fd`, at most `max` bytes, into `out`: 0, or an errno value (EFBIG when
// there is more).
int read_all(int fd, std::size_t max, std::string& out);
int read_small_file(const std::string& path, std::size_t max, std::string& out);
// Writes `text` whole under a temporary name beside `path`, then renames it over `path`:
// never a half-written file under the name. 0 or an errno value.
int replace_file(const std::string& path, std::string_view text, mode_t mode);
// mkdir -p, each new directory with mode 0750 (curl's): 0 or an errno value.
int make_dirs(const std::string& dir);

}  // namespace httpfs::client
