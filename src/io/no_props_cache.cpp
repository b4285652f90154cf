#include "io/no_props_cache.hpp"

#include <linux/magic.h>
#include <sys/mman.h>
#include <sys/vfs.h>

#include <atomic>
#include <bit>
#include <new>

namespace httpfs::io {

namespace {

// The finaliser of MurmurHash3: every input bit reaches every output bit.
std::uint64_t mix(std::uint64_t h) noexcept {
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdULL;
  h ^= h >> 33;
  h *= 0xc4ceb9fe1a85ec53ULL;
  h ^= h >> 33;
  return h;
}

// The bucket of a fingerprint, from its high bits (the low bit is always set): kWays slots
// side by side, half a cache line.
std::uint64_t* bucket(std::uint64_t* slots, std::uint64_t fp) noexcept {
  constexpr std::size_t kBuckets = NoPropsCache::kSlots / NoPropsCache::kWays;
  static_assert((kBuckets & (kBuckets - 1)) == 0);
  constexpr int kBits = std::countr_zero(kBuckets);
  return slots + (fp >> (64 - kBits)) * NoPropsCache::kWays;
}

std::uint64_t load(std::uint64_t& slot) noexcept {
  return std::atomic_ref<std::uint64_t>(slot).load(std::memory_order_relaxed);
}

}  // namespace

NoPropsCache::NoPropsCache()
    : slots_(static_cast<std::uint64_t*>(
          ::mmap(nullptr, kBytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0))) {
  if (slots_ == MAP_FAILED) throw std::bad_alloc();
}

NoPropsCache::~NoPropsCache() {
  ::munmap(slots_, kBytes);
}

std::uint64_t NoPropsCache::fingerprint(const struct stat& st) noexcept {
  std::uint64_t h = mix(static_cast<std::uint64_t>(st.st_dev) ^ 0x9e3779b97f4a7c15ULL);
  h = mix(h ^ static_cast<std::uint64_t>(st.st_ino));
  h = mix(h ^ static_cast<std::uint64_t>(st.st_ctim.tv_sec));
  h = mix(h ^ static_cast<std::uint64_t>(st.st_ctim.tv_nsec));
  return h | 1;
}

void NoPropsCache::prefetch(const struct stat& st) const noexcept {
  __builtin_prefetch(bucket(slots_, fingerprint(st)));
}

bool NoPropsCache::known_none(const struct stat& st) const noexcept {
  const std::uint64_t fp = fingerprint(st);
  std::uint64_t* b = bucket(slots_, fp);
  for (std::size_t i = 0; i < kWays; ++i)
    if (load(b[i]) == fp) return true;
  return false;
}

bool NoPropsCache::trusted(int dir_fd) noexcept {
  struct statfs fs {};
  if (::fstatfs(dir_fd, &fs) != 0) return false;
  switch (static_cast<unsigned long>(fs.f_type)) {
    case EXT4_SUPER_MAGIC:  // also ext2 and ext3
    case XFS_SUPER_MAGIC:
    case BTRFS_SUPER_MAGIC:
    case TMPFS_MAGIC:
    case F2FS_SUPER_MAGIC:
    case 0x2fc12fc1:  // ZFS
      return true;
    default:
      return false;  // NFS, SMB, FUSE (GlusterFS, sshfs), and anything not known to be local
  }
}

bool NoPropsCache::settled(const struct timespec& ctime, const struct timespec& now) noexcept {
  auto ns = [](const struct timespec& t) {
    return static_cast<std::int64_t>(t.tv_sec) * 1'000'000'000 + t.tv_nsec;
  };
  const std::int64_t margin = ctime.tv_nsec != 0 ? kSettleFineNs : kSettleCoarseNs;
  return ns(now) - ns(ctime) >= margin;
}

// An empty slot of the bucket if there is one, else one picked by the fingerprint's low bits
// above the always-set one (a cheap, fair replacement).
void NoPropsCache::note_none(const struct stat& st, const struct timespec& now) noexcept {
  if (!settled(st.st_ctim, now)) return;
  const std::uint64_t fp = fingerprint(st);
  std::uint64_t* b = bucket(slots_, fp);
  std::size_t victim = (fp >> 1) % kWays;
  for (std::size_t i = 0; i < kWays; ++i) {
    const std::uint64_t v = load(b[i]);
    if (v == fp) return;
    if (v == 0) {
      victim = i;
      break;
    }
  }
  std::atomic_ref<std::uint64_t>(b[victim]).store(fp, std::memory_order_relaxed);
}

}  // namespace httpfs::io
