#include "message_stream.hpp"

#include <algorithm>
#include <random>

#include "guarded_buffer.hpp"
#include "http/body_decoder.hpp"
#include "http/response_parser.hpp"

namespace httpfs::test {

using namespace httpfs::http;

std::string_view after_name(After a) {
  switch (a) {
    case After::End:
      return "end";
    case After::Incomplete:
      return "incomplete";
    case After::Reject:
      return "reject";
    case After::Close:
      return "close";
    case After::Upgrade:
      return "upgrade";
  }
  return "?";
}

Splits every_byte(std::size_t n) {
  Splits s;
  for (std::size_t i = 1; i < n; ++i) s.push_back(i);
  return s;
}

Splits random_splits(std::size_t n, unsigned seed, std::size_t max_piece) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<std::size_t> piece(1, std::max<std::size_t>(1, max_piece));
  Splits s;
  for (std::size_t at = piece(rng); at < n; at += piece(rng)) s.push_back(at);
  return s;
}

namespace {

Fields copy_fields(const std::vector<Header>& headers) {
  Fields out;
  for (const Header& h : headers) out.emplace_back(std::string(h.name), std::string(h.value));
  return out;
}

std::string version_text(int minor) {
  return minor == 0 ? "HTTP/1.0" : "HTTP/1.1";
}

std::string framing_text(ResponseFraming f) {
  switch (f) {
    case ResponseFraming::None:
      return "none";
    case ResponseFraming::Length:
      return "length";
    case ResponseFraming::Chunked:
      return "chunked";
    case ResponseFraming::Close:
      return "close";
    case ResponseFraming::Tunnel:
      return "tunnel";
    case ResponseFraming::Upgrade:
      return "none";
  }
  return "?";
}

// After a message that ends the connection: "end" when nothing followed it, else "close"
// (the rest of the stream is ignored).
After after_last(std::string_view raw, std::size_t consumed) {
  return consumed >= raw.size() ? After::End : After::Close;
}

bool only_empty_lines(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return c == '\r' || c == '\n'; });
}

void take_decoder_extras(const BodyDecoder& d, Message& m) {
  m.trailers = copy_fields(d.trailers());
  for (const auto& e : d.extensions())
    m.extensions.emplace_back(e.name,
                              e.has_value ? std::optional<std::string>(e.value) : std::nullopt);
}

// The pieces in which `raw` arrives.
std::vector<std::string_view> pieces(std::string_view raw, const Splits& splits) {
  std::vector<std::string_view> out;
  std::size_t at = 0;
  for (std::size_t s : splits) {
    if (s <= at || s >= raw.size()) continue;
    out.push_back(raw.substr(at, s - at));
    at = s;
  }
  out.push_back(raw.substr(at));
  return out;
}

// Feeds body bytes from `pending` (placed against the guard) into the decoder.
void feed_body(GuardedBuffer& guard, std::string& pending, BodyDecoder& dec, Message& m,
               std::size_t& consumed) {
  std::string_view view = guard.place(pending);
  std::size_t used = 0;
  while (used < view.size() && !dec.done() && !dec.failed()) {
    BodyDecoder::Step s = dec.decode(view.substr(used));
    used += s.consumed;
    m.body.append(s.data);
    if (s.consumed == 0) break;
  }
  pending.erase(0, used);
  consumed += used;
}

}  // namespace

StreamResult run_requests(std::string_view raw, const Splits& splits, RequestParser::Policy policy,
                          RequestParser::Limits limits) {
  GuardedBuffer guard(raw.size() + 1);
  StreamResult result;
  RequestParser parser(limits, policy);
  BodyDecoder dec;
  Message cur;
  bool in_body = false;
  std::string pending;
  std::size_t consumed = 0;  // bytes of raw used by complete heads and bodies
  BodyDecoder::Options keep{true, true};

  for (std::string_view piece : pieces(raw, splits)) {
    pending.append(piece);
    for (;;) {
      if (!in_body) {
        RequestParser::Result r = parser.parse(guard.place(pending));
        if (r == RequestParser::Result::Error) {
          result.after = After::Reject;
          result.error = parser.error();
          return result;
        }
        if (r == RequestParser::Result::Incomplete) break;
        const RequestHead& h = parser.head();
        cur = Message{};
        cur.method = std::string(h.method_token);
        cur.target = std::string(h.target);
        cur.version = version_text(h.version_minor);
        cur.headers = copy_fields(h.headers);
        cur.keep_alive = h.keep_alive;
        result.content_length = h.content_length;
        result.chunked = h.framing == BodyFraming::Chunked;
        dec = h.framing == BodyFraming::Chunked  ? BodyDecoder::chunked({}, keep)
              : h.framing == BodyFraming::Length ? BodyDecoder::length(h.content_length)
                                                 : BodyDecoder::none();
        pending.erase(0, h.head_size);
        consumed += h.head_size;
        in_body = true;
      }
      feed_body(guard, pending, dec, cur, consumed);
      if (dec.failed()) {
        result.after = After::Reject;
        result.error = dec.error();
        return result;
      }
      if (!dec.done()) break;
      take_decoder_extras(dec, cur);
      result.messages.push_back(cur);
      in_body = false;
      parser.reset();
      // After CONNECT the bytes are tunnel data: a server refuses and stops reading.
      if (!cur.keep_alive || cur.method == "CONNECT") {
        result.after = after_last(raw, consumed);
        return result;
      }
    }
  }
  if (in_body) {
    result.after = After::Incomplete;
    result.head_complete = true;
    result.partial = cur;
  } else {
    result.after = only_empty_lines(pending) ? After::End : After::Incomplete;
  }
  return result;
}

StreamResult run_responses(std::string_view raw, const Splits& splits, Method method,
                           bool eof_after_raw) {
  GuardedBuffer guard(raw.size() + 1);
  StreamResult result;
  ResponseParser parser;
  BodyDecoder dec;
  Message cur;
  bool in_body = false;
  bool until_close = false;
  std::string pending;
  std::size_t consumed = 0;
  BodyDecoder::Options keep{true, true};

  for (std::string_view piece : pieces(raw, splits)) {
    pending.append(piece);
    for (;;) {
      if (!in_body) {
        ResponseParser::Result r = parser.parse(guard.place(pending), method);
        if (r == ResponseParser::Result::Error) {
          result.after = After::Reject;
          result.error = parser.error();
          return result;
        }
        if (r == ResponseParser::Result::Incomplete) break;
        const ResponseHead& h = parser.head();
        cur = Message{};
        cur.status = h.status;
        cur.reason = std::string(h.reason);
        cur.version = version_text(h.version_minor);
        cur.headers = copy_fields(h.headers);
        cur.keep_alive = h.keep_alive;
        cur.framing = framing_text(h.framing);
        pending.erase(0, h.head_size);
        consumed += h.head_size;
        if (r == ResponseParser::Result::Interim) {
          result.messages.push_back(cur);
          parser.reset();
          continue;
        }
        if (h.framing == ResponseFraming::Upgrade || h.framing == ResponseFraming::Tunnel) {
          result.messages.push_back(cur);
          result.after = After::Upgrade;
          return result;
        }
        until_close = h.framing == ResponseFraming::Close;
        result.content_length = h.content_length;
        result.chunked = h.framing == ResponseFraming::Chunked;
        dec = h.framing == ResponseFraming::Chunked  ? BodyDecoder::chunked({}, keep)
              : h.framing == ResponseFraming::Length ? BodyDecoder::length(h.content_length)
              : h.framing == ResponseFraming::Close  ? BodyDecoder::length(UINT64_MAX)
                                                     : BodyDecoder::none();
        in_body = true;
      }
      feed_body(guard, pending, dec, cur, consumed);
      if (dec.failed()) {
        result.after = After::Reject;
        result.error = dec.error();
        return result;
      }
      if (!dec.done()) break;
      take_decoder_extras(dec, cur);
      result.messages.push_back(cur);
      in_body = false;
      parser.reset();
      if (!cur.keep_alive) {
        result.after = after_last(raw, consumed);
        return result;
      }
    }
  }
  if (in_body && until_close && eof_after_raw) {
    // The close ends a read-until-close body: that is its only framing.
    result.messages.push_back(cur);
    result.after = After::End;
    return result;
  }
  if (in_body) {
    result.after = After::Incomplete;
    result.head_complete = true;
    result.partial = cur;
  } else {
    result.after = pending.empty() ? After::End : After::Incomplete;
  }
  return result;
}

bool same_result(const StreamResult& a, const StreamResult& b) {
  if (a.after != b.after || a.error != b.error || a.messages.size() != b.messages.size())
    return false;
  for (std::size_t i = 0; i < a.messages.size(); ++i) {
    const Message &x = a.messages[i], &y = b.messages[i];
    if (x.method != y.method || x.target != y.target || x.status != y.status ||
        x.reason != y.reason || x.version != y.version || x.headers != y.headers ||
        x.body != y.body || x.trailers != y.trailers || x.extensions != y.extensions ||
        x.keep_alive != y.keep_alive || x.framing != y.framing)
      return false;
  }
  return true;
}

std::vector<std::pair<std::string, Splits>> feedings(std::size_t n) {
  std::vector<std::pair<std::string, Splits>> out;
  out.emplace_back("one piece", Splits{});
  if (n <= 16384) out.emplace_back("byte at a time", every_byte(n));
  if (n <= 4096)
    for (std::size_t k = 1; k < n; ++k)
      out.emplace_back("split at " + std::to_string(k), Splits{k});
  for (unsigned seed = 1; seed <= 3; ++seed)
    out.emplace_back("random pieces seed " + std::to_string(seed),
                     random_splits(n, seed, n <= 65536 ? 7 : 4096));
  return out;
}

StreamResult run_requests_all_feedings(std::string_view raw, bool& consistent, std::string* differs,
                                       RequestParser::Policy policy, RequestParser::Limits limits) {
  StreamResult base = run_requests(raw, {}, policy, limits);
  consistent = true;
  for (const auto& [name, splits] : feedings(raw.size())) {
    if (!same_result(base, run_requests(raw, splits, policy, limits))) {
      consistent = false;
      if (differs) *differs = name;
      break;
    }
  }
  return base;
}

StreamResult run_responses_all_feedings(std::string_view raw, Method method, bool eof,
                                        bool& consistent, std::string* differs) {
  StreamResult base = run_responses(raw, {}, method, eof);
  consistent = true;
  for (const auto& [name, splits] : feedings(raw.size())) {
    if (!same_result(base, run_responses(raw, splits, method, eof))) {
      consistent = false;
      if (differs) *differs = name;
      break;
    }
  }
  return base;
}

}  // namespace httpfs::test
