#include "net/stream.hpp"

#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "net/byte_buffer.hpp"
#include "net/errors.hpp"
#include "net/ready_list.hpp"
#include "net/tls.hpp"

namespace httpfs::net {

// ---- SplicePipe

SplicePipe::~SplicePipe() {
  if (r_ >= 0) ::close(r_);
  if (w_ >= 0) ::close(w_);
}

bool SplicePipe::open() noexcept {
  if (w_ >= 0) return true;
  int fds[2];
  if (::pipe2(fds, O_NONBLOCK | O_CLOEXEC) != 0) return false;
  r_ = fds[0];
  w_ = fds[1];
  ::fcntl(w_, F_SETPIPE_SZ, static_cast<int>(kPipeSize));  // best effort: 64 KiB otherwise
  return true;
}

// ---- Stream

Stream::Stream() = default;
Stream::~Stream() = default;

void Stream::init(uv_loop_t* loop, int fd, Owner& owner, ReadyList& ready) noexcept {
  owner_ = &owner;
  ready_ = &ready;
  sock_.init(loop, fd, this, &Stream::on_poll);
}

void Stream::rebind(Owner& owner, ReadyList& ready) noexcept {
  if (posted_) ready_->unpost(this);
  posted_ = false;
  owner_ = &owner;
  ready_ = &ready;
}

void Stream::start_tls(const TlsContext& ctx, std::string_view host) {
  tls_ = std::make_unique<TlsStream>(ctx, host);
}

void Stream::on_poll(uv_poll_t* handle, int status, int events) {
  auto* self = static_cast<Stream*>(handle->data);
  if (status < 0)
    self->owner_->on_stream_error(status);
  else
    self->owner_->on_stream_ready(events);
}

void Stream::on_close(uv_handle_t* handle) {
  static_cast<Stream*>(handle->data)->owner_->on_stream_closed();
}

void Stream::wake() {
  if (posted_ || closing()) return;
  posted_ = true;
  ready_->post(this);
}

void Stream::resume_posted() {
  posted_ = false;
  if (!closing() && sock_.wants_read()) owner_->on_stream_ready(UV_READABLE);
}

long Stream::read(ByteBuffer& buf) {
  const long n = read(buf.tail(), buf.tail_room());
  if (n > 0) buf.commit(static_cast<std::size_t>(n));
  return n;
}

long Stream::read(char* buf, std::size_t len) {
  if (tls_) {
    std::size_t got = 0;
    while (got < len) {
      const ssize_t n = tls_->read(sock_.fd(), buf + got, len - got);
      if (n <= 0) return got > 0 ? static_cast<long>(got) : n;  // the end or error comes next
      got += static_cast<std::size_t>(n);
    }
    return static_cast<long>(got);
  }
  for (;;) {
    const ssize_t n = ::read(sock_.fd(), buf, len);
    if (n >= 0) return n;
    if (errno == EINTR) continue;
    return errno == EWOULDBLOCK ? -EAGAIN : -errno;
  }
}

OutputQueue::Flush Stream::flush(OutputQueue& queue, std::size_t& completed, std::uint64_t budget) {
  if (tls_) return tls_->flush(sock_.fd(), queue, budget, completed);
  return queue.flush(sock_.fd(), budget, completed);
}

int Stream::handshake() {
  return tls_->handshake(sock_.fd());
}

SpliceResult Stream::splice_to(SplicePipe& pipe, SpliceSink& sink, std::uint64_t limit) {
  SpliceResult r;
  if (!pipe.open()) {
    r.end = SpliceResult::End::NoPipe;
    return r;
  }
  while (r.moved < limit) {
    if (r.moved >= kRoundBudget) {
      r.end = SpliceResult::End::Budget;
      return r;
    }
    const auto want = static_cast<std::size_t>(std::min(limit - r.moved, kPipeSize));
    const ssize_t n = ::splice(sock_.fd(), nullptr, pipe.write_end(), nullptr, want,
                               SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) break;
      r.end = SpliceResult::End::ReadFailed;
      r.error = errno;
      return r;
    }
    if (n == 0) {
      r.end = SpliceResult::End::Eof;
      return r;
    }
    for (auto left = static_cast<std::size_t>(n); left > 0;) {
      const long m = sink.splice_out(pipe.read_end(), left);
      if (m <= 0) {
        r.end = SpliceResult::End::WriteFailed;
        r.error = m < 0 ? static_cast<int>(-m) : EIO;
        return r;
      }
      left -= static_cast<std::size_t>(m);
      r.moved += static_cast<std::uint64_t>(m);
    }
  }
  r.end = SpliceResult::End::Drained;
  return r;
}

bool Stream::want(bool readable, bool writable) {
  if (tls_) {
    writable = writable || tls_->wants_write();
    if (readable && !posted_ && tls_->has_buffered_input()) {
      posted_ = true;
      ready_->post(this);
    }
  }
  return sock_.want(readable, writable);
}

bool Stream::output_pending() const noexcept {
  return tls_ && tls_->wants_write();
}

std::string Stream::describe(int err) const {
  if (err < 0) err = -err;
  if (tls_ && err == EPROTO && !tls_->error_text().empty()) return tls_->error_text();
  return errno_text(err);
}

void Stream::end_tls() noexcept {
  if (!tls_) return;
  tls_->close_notify(sock_.fd());
  tls_.reset();
}

void Stream::shutdown_write() noexcept {
  ::shutdown(sock_.fd(), SHUT_WR);
}

void Stream::release_buffers() noexcept {
  if (tls_) tls_->release_buffers();
}

bool Stream::close() noexcept {
  if (posted_) ready_->unpost(this);
  posted_ = false;
  return sock_.close(&Stream::on_close);
}

}  // namespace httpfs::net
