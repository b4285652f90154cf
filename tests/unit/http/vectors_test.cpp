// The shared parser vectors (../shared/vectors, see their README) as data-driven tests.
//
// For every vector and several ways of cutting its bytes (all at once, one byte at a time,
// every two-piece split, random pieces), the parsers must reach the vector's verdict (or one
// of its also_ok verdicts) and, when they accept, the same method, target, version, headers,
// body, trailers and keep-alive. Every feeding of one vector must give exactly the same
// result: that is what "resumable at every byte" means.
#include "support/vectors.hpp"

#include <doctest/doctest.h>

#include <map>
#include <set>

#include "http/base64.hpp"
#include "http/chars.hpp"
#include "http/parse_error.hpp"
#include "support/message_stream.hpp"

using nlohmann::json;
using namespace httpfs;
using namespace httpfs::test;

namespace {

// Vectors where the product deliberately gives another verdict than `expect`/`also_ok`,
// with the rule that justifies it. Empty: no deviation is needed today. A vector listed here
// is still run; only its verdict comparison is replaced by the listed one.
const std::map<std::string, std::pair<std::string, std::string>> kDeviations = {};

std::string verdict_of(const StreamResult& r) {
  if (!r.messages.empty()) return "accept";
  return r.after == After::Reject ? "reject" : "incomplete";
}

bool verdict_allowed(const json& v, const std::string& verdict) {
  if (auto it = kDeviations.find(v["id"].get<std::string>()); it != kDeviations.end())
    return verdict == it->second.first;
  if (v["expect"] == verdict) return true;
  if (v.contains("also_ok"))
    for (const auto& alt : v["also_ok"])
      if (alt == verdict) return true;
  return false;
}

std::string expected_version(const json& m) {
  std::string v = m["version"].get<std::string>();
  // HTTP/1.2 and later minor versions are answered as HTTP/1.1 (RFC 9110 2.5).
  if (v.size() == 8 && v.substr(0, 7) == "HTTP/1." && v[7] >= '2') return "HTTP/1.1";
  return v;
}

// A field value is a JSON string, or {"b64": ...} for bytes that are not UTF-8.
std::string field_text(const json& j) {
  if (j.is_object()) return http::base64_decode(j["b64"].get<std::string>()).value_or("<bad b64>");
  return j.get<std::string>();
}

void check_fields(const char* what, const Fields& got, const json& want) {
  INFO(what);
  REQUIRE(got.size() == want.size());
  for (std::size_t i = 0; i < got.size(); ++i) {
    CHECK(http::chars::iequals(got[i].first, field_text(want[i][0])));
    CHECK(got[i].second == field_text(want[i][1]));
  }
}

void check_body(const Message& got, const json& want) {
  if (want.contains("body")) CHECK(got.body == want["body"].get<std::string>());
  if (want.contains("body_len")) {
    CHECK(got.body.size() == want["body_len"].get<std::size_t>());
    CHECK(sha256_hex(got.body) == want["body_sha256"].get<std::string>());
  }
}

void check_request(const Message& got, const json& want) {
  CHECK(got.method == want["method"].get<std::string>());
  CHECK(got.target == want["target"].get<std::string>());
  CHECK(got.version == expected_version(want));
  check_fields("headers", got.headers, want["headers"]);
  check_body(got, want);
  if (want.contains("keep_alive")) CHECK(got.keep_alive == want["keep_alive"].get<bool>());
  if (want.contains("trailers")) check_fields("trailers", got.trailers, want["trailers"]);
  if (want.contains("chunk_extensions") && !want.contains("chunk_extensions_total")) {
    const auto& exts = want["chunk_extensions"];
    REQUIRE(got.extensions.size() == exts.size());
    for (std::size_t i = 0; i < exts.size(); ++i) {
      CHECK(got.extensions[i].first == exts[i][0].get<std::string>());
      if (exts[i][1].is_null())
        CHECK_FALSE(got.extensions[i].second.has_value());
      else
        CHECK(got.extensions[i].second.value_or("<none>") == exts[i][1].get<std::string>());
    }
  }
}

void check_response(const Message& got, const json& want) {
  CHECK(got.status == want["status"].get<int>());
  CHECK(got.reason == want["reason"].get<std::string>());
  CHECK(got.version == expected_version(want));
  check_fields("headers", got.headers, want["headers"]);
  check_body(got, want);
  if (want.contains("framing")) CHECK(got.framing == want["framing"].get<std::string>());
  if (want.contains("keep_alive")) CHECK(got.keep_alive == want["keep_alive"].get<bool>());
  if (want.contains("trailers")) check_fields("trailers", got.trailers, want["trailers"]);
}

std::string after_verdict(const StreamResult& r) {
  return std::string(after_name(r.after));
}

}  // namespace

TEST_CASE("request vectors: verdict, fields and split invariance") {
  const json vectors = load_vectors("requests.json");
  REQUIRE(vectors.size() >= 300);
  // The syntax verdict alone: Host and coding semantics are checked by the next test case.
  http::RequestParser::Policy syntax{false, false};
  std::size_t ran = 0;
  for (const json& v : vectors) {
    const std::string id = v["id"].get<std::string>();
    INFO("vector " << id);
    const std::string raw = vector_bytes(v);
    const StreamResult base = run_requests(raw, {}, syntax);
    const std::string verdict = verdict_of(base);
    CHECK_MESSAGE(verdict_allowed(v, verdict),
                  "got " << verdict << " (" << http::error_name(base.error) << "), expected "
                         << v["expect"].get<std::string>());
    if (verdict == "accept" && v["expect"] == "accept") {
      check_request(base.messages.front(), v);
      if (v.contains("messages")) {
        const auto& want = v["messages"];
        CHECK(base.messages.size() == want.size());
        for (std::size_t i = 0; i < std::min(base.messages.size(), want.size()); ++i)
          check_request(base.messages[i], want[i]);
      }
      if (v.contains("after")) {
        std::set<std::string> ok{v["after"].get<std::string>()};
        if (v.contains("after_also_ok"))
          for (const auto& a : v["after_also_ok"]) ok.insert(a.get<std::string>());
        CHECK_MESSAGE(ok.count(after_verdict(base)) == 1, "after: got " << after_verdict(base));
        if (base.after == After::Reject && v.contains("after_error_status"))
          CHECK(http::error_status(base.error) == v["after_error_status"].get<int>());
      }
    }
    if (verdict == "reject" && v["expect"] == "reject" && v.contains("error_status"))
      CHECK_MESSAGE(http::error_status(base.error) == v["error_status"].get<int>(),
                    "error " << http::error_name(base.error));
    if (verdict == "incomplete" && v.contains("head_complete")) {
      CHECK(base.head_complete == v["head_complete"].get<bool>());
      if (base.partial) {
        CHECK(base.partial->method == v["method"].get<std::string>());
        CHECK(base.partial->target == v["target"].get<std::string>());
        check_fields("headers", base.partial->headers, v["headers"]);
      }
      if (v.contains("content_length"))
        CHECK(base.content_length == v["content_length"].get<std::uint64_t>());
      if (v.contains("chunked")) CHECK(base.chunked == v["chunked"].get<bool>());
    }
    for (const auto& [name, splits] : feedings(raw.size())) {
      StreamResult r = run_requests(raw, splits, syntax);
      if (!same_result(base, r)) {
        FAIL_CHECK("feeding '" << name << "' differs from one piece: " << after_verdict(r) << "/"
                               << http::error_name(r.error));
        break;
      }
    }
    ++ran;
  }
  CHECK(ran == vectors.size());
}

TEST_CASE("request vectors: a server's semantic answers (server_status)") {
  const json vectors = load_vectors("requests.json");
  const http::RequestParser::Policy server{};  // require_host, reject_unknown_coding
  for (const json& v : vectors) {
    const std::string id = v["id"].get<std::string>();
    INFO("vector " << id);
    const std::string raw = vector_bytes(v);
    const StreamResult r = run_requests(raw, {}, server);
    if (v["expect"] != "accept") continue;
    const std::string why = v.value("server_why", "");
    const bool host_rule = why.find("Host") != std::string::npos;
    const bool coding_rule = why.find("transfer coding") != std::string::npos;
    if (host_rule || coding_rule) {
      // The parser in server policy refuses the first message with the listed status.
      REQUIRE(r.messages.empty());
      CHECK(r.after == After::Reject);
      CHECK(http::error_status(r.error) == v["server_status"].get<int>());
    } else {
      // Everything else a server accepts at the parser (unknown methods, CONNECT, large
      // lengths are the server's business, not the parser's).
      const bool accepted = !r.messages.empty() || r.after == After::Incomplete;
      CHECK_MESSAGE((accepted || verdict_allowed(v, "reject")),
                    "rejected: " << http::error_name(r.error));
    }
  }
}

TEST_CASE("response vectors: verdict, fields and split invariance") {
  const json vectors = load_vectors("responses.json");
  REQUIRE(vectors.size() >= 100);
  for (const json& v : vectors) {
    const std::string id = v["id"].get<std::string>();
    INFO("vector " << id);
    const std::string raw = vector_bytes(v);
    const http::Method method = http::method_from_token(v["request_method"].get<std::string>());
    const bool eof = v["eof_after_raw"].get<bool>();
    const StreamResult base = run_responses(raw, {}, method, eof);
    const std::string verdict = verdict_of(base);
    CHECK_MESSAGE(verdict_allowed(v, verdict),
                  "got " << verdict << " (" << http::error_name(base.error) << "), expected "
                         << v["expect"].get<std::string>());
    if (verdict == "accept" && v["expect"] == "accept") {
      check_response(base.messages.front(), v);
      if (v.contains("messages")) {
        const auto& want = v["messages"];
        CHECK(base.messages.size() == want.size());
        for (std::size_t i = 0; i < std::min(base.messages.size(), want.size()); ++i)
          check_response(base.messages[i], want[i]);
      }
      if (v.contains("after")) {
        std::set<std::string> ok{v["after"].get<std::string>()};
        if (v.contains("after_also_ok"))
          for (const auto& a : v["after_also_ok"]) ok.insert(a.get<std::string>());
        CHECK_MESSAGE(ok.count(after_verdict(base)) == 1, "after: got " << after_verdict(base));
      }
    }
    for (const auto& [name, splits] : feedings(raw.size())) {
      StreamResult r = run_responses(raw, splits, method, eof);
      if (!same_result(base, r)) {
        FAIL_CHECK("feeding '" << name << "' differs from one piece: " << after_verdict(r) << "/"
                               << http::error_name(r.error));
        break;
      }
    }
  }
}
