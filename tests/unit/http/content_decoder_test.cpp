#include "http/content_decoder.hpp"

#include <doctest/doctest.h>
#include <zstd.h>

#include <algorithm>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "http/base64.hpp"
#include "http/content_encoder.hpp"

using namespace httpfs::http;
using Error = ContentDecoder::Error;

namespace {

// No brotli encoder is linked, so the br inputs are fixed bytes, made on a development machine
// with libbrotlienc 1.0.9 (BrotliEncoderCompressStream, quality 11 for the text, 5 for the
// bomb, lgwin 22). kBrText is text() below; kBrBomb is 1 GiB of zero bytes (1617 bytes).
const char* const kBrText =
    "G1ES4I3UXrW40OwRKl3HhrG6Cwjltr6Sjm4tjh9iEXErDmVwADY8am4ZRlDcelFitXzfp7M0WL0v8wh/KCLIzHnPf0Ua"
    "FEcnZxdXN27dbaLgIoCEgoaBhQPXXcgHAQkFDQMLB667UA8CEgoaBhYOXHehHwQkFDQMLBy47sI8CEgoaBhYOHDdhX0Q"
    "kFDQMLBw4LoL50FAQkHDwMKB6y7cBwEJBQ0DCweuu/AeBCQUNAwsHLjuAA==";
const char* const kBrBomb =
    "y///PwAkAOKxQHLv//j//weABEAcFoDu/R////8AkACIwwLQvf/j//8fABIAcVgAuvd//P//A0ACIA4LQPf+j///fwBI"
    "AMRhAeje//H//w8ACYA4LADd+z/+//8BIAEQhwWge//H//8/ACQA4rAAdO//+P//B4AEQBwWgO79H////wCQAIjDAtC9"
    "/+P//x8AEgBxWAC693/8//8DQAIgDgtA9/6P//9/AEgAxGEB6N7/8f//DwAJgDgsAN37P/7//wEgARCHBaB7/8f//z8A"
    "JADisAB07//4//8HgARAHBaA7v0f////AJAAiMMC0L3/4///HwASAHFYALr3f/z//wNAAiAOC0D3/o///38ASADEYQHo"
    "3v/x//8PAAmAOCwA3fs//v//ASABEIcFoHv/x///PwAkAOKwAHTv//j//weABEAcFoDu/R////8AkACIwwLQvf/j//8f"
    "ABIAcVgAuvd//P//A0ACIA4LQPf+j///fwBIAMRhAeje//H//w8ACYA4LADd+z/+//8BIAEQhwWge//H//8/ACQA4rAA"
    "dO//+P//B4AEQBwWgO79H////wCQAIjDAtC9/+P//x8AEgBxWAC693/8//8DQAIgDgtA9/6P//9/AEgAxGEB6N7/8f//"
    "DwAJgDgsAN37P/7//wEgARCHBaB7/8f//z8AJADisAB07//4//8HgARAHBaA7v0f////AJAAiMMC0L3/4///HwASAHFY"
    "ALr3f/z//wNAAiAOC0D3/o///38ASADEYQHo3v/x//8PAAmAOCwA3fs//v//ASABEIcFoHv/x///PwAkAOKwAHTv//j/"
    "/weABEAcFoDu/R////8AkACIwwLQvf/j//8fABIAcVgAuvd//P//A0ACIA4LQPf+j///fwBIAMRhAeje//H//w8ACYA4"
    "LADd+z/+//8BIAEQhwWge//H//8/ACQA4rAAdO//+P//B4AEQBwWgO79H////wCQAIjDAtC9/+P//x8AEgBxWAC693/8"
    "//8DQAIgDgtA9/6P//9/AEgAxGEB6N7/8f//DwAJgDgsAN37P/7//wEgARCHBaB7/8f//z8AJADisAB07//4//8HgARA"
    "HBaA7v0f////AJAAiMMC0L3/4///HwASAHFYALr3f/z//wNAAiAOC0D3/o///38ASADEYQHo3v/x//8PAAmAOCwA3fs/"
    "/v//ASABEIcFoHv/x///PwAkAOKwAHTv//j//weABEAcFoDu/R////8AkACIwwLQvf/j//8fABIAcVgAuvd//P//A0AC"
    "IA4LQPf+j///fwBIAMRhAeje//H//w8ACYA4LADd+z/+//8BIAEQhwWge//H//8/ACQA4rAAdO//+P//B4AEQBwWgO79"
    "H////wCQAIjDAtC9/+P//x8AEgBxWAC693/8//8DQAIgDgtA9/6P//9/AEgAxGEB6N7/8f//DwAJgDgsAN37P/7//wEg"
    "ARCHBaB7/8f//z8AJADisAB07//4//8HgARAHBaA7v0f////AJAAiMMC0L3/4///HwASAHFYALr3f/z//wNAAiAOC0D3"
    "/o///38ASADEYQHo3v/x//8PAAmAOCwA3fs//v//ASABEIcFoHv/x///PwAkAOKwAHTv//j//weABEAcFoDu/R////8A"
    "kACIwwLQvf/j//8fABIAcVgAuvd//P//A0ACIA4LQPf+j///fwBIAMRhAeje//H//w8ACYA4LADd+z/+//8BIAEQhwWg"
    "e//H//8/ACQA4rAAdO//+P//B4AEQBwWgO79H////wCQAIjDAtC9/+P//x8AEgBxWAC693/8//8DQAIgDgtA9/6P//9/"
    "AEgAxGEB6N7/8f//DwAJgDgsAN37P/7//wEgARCHBaB7/8f//z8AJADisAB07//4//8HgARAHBaA7v0f////AJAAiMMC"
    "0L3/4///HwASAHFYALr3f/z//wNAAiAOC0D3/o///38ASADEYQHo3v/x//8PAAmAOCwA3fs//v//ASABEIcFoHv/x///"
    "PwAkAOKwAHTv//j//weABEAcFoDu/R////8AkACIwwLQvf/j//8fABIAcVgAuvd//P//A0ACIA4LQPf+j///fwBIAMRh"
    "Aeje//H//w8ACYA4LADd+z/+//8BIAEQhwWge/83";

// RFC 9530 B.4: {"hello": "world"} in br, as the RFC shows it.
const char* const kRfc9530Br = "iwiAeyJoZWxsbyI6ICJ3b3JsZCJ9Aw==";

std::string unbase64(std::string_view b64) {
  std::optional<std::string> raw = base64_decode(b64);
  REQUIRE(raw.has_value());
  return *raw;
}

// 4690 bytes of text; kBrText is its br coding.
std::string text() {
  std::string s;
  for (int i = 0; i < 100; ++i)
    s += std::to_string(i) + ": zstd, gzip and br decode to the same bytes\n";
  return s;
}

std::string coded(Coding c, std::string_view plain) {
  if (c == Coding::Br) {
    REQUIRE(plain == text());
    return unbase64(kBrText);
  }
  std::string out = encode_all(c, 6, plain);
  REQUIRE(!out.empty());
  return out;
}

struct Decoded {
  std::string out;
  Error error = Error::None;  // from decode(), else from end()
  bool finished = false;      // before end()
  std::size_t calls = 0;
  std::size_t max_growth = 0;  // the most one call appended
};

// Feeds `pieces` in order as the loop in content_decoder.hpp does, then ends the input.
Decoded decode_pieces(Coding c, const std::vector<std::string_view>& pieces) {
  std::unique_ptr<ContentDecoder> d = ContentDecoder::make(c);
  REQUIRE(d != nullptr);
  CHECK(d->coding() == c);
  Decoded r;
  std::string buf;
  for (std::string_view in : pieces) {
    do {
      buf.clear();
      in.remove_prefix(d->decode(in, buf));
      ++r.calls;
      r.max_growth = std::max(r.max_growth, buf.size());
      r.out += buf;
      if (d->error() != Error::None) {
        r.error = d->error();
        CHECK(d->decode("more", buf) == 0);  // an error is final
        CHECK(d->end() == r.error);
        return r;
      }
    } while (!in.empty() || d->output_pending());
  }
  r.finished = d->finished();
  r.error = d->end();
  return r;
}

Decoded decode_whole(Coding c, std::string_view in) {
  return decode_pieces(c, {in});
}

constexpr Coding kCodings[] = {Coding::Zstd, Coding::Gzip, Coding::Br};

}  // namespace

TEST_CASE("identity needs no decoder") {
  CHECK(ContentDecoder::make(Coding::Identity) == nullptr);
}

TEST_CASE("each coding decodes, whole and split at every byte") {
  const std::string plain = text();
  for (Coding c : kCodings) {
    const std::string in = coded(c, plain);
    INFO(coding_name(c) << ": " << in.size() << " coded bytes");
    Decoded whole = decode_whole(c, in);
    CHECK(whole.error == Error::None);
    CHECK(whole.finished);
    CHECK(whole.out == plain);
    // Two pieces, split at each byte (the state must carry across any boundary).
    for (std::size_t i = 0; i <= in.size(); ++i) {
      const std::string_view v = in;
      Decoded two = decode_pieces(c, {v.substr(0, i), v.substr(i)});
      INFO("split at " << i);
      REQUIRE(two.error == Error::None);
      REQUIRE(two.out == plain);
    }
    // One byte at a time.
    std::vector<std::string_view> bytes;
    for (std::size_t i = 0; i < in.size(); ++i) bytes.push_back(std::string_view(in).substr(i, 1));
    Decoded one = decode_pieces(c, bytes);
    CHECK(one.error == Error::None);
    CHECK(one.out == plain);
  }
}

TEST_CASE("br: the example of RFC 9530 B.4") {
  Decoded d = decode_whole(Coding::Br, unbase64(kRfc9530Br));
  CHECK(d.error == Error::None);
  CHECK(d.out == R"({"hello": "world"})");
}

TEST_CASE("output larger than one call's cap comes out over several calls, in order") {
  // 3 MiB of compressible but not trivial bytes.
  std::string plain;
  std::uint32_t x = 12345;
  while (plain.size() < (3u << 20)) {
    x = x * 1103515245 + 12345;
    plain += "record " + std::to_string(x % 1000) + " of many\n";
  }
  for (Coding c : {Coding::Zstd, Coding::Gzip}) {
    INFO(coding_name(c));
    const std::string in = coded(c, plain);
    Decoded whole = decode_whole(c, in);
    CHECK(whole.error == Error::None);
    CHECK(whole.out == plain);
    CHECK(whole.max_growth == ContentDecoder::kMaxOutput);
    CHECK(whole.calls > plain.size() / ContentDecoder::kMaxOutput);
    // As a body arrives: 16 KiB pieces.
    std::vector<std::string_view> pieces;
    for (std::size_t i = 0; i < in.size(); i += 16384)
      pieces.push_back(std::string_view(in).substr(i, 16384));
    Decoded streamed = decode_pieces(c, pieces);
    CHECK(streamed.error == Error::None);
    CHECK(streamed.out == plain);
  }
}

TEST_CASE("concatenated gzip members and zstd frames decode as one body") {
  for (Coding c : {Coding::Zstd, Coding::Gzip}) {
    INFO(coding_name(c));
    const std::string in = coded(c, "first, ") + coded(c, "") + coded(c, "second");
    Decoded d = decode_whole(c, in);
    CHECK(d.error == Error::None);
    CHECK(d.finished);
    CHECK(d.out == "first, second");
    for (std::size_t i = 0; i <= in.size(); ++i) {
      const std::string_view v = in;
      REQUIRE(decode_pieces(c, {v.substr(0, i), v.substr(i)}).out == "first, second");
    }
  }
  // brotli has no such thing: a second stream is trailing data.
  const std::string br = unbase64(kRfc9530Br);
  CHECK(decode_whole(Coding::Br, br + br).error == Error::Trailing);
}

TEST_CASE("a body that ends before its coded stream is truncated, wherever it stops") {
  const std::string plain = text();
  for (Coding c : kCodings) {
    const std::string in = coded(c, plain);
    INFO(coding_name(c));
    for (std::size_t n = 1; n < in.size(); ++n) {
      Decoded d = decode_whole(c, std::string_view(in).substr(0, n));
      INFO("first " << n << " bytes");
      REQUIRE(d.error == Error::Truncated);
      REQUIRE_FALSE(d.finished);
      REQUIRE(plain.starts_with(d.out));  // what came out is right, as far as it goes
    }
  }
  // No bytes at all: empty content (a HEAD-like or empty answer), not a truncation.
  for (Coding c : kCodings) CHECK(decode_pieces(c, {}).error == Error::None);
}

TEST_CASE("bytes after the end of the coded stream are an error") {
  const std::string plain = text();
  for (Coding c : kCodings) {
    const std::string in = coded(c, plain);
    INFO(coding_name(c));
    for (std::string_view garbage : {std::string_view("trailing garbage, long enough to tell"),
                                     std::string_view("\0", 1), std::string_view("xy")}) {
      INFO("garbage of " << garbage.size() << " bytes");
      CHECK(decode_whole(c, in + std::string(garbage)).error == Error::Trailing);
      // Also when the garbage comes in a later piece, after the end was seen.
      Decoded later = decode_pieces(c, {in, garbage});
      CHECK(later.error == Error::Trailing);
      CHECK(later.out == plain);
    }
  }
}

TEST_CASE("corrupt input is an error, not wrong output") {
  const std::string plain = text();
  for (Coding c : kCodings) {
    INFO(coding_name(c));
    CHECK(decode_whole(c, "this is not coded at all, just text").error == Error::Corrupt);
    CHECK(decode_whole(c, std::string(64, '\xff')).error == Error::Corrupt);
  }
  // zstd (with its checksum, as ContentEncoder writes it) and gzip (CRC-32 and length)
  // catch any flipped byte, but for gzip's MTIME, XFL and OS header bytes (4 to 9), which
  // nothing checks; brotli has no checksum, so only its structure is checked.
  for (Coding c : {Coding::Zstd, Coding::Gzip}) {
    const std::string in = coded(c, plain);
    INFO(coding_name(c));
    for (std::size_t i = 0; i < in.size(); ++i) {
      if (c == Coding::Gzip && i >= 4 && i <= 9) continue;
      std::string bad = in;
      bad[i] = static_cast<char>(bad[i] ^ 0x55);
      Decoded d = decode_whole(c, bad);
      INFO("byte " << i << " changed");
      // A changed header flag may make the rest look truncated or trailing; never a success.
      REQUIRE(d.error != Error::None);
    }
  }
}

TEST_CASE("zstd: a frame that needs a window over 8 MiB is refused (RFC 9659)") {
  ZSTD_CCtx* cctx = ZSTD_createCCtx();
  REQUIRE(cctx != nullptr);
  ZSTD_CCtx_setParameter(cctx, ZSTD_c_windowLog, 24);
  // Streamed (the size unknown to the frame header), so the frame declares the whole window.
  std::string out(1024, '\0');
  const std::string plain = "a small body in a frame that declares a 16 MiB window";
  ZSTD_inBuffer in{plain.data(), plain.size(), 0};
  ZSTD_outBuffer o{out.data(), out.size(), 0};
  REQUIRE(!ZSTD_isError(ZSTD_compressStream2(cctx, &o, &in, ZSTD_e_continue)));
  REQUIRE(ZSTD_compressStream2(cctx, &o, &in, ZSTD_e_end) == 0);
  out.resize(o.pos);
  ZSTD_freeCCtx(cctx);
  CHECK(decode_whole(Coding::Zstd, out).error == Error::TooLarge);
  CHECK(error_text(Error::TooLarge).find("8 MiB") != std::string_view::npos);
}

TEST_CASE("a decompression bomb (1 GiB of zeros) comes out in bounded pieces") {
  constexpr std::uint64_t kGiB = 1ull << 30;
  const std::string zeros(1 << 20, '\0');
  for (Coding c : kCodings) {
    INFO(coding_name(c));
    std::string bomb;
    if (c == Coding::Br) {
      bomb = unbase64(kBrBomb);
    } else {
      auto enc = ContentEncoder::make(c, 1);
      REQUIRE(enc != nullptr);
      for (std::uint64_t i = 0; i < kGiB / zeros.size(); ++i)
        REQUIRE(enc->encode(zeros, false, bomb));
      REQUIRE(enc->encode({}, true, bomb));
    }
    MESSAGE(coding_name(c) << ": 1 GiB of zeros in " << bomb.size() << " bytes");
    // Fed as a body arrives, in 16 KiB pieces; each call may add at most kMaxOutput bytes, and
    // the caller's buffer never needs more.
    std::unique_ptr<ContentDecoder> d = ContentDecoder::make(c);
    std::string buf;
    std::uint64_t total = 0;
    std::size_t calls = 0, max_growth = 0;
    bool all_zero = true;
    for (std::size_t at = 0; at < bomb.size(); at += 16384) {
      std::string_view in = std::string_view(bomb).substr(at, 16384);
      do {
        buf.clear();
        in.remove_prefix(d->decode(in, buf));
        ++calls;
        max_growth = std::max(max_growth, buf.size());
        total += buf.size();
        all_zero = all_zero && std::memcmp(buf.data(), zeros.data(), buf.size()) == 0;
        REQUIRE(d->error() == Error::None);
      } while (!in.empty() || d->output_pending());
    }
    CHECK(d->end() == Error::None);
    CHECK(total == kGiB);
    CHECK(all_zero);
    CHECK(max_growth <= ContentDecoder::kMaxOutput);
    CHECK(calls >= kGiB / ContentDecoder::kMaxOutput);
    CHECK(buf.capacity() < 2 * ContentDecoder::kMaxOutput);
  }
}
