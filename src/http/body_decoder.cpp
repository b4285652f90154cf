#include "http/body_decoder.hpp"

#include <algorithm>

#include "http/chars.hpp"

namespace httpfs::http {

namespace {

constexpr std::uint64_t kMaxChunkSize = (std::uint64_t{1} << 63) - 1;
// Leading zeros are valid but a size line of thousands of zeros is not a chunk-size anyone
// sends; bounding the digits bounds the work per line.
constexpr int kMaxSizeDigits = 64;

// qdtext = HTAB / SP / %x21 / %x23-5B / %x5D-7E / obs-text (RFC 9110 5.6.4)
bool is_qdtext(char c) {
  auto u = static_cast<unsigned char>(c);
  return c == '\t' || c == ' ' || u == 0x21 || (u >= 0x23 && u <= 0x5b) ||
         (u >= 0x5d && u <= 0x7e) || u >= 0x80;
}
bool is_quoted_pair_char(char c) {
  auto u = static_cast<unsigned char>(c);
  return c == '\t' || c == ' ' || (u >= 0x21 && u <= 0x7e) || u >= 0x80;
}

}  // namespace

BodyDecoder BodyDecoder::length(std::uint64_t n) noexcept {
  BodyDecoder d;
  d.chunked_ = false;
  d.remaining_ = n;
  d.state_ = n == 0 ? State::Done : State::Data;
  return d;
}

BodyDecoder BodyDecoder::chunked(Limits limits, Options options) {
  BodyDecoder d;
  d.chunked_ = true;
  d.limits_ = limits;
  d.options_ = options;
  d.state_ = State::Size;
  return d;
}

void BodyDecoder::skip_raw_data(std::uint64_t n) noexcept {
  if (state_ != State::Data || n > remaining_) return;
  remaining_ -= n;
  body_bytes_ += n;
  consumed_ += n;
  if (remaining_ == 0) state_ = chunked_ ? State::DataCr : State::Done;
}

std::vector<Header> BodyDecoder::trailers() const {
  std::vector<Header> out;
  std::string_view text = trailer_text_;
  while (!text.empty()) {
    std::size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view{} : text.substr(nl + 1);
    std::size_t colon = line.find(':');
    out.push_back(Header{line.substr(0, colon), chars::trim_ows(line.substr(colon + 1))});
  }
  return out;
}

BodyDecoder::Step BodyDecoder::data_step(std::string_view in) noexcept {
  // The hot path: hand out as much body as the input holds, without copying.
  auto n = static_cast<std::size_t>(std::min<std::uint64_t>(remaining_, in.size()));
  remaining_ -= n;
  body_bytes_ += n;
  if (remaining_ == 0) state_ = chunked_ ? State::DataCr : State::Done;
  return Step{n, in.substr(0, n)};
}

BodyDecoder::Step BodyDecoder::framing_step(std::string_view in) noexcept {
  if (state_ == State::Done || state_ == State::Failed) return Step{0, {}};

  std::size_t i = 0;
  for (; i < in.size(); ++i) {
    const char c = in[i];
    switch (state_) {
      case State::Size: {
        // Digits in a tight loop: a chunk line is usually a few hex digits and CRLF.
        for (int v; (v = chars::kHexValue[static_cast<unsigned char>(in[i])]) >= 0;) {
          if (remaining_ > (kMaxChunkSize >> 4)) return fail(ParseError::ChunkSizeOverflow, i);
          if (++size_digits_ > kMaxSizeDigits) return fail(ParseError::BadChunkSize, i);
          remaining_ = (remaining_ << 4) | static_cast<std::uint64_t>(v);
          if (++i == in.size()) return Step{i, {}};
        }
        const char end = in[i];  // the first byte after the digits
        if (size_digits_ == 0) return fail(ParseError::BadChunkSize, i);
        line_bytes_ = 0;
        if (end == '\r')
          state_ = State::SizeLf;
        else if (end == ';')
          state_ = State::ExtBws;
        else if (chars::is_ows(end))
          state_ = State::SizeBws;
        else
          return fail(end == '\n' ? ParseError::BareLf : ParseError::BadChunkSize, i);
        continue;
      }
      case State::SizeLf: {
        if (c != '\n') return fail(ParseError::BareCr, i);
        // Framing against data, judged at the end of each size line: the same byte for every
        // way the input is split, so the verdict does not depend on the reads.
        const std::uint64_t overhead = consumed_ + i + 1 - body_bytes_;
        if (overhead > limits_.overhead_allowance &&
            overhead > body_bytes_ * limits_.max_overhead_ratio)
          return fail(ParseError::ChunkOverhead, i);
        size_digits_ = 0;
        if (remaining_ == 0) {
          state_ = State::TrailerStart;
          continue;
        }
        // Hand out the chunk's first bytes in the same step as its size line.
        const std::size_t start = i + 1;
        auto n = static_cast<std::size_t>(std::min<std::uint64_t>(remaining_, in.size() - start));
        remaining_ -= n;
        body_bytes_ += n;
        state_ = remaining_ == 0 ? State::DataCr : State::Data;
        return Step{start + n, in.substr(start, n)};
      }
      case State::DataCr:
        if (c != '\r') return fail(ParseError::BadChunkDataEnd, i);
        state_ = State::DataLf;
        continue;
      case State::DataLf:
        if (c != '\n') return fail(ParseError::BadChunkDataEnd, i);
        state_ = State::Size;
        continue;
      case State::TrailerStart:
        if (c == '\r') {
          state_ = State::FinalLf;
        } else if (chars::is_token(c)) {
          if (++trailer_fields_ > limits_.max_trailer_fields)
            return fail(ParseError::TrailerTooLarge, i);
          if (options_.keep_trailers) trailer_text_ += c;
          state_ = State::TrailerName;
        } else {
          return fail(c == '\n' ? ParseError::BareLf : ParseError::BadTrailer, i);
        }
        break;
      case State::TrailerName:
        if (c == ':')
          state_ = State::TrailerValue;
        else if (!chars::is_token(c))
          return fail(ParseError::BadTrailer, i);
        if (options_.keep_trailers) trailer_text_ += c;
        break;
      case State::TrailerValue:
        if (c == '\r') {
          state_ = State::TrailerLf;
        } else if (chars::is_field_value(c)) {
          if (options_.keep_trailers) trailer_text_ += c;
        } else {
          return fail(c == '\n' ? ParseError::BareLf : ParseError::BadTrailer, i);
        }
        break;
      case State::TrailerLf:
        if (c != '\n') return fail(ParseError::BareCr, i);
        if (options_.keep_trailers) trailer_text_ += '\n';
        state_ = State::TrailerStart;
        break;
      case State::FinalLf:
        if (c != '\n') return fail(ParseError::BareCr, i);
        state_ = State::Done;
        if (options_.keep_trailers && !trailer_text_.empty() && trailer_text_.back() == '\n')
          trailer_text_.pop_back();
        return Step{i + 1, {}};
      default:
        // Chunk extension states: count the bytes, then step the extension grammar.
        if (++line_bytes_ > limits_.max_extension_bytes)
          return fail(ParseError::ChunkExtensionTooLong, i);
        switch (state_) {
          case State::SizeBws:
            if (c == ';')
              state_ = State::ExtBws;
            else if (!chars::is_ows(c))
              return fail(ParseError::BadChunkSize, i);
            break;
          case State::ExtBws:
            if (chars::is_token(c)) {
              if (options_.keep_extensions) extensions_.push_back(Extension{std::string(1, c)});
              state_ = State::ExtName;
            } else if (!chars::is_ows(c)) {
              return fail(ParseError::BadChunkExtension, i);
            }
            break;
          case State::ExtName:
            if (chars::is_token(c)) {
              if (options_.keep_extensions) extensions_.back().name += c;
            } else if (c == '=') {
              state_ = State::ExtValueBws;
            } else if (c == ';') {
              state_ = State::ExtBws;
            } else if (c == '\r') {
              state_ = State::SizeLf;
            } else if (chars::is_ows(c)) {
              state_ = State::ExtNameBws;
            } else {
              return fail(c == '\n' ? ParseError::BareLf : ParseError::BadChunkExtension, i);
            }
            break;
          case State::ExtNameBws:
            if (c == '=')
              state_ = State::ExtValueBws;
            else if (c == ';')
              state_ = State::ExtBws;
            else if (!chars::is_ows(c))
              return fail(ParseError::BadChunkExtension, i);
            break;
          case State::ExtValueBws:
            if (chars::is_ows(c)) break;
            if (c == '"')
              state_ = State::ExtQuoted;
            else if (chars::is_token(c))
              state_ = State::ExtToken;
            else
              return fail(ParseError::BadChunkExtension, i);
            if (options_.keep_extensions) {
              extensions_.back().has_value = true;
              extensions_.back().value += c;
            }
            break;
          case State::ExtToken:
            if (chars::is_token(c)) {
              if (options_.keep_extensions) extensions_.back().value += c;
            } else if (c == ';') {
              state_ = State::ExtBws;
            } else if (c == '\r') {
              state_ = State::SizeLf;
            } else if (chars::is_ows(c)) {
              state_ = State::ExtAfterValue;
            } else {
              return fail(c == '\n' ? ParseError::BareLf : ParseError::BadChunkExtension, i);
            }
            break;
          case State::ExtQuoted:
            if (c == '"')
              state_ = State::ExtAfterValue;
            else if (c == '\\')
              state_ = State::ExtQuotedPair;
            else if (!is_qdtext(c))
              return fail(ParseError::BadChunkExtension, i);
            if (options_.keep_extensions) extensions_.back().value += c;
            break;
          case State::ExtQuotedPair:
            if (!is_quoted_pair_char(c)) return fail(ParseError::BadChunkExtension, i);
            if (options_.keep_extensions) extensions_.back().value += c;
            state_ = State::ExtQuoted;
            break;
          case State::ExtAfterValue:
            if (c == ';')
              state_ = State::ExtBws;
            else if (c == '\r')
              state_ = State::SizeLf;
            else if (!chars::is_ows(c))
              return fail(ParseError::BadChunkExtension, i);
            break;
          default:  // unreachable: every other state is handled by the outer switch
            return fail(ParseError::BadChunkSize, i);
        }
        continue;
    }
    // Trailer states fall through to here: count the bytes against the section limit.
    if (++trailer_bytes_ > limits_.max_trailer_bytes) return fail(ParseError::TrailerTooLarge, i);
  }
  return Step{i, {}};
}

}  // namespace httpfs::http
