#include "io/archive_walk.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <string>
#include <utility>

#include "io/dir_reader.hpp"

namespace httpfs::io {

namespace {

// How deep the walk goes: deeper directories are archived as empty ones. Path lengths stop
// a real tree long before.
constexpr std::size_t kMaxDepth = 256;

struct Member {
  std::string name;
  struct stat st {};
};

struct DirId {
  dev_t dev;
  ino_t ino;
  bool operator==(const DirId&) const = default;
};

class Walk {
 public:
  Walk(const Docroot& root, bool show_hidden, std::size_t max_entries,
       std::vector<http::ArchiveEntry>& out, Sha256* fingerprint)
      : root_(root),
        show_hidden_(show_hidden),
        max_entries_(max_entries),
        out_(out),
        fingerprint_(fingerprint) {}

  // `path`: the directory's request path (ends in '/'); `rel`: its name in the archive
  // ("" for the top).
  int directory(const std::string& path, const std::string& rel, DirId id) {
    std::vector<Member> members;
    // A member folder that cannot be read is archived empty; too many entries is the end.
    if (int r = read(path, members); r < 0) return rel.empty() || r == -E2BIG ? r : 0;
    std::sort(members.begin(), members.end(),
              [](const Member& a, const Member& b) { return a.name < b.name; });
    way_.push_back(id);
    for (const Member& m : members) {
      if (int r = add(path, rel, m); r < 0) return r;
    }
    way_.pop_back();
    return 0;
  }

 private:
  int read(const std::string& path, std::vector<Member>& members) {
    DirReader reader;
    if (int r = reader.open(root_, path, show_hidden_); r < 0) return r;
    Member m;
    while (reader.next(m.name, m.st)) {
      if (members.size() + out_.size() >= max_entries_) return -E2BIG;
      members.push_back(m);
    }
    return 0;
  }

  int add(const std::string& path, const std::string& rel, const Member& m) {
    if (out_.size() >= max_entries_) return -E2BIG;
    http::ArchiveEntry e;
    e.dir = S_ISDIR(m.st.st_mode);
    e.name = rel + m.name + (e.dir ? "/" : "");
    e.size = e.dir ? 0 : static_cast<std::uint64_t>(m.st.st_size);
    e.mtime = m.st.st_mtim.tv_sec;
    e.mode = m.st.st_mode & 07777;
    if (fingerprint_ != nullptr) {
      const std::uint64_t facts[] = {e.size, static_cast<std::uint64_t>(m.st.st_ino),
                                     static_cast<std::uint64_t>(m.st.st_mtim.tv_sec),
                                     static_cast<std::uint64_t>(m.st.st_mtim.tv_nsec)};
      fingerprint_->update(std::string_view(e.name.data(), e.name.size() + 1));  // and its NUL
      fingerprint_->update(std::string_view(reinterpret_cast<const char*>(facts), sizeof facts));
    }
    out_.push_back(e);
    if (!e.dir) return 0;
    const DirId id{m.st.st_dev, m.st.st_ino};
    if (way_.size() >= kMaxDepth || std::find(way_.begin(), way_.end(), id) != way_.end())
      return 0;  // archived as an empty directory
    return directory(path + m.name + "/", e.name, id);
  }

  const Docroot& root_;
  bool show_hidden_;
  std::size_t max_entries_;
  std::vector<http::ArchiveEntry>& out_;
  Sha256* fingerprint_;
  std::vector<DirId> way_;  // the directories from the top down to the one being read
};

}  // namespace

int walk_tree(const Docroot& root, std::string_view dir_path, bool show_hidden,
              std::size_t max_entries, std::vector<http::ArchiveEntry>& out, Sha256* fingerprint) {
  out.clear();
  const int fd = root.open(dir_path, O_RDONLY | O_DIRECTORY);
  if (fd < 0) return fd;
  struct stat st {};
  const int r = ::fstat(fd, &st) == 0 ? 0 : -errno;
  ::close(fd);
  if (r < 0) return r;
  Walk walk(root, show_hidden, max_entries, out, fingerprint);
  return walk.directory(std::string(dir_path), "", DirId{st.st_dev, st.st_ino});
}

}  // namespace httpfs::io
