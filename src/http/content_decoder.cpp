#include "http/content_decoder.hpp"

#include <brotli/decode.h>
#include <zlib.h>
#include <zstd.h>
#include <zstd_errors.h>

#include <algorithm>
#include <climits>

namespace httpfs::http {

namespace {

// RFC 9659: zstd content may not need a window over 8 MiB, so that a decoder's memory stays
// small; larger frames are refused rather than allocated for.
constexpr int kZstdWindowLogMax = 23;

class ZstdDecoder final : public ContentDecoder {
 public:
  ZstdDecoder() : ContentDecoder(Coding::Zstd), dctx_(ZSTD_createDCtx()) {
    if (dctx_ != nullptr) ZSTD_DCtx_setParameter(dctx_, ZSTD_d_windowLogMax, kZstdWindowLogMax);
  }
  ~ZstdDecoder() override { ZSTD_freeDCtx(dctx_); }

 private:
  Run run(std::string_view in, char* out, std::size_t room) override {
    if (dctx_ == nullptr) return Run{0, 0, false, Error::NoMemory};
    ZSTD_inBuffer input{in.data(), in.size(), 0};
    ZSTD_outBuffer output{out, room, 0};
    const std::size_t r = ZSTD_decompressStream(dctx_, &output, &input);
    Run result{input.pos, output.pos, r == 0, Error::None};
    if (ZSTD_isError(r)) {
      result.ended = false;
      switch (ZSTD_getErrorCode(r)) {
        case ZSTD_error_frameParameter_windowTooLarge:
          result.error = Error::TooLarge;
          break;
        case ZSTD_error_memory_allocation:
          result.error = Error::NoMemory;
          break;
        default:
          result.error = Error::Corrupt;
          break;
      }
    }
    return result;
  }
  // A frame that ended leaves the context ready for the next (RFC 8878 3: a stream is one or
  // more frames).
  bool restart() override { return true; }

  ZSTD_DCtx* dctx_;
};

class GzipDecoder final : public ContentDecoder {
 public:
  GzipDecoder() : ContentDecoder(Coding::Gzip) {
    // windowBits 15 + 16: the gzip wrapper only (RFC 1952), with its CRC-32 and length check.
    ok_ = inflateInit2(&z_, 15 + 16) == Z_OK;
  }
  ~GzipDecoder() override {
    if (ok_) inflateEnd(&z_);
  }

 private:
  Run run(std::string_view in, char* out, std::size_t room) override {
    if (!ok_) return Run{0, 0, false, Error::NoMemory};
    // zlib counts in 32-bit unsigned ints; whatever is left over is taken on the next pass.
    const uInt in_len = static_cast<uInt>(std::min<std::size_t>(in.size(), UINT_MAX));
    const uInt out_len = static_cast<uInt>(std::min<std::size_t>(room, UINT_MAX));
    z_.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
    z_.avail_in = in_len;
    z_.next_out = reinterpret_cast<Bytef*>(out);
    z_.avail_out = out_len;
    const int r = inflate(&z_, Z_NO_FLUSH);
    Run result{in_len - z_.avail_in, out_len - z_.avail_out, r == Z_STREAM_END, Error::None};
    if (r == Z_MEM_ERROR) result.error = Error::NoMemory;
    // Z_BUF_ERROR only says that no progress was possible (no input or no room): not an error.
    if (r == Z_DATA_ERROR || r == Z_NEED_DICT || r == Z_STREAM_ERROR) result.error = Error::Corrupt;
    return result;
  }
  // gzip(1) writes concatenated members for appended files and reads them back as one.
  bool restart() override { return inflateReset(&z_) == Z_OK; }

  z_stream z_{};
  bool ok_ = false;
};

class BrotliDecoder final : public ContentDecoder {
 public:
  BrotliDecoder()
      : ContentDecoder(Coding::Br),
        state_(BrotliDecoderCreateInstance(nullptr, nullptr, nullptr)) {}
  ~BrotliDecoder() override { BrotliDecoderDestroyInstance(state_); }

 private:
  Run run(std::string_view in, char* out, std::size_t room) override {
    if (state_ == nullptr) return Run{0, 0, false, Error::NoMemory};
    std::size_t avail_in = in.size();
    const auto* next_in = reinterpret_cast<const std::uint8_t*>(in.data());
    std::size_t avail_out = room;
    auto* next_out = reinterpret_cast<std::uint8_t*>(out);
    const BrotliDecoderResult r =
        BrotliDecoderDecompressStream(state_, &avail_in, &next_in, &avail_out, &next_out, nullptr);
    Run result{in.size() - avail_in, room - avail_out, r == BROTLI_DECODER_RESULT_SUCCESS,
               Error::None};
    if (r == BROTLI_DECODER_RESULT_ERROR) {
      // The allocation failures are the codes from -21 down to -30.
      const int code = BrotliDecoderGetErrorCode(state_);
      result.error = code <= BROTLI_DECODER_ERROR_ALLOC_CONTEXT_MODES &&
                             code >= BROTLI_DECODER_ERROR_ALLOC_BLOCK_TYPE_TREES
                         ? Error::NoMemory
                         : Error::Corrupt;
    }
    return result;
  }
  // A brotli stream is one stream: nothing may follow its last meta-block.

  BrotliDecoderState* state_;
};

}  // namespace

std::unique_ptr<ContentDecoder> ContentDecoder::make(Coding coding) {
  switch (coding) {
    case Coding::Zstd:
      return std::make_unique<ZstdDecoder>();
    case Coding::Gzip:
      return std::make_unique<GzipDecoder>();
    case Coding::Br:
      return std::make_unique<BrotliDecoder>();
    case Coding::Identity:
      break;
  }
  return nullptr;
}

std::size_t ContentDecoder::decode(std::string_view in, std::string& out) {
  pending_ = false;
  if (error_ != Error::None) return 0;
  began_ = began_ || !in.empty();
  const std::size_t start = out.size();
  out.resize(start + kMaxOutput);
  std::size_t taken = 0, made = 0;
  while (made < kMaxOutput) {
    const std::string_view rest = in.substr(taken);
    if (finished_) {
      if (rest.empty()) break;
      // Bytes after the end: another member or frame where the coding allows one.
      if (!restart()) {
        error_ = Error::Trailing;
        break;
      }
      finished_ = false;
      stream_out_ = 0;
    }
    const Run r = run(rest, out.data() + start + made, kMaxOutput - made);
    taken += r.consumed;
    made += r.produced;
    stream_out_ += r.produced;
    if (r.error != Error::None) {
      // Garbage after a complete stream fails as the start of another: name it for what it is.
      error_ =
          r.error == Error::Corrupt && streams_ > 0 && stream_out_ == 0 ? Error::Trailing : r.error;
      break;
    }
    if (r.ended) {
      finished_ = true;
      ++streams_;
      continue;
    }
    // No progress: the coder waits for input (it took all there was) or for room.
    if (r.consumed == 0 && r.produced == 0) {
      if (!rest.empty() && made < kMaxOutput) error_ = Error::Corrupt;  // a stall: never loop
      break;
    }
  }
  out.resize(start + made);
  pending_ = error_ == Error::None && made == kMaxOutput;
  return taken;
}

ContentDecoder::Error ContentDecoder::end() noexcept {
  if (error_ != Error::None || finished_ || !began_) return error_;
  // A few bytes after a complete stream that never became another one.
  error_ = streams_ > 0 && stream_out_ == 0 ? Error::Trailing : Error::Truncated;
  return error_;
}

std::string_view error_text(ContentDecoder::Error e) noexcept {
  switch (e) {
    case ContentDecoder::Error::None:
      return "fine";
    case ContentDecoder::Error::Corrupt:
      return "corrupt";
    case ContentDecoder::Error::Trailing:
      return "followed by bytes that are not part of it";
    case ContentDecoder::Error::Truncated:
      return "truncated";
    case ContentDecoder::Error::TooLarge:
      return "coded with a window over 8 MiB, more than RFC 9659 allows";
    case ContentDecoder::Error::NoMemory:
      return "not decodable: out of memory";
  }
  return "not decodable";
}

}  // namespace httpfs::http
