// Reading a directory one entry at a time, with the rules every listing of the server keeps
// (HTML and JSON listings, WebDAV PROPFIND): dotfiles only with show_hidden, never the state
// directory, only regular files and directories, and a symlink only as what it points to
// when a request for it could be served (its target reached through the docroot).
//
// Memory stays constant whatever the size of the directory: nothing is collected.
//
// Lifetime: the reader owns its directory stream until it is destroyed.
#pragma once

#include <dirent.h>
#include <sys/stat.h>

#include <string>
#include <string_view>

#include "io/docroot.hpp"

namespace httpfs::io {

class DirReader {
 public:
  DirReader() = default;
  ~DirReader();
  DirReader(const DirReader&) = delete;
  DirReader& operator=(const DirReader&) = delete;

  // Opens `dir_path` (normalised, "/" for the root) through the docroot. 0 or -errno.
  int open(const Docroot& root, std::string_view dir_path, bool show_hidden);
  // The next entry that passes the rules: its name and what it is (the target's stat for a
  // symlink). False at the end.
  bool next(std::string& name, struct stat& st);
  // Whether the last entry next() gave is a symlink (its stat is then the target's).
  bool link() const noexcept { return link_; }
  // The directory's descriptor, for *at() calls about its entries.
  int fd() const noexcept { return dir_ != nullptr ? ::dirfd(dir_) : -1; }

 private:
  const Docroot* root_ = nullptr;
  DIR* dir_ = nullptr;
  std::string prefix_;  // dir_path ending in '/'
  bool show_hidden_ = false;
  bool at_root_ = false;  // the directory read is the root, whatever path led to it
  bool link_ = false;
};

}  // namespace httpfs::io
