#include "http/request_parser.hpp"

#include <algorithm>

#include "http/chars.hpp"
#include "http/url.hpp"

namespace httpfs::http {

namespace {

// RFC 9112 2.2 says a server SHOULD ignore at least one empty line before a request-line;
// a few allow for clients that end a body with an extra CRLF. More is a flood.
constexpr int kMaxLeadingEmptyLines = 8;

}  // namespace

void RequestParser::reset() noexcept {
  scanner_.reset();
  phase_ = Phase::RequestLine;
  result_ = Result::Incomplete;
  error_ = ParseError::None;
  method_off_ = method_len_ = target_off_ = target_len_ = host_off_ = host_len_ = 0;
  method_scanned_ = 0;
  spans_.clear();
  framing_ = FramingFields{};
  std::vector<Header> keep = std::move(head_.headers);
  keep.clear();
  head_ = RequestHead{};
  head_.headers = std::move(keep);
}

RequestParser::Result RequestParser::parse(std::string_view data) noexcept {
  if (result_ != Result::Incomplete) return result_;
  for (;;) {
    std::size_t begin = 0, end = 0;
    const bool in_request_line = phase_ == Phase::RequestLine;
    if (in_request_line) {
      // A byte that cannot be part of a method (NUL, a control byte) is refused when it
      // arrives, not when a line end follows: a client that sent one after a request would
      // otherwise wait for an answer that never comes. The same error, at the same position,
      // as parse_request_line gives for the whole line, so any split of the input agrees.
      if (ParseError e = check_method_prefix(data); e != ParseError::None) return fail(e);
    }
    const std::size_t line_limit =
        in_request_line ? limits_.max_request_line : limits_.max_field_line;
    switch (scanner_.next(data, line_limit, limits_.max_head, begin, end)) {
      case LineScanner::Outcome::Line:
        break;
      case LineScanner::Outcome::NeedMore:
        return Result::Incomplete;
      case LineScanner::Outcome::BareCr:
        return fail(ParseError::BareCr);
      case LineScanner::Outcome::BareLf:
        return fail(ParseError::BareLf);
      case LineScanner::Outcome::HeadTooLarge:
        return fail(ParseError::HeadTooLarge);
      case LineScanner::Outcome::LineTooLong:
        return fail(in_request_line ? ParseError::RequestLineTooLong
                                    : ParseError::FieldLineTooLong);
    }
    std::string_view line = data.substr(begin, end - begin);
    if (in_request_line) {
      if (line.empty()) {
        // Every line before the request-line is an empty "\r\n", so the count so far is
        // begin / 2 whatever the split of the input.
        if (begin / 2 >= kMaxLeadingEmptyLines) return fail(ParseError::TooManyEmptyLines);
        continue;
      }
      if (ParseError e = parse_request_line(line, begin); e != ParseError::None) return fail(e);
      phase_ = Phase::Fields;
      continue;
    }
    // Phase::Fields
    if (line.empty()) {
      if (ParseError e = finish(data); e != ParseError::None) return fail(e);
      result_ = Result::Complete;
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
    note_request_field(name, value, begin + parts.value_begin);
    spans_.push_back(FieldSpan{static_cast<std::uint32_t>(begin),
                               static_cast<std::uint32_t>(parts.name_len),
                               static_cast<std::uint32_t>(begin + parts.value_begin),
                               static_cast<std::uint32_t>(value.size())});
  }
}

void RequestParser::note_request_field(std::string_view name, std::string_view value,
                                       std::size_t value_off) noexcept {
  if (name.size() == 4 && chars::iequals_lower_validated(name, "host")) {
    if (head_.host_count++ == 0) {
      host_off_ = static_cast<std::uint32_t>(value_off);
      host_len_ = static_cast<std::uint32_t>(value.size());
    }
  } else if (name.size() == 6 && chars::iequals_lower_validated(name, "expect")) {
    if (chars::iequals_lower_validated(value, "100-continue")) {  // the usual value
      head_.expect_continue = true;
      return;
    }
    for_each_list_element(value, [&](std::string_view e) {
      if (chars::iequals_lower(e, "100-continue"))
        head_.expect_continue = true;
      else
        head_.expect_other = true;
      return true;
    });
  }
}

ParseError RequestParser::check_method_prefix(std::string_view data) noexcept {
  // From where the last call stopped: a request line trickled in a byte at a time costs
  // O(n) in all, as the line scanner does, not O(n^2).
  std::size_t i = std::max(scanner_.line_start(), method_scanned_);
  while (i < data.size() && chars::is_token(data[i])) ++i;
  if (i >= data.size()) {
    method_scanned_ = i;  // all method so far
    return ParseError::None;
  }
  switch (data[i]) {
    case ' ':  // the method's end (or, first, a fault parse_request_line reports)
      method_scanned_ = kMethodDone;
      return ParseError::None;
    case '\r':  // an empty line before the request, or the line's end, or a bare CR
    case '\n':  // the scanner's to judge
      method_scanned_ = i;
      return ParseError::None;
    case '\t':
      return ParseError::BadRequestLine;
    default:
      return ParseError::BadMethod;
  }
}

ParseError RequestParser::parse_request_line(std::string_view line, std::size_t offset) noexcept {
  // method SP request-target SP HTTP-version, exactly one SP each (RFC 9112 3).
  std::size_t i = 0;
  while (i < line.size() && chars::is_token(line[i])) ++i;
  if (i == line.size()) return ParseError::MissingVersion;  // "GET" alone
  if (line[i] != ' ') {
    if (line[i] == '\r') return ParseError::BareCr;
    return line[i] == '\t' ? ParseError::BadRequestLine : ParseError::BadMethod;
  }
  if (i == 0) return ParseError::BadRequestLine;
  method_off_ = static_cast<std::uint32_t>(offset);
  method_len_ = static_cast<std::uint32_t>(i);

  const std::size_t target_begin = i + 1;
  std::size_t j = target_begin;
  while (j < line.size() && line[j] != ' ') ++j;
  std::string_view target = line.substr(target_begin, j - target_begin);
  if (target.empty()) return ParseError::EmptyTarget;
  if (j == line.size()) {
    // No second SP. "GET /" is HTTP/0.9, which is not served.
    for (char c : target)
      if (!chars::is_target(c)) return c == '\r' ? ParseError::BareCr : ParseError::BadRequestLine;
    return ParseError::MissingVersion;
  }
  std::string_view version = line.substr(j + 1);
  // HTTP-version = "HTTP/" DIGIT "." DIGIT, case-sensitive (RFC 9112 2.3).
  if (version.size() != 8 || version.substr(0, 5) != "HTTP/" || !chars::is_digit(version[5]) ||
      version[6] != '.' || !chars::is_digit(version[7])) {
    for (char c : version)
      if (c == '\r') return ParseError::BareCr;
    return version.empty() || version.front() == ' ' ? ParseError::BadRequestLine
                                                     : ParseError::BadVersion;
  }
  head_.method = method_from_token(line.substr(0, i));
  if (ParseError e = check_target(target); e != ParseError::None) return e;
  if (version[5] != '1') return ParseError::UnsupportedVersion;
  head_.version_minor = version[7] == '0' ? 0 : 1;  // 1.2+ is answered as 1.1
  target_off_ = static_cast<std::uint32_t>(offset + target_begin);
  target_len_ = static_cast<std::uint32_t>(target.size());
  return ParseError::None;
}

ParseError RequestParser::check_target(std::string_view target) noexcept {
  const bool connect = head_.method == Method::Connect;
  if (target.front() == '/' && !connect) {
    // origin-form, the common case: one pass over the bytes.
    head_.form = TargetForm::Origin;
    for (std::size_t k = 0; k < target.size(); ++k) {
      const char c = target[k];
      if (chars::kOriginTarget[static_cast<unsigned char>(c)]) {
        if (c == '%') {
          if (k + 2 >= target.size() || chars::hex_value(target[k + 1]) < 0 ||
              chars::hex_value(target[k + 2]) < 0)
            return ParseError::BadPercentEncoding;
          k += 2;
        }
        continue;
      }
      return c == '\r' ? ParseError::BareCr : ParseError::BadTarget;
    }
    return ParseError::None;
  }
  for (std::size_t k = 0; k < target.size(); ++k) {
    char c = target[k];
    if (!chars::is_target(c)) return c == '\r' ? ParseError::BareCr : ParseError::BadTarget;
    if (c == '%') {
      if (k + 2 >= target.size() || chars::hex_value(target[k + 1]) < 0 ||
          chars::hex_value(target[k + 2]) < 0)
        return ParseError::BadPercentEncoding;
      k += 2;
    }
  }
  if (target.front() == '/') return ParseError::BadTargetForm;  // CONNECT needs authority-form
  if (target == "*") {
    if (head_.method != Method::Options) return ParseError::BadTargetForm;
    head_.form = TargetForm::Asterisk;
    return ParseError::None;
  }
  if (connect) {
    // authority-form = uri-host ":" port, both required (RFC 9112 3.2.3).
    Authority a;
    if (target.find('@') != std::string_view::npos) return ParseError::UserinfoInTarget;
    if (!parse_authority(target, a) || a.host.empty() || a.port.empty())
      return ParseError::BadTargetForm;
    head_.form = TargetForm::Authority;
    return ParseError::None;
  }
  // absolute-form: only http and https make sense for an origin server.
  std::size_t colon = target.find(':');
  if (colon == std::string_view::npos) return ParseError::BadTargetForm;
  std::string_view scheme = target.substr(0, colon);
  if (!chars::iequals_lower(scheme, "http") && !chars::iequals_lower(scheme, "https"))
    return ParseError::BadTargetForm;
  if (target.substr(colon, 3) != "://") return ParseError::BadAbsoluteTarget;
  std::string_view rest = target.substr(colon + 3);
  std::size_t auth_end = rest.find_first_of("/?");
  std::string_view authority = rest.substr(0, auth_end);
  if (authority.find('@') != std::string_view::npos) return ParseError::UserinfoInTarget;
  Authority a;
  if (!parse_authority(authority, a) || a.host.empty()) return ParseError::BadAbsoluteTarget;
  if (auth_end != std::string_view::npos) {
    for (char c : rest.substr(auth_end))
      if (c == '[' || c == ']') return ParseError::BadTarget;
  }
  head_.form = TargetForm::Absolute;
  return ParseError::None;
}

ParseError RequestParser::finish(std::string_view data) noexcept {
  RequestHead& h = head_;
  h.method_token = data.substr(method_off_, method_len_);
  h.target = data.substr(target_off_, target_len_);
  if (h.host_count > 0) h.host = data.substr(host_off_, host_len_);
  h.head_size = scanner_.line_start();
  h.headers.clear();
  h.headers.reserve(spans_.size());
  for (const FieldSpan& s : spans_)
    h.headers.push_back(Header{data.substr(s.name, s.name_len), data.substr(s.value, s.value_len)});

  // Framing, RFC 9112 6.1 and 6.3.
  const FramingFields& f = framing_;
  if (f.has_transfer_encoding()) {
    if (h.version_minor == 0) return ParseError::TransferEncodingInHttp10;
    if (f.has_content_length()) return ParseError::TransferEncodingWithContentLength;
    if (f.te_empty()) return ParseError::BadTransferEncoding;
    if (!f.chunked_final()) return ParseError::ChunkedNotFinal;
    if (f.chunked_count() > 1) return ParseError::ChunkedTwice;
    h.other_codings = f.other_codings();
    h.framing = BodyFraming::Chunked;
  } else if (f.has_content_length()) {
    h.framing = BodyFraming::Length;
    h.content_length = f.content_length();
  }

  if (h.version_minor == 0)
    h.keep_alive = f.connection_keep_alive() && !f.connection_close();
  else
    h.keep_alive = !f.connection_close();

  if (h.method == Method::Connect) {
    // Bytes after a CONNECT head are tunnel data, never a body. keep_alive still says what
    // the fields asked for; the server closes after refusing the tunnel.
    h.framing = BodyFraming::None;
    h.content_length = 0;
  }

  if (policy_.require_host) {
    if (h.host_count > 1) return ParseError::MultipleHost;
    if (h.host_count == 0 && h.version_minor == 1) return ParseError::MissingHost;
  }
  if (h.host_count >= 1) {
    Authority a;
    // An invalid Host is a 400 whatever the policy for missing ones: it cannot be routed.
    if (policy_.require_host && !parse_authority(h.host, a)) return ParseError::BadHost;
  }
  // After the Host rules: a request that is both unroutable and uses an unknown coding is
  // first of all a bad request.
  if (h.other_codings && policy_.reject_unknown_coding) return ParseError::UnknownTransferCoding;
  return ParseError::None;
}

}  // namespace httpfs::http
