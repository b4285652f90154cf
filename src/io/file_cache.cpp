#include "io/file_cache.hpp"

#include <sys/inotify.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "http/date.hpp"
#include "io/file_etag.hpp"

namespace httpfs::io {

namespace {

// Beyond this many watched directories the cache starts over rather than grow watches.
constexpr std::size_t kMaxWatches = 4096;
constexpr std::uint64_t kRevalidateMs = 1000;
constexpr std::uint32_t kWatchMask = IN_MODIFY | IN_ATTRIB | IN_CLOSE_WRITE | IN_MOVED_FROM |
                                     IN_MOVED_TO | IN_CREATE | IN_DELETE | IN_DELETE_SELF |
                                     IN_MOVE_SELF | IN_ONLYDIR;

bool same_file(const struct stat& a, const struct stat& b) {
  return a.st_ino == b.st_ino && a.st_dev == b.st_dev && a.st_size == b.st_size &&
         a.st_mtim.tv_sec == b.st_mtim.tv_sec && a.st_mtim.tv_nsec == b.st_mtim.tv_nsec &&
         a.st_ctim.tv_sec == b.st_ctim.tv_sec && a.st_ctim.tv_nsec == b.st_ctim.tv_nsec;
}

// "/a/b/c.txt" -> "/a/b"; "/c.txt" -> "".
std::string_view parent_of(std::string_view path) {
  std::size_t slash = path.rfind('/');
  return slash == std::string_view::npos ? std::string_view{} : path.substr(0, slash);
}

}  // namespace

FileCache::FileCache(std::uint64_t capacity_bytes, std::uint64_t max_file_bytes,
                     Validation validation)
    : capacity_(capacity_bytes),
      max_file_(std::min(max_file_bytes, capacity_bytes)),
      validation_(validation) {}

FileCache::~FileCache() {
  stop();
}

std::string FileCache::start(const Docroot& root) {
  root_ = &root;
  if (validation_ == Validation::EveryUse) return {};
  notify_fd_ = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  if (notify_fd_ < 0) return std::string("inotify: ") + std::strerror(errno);
  return {};
}

void FileCache::stop() {
  clear();
  if (notify_fd_ >= 0) ::close(notify_fd_);
  notify_fd_ = -1;
}

void FileCache::clear() {
  lru_.clear();
  map_.clear();
  bytes_ = 0;
  for (const auto& [wd, dir] : watch_dirs_) inotify_rm_watch(notify_fd_, wd);
  watch_dirs_.clear();
  watched_.clear();
}

void FileCache::drop(std::string_view key) {
  auto it = map_.find(key);
  if (it == map_.end()) return;
  bytes_ -= (*it->second)->content.size();
  lru_.erase(it->second);
  map_.erase(it);
}

void FileCache::drop_file(std::string_view file) {
  drop(file);
  // A directory's index.html is also cached under the directory's own path.
  constexpr std::string_view kIndex = "/index.html";
  if (file.size() >= kIndex.size() && file.substr(file.size() - kIndex.size()) == kIndex)
    drop(file.substr(0, file.size() - kIndex.size() + 1));
}

void FileCache::on_notify() {
  if (notify_fd_ < 0) return;
  alignas(inotify_event) char buf[16 * 1024];
  for (;;) {
    ssize_t n = ::read(notify_fd_, buf, sizeof buf);
    if (n <= 0) return;  // EAGAIN: all read
    for (char* p = buf; p < buf + n;) {
      auto* ev = reinterpret_cast<inotify_event*>(p);
      p += sizeof(inotify_event) + ev->len;
      if (ev->mask & IN_Q_OVERFLOW) {
        clear();
        return;
      }
      auto dir = watch_dirs_.find(ev->wd);
      if (dir == watch_dirs_.end()) continue;
      if (ev->mask & (IN_ISDIR | IN_DELETE_SELF | IN_MOVE_SELF | IN_IGNORED)) {
        // The shape of the tree changed: paths may now lead to other files.
        clear();
        return;
      }
      if (ev->len > 0) drop_file(dir->second + "/" + ev->name);
    }
  }
}

std::shared_ptr<const FileCache::Entry> FileCache::lookup(std::string_view key, std::uint64_t now) {
  // Changes made before this request was sent are queued by now; apply them first. Once
  // per lookup, not per loop iteration: a request read after this iteration's poll (an
  // accept loop, a socket read to its end) may follow a change made after an earlier drain.
  if (!map_.empty()) on_notify();  // one read(2), usually EAGAIN
  auto it = map_.find(key);
  if (it == map_.end()) return nullptr;
  std::shared_ptr<Entry> e = *it->second;
  if (validation_ == Validation::EveryUse || now - e->validated_at > kRevalidateMs) {
    // The path must still name the same, unchanged file: checked at most once a second
    // where inotify reports local changes, on every use where it cannot.
    struct stat st {};
    if (::fstatat(root_->fd(), e->file.c_str() + 1, &st, AT_SYMLINK_NOFOLLOW) != 0 ||
        !same_file(st, e->st)) {
      drop(key);
      return nullptr;
    }
    e->validated_at = now;
  }
  lru_.splice(lru_.begin(), lru_, it->second);
  return e;
}

bool FileCache::watch_ancestors(const Docroot& root, std::string_view file) {
  for (std::string_view dir = parent_of(file);; dir = parent_of(dir)) {
    if (watched_.find(dir) == watched_.end()) {
      if (watched_.size() >= kMaxWatches) clear();
      std::string abs = root.path() + std::string(dir);
      int wd = inotify_add_watch(notify_fd_, abs.c_str(), kWatchMask);
      if (wd < 0) return false;
      watch_dirs_[wd] = std::string(dir);
      watched_.emplace(std::string(dir), wd);
    }
    if (dir.empty()) return true;
  }
}

std::shared_ptr<const FileCache::Entry> FileCache::insert(std::string_view key,
                                                          std::string_view file, int fd,
                                                          const struct stat& st,
                                                          std::uint64_t now) {
  const Docroot& root = *root_;
  const bool watching = validation_ == Validation::Notify;
  if ((watching && notify_fd_ < 0) || !S_ISREG(st.st_mode) ||
      static_cast<std::uint64_t>(st.st_size) > max_file_ || st.st_nlink != 1)
    return nullptr;
  // The last component must not be a symlink: events about its target arrive elsewhere.
  struct stat lst {};
  std::string rel(file.substr(file.front() == '/' ? 1 : 0));
  if (::fstatat(root.fd(), rel.c_str(), &lst, AT_SYMLINK_NOFOLLOW) != 0 || S_ISLNK(lst.st_mode) ||
      lst.st_ino != st.st_ino)
    return nullptr;
  if (watching && !watch_ancestors(root, file)) return nullptr;
  auto e = std::make_shared<Entry>();
  e->key = std::string(key);
  e->file = std::string(file);
  e->content.resize(static_cast<std::size_t>(st.st_size));
  std::size_t done = 0;
  while (done < e->content.size()) {
    ssize_t n =
        ::pread(fd, e->content.data() + done, e->content.size() - done, static_cast<off_t>(done));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return nullptr;
    done += static_cast<std::size_t>(n);
  }
  struct stat after {};
  if (::fstat(fd, &after) != 0 || !same_file(st, after)) return nullptr;
  e->st = st;
  e->etag = file_etag(st);
  e->last_modified = http::format_http_date(st.st_mtim.tv_sec);
  e->validated_at = now;
  drop(key);
  while (bytes_ + e->content.size() > capacity_ && !lru_.empty()) drop(lru_.back()->key);
  lru_.push_front(e);
  map_[e->key] = lru_.begin();
  bytes_ += e->content.size();
  return e;
}

}  // namespace httpfs::io
