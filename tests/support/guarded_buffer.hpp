// A buffer whose last byte sits right before an unreadable page: a parser that reads even one
// byte past the input it was given crashes instead of silently reading stale memory.
#pragma once

#include <sys/mman.h>
#include <unistd.h>

#include <cstddef>
#include <cstring>
#include <stdexcept>
#include <string_view>

namespace httpfs::test {

class GuardedBuffer {
 public:
  explicit GuardedBuffer(std::size_t capacity) {
    const auto page = static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
    data_pages_ = (capacity + page - 1) / page * page;
    if (data_pages_ == 0) data_pages_ = page;
    size_ = data_pages_ + page;
    void* p = mmap(nullptr, size_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) throw std::runtime_error("mmap failed");
    base_ = static_cast<char*>(p);
    if (mprotect(base_ + data_pages_, page, PROT_NONE) != 0) throw std::runtime_error("mprotect");
  }
  ~GuardedBuffer() { munmap(base_, size_); }
  GuardedBuffer(const GuardedBuffer&) = delete;
  GuardedBuffer& operator=(const GuardedBuffer&) = delete;

  // Copies `bytes` so that they end exactly at the guard page; returns the view of the copy.
  // The view stays valid until the next place().
  std::string_view place(std::string_view bytes) {
    if (bytes.size() > data_pages_) throw std::length_error("GuardedBuffer too small");
    char* dst = base_ + data_pages_ - bytes.size();
    if (!bytes.empty()) std::memmove(dst, bytes.data(), bytes.size());
    return {dst, bytes.size()};
  }
  std::size_t capacity() const { return data_pages_; }

 private:
  char* base_ = nullptr;
  std::size_t size_ = 0;
  std::size_t data_pages_ = 0;
};

}  // namespace httpfs::test
