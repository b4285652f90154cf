#include "client/policy.hpp"

#include <doctest/doctest.h>

#include <climits>
#include <cstdint>
#include <ctime>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "client/options.hpp"
#include "client/segment_map.hpp"
#include "http/date.hpp"
#include "http/url.hpp"

using namespace httpfs::client;
namespace http = httpfs::http;

namespace {

http::Url url(const std::string& text) {
  std::optional<http::Url> u = http::parse_url(text);
  REQUIRE_MESSAGE(u.has_value(), text);
  return *u;
}

// "name: value" lines joined with '|', so that a failed CHECK shows the whole list.
std::string show(const Headers& headers) {
  std::string s;
  for (const auto& [name, value] : headers) s += (s.empty() ? "" : "|") + name + ": " + value;
  return s;
}

std::string show(Resume r) {
  switch (r) {
    case Resume::Fresh:
      return "Fresh";
    case Resume::Append:
      return "Append";
    case Resume::Complete:
      return "Complete";
    case Resume::Refused:
      return "Refused";
    case Resume::Mismatch:
      return "Mismatch";
  }
  return "?";
}

std::string show(Digest d) {
  switch (d) {
    case Digest::Match:
      return "Match";
    case Digest::ContentMismatch:
      return "ContentMismatch";
    case Digest::ReprMismatch:
      return "ReprMismatch";
  }
  return "?";
}

std::string show(const std::optional<std::uint64_t>& ms) {
  return ms ? std::to_string(*ms) : "nullopt";
}

// "Sun, 06 Nov 1994 08:49:37 GMT", the example date of RFC 9110 5.6.7.
constexpr std::time_t kNow = 784111777;

}  // namespace

TEST_CASE("redirect: RFC 9110 15.4 method rewriting") {
  struct Row {
    int status;
    std::string method;
    std::string next_method;
    bool drop_body;
  };
  const Row rows[] = {
      // 301 and 302: only POST becomes GET.
      {301, "GET", "GET", false},
      {301, "HEAD", "HEAD", false},
      {301, "POST", "GET", true},
      {301, "PUT", "PUT", false},
      {301, "DELETE", "DELETE", false},
      {302, "GET", "GET", false},
      {302, "HEAD", "HEAD", false},
      {302, "POST", "GET", true},
      {302, "PUT", "PUT", false},
      {302, "DELETE", "DELETE", false},
      // 303: everything but HEAD becomes GET, without the body.
      {303, "GET", "GET", true},
      {303, "HEAD", "HEAD", false},
      {303, "POST", "GET", true},
      {303, "PUT", "GET", true},
      {303, "DELETE", "GET", true},
      // 307 and 308: method and body stay.
      {307, "GET", "GET", false},
      {307, "HEAD", "HEAD", false},
      {307, "POST", "POST", false},
      {307, "PUT", "PUT", false},
      {307, "DELETE", "DELETE", false},
      {308, "GET", "GET", false},
      {308, "HEAD", "HEAD", false},
      {308, "POST", "POST", false},
      {308, "PUT", "PUT", false},
      {308, "DELETE", "DELETE", false},
      // Other 3xx keep everything too.
      {300, "POST", "POST", false},
      {305, "POST", "POST", false},
  };
  for (const Row& row : rows) {
    CAPTURE(row.status);
    CAPTURE(row.method);
    const Redirect r = redirect(row.status, row.method);
    CHECK(r.method == row.next_method);
    CHECK(r.drop_body == row.drop_body);
  }
}

TEST_CASE("same_origin compares scheme, host and port") {
  struct Row {
    std::string a, b;
    bool same;
  };
  const Row rows[] = {
      {"http://example.com/a", "http://example.com/b?x=1", true},
      {"http://example.com/", "http://example.com:80/", true},  // the default port spelled out
      {"https://example.com/", "https://example.com:443/x", true},
      {"example.com/a", "http://example.com/b", true},  // no scheme means http
      {"http://example.com/", "https://example.com/", false},
      {"https://example.com/", "https://example.com:80/", false},
      {"http://example.com/", "http://example.com:8080/", false},
      {"http://example.com/", "http://other.example.com/", false},
      {"http://example.com/", "http://127.0.0.1/", false},
      {"http://[::1]:8080/", "http://[::1]:8080/z", true},
      {"http://[::1]:8080/", "http://[::2]:8080/", false},
  };
  for (const Row& row : rows) {
    CAPTURE(row.a);
    CAPTURE(row.b);
    CHECK(same_origin(url(row.a), url(row.b)) == row.same);
    CHECK(same_origin(url(row.b), url(row.a)) == row.same);  // symmetric
  }
}

// Host names are case-insensitive (RFC 3986 3.2.2), so these are one origin (RFC 6454 5).
TEST_CASE("same_origin ignores the case of host names") {
  CHECK(same_origin(url("http://Example.COM/a"), url("http://example.com/b")));
  const Headers in = {{"Authorization", "Bearer t"}, {"Accept", "*/*"}};
  CHECK(show(redirected_headers(in, url("http://EXAMPLE.com/"), url("http://example.com/x"),
                                false)) == "Authorization: Bearer t|Accept: */*");
}

TEST_CASE("redirected_headers strips credentials across origins and body fields on request") {
  // Mixed-case names, and look-alikes that are not credentials.
  const Headers in = {
      {"Accept", "*/*"},
      {"authorization", "Bearer t"},
      {"Content-Type", "text/plain"},
      {"X-Cookie", "1"},
      {"COOKIE", "a=b"},
      {"content-length", "5"},
      {"Proxy-Authorization", "Basic p"},
      {"Authorization-Hint", "h"},
      {"User-Agent", "httpc"},
  };
  const std::string all =
      "Accept: */*|authorization: Bearer t|Content-Type: text/plain|X-Cookie: 1|COOKIE: a=b|"
      "content-length: 5|Proxy-Authorization: Basic p|Authorization-Hint: h|User-Agent: httpc";
  const std::string no_credentials =
      "Accept: */*|Content-Type: text/plain|X-Cookie: 1|content-length: 5|"
      "Proxy-Authorization: Basic p|Authorization-Hint: h|User-Agent: httpc";
  const std::string no_body =
      "Accept: */*|authorization: Bearer t|X-Cookie: 1|COOKIE: a=b|"
      "Proxy-Authorization: Basic p|Authorization-Hint: h|User-Agent: httpc";
  const std::string neither =
      "Accept: */*|X-Cookie: 1|Proxy-Authorization: Basic p|Authorization-Hint: h|"
      "User-Agent: httpc";
  struct Row {
    std::string from, to;
    bool drop_body;
    std::string expected;
  };
  const Row rows[] = {
      {"http://h.example/a", "http://h.example/b", false, all},
      {"http://h.example/a", "http://h.example:80/b", false, all},
      {"http://h.example/a", "http://h.example/b", true, no_body},
      {"http://h.example/a", "http://other.example/a", false, no_credentials},   // host
      {"http://h.example/a", "https://h.example/a", false, no_credentials},      // scheme
      {"http://h.example/a", "http://h.example:8080/a", false, no_credentials},  // port
      {"https://h.example/a", "http://h.example/a", true, neither},
  };
  for (const Row& row : rows) {
    CAPTURE(row.from);
    CAPTURE(row.to);
    CAPTURE(row.drop_body);
    CHECK(show(redirected_headers(in, url(row.from), url(row.to), row.drop_body)) == row.expected);
  }
  CHECK(redirected_headers({}, url("http://a/"), url("http://b/"), true).empty());
}

TEST_CASE("retryable_status") {
  struct Row {
    int status;
    bool retry;
  };
  const Row rows[] = {
      {408, true},  {429, true},  {500, true},  {502, true},  {503, true},  {504, true},
      {200, false}, {206, false}, {301, false}, {400, false}, {401, false}, {403, false},
      {404, false}, {409, false}, {413, false}, {501, false}, {505, false}, {599, false},
  };
  for (const Row& row : rows) {
    CAPTURE(row.status);
    CHECK(retryable_status(row.status) == row.retry);
  }
}

TEST_CASE("retryable_failure: transient failures of a request that can be sent again") {
  struct Code {
    int exit_code;
    bool transient;
  };
  const Code codes[] = {
      {kOk, false},     {kInternal, false},     {kUsage, false},      {kDns, false},
      {kConnect, true}, {kTimeout, true},       {kHttp4xx, false},    {kHttp5xx, false},
      {kPartial, true}, {kLocalFile, false},    {kIntegrity, false},  {kProtocol, false},
      {kTls, false},    {kTlsUntrusted, false}, {kTlsExpired, false}, {kTlsWrongHost, false},
  };
  struct Sending {
    bool body_replayable;
    bool request_sent;
    bool again;  // whether a transient failure may be retried
  };
  const Sending sendings[] = {
      {true, true, true},  // the body can be sent once more
      {true, false, true},
      {false, false, true},  // never sent: nothing of it was used up
      {false, true, false},  // a stdin body that went out cannot go again
  };
  for (const Code& code : codes) {
    for (const Sending& s : sendings) {
      CAPTURE(code.exit_code);
      CAPTURE(s.body_replayable);
      CAPTURE(s.request_sent);
      CHECK(retryable_failure(code.exit_code, s.body_replayable, s.request_sent) ==
            (code.transient && s.again));
    }
  }
}

TEST_CASE("backoff_ms doubles from one second up to the cap") {
  struct Row {
    int attempt;
    std::uint64_t ms;
  };
  const Row rows[] = {
      {1, 1000},
      {2, 2000},
      {3, 4000},
      {4, 8000},
      {5, 16000},
      {6, 32000},
      {7, 64000},
      {8, 128000},
      {9, 256000},
      {10, 512000},
      {11, kMaxRetryWaitMs},
      {12, kMaxRetryWaitMs},
      {21, kMaxRetryWaitMs},
      {22, kMaxRetryWaitMs},
      {64, kMaxRetryWaitMs},
      {65, kMaxRetryWaitMs},
      {1000, kMaxRetryWaitMs},
      {INT_MAX, kMaxRetryWaitMs},
      // Nonsense attempts wait as little as the first retry.
      {0, 1000},
      {-1, 1000},
      {-1000, 1000},
      {INT_MIN + 1, 1000},
  };
  for (const Row& row : rows) {
    CAPTURE(row.attempt);
    CHECK(backoff_ms(row.attempt) == row.ms);
  }
  for (int a = 1; a < 100; ++a) {
    CAPTURE(a);
    CHECK(backoff_ms(a) <= backoff_ms(a + 1));
    CHECK(backoff_ms(a) <= kMaxRetryWaitMs);
  }
}

// No `attempt - 1` overflow for INT_MIN (the sanitizer build would abort on it).
TEST_CASE("backoff_ms(INT_MIN) is the first wait") {
  CHECK(backoff_ms(INT_MIN) == 1000);
}

TEST_CASE("retry_after_ms: delay-seconds") {
  struct Row {
    std::string value;
    std::optional<std::uint64_t> ms;
  };
  const Row rows[] = {
      {"0", 0},
      {"5", 5000},
      {"120", 120000},
      {" 7 ", 7000},  // OWS around the value
      {"\t7\t", 7000},
      {"007", 7000},
      {"599", 599000},
      {"600", kMaxRetryWaitMs},
      {"601", kMaxRetryWaitMs},
      {"86400", kMaxRetryWaitMs},
      {"99999999", kMaxRetryWaitMs},  // the longest number taken
      // Garbage.
      {"soon", std::nullopt},
      {"-1", std::nullopt},
      {"+5", std::nullopt},
      {"1.5", std::nullopt},
      {"5s", std::nullopt},
      {"5 5", std::nullopt},
      {"0x10", std::nullopt},
      {"", std::nullopt},
      {"   ", std::nullopt},
      {"123456789", std::nullopt},
      {"99999999999999999999999", std::nullopt},
  };
  for (const Row& row : rows) {
    CAPTURE(row.value);
    CHECK(show(retry_after_ms(row.value, kNow)) == show(row.ms));
  }
}

TEST_CASE("retry_after_ms: HTTP-date") {
  struct Row {
    std::string value;
    std::optional<std::uint64_t> ms;
  };
  const Row rows[] = {
      {"Sun, 06 Nov 1994 08:49:37 GMT", 0},                // now
      {"Sun, 06 Nov 1994 08:50:07 GMT", 30000},            // 30 s ahead
      {"Sun, 06 Nov 1994 08:48:37 GMT", 0},                // a minute ago: go now
      {"Sat, 01 Jan 1994 00:00:00 GMT", 0},                // long ago
      {"Sun, 06 Nov 1994 08:59:37 GMT", kMaxRetryWaitMs},  // exactly 10 minutes
      {"Sun, 06 Nov 1994 09:49:37 GMT", kMaxRetryWaitMs},  // an hour: capped
      {"Fri, 31 Dec 9999 23:59:59 GMT", kMaxRetryWaitMs},
      {" Sun, 06 Nov 1994 08:50:07 GMT ", 30000},  // OWS
      {"Sunday, 06-Nov-94 08:50:07 GMT", 30000},   // the obsolete forms parse too
      {"Sun Nov  6 08:50:07 1994", 30000},
      {"Sun, 06 Nov 1994 08:50:07", std::nullopt},  // no zone
      {"Sun, 32 Nov 1994 08:50:07 GMT", std::nullopt},
      {"tomorrow", std::nullopt},
  };
  for (const Row& row : rows) {
    CAPTURE(row.value);
    CHECK(show(retry_after_ms(row.value, kNow)) == show(row.ms));
  }
  // Dates written by the server's own formatter, relative to other clocks.
  const std::time_t now = 1700000000;
  CHECK(show(retry_after_ms(http::format_http_date(now + 90), now)) == "90000");
  CHECK(show(retry_after_ms(http::format_http_date(now + 599), now)) == "599000");
  CHECK(show(retry_after_ms(http::format_http_date(now + 601), now)) == "600000");
  CHECK(show(retry_after_ms(http::format_http_date(now - 1), now)) == "0");
  CHECK(show(retry_after_ms(http::format_http_date(0), now)) == "0");
}

TEST_CASE("judge_resume") {
  struct Row {
    int status;
    std::string content_range;
    std::uint64_t resume_from;
    Resume expected;
  };
  const Row rows[] = {
      {206, "bytes 100-199/200", 100, Resume::Append},
      {206, "bytes 100-199/*", 100, Resume::Append},  // total unknown: still the rest
      {206, "bytes 0-199/200", 100, Resume::Mismatch},
      {206, "bytes 99-199/200", 100, Resume::Mismatch},
      {206, "bytes 101-199/200", 100, Resume::Mismatch},
      {206, "bytes 1000-1999/2000", 100, Resume::Mismatch},  // "100" is only a prefix
      {206, "bytes 10-199/200", 100, Resume::Mismatch},
      {206, "", 100, Resume::Mismatch},
      {206, "bytes 0-199/200", 0, Resume::Mismatch},  // a range nobody asked for
      {206, "", 0, Resume::Mismatch},
      {416, "bytes */100", 100, Resume::Complete},
      {416, "bytes */50", 100, Resume::Refused},
      {416, "bytes */1000", 100, Resume::Refused},
      {416, "bytes */100", 50, Resume::Refused},
      {416, "", 100, Resume::Refused},
      {416, "bytes */100", 0, Resume::Fresh},
      {416, "", 0, Resume::Fresh},
      {200, "", 100, Resume::Fresh},  // the server ignored Range: start over
      {200, "", 0, Resume::Fresh},
      {200, "bytes 100-199/200", 100, Resume::Fresh},
      {204, "", 0, Resume::Fresh},
  };
  for (const Row& row : rows) {
    CAPTURE(row.status);
    CAPTURE(row.content_range);
    CAPTURE(row.resume_from);
    CHECK(show(judge_resume(row.status, row.content_range, row.resume_from)) == show(row.expected));
  }
}

// Append is "206 for exactly the rest": a part that stops before the end, or a Content-Range
// that is not one, must not be appended and then committed as the whole file.
TEST_CASE("judge_resume appends only exactly the rest") {
  CHECK(show(judge_resume(206, "bytes 100-149/200", 100)) == "Mismatch");
  CHECK(show(judge_resume(206, "bytes 100-199/300", 100)) == "Mismatch");
  CHECK(show(judge_resume(206, "bytes 100-", 100)) == "Mismatch");
  CHECK(show(judge_resume(206, "bytes 100-junk", 100)) == "Mismatch");
  CHECK(show(judge_resume(206, "bytes 100-99/200", 100)) == "Mismatch");
  CHECK(show(judge_resume(206, "bytes 100-199/*", 100)) == "Append");  // an unknown end
  CHECK(show(judge_resume(206, "bytes 100-199/200", 100)) == "Append");
}

TEST_CASE("part_validator prefers a strong ETag") {
  struct Row {
    std::string etag, last_modified, expected;
  };
  const std::string lm = "Sun, 06 Nov 1994 08:49:37 GMT";
  const Row rows[] = {
      {"\"abc\"", lm, "\"abc\""},
      {"\"abc\"", "", "\"abc\""},
      {"W/\"abc\"", lm, lm},  // a weak tag does not promise the same bytes
      {"W/\"abc\"", "", ""},
      {"", lm, lm},
      {"", "", ""},
  };
  for (const Row& row : rows) {
    CAPTURE(row.etag);
    CAPTURE(row.last_modified);
    CHECK(part_validator(row.etag, row.last_modified) == row.expected);
  }
}

TEST_CASE("judge_digests") {
  struct Row {
    std::string content_expected, content_actual, repr_expected, repr_actual;
    Digest expected;
  };
  const Row rows[] = {
      {"", "", "", "", Digest::Match},
      {"", "sha-256=:A:", "", "sha-256=:B:", Digest::Match},  // nothing to compare with
      {"sha-256=:A:", "sha-256=:A:", "", "sha-256=:B:", Digest::Match},
      {"sha-256=:A:", "sha-256=:A:", "sha-256=:B:", "sha-256=:B:", Digest::Match},
      {"", "sha-256=:A:", "sha-256=:B:", "sha-256=:B:", Digest::Match},
      {"sha-256=:A:", "sha-256=:X:", "", "", Digest::ContentMismatch},
      {"sha-256=:A:", "", "", "", Digest::ContentMismatch},
      {"sha-256=:A:", "sha-256=:X:", "sha-256=:B:", "sha-256=:Y:", Digest::ContentMismatch},
      {"sha-256=:A:", "sha-256=:X:", "sha-256=:B:", "sha-256=:B:", Digest::ContentMismatch},
      {"", "", "sha-256=:B:", "sha-256=:Y:", Digest::ReprMismatch},
      {"sha-256=:A:", "sha-256=:A:", "sha-256=:B:", "sha-256=:Y:", Digest::ReprMismatch},
      {"", "sha-256=:A:", "sha-256=:B:", "", Digest::ReprMismatch},
  };
  for (const Row& row : rows) {
    CAPTURE(row.content_expected);
    CAPTURE(row.content_actual);
    CAPTURE(row.repr_expected);
    CAPTURE(row.repr_actual);
    CHECK(show(judge_digests(row.content_expected, row.content_actual, row.repr_expected,
                             row.repr_actual)) == show(row.expected));
  }
}

TEST_CASE("remote_file_name takes the last path segment, decoded, when it is safe") {
  struct Row {
    std::string target, expected;
  };
  const Row rows[] = {
      {"/a/b.txt", "b.txt"},
      {"/b.txt", "b.txt"},
      {"/a/b%20c.txt?x=1", "b c.txt"},
      {"/a/b.txt?dir=/x/y.bin", "b.txt"},  // a '/' in the query is not a segment
      {"/a/b+c", "b+c"},
      {"/a/.hidden", ".hidden"},
      {"/a/...", "..."},
      {"/a/%41", "A"},
      {"/", ""},
      {"/?x=1", ""},
      {"/a/", ""},
      {"/a/.", ""},
      {"/a/..", ""},
      {"/a/%2e", ""},
      {"/a/%2e%2e", ""},
      {"/a/%2E%2E", ""},
      {"/a/.%2e", ""},
      {"/a/..?x=1", ""},
      {"/a/x%2fy", ""},
      {"/a/x%2Fy", ""},
      {"/a/%2f", ""},
      {"/a/b%zz", ""},  // a malformed escape
      {"/a/b%2", ""},
      {"/a/x%00y", ""},  // a NUL would cut the name short
  };
  for (const Row& row : rows) {
    CAPTURE(row.target);
    CHECK(remote_file_name(row.target) == row.expected);
  }
}

TEST_CASE("offers_resumption: PUT and POST of a file, by mode and size") {
  struct Case {
    ResumableMode mode;
    const char* method;
    std::uint64_t size;
    bool offers;
  };
  const Case cases[] = {
      {ResumableMode::Auto, "PUT", kResumableThreshold, true},
      {ResumableMode::Auto, "PUT", kResumableThreshold - 1, false},
      {ResumableMode::Auto, "POST", 1ull << 40, true},
      {ResumableMode::Auto, "PATCH", 1ull << 40, false},
      {ResumableMode::Always, "PUT", 0, true},
      {ResumableMode::Always, "GET", 0, false},
      {ResumableMode::Never, "PUT", 1ull << 40, false},
  };
  for (const Case& c : cases) {
    CAPTURE(c.method);
    CAPTURE(c.size);
    CHECK(offers_resumption(c.mode, c.method, c.size) == c.offers);
  }
}

TEST_CASE("after_upload_attempt: probe the offset only when there is an upload to resume") {
  struct Case {
    bool have_upload;
    int exit_code, status;
    UploadNext next;
  };
  const Case cases[] = {
      {false, kPartial, 0, UploadNext::Answer},  // no 104 came: ordinary retry rules
      {true, kPartial, 0, UploadNext::Probe},    // cut mid-body
      {true, kTimeout, 0, UploadNext::Probe},    {true, kConnect, 0, UploadNext::Probe},
      {true, kTls, 0, UploadNext::Answer},  // not transient
      {true, kLocalFile, 0, UploadNext::Answer}, {true, 0, 201, UploadNext::Answer},
      {true, 0, 204, UploadNext::Answer},        {true, 0, 412, UploadNext::Answer},
      {true, 0, 409, UploadNext::Probe},  // the offset moved: ask again
      {true, 0, 503, UploadNext::Probe},         {true, 0, 500, UploadNext::Probe},
  };
  for (const Case& c : cases) {
    CAPTURE(c.exit_code);
    CAPTURE(c.status);
    CHECK(after_upload_attempt(c.have_upload, c.exit_code, c.status) == c.next);
  }
}

TEST_CASE("judge_probe: the offset to append from, or why not") {
  struct Case {
    int exit_code, status;
    const char* offset;
    const char* complete;
    Probe verdict;
    std::uint64_t at;
  };
  const Case cases[] = {
      {0, 204, "100", "?0", Probe::Append, 100},
      {0, 200, " 0 ", "?0", Probe::Append, 0},
      {0, 204, "1000", "?0", Probe::Append, 1000},  // all sent, completion not yet asked
      {0, 204, "1001", "?0", Probe::Refused, 0},    // more than the file: not ours
      {0, 204, "", "?0", Probe::Refused, 0},
      {0, 204, "-1", "?0", Probe::Refused, 0},
      {0, 204, "12a", "?0", Probe::Refused, 0},
      {0, 204, "99999999999999999999", "?0", Probe::Refused, 0},
      {0, 204, "1000", "?1", Probe::Completed, 0},
      {0, 404, "", "", Probe::Gone, 0},
      {0, 410, "", "", Probe::Gone, 0},
      {0, 503, "", "", Probe::Again, 0},
      {0, 409, "", "", Probe::Again, 0},
      {kPartial, 0, "", "", Probe::Again, 0},
      {0, 401, "", "", Probe::Refused, 0},
  };
  for (const Case& c : cases) {
    CAPTURE(c.status);
    CAPTURE(c.offset);
    std::uint64_t at = 0;
    CHECK(judge_probe(c.exit_code, c.status, c.offset, c.complete, 1000, at) == c.verdict);
    CHECK(at == c.at);
  }
}

TEST_CASE("-J: the name Content-Disposition offers, made safe") {
  using httpfs::client::disposition_file_name;
  struct Row {
    const char* value;
    const char* want;
  };
  const Row rows[] = {
      {"attachment; filename=report.txt", "report.txt"},
      {"attachment; filename=\"annual report.pdf\"", "annual report.pdf"},
      {"attachment; filename=\"a \\\"q\\\".txt\"; size=10", "a \"q\".txt"},
      {"attachment;filename=x.bin;creation-date=\"Wed, 12 Feb 1997\"", "x.bin"},
      {"ATTACHMENT; FILENAME=up.txt", "up.txt"},
      // RFC 6266 4.3: filename* (RFC 8187) before filename, in UTF-8 only.
      {"attachment; filename=\"plain.txt\"; filename*=UTF-8''na%C3%AFve%20r.txt", "naïve r.txt"},
      {"attachment; filename*=utf-8'en'x.txt", "x.txt"},
      {"attachment; filename*=ISO-8859-1''x%E9.txt; filename=\"y.txt\"", "y.txt"},
      {"attachment; filename*=UTF-8''bad%zz; filename=ok.txt", "ok.txt"},
      // Path components go; what is left must be a plain, visible name.
      {"attachment; filename=\"../../etc/passwd\"", "passwd"},
      {"attachment; filename=\"..\\\\..\\\\win.ini\"", "win.ini"},
      {"attachment; filename=\"dir/\"", ""},
      {"attachment; filename=\"..\"", ""},
      {"attachment; filename=.bashrc", ""},
      {"attachment; filename=\"/home/u/.ssh/authorized_keys\"", "authorized_keys"},
      {"attachment; filename=CON", ""},
      {"attachment; filename=nul.txt", ""},
      {"attachment; filename=COM1.log", ""},
      {"attachment; filename=COM10.log", "COM10.log"},
      {"attachment; filename*=UTF-8''a%0Ab.txt", ""},
      {"attachment; filename*=UTF-8''%FF.txt", ""},
      {"attachment", ""},
      {"inline; filename=", ""},
  };
  for (const Row& r : rows) {
    CAPTURE(r.value);
    CHECK(disposition_file_name(r.value) == r.want);
  }
  CHECK(disposition_file_name("attachment; filename=" + std::string(256, 'a')).empty());
}

TEST_CASE("proxies: -x and the environment's URLs, no_proxy matching") {
  std::string error;
  auto p = parse_proxy("http://ann:s%3Acret@proxy.example:3128", error);
  REQUIRE(p);
  CHECK(p->host == "proxy.example");
  CHECK(p->port == 3128);
  CHECK(p->has_credentials);
  CHECK(p->user == "ann");
  CHECK(p->password == "s:cret");
  p = parse_proxy("proxy.example", error);
  REQUIRE(p);
  CHECK(p->port == 1080);  // curl's default
  CHECK_FALSE(p->has_credentials);
  p = parse_proxy("[::1]:8080/", error);
  REQUIRE(p);
  CHECK(p->host == "::1");
  CHECK(p->port == 8080);
  for (const char* bad : {"https://proxy:443", "socks5://proxy:1080", "http://:3128", "proxy:0",
                          "proxy:99999", "proxy:x", "[::1:8080", "u:%zz@proxy"}) {
    CAPTURE(bad);
    CHECK_FALSE(parse_proxy(bad, error));
    CHECK_FALSE(error.empty());
  }

  static std::map<std::string, std::string> vars;
  auto env = [](const char* n) -> const char* {
    auto it = vars.find(n);
    return it == vars.end() ? nullptr : it->second.c_str();
  };
  vars = {{"HTTP_PROXY", "upper"}, {"all_proxy", "all"}};
  CHECK(proxy_from_environment("http", env) == "all");  // HTTP_PROXY is never read
  vars = {{"http_proxy", "h"}, {"HTTPS_PROXY", "S"}, {"all_proxy", "all"}};
  CHECK(proxy_from_environment("http", env) == "h");
  CHECK(proxy_from_environment("https", env) == "S");
  vars = {{"https_proxy", "s"}, {"HTTPS_PROXY", "S"}};
  CHECK(proxy_from_environment("https", env) == "s");
  vars = {{"ALL_PROXY", "ALL"}, {"https_proxy", ""}};
  CHECK(proxy_from_environment("https", env) == "ALL");
  vars = {};
  CHECK(proxy_from_environment("http", env).empty());

  struct Row {
    const char* list;
    const char* host;
    int port;
    bool direct;
  };
  const Row rows[] = {
      {"*", "anything.example", 80, true},
      {"example.com", "example.com", 80, true},
      {"example.com", "www.EXAMPLE.com", 80, true},
      {".example.com", "www.example.com", 80, true},
      {".example.com", "example.com", 80, true},
      {"example.com", "badexample.com", 80, false},
      {"localhost, 127.0.0.1", "127.0.0.1", 8080, true},
      {"localhost,127.0.0.1", "127.0.0.2", 8080, false},
      {"example.com:8080", "example.com", 8080, true},
      {"example.com:8080", "example.com", 80, false},
      {"::1", "::1", 80, true},
      {"[::1]", "[::1]", 80, true},
      {"", "example.com", 80, false},
      {"*.example.com", "www.example.com", 80, false},  // curl: no wildcards but "*" alone
  };
  for (const Row& r : rows) {
    CAPTURE(r.list);
    CAPTURE(r.host);
    CHECK(no_proxy_matches(r.list, r.host, static_cast<std::uint16_t>(r.port)) == r.direct);
  }
}

TEST_CASE("idempotent_method: RFC 9110's six, exactly as spelled") {
  for (const char* m : {"GET", "HEAD", "OPTIONS", "TRACE", "PUT", "DELETE"}) {
    CAPTURE(m);
    CHECK(idempotent_method(m));
  }
  for (const char* m :
       {"POST", "PATCH", "CONNECT", "PROPFIND", "MKCOL", "get", "Put", "", "GETX"}) {
    CAPTURE(m);
    CHECK_FALSE(idempotent_method(m));
  }
}

TEST_CASE("segments_for: only a whole, uncoded, rangeable, pinned answer is split") {
  const std::uint64_t big = 64ull << 20;
  struct Case {
    const char* what;
    int status;
    bool length_known;
    std::uint64_t length;
    const char* accept_ranges;
    const char* coding;
    const char* validator;
    int wanted;
    int want;
  };
  for (const Case c : {
           Case{"the usual", 200, true, big, "bytes", "", "\"e\"", 4, 4},
           Case{"case and spaces", 200, true, big, " Bytes ", "identity", "\"e\"", 4, 4},
           Case{"one wanted", 200, true, big, "bytes", "", "\"e\"", 1, 1},
           Case{"a 206", 206, true, big, "bytes", "", "\"e\"", 4, 1},
           Case{"no length", 200, false, big, "bytes", "", "\"e\"", 4, 1},
           Case{"no ranges", 200, true, big, "", "", "\"e\"", 4, 1},
           Case{"ranges refused", 200, true, big, "none", "", "\"e\"", 4, 1},
           Case{"coded", 200, true, big, "bytes", "gzip", "\"e\"", 4, 1},
           Case{"nothing to pin", 200, true, big, "bytes", "", "", 4, 1},
           Case{"small", 200, true, 3 * kMinSegment, "bytes", "", "\"e\"", 8, 3},
           Case{"tiny", 200, true, 100, "bytes", "", "\"e\"", 8, 1},
       }) {
    CAPTURE(c.what);
    CHECK(segments_for(c.status, c.length_known, c.length, c.accept_ranges, c.coding, c.validator,
                       c.wanted) == c.want);
  }
}

TEST_CASE("range_answers: exactly the range asked, of the length planned") {
  CHECK(range_answers("bytes 0-99/1000", 0, 99, 1000));
  CHECK(range_answers("bytes 900-999/1000", 900, 999, 1000));
  CHECK_FALSE(range_answers("bytes 0-98/1000", 0, 99, 1000));  // less
  CHECK_FALSE(range_answers("bytes 1-99/1000", 0, 99, 1000));  // elsewhere
  CHECK_FALSE(range_answers("bytes 0-99/1001", 0, 99, 1000));  // another length
  CHECK_FALSE(range_answers("bytes 0-99/*", 0, 99, 1000));     // an unknown length
  CHECK_FALSE(range_answers("", 0, 99, 1000));
  CHECK_FALSE(range_answers("bytes */1000", 0, 99, 1000));
}

TEST_CASE("parse_directory_url: an http(s) URL without a query, ending in '/'") {
  std::string error;
  CHECK(parse_directory_url("http://h/dir", error)->target == "/dir/");
  CHECK(parse_directory_url("https://h:8443/a/b/", error)->target == "/a/b/");
  CHECK(parse_directory_url("http://h", error)->target == "/");
  CHECK_FALSE(parse_directory_url("http://h/dir/?sort=name", error).has_value());
  CHECK(error.find("query") != std::string::npos);
  CHECK_FALSE(parse_directory_url("ftp://h/dir/", error).has_value());
}
