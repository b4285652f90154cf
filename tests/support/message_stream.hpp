// Drives the sans-I/O parsers over a byte stream cut into pieces, the way a connection does:
// parse a head, decode its body, go on with the next message, stop after an error or after a
// message that does not keep the connection. Every parser call sees its input placed against
// a guard page. Results are copied into owned strings at once.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "http/method.hpp"
#include "http/parse_error.hpp"
#include "http/request_parser.hpp"

namespace httpfs::test {

using Fields = std::vector<std::pair<std::string, std::string>>;

struct Message {
  // requests
  std::string method, target;
  // responses
  int status = 0;
  std::string reason;
  std::string framing;  // responses: length / chunked / close / none / tunnel / upgrade
  // both
  std::string version;
  Fields headers;
  std::string body;
  Fields trailers;
  std::vector<std::pair<std::string, std::optional<std::string>>> extensions;
  bool keep_alive = false;
};

enum class After { End, Incomplete, Reject, Close, Upgrade };
std::string_view after_name(After a);

struct StreamResult {
  std::vector<Message> messages;                    // complete messages, in order
  After after = After::End;                         // what ended the run
  http::ParseError error = http::ParseError::None;  // for Reject
  bool head_complete = false;      // Incomplete: the head of the pending message was complete
  std::optional<Message> partial;  // Incomplete with a complete head: that head
  std::uint64_t content_length = 0;
  bool chunked = false;
};

// Split points: offsets at which a new read() would start. Empty = all at once.
using Splits = std::vector<std::size_t>;
Splits every_byte(std::size_t n);
Splits random_splits(std::size_t n, unsigned seed, std::size_t max_piece);

StreamResult run_requests(std::string_view raw, const Splits& splits,
                          http::RequestParser::Policy policy,
                          http::RequestParser::Limits limits = http::RequestParser::Limits{});
inline StreamResult run_requests(std::string_view raw, const Splits& splits) {
  return run_requests(raw, splits, http::RequestParser::Policy{});
}
StreamResult run_responses(std::string_view raw, const Splits& splits, http::Method request_method,
                           bool eof_after_raw);

// True when two runs produced the same messages, the same ending and the same error.
bool same_result(const StreamResult& a, const StreamResult& b);

// Every way of cutting `n` bytes a test should try: one piece, byte at a time, every
// two-piece split (small inputs), random pieces.
std::vector<std::pair<std::string, Splits>> feedings(std::size_t n);

// Runs every feeding; returns the one-piece result and sets `consistent` to whether every
// other feeding gave the same result (the name of the first that did not goes to `differs`).
StreamResult run_requests_all_feedings(
    std::string_view raw, bool& consistent, std::string* differs,
    http::RequestParser::Policy policy = http::RequestParser::Policy{},
    http::RequestParser::Limits limits = http::RequestParser::Limits{});
StreamResult run_responses_all_feedings(std::string_view raw, http::Method method, bool eof,
                                        bool& consistent, std::string* differs);

}  // namespace httpfs::test
