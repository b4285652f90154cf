#include "http/content_encoder.hpp"

#include <zlib.h>
#include <zstd.h>

#include <algorithm>

namespace httpfs::http {

namespace {

// zstd levels for 1..9: fast ones stay fast (3 is zstd's default), 9 trades CPU for size.
constexpr int kZstdLevel[10] = {3, 1, 2, 3, 4, 5, 6, 9, 12, 15};

int clamp_level(int level) {
  return std::clamp(level, 1, 9);
}

class ZstdEncoder final : public ContentEncoder {
 public:
  explicit ZstdEncoder(int level) : cctx_(ZSTD_createCCtx()) {
    if (cctx_ != nullptr)
      ZSTD_CCtx_setParameter(cctx_, ZSTD_c_compressionLevel, kZstdLevel[clamp_level(level)]);
    // A checksum lets the decoder tell a damaged body from a good one (RFC 8878 3.1.1).
    if (cctx_ != nullptr) ZSTD_CCtx_setParameter(cctx_, ZSTD_c_checksumFlag, 1);
  }
  ~ZstdEncoder() override { ZSTD_freeCCtx(cctx_); }

  bool encode(std::string_view in, bool last, std::string& out) override {
    if (cctx_ == nullptr) return false;
    ZSTD_inBuffer input{in.data(), in.size(), 0};
    const ZSTD_EndDirective mode = last ? ZSTD_e_end : ZSTD_e_continue;
    for (;;) {
      const std::size_t start = out.size();
      out.resize(start + ZSTD_CStreamOutSize());
      ZSTD_outBuffer output{out.data() + start, out.size() - start, 0};
      const std::size_t left = ZSTD_compressStream2(cctx_, &output, &input, mode);
      out.resize(start + output.pos);
      if (ZSTD_isError(left)) return false;
      // e_continue: done when all input is taken; e_end: when nothing is left to flush.
      if (last ? left == 0 : input.pos == input.size) return true;
    }
  }

 private:
  ZSTD_CCtx* cctx_;
};

class GzipEncoder final : public ContentEncoder {
 public:
  explicit GzipEncoder(int level) {
    // windowBits 15 + 16: the gzip wrapper (RFC 1952) instead of zlib's.
    ok_ = deflateInit2(&z_, clamp_level(level), Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) == Z_OK;
  }
  ~GzipEncoder() override {
    if (ok_) deflateEnd(&z_);
  }

  bool encode(std::string_view in, bool last, std::string& out) override {
    if (!ok_) return false;
    z_.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
    z_.avail_in = static_cast<uInt>(in.size());
    const int flush = last ? Z_FINISH : Z_NO_FLUSH;
    for (;;) {
      const std::size_t start = out.size();
      const std::size_t room = std::max<std::size_t>(16 * 1024, in.size() / 2);
      out.resize(start + room);
      z_.next_out = reinterpret_cast<Bytef*>(out.data() + start);
      z_.avail_out = static_cast<uInt>(room);
      const int r = deflate(&z_, flush);
      out.resize(start + (room - z_.avail_out));
      if (r == Z_STREAM_ERROR) return false;
      if (last ? r == Z_STREAM_END : (z_.avail_in == 0 && z_.avail_out != 0)) return true;
    }
  }

 private:
  z_stream z_{};
  bool ok_ = false;
};

}  // namespace

std::unique_ptr<ContentEncoder> ContentEncoder::make(Coding coding, int level) {
  switch (coding) {
    case Coding::Zstd:
      return std::make_unique<ZstdEncoder>(level);
    case Coding::Gzip:
      return std::make_unique<GzipEncoder>(level);
    case Coding::Br:
    case Coding::Identity:
      break;
  }
  return nullptr;
}

std::string encode_all(Coding coding, int level, std::string_view in) {
  std::string out;
  auto enc = ContentEncoder::make(coding, level);
  if (!enc || !enc->encode(in, true, out)) return {};
  return out;
}

}  // namespace httpfs::http
