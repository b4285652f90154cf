#include "io/crc_cache.hpp"

namespace httpfs::io {

CrcCache::Key CrcCache::key_of(const struct stat& st) noexcept {
  auto ns = [](const timespec& t) {
    return static_cast<std::int64_t>(t.tv_sec) * 1000000000 + t.tv_nsec;
  };
  return Key{static_cast<std::uint64_t>(st.st_dev), static_cast<std::uint64_t>(st.st_ino),
             static_cast<std::uint64_t>(st.st_size), ns(st.st_mtim), ns(st.st_ctim)};
}

std::size_t CrcCache::Hash::operator()(const Key& k) const noexcept {
  std::uint64_t h = 1469598103934665603ull;  // FNV-1a over the fields
  for (std::uint64_t v : {k.dev, k.ino, k.size, static_cast<std::uint64_t>(k.mtime_ns),
                          static_cast<std::uint64_t>(k.ctime_ns)}) {
    h ^= v;
    h *= 1099511628211ull;
  }
  return static_cast<std::size_t>(h);
}

std::optional<std::uint32_t> CrcCache::find(const struct stat& st) const {
  std::lock_guard lock(mutex_);
  auto it = map_.find(key_of(st));
  if (it == map_.end()) return std::nullopt;
  return it->second;
}

void CrcCache::store(const struct stat& st, std::uint32_t crc) {
  if (max_ == 0) return;
  std::lock_guard lock(mutex_);
  if (map_.size() >= max_ && map_.find(key_of(st)) == map_.end()) map_.erase(map_.begin());
  map_[key_of(st)] = crc;
}

std::size_t CrcCache::size() const {
  std::lock_guard lock(mutex_);
  return map_.size();
}

CrcCache& CrcCache::shared() {
  static CrcCache cache(1u << 18);
  return cache;
}

}  // namespace httpfs::io
