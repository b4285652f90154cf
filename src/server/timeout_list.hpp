// Per-phase timeouts without a timer per connection.
//
// Each phase (keep-alive idle, reading a head, reading a body, sending, lingering) has one
// duration, so appending a connection at the tail with deadline now + duration keeps every
// list sorted by deadline. One sweep timer pops expired connections from the heads of the
// lists: O(1) to arm, re-arm or disarm, O(expired) per sweep. A connection sits in at most
// one list; the lists together are also the registry of open connections.
#pragma once

#include <cstdint>

namespace httpfs::server {

class TimeoutList;

// Embedded in the object that can time out.
struct TimeoutNode {
  void* owner = nullptr;  // the object this node is embedded in
  TimeoutNode* prev = nullptr;
  TimeoutNode* next = nullptr;
  TimeoutList* list = nullptr;
  std::uint64_t deadline = 0;  // loop time, ms
};

class TimeoutList {
 public:
  explicit TimeoutList(std::uint64_t duration_ms = 0) : duration_(duration_ms) {}
  TimeoutList(const TimeoutList&) = delete;
  TimeoutList& operator=(const TimeoutList&) = delete;

  std::uint64_t duration() const noexcept { return duration_; }
  void set_duration(std::uint64_t ms) noexcept { duration_ = ms; }

  // Moves `n` to the tail of this list with deadline now + duration (from any list).
  void arm(TimeoutNode& n, std::uint64_t now) noexcept {
    unlink(n);
    n.deadline = now + duration_;
    n.list = this;
    n.prev = tail_;
    n.next = nullptr;
    if (tail_)
      tail_->next = &n;
    else
      head_ = &n;
    tail_ = &n;
    ++size_;
  }

  static void unlink(TimeoutNode& n) noexcept {
    TimeoutList* l = n.list;
    if (l == nullptr) return;
    if (n.prev)
      n.prev->next = n.next;
    else
      l->head_ = n.next;
    if (n.next)
      n.next->prev = n.prev;
    else
      l->tail_ = n.prev;
    n.prev = n.next = nullptr;
    n.list = nullptr;
    --l->size_;
  }

  // The oldest node whose deadline has passed, unlinked; nullptr when none.
  TimeoutNode* pop_expired(std::uint64_t now) noexcept {
    if (head_ == nullptr || head_->deadline > now) return nullptr;
    TimeoutNode* n = head_;
    unlink(*n);
    return n;
  }

  TimeoutNode* front() const noexcept { return head_; }
  std::size_t size() const noexcept { return size_; }
  bool empty() const noexcept { return head_ == nullptr; }

 private:
  TimeoutNode* head_ = nullptr;
  TimeoutNode* tail_ = nullptr;
  std::size_t size_ = 0;
  std::uint64_t duration_;
};

}  // namespace httpfs::server
