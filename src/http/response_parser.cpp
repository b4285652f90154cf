#include "http/response_parser.hpp"

#include "http/chars.hpp"

namespace httpfs::http {

void ResponseParser::reset() noexcept {
  scanner_.reset();
  phase_ = Phase::StatusLine;
  result_ = Result::Incomplete;
  error_ = ParseError::None;
  reason_off_ = reason_len_ = 0;
  spans_.clear();
  framing_ = FramingFields{};
  std::vector<Header> keep = std::move(head_.headers);
  keep.clear();
  head_ = ResponseHead{};
  head_.headers = std::move(keep);
}

ResponseParser::Result ResponseParser::parse(std::string_view data, Method method) noexcept {
  if (result_ != Result::Incomplete) return result_;
  for (;;) {
    std::size_t begin = 0, end = 0;
    const bool in_status_line = phase_ == Phase::StatusLine;
    const std::size_t line_limit =
        in_status_line ? limits_.max_status_line : limits_.max_field_line;
    switch (scanner_.next(data, line_limit, limits_.max_head, begin, end)) {
      case LineScanner::Outcome::Line:
        break;
      case LineScanner::Outcome::NeedMore: {
        // A status line starts with "HTTP/": say so early when the peer speaks something else.
        std::string_view start = data.substr(0, 5);
        if (in_status_line && std::string_view("HTTP/").substr(0, start.size()) != start)
          return fail(ParseError::BadStatusLine);
        return Result::Incomplete;
      }
      case LineScanner::Outcome::BareCr:
        return fail(in_status_line ? ParseError::BadStatusLine : ParseError::BareCr);
      case LineScanner::Outcome::BareLf:
        return fail(in_status_line ? ParseError::BadStatusLine : ParseError::BareLf);
      case LineScanner::Outcome::HeadTooLarge:
        return fail(ParseError::HeadTooLarge);
      case LineScanner::Outcome::LineTooLong:
        return fail(in_status_line ? ParseError::BadStatusLine : ParseError::FieldLineTooLong);
    }
    std::string_view line = data.substr(begin, end - begin);
    if (in_status_line) {
      if (ParseError e = parse_status_line(line, begin); e != ParseError::None) return fail(e);
      phase_ = Phase::Fields;
      continue;
    }
    if (line.empty()) {
      if (ParseError e = finish(data, method); e != ParseError::None) return fail(e);
      result_ = head_.interim() ? Result::Interim : Result::Complete;
      return result_;
    }
    if (chars::is_ows(line.front()))
      return fail(spans_.empty() ? ParseError::WhitespaceBeforeFirstField : ParseError::ObsFold);
    if (spans_.size() >= limits_.max_fields) return fail(ParseError::TooManyFields);
    FieldLineParts parts;
    if (ParseError e = parse_field_line(line.data(), line.size(), data.size() - begin, parts);
        e != ParseError::None)
      return fail(e);
    std::string_view name = line.substr(0, parts.name_len);
    std::string_view value = line.substr(parts.value_begin, parts.value_end - parts.value_begin);
    if (ParseError e = framing_.add(name, value); e != ParseError::None) return fail(e);
    spans_.push_back(FieldSpan{static_cast<std::uint32_t>(begin),
                               static_cast<std::uint32_t>(parts.name_len),
                               static_cast<std::uint32_t>(begin + parts.value_begin),
                               static_cast<std::uint32_t>(value.size())});
  }
}

ParseError ResponseParser::parse_status_line(std::string_view line, std::size_t offset) noexcept {
  // status-line = HTTP-version SP status-code SP [ reason-phrase ]   (RFC 9112 4)
  if (line.size() < 12 || line.substr(0, 5) != "HTTP/" || !chars::is_digit(line[5]) ||
      line[6] != '.' || !chars::is_digit(line[7]) || line[8] != ' ' || !chars::is_digit(line[9]) ||
      !chars::is_digit(line[10]) || !chars::is_digit(line[11]))
    return ParseError::BadStatusLine;
  if (line[5] != '1') return ParseError::UnsupportedVersion;
  if (line.size() == 12 || line[12] != ' ') return ParseError::BadStatusLine;
  std::string_view reason = line.substr(13);
  for (char c : reason)
    if (!chars::is_field_value(c))
      return c == '\r' ? ParseError::BareCr : ParseError::BadStatusLine;
  head_.version_minor = line[7] == '0' ? 0 : 1;
  head_.status = (line[9] - '0') * 100 + (line[10] - '0') * 10 + (line[11] - '0');
  if (head_.status < 100) return ParseError::BadStatusLine;
  reason_off_ = static_cast<std::uint32_t>(offset + 13);
  reason_len_ = static_cast<std::uint32_t>(reason.size());
  return ParseError::None;
}

ParseError ResponseParser::finish(std::string_view data, Method method) noexcept {
  ResponseHead& h = head_;
  h.reason = data.substr(reason_off_, reason_len_);
  h.head_size = scanner_.line_start();
  h.headers.clear();
  h.headers.reserve(spans_.size());
  for (const FieldSpan& s : spans_)
    h.headers.push_back(Header{data.substr(s.name, s.name_len), data.substr(s.value, s.value_len)});

  const FramingFields& f = framing_;
  const bool http10 = h.version_minor == 0;
  h.keep_alive =
      http10 ? (f.connection_keep_alive() && !f.connection_close()) : !f.connection_close();

  // RFC 9112 6.3, in order.
  if (h.status == 101) {
    h.framing = ResponseFraming::Upgrade;  // what follows is another protocol
    return ParseError::None;
  }
  if (method == Method::Head || (h.status >= 100 && h.status < 200) || h.status == 204 ||
      h.status == 304) {
    h.framing = ResponseFraming::None;
    return ParseError::None;
  }
  if (method == Method::Connect && h.status >= 200 && h.status < 300) {
    h.framing = ResponseFraming::Tunnel;  // what follows is tunnel data
    return ParseError::None;
  }
  if (f.has_transfer_encoding()) {
    // Both headers at once is how responses get smuggled; refuse rather than pick one.
    if (f.has_content_length()) return ParseError::TransferEncodingWithContentLength;
    if (f.chunked_final()) {
      if (f.chunked_count() > 1) return ParseError::ChunkedTwice;
      h.framing = ResponseFraming::Chunked;
    } else {
      h.framing = ResponseFraming::Close;  // RFC 9112 6.3 rule 4: read until close
    }
    // Transfer-Encoding in an HTTP/1.0 response: framing is suspect, do not reuse.
    if (http10) h.keep_alive = false;
  } else if (f.has_content_length()) {
    h.framing = ResponseFraming::Length;
    h.content_length = f.content_length();
  } else {
    h.framing = ResponseFraming::Close;
  }
  if (h.framing == ResponseFraming::Close) h.keep_alive = false;
  return ParseError::None;
}

}  // namespace httpfs::http
