// The tree under a directory as the entries of an archive (http/archive_layout.hpp), for
// GET /dir/?download=zip|tar: what a listing of each directory would show (io/dir_reader.hpp:
// no dotfiles without show_hidden, never the state directory, regular files and directories
// only, symlinks only when their target is served), depth first, each directory before its
// members, the members of each in byte order of their names, so that the same tree always
// gives the same archive (its validator depends on that).
//
// A symlink to a directory is entered like the directory, unless that directory is already
// on the way down (a link to an ancestor would never end). Memory: one entry per member, up
// to `max_entries`; the names of one directory at a time while it is read.
#pragma once

#include <cstddef>
#include <string_view>
#include <vector>

#include "http/archive_layout.hpp"
#include "io/docroot.hpp"
#include "io/sha256.hpp"

namespace httpfs::io {

// Fills `out` with the members of the directory at `dir_path` (normalised, ending in '/'),
// named relative to it (directories end in '/'). 0, -E2BIG (more than `max_entries`), or
// -errno for the directory itself (a member that cannot be read is left out). With
// `fingerprint`, each entry's name, size, inode and modification time to the nanosecond go
// into it: a validator of what was walked.
int walk_tree(const Docroot& root, std::string_view dir_path, bool show_hidden,
              std::size_t max_entries, std::vector<http::ArchiveEntry>& out,
              Sha256* fingerprint = nullptr);

}  // namespace httpfs::io
