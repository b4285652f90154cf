#include "server/body_reader.hpp"

#include <algorithm>

#include "http/status.hpp"

namespace httpfs::server {

namespace {

http::BodyDecoder decoder_for(const http::RequestHead& h) {
  switch (h.framing) {
    case http::BodyFraming::Length:
      return http::BodyDecoder::length(h.content_length);
    case http::BodyFraming::Chunked:
      return http::BodyDecoder::chunked();
    case http::BodyFraming::None:
      break;
  }
  return http::BodyDecoder::none();
}

// Lets Stream::splice_to() hand spliced bytes to a body sink.
struct SinkSplice final : net::SpliceSink {
  explicit SinkSplice(BodySink& s) : sink(s) {}
  long splice_out(int pipe_fd, std::size_t n) override { return sink.splice_from(pipe_fd, n); }
  BodySink& sink;
};

}  // namespace

UnreadBody unread_body(const http::RequestHead& h) noexcept {
  // Content-Length: 0 is no body to read either (an empty resumable-upload creation).
  if (h.framing == http::BodyFraming::None ||
      (h.framing == http::BodyFraming::Length && h.content_length == 0))
    return UnreadBody::None;
  // An upload's body (PATCH: an append to a resumable upload) is only read when the upload
  // is accepted; a refusal says so and ends the connection rather than reading what may be
  // gigabytes.
  if (h.method == http::Method::Put || h.method == http::Method::Post ||
      h.method == http::Method::Patch)
    return UnreadBody::Close;
  if (h.expect_continue) return UnreadBody::Close;
  if (h.framing == http::BodyFraming::Chunked || h.content_length <= kMaxDiscard)
    return UnreadBody::Drop;
  return UnreadBody::Close;
}

bool read_before_dispatch(const http::RequestHead& h) noexcept {
  if (unread_body(h) != UnreadBody::Drop) return false;
  switch (h.method) {
    case http::Method::Propfind:
    case http::Method::Proppatch:
    case http::Method::Lock:
      return false;  // their handlers read the body themselves, or refuse before it
    default:
      return true;
  }
}

void BodyReader::start(const http::RequestHead& head, std::unique_ptr<BodySink> sink,
                       std::uint64_t now) {
  decoder_ = decoder_for(head);
  sink_ = std::move(sink);
  rate_ = RateWindow{now, 0};
  reading_ = true;
  faulted_ = false;
}

void BodyReader::leave_unread(const http::RequestHead& head) {
  decoder_ = decoder_for(head);
}

void BodyReader::reset() {
  decoder_ = http::BodyDecoder::none();
  sink_.reset();
  pipe_.reset();
  reading_ = false;
  faulted_ = false;
}

void BodyReader::failed_at_end(BodyFault f) {
  fail(std::move(f));
}

BodyReader::Status BodyReader::feed(net::ByteBuffer& in) {
  while (!in.empty() && !decoder_.done() && !decoder_.failed()) {
    const http::BodyDecoder::Step step = decoder_.decode(in.view());
    in.consume(step.consumed);
    if (step.consumed == 0) break;
    if (step.data.empty()) continue;
    if (sink_) {
      if (auto f = sink_->write(step.data)) return fail(std::move(*f));
    } else if (decoder_.body_bytes() > kMaxDiscard) {
      reading_ = false;  // too much to drop: the connection ends instead
      fault_ = BodyFault{http::status::kContentTooLarge,
                         "A request body of this method is read and dropped up to " +
                             std::to_string(kMaxDiscard) + " bytes.",
                         false};
      return Status::Abandoned;
    }
  }
  return end_step();
}

BodyReader::Status BodyReader::end_step() {
  if (decoder_.failed()) {
    // Broken framing: nothing more on this connection can be trusted.
    reading_ = false;
    fault_ =
        BodyFault{http::status::kBadRequest,
                  "malformed body: " + std::string(http::error_message(decoder_.error())), false};
    return sink_ ? Status::Faulted : Status::Abandoned;
  }
  if (!decoder_.done()) return Status::Incomplete;
  reading_ = false;
  return Status::Complete;
}

bool BodyReader::can_splice(const net::Stream& stream, const net::ByteBuffer& in) const noexcept {
  // Only when nothing needs to see the bytes (no TLS to decrypt them, no digest to hash
  // them) and nothing is buffered ahead of them; chunk framing and short remainders take the
  // ordinary path.
  return sink_ && sink_->takes_splice() && stream.tls() == nullptr && in.empty() &&
         decoder_.raw_data_available() >= net::kSpliceMinimum;
}

BodyReader::Status BodyReader::splice(net::Stream& stream, net::SpliceResult& r) {
  if (!pipe_) pipe_ = std::make_unique<net::SplicePipe>();
  SinkSplice target(*sink_);
  // No further than the sink takes: one byte past its limit is enough to refuse the rest.
  r = stream.splice_to(*pipe_, target,
                       std::min(decoder_.raw_data_available(), sink_->splice_room()));
  decoder_.skip_raw_data(r.moved);
  using End = net::SpliceResult::End;
  if (r.end == End::NoPipe) {
    pipe_.reset();
    return Status::Incomplete;
  }
  auto f = sink_->spliced(r.moved, r.end == End::WriteFailed ? r.error : 0);
  if (r.end == End::Eof || r.end == End::ReadFailed) return Status::Incomplete;  // counted
  if (f) return fail(std::move(*f));
  return end_step();
}

BodyReader::Status BodyReader::fail(BodyFault f) {
  fault_ = std::move(f);
  reading_ = false;
  faulted_ = true;
  return Status::Faulted;
}

bool BodyReader::progress(std::uint64_t now, std::uint64_t min_rate, std::uint64_t window_ms,
                          std::string& why) {
  const std::uint64_t total = decoder_.body_bytes();
  switch (judge_rate(rate_, now, total, min_rate, window_ms)) {
    case RateVerdict::Open:
      return true;
    case RateVerdict::Passed:
      rate_ = RateWindow{now, total};
      return true;
    case RateVerdict::TooSlow:
      break;
  }
  why = "slower than " + std::to_string(min_rate) + " bytes/s (" +
        std::to_string(total - rate_.bytes) + " bytes in " +
        std::to_string((now - rate_.start_ms) / 1000) + " s)";
  return false;
}

}  // namespace httpfs::server
