// Compression judged by a browser: headless Chromium (Debian's /usr/bin/chromium, driven by
// playwright-core from npm, both brought by scripts/lib.sh) fetches files and a listing from
// httpfs, and what it decoded is compared byte for byte with the files on disk (and with the
// uncompressed listing curl gets). Chromium sends its own Accept-Encoding (156: "gzip,
// deflate, br, zstd"); the coding it got must be the one httpfs picks for that header.
//
// One Chromium run, by tests/integration/browser/fetch.cjs, serves all the cases: the first
// case to ask makes the files, starts the servers and runs it; the others read its results.
// Each URL is fetched twice: by navigating to it, and by fetch() from the page. A third server
// speaks HTTPS: Chromium loads the browser page, its files and the same URLs over h2 (ALPN).
//
// When Chromium, node or playwright-core is missing the cases say why and pass without
// running, except under CI=true (.ci/run), where scripts/lib.sh has installed them and their
// absence is a failure.
#include <doctest/doctest.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <random>
#include <sstream>

#include "support/http_client.hpp"
#include "support/node.hpp"
#include "support/process.hpp"
#include "support/shared_run.hpp"
#include "support/test_pki.hpp"

using namespace httpfs::test;
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

constexpr const char* kChromium = "/usr/bin/chromium";

fs::path integration_dir() {
  return source_dir(__FILE__);
}
fs::path npm_dir() {
  return httpfs::test::npm_dir(integration_dir());
}

bool contains(std::string_view hay, std::string_view needle) {
  return hay.find(needle) != std::string_view::npos;
}

// Words, so that the text compresses like source code does.
std::string text(std::size_t n, unsigned seed) {
  static const char* const kWords[] = {"function ", "return ", "const ", "value", " = ",
                                       "(x) ",      "{\n",     "}\n",    "alpha", "beta "};
  std::mt19937 rng(seed);
  std::string s;
  while (s.size() < n) s += kWords[rng() % 10];
  s.resize(n);
  return s;
}

void set_mtime(const std::string& path, std::time_t sec) {
  timespec ts[2] = {{sec, 0}, {sec, 0}};
  REQUIRE(::utimensat(AT_FDCWD, path.c_str(), ts, 0) == 0);
}

// Runs a compression tool; its stdout (for -c).
std::string tool(std::vector<std::string> argv, std::optional<std::string> input = std::nullopt) {
  const RunResult r = run(argv, std::chrono::seconds(60), std::move(input));
  REQUIRE_MESSAGE(r.status == 0, argv[0] << ": " << r.err);
  return r.out;
}

// "equal", else where two byte strings first differ (never the bytes: they can be MiBs).
std::string compare_bytes(const std::string& got, const std::string& want) {
  if (got == want) return "equal";
  std::size_t i = 0;
  while (i < got.size() && i < want.size() && got[i] == want[i]) ++i;
  return "got " + std::to_string(got.size()) + " bytes, want " + std::to_string(want.size()) +
         ", first difference at byte " + std::to_string(i);
}

// One URL as Chromium saw it.
struct Seen {
  std::string navigated, fetched;  // the decoded bodies: navigation, and fetch() in the page
  json report;                     // fetch.cjs's: status, headers, requestHeaders, fetch
  Response direct;  // httpfs's answer to our client sending Chromium's Accept and Accept-Encoding

  std::string header(const std::string& name) const {
    return report["headers"].value(name, std::string());
  }
  std::string sent(const std::string& name) const {
    return report["requestHeaders"].value(name, std::string());
  }
};

// Everything the cases look at, made once.
struct Judged {
  std::string missing;  // why Chromium cannot run here, or ""
  bool complete = false;
  std::unique_ptr<TempDir> root;
  std::map<std::string, Seen> seen;  // by "default:/path", "compress-off:/path", "h2:/path"
  std::string listing_by_curl;       // /many/?format=html, uncompressed
  double seconds = 0;                // the Chromium run's wall time
};

std::string locate(std::string& node, std::string& script) {
  script = (integration_dir() / "browser" / "fetch.cjs").string();
  const std::optional<std::string> found = find_node();
  if (::access(kChromium, X_OK) != 0)
    return std::string(kChromium) + " is not installed (Debian's chromium; scripts/lib.sh)";
  if (!found) return "node is not on PATH";
  if (!fs::is_regular_file(script)) return "the script " + script + " is missing";
  if (!fs::is_regular_file(npm_dir() / "node_modules/playwright-core/package.json"))
    return "playwright-core is not installed in " + (npm_dir() / "node_modules").string() +
           " (scripts/lib.sh ensure_npm_packages installs it)";
  node = *found;
  return "";
}

void make_files(const TempDir& root) {
  // On the fly: large (streamed in slices) and small (coded once, from the cache).
  root.write("big.js", text(2 << 20, 1));
  root.write("style.css", text(20000, 2));
  // Only a .br beside it.
  root.write("lib.js", text(100000, 3));
  tool({"/usr/bin/brotli", "-k", root / "lib.js"});
  // A .gz and a .zst.
  root.write("both.js", text(80000, 4));
  tool({"/usr/bin/gzip", "-k", root / "both.js"});
  tool({"/usr/bin/zstd", "-q", "-k", root / "both.js"});
  // Stale siblings of other bytes, an hour older than the file. page.js has a .zst and a .gz
  // (a stale .zst would be the first one tried for Chromium's Accept-Encoding); note.txt is
  // under --compress-min, so nothing is coded on the fly for it: a stale .gz is all there is.
  const std::time_t hour_ago = std::time(nullptr) - 3600;
  const std::string other = text(30000, 99);
  root.write("page.js", text(50000, 5));
  write_file(root / "page.js.zst", tool({"/usr/bin/zstd", "-q", "-c"}, other));
  write_file(root / "page.js.gz", tool({"/usr/bin/gzip", "-c"}, other));
  set_mtime(root / "page.js.zst", hour_ago);
  set_mtime(root / "page.js.gz", hour_ago);
  root.write("note.txt", text(900, 6));
  write_file(root / "note.txt.gz", tool({"/usr/bin/gzip", "-c"}, other));
  set_mtime(root / "note.txt.gz", hour_ago);
  // The control: the same kind of file with a fresh .gz gets it.
  root.write("fresh.txt", text(900, 7));
  tool({"/usr/bin/gzip", "-k", root / "fresh.txt"});
  // A listing of 3000 entries (more than one 64 KiB slice of HTML).
  for (int i = 0; i < 3000; ++i) root.write("many/file-with-a-long-name-" + std::to_string(i), "x");
}

void run_chromium(Judged& j) {
  std::string node, script;
  j.missing = locate(node, script);
  if (!j.missing.empty()) return;
  j.root = std::make_unique<TempDir>();
  const TempDir& root = *j.root;
  make_files(root);
  TempDir out;
  // The defaults; and precompressed siblings only (stale ones then leave the file as it is).
  ServerProcess on(root.path()), off(root.path(), {"--compress", "off"});
  // HTTPS with the defaults: h2 by ALPN (a certificate of a test CA, which Chromium is told to
  // accept).
  const TestPki pki;
  ServerProcess tls(root.path(),
                    {"--tls-cert", pki.cert("server"), "--tls-key", pki.key("server")});
  struct Target {
    std::string key, url, file;
    const ServerProcess* server;
    std::string path;
  };
  std::vector<Target> targets;
  for (const char* path : {"/big.js", "/style.css", "/lib.js", "/both.js", "/page.js", "/note.txt",
                           "/fresh.txt", "/many/?format=html"})
    targets.push_back({std::string("default:") + path, on.url(path), "", &on, path});
  for (const char* path : {"/lib.js", "/page.js"})
    targets.push_back({std::string("compress-off:") + path, off.url(path), "", &off, path});
  for (const char* path : {"/big.js", "/lib.js", "/many/?format=html"})
    targets.push_back({std::string("h2:") + path, tls.url(path), "", &tls, path});

  std::vector<std::string> argv = {node, script, "--timeout-ms", "60000"};
  for (std::size_t i = 0; i < targets.size(); ++i) {
    targets[i].file = out / std::to_string(i);
    argv.push_back(targets[i].url);
    argv.push_back(targets[i].file);
  }
  const auto start = std::chrono::steady_clock::now();
  const RunResult r = run(argv, std::chrono::seconds(90), std::nullopt,
                          {"NODE_PATH=" + (npm_dir() / "node_modules").string()});
  j.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  MESSAGE("Chromium fetched " << targets.size() << " URLs in " << j.seconds << " s:\n" << r.out);
  REQUIRE_MESSAGE(r.status == 0, "fetch.cjs exit status " << r.status << "\nstdout: " << r.out
                                                          << "\nstderr: " << r.err);

  for (const Target& t : targets) {
    Seen s;
    s.navigated = read_file(t.file);
    s.fetched = read_file(t.file + ".fetch");
    s.report = json::parse(read_file(t.file + ".json"));
    if (t.server == &tls) {  // our client speaks plain HTTP: the same files from `on`
      s.direct =
          get(on.port(), t.path,
              {"Accept: " + s.sent("accept"), "Accept-Encoding: " + s.sent("accept-encoding")});
      j.seen[t.key] = std::move(s);
      continue;
    }
    s.direct =
        get(t.server->port(), t.path,
            {"Accept: " + s.sent("accept"), "Accept-Encoding: " + s.sent("accept-encoding")});
    j.seen[t.key] = std::move(s);
  }
  const RunResult c = curl({"-H", "Accept: text/html", on.url("/many/?format=html")});
  REQUIRE_MESSAGE(c.status == 0, "curl: " << c.err);
  j.listing_by_curl = c.out;
  j.complete = true;
}

// The shared run, or nullptr after saying why not (and failing under CI=true).
const Judged* judged_or_skip() {
  return shared_run_or_skip<Judged>(run_chromium);
}

// What every URL must show: a 200, the same bytes by navigation and by fetch(), the coding
// httpfs picks for Chromium's headers, and the file's bytes once decoded.
const Seen& check_seen(const Judged& j, const std::string& key, const std::string& want) {
  CAPTURE(key);
  const auto it = j.seen.find(key);
  REQUIRE(it != j.seen.end());
  const Seen& s = it->second;
  INFO("Chromium's headers: " << s.report["headers"].dump());
  INFO("Chromium sent: " << s.report["requestHeaders"].dump());
  CHECK(s.report["status"] == 200);
  CHECK(s.report["fetch"]["status"] == 200);
  CHECK(compare_bytes(s.navigated, want) == "equal");
  CHECK(compare_bytes(s.fetched, want) == "equal");
  REQUIRE(s.direct.status == 200);
  CHECK(s.header("content-encoding") == s.direct.header("Content-Encoding"));
  CHECK(s.report["fetch"]["headers"].value("content-encoding", "") == s.header("content-encoding"));
  CHECK(s.header("etag") == s.direct.header("ETag"));
  CHECK(s.header("content-type") == s.direct.header("Content-Type"));
  return s;
}

bool varies_by_coding(const Seen& s) {
  std::string vary = s.header("vary");
  for (char& c : vary) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return contains(vary, "accept-encoding");
}

}  // namespace

TEST_CASE("Chromium: text files coded on the fly decode to the file") {
  const Judged* j = judged_or_skip();
  if (j == nullptr) return;
  for (const std::string path : {"/big.js", "/style.css"}) {
    CAPTURE(path);
    const Seen& s = check_seen(*j, "default:" + path, read_file(*j->root / path.substr(1)));
    // Chromium offers zstd (156: "gzip, deflate, br, zstd"), which httpfs prefers.
    CHECK(contains(s.sent("accept-encoding"), "zstd"));
    CHECK(s.header("content-encoding") == "zstd");
    CHECK(s.header("etag").starts_with("W/\""));
    CHECK(varies_by_coding(s));
  }
  // The large one is streamed in slices, the small one sent with its length.
  CHECK(j->seen.at("default:/big.js").header("transfer-encoding") == "chunked");
  CHECK(j->seen.at("default:/style.css").header("content-length") ==
        std::to_string(j->seen.at("default:/style.css").direct.body.size()));
}

TEST_CASE("Chromium: precompressed siblings are decoded to the file") {
  const Judged* j = judged_or_skip();
  if (j == nullptr) return;
  const std::string& root = j->root->path();

  SUBCASE("only a .br: sent as it is where nothing is coded on the fly") {
    const Seen& s = check_seen(*j, "compress-off:/lib.js", read_file(root + "/lib.js"));
    CHECK(contains(s.sent("accept-encoding"), "br"));
    CHECK(s.header("content-encoding") == "br");
    CHECK(s.header("content-length") == std::to_string(fs::file_size(root + "/lib.js.br")));
    CHECK(s.header("etag").starts_with("\""));
    CHECK(varies_by_coding(s));
  }
  SUBCASE("only a .br, with the defaults: the .br, not zstd coded now") {
    // At equal q a sibling comes before coding on the fly (README, Compression): Chromium
    // accepts zstd too, but the brotli file made offline is what it gets.
    const Seen& s = check_seen(*j, "default:/lib.js", read_file(root + "/lib.js"));
    CHECK(s.header("content-encoding") == "br");
    CHECK(s.header("content-length") == std::to_string(fs::file_size(root + "/lib.js.br")));
    CHECK(s.header("etag").starts_with("\""));
    CHECK(varies_by_coding(s));
  }
  SUBCASE("a .gz and a .zst: the .zst") {
    const Seen& s = check_seen(*j, "default:/both.js", read_file(root + "/both.js"));
    CHECK(s.header("content-encoding") == "zstd");
    CHECK(s.header("content-length") == std::to_string(fs::file_size(root + "/both.js.zst")));
    CHECK(s.header("etag").starts_with("\""));  // the sibling's own, not a coding made now
    CHECK(varies_by_coding(s));
  }
  SUBCASE("a fresh .gz of a file too small to code on the fly") {
    const Seen& s = check_seen(*j, "default:/fresh.txt", read_file(root + "/fresh.txt"));
    CHECK(s.header("content-encoding") == "gzip");
    CHECK(s.header("content-length") == std::to_string(fs::file_size(root + "/fresh.txt.gz")));
  }
}

TEST_CASE("Chromium: a stale sibling of other bytes is never what it shows") {
  const Judged* j = judged_or_skip();
  if (j == nullptr) return;
  const std::string& root = j->root->path();
  // A .zst and a .gz an hour older than the file: coded now instead.
  const Seen& coded = check_seen(*j, "default:/page.js", read_file(root + "/page.js"));
  CHECK(coded.header("content-encoding") == "zstd");
  CHECK(coded.header("etag").starts_with("W/\""));
  // Without coding on the fly: the file as it is.
  const Seen& plain = check_seen(*j, "compress-off:/page.js", read_file(root + "/page.js"));
  CHECK(plain.header("content-encoding") == "");
  CHECK(plain.header("content-length") == std::to_string(fs::file_size(root + "/page.js")));
  // Too small to code: the stale .gz was all there was.
  const Seen& small = check_seen(*j, "default:/note.txt", read_file(root + "/note.txt"));
  CHECK(small.header("content-encoding") == "");
  CHECK(small.header("content-length") == "900");
  CHECK(varies_by_coding(small));
}

TEST_CASE("Chromium: a listing of 3000 entries, coded, is the HTML curl gets uncoded") {
  const Judged* j = judged_or_skip();
  if (j == nullptr) return;
  REQUIRE(j->listing_by_curl.size() > 64 * 1024);
  REQUIRE(contains(j->listing_by_curl, "file-with-a-long-name-2999"));
  const Seen& s = check_seen(*j, "default:/many/?format=html", j->listing_by_curl);
  CHECK(s.header("content-type").starts_with("text/html"));
  CHECK(s.header("content-encoding") == "zstd");
  CHECK(varies_by_coding(s));
}

TEST_CASE("Chromium: over HTTPS the page, its files and every fetch come by h2") {
  const Judged* j = judged_or_skip();
  if (j == nullptr) return;
  const std::string& root = j->root->path();
  // The same decoded bytes and codings as over HTTP/1.1 (check_seen compares with the plain
  // server's answer to Chromium's headers).
  const Seen& big = check_seen(*j, "h2:/big.js", read_file(root + "/big.js"));
  CHECK(big.header("content-encoding") == "zstd");
  const Seen& lib = check_seen(*j, "h2:/lib.js", read_file(root + "/lib.js"));
  CHECK(lib.header("content-encoding") == "br");
  const Seen& listing = check_seen(*j, "h2:/many/?format=html", j->listing_by_curl);
  for (const Seen* s : {&big, &lib, &listing}) {
    INFO("fetch.cjs's report: " << s->report.dump());
    // HTTP/2 has no chunked coding and no connection-specific fields (RFC 9113 8.2.2).
    CHECK(s->header("transfer-encoding") == "");
    CHECK(s->header("connection") == "");
    CHECK(s->report["fetch"]["protocol"] == "h2");
  }
  // The browser page of the root folder: the page, its script and style, and the listing it
  // fetched, all over h2; and the page drew its rows.
  const json& ui = big.report["ui"];
  INFO("the page over HTTPS: " << ui.dump());
  CHECK(ui["protocol"] == "h2");
  CHECK(ui["rows"].get<int>() > 0);
  int own = 0;
  for (const json& r : ui["resources"]) {
    CAPTURE(r.dump());
    CHECK(r["protocol"] == "h2");
    own += contains(r["name"].get<std::string>(), "/.httpfs-ui/") ? 1 : 0;
  }
  CHECK(own >= 2);  // at least its script and its style
  // The control: over plain HTTP the same page came by HTTP/1.1 (browsers never speak h2c).
  const json& plain_ui = j->seen.at("default:/big.js").report["ui"];
  CHECK(plain_ui["protocol"] == "http/1.1");
  CHECK(j->seen.at("default:/big.js").report["fetch"]["protocol"] == "http/1.1");
}
