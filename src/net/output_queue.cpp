#include "net/output_queue.hpp"

#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace httpfs::net {

namespace {

constexpr int kMaxIov = 64;
// One sendfile(2) call at most this much. Measured: 256 KiB calls move a 1 GiB file over
// loopback about 1.5x faster than 4 MiB calls, because a long call holds the socket lock
// while the receiver's ACKs pile up in its backlog.
constexpr std::uint64_t kSendfileChunk = 256ull << 10;
// A generator is asked for about this much at a time: one socket's worth, so that memory
// stays constant while the peer reads.
constexpr std::size_t kGenerateChunk = 64 * 1024;

}  // namespace

void OutputQueue::grow(std::size_t need) {
  if (need <= mem_cap_) return;
  std::size_t cap = std::max<std::size_t>(mem_cap_ * 2, 4096);
  while (cap < need) cap *= 2;
  auto bigger = std::make_unique_for_overwrite<char[]>(cap);
  if (mem_size_ > 0) std::memcpy(bigger.get(), mem_.get(), mem_size_);
  mem_ = std::move(bigger);
  mem_cap_ = cap;
}

char* OutputQueue::reserve(std::size_t n) {
  reserved_at_ = mem_size_;
  grow(mem_size_ + n);
  mem_size_ += n;
  return mem_.get() + reserved_at_;
}

void OutputQueue::commit(std::size_t used) {
  mem_size_ = reserved_at_ + used;
  add_memory_piece(reserved_at_, used);
}

void OutputQueue::append(std::string_view bytes) {
  std::size_t at = mem_size_;
  grow(mem_size_ + bytes.size());
  if (!bytes.empty()) std::memcpy(mem_.get() + at, bytes.data(), bytes.size());
  mem_size_ += bytes.size();
  add_memory_piece(at, bytes.size());
}

void OutputQueue::add_memory_piece(std::size_t at, std::size_t len) {
  if (len == 0) return;
  if (!empty()) {
    Piece& last = pieces_.back();
    // Extend the last memory piece when these bytes follow it in the same response.
    if (last.kind == Kind::Memory && !last.ends_response && last.offset + last.length == at) {
      last.length += len;
      return;
    }
  }
  pieces_.push_back(Piece{Kind::Memory, false, false, -1, at, len, nullptr, nullptr, {}});
}

void OutputQueue::add_external(const char* data, std::size_t len,
                               std::shared_ptr<const void> keep) {
  if (len == 0) return;
  pieces_.push_back(Piece{Kind::External, false, false, -1, 0, len, data, std::move(keep), {}});
}

void OutputQueue::add_file(int fd, std::uint64_t offset, std::uint64_t length, bool owns_fd) {
  if (length == 0) {
    if (owns_fd) ::close(fd);
    return;
  }
  pieces_.push_back(Piece{Kind::File, false, owns_fd, fd, offset, length, nullptr, nullptr, {}});
  ++deferred_;
}

void OutputQueue::add_file(int fd, std::uint64_t offset, std::uint64_t length,
                           std::shared_ptr<const void> keep) {
  if (length == 0) return;
  pieces_.push_back(
      Piece{Kind::File, false, false, fd, offset, length, nullptr, std::move(keep), {}});
  ++deferred_;
}

void OutputQueue::add_generator(std::unique_ptr<Generator> generator) {
  auto g = std::make_shared<Generated>();
  g->generator = std::move(generator);
  pieces_.push_back(Piece{Kind::Generated, false, false, -1, 0, 0, nullptr, nullptr, std::move(g)});
  ++deferred_;
}

bool OutputQueue::refill(Piece& p) {
  Generated& g = *p.generated;
  if (p.length > 0 || g.ended) return true;
  g.bytes.clear();
  int err = 0;
  FileRange file;
  g.ended = !g.generator->generate_piece(g.bytes, file, kGenerateChunk, err);
  g.in_file = file.length > 0;
  // A generator must make progress, with bytes or a range (not both).
  if (err == 0 && ((!g.ended && g.bytes.empty() && !g.in_file) || (g.in_file && !g.bytes.empty())))
    err = EIO;
  if (err != 0) {
    error_ = err;
    return false;
  }
  if (g.in_file) {
    p.fd = file.fd;
    p.offset = file.offset;
    p.data = nullptr;
    p.length = file.length;
  } else {
    p.data = g.bytes.data();
    p.length = g.bytes.size();
  }
  return true;
}

void OutputQueue::end_response() {
  if (empty()) {
    // A response with no bytes at all cannot happen (there is always a head), but keep the
    // count right if it does.
    pieces_.push_back(Piece{Kind::Memory, false, false, -1, mem_size_, 0, nullptr, nullptr, {}});
  }
  pieces_.back().ends_response = true;
  ++queued_responses_;
}

void OutputQueue::pop_front(std::size_t& completed) {
  Piece& p = pieces_[first_];
  if (p.kind == Kind::File) {
    --deferred_;
    if (p.owns_fd) ::close(p.fd);
  }
  if (p.kind == Kind::Generated) --deferred_;
  p.generated.reset();
  if (p.ends_response) {
    ++completed;
    --queued_responses_;
  }
  p.keep.reset();
  ++first_;
  if (first_ == pieces_.size()) {
    pieces_.clear();
    first_ = 0;
    mem_size_ = 0;
  }
}

OutputQueue::Flush OutputQueue::flush(int sock, std::uint64_t budget, std::size_t& completed) {
  std::uint64_t sent_total = 0;
  while (!empty()) {
    if (sent_total >= budget) return Flush::Yield;
    Piece& front = pieces_[first_];
    if (front.kind == Kind::Generated) {
      if (!refill(front)) return Flush::Error;
      if (front.length == 0) {  // it has ended, and everything it gave is out
        pop_front(completed);
        continue;
      }
    }
    if (from_file(front)) {
      off_t off = static_cast<off_t>(front.offset);
      std::size_t want = static_cast<std::size_t>(std::min(front.length, kSendfileChunk));
      ssize_t n = ::sendfile(sock, front.fd, &off, want);
      if (n < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK) return Flush::Blocked;
        if (errno == EINTR) continue;
        error_ = errno;
        return Flush::Error;
      }
      if (n == 0) {  // the file shrank under us: the promised length cannot be kept
        error_ = EIO;
        return Flush::Error;
      }
      front.offset += static_cast<std::uint64_t>(n);
      front.length -= static_cast<std::uint64_t>(n);
      sent_total += static_cast<std::uint64_t>(n);
      sent_ += static_cast<std::uint64_t>(n);
      // A generator's range is done: it is asked for more (or dropped) at the next turn.
      if (front.length == 0 && front.kind == Kind::File) pop_front(completed);
      continue;
    }
    // Gather consecutive memory and external pieces into one sendmsg(2).
    iovec iov[kMaxIov];
    int count = 0;
    std::size_t i = first_;
    for (; i < pieces_.size() && count < kMaxIov && !from_file(pieces_[i]); ++i) {
      const Piece& p = pieces_[i];
      if (p.length > 0) {
        const char* base = p.kind == Kind::Memory ? mem_.get() + p.offset : p.data;
        iov[count++] = iovec{const_cast<char*>(base), static_cast<std::size_t>(p.length)};
      }
      // What a generator gives next must go out before anything queued behind it.
      if (p.kind == Kind::Generated) {
        ++i;
        break;
      }
    }
    if (count == 0) {  // only empty pieces (response markers)
      while (!empty() && is_marker(pieces_[first_])) pop_front(completed);
      continue;
    }
    msghdr msg{};
    msg.msg_iov = iov;
    msg.msg_iovlen = static_cast<std::size_t>(count);
    // MSG_MORE when a file follows: the head and the first file bytes share a segment.
    int flags = MSG_NOSIGNAL;
    if (i < pieces_.size() && from_file(pieces_[i])) flags |= MSG_MORE;
    ssize_t n = ::sendmsg(sock, &msg, flags);
    if (n < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK) return Flush::Blocked;
      if (errno == EINTR) continue;
      error_ = errno;
      return Flush::Error;
    }
    sent_total += static_cast<std::uint64_t>(n);
    consume(static_cast<std::uint64_t>(n), completed);
  }
  return Flush::Done;
}

void OutputQueue::consume(std::uint64_t n, std::size_t& completed) {
  sent_ += n;
  while (!empty()) {
    Piece& p = pieces_[first_];
    if (p.length > n) {
      p.length -= n;
      if (p.kind == Kind::External || (p.kind == Kind::Generated && !p.generated->in_file))
        p.data += n;
      else
        p.offset += n;  // into the memory buffer, or into the file
      return;
    }
    n -= p.length;
    p.length = 0;
    // A generator that has not ended stays in front: it is asked for more when due.
    if (p.kind == Kind::Generated && !p.generated->ended) return;
    pop_front(completed);
    if (n == 0) {
      // Zero-length pieces right behind (response markers) are done too.
      while (!empty() && is_marker(pieces_[first_])) pop_front(completed);
      return;
    }
  }
}

std::string_view OutputQueue::peek(char* scratch, std::size_t cap, std::size_t gather) {
  // Zero-length pieces (response markers) carry no bytes: consume() drops them.
  std::size_t at = first_;
  while (at < pieces_.size() && is_marker(pieces_[at])) ++at;
  if (at == pieces_.size() || cap == 0) return {};
  Piece& front = pieces_[at];
  if (front.kind == Kind::Generated) {
    if (!refill(front)) return {};
    if (!front.generated->in_file || front.length == 0) {
      const auto len = static_cast<std::size_t>(std::min<std::uint64_t>(front.length, cap));
      return {front.data, len};  // empty: it ended; consume(0) drops it
    }
  }
  auto bytes_of = [this](const Piece& p) {
    return p.kind == Kind::Memory ? mem_.get() + p.offset : p.data;
  };
  auto read_file = [this](const Piece& p, char* to, std::size_t len) {
    ssize_t n;
    do {
      n = ::pread(p.fd, to, len, static_cast<off_t>(p.offset));
    } while (n < 0 && errno == EINTR);
    if (n <= 0) error_ = n < 0 ? errno : EIO;  // 0: the file shrank under us
    return n;
  };
  if (front.kind == Kind::Generated) {  // its file range alone
    const auto want = static_cast<std::size_t>(std::min<std::uint64_t>(front.length, cap));
    const ssize_t n = read_file(front, scratch, want);
    return n > 0 ? std::string_view(scratch, static_cast<std::size_t>(n)) : std::string_view();
  }
  const bool alone = at + 1 == pieces_.size() || pieces_[at + 1].kind == Kind::Generated;
  if (front.kind != Kind::File && (alone || front.length >= gather)) {
    const auto len = static_cast<std::size_t>(std::min<std::uint64_t>(front.length, cap));
    return {bytes_of(front), len};
  }
  // Gather into one view: memory copied, file ranges read. A file that cannot be read ends
  // the view; its error shows once it is in front.
  std::size_t used = 0;
  for (std::size_t i = at; i < pieces_.size() && used < cap; ++i) {
    const Piece& p = pieces_[i];
    if (p.kind == Kind::Generated) break;
    const auto take = static_cast<std::size_t>(std::min<std::uint64_t>(p.length, cap - used));
    if (p.kind != Kind::File) {
      std::memcpy(scratch + used, bytes_of(p), take);
      used += take;
      continue;
    }
    const ssize_t n = read_file(p, scratch + used, take);
    if (n <= 0) {
      if (used > 0) error_ = 0;  // what was gathered goes first
      break;
    }
    used += static_cast<std::size_t>(n);
    if (static_cast<std::size_t>(n) != take) break;
  }
  return {scratch, used};
}

void OutputQueue::clear() noexcept {
  for (std::size_t i = first_; i < pieces_.size(); ++i)
    if (pieces_[i].kind == Kind::File && pieces_[i].owns_fd) ::close(pieces_[i].fd);
  pieces_.clear();
  first_ = 0;
  mem_size_ = 0;
  if (mem_cap_ > 64 * 1024) {  // a big listing or batch: do not keep its memory pooled
    mem_.reset();
    mem_cap_ = 0;
  }
  queued_responses_ = 0;
  deferred_ = 0;
  error_ = 0;
}

}  // namespace httpfs::net
