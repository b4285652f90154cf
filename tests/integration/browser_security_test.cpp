// The browser page's defences, attacked by a real browser: headless Chromium (Debian's
// /usr/bin/chromium, driven by playwright-core from npm, both brought by scripts/lib.sh) runs
// tests/integration/browser/security.cjs against httpfs servers this file starts, and what it
// reports is judged here together with the files on disk and the servers' access logs.
//
//   - Names that are HTML, script, template or URL injections (and control characters, bytes
//     that are not UTF-8, a right-to-left override, a 255-byte name) are listed as text by the
//     browser page and by the plain listing (--ui off, which has no CSP: an injection there
//     would run), folder paths made of them are text in the title, and every entry's link is
//     a path of the server's own origin naming exactly that file, whose bytes it fetches.
//   - The page's Content-Security-Policy holds in Chromium: inline script, inline handlers,
//     javascript: URLs, eval and another origin's script and fetch are blocked (and reported
//     as violations); the same injection into a page without the CSP runs (the control).
//   - A user's HTML file runs sandboxed (README, Security): its script runs, in an opaque
//     origin, so it can neither write to the server nor read the server origin's cookie or
//     storage nor touch the browser page that frames it.
//   - Another site's page (a second httpfs on another port, loaded as http://localhost:PORT
//     while the victim is http://127.0.0.1:PORT, so another site; and as 127.0.0.1:PORT, the
//     same site on another port) tries forms, no-cors fetches, a beacon and CORS fetches
//     (PUT, POST, DELETE, MKCOL): nothing on the victim's disk changes and every write that
//     reached it was answered 403. With --cors for that origin the same page's CORS writes do
//     land (the control: the test can see a write).
//
// One Chromium run serves all the cases, like browser_test.cpp: the first case to ask makes
// the files, starts the servers and runs it; the others read its results. When Chromium, node
// or playwright-core is missing the cases say why and pass without running, except under
// CI=true (.ci/run), where scripts/lib.sh has installed them and their absence is a failure.
#include <doctest/doctest.h>
#include <unistd.h>

#include <cctype>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <regex>
#include <set>
#include <sstream>

#include "support/http_client.hpp"
#include "support/node.hpp"
#include "support/process.hpp"
#include "support/shared_run.hpp"

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

// A name in names/, and the text each listing must show for it.
struct Hostile {
  std::string name;   // the bytes on disk
  std::string ui;     // what the browser page shows
  std::string plain;  // what the plain listing shows (a folder's with its "/")
  bool dir = false;   // a folder (holding f.txt), else a file holding content()
};

const std::string kSvgFolder = "x<";  // holds the folder "title><svg onload=...>"
const std::string kSvgSub = "title><svg onload=window.__pwned=5>";
const std::string kScriptFolder = "\"><script>window.__pwned=2<";  // holds "script>"

std::string long_name() {
  std::string s = "<svg onload=window.__pwned=9>";
  while (s.size() < 251) s += 'L';
  return s + ".txt";  // 255 bytes, the most a name may have
}

const std::vector<Hostile>& hostile() {
  static const std::vector<Hostile> v = [] {
    std::vector<Hostile> h;
    auto same = [&](const std::string& name, bool dir = false) {
      h.push_back({name, name, dir ? name + "/" : name, dir});
    };
    same("<img src=x onerror=\"window.__pwned=1\">.txt");
    same(kScriptFolder, true);
    same("';window.__pwned=3;'.txt");
    same("javascript:window.__pwned=4");
    same(kSvgFolder, true);
    same("{{constructor.constructor('window.__pwned=6')()}}");
    same("&lt;b&gt;&#60;i&#62;&amp;.txt");
    same("%2e%2e%2fescape?q=1#frag.txt");
    same("<!-- ]]> \\\" `${window.__pwned=7}`.txt");  // the one with a backslash
    same(long_name());
    // Control characters: the page shows their Control Pictures, the plain listing U+FFFD.
    h.push_back({"tab\there\nnewline.txt", "tab\u2409here\u240anewline.txt",
                 "tab\ufffdhere\ufffdnewline.txt", false});
    // Bytes that are not UTF-8: U+FFFD for each, in both.
    h.push_back({"bad\xff\xfe.txt", "bad\ufffd\ufffd.txt", "bad\ufffd\ufffd.txt", false});
    // A right-to-left override: U+FFFD in the page; the plain listing keeps it (a spoof of
    // the order of the letters shown, no markup).
    h.push_back({"rtl-\u202egnp.exe", "rtl-\ufffdgnp.exe", "rtl-\u202egnp.exe", false});
    return h;
  }();
  return v;
}

// A file's content, told apart from every other.
std::string content(std::size_t i) {
  return "content of hostile name #" + std::to_string(i) + "\n";
}

// Bytes as a URL path: everything but unreserved characters and "/" percent-encoded.
std::string url_path(const std::string& bytes) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : bytes) {
    if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~' || c == '/') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

std::string to_hex(const std::string& bytes) {
  static const char* hex = "0123456789abcdef";
  std::string out;
  for (unsigned char c : bytes) {
    out += hex[c >> 4];
    out += hex[c & 15];
  }
  return out;
}

std::string base64(const std::string& in) {
  static const char* t = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  std::size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    const unsigned n = (static_cast<unsigned char>(in[i]) << 16) |
                       (static_cast<unsigned char>(in[i + 1]) << 8) |
                       static_cast<unsigned char>(in[i + 2]);
    for (int k = 18; k >= 0; k -= 6) out += t[(n >> k) & 63];
  }
  if (i + 1 == in.size()) {
    const unsigned n = static_cast<unsigned char>(in[i]) << 16;
    out += t[(n >> 18) & 63];
    out += t[(n >> 12) & 63];
    out += "==";
  } else if (i + 2 == in.size()) {
    const unsigned n =
        (static_cast<unsigned char>(in[i]) << 16) | (static_cast<unsigned char>(in[i + 1]) << 8);
    out += t[(n >> 18) & 63];
    out += t[(n >> 12) & 63];
    out += t[(n >> 6) & 63];
    out += '=';
  }
  return out;
}

// A user's HTML page: it reports what it could do in #out, then sets data-done.
const char* const kEvilHtml = R"html(<!doctype html>
<meta charset="utf-8"><title>evil</title><pre id="out"></pre>
<script>
(async () => {
  const r = { ran: true, origin: String(self.origin) }
  window.__pwned = 7
  try { parent.__pwned = 7; r.parent = parent === window ? 'self' : 'set' } catch (e) { r.parent = 'threw ' + e.name }
  try { r.parentCookie = parent === window ? 'self' : parent.document.cookie } catch (e) { r.parentCookie = 'threw ' + e.name }
  try { r.cookie = document.cookie } catch (e) { r.cookie = 'threw ' + e.name }
  try { r.storage = localStorage.getItem('secret') } catch (e) { r.storage = 'threw ' + e.name }
  const attempt = async (name, f) => {
    try { const x = await f(); r[name] = x.type === 'opaque' ? 'opaque' : x.status } catch (e) { r[name] = 'threw ' + e.name }
  }
  await attempt('put', () => fetch('/x', { method: 'PUT', body: 'pwned' }))
  await attempt('putCredentials', () => fetch('/x2', { method: 'PUT', body: 'pwned', credentials: 'include' }))
  await attempt('post', () => fetch('/x3', { method: 'POST', body: 'pwned', mode: 'no-cors' }))
  await attempt('delete', () => fetch('/keep.txt', { method: 'DELETE' }))
  r.form = await new Promise((resolve) => {
    const frame = document.createElement('iframe')
    frame.name = 'sink'
    document.body.append(frame)
    const f = document.createElement('form')
    f.method = 'POST'; f.action = '/x4'; f.enctype = 'text/plain'; f.target = 'sink'
    const i = document.createElement('input'); i.name = 'a'; i.value = 'pwned'; f.append(i)
    document.body.append(f)
    const t = setTimeout(() => resolve('timeout'), 3000)
    frame.addEventListener('load', () => { clearTimeout(t); resolve('loaded') })
    f.submit()
  })
  document.getElementById('out').textContent = JSON.stringify(r)
  document.body.dataset.done = '1'
})()
</script>
)html";

// A script of the page's own origin (a user's file: script-src 'self' lets the page load it)
// that tries to evaluate strings.
const char* const kCspProbe = R"js(
try { eval('window.__csp.eval = 1') } catch (e) { window.__cspErrors.eval = e.name }
try { new Function('window.__csp.newFunction = 1')() } catch (e) { window.__cspErrors.newFunction = e.name }
try { setTimeout('window.__csp.setTimeoutString = 1', 0) } catch (e) { window.__cspErrors.setTimeoutString = e.name }
)js";

// Another site's page, aimed at ?victim=ORIGIN; names its files by ?tag=.
const char* const kAttackerHtml = R"html(<!doctype html>
<meta charset="utf-8"><title>attacker</title><pre id="out"></pre>
<script>
(async () => {
  const q = new URLSearchParams(location.search)
  const v = q.get('victim'), tag = q.get('tag')
  const r = {}
  const attempt = async (name, f) => {
    try { const x = await f(); r[name] = x.type === 'opaque' ? 'opaque' : x.status } catch (e) { r[name] = 'threw ' + e.name }
  }
  const form = (name, action, enctype, file) => new Promise((resolve) => {
    const frame = document.createElement('iframe')
    frame.name = name
    document.body.append(frame)
    const f = document.createElement('form')
    f.method = 'POST'; f.action = action; f.enctype = enctype; f.target = name
    const i = document.createElement('input'); i.name = 'a'; i.value = 'pwned'; f.append(i)
    if (file) {
      const fi = document.createElement('input'); fi.type = 'file'; fi.name = 'file'
      const dt = new DataTransfer(); dt.items.add(new File(['pwned'], file)); fi.files = dt.files
      f.append(fi)
    }
    document.body.append(f)
    const t = setTimeout(() => resolve('timeout'), 3000)
    frame.addEventListener('load', () => { clearTimeout(t); resolve('loaded') })
    f.submit()
  })
  r.formUrlencoded = await form('f1', `${v}/${tag}-form.txt`, 'application/x-www-form-urlencoded')
  r.formPlainKeep = await form('f2', `${v}/keep.txt`, 'text/plain')
  r.formMultipart = await form('f3', `${v}/`, 'multipart/form-data', `${tag}-upload.txt`)
  await attempt('noCorsPut', () => fetch(`${v}/${tag}-nocors-put.txt`, { method: 'PUT', mode: 'no-cors', body: 'pwned' }))
  await attempt('noCorsPost', () => fetch(`${v}/${tag}-nocors-post.txt`, { method: 'POST', mode: 'no-cors', body: 'pwned', credentials: 'include' }))
  await attempt('noCorsPostKeep', () => fetch(`${v}/keep.txt`, { method: 'POST', mode: 'no-cors', body: 'pwned' }))
  r.beacon = navigator.sendBeacon(`${v}/${tag}-beacon.txt`, 'pwned')
  await attempt('corsPut', () => fetch(`${v}/${tag}-cors-put.txt`, { method: 'PUT', body: 'pwned' }))
  await attempt('corsPutCredentials', () => fetch(`${v}/${tag}-cors-put-cred.txt`, { method: 'PUT', body: 'pwned', credentials: 'include' }))
  await attempt('corsPost', () => fetch(`${v}/${tag}-cors-post.txt`, { method: 'POST', body: 'pwned', headers: { 'Content-Type': 'text/plain' } }))
  await attempt('corsDelete', () => fetch(`${v}/del.txt`, { method: 'DELETE' }))
  await attempt('corsMkcol', () => fetch(`${v}/${tag}-dir/`, { method: 'MKCOL' }))
  await new Promise((resolve) => setTimeout(resolve, 300))  // the beacon goes out
  document.getElementById('out').textContent = JSON.stringify(r)
  document.body.dataset.done = '1'
})()
</script>
)html";

// The POSTs each attacker page makes that reach the victim whatever CORS says (no preflight).
std::vector<std::string> simple_posts(const std::string& tag) {
  return {"/" + tag + "-form.txt",
          "/keep.txt",
          "/",
          "/" + tag + "-nocors-post.txt",
          "/" + tag + "-beacon.txt",
          "/" + tag + "-cors-post.txt"};
}

// One access-log line: "METHOD TARGET HTTP/x" STATUS.
struct Logged {
  std::string method, target;
  int status = 0;
};
std::vector<Logged> parse_log(const std::string& log) {
  std::vector<Logged> out;
  static const std::regex re(R"re("([A-Z]+) (\S+) HTTP/[0-9.]+" ([0-9]{3}) )re");
  std::istringstream in(log);
  for (std::string line; std::getline(in, line);) {
    std::smatch m;
    if (std::regex_search(line, m, re)) out.push_back({m[1], m[2], std::stoi(m[3])});
  }
  return out;
}
bool is_write(const std::string& method) {
  return method != "GET" && method != "HEAD" && method != "OPTIONS" && method != "PROPFIND";
}

// Everything the cases look at, made once.
struct Judged {
  std::string missing;  // why Chromium cannot run here, or ""
  bool complete = false;
  std::unique_ptr<TempDir> root;      // the names, evil.html (victim of the sandbox part)
  std::unique_ptr<TempDir> refusing;  // the victim of the other sites' pages
  std::unique_ptr<TempDir> allowing;  // the same, its server with --cors for the attacker
  std::map<std::string, std::string> root_before, refusing_before, allowing_before;
  std::string origin, plain_origin;  // http://127.0.0.1:PORT of `root`'s servers (--ui off)
  std::string attacker_origin;       // http://localhost:PORT of the attacker's
  std::vector<Logged> root_log, refusing_log, allowing_log;
  json report;  // security.cjs's OUT.json
  double seconds = 0;
};

std::string locate(std::string& node, std::string& script) {
  script = (integration_dir() / "browser" / "security.cjs").string();
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

void make_victim(const TempDir& d) {
  d.write("keep.txt", "keep");
  d.write("del.txt", "delete me");
}

void run_chromium(Judged& j) {
  std::string node, script;
  j.missing = locate(node, script);
  if (!j.missing.empty()) return;
  j.root = std::make_unique<TempDir>();
  j.refusing = std::make_unique<TempDir>();
  j.allowing = std::make_unique<TempDir>();
  const TempDir& root = *j.root;
  for (std::size_t i = 0; i < hostile().size(); ++i) {
    const Hostile& h = hostile()[i];
    if (!h.dir) root.write("names/" + h.name, content(i));
  }
  root.write("names/" + kScriptFolder + "/script>/f.txt", "f");
  root.write("names/" + kSvgFolder + "/" + kSvgSub + "/f.txt", "f");
  root.write("evil.html", kEvilHtml);
  root.write("csp-probe.js", kCspProbe);
  root.write("keep.txt", "keep");
  make_victim(*j.refusing);
  make_victim(*j.allowing);
  TempDir attacker;
  attacker.write("attacker.html", kAttackerHtml);
  attacker.write("x.js", "window.__csp.foreignScript = 1\n");
  j.root_before = read_tree(root.path());
  j.refusing_before = read_tree(j.refusing->path());
  j.allowing_before = read_tree(j.allowing->path());

  ServerProcess ui(root.path()), plain(root.path(), {"--ui", "off"});
  // The attacker's own pages run in its origin (no sandbox), as on any other site.
  ServerProcess evil(attacker.path(), {"--trust-content"});
  j.origin = "http://127.0.0.1:" + std::to_string(ui.port());
  j.plain_origin = "http://127.0.0.1:" + std::to_string(plain.port());
  j.attacker_origin = "http://localhost:" + std::to_string(evil.port());
  ServerProcess refusing(j.refusing->path());
  ServerProcess allowing(j.allowing->path(), {"--cors", j.attacker_origin});

  const std::string script_dir = "/names/" + kScriptFolder + "/script>/";
  const std::string svg_dir = "/names/" + kSvgFolder + "/" + kSvgSub + "/";
  json spec;
  spec["listings"] = json::array(
      {{{"key", "ui"}, {"url", ui.url("/names/")}, {"kind", "ui"}, {"rows", hostile().size()}},
       {{"key", "plain"}, {"url", plain.url("/names/")}, {"kind", "plain"}, {"rows", 0}},
       {{"key", "ui-script-dir"},
        {"url", ui.url(url_path(script_dir))},
        {"kind", "ui"},
        {"rows", 1}},
       {{"key", "plain-script-dir"},
        {"url", plain.url(url_path(script_dir))},
        {"kind", "plain"},
        {"rows", 0}},
       {{"key", "ui-svg-dir"}, {"url", ui.url(url_path(svg_dir))}, {"kind", "ui"}, {"rows", 1}},
       {{"key", "plain-svg-dir"},
        {"url", plain.url(url_path(svg_dir))},
        {"kind", "plain"},
        {"rows", 0}}});
  spec["click"] = {
      {"url", ui.url("/names/")}, {"text", hostile()[0].ui}, {"rows", hostile().size()}};
  spec["csp"] = {{"url", ui.url("/names/")},
                 {"control", plain.url("/names/")},
                 {"foreign", j.attacker_origin + "/x.js"},
                 {"probe", ui.url("/csp-probe.js")}};
  spec["sandbox"] = {{"ui", ui.url("/")}, {"evil", ui.url("/evil.html")}};
  const std::string evil_port = std::to_string(evil.port());
  auto attack = [&](const std::string& key, const std::string& page_origin,
                    const ServerProcess& victim) {
    const std::string v = victim.url("/");
    const std::string victim_origin = v.substr(0, v.size() - 1);
    return json{{"key", key},
                {"url", page_origin + "/attacker.html?victim=" + victim_origin + "&tag=" + key},
                {"victim", victim_origin}};
  };
  spec["attacks"] = json::array({attack("cross", j.attacker_origin, refusing),
                                 attack("same", "http://127.0.0.1:" + evil_port, refusing),
                                 attack("allowed", j.attacker_origin, allowing)});
  TempDir out;
  write_file(out / "spec.json", spec.dump());

  const auto start = std::chrono::steady_clock::now();
  const RunResult r =
      run({node, script, "--timeout-ms", "100000", out / "spec.json", out / "out.json"},
          std::chrono::seconds(110), std::nullopt,
          {"NODE_PATH=" + (npm_dir() / "node_modules").string()});
  j.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  MESSAGE("Chromium ran in " << j.seconds << " s:\n" << r.out);
  REQUIRE_MESSAGE(r.status == 0, "security.cjs exit status " << r.status << "\nstdout: " << r.out
                                                             << "\nstderr: " << r.err);
  j.report = json::parse(read_file(out / "out.json"));
  // Stopped, so that every response is in the logs.
  for (ServerProcess* s : {&ui, &refusing, &allowing}) s->stop();
  j.root_log = parse_log(ui.access_log());
  j.refusing_log = parse_log(refusing.access_log());
  j.allowing_log = parse_log(allowing.access_log());
  j.complete = true;
}

// The shared run, or nullptr after saying why not (and failing under CI=true).
const Judged* judged_or_skip() {
  return shared_run_or_skip<Judged>(run_chromium);
}

// A part of the report that ran to its end.
const json& part(const json& p, const std::string& name) {
  CAPTURE(name);
  REQUIRE_MESSAGE(p.is_object(), "no report for " << name);
  REQUIRE_MESSAGE(p["error"] == "",
                  name << " failed in Chromium: " << p["error"].get<std::string>());
  return p;
}

// Nothing a name could have made: no script ran, no element or handler was injected, no
// inline code was even tried (the CSP would have reported it).
void check_nothing_injected(const json& page, const std::string& origin) {
  INFO("what the page holds: " << page.dump());
  CHECK(page["pwned"].is_null());
  CHECK(page["onAttributes"].empty());
  CHECK(page["tags"].empty());
  CHECK(page["javascriptLinks"] == 0);
  CHECK(page["violations"].empty());
  for (const json& s : page["scripts"]) {
    CAPTURE(s.dump());
    CHECK(s.get<std::string>().starts_with(origin + "/.httpfs-ui/"));
  }
}

// A listing of names/ showed each hostile name as text, and linked it to itself.
void check_listing(const Judged& j, const std::string& key) {
  const json& l = part(j.report["listings"][key], key);
  const bool ui = key == "ui";
  CHECK(l["status"] == 200);
  CHECK(l["origin"] == (ui ? j.origin : j.plain_origin));
  const std::string origin = l["origin"];
  check_nothing_injected(l["page"], origin);
  const json& entries = l["entries"];
  CHECK(entries.size() == hostile().size());
  const std::string text = l["page"]["text"];
  for (std::size_t i = 0; i < hostile().size(); ++i) {
    const Hostile& h = hostile()[i];
    const std::string shown = ui ? h.ui : h.plain;
    CAPTURE(i);
    CAPTURE(shown);
    const std::string want = to_hex("/names/" + h.name + (h.dir ? "/" : ""));
    const json* found = nullptr;
    for (const json& e : entries)
      if (e["pathHex"] == want) found = &e;
    REQUIRE_MESSAGE(found != nullptr, "no link names " << shown << ": " << entries.dump());
    const json& e = *found;
    INFO("the entry: " << e.dump());
    CHECK(e["text"] == shown);
    CHECK(contains(text, shown));  // rendered, not only in the DOM
    CHECK(e["protocol"] == "http:");
    CHECK(e["origin"] == origin);
    CHECK(e["search"] == "");
    // README ("Names"): a name holding a backslash or bytes that are not UTF-8 is listed and
    // linked, but no request path may carry it (Confinement): its link is answered 400.
    const bool unfetchable = contains(h.name, "\\") || contains(h.name, "\xff");
    if (unfetchable) {
      CHECK(e["fetched"]["status"] == 400);
      continue;
    }
    CHECK(e["fetched"]["status"] == 200);
    if (!h.dir) CHECK(e["fetched"]["body"] == base64(content(i)));
  }
}

}  // namespace

TEST_CASE("Chromium: hostile names are text in the browser page; each link fetches its file") {
  const Judged* j = judged_or_skip();
  if (j == nullptr) return;
  check_listing(*j, "ui");
  const json& l = j->report["listings"]["ui"];
  CHECK(l["csp"].is_string());  // the page's own policy (judged in the CSP case)
  // Followed as a user does: the link of the first name (an <img onerror> as text) opens the
  // file itself, sandboxed like every user's file.
  const json& c = part(j->report["click"], "click");
  CHECK(c["text"] == hostile()[0].ui);
  CHECK(c["status"] == 200);
  CHECK(c["origin"] == j->origin);
  CHECK(c["pathHex"] == to_hex("/names/" + hostile()[0].name));
  CHECK(c["body"] == base64(content(0)));
  CHECK(contains(c["csp"].get<std::string>(), "sandbox"));
}

TEST_CASE("Chromium: hostile names are text in the plain listing (--ui off, no CSP)") {
  const Judged* j = judged_or_skip();
  if (j == nullptr) return;
  // No policy here: were a name markup, its script would run, not only be blocked.
  CHECK(j->report["listings"]["plain"]["csp"].is_null());
  check_listing(*j, "plain");
}

TEST_CASE("Chromium: folder paths made of markup are text in the title and the listing") {
  const Judged* j = judged_or_skip();
  if (j == nullptr) return;
  const std::string script_dir = "/names/" + kScriptFolder + "/script>/";
  const std::string svg_dir = "/names/" + kSvgFolder + "/" + kSvgSub + "/";
  for (const auto& [key, path] :
       std::vector<std::pair<std::string, std::string>>{{"ui-script-dir", script_dir},
                                                        {"plain-script-dir", script_dir},
                                                        {"ui-svg-dir", svg_dir},
                                                        {"plain-svg-dir", svg_dir}}) {
    CAPTURE(key);
    const json& l = part(j->report["listings"][key], key);
    CHECK(l["status"] == 200);
    check_nothing_injected(l["page"], l["origin"]);
    CHECK(contains(l["page"]["title"].get<std::string>(), path));
    if (key.starts_with("plain")) CHECK(contains(l["page"]["text"].get<std::string>(), path));
    REQUIRE(l["entries"].size() == 1);
    const json& e = l["entries"][0];
    CHECK(e["text"] == "f.txt");
    CHECK(e["origin"] == l["origin"]);
    CHECK(e["pathHex"] == to_hex(path + "f.txt"));
    CHECK(e["fetched"]["body"] == base64("f"));
  }
}

TEST_CASE("Chromium: the page's CSP blocks inline script, handlers, eval and other origins") {
  const Judged* j = judged_or_skip();
  if (j == nullptr) return;
  const json& c = part(j->report["csp"], "csp");
  const std::string csp = c["csp"];
  INFO("the policy: " << csp);
  CHECK(contains(csp, "script-src 'self'"));
  CHECK(contains(csp, "connect-src 'self'"));
  CHECK_FALSE(contains(csp, "unsafe-inline"));
  CHECK_FALSE(contains(csp, "unsafe-eval"));
  INFO("on the page: " << c["page"].dump());
  // Nothing ran, and Chromium said why.
  CHECK(c["page"]["ran"].empty());
  // The probe is a user's file of the page's origin, which script-src 'self' lets in; what it
  // evaluates from strings is refused all the same.
  REQUIRE(c["page"]["errors"]["probe"] == "load");
  CHECK(c["page"]["errors"]["eval"] == "EvalError");
  CHECK(c["page"]["errors"]["newFunction"] == "EvalError");
  CHECK(c["page"]["errors"]["foreignScript"] == "error");
  CHECK(c["page"]["errors"]["foreignFetch"] == "TypeError");
  std::multiset<std::string> directives;
  for (const json& v : c["page"]["violations"]) {
    CHECK(v["disposition"] == "enforce");
    directives.insert(v["directive"].get<std::string>());
  }
  CHECK(directives.count("script-src-elem") >= 2);  // the inline <script>, the foreign one
  CHECK(directives.count("script-src-attr") >= 2);  // onclick, onerror
  CHECK(directives.count("script-src") >= 3);       // eval, new Function, setTimeout
  CHECK(directives.count("connect-src") >= 1);      // the fetch to another origin
  // The control: without a CSP the very same injection runs, so the above is the policy's.
  INFO("without a CSP: " << c["control"].dump());
  CHECK(c["controlCsp"].is_null());
  for (const char* what : {"inlineScript", "inlineHandler", "imgOnerror", "javascriptUrl", "eval",
                           "newFunction", "setTimeoutString", "foreignScript"})
    CHECK_MESSAGE(c["control"]["ran"].contains(what), what << " did not run without a CSP");
}

TEST_CASE("Chromium: a user's HTML file runs sandboxed: no write, no cookie, no storage") {
  const Judged* j = judged_or_skip();
  if (j == nullptr) return;
  const json& s = part(j->report["sandbox"], "sandbox");
  INFO("sandbox report: " << s.dump());
  CHECK(s["csp"] == "sandbox allow-scripts allow-forms allow-popups allow-modals allow-downloads");
  // The control: the server's origin does hold the secrets.
  CHECK(contains(s["uiSees"]["cookie"].get<std::string>(), "secret=cookie-s3cret"));
  CHECK(s["uiSees"]["storage"] == "storage-s3cret");
  for (const char* where : {"top", "framed"}) {
    CAPTURE(where);
    const json& r = s[where];
    CHECK(r["ran"] == true);  // its script runs: the sandbox allows scripts
    CHECK(r["origin"] == "null");
    CHECK(r["cookie"] == "threw SecurityError");
    CHECK(r["storage"] == "threw SecurityError");
    // Writes: preflighted ones never leave the browser; the others are refused (the log).
    CHECK(r["put"] == "threw TypeError");
    CHECK(r["putCredentials"] == "threw TypeError");
    CHECK(r["delete"] == "threw TypeError");
    CHECK(r["post"] == "opaque");
    CHECK(r["form"] == "loaded");
  }
  CHECK(s["topOrigin"] == "null");
  // Framed by the browser page it cannot reach it.
  CHECK(s["framed"]["parent"] == "threw SecurityError");
  CHECK(s["framed"]["parentCookie"] == "threw SecurityError");
  CHECK(s["uiAfter"]["pwned"].is_null());
  // Nothing was written: the tree is as it was, and every write that arrived got 403.
  CHECK_FALSE(file_exists(*j->root / "x"));
  CHECK_FALSE(file_exists(*j->root / "x2"));
  CHECK_FALSE(file_exists(*j->root / "x3"));
  CHECK_FALSE(file_exists(*j->root / "x4"));
  CHECK(read_file(*j->root / "keep.txt") == "keep");
  CHECK(read_tree(j->root->path()) == j->root_before);
  int refused = 0;
  for (const Logged& l : j->root_log) {
    if (!is_write(l.method)) continue;
    CAPTURE(l.method + " " + l.target);
    CHECK(l.status == 403);
    ++refused;
  }
  CHECK(refused >= 4);  // the no-cors POST and the form, from each of the two pages
}

TEST_CASE("Chromium: another site's forms, beacons and fetches write nothing; 403 on arrival") {
  const Judged* j = judged_or_skip();
  if (j == nullptr) return;
  // From http://localhost:PORT (another site) and http://127.0.0.1:PORT (the same site,
  // another port): both are refused.
  for (const std::string tag : {"cross", "same"}) {
    CAPTURE(tag);
    const json& a = part(j->report["attacks"][tag], tag);
    INFO("the attacker's report: " << a.dump());
    const json& p = a["page"];
    // No-cors is for simple methods only; the CORS writes fail at their preflight (or, the
    // simple POST, for want of Access-Control-Allow-Origin on its 403).
    CHECK(p["noCorsPut"] == "threw TypeError");
    for (const char* k : {"corsPut", "corsPutCredentials", "corsPost", "corsDelete", "corsMkcol"})
      CHECK_MESSAGE(p[k] == "threw TypeError", k);
    CHECK(p["noCorsPost"] == "opaque");
    CHECK(p["beacon"] == true);
    for (const char* k : {"formUrlencoded", "formPlainKeep", "formMultipart"})
      CHECK_MESSAGE(p[k] == "loaded", k);
    // What Chromium saw reach the victim: writes answered 403, marked as from another site.
    int posts = 0;
    for (const json& q : a["requests"]) {
      CAPTURE(q.dump());
      if (q["method"] == "GET") continue;
      if (q["status"] != 0) CHECK(q["status"] == 403);
      posts += q["method"] == "POST" && q["status"] == 403 ? 1 : 0;
    }
    CHECK(posts >= 4);  // the forms and the no-cors POSTs (beacons may not be shown)
    // And as the victim logged them.
    for (const std::string& target : simple_posts(tag)) {
      CAPTURE(target);
      bool seen = false;
      for (const Logged& l : j->refusing_log)
        if (l.method == "POST" && l.target == target) seen = true;
      CHECK_MESSAGE(seen, "POST " << target << " never reached the victim");
    }
  }
  // Every write that arrived was refused, and the victim's files are as they were.
  for (const Logged& l : j->refusing_log) {
    if (!is_write(l.method)) continue;
    CAPTURE(l.method + " " + l.target);
    CHECK(l.status == 403);
  }
  CHECK(read_tree(j->refusing->path()) == j->refusing_before);
}

TEST_CASE("Chromium: with --cors for that site the same page's CORS writes land (control)") {
  const Judged* j = judged_or_skip();
  if (j == nullptr) return;
  const json& a = part(j->report["attacks"]["allowed"], "allowed");
  INFO("the attacker's report: " << a.dump());
  const json& p = a["page"];
  MESSAGE("what the allowed site's page got: " << p.dump());
  CHECK(p["corsPut"] == 201);
  CHECK(p["corsPutCredentials"] == 201);
  CHECK(p["corsDelete"] == 204);
  CHECK(read_file(*j->allowing / "allowed-cors-put.txt") == "pwned");
  CHECK_FALSE(file_exists(*j->allowing / "del.txt"));
  bool logged = false;
  for (const Logged& l : j->allowing_log)
    logged |= l.method == "PUT" && l.target == "/allowed-cors-put.txt" && l.status == 201;
  CHECK(logged);
  CHECK(read_tree(j->allowing->path()) != j->allowing_before);
}
