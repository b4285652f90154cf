#include "http/content_encoder.hpp"

#include <doctest/doctest.h>
#include <zlib.h>
#include <zstd.h>

#include <random>
#include <string>

using namespace httpfs::http;

namespace {

std::string gunzip(std::string_view in) {
  z_stream z{};
  REQUIRE(inflateInit2(&z, 15 + 16) == Z_OK);
  std::string out;
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  z.avail_in = static_cast<uInt>(in.size());
  int r = Z_OK;
  while (r == Z_OK) {
    char buf[16384];
    z.next_out = reinterpret_cast<Bytef*>(buf);
    z.avail_out = sizeof buf;
    r = inflate(&z, Z_NO_FLUSH);
    out.append(buf, sizeof buf - z.avail_out);
    if (r == Z_BUF_ERROR) break;
  }
  CHECK(r == Z_STREAM_END);
  CHECK(z.avail_in == 0);  // nothing after the gzip trailer
  inflateEnd(&z);
  return out;
}

std::string unzstd(std::string_view in) {
  const unsigned long long size = ZSTD_getFrameContentSize(in.data(), in.size());
  std::string out;
  ZSTD_DStream* d = ZSTD_createDStream();
  ZSTD_inBuffer input{in.data(), in.size(), 0};
  std::size_t r = 1;
  while (input.pos < input.size && r != 0) {
    char buf[16384];
    ZSTD_outBuffer output{buf, sizeof buf, 0};
    r = ZSTD_decompressStream(d, &output, &input);
    REQUIRE_FALSE(ZSTD_isError(r));
    out.append(buf, output.pos);
  }
  CHECK(r == 0);  // the frame ended (with its checksum verified)
  CHECK(input.pos == input.size);
  ZSTD_freeDStream(d);
  (void)size;
  return out;
}

std::string decode(Coding c, std::string_view in) {
  return c == Coding::Zstd ? unzstd(in) : gunzip(in);
}

std::string text(std::size_t n) {
  std::string s;
  std::mt19937 rng(7);
  static const char* const words[] = {"alpha ", "beta ", "gamma ", "delta\n", "<li>", "</li>"};
  while (s.size() < n) s += words[rng() % 6];
  s.resize(n);
  return s;
}

std::string noise(std::size_t n) {
  std::string s(n, '\0');
  std::mt19937 rng(9);
  for (char& ch : s) ch = static_cast<char>(rng());
  return s;
}

}  // namespace

TEST_CASE("encoders round-trip through the reference decoders") {
  for (Coding c : {Coding::Zstd, Coding::Gzip}) {
    for (int level : {1, 3, 9}) {
      for (std::size_t n :
           {std::size_t{0}, std::size_t{1}, std::size_t{1000}, std::size_t{300000}}) {
        CAPTURE(coding_name(c));
        CAPTURE(level);
        CAPTURE(n);
        const std::string in = text(n);
        const std::string coded = encode_all(c, level, in);
        REQUIRE_FALSE(coded.empty());
        CHECK(decode(c, coded) == in);
        if (n >= 1000) CHECK(coded.size() < in.size() / 2);
      }
    }
  }
}

TEST_CASE("an encoder fed in slices makes the same body as one fed at once") {
  const std::string in = text(200000) + noise(70000) + text(50000);
  for (Coding c : {Coding::Zstd, Coding::Gzip}) {
    CAPTURE(coding_name(c));
    for (std::size_t slice :
         {std::size_t{1}, std::size_t{7}, std::size_t{4096}, std::size_t{65536}}) {
      CAPTURE(slice);
      if (slice == 1 && in.size() > 20000) {
        // Byte by byte over the first 20 000 bytes only: slow otherwise.
        auto enc = ContentEncoder::make(c, 3);
        std::string out;
        for (std::size_t i = 0; i < 20000; ++i)
          REQUIRE(enc->encode(std::string_view(in).substr(i, 1), false, out));
        REQUIRE(enc->encode({}, true, out));
        CHECK(decode(c, out) == in.substr(0, 20000));
        continue;
      }
      auto enc = ContentEncoder::make(c, 3);
      std::string out;
      for (std::size_t i = 0; i < in.size(); i += slice)
        REQUIRE(enc->encode(std::string_view(in).substr(i, slice), false, out));
      REQUIRE(enc->encode({}, true, out));
      CHECK(decode(c, out) == in);
    }
  }
}

TEST_CASE("incompressible input grows only by the codings' framing") {
  const std::string in = noise(1 << 20);
  for (Coding c : {Coding::Zstd, Coding::Gzip}) {
    const std::string coded = encode_all(c, 3, in);
    CHECK(decode(c, coded) == in);
    CHECK(coded.size() < in.size() + in.size() / 100);
  }
}

TEST_CASE("levels outside 1..9 are clamped, and only zstd and gzip are made") {
  const std::string in = text(5000);
  CHECK(gunzip(encode_all(Coding::Gzip, 0, in)) == in);
  CHECK(unzstd(encode_all(Coding::Zstd, 99, in)) == in);
  CHECK(ContentEncoder::make(Coding::Br, 3) == nullptr);
  CHECK(ContentEncoder::make(Coding::Identity, 3) == nullptr);
}
