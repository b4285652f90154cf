// The bytes a connection still has to send: heads and small bodies in one memory buffer,
// cached file contents shared with the cache, file ranges sent with sendfile(2), and bodies
// produced as they are sent (a Generator: asked for more only when what it gave is out).
//
// Several responses can be queued (pipelining) and leave in one sendmsg(2). Each response's
// last piece is marked, so that flush() can report how many responses it completed (the
// access log writes a line per completed response).
//
// Lifetimes: memory pieces are offsets into the queue's own buffer, valid until the queue
// empties; external pieces hold a shared_ptr to their bytes; file pieces may own their fd,
// which is closed when the piece is done or the queue is cleared; a generator is owned by
// its piece and destroyed when it has ended and its bytes are sent, or the queue is cleared.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace httpfs::net {

class OutputQueue {
 public:
  // A range of an open file, sent as it is (sendfile(2); read for TLS).
  struct FileRange {
    int fd = -1;
    std::uint64_t offset = 0;
    std::uint64_t length = 0;
  };

  // A body made as it goes out (a listing or a 207 written while a directory is read).
  class Generator {
   public:
    virtual ~Generator() = default;
    // Appends the next bytes to `out` (empty on entry), about `hint` of them and at least
    // one unless this is the end. Returns false after the last bytes. A failure sets `error`
    // (an errno) and returns false: the body cannot be completed.
    virtual bool generate(std::string& out, std::size_t hint, int& error) = 0;
    // The same, except that the next part may instead be a range of a file (`file.length`
    // > 0, `out` left empty), which goes out without passing through memory (an archive's
    // file data). The descriptor stays the generator's: it must stay open until the
    // generator is asked for more or destroyed.
    virtual bool generate_piece(std::string& out, FileRange& /*file*/, std::size_t hint,
                                int& error) {
      return generate(out, hint, error);
    }
  };

  enum class Flush {
    Done,     // everything sent
    Blocked,  // the socket is full: wait until it is writable
    Yield,    // sent the per-call budget; more to do, let others run first
    Error,    // the socket failed; errno in error()
  };

  OutputQueue() = default;
  ~OutputQueue() { clear(); }
  OutputQueue(const OutputQueue&) = delete;
  OutputQueue& operator=(const OutputQueue&) = delete;

  // Space for `n` bytes at the end of the memory buffer; commit() says how many were used.
  char* reserve(std::size_t n);
  void commit(std::size_t used);
  void append(std::string_view bytes);
  void add_external(const char* data, std::size_t len, std::shared_ptr<const void> keep);
  void add_file(int fd, std::uint64_t offset, std::uint64_t length, bool owns_fd);
  // A range of a descriptor that `keep` holds open until the piece is sent or dropped (an
  // HTTP/2 DATA frame's payload, whose stream may end before its frames leave).
  void add_file(int fd, std::uint64_t offset, std::uint64_t length,
                std::shared_ptr<const void> keep);
  void add_generator(std::unique_ptr<Generator> generator);
  void end_response();  // the piece added last ends a response

  // Writes to the non-blocking socket until done, blocked, or `budget` bytes went out.
  // `completed` is incremented for each response fully sent.
  Flush flush(int socket_fd, std::uint64_t budget, std::size_t& completed);

  // For a writer that must see the bytes (TLS encrypts them): the next bytes to send, at
  // most `cap`. A file piece is read into `scratch`; a lone memory piece is returned in
  // place; a memory piece shorter than `gather` is gathered into `scratch` with the pieces
  // after it, memory copied and file ranges read, up to `cap`, so that small pipelined
  // responses share a TLS record and HTTP/2 DATA frames (a 9-byte header, then a file range)
  // go out as full records rather than two per frame. An empty view with error() set
  // means the file could not be read (EIO: it shrank) or a generator failed. The view is
  // valid until consume() or the next change to the queue.
  std::string_view peek(char* scratch, std::size_t cap, std::size_t gather);
  // Drops the first `n` bytes (n <= what peek() returned); counts completed responses.
  void consume(std::uint64_t n, std::size_t& completed);

  bool empty() const noexcept { return first_ == pieces_.size(); }
  // Bytes that have left through this queue since it was made (clear() keeps the count).
  std::uint64_t sent() const noexcept { return sent_; }
  std::size_t queued_responses() const noexcept { return queued_responses_; }
  std::size_t memory_bytes() const noexcept { return mem_size_; }
  // A file or generated body is queued: its bytes are not in memory yet, and answers queued
  // behind it would wait anyway.
  bool has_deferred_body() const noexcept { return deferred_ > 0; }
  int error() const noexcept { return error_; }
  void fail(int err) noexcept { error_ = err; }  // a writer's own failure (TLS)
  void clear() noexcept;

 private:
  enum class Kind : std::uint8_t { Memory, External, File, Generated };
  // A generator and what it gave last: bytes, or a file range (in_file).
  struct Generated {
    std::unique_ptr<Generator> generator;
    std::string bytes;
    bool ended = false;
    bool in_file = false;
  };
  struct Piece {
    Kind kind;
    bool ends_response = false;
    bool owns_fd = false;
    int fd = -1;
    std::uint64_t offset = 0;    // Memory: into mem_; File: into the file
    std::uint64_t length = 0;    // Generated: of the current bytes, not yet sent
    const char* data = nullptr;  // External, Generated
    std::shared_ptr<const void> keep;
    std::shared_ptr<Generated> generated;
  };
  void pop_front(std::size_t& completed);
  void add_memory_piece(std::size_t at, std::size_t len);
  // A generated front piece with nothing left to send asks its generator for more; false on
  // a generator's failure (error_ set).
  bool refill(Piece& p);
  // A piece sent with sendfile(2): a file, or a generator's current file range.
  static bool from_file(const Piece& p) noexcept {
    return p.kind == Kind::File || (p.kind == Kind::Generated && p.generated->in_file);
  }
  // A piece with no bytes that only marks the end of a response.
  static bool is_marker(const Piece& p) noexcept {
    return p.length == 0 && (p.kind == Kind::Memory || p.kind == Kind::External);
  }

  // Heads and small bodies. A plain buffer, not a std::string: reserve() must not zero-fill
  // the head space it hands out for every response.
  std::unique_ptr<char[]> mem_;
  std::size_t mem_size_ = 0;
  std::size_t mem_cap_ = 0;
  void grow(std::size_t need);
  std::vector<Piece> pieces_;
  std::size_t first_ = 0;  // pieces before this index are done
  std::size_t reserved_at_ = 0;
  std::uint64_t sent_ = 0;
  std::size_t queued_responses_ = 0;
  std::size_t deferred_ = 0;  // file and generated pieces queued
  int error_ = 0;
};

}  // namespace httpfs::net
