// WebDAV (RFC 4918) against the real server: litmus and rclone as real clients, then what
// they never try: a huge PROPFIND answered in bounded memory, hostile bodies and headers that
// must change nothing, the state directory kept out of reach, locks that outlive a restart and
// are shared by two processes, and dead properties that follow their file.
#include <doctest/doctest.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <regex>
#include <sstream>
#include <thread>

#include "support/http_client.hpp"
#include "support/wait.hpp"

using namespace httpfs::test;
namespace fs = std::filesystem;

namespace {

// A request as a client sends it: Host names the server with its port, as a Destination URL
// on the same server does.
std::string raw_request(int port, std::string_view method, std::string_view path,
                        const std::vector<std::string>& headers = {}, std::string_view body = {}) {
  std::string r = std::string(method) + " " + std::string(path) +
                  " HTTP/1.1\r\nHost: 127.0.0.1:" + std::to_string(port) + "\r\n";
  for (const std::string& h : headers) r += h + "\r\n";
  // Without a body, no Content-Length at all: LOCK without one is a refresh, not a new lock.
  if (!body.empty()) r += "Content-Length: " + std::to_string(body.size()) + "\r\n";
  return r + "\r\n" + std::string(body);
}

Response dav(int port, std::string_view method, std::string_view path,
             const std::vector<std::string>& headers = {}, std::string_view body = {}) {
  return request(port, raw_request(port, method, path, headers, body),
                 httpfs::http::method_from_token(method));
}

std::size_t count(std::string_view hay, std::string_view needle) {
  std::size_t n = 0;
  for (std::size_t at = hay.find(needle); at != std::string_view::npos;
       at = hay.find(needle, at + needle.size()))
    ++n;
  return n;
}

bool contains(std::string_view hay, std::string_view needle) {
  return hay.find(needle) != std::string_view::npos;
}

std::string tail(const std::string& s, std::size_t n) {
  return s.size() <= n ? s : "..." + s.substr(s.size() - n);
}

constexpr std::string_view kXmlDecl = "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n";

std::string lockinfo(std::string_view scope = "exclusive", std::string_view owner = "webdav test",
                     std::string_view doctype = {}) {
  return std::string(kXmlDecl) + std::string(doctype) +
         "<D:lockinfo xmlns:D=\"DAV:\"><D:lockscope><D:" + std::string(scope) +
         "/></D:lockscope><D:locktype><D:write/></D:locktype><D:owner>" + std::string(owner) +
         "</D:owner></D:lockinfo>";
}

// The token of a LOCK answer's Lock-Token header, without its angle brackets.
std::string lock_token(const Response& r) {
  std::string t = r.header("Lock-Token");
  if (t.size() >= 2 && t.front() == '<' && t.back() == '>') t = t.substr(1, t.size() - 2);
  return t;
}

std::string proppatch_set(std::string_view ns, std::string_view props) {
  return std::string(kXmlDecl) + "<D:propertyupdate xmlns:D=\"DAV:\" xmlns:Z=\"" + std::string(ns) +
         "\"><D:set><D:prop>" + std::string(props) + "</D:prop></D:set></D:propertyupdate>";
}

std::string propfind_props(std::string_view ns, std::string_view props) {
  return std::string(kXmlDecl) + "<D:propfind xmlns:D=\"DAV:\" xmlns:Z=\"" + std::string(ns) +
         "\"><D:prop>" + std::string(props) + "</D:prop></D:propfind>";
}

// The status of the propstat that names property `local` in a one-resource 207 body
// ("HTTP/1.1 200 OK" -> 200), or 0 when no propstat names it.
int propstat_status(const std::string& body, const std::string& local) {
  static const std::regex element("<D:propstat>(.*?)</D:propstat>");
  static const std::regex status("<D:status>HTTP/1\\.1 (\\d{3})");
  const std::regex name("[<:]" + local + "[\\s/>]");
  for (auto it = std::sregex_iterator(body.begin(), body.end(), element);
       it != std::sregex_iterator(); ++it) {
    const std::string propstat = (*it)[1];
    std::smatch m;
    if (std::regex_search(propstat, name) && std::regex_search(propstat, m, status))
      return std::stoi(m[1]);
  }
  return 0;
}

std::string xattr_of(const std::string& path) {
  char buf[65536];
  const ssize_t n = ::lgetxattr(path.c_str(), "user.httpfs.props", buf, sizeof buf);
  return n < 0 ? std::string() : std::string(buf, static_cast<std::size_t>(n));
}

// Everything under `root` but the server's state directory: each directory, and each file
// with its bytes and its dead properties. Two equal snapshots mean nothing changed on disk.
std::map<std::string, std::string> disk_state(const std::string& root) {
  std::map<std::string, std::string> out;
  for (auto it = fs::recursive_directory_iterator(root); it != fs::recursive_directory_iterator();
       ++it) {
    const std::string rel = fs::relative(it->path(), root).string();
    if (rel == ".httpfs-state") {
      it.disable_recursion_pending();
      continue;
    }
    const std::string path = it->path().string();
    if (it->is_symlink())
      out[rel] = "symlink";
    else if (it->is_directory())
      out[rel] = "dir " + xattr_of(path);
    else
      out[rel] = "file " + read_file(path) + " xattr " + xattr_of(path);
  }
  return out;
}

// The locks on disk: the files in the state directory's lock store, without the store's own
// dotfiles (its guard).
std::vector<std::string> lock_files(const std::string& root) {
  std::vector<std::string> out;
  if (!fs::is_directory(root + "/.httpfs-state/locks")) return out;
  for (const std::string& name : entries(root + "/.httpfs-state/locks"))
    if (!name.starts_with(".")) out.push_back(name);
  return out;
}

// What differs between two snapshots, one line per path, for a failure message.
std::string describe_difference(const std::map<std::string, std::string>& before,
                                const std::map<std::string, std::string>& after) {
  std::string out;
  for (const auto& entry : before) {
    auto it = after.find(entry.first);
    if (it == after.end())
      out += "gone: " + entry.first + "\n";
    else if (it->second != entry.second)
      out += "changed: " + entry.first + "\n";
  }
  for (const auto& entry : after)
    if (!before.contains(entry.first)) out += "new: " + entry.first + "\n";
  return out;
}

// Sends `prefix` and then `filler_len` bytes of `unit` repeated, as fast as the server takes
// them, and stops as soon as an answer starts to arrive (or the server closes): a server that
// refuses early must not have to read it all, and a client that kept pushing into a closing
// socket would get a reset that can throw the answer away. Returns how many bytes went out.
std::uint64_t send_until_answered(RawConnection& c, std::string_view prefix,
                                  std::uint64_t filler_len, std::string_view unit) {
  std::string block;
  while (block.size() < 65536) block += unit;
  const std::uint64_t total = prefix.size() + filler_len;
  std::uint64_t sent = 0;
  while (sent < total) {
    pollfd p{c.fd(), POLLIN | POLLOUT, 0};
    if (::poll(&p, 1, 10000) <= 0) break;  // stuck: the caller's checks say what is missing
    if (p.revents & (POLLIN | POLLHUP | POLLERR)) break;
    std::string_view piece;
    if (sent < prefix.size()) {
      piece = prefix.substr(sent);
    } else {
      const std::uint64_t at = (sent - prefix.size()) % unit.size();
      piece = std::string_view(block).substr(at);
    }
    piece = piece.substr(0, std::min<std::uint64_t>(piece.size(), total - sent));
    const ssize_t n = ::send(c.fd(), piece.data(), piece.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) continue;
    if (n <= 0) break;
    sent += static_cast<std::uint64_t>(n);
  }
  return sent;
}

// ---- litmus ------------------------------------------------------------------------------

struct LitmusSuite {
  std::string name;
  int run = 0, passed = 0, failed = 0;
};

// Runs every litmus suite against a fresh server started with `server_args`, and checks that
// each passed every test it has, skipping none.
void check_litmus(const std::vector<std::string>& server_args,
                  const std::vector<std::string>& credentials) {
  TempDir root, cwd;
  ServerProcess server(root.path(), server_args);
  std::vector<std::string> argv = {"/usr/bin/litmus", server.url("/")};
  argv.insert(argv.end(), credentials.begin(), credentials.end());
  // litmus writes debug.log and child.log into its working directory.
  const RunResult r = run(argv, 180s, std::nullopt, {}, cwd.path());
  const std::string output = r.out + r.err;

  static const std::regex summary(
      "<- summary for `([a-z]+)': of (\\d+) tests run: (\\d+) passed, (\\d+) failed");
  std::vector<LitmusSuite> suites;
  for (auto it = std::sregex_iterator(output.begin(), output.end(), summary);
       it != std::sregex_iterator(); ++it)
    suites.push_back({(*it)[1], std::stoi((*it)[2]), std::stoi((*it)[3]), std::stoi((*it)[4])});

  std::string failing;
  std::istringstream lines(output);
  for (std::string line; std::getline(lines, line);)
    if (contains(line, "FAIL") || contains(line, "SKIPPED") || contains(line, "skipped") ||
        contains(line, "WARNING"))
      failing += line + "\n";
  INFO("litmus exit status " << r.status << "; failing, skipped and warning lines:\n"
                             << failing << "\ndebug.log ends:\n"
                             << tail(read_file(cwd / "debug.log"), 6000));

  std::vector<std::string> names;
  int total = 0;
  for (const LitmusSuite& s : suites) {
    INFO("suite " << s.name);
    CHECK(s.failed == 0);
    CHECK(s.passed == s.run);
    names.push_back(s.name);
    total += s.run;
  }
  CHECK(names == std::vector<std::string>{"basic", "copymove", "props", "locks", "http"});
  CHECK(total == 104);
  CHECK(!contains(output, "SKIPPED"));
  CHECK(!contains(output, "skipped"));
  CHECK(r.status == 0);
}

// ---- rclone ------------------------------------------------------------------------------

struct Rclone {
  std::string config;
  std::string cache;
  RunResult operator()(std::vector<std::string> args) const {
    // No retries: a request the server gets wrong must fail the command, not be retried
    // until it happens to work.
    std::vector<std::string> argv = {"/usr/bin/rclone",
                                     "--config",
                                     config,
                                     "--cache-dir",
                                     cache,
                                     "--retries",
                                     "1",
                                     "--low-level-retries",
                                     "1",
                                     "--transfers",
                                     "8",
                                     "--checkers",
                                     "8"};
    argv.insert(argv.end(), args.begin(), args.end());
    return run(std::move(argv), 120s, std::nullopt, {"HOME=" + cache});
  }
};

// The regular files under `dir` with their bytes, by path relative to it.
std::map<std::string, std::string> files_under(const std::string& dir) {
  std::map<std::string, std::string> out;
  for (const auto& e : fs::recursive_directory_iterator(dir))
    if (e.is_regular_file()) out[fs::relative(e.path(), dir).string()] = read_file(e.path());
  return out;
}

}  // namespace

TEST_CASE("litmus: every suite passes, nothing skipped") {
  check_litmus({}, {});
}

TEST_CASE("litmus with credentials: every suite passes, nothing skipped") {
  check_litmus({"--auth", "u:p"}, {"u", "p"});
}

TEST_CASE("rclone: copy 1000 files up and back, list, check, move, delete") {
  TempDir root, work;
  // A few directories and names that need encoding: spaces, UTF-8, '%', '#', '+', '&'.
  const std::vector<std::string> dirs = {"",        "sub/",        "sub/deeper/", "with space/",
                                         "日本語/", "mixed/ü dir/"};
  std::map<std::string, std::string> local;
  for (int i = 0; i < 1000; ++i) {
    std::string name;
    switch (i % 10) {
      case 3:
        name = "name with spaces " + std::to_string(i) + ".txt";
        break;
      case 5:
        name = "café-" + std::to_string(i) + "-ñ.txt";
        break;
      case 7:
        name = "日本-" + std::to_string(i) + ".dat";
        break;
      case 9:
        name = std::to_string(i) + "% #1+plus & more.txt";
        break;
      default:
        name = "f" + std::to_string(i) + ".bin";
    }
    const std::string rel = dirs[static_cast<std::size_t>(i) % dirs.size()] + name;
    local[rel] = random_bytes(static_cast<std::size_t>(i * 37 % 4096), static_cast<unsigned>(i));
    work.write("local/" + rel, local[rel]);
  }
  ServerProcess server(root.path());
  write_file(work / "rclone.conf",
             "[dav]\ntype = webdav\nurl = " + server.url("/") + "\nvendor = other\n");
  const Rclone rclone{work / "rclone.conf", work / "cache"};

  RunResult r = rclone({"copy", work / "local", "dav:up"});
  REQUIRE_MESSAGE(r.status == 0, r.err);
  CHECK(files_under(root / "up") == local);

  r = rclone({"lsjson", "-R", "dav:up"});
  REQUIRE_MESSAGE(r.status == 0, r.err);
  const nlohmann::json listed = nlohmann::json::parse(r.out);
  std::map<std::string, std::size_t> sizes;
  for (const nlohmann::json& e : listed)
    if (!e.at("IsDir").get<bool>())
      sizes[e.at("Path").get<std::string>()] = e.at("Size").get<std::size_t>();
  CHECK(sizes.size() == 1000);
  for (const auto& entry : local) {
    INFO(entry.first);
    CHECK(sizes.contains(entry.first));
    if (sizes.contains(entry.first)) CHECK(sizes[entry.first] == entry.second.size());
  }

  r = rclone({"copy", "dav:up", work / "back"});
  REQUIRE_MESSAGE(r.status == 0, r.err);
  CHECK(files_under(work / "back") == local);

  r = rclone({"check", work / "local", "dav:up"});
  CHECK_MESSAGE(r.status == 0, r.err);
  CHECK_MESSAGE(contains(r.err, " 0 differences found"), r.err);

  const std::string moved_from = "with space/café-15-ñ.txt";
  REQUIRE(local.contains(moved_from));
  r = rclone({"moveto", "dav:up/" + moved_from, "dav:up/moved"});
  CHECK_MESSAGE(r.status == 0, r.err);
  r = rclone({"delete", "dav:up/sub"});
  CHECK_MESSAGE(r.status == 0, r.err);

  std::map<std::string, std::string> expected = local;
  expected["moved"] = expected[moved_from];
  expected.erase(moved_from);
  std::erase_if(expected, [](const auto& entry) { return entry.first.starts_with("sub/"); });
  CHECK(files_under(root / "up") == expected);
  // rclone delete removes files and keeps the directories.
  CHECK(fs::is_directory(root / "up/sub/deeper"));
}

TEST_CASE("PROPFIND Depth 1 of 10 000 entries: all of them, chunked, in bounded memory") {
  TempDir root;
  root.mkdir("big");
  root.mkdir("small");
  for (int i = 0; i < 10000; ++i) {
    const std::string name = "entry-" + std::to_string(100000 + i) + ".txt";
    const int fd = ::open((root / ("big/" + name)).c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
    REQUIRE(fd >= 0);
    ::close(fd);
    if (i < 100) root.write("small/" + name, "");
  }
  ServerProcess server(root.path());
  const std::string propfind =
      "PROPFIND /big/ HTTP/1.1\r\nHost: 127.0.0.1\r\nDepth: 1\r\nConnection: close\r\n\r\n";

  // The warm-up lists another directory the same way: it faults in the code, the worker
  // threads and the allocator's arenas. Not the big one: if the server built that answer in
  // memory, the freed buffer would stay with the allocator and the measured run would reuse
  // it without the RSS growing.
  Response warm = dav(server.port(), "PROPFIND", "/small/", {"Depth: 1", "Connection: close"});
  REQUIRE(warm.status == 207);
  CHECK(count(warm.body, "<D:response>") == 101);

  // The big one, read slowly through a small receive window while a thread samples the
  // server's RSS: an answer made as the directory is read waits for the socket, not in memory.
  const long before_kib = rss_kib(server.pid());
  REQUIRE(before_kib > 0);
  std::atomic<bool> reading{true};
  std::atomic<long> peak_kib{before_kib};
  std::thread sampler([&] {
    while (reading) {
      peak_kib = std::max(peak_kib.load(), rss_kib(server.pid()));
      std::this_thread::sleep_for(1ms);
    }
  });
  std::string raw;
  {
    RawConnection c(server.port());
    const int window = 16384;
    ::setsockopt(c.fd(), SOL_SOCKET, SO_RCVBUF, &window, sizeof window);
    c.send("PROPFIND /big/ HTTP/1.1\r\nHost: 127.0.0.1\r\nDepth: 1\r\nConnection: close\r\n\r\n");
    char buf[8192];
    for (;;) {
      pollfd p{c.fd(), POLLIN, 0};
      if (::poll(&p, 1, 10000) <= 0) break;
      const ssize_t n = ::recv(c.fd(), buf, sizeof buf, 0);
      if (n <= 0) break;
      raw.append(buf, static_cast<std::size_t>(n));
      std::this_thread::sleep_for(1ms);
    }
  }
  reading = false;
  sampler.join();

  std::optional<Response> r = parse_response(raw, httpfs::http::Method::Propfind);
  REQUIRE(r);
  CHECK(r->status == 207);
  CHECK(r->header("Transfer-Encoding") == "chunked");
  CHECK(count(r->body, "<D:response>") == 10001);
  CHECK(count(r->body, "</D:response>") == 10001);
  CHECK(r->body.ends_with("</D:multistatus>\n"));
  for (int i : {0, 1, 4999, 9999})
    CHECK(contains(r->body, "/big/entry-" + std::to_string(100000 + i) + ".txt</D:href>"));
  INFO("RSS before " << before_kib << " KiB, peak " << peak_kib.load() << " KiB; answer "
                     << r->body.size() << " bytes");
  CHECK(peak_kib - before_kib < 1024);
}

TEST_CASE("bad requests: the right status, and nothing changes on disk") {
  TempDir root;
  root.write("file.txt", "content");
  root.write("dir/inner.txt", "inner");
  root.mkdir("dir/sub");
  ServerProcess server(root.path());
  const int port = server.port();
  const std::string here = "http://127.0.0.1:" + std::to_string(port);
  const std::map<std::string, std::string> before = disk_state(root.path());
  // Every check ends by comparing the tree with how it started.
  auto unchanged = [&] {
    const std::map<std::string, std::string> now = disk_state(root.path());
    CHECK_MESSAGE(now == before, describe_difference(before, now));
  };

  SUBCASE("malformed XML: 400") {
    Response r = dav(port, "PROPFIND", "/", {"Depth: 1"},
                     "<D:propfind xmlns:D=\"DAV:\"><D:prop><D:getetag/></D:propfind>");
    CHECK(r.status == 400);
    r = dav(port, "PROPPATCH", "/file.txt", {},
            "<D:propertyupdate xmlns:D=\"DAV:\"><D:set><D:prop><Z:a xmlns:Z=\"urn:z\">1</D:prop>"
            "</D:set></D:propertyupdate>");
    CHECK(r.status == 400);
    r = dav(port, "PROPPATCH", "/file.txt", {}, "this is not xml");
    CHECK(r.status == 400);
    // An unbound prefix, the wrong root element, no DAV: namespace, nesting without end.
    r = dav(port, "PROPPATCH", "/file.txt", {},
            "<D:propertyupdate xmlns:D=\"DAV:\"><D:set><D:prop><Z:a>1</Z:a></D:prop></D:set>"
            "</D:propertyupdate>");
    CHECK(r.status == 400);
    r = dav(port, "PROPPATCH", "/file.txt", {},
            "<D:propfind xmlns:D=\"DAV:\"><D:prop><D:getetag/></D:prop></D:propfind>");
    CHECK(r.status == 400);
    r = dav(port, "PROPFIND", "/", {"Depth: 0"}, "<propfind><prop><getetag/></prop></propfind>");
    CHECK(r.status == 400);
    std::string deep;
    for (int i = 0; i < 10000; ++i) deep += "<Z:n>";
    r = dav(port, "PROPPATCH", "/file.txt", {},
            proppatch_set("urn:z", "<Z:deep>" + deep + "</Z:deep>"));
    CHECK(r.status == 400);
    unchanged();
  }

  SUBCASE("billion laughs: 400, at once") {
    std::string dtd = "<!DOCTYPE lolz [<!ENTITY lol \"lol\">";
    dtd += "<!ENTITY lol1 \"&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;\">";
    for (int i = 2; i <= 9; ++i) {
      std::string prev = "&lol" + std::to_string(i - 1) + ";", ten;
      for (int k = 0; k < 10; ++k) ten += prev;
      dtd += "<!ENTITY lol" + std::to_string(i) + " \"" + ten + "\">";
    }
    dtd += "]>";
    // A correctness guard, not a benchmark: expanding it would take minutes and gigabytes.
    const auto t0 = std::chrono::steady_clock::now();
    Response r = dav(port, "PROPPATCH", "/file.txt", {},
                     std::string(kXmlDecl) + dtd +
                         proppatch_set("urn:z", "<Z:x>&lol9;</Z:x>").substr(kXmlDecl.size()));
    CHECK(r.status == 400);
    r = dav(port, "PROPFIND", "/", {"Depth: 0"},
            std::string(kXmlDecl) + dtd +
                "<D:propfind xmlns:D=\"DAV:\"><D:prop><D:getetag/></D:prop>&lol9;</D:propfind>");
    CHECK(r.status == 400);
    REQUIRE(std::chrono::steady_clock::now() - t0 < 10s);
    unchanged();
  }

  SUBCASE("external entity: 400, and nothing of the file in the answer") {
    const std::string doctype = "<!DOCTYPE d [<!ENTITY xxe SYSTEM \"file:///etc/passwd\">]>";
    const std::string xxe =
        std::string(kXmlDecl) + doctype +
        proppatch_set("urn:z", "<Z:leak>&xxe;</Z:leak>").substr(kXmlDecl.size());
    Response r = dav(port, "PROPPATCH", "/file.txt", {}, xxe);
    CHECK(r.status == 400);
    CHECK(!contains(r.body, "root:"));
    r = dav(port, "PROPFIND", "/file.txt", {"Depth: 0"});
    CHECK(r.status == 207);
    CHECK(!contains(r.body, "root:"));
    // A LOCK of an unmapped URL with such a body makes neither the lock nor the file.
    r = dav(port, "LOCK", "/new.txt", {}, lockinfo("exclusive", "&xxe;", doctype));
    CHECK(r.status == 400);
    CHECK(!contains(r.body, "root:"));
    CHECK(lock_files(root.path()).empty());
    unchanged();
  }

  SUBCASE("a 100 MB PROPPATCH body: 413 before it is all sent, then the connection closes") {
    RawConnection c(port);
    const std::string open = std::string(kXmlDecl) +
                             "<D:propertyupdate xmlns:D=\"DAV:\" xmlns:Z=\"urn:z\"><D:set><D:prop>"
                             "<Z:big>";
    const std::uint64_t length = 100000000;
    const std::string head = "PROPPATCH /file.txt HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: " +
                             std::to_string(length) + "\r\n\r\n" + open;
    const std::uint64_t sent = send_until_answered(c, head, length - open.size(), "x");
    CHECK(sent < length);
    std::optional<Response> r = c.read_response(httpfs::http::Method::Proppatch);
    REQUIRE(r);
    CHECK(r->status == 413);
    CHECK(c.wait_closed());
    unchanged();
  }

  SUBCASE("Destination: .. 400, %2f 400, another host 502") {
    const std::vector<std::pair<std::string, int>> destinations = {
        {here + "/../escape.txt", 400},
        {"/../escape.txt", 400},
        {here + "/dir/../../escape.txt", 400},
        {here + "/dir%2fescape.txt", 400},
        {"/dir%2Fescape.txt", 400},
        {"http://example.com/x.txt", 502},
        {"http://127.0.0.2:" + std::to_string(port) + "/x.txt", 502},
        // A fragment: a URL reader sees /a, a path reader /b (RFC 4918 10.3 allows none).
        {here + "/a#/../b.txt", 400},
        {"/x.txt#frag", 400},
    };
    // Depths COPY and MOVE do not take.
    CHECK(dav(port, "COPY", "/dir/", {"Destination: /dir2/", "Depth: 1"}).status == 400);
    CHECK(dav(port, "MOVE", "/dir/", {"Destination: /dir2/", "Depth: 0"}).status == 400);
    CHECK(dav(port, "COPY", "/file.txt", {"Destination: /f2.txt", "Overwrite: maybe"}).status ==
          400);
    CHECK(dav(port, "COPY", "/file.txt", {}).status == 400);  // no Destination
    for (const auto& destination : destinations) {
      const std::string& to = destination.first;
      const int status = destination.second;
      for (const char* method : {"COPY", "MOVE"}) {
        INFO(std::string(method) << " to " << to);
        CHECK(dav(port, method, "/file.txt", {"Destination: " + to}).status == status);
      }
    }
    unchanged();
  }

  SUBCASE("MOVE of the root, a directory into itself, COPY onto itself: 403") {
    CHECK(dav(port, "MOVE", "/", {"Destination: " + here + "/elsewhere"}).status == 403);
    CHECK(dav(port, "MOVE", "/dir", {"Destination: " + here + "/dir/sub/dir"}).status == 403);
    CHECK(dav(port, "MOVE", "/dir/", {"Destination: /dir/sub/"}).status == 403);
    CHECK(dav(port, "COPY", "/dir/", {"Destination: /dir/sub/copy/"}).status == 403);
    CHECK(dav(port, "COPY", "/file.txt", {"Destination: " + here + "/file.txt"}).status == 403);
    CHECK(dav(port, "MOVE", "/file.txt", {"Destination: /file.txt"}).status == 403);
    unchanged();
  }

  SUBCASE("a 1 MB If header: 431") {
    RawConnection c(port);
    const std::string head =
        "PUT /file.txt HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 1\r\nIf: ";
    send_until_answered(c, head, 1 << 20, "(<urn:uuid:00000000-0000-0000-0000-000000000000>) ");
    std::optional<Response> r = c.read_response(httpfs::http::Method::Put);
    REQUIRE(r);
    CHECK(r->status == 431);
    unchanged();
  }

  SUBCASE("PROPFIND: Depth infinity 403 propfind-finite-depth; a missing path 404") {
    Response r = dav(port, "PROPFIND", "/", {"Depth: infinity"});
    CHECK(r.status == 403);
    CHECK(contains(r.body, "propfind-finite-depth"));
    r = dav(port, "PROPFIND", "/dir/", {});  // no Depth means infinity
    CHECK(r.status == 403);
    CHECK(contains(r.body, "propfind-finite-depth"));
    CHECK(dav(port, "PROPFIND", "/", {"Depth: 2"}).status == 400);
    CHECK(dav(port, "PROPFIND", "/missing.txt", {"Depth: 0"}).status == 404);
    CHECK(dav(port, "PROPFIND", "/dir/missing/", {"Depth: 1"}).status == 404);
    unchanged();
  }

  SUBCASE("MKCOL: a body 415, an existing path 405, a missing parent 409") {
    CHECK(dav(port, "MKCOL", "/new", {"Content-Type: application/xml"}, "<x/>").status == 415);
    CHECK(dav(port, "MKCOL", "/dir", {}).status == 405);
    CHECK(dav(port, "MKCOL", "/file.txt", {}).status == 405);
    CHECK(dav(port, "MKCOL", "/missing/new", {}).status == 409);
    CHECK(dav(port, "MKCOL", "/file.txt/new", {}).status == 409);
    unchanged();
  }

  SUBCASE("LOCK asking for ten years gets the server's maximum") {
    Response r = dav(port, "LOCK", "/file.txt", {"Timeout: Second-315360000"}, lockinfo());
    CHECK(r.status == 200);
    std::smatch m;
    REQUIRE(std::regex_search(r.body, m, std::regex("<D:timeout>Second-(\\d+)</D:timeout>")));
    const long granted = std::stol(m[1]);
    CHECK(granted > 0);
    CHECK(granted <= 3600);
    r = dav(port, "LOCK", "/dir/inner.txt", {"Timeout: Infinite"}, lockinfo());
    CHECK(r.status == 200);
    REQUIRE(std::regex_search(r.body, m, std::regex("<D:timeout>Second-(\\d+)</D:timeout>")));
    CHECK(std::stol(m[1]) <= 3600);
    unchanged();
  }
}

// RFC 4918 9.2: the body of a PROPPATCH must be a propertyupdate. An empty one is answered
// as "<D:propertyupdate/>" is (400), not with a 207 whose response holds no propstat and no
// status (which 14.24 does not allow).
TEST_CASE("PROPPATCH without a body: 400") {
  TempDir root;
  root.write("file.txt", "content");
  ServerProcess server(root.path());
  const int port = server.port();
  Response r = request(port, raw_request(port, "PROPPATCH", "/file.txt", {"Content-Length: 0"}),
                       httpfs::http::Method::Proppatch);
  CHECK(r.status == 400);
  CHECK(dav(port, "PROPPATCH", "/file.txt", {}, "  \n").status == 400);  // whitespace only
  CHECK(dav(port, "PROPPATCH", "/file.txt", {}).status == 400);          // no body at all
  // The same as an empty propertyupdate element.
  CHECK(dav(port, "PROPPATCH", "/file.txt", {}, "<D:propertyupdate xmlns:D=\"DAV:\"/>").status ==
        400);
}

TEST_CASE("LOCK on an unmapped URL, a second LOCK, PUT with and without the token, UNLOCK") {
  TempDir root;
  ServerProcess server(root.path());
  const int port = server.port();
  Response r = dav(port, "LOCK", "/locked.txt", {}, lockinfo());
  CHECK(r.status == 201);
  const std::string token = lock_token(r);
  REQUIRE(token.starts_with("urn:uuid:"));
  CHECK(file_exists(root / "locked.txt"));
  CHECK(read_file(root / "locked.txt").empty());

  CHECK(dav(port, "LOCK", "/locked.txt", {}, lockinfo()).status == 423);
  CHECK(dav(port, "LOCK", "/locked.txt", {}, lockinfo("shared")).status == 423);
  r = dav(port, "PUT", "/locked.txt", {}, "without");
  CHECK(r.status == 423);
  CHECK(contains(r.body, "lock-token-submitted"));
  CHECK(read_file(root / "locked.txt").empty());
  CHECK(dav(port, "DELETE", "/locked.txt").status == 423);
  CHECK(file_exists(root / "locked.txt"));

  r = dav(port, "PUT", "/locked.txt", {"If: (<" + token + ">)"}, "with the token");
  CHECK(r.status / 100 == 2);
  CHECK(read_file(root / "locked.txt") == "with the token");
  // A token that is not this lock's does not open it.
  r = dav(port, "PUT", "/locked.txt", {"If: (<urn:uuid:00000000-0000-0000-0000-000000000000>)"},
          "wrong token");
  CHECK(r.status / 100 == 4);
  CHECK(read_file(root / "locked.txt") == "with the token");

  CHECK(dav(port, "UNLOCK", "/locked.txt", {"Lock-Token: <" + token + ">"}).status == 204);
  CHECK(lock_files(root.path()).empty());
  r = dav(port, "PUT", "/locked.txt", {}, "after unlock");
  CHECK(r.status / 100 == 2);
  CHECK(read_file(root / "locked.txt") == "after unlock");
}

TEST_CASE("the state directory is never reachable, listed or written, even with --show-hidden") {
  TempDir root;
  root.write("file.txt", "x");
  root.write(".dotfile", "d");
  for (const bool show_hidden : {false, true}) {
    INFO("--show-hidden " << show_hidden);
    ServerProcess server(root.path(), show_hidden ? std::vector<std::string>{"--show-hidden"}
                                                  : std::vector<std::string>{});
    const int port = server.port();
    // A lock makes the state directory and a file in it.
    Response lock = dav(port, "LOCK", "/file.txt", {}, lockinfo());
    REQUIRE(lock.status == 200);
    const std::string token = lock_token(lock);
    REQUIRE(fs::is_directory(root / ".httpfs-state/locks"));
    const std::string uuid = token.substr(std::string("urn:uuid:").size());

    for (const std::string& path : std::vector<std::string>{
             "/.httpfs-state", "/.httpfs-state/", "/.httpfs-state/locks", "/.httpfs-state/locks/",
             "/.httpfs-state/locks/" + uuid, "/%2ehttpfs-state/locks", "/%2Ehttpfs%2Dstate/locks/",
             "//.httpfs-state/locks", "/./.httpfs-state/locks", "/dir/../.httpfs-state/locks"}) {
      INFO(path);
      CHECK(get(port, path).status == 404);
      CHECK(get(port, path, {}, "HEAD").status == 404);
      Response pf = dav(port, "PROPFIND", path, {"Depth: 1"});
      CHECK(pf.status == 404);
      CHECK(!contains(pf.body, uuid));
      CHECK(dav(port, "COPY", path, {"Destination: /stolen"}).status == 404);
    }
    CHECK(!file_exists(root / "stolen"));
    // Nor written into, by any method.
    CHECK(dav(port, "PUT", "/.httpfs-state/locks/planted", {}, "x").status / 100 == 4);
    CHECK(dav(port, "MKCOL", "/.httpfs-state/planted", {}).status / 100 == 4);
    CHECK(dav(port, "COPY", "/file.txt", {"Destination: /.httpfs-state/locks/planted"}).status /
              100 ==
          4);
    CHECK(dav(port, "DELETE", "/.httpfs-state/locks/" + uuid).status / 100 == 4);
    CHECK(dav(port, "PROPPATCH", "/.httpfs-state/locks", {}, proppatch_set("urn:z", "<Z:x>1</Z:x>"))
                  .status /
              100 ==
          4);
    CHECK(dav(port, "LOCK", "/.httpfs-state/locks/x", {}, lockinfo()).status / 100 == 4);
    CHECK(lock_files(root.path()) == std::vector<std::string>{uuid});
    CHECK(!file_exists(root / ".httpfs-state/locks/planted"));
    CHECK(!file_exists(root / ".httpfs-state/planted"));
    CHECK(!file_exists(root / ".httpfs-state/locks/x"));

    // Never listed: PROPFIND and the HTML listing.
    Response pf = dav(port, "PROPFIND", "/", {"Depth: 1"});
    CHECK(pf.status == 207);
    CHECK(!contains(pf.body, "httpfs-state"));
    CHECK(contains(pf.body, "file.txt"));
    CHECK(contains(pf.body, ".dotfile") == show_hidden);
    Response listing = get(port, "/");
    CHECK(listing.status == 200);
    CHECK(!contains(listing.body, "httpfs-state"));
    CHECK(contains(listing.body, ".dotfile") == show_hidden);

    CHECK(dav(port, "UNLOCK", "/file.txt", {"Lock-Token: <" + token + ">"}).status == 204);
  }
}

// Symlinks that stay inside the tree are followed; one that leads into the state directory
// must not open a way into it: a lock file gives away its token, and removing one drops the
// lock. Only someone with access to the disk can plant the link, but the promise is "never".
TEST_CASE("the state directory is not reachable through a symlink in the tree") {
  TempDir root;
  root.write("file.txt", "x");
  ServerProcess server(root.path());
  const int port = server.port();
  Response lock = dav(port, "LOCK", "/file.txt", {}, lockinfo());
  REQUIRE(lock.status == 200);
  const std::string uuid = lock_token(lock).substr(std::string("urn:uuid:").size());
  REQUIRE(::symlink(".httpfs-state", (root / "alias").c_str()) == 0);
  REQUIRE(::symlink(".httpfs-state/locks", (root / "alias-locks").c_str()) == 0);

  for (const std::string& path :
       std::vector<std::string>{"/alias/", "/alias/locks/", "/alias/locks/" + uuid, "/alias-locks/",
                                "/alias-locks/" + uuid}) {
    INFO(path);
    Response g = get(port, path);
    CHECK(g.status / 100 == 4);
    CHECK(!contains(g.body, uuid));
    Response pf = dav(port, "PROPFIND", path, {"Depth: 1"});
    CHECK(pf.status / 100 == 4);
    CHECK(!contains(pf.body, uuid));
  }
  CHECK(dav(port, "PUT", "/alias-locks/planted", {}, "x").status / 100 == 4);
  CHECK(dav(port, "COPY", "/alias-locks/" + uuid, {"Destination: /copied"}).status / 100 == 4);
  CHECK(!file_exists(root / "copied"));
  CHECK(dav(port, "DELETE", "/alias-locks/" + uuid).status / 100 == 4);
  CHECK(lock_files(root.path()) == std::vector<std::string>{uuid});
  // The lock still holds.
  CHECK(dav(port, "PUT", "/file.txt", {}, "no token").status == 423);
}

// A link to the root itself makes "/self/.httpfs-state" name the state directory by a path
// the literal check does not know; with --show-hidden nothing else stands in the way.
TEST_CASE("a link to the root does not lead to the state directory, even with --show-hidden") {
  TempDir root;
  root.write("file.txt", "x");
  ServerProcess server(root.path(), {"--show-hidden"});
  const int port = server.port();
  Response lock = dav(port, "LOCK", "/file.txt", {}, lockinfo());
  REQUIRE(lock.status == 200);
  const std::string uuid = lock_token(lock).substr(std::string("urn:uuid:").size());
  REQUIRE(::symlink(".", (root / "self").c_str()) == 0);
  CHECK(dav(port, "DELETE", "/self/.httpfs-state").status == 404);
  CHECK(dav(port, "MOVE", "/self/.httpfs-state", {"Destination: /stolen"}).status / 100 == 4);
  CHECK(dav(port, "MKCOL", "/self/.httpfs-state").status / 100 == 4);
  CHECK(dav(port, "PUT", "/self/.httpfs-state/locks/planted", {}, "x").status / 100 == 4);
  for (const std::string& listing :
       {get(port, "/self/?format=text").body, dav(port, "PROPFIND", "/self/", {"Depth: 1"}).body}) {
    CHECK(!contains(listing, ".httpfs-state"));
    CHECK(contains(listing, "file.txt"));
  }
  CHECK(lock_files(root.path()) == std::vector<std::string>{uuid});
  CHECK(!file_exists(root / "stolen"));
  CHECK(dav(port, "PUT", "/file.txt", {}, "no token").status == 423);
}

TEST_CASE("locks outlive a restart, and two servers on one tree see each other's locks") {
  TempDir root;
  root.write("a.txt", "a");
  root.write("b.txt", "b");
  std::string token;
  {
    ServerProcess first(root.path());
    Response r = dav(first.port(), "LOCK", "/a.txt", {}, lockinfo());
    REQUIRE(r.status == 200);
    token = lock_token(r);
    REQUIRE(!token.empty());
    CHECK(first.stop() == 0);
    CHECK(lock_files(root.path()).size() == 1);
  }
  {
    ServerProcess second(root.path());
    CHECK(dav(second.port(), "PUT", "/a.txt", {}, "no token").status == 423);
    CHECK(read_file(root / "a.txt") == "a");
    Response r = dav(second.port(), "PROPFIND", "/a.txt", {"Depth: 0"});
    CHECK(contains(r.body, token));
    r = dav(second.port(), "PUT", "/a.txt", {"If: (<" + token + ">)"}, "token");
    CHECK(r.status / 100 == 2);
    CHECK(read_file(root / "a.txt") == "token");
  }

  ServerProcess one(root.path()), two(root.path());
  Response r = dav(one.port(), "LOCK", "/b.txt", {}, lockinfo());
  REQUIRE(r.status == 200);
  const std::string b_token = lock_token(r);
  CHECK(dav(two.port(), "PUT", "/b.txt", {}, "no token").status == 423);
  CHECK(dav(two.port(), "LOCK", "/b.txt", {}, lockinfo()).status == 423);
  CHECK(read_file(root / "b.txt") == "b");
  CHECK(dav(two.port(), "PUT", "/b.txt", {"If: (<" + b_token + ">)"}, "two").status / 100 == 2);
  CHECK(read_file(root / "b.txt") == "two");
  // Unlocked on one, free on the other.
  CHECK(dav(two.port(), "UNLOCK", "/b.txt", {"Lock-Token: <" + b_token + ">"}).status == 204);
  CHECK(dav(one.port(), "PUT", "/b.txt", {}, "one").status / 100 == 2);
  CHECK(read_file(root / "b.txt") == "one");
}

TEST_CASE("expired lock files are swept at start and every --lock-sweep; live ones stay") {
  TempDir root;
  root.write("short.txt", "s");
  root.write("long.txt", "l");
  {
    ServerProcess first(root.path());
    REQUIRE(dav(first.port(), "LOCK", "/short.txt", {"Timeout: Second-1"}, lockinfo()).status ==
            200);
    REQUIRE(dav(first.port(), "LOCK", "/long.txt", {}, lockinfo()).status == 200);
    CHECK(first.stop() == 0);
  }
  REQUIRE(lock_files(root.path()).size() == 2);
  std::this_thread::sleep_for(std::chrono::milliseconds(2100));
  // Nothing asks about the expired lock: the sweep at start removes it.
  ServerProcess second(root.path(), {"--lock-sweep", "0.2"});
  wait_until([&] { return lock_files(root.path()).size() == 1; }, "the expired lock is swept");
  CHECK(dav(second.port(), "PUT", "/long.txt", {}, "no token").status == 423);
  // And while the server runs: nothing looks at short.txt again after locking it.
  REQUIRE(dav(second.port(), "LOCK", "/short.txt", {"Timeout: Second-1"}, lockinfo()).status ==
          200);
  REQUIRE(lock_files(root.path()).size() == 2);
  wait_until([&] { return lock_files(root.path()).size() == 1; }, "the running server sweeps");
  CHECK(dav(second.port(), "PUT", "/long.txt", {}, "no token").status == 423);
  CHECK(dav(second.port(), "PUT", "/short.txt", {}, "free").status / 100 == 2);
}

TEST_CASE("two servers asked for the same lock at once: exactly one grants it") {
  TempDir root;
  ServerProcess one(root.path()), two(root.path());
  for (int i = 0; i < 20; ++i) {
    const std::string path = "/race-" + std::to_string(i) + ".txt";
    int first = 0;
    std::thread other([&] { first = dav(one.port(), "LOCK", path, {}, lockinfo()).status; });
    const int second = dav(two.port(), "LOCK", path, {}, lockinfo()).status;
    other.join();
    INFO(path << ": " << first << " and " << second);
    CHECK((first / 100 == 2) + (second / 100 == 2) == 1);
    CHECK((first == 423 || second == 423));
  }
  CHECK(lock_files(root.path()).size() == 20);
}

TEST_CASE("dead properties travel with MOVE and COPY; Win32 properties; protected ones 403") {
  TempDir root;
  root.write("file.txt", "content");
  ServerProcess server(root.path());
  const int port = server.port();
  const std::string ns = "urn:example:webdav-test";
  const std::string ask = propfind_props(ns, "<Z:color/>");

  Response r =
      dav(port, "PROPPATCH", "/file.txt", {}, proppatch_set(ns, "<Z:color>blue</Z:color>"));
  REQUIRE(r.status == 207);
  CHECK(propstat_status(r.body, "color") == 200);
  r = dav(port, "PROPFIND", "/file.txt", {"Depth: 0"}, ask);
  CHECK(propstat_status(r.body, "color") == 200);
  CHECK(contains(r.body, ">blue<"));

  SUBCASE("MOVE") {
    REQUIRE(dav(port, "MOVE", "/file.txt", {"Destination: /moved.txt"}).status == 201);
    r = dav(port, "PROPFIND", "/moved.txt", {"Depth: 0"}, ask);
    CHECK(r.status == 207);
    CHECK(propstat_status(r.body, "color") == 200);
    CHECK(contains(r.body, ">blue<"));
    CHECK(dav(port, "PROPFIND", "/file.txt", {"Depth: 0"}, ask).status == 404);

    // A collection's own properties and its members' move with it.
    root.write("dir/member.txt", "m");
    REQUIRE(
        dav(port, "PROPPATCH", "/dir/", {}, proppatch_set(ns, "<Z:color>green</Z:color>")).status ==
        207);
    REQUIRE(
        dav(port, "PROPPATCH", "/dir/member.txt", {}, proppatch_set(ns, "<Z:color>red</Z:color>"))
            .status == 207);
    REQUIRE(dav(port, "MOVE", "/dir/", {"Destination: /dir-moved/"}).status == 201);
    r = dav(port, "PROPFIND", "/dir-moved/", {"Depth: 1"}, ask);
    CHECK(r.status == 207);
    CHECK(count(r.body, "<D:response>") == 2);
    CHECK(contains(r.body, ">green<"));
    CHECK(contains(r.body, ">red<"));
  }

  SUBCASE("COPY") {
    REQUIRE(dav(port, "COPY", "/file.txt", {"Destination: /copy.txt"}).status == 201);
    for (const char* path : {"/file.txt", "/copy.txt"}) {
      INFO(std::string(path));
      r = dav(port, "PROPFIND", path, {"Depth: 0"}, ask);
      CHECK(r.status == 207);
      CHECK(propstat_status(r.body, "color") == 200);
      CHECK(contains(r.body, ">blue<"));
    }
    // Copied over a file with properties of its own: the copy has the source's, only.
    root.write("other.txt", "o");
    REQUIRE(dav(port, "PROPPATCH", "/other.txt", {}, proppatch_set(ns, "<Z:shape>square</Z:shape>"))
                .status == 207);
    REQUIRE(dav(port, "COPY", "/file.txt", {"Destination: /other.txt"}).status == 204);
    r = dav(port, "PROPFIND", "/other.txt", {"Depth: 0"},
            propfind_props(ns, "<Z:color/><Z:shape/>"));
    CHECK(contains(r.body, ">blue<"));
    CHECK(propstat_status(r.body, "shape") == 404);
    CHECK(read_file(root / "other.txt") == "content");

    // A copy of a collection copies its members' properties too.
    root.mkdir("dir");
    REQUIRE(dav(port, "MOVE", "/copy.txt", {"Destination: /dir/inner.txt"}).status == 201);
    REQUIRE(dav(port, "COPY", "/dir/", {"Destination: /dir2/"}).status == 201);
    r = dav(port, "PROPFIND", "/dir2/inner.txt", {"Depth: 0"}, ask);
    CHECK(propstat_status(r.body, "color") == 200);
    CHECK(contains(r.body, ">blue<"));
  }

  SUBCASE("Win32 properties as Windows sets them") {
    const std::string win = "urn:schemas-microsoft-com:";
    r = dav(port, "PROPPATCH", "/file.txt", {},
            proppatch_set(win,
                          "<Z:Win32CreationTime>Sat, 01 Jan 2022 10:00:00 GMT</Z:Win32CreationTime>"
                          "<Z:Win32LastAccessTime>Sun, 02 Jan 2022 11:00:00 GMT"
                          "</Z:Win32LastAccessTime>"
                          "<Z:Win32LastModifiedTime>Mon, 03 Jan 2022 12:00:00 GMT"
                          "</Z:Win32LastModifiedTime>"
                          "<Z:Win32FileAttributes>00000020</Z:Win32FileAttributes>"));
    CHECK(r.status == 207);
    for (const char* p : {"Win32CreationTime", "Win32LastAccessTime", "Win32LastModifiedTime",
                          "Win32FileAttributes"}) {
      INFO(std::string(p));
      CHECK(propstat_status(r.body, p) == 200);
    }
    CHECK(count(r.body, "<D:propstat>") == 1);
    r = dav(port, "PROPFIND", "/file.txt", {"Depth: 0"},
            propfind_props(win, "<Z:Win32LastModifiedTime/><Z:Win32FileAttributes/>"));
    CHECK(propstat_status(r.body, "Win32LastModifiedTime") == 200);
    CHECK(contains(r.body, ">Mon, 03 Jan 2022 12:00:00 GMT<"));
    CHECK(contains(r.body, ">00000020<"));
    // allprop lists them too, beside the earlier one.
    r = dav(port, "PROPFIND", "/file.txt", {"Depth: 0"});
    CHECK(contains(r.body, "Win32CreationTime"));
    CHECK(contains(r.body, ">blue<"));
  }

  SUBCASE("a protected live property: 403, the others 424, nothing changed") {
    const std::string xattr_before = xattr_of(root / "file.txt");
    const std::string etag = get(port, "/file.txt").header("ETag");
    r = dav(port, "PROPPATCH", "/file.txt", {},
            std::string(kXmlDecl) + "<D:propertyupdate xmlns:D=\"DAV:\" xmlns:Z=\"" + ns +
                "\"><D:set><D:prop><Z:color>red</Z:color><D:getetag>\"forged\"</D:getetag>"
                "<Z:size>big</Z:size></D:prop></D:set><D:remove><D:prop><Z:color/></D:prop>"
                "</D:remove></D:propertyupdate>");
    CHECK(r.status == 207);
    CHECK(propstat_status(r.body, "getetag") == 403);
    CHECK(propstat_status(r.body, "color") == 424);
    CHECK(propstat_status(r.body, "size") == 424);
    CHECK(contains(r.body, "cannot-modify-protected-property"));
    CHECK(xattr_of(root / "file.txt") == xattr_before);
    CHECK(get(port, "/file.txt").header("ETag") == etag);
    r = dav(port, "PROPFIND", "/file.txt", {"Depth: 0"}, propfind_props(ns, "<Z:color/><Z:size/>"));
    CHECK(contains(r.body, ">blue<"));
    CHECK(propstat_status(r.body, "size") == 404);
  }
}

// A listing remembers which files had no dead properties (by device, inode and ctime); a
// property set by another server on the same tree moves the ctime, so the next listing
// shows it. Allprop lists dead properties with the live ones.
TEST_CASE("a Depth-1 listing shows properties another server just set, and a link's target's") {
  TempDir root;
  root.write("dir/a.txt", "a");
  root.write("dir/b.txt", "b");
  REQUIRE(::symlink("a.txt", (root / "dir/link.txt").c_str()) == 0);
  ServerProcess lister(root.path()), writer(root.path());
  // Settled ctimes (older than the margin), so that the first listing notes both files.
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  auto listing = [&] {
    Response r = dav(lister.port(), "PROPFIND", "/dir/", {"Depth: 1"});
    REQUIRE(r.status == 207);
    return r.body;
  };
  // The answer for one href, from <D:response><D:href>href</D:href> to its end.
  auto entry = [](const std::string& body, const std::string& href) {
    const std::size_t at = body.find("<D:href>" + href + "</D:href>");
    if (at == std::string::npos) return std::string();
    return body.substr(at, body.find("</D:response>", at) - at);
  };
  for (int round = 0; round < 2; ++round) CHECK(!contains(listing(), "urn:x-test"));
  Response r = dav(writer.port(), "PROPPATCH", "/dir/a.txt", {},
                   proppatch_set("urn:x-test", "<Z:colour>blue</Z:colour>"));
  REQUIRE(r.status == 207);
  REQUIRE(propstat_status(r.body, "colour") == 200);
  const std::string after = listing();
  CHECK(contains(entry(after, "/dir/a.txt"), "blue</"));
  CHECK(contains(entry(after, "/dir/link.txt"), "blue</"));
  CHECK(!contains(entry(after, "/dir/b.txt"), "blue</"));
  // And removed again: gone from the next listing too.
  r = dav(writer.port(), "PROPPATCH", "/dir/a.txt", {},
          std::string(kXmlDecl) +
              "<D:propertyupdate xmlns:D=\"DAV:\" xmlns:Z=\"urn:x-test\"><D:remove><D:prop>"
              "<Z:colour/></D:prop></D:remove></D:propertyupdate>");
  REQUIRE(r.status == 207);
  CHECK(!contains(listing(), "blue</"));
}
