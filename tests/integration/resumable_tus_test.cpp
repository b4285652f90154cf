// Resumable uploads (draft-ietf-httpbis-resumable-upload, interop version 6) judged by an
// outside client: tus-js-client (npm, pinned in scripts/lib.sh) with protocol 'ietf-draft-05',
// run by node on tests/integration/tus/upload.cjs. The script puts a TCP proxy of its own
// between the client and httpfs that drops connections in the middle of a PATCH, so the client
// must ask for the offset (HEAD) and resume; the file that lands must be the file sent.
//
// When node or the module is missing the cases say why and pass without running, except under
// CI=true (.ci/run), where scripts/lib.sh has installed them and their absence is a failure.
#include <doctest/doctest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>

#include "support/http_client.hpp"
#include "support/node.hpp"
#include "support/vectors.hpp"
#include "support/wait.hpp"

using namespace httpfs::test;
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

// tests/integration/tus: $HTTPFS_TUS_DIR, else beside this source file. Meson compiles it by
// a path relative to the build directory, which is $HTTPFS_BIN_DIR (else ./build).
fs::path tus_dir() {
  if (const char* d = std::getenv("HTTPFS_TUS_DIR"); d != nullptr && *d != '\0') return d;
  return source_dir(__FILE__) / "tus";
}

struct Tus {
  std::string node, script;
  std::string missing;  // why the client cannot run, or ""
};

Tus locate_tus() {
  Tus t;
  const fs::path dir = tus_dir();
  t.script = (dir / "upload.cjs").string();
  const std::optional<std::string> node = find_node();
  if (!node) {
    t.missing = "node is not on PATH";
  } else if (!fs::is_regular_file(t.script)) {
    t.missing = "the script " + t.script + " is missing";
  } else if (!fs::is_regular_file(dir / "node_modules/tus-js-client/package.json")) {
    t.missing = "tus-js-client is not installed in " + (dir / "node_modules").string() +
                " (scripts/lib.sh ensure_npm_packages installs it)";
  } else {
    t.node = *node;
  }
  return t;
}

// The client, or nullopt after saying why not (and failing under CI=true).
std::optional<Tus> tus_or_skip() {
  Tus t = locate_tus();
  if (t.missing.empty()) return t;
  const char* ci = std::getenv("CI");
  if (ci != nullptr && std::string_view(ci) == "true")
    FAIL_CHECK("tus-js-client cannot run under CI: " << t.missing);
  else
    MESSAGE("skipped: " << t.missing);
  return std::nullopt;
}

std::string tail(const std::string& s, std::size_t n) {
  return s.size() <= n ? s : "..." + s.substr(s.size() - n);
}

std::size_t count(std::string_view hay, std::string_view needle) {
  std::size_t n = 0;
  for (std::size_t at = hay.find(needle); at != std::string_view::npos;
       at = hay.find(needle, at + needle.size()))
    ++n;
  return n;
}

struct Upload {
  int status = -1;  // node's exit status
  json report;      // the script's JSON line (null when it printed none)
  std::string out, err;
};

// Uploads `source` to `target` (a URL path) on `server` through the script's proxy.
Upload tus_upload(const Tus& tus, const ServerProcess& server, const std::string& target,
                  const std::string& source, std::vector<std::string> options) {
  std::vector<std::string> argv = {
      tus.node,       tus.script, "--port",   std::to_string(server.port()),
      "--target",     target,     "--source", source,
      "--timeout-ms", "60000"};
  argv.insert(argv.end(), options.begin(), options.end());
  const RunResult r = run(std::move(argv), 90s);
  Upload u{r.status, json(), r.out, r.err};
  // The report is the last line on stdout.
  std::string line = r.out;
  while (!line.empty() && line.back() == '\n') line.pop_back();
  if (const std::size_t nl = line.rfind('\n'); nl != std::string::npos) line = line.substr(nl + 1);
  u.report = json::parse(line, nullptr, false);
  if (u.report.is_discarded()) u.report = json();
  return u;
}

std::string str(const json& v) {
  return v.is_string() ? v.get<std::string>() : v.dump();
}

// The requests the client saw answered, one line each, for failure messages.
std::string describe(const Upload& u) {
  std::string s = "node exit status " + std::to_string(u.status) + "\n";
  if (u.report.is_object()) {
    if (u.report.contains("error")) s += "error: " + str(u.report["error"]) + "\n";
    for (json q : u.report.value("requests", json::array()))
      s += str(q["method"]) + " offset " + str(q["requestOffset"]) + " complete " +
           str(q["requestComplete"]) + " -> " + str(q["status"]) + " offset " +
           str(q["uploadOffset"]) + " complete " + str(q["uploadComplete"]) + " length " +
           str(q["uploadLength"]) + "\n";
    s += "cuts: " + u.report.value("cuts", json::array()).dump() + "\n";
    s += "retries: " + u.report.value("retries", json::array()).dump() + "\n";
  } else {
    s += "stdout: " + tail(u.out, 3000) + "\n";
  }
  return s + "stderr: " + tail(u.err, 3000);
}

// The client finished without error, and the target holds exactly `data`.
void check_landed(const Upload& u, const std::string& target_file, const std::string& data) {
  CHECK(u.status == 0);
  REQUIRE(u.report.is_object());
  CHECK(u.report.value("ok", false));
  REQUIRE(fs::is_regular_file(target_file));
  const std::string landed = read_file(target_file);
  CHECK(landed.size() == data.size());
  CHECK(sha256_hex(landed) == sha256_hex(data));
}

// The server's access log, once it holds at least `lines` lines.
std::string access_log(const ServerProcess& server, std::size_t lines) {
  wait_until([&] { return count(server.access_log(), "\n") >= lines; },
             "the access log has a line for each request the client saw answered");
  return server.access_log();
}

}  // namespace

TEST_CASE("tus-js-client: a 4 MiB upload cut twice in mid-PATCH resumes where the server says") {
  const std::optional<Tus> tus = tus_or_skip();
  if (!tus) return;
  TempDir root, work;
  root.mkdir("dir");
  const std::size_t size = 4 * 1024 * 1024 + 12345;
  const std::string data = random_bytes(size, 2024);
  write_file(work / "source.bin", data);
  ServerProcess server(root.path());

  // 512 KiB chunks: nine PATCHes. Cut when 40% and 80% of the file have gone through the proxy
  // (the second counts what the client re-sends after the first): both land inside a PATCH
  // body, after the first one's have been acknowledged.
  const Upload u =
      tus_upload(*tus, server, "/dir/file.bin", work / "source.bin",
                 {"--chunk-size", "524288", "--cut-at",
                  std::to_string(size * 4 / 10) + "," + std::to_string(size * 8 / 10)});
  INFO(describe(u));
  check_landed(u, root / "dir/file.bin", data);
  // Nothing else beside the file: the upload's data lives in the server's state until the
  // last byte, then becomes the file.
  CHECK(entries(root / "dir") == std::vector<std::string>{"file.bin"});

  json cuts = u.report.value("cuts", json::array());
  REQUIRE(cuts.size() == 2);
  for (json cut : cuts) {
    INFO("cut " << cut.dump());
    REQUIRE(cut["phase"] == "body");
    REQUIRE(cut["request"].is_object());
    json req = cut["request"];
    CHECK(req["method"] == "PATCH");
    // The server read up to the proxy's FIN, kept what came, and closed the connection.
    CHECK(str(cut["serverClosed"]).starts_with("after "));
    const std::uint64_t begin = req["uploadOffset"].get<std::uint64_t>();
    const std::uint64_t sent = req["bodyForwarded"].get<std::uint64_t>();
    CHECK(sent > 0);
    CHECK(sent < req["contentLength"].get<std::uint64_t>());
    // The proxy lets the server read all that went before the cut before the client
    // reconnects: the HEAD must report every byte of the cut PATCH, kept.
    REQUIRE(cut["resumedAt"].is_number());
    CHECK(cut["resumedAt"].get<std::uint64_t>() == begin + sent);
  }
  // Each cut cost one retry, and each was the network's (no HTTP error answer was retried).
  json retries = u.report.value("retries", json::array());
  CHECK(retries.size() == 2);
  for (json r : retries) CHECK(r["status"] == 0);

  json requests = u.report.value("requests", json::array());
  REQUIRE(!requests.empty());
  CHECK(requests.front()["method"] == "POST");
  CHECK(requests.front()["status"] == 201);
  CHECK(requests.front()["uploadComplete"] == "?0");
  // Every answer but the last says incomplete; the last PATCH says ?1 and gets it.
  json last = requests.back();
  CHECK(last["method"] == "PATCH");
  CHECK(last["requestComplete"] == "?1");
  CHECK((last["status"] == 201 || last["status"] == 204));
  CHECK(last["uploadComplete"] == "?1");
  CHECK(last["uploadOffset"] == std::to_string(size));
  for (std::size_t i = 0; i + 1 < requests.size(); ++i) {
    INFO("request " << i);
    CHECK(requests[i]["uploadComplete"] == "?0");
    CHECK(requests[i]["uploadLength"] == std::to_string(size));
  }

  // The server saw the resumption too: HEADs on the upload resource and many PATCHes.
  const std::string log = access_log(server, requests.size());
  INFO("access log:\n" << tail(log, 4000));
  CHECK(count(log, "\"HEAD /.httpfs-upload/") >= 2);
  CHECK(count(log, "\"PATCH /.httpfs-upload/") > 1);
  CHECK(count(log, "\"POST /dir/file.bin HTTP/1.1\" 201") == 1);
}

TEST_CASE("tus-js-client: a zero-byte upload makes an empty file") {
  const std::optional<Tus> tus = tus_or_skip();
  if (!tus) return;
  TempDir root, work;
  write_file(work / "empty", "");
  ServerProcess server(root.path());

  SUBCASE("creation without data: Upload-Length: 0, Upload-Complete: ?0") {
    // tus-js-client then never sends ?1: it takes the 201 for success. By the draft (-05,
    // section 4) an upload is not completed by reaching its length, so this one would stay
    // incomplete; httpfs completes a zero-length upload at creation on purpose, so that this
    // client's empty files land.
    const Upload u = tus_upload(*tus, server, "/empty.bin", work / "empty", {});
    INFO(describe(u));
    check_landed(u, root / "empty.bin", "");
    json requests = u.report.value("requests", json::array());
    REQUIRE(requests.size() == 1);
    CHECK(requests[0]["method"] == "POST");
    CHECK(requests[0]["requestComplete"] == "?0");
    CHECK(requests[0]["status"] == 201);
    CHECK(requests[0]["uploadComplete"] == "?1");
    CHECK(requests[0]["uploadLength"] == "0");
  }
  SUBCASE("creation with data: an empty body and Upload-Complete: ?1") {
    const Upload u =
        tus_upload(*tus, server, "/empty.bin", work / "empty", {"--data-during-creation"});
    INFO(describe(u));
    check_landed(u, root / "empty.bin", "");
    json requests = u.report.value("requests", json::array());
    REQUIRE(requests.size() == 1);
    CHECK(requests[0]["method"] == "POST");
    CHECK(requests[0]["requestComplete"] == "?1");
    CHECK(requests[0]["status"] == 201);
    CHECK(requests[0]["uploadComplete"] == "?1");
  }
  const std::string log = access_log(server, 1);
  CHECK(count(log, "\"POST /empty.bin HTTP/1.1\" 201") == 1);
  CHECK(count(log, "/.httpfs-upload/") == 0);
}

TEST_CASE("tus-js-client: uploadDataDuringCreation sends the data with the POST") {
  const std::optional<Tus> tus = tus_or_skip();
  if (!tus) return;
  TempDir root, work;
  const std::size_t size = 1024 * 1024 + 777;
  const std::string data = random_bytes(size, 77);
  write_file(work / "source.bin", data);
  ServerProcess server(root.path());

  SUBCASE("the whole file in one POST with Upload-Complete: ?1") {
    const Upload u = tus_upload(*tus, server, "/one.bin", work / "source.bin",
                                {"--data-during-creation", "--chunk-size", "4194304"});
    INFO(describe(u));
    check_landed(u, root / "one.bin", data);
    json requests = u.report.value("requests", json::array());
    REQUIRE(requests.size() == 1);
    CHECK(requests[0]["method"] == "POST");
    CHECK(requests[0]["requestComplete"] == "?1");
    CHECK(requests[0]["status"] == 201);
    CHECK(requests[0]["uploadComplete"] == "?1");
    CHECK(requests[0]["uploadOffset"] == std::to_string(size));
    const std::string log = access_log(server, 1);
    CHECK(count(log, "\"POST /one.bin HTTP/1.1\" 201") == 1);
    CHECK(count(log, "/.httpfs-upload/") == 0);
  }
  SUBCASE("the first 256 KiB with the POST, the rest in PATCHes, one of them cut") {
    const Upload u = tus_upload(
        *tus, server, "/parts.bin", work / "source.bin",
        {"--data-during-creation", "--chunk-size", "262144", "--cut-at", std::to_string(size / 2)});
    INFO(describe(u));
    check_landed(u, root / "parts.bin", data);
    json requests = u.report.value("requests", json::array());
    REQUIRE(requests.size() >= 2);
    CHECK(requests[0]["method"] == "POST");
    CHECK(requests[0]["requestComplete"] == "?0");
    CHECK(requests[0]["status"] == 201);
    CHECK(requests[0]["uploadOffset"] == "262144");
    json cuts = u.report.value("cuts", json::array());
    REQUIRE(cuts.size() == 1);
    REQUIRE(cuts[0]["phase"] == "body");
    REQUIRE(cuts[0]["request"].is_object());
    CHECK(cuts[0]["request"]["method"] == "PATCH");
    CHECK(str(cuts[0]["serverClosed"]).starts_with("after "));
    CHECK(cuts[0]["resumedAt"] == cuts[0]["request"]["uploadOffset"].get<std::uint64_t>() +
                                      cuts[0]["request"]["bodyForwarded"].get<std::uint64_t>());
    CHECK(requests.back()["requestComplete"] == "?1");
    CHECK(requests.back()["uploadComplete"] == "?1");
  }
}

TEST_CASE("tus-js-client: a creation request cut in its body is started over, and lands") {
  // tus-js-client 4.3.1 ignores the 104 that carries the upload's URL, so a POST cut before
  // its final answer leaves it with nothing to resume: it creates a new upload. The first one
  // stays in the server's state (until it expires); the file must still be the file sent.
  const std::optional<Tus> tus = tus_or_skip();
  if (!tus) return;
  TempDir root, work;
  const std::size_t size = 1024 * 1024;
  const std::string data = random_bytes(size, 5);
  write_file(work / "source.bin", data);
  ServerProcess server(root.path());
  const Upload u =
      tus_upload(*tus, server, "/again.bin", work / "source.bin",
                 {"--data-during-creation", "--chunk-size", "4194304", "--cut-at", "300000"});
  INFO(describe(u));
  check_landed(u, root / "again.bin", data);
  json cuts = u.report.value("cuts", json::array());
  REQUIRE(cuts.size() == 1);
  REQUIRE(cuts[0]["phase"] == "body");
  REQUIRE(cuts[0]["request"].is_object());
  CHECK(cuts[0]["request"]["method"] == "POST");
  CHECK(cuts[0]["request"]["uploadComplete"] == "?1");
  CHECK(str(cuts[0]["serverClosed"]).starts_with("after "));
  CHECK(entries(root.path()) == std::vector<std::string>{".httpfs-state", "again.bin"});
}
