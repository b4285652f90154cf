// The entity-tag of a file, from its stat.
#pragma once

#include <sys/stat.h>

#include <string>

namespace httpfs::io {

// A strong entity-tag from inode, size and modification time in nanoseconds: a file
// replaced with one of the same size in the same second still gets a new tag.
std::string file_etag(const struct stat& st);
// The same, appended to `out` (listings write one per entry).
void append_file_etag(std::string& out, const struct stat& st);

}  // namespace httpfs::io
