#include "server/compressed_body.hpp"

#include <unistd.h>

#include <algorithm>
#include <cerrno>

namespace httpfs::server {

std::unique_ptr<BodySource> CompressedBody::of_file(int fd, std::uint64_t size, http::Coding coding,
                                                    int level) {
  auto encoder = http::ContentEncoder::make(coding, level);
  if (!encoder) {
    ::close(fd);
    return nullptr;
  }
  std::unique_ptr<CompressedBody> body(new CompressedBody(std::move(encoder), size));
  body->fd_ = fd;
  return body;
}

std::unique_ptr<BodySource> CompressedBody::of_bytes(std::shared_ptr<const void> keep,
                                                     std::string_view bytes, http::Coding coding,
                                                     int level) {
  auto encoder = http::ContentEncoder::make(coding, level);
  if (!encoder) return nullptr;
  std::unique_ptr<CompressedBody> body(new CompressedBody(std::move(encoder), bytes.size()));
  body->keep_ = std::move(keep);
  body->bytes_ = bytes;
  return body;
}

CompressedBody::~CompressedBody() {
  if (fd_ >= 0) ::close(fd_);
}

bool CompressedBody::read_slice(std::string_view& slice, int& error) {
  const auto want = static_cast<std::size_t>(std::min<std::uint64_t>(kSlice, size_ - offset_));
  if (fd_ < 0) {
    slice = bytes_.substr(static_cast<std::size_t>(offset_), want);
    return true;
  }
  buffer_.resize(want);
  std::size_t got = 0;
  while (got < want) {
    ssize_t n = ::pread(fd_, buffer_.data() + got, want - got, static_cast<off_t>(offset_ + got));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      error = n < 0 ? errno : EIO;  // shorter than its size said: it changed under us
      return false;
    }
    got += static_cast<std::size_t>(n);
  }
  slice = buffer_;
  return true;
}

bool CompressedBody::next(std::string& out, std::size_t /*hint*/, int& error) {
  if (done_) return false;
  const std::size_t start = out.size();
  // A coder may keep a whole slice to itself (zstd's blocks are 128 KiB): go on until it
  // releases something or the input ends.
  while (out.size() == start) {
    std::string_view slice;
    if (!read_slice(slice, error)) return false;
    offset_ += slice.size();
    const bool last = offset_ == size_;
    if (!encoder_->encode(slice, last, out)) {
      error = ENOMEM;
      return false;
    }
    if (last) {
      done_ = true;
      if (fd_ >= 0) {
        ::close(fd_);
        fd_ = -1;
      }
      return false;  // with the last bytes appended
    }
  }
  return true;
}

}  // namespace httpfs::server
