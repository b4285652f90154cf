// libFuzzer target: the response parser and body decoder, as the client runs them.
// Input: 1 byte selecting the request method and EOF, 2 bytes of split seed, the stream.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "support/message_stream.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 3) return 0;
  using namespace httpfs;
  const http::Method methods[] = {http::Method::Get, http::Method::Head, http::Method::Put,
                                  http::Method::Connect};
  const http::Method method = methods[data[0] & 3];
  const bool eof = (data[0] & 4) != 0;
  const unsigned seed = data[1] | (data[2] << 8);
  std::string_view raw(reinterpret_cast<const char*>(data + 3), size - 3);
  test::StreamResult whole = test::run_responses(raw, {}, method, eof);
  test::StreamResult split =
      test::run_responses(raw, test::random_splits(raw.size(), seed, 1 + seed % 17), method, eof);
  if (!test::same_result(whole, split)) std::abort();
  return 0;
}
