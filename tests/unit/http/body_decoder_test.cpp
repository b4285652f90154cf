// BodyDecoder: Content-Length and chunked bodies, decoded in every split of the input.
#include "http/body_decoder.hpp"

#include <doctest/doctest.h>

#include <string>

#include "support/guarded_buffer.hpp"

using namespace httpfs::http;

namespace {

struct Decoded {
  std::string body;
  bool done = false;
  ParseError error = ParseError::None;
  std::size_t rest = 0;  // bytes after the end of the body
  std::vector<std::pair<std::string, std::string>> trailers;
};

// Feeds `raw` in two pieces cut at `split`, each placed against a guard page. Bytes the
// decoder does not consume stay pending, as in a connection's buffer.
Decoded decode(BodyDecoder d, std::string_view raw, std::size_t split) {
  httpfs::test::GuardedBuffer guard(raw.size() + 1);
  Decoded out;
  std::string pending;
  for (std::string_view piece : {raw.substr(0, split), raw.substr(split)}) {
    pending.append(piece);
    std::string_view view = guard.place(pending);
    std::size_t used = 0;
    while (used < view.size() && !d.done() && !d.failed()) {
      BodyDecoder::Step s = d.decode(view.substr(used));
      used += s.consumed;
      out.body.append(s.data);
      if (s.consumed == 0) break;
    }
    pending.erase(0, used);
    if (d.done() || d.failed()) break;
  }
  out.done = d.done();
  out.error = d.error();
  out.rest = pending.size();
  for (const Header& h : d.trailers()) out.trailers.emplace_back(h.name, h.value);
  return out;
}

// Decodes at every split point and checks that all agree; returns the first.
Decoded decode_all(const BodyDecoder& proto, std::string_view raw) {
  Decoded first = decode(proto, raw, raw.size());
  for (std::size_t k = 0; k < raw.size(); ++k) {
    Decoded d = decode(proto, raw, k);
    bool same = d.body == first.body && d.done == first.done && d.error == first.error &&
                d.trailers == first.trailers;
    CHECK_MESSAGE(same, "split at " << k << " differs");
    if (!same) break;
  }
  return first;
}

BodyDecoder chunked_keep() {
  BodyDecoder::Options o;
  o.keep_trailers = true;
  return BodyDecoder::chunked(BodyDecoder::Limits{}, o);
}

}  // namespace

TEST_CASE("Content-Length bodies hand out views and stop at the length") {
  BodyDecoder d = BodyDecoder::length(5);
  std::string in = "helloNEXT";
  BodyDecoder::Step s = d.decode(in);
  CHECK(s.consumed == 5);
  CHECK(s.data == "hello");
  CHECK(s.data.data() == in.data());  // zero-copy
  CHECK(d.done());
  CHECK(d.decode("more").consumed == 0);
  CHECK(BodyDecoder::none().done());
  Decoded r = decode_all(BodyDecoder::length(3), "abc");
  CHECK(r.body == "abc");
  CHECK(r.done);
}

TEST_CASE("chunked bodies: sizes, extensions, trailers") {
  Decoded r = decode_all(
      chunked_keep(),
      "5\r\nhello\r\n6;a=b;c=\"q;\\\"x\"\r\n world\r\n000\r\nX-A: 1\r\nX-B:  two \r\n\r\n");
  CHECK(r.done);
  CHECK(r.body == "hello world");
  REQUIRE(r.trailers.size() == 2);
  CHECK(r.trailers[1] == std::pair<std::string, std::string>{"X-B", "two"});

  r = decode_all(chunked_keep(), "A\r\n0123456789\r\n0 ; last\r\n\r\n");
  CHECK(r.done);
  CHECK(r.body == "0123456789");
  // Leading zeros are fine, up to a bound.
  CHECK(decode_all(chunked_keep(), "00000000000000000003\r\nabc\r\n0\r\n\r\n").body == "abc");
  CHECK(decode_all(chunked_keep(), "7fffffffffffffff\r\n").error == ParseError::None);
}

TEST_CASE("chunked framing errors") {
  auto error_of = [](std::string_view raw) { return decode_all(chunked_keep(), raw).error; };
  CHECK(error_of("\r\n") == ParseError::BadChunkSize);
  CHECK(error_of("x\r\n") == ParseError::BadChunkSize);
  CHECK(error_of("0x5\r\n") == ParseError::BadChunkSize);
  CHECK(error_of("-5\r\n") == ParseError::BadChunkSize);
  CHECK(error_of("+5\r\n") == ParseError::BadChunkSize);
  CHECK(error_of("5 \r\nhello\r\n") == ParseError::BadChunkSize);  // BWS only before ';'
  CHECK(error_of("8000000000000000\r\n") == ParseError::ChunkSizeOverflow);
  CHECK(error_of("10000000000000000\r\n") == ParseError::ChunkSizeOverflow);
  CHECK(error_of("5\nhello\r\n") == ParseError::BareLf);
  CHECK(error_of("5\rhello\r\n") == ParseError::BareCr);
  CHECK(error_of("5\r\nhelloX\r\n") == ParseError::BadChunkDataEnd);
  CHECK(error_of("5\r\nhello\n0\r\n\r\n") == ParseError::BadChunkDataEnd);
  CHECK(error_of("5;\r\nhello\r\n") == ParseError::BadChunkExtension);
  CHECK(error_of("5;a=\r\nhello\r\n") == ParseError::BadChunkExtension);
  CHECK(error_of("5;a=\"open\r\nhello\r\n") == ParseError::BadChunkExtension);
  CHECK(error_of("0\r\nX : 1\r\n\r\n") == ParseError::BadTrailer);
  CHECK(error_of("0\r\n X: 1\r\n\r\n") == ParseError::BadTrailer);
  CHECK(error_of("0\r\nX: 1\n\r\n") == ParseError::BareLf);
  CHECK(error_of("0\r\n\rX") == ParseError::BareCr);
  // Limits: extension bytes per line and trailer bytes.
  BodyDecoder::Limits small;
  small.max_extension_bytes = 8;
  small.max_trailer_bytes = 16;
  small.max_trailer_fields = 2;
  auto limited = [&](std::string_view raw) {
    return decode_all(BodyDecoder::chunked(small, BodyDecoder::Options{}), raw).error;
  };
  CHECK(limited("1;abc=def\r\nx\r\n0\r\n\r\n") == ParseError::None);
  CHECK(limited("1;abcd=efgh\r\nx\r\n0\r\n\r\n") == ParseError::ChunkExtensionTooLong);
  CHECK(limited("0\r\nA: 1\r\nB: 2\r\n\r\n") == ParseError::None);
  CHECK(limited("0\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n") == ParseError::TrailerTooLarge);
  CHECK(limited("0\r\nA: 0123456789abcdef\r\n\r\n") == ParseError::TrailerTooLarge);
}

TEST_CASE("chunk framing may not outweigh the data beyond an allowance") {
  BodyDecoder::Limits small;
  small.overhead_allowance = 100;
  small.max_overhead_ratio = 4;
  auto limited = [&](const std::string& raw) {
    return decode_all(BodyDecoder::chunked(small, BodyDecoder::Options{}), raw).error;
  };
  // 1-byte chunks: 6 framing bytes per data byte ("1\r\n" + "\r\n", plus "x").
  std::string tiny;
  for (int i = 0; i < 30; ++i) tiny += "1\r\nx\r\n";
  CHECK(limited(tiny + "0\r\n\r\n") == ParseError::ChunkOverhead);
  // Under the allowance, any proportion is fine.
  CHECK(limited("1\r\nx\r\n1\r\nx\r\n0\r\n\r\n") == ParseError::None);
  // Large chunks: framing is a sliver of the data, whatever the length.
  std::string big;
  for (int i = 0; i < 30; ++i) big += "10\r\n" + std::string(16, 'y') + "\r\n";
  CHECK(limited(big + "0\r\n\r\n") == ParseError::None);
  // The default allowance (1 MiB) lets the shared vectors' 100 000 one-byte chunks through;
  // 4 KiB of extensions per data byte is refused after about 1 MiB.
  std::string ext;
  for (int i = 0; i < 400; ++i) ext += "1;e=" + std::string(4000, 'z') + "\r\nx\r\n";
  const std::string whole = ext + "0\r\n\r\n";
  CHECK(decode(BodyDecoder::chunked(), whole, whole.size()).error == ParseError::ChunkOverhead);
}

TEST_CASE("bytes after a chunked body are left for the next message") {
  BodyDecoder d = BodyDecoder::chunked();
  std::string in = "3\r\nabc\r\n0\r\n\r\nGET / HTTP/1.1\r\n";
  std::string body;
  std::size_t used = 0;
  while (!d.done()) {
    BodyDecoder::Step s = d.decode(std::string_view(in).substr(used));
    used += s.consumed;
    body.append(s.data);
  }
  CHECK(body == "abc");
  CHECK(in.substr(used) == "GET / HTTP/1.1\r\n");
  CHECK(d.body_bytes() == 3);
}
