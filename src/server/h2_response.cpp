#include "server/h2_response.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <span>

#include "server/common_fields.hpp"

namespace httpfs::server {

namespace {

// What a BodySource is asked for at a time: a few DATA frames' worth.
constexpr std::size_t kSourceHint = 64 * 1024;
// A response head's usual size: its fields, and their names and values back to back.
constexpr std::size_t kTypicalFields = 24;
constexpr std::size_t kTypicalHeadBytes = 640;

// Closes a descriptor when the last frame that reads it is sent or dropped.
struct OwnedFd {
  int fd;
  explicit OwnedFd(int d) : fd(d) {}
  ~OwnedFd() { ::close(fd); }
  OwnedFd(const OwnedFd&) = delete;
  OwnedFd& operator=(const OwnedFd&) = delete;
};

// RFC 9113 8.2.2: fields that mean something for one HTTP/1 connection only.
bool connection_specific(std::string_view lower) noexcept {
  if (lower.empty() || std::string_view("cktpu").find(lower[0]) == std::string_view::npos)
    return false;  // the common case, without five comparisons
  static constexpr std::array<std::string_view, 5> kNames = {
      "connection", "keep-alive", "proxy-connection", "transfer-encoding", "upgrade"};
  return std::find(kNames.begin(), kNames.end(), lower) != kNames.end();
}

// A byte loop: find_first_of calls memchr on the set once per byte of the value, which was
// a tenth of the server's time at 100 000 h2 responses a second.
bool sendable_value(std::string_view v) noexcept {
  for (const char c : v)
    if (c == '\r' || c == '\n' || c == '\0') return false;
  return true;
}

// ASCII only, without the locale (field names are tokens, RFC 9110 5.1).
void lower_ascii(char* first, char* last) noexcept {
  for (char* p = first; p != last; ++p)
    if (*p >= 'A' && *p <= 'Z') *p = static_cast<char>(*p | 0x20);
}

ssize_t on_read(nghttp2_session*, std::int32_t, std::uint8_t*, std::size_t length,
                std::uint32_t* flags, nghttp2_data_source* source, void*) {
  return static_cast<H2Response*>(source->ptr)->next_frame(length, flags);
}

}  // namespace

// ---- the body

nghttp2_data_provider H2Response::provider() noexcept {
  nghttp2_data_provider p{};
  p.source.ptr = this;
  p.read_callback = on_read;
  return p;
}

ssize_t H2Response::next_frame(std::size_t max, std::uint32_t* flags) {
  while (!pieces_.empty() && pieces_.front().kind == Piece::Kind::Source)
    if (!expand_source()) return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
  if (pieces_.empty()) {
    if (!ended_) {
      deferred_ = true;
      return NGHTTP2_ERR_DEFERRED;
    }
    // A body shorter than its head promised ends with RST_STREAM, never with END_STREAM.
    if (!whole_) return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
    *flags |= NGHTTP2_DATA_FLAG_EOF;
    return 0;
  }
  // The frame takes what the pieces hold, up to `max` and up to a source not yet asked.
  std::size_t n = 0;
  bool all = true;  // ... and that is the whole rest of the body so far
  for (const Piece& p : pieces_) {
    if (p.kind == Piece::Kind::Source || n == max) {
      all = false;
      break;
    }
    const auto take = static_cast<std::size_t>(std::min<std::uint64_t>(p.length, max - n));
    n += take;
    if (take < p.length) all = false;
  }
  *flags |= NGHTTP2_DATA_FLAG_NO_COPY;
  if (ended_ && whole_ && all) *flags |= NGHTTP2_DATA_FLAG_EOF;
  return static_cast<ssize_t>(n);
}

void H2Response::write_frame(net::OutputQueue& out, const std::uint8_t* header,
                             std::size_t length) {
  out.append({reinterpret_cast<const char*>(header), 9});
  while (length > 0 && !pieces_.empty()) {
    Piece& p = pieces_.front();
    const auto take = static_cast<std::size_t>(std::min<std::uint64_t>(length, p.length));
    switch (p.kind) {
      case Piece::Kind::Bytes:
        out.append(std::string_view(p.bytes).substr(static_cast<std::size_t>(p.offset), take));
        break;
      case Piece::Kind::View:
        out.add_external(p.data + p.offset, take, p.keep);
        break;
      case Piece::Kind::File:
        out.add_file(p.fd, p.offset, take, p.keep);
        break;
      case Piece::Kind::Source:
        return;  // next_frame() never sizes a frame past a source
    }
    p.offset += take;
    p.length -= take;
    length -= take;
    if (p.length == 0) pieces_.pop_front();
  }
}

bool H2Response::expand_source() {
  std::string bytes;
  BodySource::FileRange range;
  int error = 0;
  const bool more = pieces_.front().source->next_piece(bytes, range, kSourceHint, error);
  if (error != 0) return false;
  std::vector<Piece> made;
  if (!bytes.empty()) {
    Piece p;
    p.length = bytes.size();
    p.bytes = std::move(bytes);
    made.push_back(std::move(p));
  }
  if (range.length > 0) {
    // The source may reuse its descriptor once asked for more, while frames that read this
    // range still wait in the output queue: they get a duplicate of their own.
    const int fd = ::fcntl(range.fd, F_DUPFD_CLOEXEC, 0);
    if (fd < 0) return false;
    Piece p;
    p.kind = Piece::Kind::File;
    p.fd = fd;
    p.keep = std::make_shared<OwnedFd>(fd);
    p.offset = range.offset;
    p.length = range.length;
    made.push_back(std::move(p));
  }
  if (!more) pieces_.pop_front();
  for (auto it = made.rbegin(); it != made.rend(); ++it) pieces_.push_front(std::move(*it));
  return true;
}

// ---- the encoder

void H2Encoder::informational(int status, std::span<const Field> fields) {
  std::vector<std::string> lower;
  lower.reserve(fields.size());
  std::vector<nghttp2_nv> nv;
  char code[4];
  std::to_chars(code, code + 3, status);
  auto push = [&nv](std::string_view n, std::string_view v) {
    nv.push_back({reinterpret_cast<std::uint8_t*>(const_cast<char*>(n.data())),
                  reinterpret_cast<std::uint8_t*>(const_cast<char*>(v.data())), n.size(), v.size(),
                  NGHTTP2_NV_FLAG_NONE});
  };
  push(":status", std::string_view(code, 3));
  for (const Field& f : fields) {
    if (!sendable_value(f.value)) return;  // as for HTTP/1: the final answer says it all
    std::string& n = lower.emplace_back(f.name);
    lower_ascii(n.data(), n.data() + n.size());
    push(n, f.value);
  }
  nghttp2_submit_headers(session_, NGHTTP2_FLAG_NONE, stream_id_, nullptr, nv.data(), nv.size(),
                         nullptr);
}

void H2Encoder::begin(int) {
  // One allocation each for a typical head (about ten fields, 400 bytes), not one per growth.
  names_values_.reserve(kTypicalHeadBytes);
  lengths_.reserve(kTypicalFields);
  common_fields(ctx_.date, ctx_.cors_origin,
                [this](std::string_view name, std::string_view value) { field(name, value); });
}

void H2Encoder::field(std::string_view name, std::string_view value) {
  const std::size_t at = names_values_.size();
  names_values_.append(name);
  lower_ascii(names_values_.data() + at, names_values_.data() + names_values_.size());
  if (connection_specific(std::string_view(names_values_).substr(at))) {
    names_values_.resize(at);
    return;
  }
  if (!sendable_value(value)) invalid_ = true;
  names_values_.append(value);
  lengths_.emplace_back(static_cast<std::uint32_t>(name.size()),
                        static_cast<std::uint32_t>(value.size()));
}

void H2Encoder::field(std::string_view name, std::uint64_t value) {
  char digits[24];
  const auto r = std::to_chars(digits, digits + sizeof digits, value);
  field(name, std::string_view(digits, static_cast<std::size_t>(r.ptr - digits)));
}

int H2Encoder::end_head(int status, std::uint64_t content_length, bool has_content) {
  if (has_content) field("Content-Length", content_length);
  return submit(status, has_content && !ctx_.head_only);
}

int H2Encoder::end_head_streamed(int status) {
  return submit(status, !ctx_.head_only);
}

int H2Encoder::submit(int status, bool with_body) {
  if (invalid_) {
    // The same bare 500 as HTTP/1 sends for a head it cannot write.
    names_values_.clear();
    lengths_.clear();
    invalid_ = false;
    begin(500);
    field("Content-Length", std::uint64_t{0});
    status = 500;
    with_body = false;
  }
  char code[4];
  std::to_chars(code, code + 3, status);
  // nghttp2 copies the fields: the list can live on the stack when it is short.
  std::array<nghttp2_nv, kTypicalFields + 1> small;
  std::vector<nghttp2_nv> large;
  std::span<nghttp2_nv> nv(small.data(), lengths_.size() + 1);
  if (lengths_.size() + 1 > small.size()) {
    large.resize(lengths_.size() + 1);
    nv = large;
  }
  std::size_t i = 0;
  auto bytes = [](const char* p) { return reinterpret_cast<std::uint8_t*>(const_cast<char*>(p)); };
  nv[i++] = {bytes(":status"), bytes(code), 7, 3, NGHTTP2_NV_FLAG_NONE};
  const char* p = names_values_.data();
  for (const auto& [n, v] : lengths_) {
    nv[i++] = {bytes(p), bytes(p + n), n, v, NGHTTP2_NV_FLAG_NONE};
    p += n + v;
  }
  nghttp2_data_provider provider = response_.provider();
  nghttp2_submit_response(session_, stream_id_, nv.data(), nv.size(),
                          with_body ? &provider : nullptr);
  response_.submitted_ = true;
  if (!with_body) response_.ended_ = true;
  return status;
}

void H2Encoder::add(H2Response::Piece piece) {
  if (response_.ended_) return;  // a body after a head that had to become a bare 500
  response_.pieces_.push_back(std::move(piece));
  if (response_.take_deferred()) nghttp2_session_resume_data(session_, stream_id_);
}

void H2Encoder::body(std::string_view bytes) {
  if (bytes.empty()) return;
  H2Response::Piece p;
  p.bytes.assign(bytes);
  p.length = bytes.size();
  add(std::move(p));
}

void H2Encoder::body_external(const char* data, std::size_t len, std::shared_ptr<const void> keep) {
  if (len == 0) return;
  H2Response::Piece p;
  p.kind = H2Response::Piece::Kind::View;
  p.data = data;
  p.length = len;
  p.keep = std::move(keep);
  add(std::move(p));
}

void H2Encoder::body_file(int fd, std::uint64_t offset, std::uint64_t length, bool owns_fd) {
  std::shared_ptr<const void> keep;
  if (owns_fd) keep = std::make_shared<OwnedFd>(fd);
  if (length == 0 || response_.ended_) return;
  H2Response::Piece p;
  p.kind = H2Response::Piece::Kind::File;
  p.fd = fd;
  p.offset = offset;
  p.length = length;
  p.keep = std::move(keep);
  add(std::move(p));
}

void H2Encoder::body_source(std::unique_ptr<BodySource> source) {
  H2Response::Piece p;
  p.kind = H2Response::Piece::Kind::Source;
  p.source = std::move(source);
  add(std::move(p));
}

void H2Encoder::finish(bool whole) {
  if (response_.ended_) return;
  response_.ended_ = true;
  response_.whole_ = whole;
  if (response_.take_deferred()) nghttp2_session_resume_data(session_, stream_id_);
}

}  // namespace httpfs::server
