// The browser page (ui/app.js) end to end: headless Chromium (Debian's /usr/bin/chromium,
// driven by playwright-core from npm, both brought by scripts/lib.sh) browses, sorts,
// uploads (file chooser, a drop, a cut connection that must resume), makes, renames and
// deletes folders, downloads a folder as ZIP, and meets --read-only and --auth servers.
// What the page did is checked on disk (identical bytes, folders made, renamed, deleted);
// what it showed, from the report of tests/integration/browser/page.cjs, which holds the
// scenario steps (the page's controls found by role, label and text, as a user finds them).
//
// One Chromium run serves all the cases, like browser_test.cpp: the first case to ask makes
// the trees, starts the servers and runs page.cjs; the others read its results. Every
// scenario collects the page's console errors and uncaught exceptions; they must be none,
// except the ones a case names (a cut connection, a refused password).
//
// When Chromium, node or playwright-core is missing the cases say why and pass without
// running, except under CI=true (.ci/run), where scripts/lib.sh has installed them and their
// absence is a failure.
#include <doctest/doctest.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>

#include "support/cutting_proxy.hpp"
#include "support/http_client.hpp"
#include "support/node.hpp"
#include "support/process.hpp"
#include "support/shared_run.hpp"

using namespace httpfs::test;
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

constexpr const char* kChromium = "/usr/bin/chromium";
constexpr std::uint64_t MiB = 1 << 20;
constexpr std::uint64_t kBigUpload = 200 * MiB;        // through the file chooser
constexpr std::uint64_t kCutUpload = 100 * MiB;        // through the proxy that cuts once
constexpr std::uint64_t kCutAt = 40 * MiB;             // bytes from the browser on one connection
constexpr std::uint64_t kDropSize = 10 * 1000 * 1000;  // > 8 MiB: a resumable upload
constexpr unsigned kDropSeed = 7;
constexpr int kMany = 100000;  // empty files f1 ... f100000 in many/ (no zero padding: natural
                               // order ends with f100000, byte order with f99999)

// The hostile and non-ASCII names of the folder browsed.
const std::string kImg = "<img src=x onerror=alert(1)>.txt";
const std::string kSvg = "\"><svg onload=alert(1)>";
const std::string kCafe = "na\xc3\xafve caf\xc3\xa9.txt";  // naïve café.txt
const std::string kLong =
    "a-very-long-name-without-any-space-that-must-not-widen-the-page-0123456789abcdefghij.txt";

fs::path integration_dir() {
  return source_dir(__FILE__);
}
fs::path npm_dir() {
  return httpfs::test::npm_dir(integration_dir());
}

bool contains(std::string_view hay, std::string_view needle) {
  return hay.find(needle) != std::string_view::npos;
}

void set_mtime(const std::string& path, std::time_t sec) {
  timespec ts[2] = {{sec, 0}, {sec, 0}};
  REQUIRE(::utimensat(AT_FDCWD, path.c_str(), ts, 0) == 0);
}

// The bytes page.cjs makes in the page for a dropped file of `size` and `seed`.
std::string pattern(std::size_t size, unsigned seed) {
  std::string s(size, '\0');
  for (std::size_t i = 0; i < size; ++i)
    s[i] = static_cast<char>((i * 31 + (i >> 11) + seed) & 255);
  return s;
}

// "equal" when two files hold the same bytes, else cmp's words (never the bytes).
std::string compare_files(const std::string& got, const std::string& want) {
  if (!fs::exists(got)) return got + " does not exist";
  const RunResult r = run({"/usr/bin/cmp", got, want}, std::chrono::seconds(60));
  return r.status == 0 ? "equal" : "cmp: " + r.out + r.err;
}

std::string compare_bytes(const std::string& got, const std::string& want) {
  if (got == want) return "equal";
  std::size_t i = 0;
  while (i < got.size() && i < want.size() && got[i] == want[i]) ++i;
  return "got " + std::to_string(got.size()) + " bytes, want " + std::to_string(want.size()) +
         ", first difference at byte " + std::to_string(i);
}

std::vector<std::string> strings(const json& a) {
  std::vector<std::string> v;
  for (const json& x : a) v.push_back(x.get<std::string>());
  return v;
}

// Everything the cases look at, made once.
struct Judged {
  std::string missing;  // why Chromium cannot run here, or ""
  bool complete = false;
  std::unique_ptr<TempDir> root;     // what the servers serve
  std::unique_ptr<TempDir> sources;  // the files the page uploads, the ZIP it saved
  json report;                       // page.cjs's OUT.json
  int cuts = 0;                      // connections the proxy cut
  std::string zip_names, zip_test;   // unzip -Z1 and unzip -tq of the ZIP the page saved
  double seconds = 0;                // the Chromium run's wall time
  std::string access_log;            // the default server's

  const json& scenario(const std::string& name) const { return report["scenarios"][name]; }
};

std::string locate(std::string& node, std::string& script) {
  script = (integration_dir() / "browser" / "page.cjs").string();
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

void random_file(const std::string& path, std::uint64_t size) {
  const RunResult r = run({"/bin/dd", "if=/dev/urandom", "of=" + path, "bs=1M",
                           "count=" + std::to_string(size / MiB), "status=none"},
                          std::chrono::seconds(60));
  REQUIRE_MESSAGE(r.status == 0, "dd: " << r.err);
  REQUIRE(fs::file_size(path) == size);
}

// many/: kMany empty files, made by open(O_CREAT) (a second or so).
void make_many(const std::string& dir) {
  REQUIRE(fs::create_directory(dir));
  for (int i = 1; i <= kMany; ++i) {
    const std::string path = dir + "/f" + std::to_string(i);
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0) FAIL("open " << path << ": " << std::strerror(errno));  // not 100 000 REQUIREs
    ::close(fd);
  }
}

void make_trees(const TempDir& root, const TempDir& src) {
  // browse/: distinct sizes and times, so that each order is its own.
  const std::time_t now = std::time(nullptr);
  struct F {
    std::string name;
    std::size_t size;
    int age;
  };
  for (const F& f : {F{kImg, 5000, 300}, F{kSvg, 3000, 500}, F{kCafe, 1000, 200},
                     F{"file2.txt", 200, 400}, F{"file10.txt", 100, 100}, F{kLong, 50, 600}}) {
    root.write("browse/" + f.name, std::string(f.size, 'x'));
    set_mtime(root / ("browse/" + f.name), now - f.age);
  }
  root.write("browse/sub/inner.txt", "inner");
  root.mkdir("browse/empty");
  // ops/: a folder to rename (its file goes with it) and one to delete, with content.
  root.write("ops/before/kept.txt", "kept");
  root.write("ops/old stuff/deep/gone.txt", "gone");
  root.mkdir("up");
  root.mkdir("resume");
  root.mkdir("drop");
  root.mkdir("auth");
  const auto start = std::chrono::steady_clock::now();
  make_many(root / "many");
  MESSAGE(kMany << " empty files made in "
                << std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count()
                << " s");
  random_file(src / "big.bin", kBigUpload);
  random_file(src / "cut.bin", kCutUpload);
}

void run_chromium(Judged& j) {
  std::string node, script;
  j.missing = locate(node, script);
  if (!j.missing.empty()) return;
  j.root = std::make_unique<TempDir>();
  j.sources = std::make_unique<TempDir>();
  const TempDir& root = *j.root;
  const TempDir& src = *j.sources;
  make_trees(root, src);

  ServerProcess server(root.path());
  ServerProcess read_only(root.path(), {"--read-only"});
  ServerProcess auth(root.path(), {"--auth", "u:p"});
  // The browser's connections through a proxy: the first to carry kCutAt bytes is cut.
  CuttingProxy proxy(server.port(), kCutAt, 1);
  const std::string via_proxy = "http://127.0.0.1:" + std::to_string(proxy.port());

  const int wait_ms = 60000;  // an upload of 200 MB, sanitizer builds included
  json spec = {{"scenarios", json::array()}};
  auto& sc = spec["scenarios"];
  sc.push_back({{"name", "browse"}, {"kind", "browse"}, {"url", server.url("/browse/")}});
  sc.push_back({{"name", "upload"},
                {"kind", "upload"},
                {"url", server.url("/up/")},
                {"file", src / "big.bin"},
                {"fileName", "big.bin"},
                {"waitMs", wait_ms}});
  sc.push_back({{"name", "resume"},
                {"kind", "resume"},
                {"url", via_proxy + "/resume/"},
                {"file", src / "cut.bin"},
                {"fileName", "cut.bin"},
                {"waitMs", wait_ms}});
  sc.push_back({{"name", "ops"},
                {"kind", "ops"},
                {"url", server.url("/ops/")},
                {"make", "made \xc3\xbc"},
                {"rename", {"before", "after \xc3\xa9"}},
                {"remove", "old stuff"}});
  sc.push_back({{"name", "drop"},
                {"kind", "drop"},
                {"url", server.url("/drop/")},
                {"files",
                 {{{"name", "dropped \xc3\xbc.txt"}, {"text", "dropped text\n"}},
                  {{"name", "dropped.bin"}, {"size", kDropSize}, {"seed", kDropSeed}}}},
                {"waitMs", wait_ms}});
  sc.push_back({{"name", "zip"},
                {"kind", "zip"},
                {"url", server.url("/browse/")},
                {"out", src / "browse.zip"}});
  sc.push_back({{"name", "readonly"},
                {"kind", "readonly"},
                {"url", read_only.url("/browse/")},
                {"file", "file2.txt"},
                {"dropName", "not-uploaded.txt"}});
  sc.push_back({{"name", "auth"},
                {"kind", "auth"},
                {"url", auth.url("/auth/")},
                {"fileName", "signed in \xc3\xbc.txt"},
                {"text", "after signing in\n"},
                {"user", "u"},
                {"password", "p"},
                {"waitMs", wait_ms}});
  sc.push_back({{"name", "auth-wrong"},
                {"kind", "auth"},
                {"url", auth.url("/auth/")},
                {"fileName", "second try.txt"},
                {"text", "after a wrong password\n"},
                {"user", "u"},
                {"password", "p"},
                {"wrong", "not-p"},
                {"waitMs", 10000},
                {"stepMs", 5000}});
  sc.push_back({{"name", "many"},
                {"kind", "many"},
                {"url", server.url("/many/")},
                {"last", "f" + std::to_string(kMany)},
                {"filter", "f9999"},
                {"stepMs", 30000}});
  write_file(src / "spec.json", spec.dump());

  const auto start = std::chrono::steady_clock::now();
  const RunResult r =
      run({node, script, "--timeout-ms", "270000", src / "spec.json", src / "out.json"},
          std::chrono::seconds(280), std::nullopt,
          {"NODE_PATH=" + (npm_dir() / "node_modules").string()});
  j.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  MESSAGE("Chromium ran " << sc.size() << " scenarios in " << j.seconds << " s:\n" << r.out);
  REQUIRE_MESSAGE(r.status == 0, "page.cjs exit status " << r.status << "\nstdout: " << r.out
                                                         << "\nstderr: " << r.err);
  j.report = json::parse(read_file(src / "out.json"));
  j.access_log = server.access_log();
  j.cuts = proxy.faults_done();
  if (fs::exists(src / "browse.zip")) {
    j.zip_names = run({"/usr/bin/unzip", "-Z1", src / "browse.zip"}).out;
    const RunResult t = run({"/usr/bin/unzip", "-tq", src / "browse.zip"});
    j.zip_test = std::to_string(t.status) + ": " + t.out + t.err;
  }
  j.complete = true;
}

// The shared run, or nullptr after saying why not (and failing under CI=true).
const Judged* judged_or_skip() {
  return shared_run_or_skip<Judged>(run_chromium);
}

// A scenario that ran to its end, with no console error but those `allowed` says may come.
template <typename Allowed>
const json& scenario(const Judged& j, const std::string& name, Allowed allowed) {
  CAPTURE(name);
  const json& s = j.scenario(name);
  REQUIRE_MESSAGE(s.is_object(), "no report for " << name);
  REQUIRE_MESSAGE(s["error"] == "",
                  name << " failed in the page: " << s["error"].get<std::string>());
  for (const json& line : s["console"]) {
    const std::string text = line.get<std::string>();
    CHECK_MESSAGE(allowed(text), "console error: " << text);
  }
  CHECK_MESSAGE(s["pageErrors"].empty(), "uncaught in the page: " << s["pageErrors"].dump());
  CHECK(s["nativeDialogs"] == 0);
  return s;
}
const json& scenario(const Judged& j, const std::string& name) {
  return scenario(j, name, [](const std::string&) { return false; });
}

std::vector<std::string> listed_names(const json& rows) {
  std::vector<std::string> v;
  for (const json& r : rows) v.push_back(r["name"].get<std::string>());
  return v;
}

}  // namespace

TEST_CASE("page: hostile and non-ASCII names are listed as text, in natural order") {
  const Judged* j = judged_or_skip();
  if (j == nullptr) return;
  const json& s = scenario(*j, "browse");
  // Folders first, then names in natural order (file2 before file10), all shown as text.
  const std::vector<std::string> by_name = {"empty", "sub",       kSvg,         kImg,
                                            kLong,   "file2.txt", "file10.txt", kCafe};
  CHECK(listed_names(s["listed"]) == by_name);
  CHECK(s["listed"][0]["dir"] == true);
  CHECK(s["listed"][1]["dir"] == true);
  CHECK(s["listed"][2]["dir"] == false);
  // Nothing a name could have injected: no <img>, no element with an on* attribute, no <svg>
  // but the page's own icons, and no alert() (nativeDialogs, checked by scenario()).
  CHECK(s["injected"]["img"] == 0);
  CHECK(s["injected"]["svgOnload"] == 0);
  CHECK(s["injected"]["svgOutsideIcons"] == 0);
  CHECK(s["search"] == "");
  CHECK(strings(s["byName"]["names"]) == by_name);
  CHECK(s["byName"]["search"] == "");
}

TEST_CASE("page: the column headers sort by size and date, and the URL says so") {
  const Judged* j = judged_or_skip();
  if (j == nullptr) return;
  const json& s = scenario(*j, "browse");
  // Size: largest first on the first click, folders still first.
  CHECK(strings(s["bySize"]["names"]) == std::vector<std::string>{"empty", "sub", kImg, kSvg, kCafe,
                                                                  "file2.txt", "file10.txt",
                                                                  kLong});
  CHECK(s["bySize"]["search"] == "?sort=size&order=desc");
  // A second click: smallest first.
  CHECK(strings(s["bySizeAgain"]["names"]) == std::vector<std::string>{"empty", "sub", kLong,
                                                                       "file10.txt", "file2.txt",
                                                                       kCafe, kSvg, kImg});
  CHECK(s["bySizeAgain"]["search"] == "?sort=size");
  // Modified: newest first.
  const std::vector<std::string> by_date = {"empty", "sub",       "file10.txt", kCafe,
                                            kImg,    "file2.txt", kSvg,         kLong};
  const std::vector<std::string> date_files(by_date.begin() + 2, by_date.end());
  std::vector<std::string> got = strings(s["byDate"]["names"]);
  REQUIRE(got.size() == by_date.size());
  // The two folders were made in the same second: their order among themselves is free.
  CHECK(std::vector<std::string>(got.begin() + 2, got.end()) == date_files);
  CHECK(s["byDate"]["search"] == "?sort=mtime&order=desc");
  // Reloading the URL keeps the order.
  CHECK(strings(s["afterReload"]) == got);
}

TEST_CASE("page: at 375 px wide nothing overflows and the buttons stay") {
  const Judged* j = judged_or_skip();
  if (j == nullptr) return;
  const json& s = scenario(*j, "browse");
  INFO("layout at 375 px: " << s["narrow"].dump());
  CHECK(s["narrow"]["clientWidth"] == 375);
  CHECK(s["narrow"]["scrollWidth"].get<int>() <= 375);
  CHECK(s["narrow"]["bodyScrollWidth"].get<int>() <= 375);
  CHECK(s["narrowButtons"]["upload"] == true);
  CHECK(s["narrowButtons"]["newFolder"] == true);
  CHECK(s["narrowButtons"]["download"] == true);
}

TEST_CASE("page: a 200 MB file through the file chooser arrives byte for byte") {
  const Judged* j = judged_or_skip();
  if (j == nullptr) return;
  const json& s = scenario(*j, "upload");
  MESSAGE("200 MB uploaded by the page in " << s["seconds"].get<double>() << " s");
  CHECK(contains(s["status"].get<std::string>(), "done"));
  CHECK(strings(s["listed"]) == std::vector<std::string>{"big.bin"});
  CHECK(compare_files(*j->root / "up/big.bin", *j->sources / "big.bin") == "equal");
  // Nothing else was left in the folder (no temporary file, no dotfile).
  CHECK(entries(*j->root / "up") == std::vector<std::string>{"big.bin"});
}

TEST_CASE("page: an upload cut mid-way resumes to identical bytes") {
  const Judged* j = judged_or_skip();
  if (j == nullptr) return;
  // The cut shows in the console as the failed request's network error (net::ERR_...), and
  // as 409s: Chromium resends a request cut on a reused keep-alive connection by itself, with
  // the offset the server has passed since (part of the cut PATCH arrived), and the page,
  // told 409, asks where the server is (HEAD) and goes on from there. Nothing else.
  const json& s = scenario(*j, "resume", [](const std::string& text) {
    return contains(text, "net::ERR_") || contains(text, "409 (Conflict)");
  });
  INFO("requests that failed: " << s["failed"].dump() << "; methods: " << s["methods"].dump());
  std::string log;
  std::istringstream lines(j->access_log);
  for (std::string line; std::getline(lines, line);)
    if (contains(line, "resume") || contains(line, "httpfs-upload/")) log += line + "\n";
  INFO("the server's log of it:\n" << log);
  CHECK(j->cuts == 1);
  // The page saw a request fail (which one playwright names varies: the cut PATCH, or the
  // PUT that opened the same keep-alive connection).
  CHECK(!s["failed"].empty());
  // After the cut the page asked the server where to go on.
  CHECK(s["methods"].value("HEAD", 0) >= 1);
  CHECK(s["methods"].value("PUT", 0) == 1);  // created once: resumed, not started over
  CHECK(contains(s["status"].get<std::string>(), "done"));
  CHECK(compare_files(*j->root / "resume/cut.bin", *j->sources / "cut.bin") == "equal");
  CHECK(entries(*j->root / "resume") == std::vector<std::string>{"cut.bin"});
}

TEST_CASE("page: new folder, rename, delete") {
  const Judged* j = judged_or_skip();
  if (j == nullptr) return;
  const json& s = scenario(*j, "ops");
  const std::string made = "made \xc3\xbc", renamed = "after \xc3\xa9";
  CHECK(strings(s["before"]) == std::vector<std::string>{"before", "old stuff"});
  CHECK(strings(s["afterMake"]) == std::vector<std::string>{"before", made, "old stuff"});
  CHECK(strings(s["afterRename"]) == std::vector<std::string>{renamed, made, "old stuff"});
  CHECK(contains(s["deleteMessage"].get<std::string>(), "everything in it"));
  CHECK(strings(s["afterDelete"]) == std::vector<std::string>{renamed, made});
  CHECK(strings(s["afterReload"]) == std::vector<std::string>{renamed, made});
  // On disk: the folder made (empty), the renamed one with its file, the deleted one gone.
  const std::string ops = *j->root / "ops";
  CHECK(fs::is_directory(ops + "/" + made));
  CHECK(entries(ops + "/" + made).empty());
  CHECK(!fs::exists(ops + "/before"));
  CHECK(read_file(ops + "/" + renamed + "/kept.txt") == "kept");
  CHECK(!fs::exists(ops + "/old stuff"));
  CHECK(entries(ops) == std::vector<std::string>{renamed, made});
}

TEST_CASE("page: files dropped on the page are uploaded") {
  // A drop of File objects made in the page (a real folder drop needs directory entries,
  // which a script cannot make: the folder path of takeDrop is not exercised here).
  const Judged* j = judged_or_skip();
  if (j == nullptr) return;
  const json& s = scenario(*j, "drop");
  CHECK(s["overlay"] == true);
  CHECK(contains(s["overlayText"].get<std::string>(), "Drop to upload to"));
  const std::string small = "dropped \xc3\xbc.txt";
  INFO("listed: " << s["listed"].dump());
  std::vector<std::string> listed = strings(s["listed"]);
  std::sort(listed.begin(), listed.end());
  CHECK(listed == std::vector<std::string>{small, "dropped.bin"});
  CHECK(read_file(*j->root / ("drop/" + small)) == "dropped text\n");
  CHECK(compare_bytes(read_file(*j->root / "drop/dropped.bin"), pattern(kDropSize, kDropSeed)) ==
        "equal");
}

TEST_CASE("page: Download > This folder as ZIP gives the folder's tree") {
  const Judged* j = judged_or_skip();
  if (j == nullptr) return;
  const json& s = scenario(*j, "zip");
  CHECK(s["href"] == "/browse/?download=zip");
  CHECK(s["suggested"] == "browse.zip");
  CHECK(s["failure"].is_null());
  CHECK(j->zip_test.starts_with("0: "));
  INFO("unzip -tq: " << j->zip_test);
  std::vector<std::string> got;
  std::istringstream lines(j->zip_names);
  for (std::string line; std::getline(lines, line);) got.push_back(line);
  std::sort(got.begin(), got.end());
  std::vector<std::string> want = {kSvg,        kImg,  kLong,  "empty/",       "file10.txt",
                                   "file2.txt", kCafe, "sub/", "sub/inner.txt"};
  std::sort(want.begin(), want.end());
  CHECK(got == want);
}

TEST_CASE("page: --read-only offers no write action and uploads no drop") {
  const Judged* j = judged_or_skip();
  if (j == nullptr) return;
  const json& s = scenario(*j, "readonly");
  CHECK(s["dataReadOnly"] == "true");
  CHECK(s["buttons"]["upload"] == 0);
  CHECK(s["buttons"]["newFolder"] == 0);
  CHECK(s["buttons"]["download"] == 1);
  CHECK(s["sortSelect"] == 1);
  const std::vector<std::string> menu = strings(s["rowMenu"]);
  INFO("row menu: " << s["rowMenu"].dump());
  CHECK(std::find(menu.begin(), menu.end(), "Download") != menu.end());
  for (const std::string& item : menu) {
    CHECK(!contains(item, "Rename"));
    CHECK(!contains(item, "Delete"));
  }
  CHECK(s["uploadsShown"] == false);
  CHECK(!fs::exists(*j->root / "browse/not-uploaded.txt"));
}

TEST_CASE("page: --auth asks for a user and password, again when wrong, then uploads") {
  const Judged* j = judged_or_skip();
  if (j == nullptr) return;
  // The wrong password's 401 is the one console error expected.
  const json& s =
      scenario(*j, "auth", [](const std::string& text) { return contains(text, "401"); });
  CHECK(s["dataAuth"] == "writes");
  CHECK(contains(s["firstMessage"].get<std::string>(), "needs a user name and password"));
  CHECK(contains(s["status"].get<std::string>(), "done"));
  const std::string name = "signed in \xc3\xbc.txt";
  CHECK(strings(s["listed"]) == std::vector<std::string>{name});
  CHECK(read_file(*j->root / ("auth/" + name)) == "after signing in\n");
}

// A wrong password is refused by the page's own check (an OPTIONS under /.httpfs-upload/ by
// fetch, before XMLHttpRequest may use it: a 401 to an XMLHttpRequest would open the
// browser's prompt instead of reaching the page), and the page asks again.
TEST_CASE("page: --auth with a wrong password asks again, saying so") {
  const Judged* j = judged_or_skip();
  if (j == nullptr) return;
  const json& s =
      scenario(*j, "auth-wrong", [](const std::string& text) { return contains(text, "401"); });
  INFO("responses: " << s["responses"].dump());
  CHECK(contains(s["secondMessage"].get<std::string>(), "not accepted"));
  CHECK(read_file(*j->root / "auth/second try.txt") == "after a wrong password\n");
}

TEST_CASE("page: a folder of 100 000 files is listed whole, with few rows in the document") {
  const Judged* j = judged_or_skip();
  if (j == nullptr) return;
  const json& s = scenario(*j, "many");
  MESSAGE("the page listed " << kMany << " files in " << s["loadMs"].get<int>()
                             << " ms; rows in the DOM: " << s["domRows"] << " at the top, "
                             << s["domRowsAfterEnd"] << " at the end, " << s["domRowsFiltered"]
                             << " filtered");
  CHECK(s["count"] == "100,000 files (0 B)");
  // The grid's rows for assistive technology: the header, "..", and every file.
  CHECK(s["rowCount"] == std::to_string(kMany + 2));
  // Virtual scrolling: the document holds the rows in sight (and a few more), not 100 000.
  CHECK(s["domRows"].get<int>() > 0);
  CHECK(s["domRows"].get<int>() < 500);
  CHECK(s["domRowsAfterEnd"].get<int>() < 500);
  // Natural order: f2 comes after f1 (byte order would put f10 there) ...
  CHECK(strings(s["first"]) == std::vector<std::string>{"f1", "f2", "f3"});
  // ... and End goes to the last row, f100000 (byte order would end with f99999), selected
  // and scrolled to.
  CHECK(strings(s["afterEnd"]) == std::vector<std::string>{"f99998", "f99999", "f100000"});
  CHECK(s["selected"] == "f100000");
  CHECK(s["scrolled"].get<double>() > 0);
  // The filter: names containing "f9999" are f9999 and f99990 ... f99999.
  CHECK(s["filterCount"] == "11 of 100,000");
  std::vector<std::string> want = {"f9999"};
  for (int i = 99990; i <= 99999; ++i) want.push_back("f" + std::to_string(i));
  CHECK(strings(s["filtered"]) == want);
  CHECK(s["domRowsFiltered"].get<int>() == 11);
}
