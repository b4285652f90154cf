#include "net/byte_buffer.hpp"

#include <algorithm>
#include <cstring>

namespace httpfs::net {

namespace {

constexpr std::size_t kMinimumGrowth = 4096;

}  // namespace

void ByteBuffer::move_to(std::size_t cap) {
  auto fresh = std::make_unique_for_overwrite<char[]>(cap);
  if (end_ > begin_) std::memcpy(fresh.get(), data_.get() + begin_, end_ - begin_);
  end_ -= begin_;
  begin_ = 0;
  data_ = std::move(fresh);
  cap_ = cap;
}

bool ByteBuffer::make_room(std::size_t initial, std::size_t max) {
  if (!data_) {
    cap_ = std::min(initial, max);
    data_ = std::make_unique_for_overwrite<char[]>(cap_);
    begin_ = end_ = 0;
  }
  if (end_ < cap_) return true;
  if (begin_ > 0) {
    std::memmove(data_.get(), data_.get() + begin_, end_ - begin_);
    end_ -= begin_;
    begin_ = 0;
    return true;
  }
  if (cap_ >= max) return false;
  move_to(std::min(cap_ * 2, max));
  return true;
}

void ByteBuffer::reserve(std::size_t n) {
  if (cap_ - end_ >= n) return;
  if (begin_ > 0 && cap_ - (end_ - begin_) >= n) {
    std::memmove(data_.get(), data_.get() + begin_, end_ - begin_);
    end_ -= begin_;
    begin_ = 0;
    return;
  }
  std::size_t bigger = std::max(cap_ * 2, kMinimumGrowth);
  while (bigger - size() < n) bigger *= 2;
  move_to(bigger);
}

void ByteBuffer::grow_to(std::size_t n) {
  if (cap_ < n) move_to(n);
}

void ByteBuffer::append(std::string_view bytes) {
  reserve(bytes.size());
  if (!bytes.empty()) std::memcpy(data_.get() + end_, bytes.data(), bytes.size());
  end_ += bytes.size();
}

void ByteBuffer::shrink_to(std::size_t n) {
  const std::size_t keep = std::max(size(), n);
  if (cap_ <= keep) return;
  if (empty() && n == 0) return release();
  move_to(keep);
}

void ByteBuffer::release() noexcept {
  data_.reset();
  cap_ = begin_ = end_ = 0;
}

void ByteBuffer::clear(std::size_t keep) noexcept {
  if (cap_ > keep) {
    release();
    return;
  }
  begin_ = end_ = 0;
}

}  // namespace httpfs::net
