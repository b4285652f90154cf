// libFuzzer target: the request parser and body decoder over whole connections.
// Input: 2 bytes of split seed, then the byte stream. Checks: no crash, no read past the input
// (guard page, ASan), and the same result for one piece and for the seeded random split.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "support/message_stream.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 2) return 0;
  const unsigned seed = data[0] | (data[1] << 8);
  std::string_view raw(reinterpret_cast<const char*>(data + 2), size - 2);
  using namespace httpfs;
  for (http::RequestParser::Policy policy :
       {http::RequestParser::Policy{}, http::RequestParser::Policy{false, false}}) {
    test::StreamResult whole = test::run_requests(raw, {}, policy);
    test::StreamResult split =
        test::run_requests(raw, test::random_splits(raw.size(), seed, 1 + seed % 17), policy);
    if (!test::same_result(whole, split)) std::abort();
  }
  return 0;
}
