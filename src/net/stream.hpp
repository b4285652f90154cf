// The transport under both programs' protocol drivers: one non-blocking socket watched by
// the loop, with an optional TLS session between it and the driver.
//
//   socket ─┬─ read ──────────────▶ driver's ByteBuffer        (plain: read(2))
//           │                                                  (TLS: records, decrypted)
//           ├─ flush ◀──────────── OutputQueue                 (plain: sendmsg/sendfile)
//           │                                                  (TLS: encrypted batches)
//           └─ splice_to ────pipe──▶ SpliceSink (a file)       (plain only: zero-copy)
//
// The driver says what it waits for with want(); the stream adds writable while TLS has
// ciphertext to send, and posts itself to a ReadyList when TLS holds decrypted input that the
// socket's readiness will not announce. Either way the driver hears of it through
// Owner::on_stream_ready().
//
// Lifetime: a member of a heap object that never moves (its Owner). close() ends it: when it
// returns true, Owner::on_stream_closed() follows from the loop and the owner may be freed
// there; when false (no poll handle was ever needed), nothing follows and the owner frees
// itself later, never from within its own member functions.
#pragma once

#include <uv.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "net/output_queue.hpp"
#include "net/poll_socket.hpp"

namespace httpfs::net {

class ByteBuffer;
class ReadyList;
class TlsContext;
class TlsStream;

// Bytes one flush or one splice round may move before other connections get their turn.
inline constexpr std::uint64_t kRoundBudget = 8ull << 20;
// splice(2) is worth it for runs of at least this many bytes, through a pipe this big.
inline constexpr std::uint64_t kSpliceMinimum = 64 * 1024;
inline constexpr std::uint64_t kPipeSize = 1 << 20;

// A pipe for splice(2), opened on first use; closed with its owner.
class SplicePipe {
 public:
  SplicePipe() = default;
  ~SplicePipe();
  SplicePipe(const SplicePipe&) = delete;
  SplicePipe& operator=(const SplicePipe&) = delete;
  bool open() noexcept;  // idempotent; false when no pipe can be made
  int read_end() const noexcept { return r_; }
  int write_end() const noexcept { return w_; }

 private:
  int r_ = -1, w_ = -1;
};

// Where spliced bytes go: the file side of a zero-copy receive.
class SpliceSink {
 public:
  // Moves up to `n` bytes out of `pipe_fd` into the file: > 0 bytes moved, or -errno.
  virtual long splice_out(int pipe_fd, std::size_t n) = 0;

 protected:
  ~SpliceSink() = default;
};

struct SpliceResult {
  enum class End : std::uint8_t {
    Drained,      // the socket has nothing more for now, or `limit` bytes were moved
    Budget,       // kRoundBudget moved: more may wait, let others run first
    Eof,          // the peer closed
    ReadFailed,   // the socket failed (error)
    WriteFailed,  // the sink failed (error)
    NoPipe,       // no pipe could be made: use read() instead
  };
  End end = End::Drained;
  std::uint64_t moved = 0;  // bytes that reached the sink
  int error = 0;
};

class Stream {
 public:
  class Owner {
   public:
    // The socket is readable or writable (UV_READABLE | UV_WRITABLE), or TLS holds input.
    virtual void on_stream_ready(int events) = 0;
    // The poller reported an error on the socket (a libuv status).
    virtual void on_stream_error(int status) = 0;
    // After close() returned true: the poll handle is closed; the owner may free itself.
    virtual void on_stream_closed() = 0;

   protected:
    ~Owner() = default;
  };

  Stream();
  ~Stream();
  Stream(const Stream&) = delete;
  Stream& operator=(const Stream&) = delete;

  // Takes the connected socket. `ready` wakes the stream for input held inside TLS.
  void init(uv_loop_t* loop, int fd, Owner& owner, ReadyList& ready) noexcept;
  // Hands the connection to another owner (a client's pool of idle connections, and the
  // next request's driver). Input TLS held for the old owner is not carried over: a stream
  // is handed on only between exchanges, with nothing unread.
  void rebind(Owner& owner, ReadyList& ready) noexcept;
  // Puts a TLS session between the socket and the owner. `host`: for a client, the name to
  // send and verify; empty for a server.
  void start_tls(const TlsContext& ctx, std::string_view host);
  TlsStream* tls() const noexcept { return tls_.get(); }

  // Reads into `buf`'s tail room: > 0 bytes, 0 at the end of the stream, -EAGAIN, or -errno
  // (-EPROTO: TLS failed, see describe()). Under TLS, record after record until the room is
  // full or the socket is drained, so that bytes arrive in big pieces as from a plain socket.
  long read(ByteBuffer& buf);
  long read(char* buf, std::size_t len);
  // Sends what `queue` holds, up to `budget` bytes (a write may go past it by one sendfile
  // chunk or one sendmsg); `completed` counts whole responses.
  OutputQueue::Flush flush(OutputQueue& queue, std::size_t& completed,
                           std::uint64_t budget = kRoundBudget);
  // Client TLS: drives the handshake. 0 done, -EAGAIN, or an error (see tls()->failure()).
  int handshake();
  // Moves up to `limit` raw bytes from the socket into `sink` through `pipe` (plain sockets
  // only: TLS bytes must be decrypted).
  SpliceResult splice_to(SplicePipe& pipe, SpliceSink& sink, std::uint64_t limit);

  // The events the owner waits for. False when the poll handle could not be set up.
  bool want(bool readable, bool writable);
  bool wants_read() const noexcept { return sock_.wants_read(); }
  // TLS has ciphertext the socket has not taken yet: a flush is due even with nothing queued.
  bool output_pending() const noexcept;
  // A plain-text line for a failed read, flush or handshake: TLS's reason or strerror.
  std::string describe(int err) const;
  // TLS: sends a close_notify if the socket takes it now, then drops the session: what
  // follows on the socket (a lingering close) is raw bytes.
  void end_tls() noexcept;
  // No more output: the peer reads the end of the stream after what was sent.
  void shutdown_write() noexcept;
  // TLS: frees the session's buffers while it is idle.
  void release_buffers() noexcept;
  // True when the poll handle exists: on_stream_closed() will follow.
  bool close() noexcept;
  bool closing() const noexcept { return sock_.closing(); }
  int fd() const noexcept { return sock_.fd(); }

  // ReadyList's call: resumes the owner as if the socket were readable.
  void resume_posted();
  // Calls the owner's on_stream_ready(UV_READABLE) on the next loop turn, as if input had
  // come (an owner that must act outside the call it is in). Nothing when closing.
  void wake();

 private:
  static void on_poll(uv_poll_t* handle, int status, int events);
  static void on_close(uv_handle_t* handle);

  PollSocket sock_;
  std::unique_ptr<TlsStream> tls_;
  Owner* owner_ = nullptr;
  ReadyList* ready_ = nullptr;
  bool posted_ = false;
};

}  // namespace httpfs::net
