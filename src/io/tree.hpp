// Whole files and trees, for WebDAV's DELETE, COPY and MOVE: blocking, meant for a worker
// thread. Everything is relative to directory descriptors (no path is resolved twice), and no
// symlink is followed: a link inside a tree is removed or copied as a link (what it points at
// is judged when a request uses it, as everywhere), special files are not copied (reported
// as failures, EPERM).
//
// A copy is never half-visible: a file is written to an unnamed temporary file (or a hidden
// one) in the destination directory and given its name with one rename, as uploads are
// (io/file_sink.hpp); its dead properties (extended attributes) come along.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <string>
#include <vector>

namespace httpfs::io {

// What could not be done to one member of a tree: its path relative to the tree's root
// ("" for the root itself) and the errno.
struct TreeFailure {
  std::string path;
  int error = 0;
};

// Removes `name` in `dir_fd` and, for a directory, everything in it (depth first). Failures
// are collected (at most `max_failures`); a directory whose members could not all be removed
// stays. Returns true when everything went.
bool remove_tree(int dir_fd, const std::string& name, std::vector<TreeFailure>& failures,
                 std::size_t max_failures = 100);

// Copies the regular file `from_name` in `from_dir` to `to_name` in `to_dir`, replacing a
// file there only when `replace` (else EEXIST), with the mode and dead properties. When
// `durable`, the data and the directory entry are fsync'ed. 0 or -errno.
int copy_file(int from_dir, const std::string& from_name, int to_dir, const std::string& to_name,
              bool replace, bool durable);

// Copies the directory `from_name` to `to_name` (which must not exist): with `members`, its
// whole tree, else only the directory itself (and its properties). Failures of members are
// collected; returns true when everything was copied.
bool copy_tree(int from_dir, const std::string& from_name, int to_dir, const std::string& to_name,
               bool members, bool durable, std::vector<TreeFailure>& failures,
               std::size_t max_failures = 100);

}  // namespace httpfs::io
