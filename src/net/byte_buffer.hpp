// A contiguous byte buffer with a consumed front and a free tail: the read buffer of both
// protocol drivers and the ciphertext buffers of a TLS session.
//
//   data_ ──[ consumed | held bytes (view()) | tail room ]── cap_
//                      begin_               end_
//
// Bytes are written at tail() and made visible with commit(); consume() drops them from the
// front. Offsets, not pointers, mark the held bytes: a parser that keeps offsets from the
// start of view() survives compaction (make_room) and growth.
//
// Lifetime: views and tail pointers are valid until the next call that changes the buffer
// (make_room, reserve, grow_to, append, release).
#pragma once

#include <cstddef>
#include <memory>
#include <string_view>

namespace httpfs::net {

class ByteBuffer {
 public:
  std::string_view view() const noexcept { return {data_.get() + begin_, end_ - begin_}; }
  const char* data() const noexcept { return data_.get() + begin_; }
  std::size_t size() const noexcept { return end_ - begin_; }
  bool empty() const noexcept { return end_ == begin_; }
  std::size_t capacity() const noexcept { return cap_; }
  // True when no more bytes fit without compaction or growth.
  bool full() const noexcept { return end_ == cap_; }

  char* tail() noexcept { return data_.get() + end_; }
  std::size_t tail_room() const noexcept { return cap_ - end_; }
  // `n` bytes were written at tail().
  void commit(std::size_t n) noexcept { end_ += n; }
  // Drops `n` held bytes from the front; an emptied buffer starts over at offset 0.
  void consume(std::size_t n) noexcept {
    begin_ += n;
    if (begin_ == end_) begin_ = end_ = 0;
  }

  // Room at the tail for reading: allocates `initial` bytes on first use, else compacts, else
  // doubles up to `max`. False when the buffer holds `max` bytes already.
  bool make_room(std::size_t initial, std::size_t max);
  // At least `n` bytes of tail room, compacting or doubling from 4 KiB as needed (unbounded:
  // the caller bounds what it puts in).
  void reserve(std::size_t n);
  // Capacity of at least `n` bytes, keeping the held bytes (moved to the front).
  void grow_to(std::size_t n);
  void append(std::string_view bytes);
  // Capacity of max(size(), n) when it is larger: frees what a burst left behind, keeping
  // the held bytes (moved to the front).
  void shrink_to(std::size_t n);
  // Empties the buffer and frees its memory.
  void release() noexcept;
  // Empties the buffer; frees the memory only when it is larger than `keep`.
  void clear(std::size_t keep) noexcept;

 private:
  void move_to(std::size_t cap);  // new storage of `cap` bytes, held bytes at the front

  std::unique_ptr<char[]> data_;
  std::size_t cap_ = 0, begin_ = 0, end_ = 0;
};

}  // namespace httpfs::net
