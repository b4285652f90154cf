// Request smuggling and desync over real sockets (README "Security", rows 1-8, 13, 28): every
// shared request vector is sent to the running server with a probe request behind it in the same
// write, and again between two probes. The responses (count, order, statuses) show that the server
// never reads one request's body as the next request's head, and never answers the bytes behind a
// rejected request.
#include <doctest/doctest.h>

#include <set>
#include <string>
#include <vector>

#include "http/method.hpp"
#include "support/http_client.hpp"
#include "support/vectors.hpp"

using namespace httpfs::test;
using json = nlohmann::json;
using namespace std::chrono_literals;

namespace {

const std::string kProbeBody = "PROBE-5c1e-answered";
const std::string kProbe = "GET /probe.txt HTTP/1.1\r\nHost: x\r\n\r\n";

bool allowed(const json& v, const std::string& verdict) {
  if (v["expect"] == verdict) return true;
  if (v.contains("also_ok"))
    for (const auto& a : v["also_ok"])
      if (a == verdict) return true;
  return false;
}

bool is_probe(const Response& r) {
  return r.status == 200 && r.body == kProbeBody;
}

// The answer to a vector the strict parser rejects: its error status; or, when the head was
// valid and only the body's framing is broken, the answer the server gave before reading the
// body (RFC 9112 allows answering first). Either way the connection ends after it.
void check_refusal(const json& v, const Response& r) {
  if (r.status < 400)
    CHECK(v["why"].get<std::string>().find("chunk") != std::string::npos);
  else
    CHECK(r.status == v["error_status"].get<int>());
}

// Methods of the requests in the vector, in order (for HEAD, whose answers have no body).
std::vector<httpfs::http::Method> methods_of(const json& v) {
  std::vector<httpfs::http::Method> out;
  if (v.contains("messages")) {
    for (const auto& m : v["messages"])
      out.push_back(httpfs::http::method_from_token(m["method"].get<std::string>()));
  } else if (v.contains("method")) {
    out.push_back(httpfs::http::method_from_token(v["method"].get<std::string>()));
  }
  return out;
}

struct Exchange {
  std::vector<Response> responses;
  bool closed = false;
  std::string leftover;  // bytes after the last whole response
};

// Sends `bytes` in one write, half-closes, and reads every response until the server closes.
Exchange converse(int port, const std::string& bytes,
                  const std::vector<httpfs::http::Method>& methods) {
  Exchange ex;
  RawConnection c(port);
  c.send(bytes);
  c.shutdown_write();
  for (std::size_t i = 0;; ++i) {
    const auto m = i < methods.size() ? methods[i] : httpfs::http::Method::Get;
    auto r = c.read_response(m, 5s);
    if (!r) break;
    ex.responses.push_back(*r);
  }
  ex.closed = c.wait_closed(5s);
  ex.leftover = c.buffered();
  return ex;
}

}  // namespace

TEST_CASE("every request vector, with a probe behind it in the same write") {
  TempDir dir;
  dir.write("probe.txt", kProbeBody);
  dir.write("index.html", "index");
  ServerProcess server(dir.path(), {"--linger-timeout", "1"});
  const json vectors = load_vectors("requests.json");
  REQUIRE(vectors.size() >= 300);
  std::size_t rejected = 0, accepted = 0;
  for (const json& v : vectors) {
    const std::string id = v["id"].get<std::string>();
    INFO("vector " << id);
    const std::string raw = vector_bytes(v);
    std::vector<httpfs::http::Method> methods = methods_of(v);
    const Exchange ex = converse(server.port(), raw + kProbe, methods);
    CHECK(ex.closed);
    CHECK(ex.leftover.empty());  // nothing but whole responses
    const std::size_t n = ex.responses.size();
    // The probe, if answered at all, is answered last: never in the middle of the stream,
    // never as part of another request.
    for (std::size_t i = 0; i + 1 < n; ++i) CHECK_FALSE(is_probe(ex.responses[i]));
    // A response that announces the end of the connection is the last one.
    for (std::size_t i = 0; i + 1 < n; ++i) CHECK(ex.responses[i].keep_alive);
    const bool server_closed_early = n > 0 && !ex.responses.back().keep_alive;
    const bool probe_answered = n > 0 && is_probe(ex.responses.back());
    const std::string after = v.value("after", "end");

    if (v["expect"] == "reject" && !allowed(v, "accept") && !allowed(v, "incomplete")) {
      // One error answer, then the connection closes: the probe behind it is never read
      // as a request.
      ++rejected;
      REQUIRE(n == 1);
      CHECK_FALSE(probe_answered);
      check_refusal(v, ex.responses[0]);
    } else if (v["expect"] == "accept" && !allowed(v, "reject")) {
      ++accepted;
      const std::size_t messages = std::max<std::size_t>(1, methods.size());
      if (v.contains("server_status")) {
        // A semantic refusal (Host rules, unknown method or coding, too large): that status
        // first; the probe may follow only if the server kept the connection.
        REQUIRE(n >= 1);
        CHECK(ex.responses[0].status == v["server_status"].get<int>());
        CHECK(n <= messages + 1);
      } else if (after == "end" && v["keep_alive"] == true && !server_closed_early) {
        // Every message answered in order, then the probe.
        CHECK(n == messages + 1);
        CHECK(probe_answered);
      } else if (after == "end" && v["keep_alive"] == true) {
        // The server refused one (Expect it cannot meet, a body it will not read) and said
        // it closes: the refusal is the last answer, and the probe is never read.
        CHECK(n <= messages);
        CHECK_FALSE(probe_answered);
        CHECK(ex.responses.back().status >= 400);
      } else if (after == "close" || (after == "end" && v["keep_alive"] == false)) {
        // Not persistent: exactly the messages, and nothing after them is read.
        CHECK(n == messages);
        CHECK_FALSE(probe_answered);
      } else if (after == "reject") {
        // The messages, then one error for the invalid one, then nothing.
        CHECK(n == messages + 1);
        CHECK_FALSE(probe_answered);
        CHECK(ex.responses.back().status >= 400);
      } else {  // incomplete: the probe's bytes belong to the unfinished message
        CHECK(n >= messages);
        CHECK(n <= messages + 1);
      }
    } else if (v["expect"] == "incomplete") {
      // The probe completes or corrupts the unfinished message; it is never answered as
      // itself unless the vector's head was complete and its body took no bytes.
      CHECK(n <= 1);
    }
  }
  MESSAGE(rejected << " strict rejections and " << accepted << " accepted vectors checked");
  CHECK(rejected >= 150);
  CHECK(accepted >= 100);
  CHECK(server.process().running());
}

TEST_CASE("pairs in one write: probe, rejected request, probe") {
  TempDir dir;
  dir.write("probe.txt", kProbeBody);
  ServerProcess server(dir.path(), {"--linger-timeout", "1"});
  const json vectors = load_vectors("requests.json");
  std::size_t ran = 0;
  for (const json& v : vectors) {
    if (v["expect"] != "reject" || allowed(v, "accept") || allowed(v, "incomplete")) continue;
    const std::string raw = vector_bytes(v);
    // A rejection that depends on where the stream starts (leading CRLFs, bare LF) still is
    // one: the first probe ends cleanly at its blank line.
    INFO("vector " << v["id"].get<std::string>());
    const Exchange ex = converse(server.port(), kProbe + raw + kProbe, {});
    REQUIRE(ex.responses.size() == 2);
    CHECK(is_probe(ex.responses[0]));
    CHECK_FALSE(is_probe(ex.responses[1]));
    check_refusal(v, ex.responses[1]);
    CHECK(ex.closed);
    ++ran;
  }
  CHECK(ran >= 150);
}

TEST_CASE("non-HTTP input: a TLS ClientHello, the HTTP/2 preface, binary noise") {
  TempDir dir;
  dir.write("probe.txt", kProbeBody);
  ServerProcess server(dir.path());
  // The start of a real TLS 1.2 ClientHello record.
  const std::string hello("\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03", 11);
  const std::string h2 = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
  const std::string noise = random_bytes(64 * 1024, 99);
  for (const std::string& input : {hello + std::string(200, '\x00'), h2, noise}) {
    const Exchange ex = converse(server.port(), input + kProbe, {});
    CHECK(ex.closed);
    CHECK(ex.responses.size() <= 1);
    for (const Response& r : ex.responses) CHECK(r.status >= 400);
  }
  CHECK(server.process().running());
  CHECK(get(server.port(), "/probe.txt").body == kProbeBody);
}
