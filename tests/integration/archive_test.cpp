// Folder downloads (GET /dir/?download=zip|tar) against the real server, judged by real
// archivers: unzip, 7z, bsdtar, GNU tar and python's zipfile and tarfile read, test and extract
// what curl and raw sockets download, and every name and byte is compared with the tree on
// disk. Then what a download meets on the way: its validators (Content-Length, HEAD, a strong
// ETag, 304), a cut connection resumed with Range and If-Range, 70 000 entries (ZIP64) in
// bounded server memory, a file that changes size while it streams, and the refusals.
//
// A tool that is not installed (scripts/lib.sh brings them) is named in a MESSAGE and its
// checks are left out; python3 is required.
#include <arpa/inet.h>
#include <doctest/doctest.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <random>
#include <regex>
#include <set>
#include <sstream>
#include <thread>

#include "support/http_client.hpp"
#include "support/vectors.hpp"
#include "support/wait.hpp"

using namespace httpfs::test;
using nlohmann::json;
namespace fs = std::filesystem;

namespace {

// ---- small helpers ------------------------------------------------------------------------

bool contains(std::string_view hay, std::string_view needle) {
  return hay.find(needle) != std::string_view::npos;
}

std::string tail(const std::string& s, std::size_t n = 2000) {
  return s.size() <= n ? s : "..." + s.substr(s.size() - n);
}

// The tools print names in UTF-8 only in a UTF-8 locale.
const std::vector<std::string> kUtf8Env = {"LC_ALL=C.UTF-8"};

// A program on PATH, or "" when it is not installed.
std::string tool(const std::string& name) {
  const char* env = std::getenv("PATH");
  std::stringstream dirs(env != nullptr && *env != '\0' ? env : "/usr/local/bin:/usr/bin:/bin");
  std::string dir;
  while (std::getline(dirs, dir, ':')) {
    if (dir.empty()) continue;
    const std::string full = dir + "/" + name;
    struct stat st {};
    if (::stat(full.c_str(), &st) == 0 && S_ISREG(st.st_mode) && ::access(full.c_str(), X_OK) == 0)
      return full;
  }
  return {};
}

// The tool, or "" after a MESSAGE that its checks are skipped.
std::string tool_or_skip(const std::string& name, const std::string& package) {
  std::string t = tool(name);
  if (t.empty())
    MESSAGE(name << " is not installed (Debian package " << package << "): its checks are skipped");
  return t;
}

std::string python() {
  std::string p = tool("python3");
  REQUIRE_MESSAGE(!p.empty(), "python3 is required");
  return p;
}

// An HTTP-date, formatted here (not by the server's code).
std::string http_date(std::time_t t) {
  std::tm tm{};
  ::gmtime_r(&t, &tm);
  static const char* const kDays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  static const char* const kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                        "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  char buf[64];
  std::snprintf(buf, sizeof buf, "%s, %02d %s %04d %02d:%02d:%02d GMT", kDays[tm.tm_wday],
                tm.tm_mday, kMonths[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min,
                tm.tm_sec);
  return buf;
}

void set_mtime(const std::string& path, std::time_t sec, long nsec = 0) {
  timespec ts[2] = {{sec, nsec}, {sec, nsec}};
  REQUIRE_MESSAGE(::utimensat(AT_FDCWD, path.c_str(), ts, AT_SYMLINK_NOFOLLOW) == 0, path);
}

// Every entry under `dir` (symlinks themselves, not followed) gets modification time `t`.
void set_all_mtimes(const std::string& dir, std::time_t t) {
  for (auto it = fs::recursive_directory_iterator(dir); it != fs::recursive_directory_iterator();
       ++it)
    set_mtime(it->path().string(), t);
  set_mtime(dir, t);
}

void append_file(const std::string& path, const std::string& bytes) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_APPEND);
  REQUIRE(fd >= 0);
  REQUIRE(::write(fd, bytes.data(), bytes.size()) == static_cast<ssize_t>(bytes.size()));
  ::close(fd);
}

std::uint64_t content_length(const Response& r) {
  const std::string v = r.header("Content-Length");
  REQUIRE_MESSAGE(!v.empty(), "no Content-Length (status " << r.status << ")");
  return std::stoull(v);
}

// ---- HTTP -----------------------------------------------------------------------------------

// One request with "Connection: close", read until the server closes: the head parsed, and in
// `body` every byte that came after it, so a body shorter or longer than its Content-Length
// shows. `closed` is false when the server kept the connection open past the timeout.
struct Fetched {
  Response r;
  bool closed = false;
};

Fetched fetch_raw(int port, std::string_view target, const std::vector<std::string>& headers = {},
                  std::string_view method = "GET") {
  std::string raw = std::string(method) + " " + std::string(target) +
                    " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n";
  for (const std::string& h : headers) raw += h + "\r\n";
  raw += "\r\n";
  RawConnection c(port);
  REQUIRE(c.send(raw));
  Fetched f;
  f.closed = c.wait_closed(60s);
  const std::string& got = c.buffered();
  const std::size_t end = got.find("\r\n\r\n");
  REQUIRE_MESSAGE(end != std::string::npos,
                  "no response head for " << method << " " << target << ": " << tail(got, 300));
  auto head = parse_response(got.substr(0, end + 4), httpfs::http::Method::Head);
  REQUIRE_MESSAGE(head.has_value(), "malformed head: " << got.substr(0, end));
  f.r = std::move(*head);
  f.r.body = got.substr(end + 4);
  return f;
}

Response fetch(int port, std::string_view target, const std::vector<std::string>& headers = {},
               std::string_view method = "GET") {
  Fetched f = fetch_raw(port, target, headers, method);
  CHECK_MESSAGE(f.closed, "the server did not close after " << method << " " << target);
  return f.r;
}

// A whole archive: 200, and exactly Content-Length bytes.
Response download(int port, std::string_view target) {
  Response r = fetch(port, target);
  REQUIRE_MESSAGE(r.status == 200, target << ": " << r.status << " " << tail(r.body, 300));
  REQUIRE(r.body.size() == content_length(r));
  return r;
}

// The first `n` bytes of the body of a GET, after which the client goes away mid-stream (the
// connection is closed with the rest unread): an interrupted download.
std::string cut_download(int port, const std::string& target, std::size_t n) {
  RawConnection c(port);
  REQUIRE(c.send("GET " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"));
  std::string got;
  std::size_t body_at = std::string::npos;
  for (;;) {
    if (body_at == std::string::npos) {
      const std::size_t e = got.find("\r\n\r\n");
      if (e != std::string::npos) body_at = e + 4;
    }
    if (body_at != std::string::npos && got.size() >= body_at + n) break;
    pollfd p{c.fd(), POLLIN, 0};
    REQUIRE_MESSAGE(::poll(&p, 1, 30000) == 1, "nothing more arrived after " << got.size());
    char buf[65536];
    const ssize_t k = ::recv(c.fd(), buf, sizeof buf, 0);
    REQUIRE_MESSAGE(k > 0, "the server closed after " << got.size() << " bytes");
    got.append(buf, static_cast<std::size_t>(k));
  }
  REQUIRE_MESSAGE(got.starts_with("HTTP/1.1 200 "), got.substr(0, 100));
  return got.substr(body_at, n);
}

// ---- the expected tree ------------------------------------------------------------------------

// What an archive should hold: each name (directories end in '/') with its bytes (none for a
// directory).
using Tree = std::map<std::string, std::optional<std::string>>;

// name -> "dir", "file <sha256>", "symlink" or "other": what is compared.
using Digests = std::map<std::string, std::string>;

Digests digests(const Tree& t) {
  Digests out;
  for (const auto& [name, content] : t)
    out[name] = content ? "file " + sha256_hex(*content) : "dir";
  return out;
}

// What differs, one line per name, for a failure message; "" when equal.
std::string difference(const Digests& want, const Digests& got) {
  std::string out;
  for (const auto& [name, v] : want) {
    auto it = got.find(name);
    if (it == got.end())
      out += "missing: " + name + " (" + v.substr(0, 20) + ")\n";
    else if (it->second != v)
      out += "differs: " + name + " (want " + v.substr(0, 20) + ", got " +
             it->second.substr(0, 20) + ")\n";
  }
  for (const auto& [name, v] : got)
    if (!want.contains(name)) out += "extra: " + name + " (" + v.substr(0, 20) + ")\n";
  return tail(out, 3000);
}

// Removes the names listed in `optional_dirs` when they are (empty) directories: a link to
// an ancestor may be left out or appear as an empty directory, nothing more.
void drop_optional(Digests& d, const std::set<std::string>& optional_dirs) {
  for (const std::string& name : optional_dirs) {
    auto it = d.find(name);
    if (it != d.end() && it->second == "dir") d.erase(it);
  }
}

// What an extracted tree holds, named as in an archive.
Digests read_tree(const std::string& dir) {
  Digests out;
  for (auto it = fs::recursive_directory_iterator(dir); it != fs::recursive_directory_iterator();
       ++it) {
    const std::string rel = fs::relative(it->path(), dir).string();
    if (it->is_symlink())
      out[rel] = "symlink";
    else if (it->is_directory())
      out[rel + "/"] = "dir";
    else if (it->is_regular_file())
      out[rel] = "file " + sha256_hex(read_file(it->path().string()));
    else
      out[rel] = "other";
  }
  return out;
}

// The order the archive must have: depth first, each directory before its members, the
// members of each directory in byte order of their names.
std::vector<std::string> archive_order(std::vector<std::string> names) {
  auto components = [](const std::string& name) {
    std::vector<std::string> out;
    std::string n = name;
    if (!n.empty() && n.back() == '/') n.pop_back();
    std::size_t at = 0;
    for (;;) {
      const std::size_t slash = n.find('/', at);
      out.push_back(n.substr(at, slash - at));
      if (slash == std::string::npos) break;
      at = slash + 1;
    }
    return out;
  };
  std::stable_sort(names.begin(), names.end(), [&](const std::string& a, const std::string& b) {
    return components(a) < components(b);
  });
  return names;
}

std::string strip_slash(std::string s) {
  while (!s.empty() && s.back() == '/') s.pop_back();
  return s;
}

// ---- python's zipfile and tarfile as judges -----------------------------------------------

// Reads every member (zipfile's read() checks each CRC-32), prints them as JSON in archive
// order, and extracts everything into argv[3] unless it is "-".
constexpr const char* kPythonJudge = R"PY(
import hashlib, json, stat, sys, tarfile, zipfile
kind, path, dest = sys.argv[1], sys.argv[2], sys.argv[3]
members = []
info = {}
if kind == 'zip':
    with zipfile.ZipFile(path) as z:
        for i in z.infolist():
            mode = (i.external_attr >> 16) & 0o170000
            isdir = i.is_dir()
            t = 'dir' if isdir else ('symlink' if mode == stat.S_IFLNK else 'file')
            data = b'' if isdir else z.read(i)
            members.append({'name': i.filename, 'type': t,
                            'sha256': hashlib.sha256(data).hexdigest(),
                            'utf8': bool(i.flag_bits & 0x800),
                            'descriptor': bool(i.flag_bits & 0x8),
                            'stored': i.compress_type == zipfile.ZIP_STORED})
        if dest != '-':
            z.extractall(dest)
else:
    with tarfile.open(path, 'r:') as t:
        for m in t.getmembers():
            ty = ('dir' if m.isdir() else 'file' if m.isfile() else
                  'symlink' if m.issym() else 'other')
            data = t.extractfile(m).read() if m.isfile() else b''
            members.append({'name': m.name, 'type': ty,
                            'sha256': hashlib.sha256(data).hexdigest(),
                            'mtime': int(m.mtime), 'pax': sorted(m.pax_headers.keys())})
        if dest != '-':
            try:
                t.extractall(dest, filter='data')
            except TypeError:
                t.extractall(dest)
sys.stdout.write(json.dumps({'members': members}))  # one write: json.dump makes millions
)PY";

struct Member {
  std::string name;  // normalised: a directory ends in '/'
  std::string type;
  json raw;
};

// python's verdict, or nullopt with its complaint in `why` when it refuses the archive.
std::optional<std::vector<Member>> python_read(const std::string& kind, const std::string& file,
                                               const std::string& dest,
                                               std::string* why = nullptr) {
  const RunResult r = run({python(), "-c", kPythonJudge, kind, file, dest}, 120s);
  if (r.status != 0) {
    if (why != nullptr) *why = tail(r.err, 1500);
    return std::nullopt;
  }
  std::vector<Member> out;
  const json parsed = json::parse(r.out);  // kept: a range-for over a temporary's part dangles
  for (const json& m : parsed["members"]) {
    Member x;
    x.type = m["type"];
    x.name = strip_slash(m["name"].get<std::string>()) + (x.type == "dir" ? "/" : "");
    x.raw = m;
    out.push_back(std::move(x));
  }
  return out;
}

Digests digests(const std::vector<Member>& members) {
  Digests out;
  for (const Member& m : members)
    out[m.name] = m.type == "file" ? "file " + m.raw["sha256"].get<std::string>() : m.type;
  return out;
}

// ---- the checks of one archive ------------------------------------------------------------

struct Expect {
  Tree tree;
  std::set<std::string> optional_dirs;  // may be absent or an empty directory
  bool extract = true;                  // have the tools extract everything (not for 70 000)
};

// The set of names (without trailing slashes) a listing tool printed, one per line.
std::set<std::string> listed(const std::string& out) {
  std::set<std::string> names;
  std::stringstream ss(out);
  std::string line;
  while (std::getline(ss, line))
    if (!line.empty()) names.insert(strip_slash(line));
  return names;
}

std::set<std::string> stripped_names(const Expect& e) {
  std::set<std::string> out;
  for (const auto& [name, content] : e.tree) out.insert(strip_slash(name));
  return out;
}

std::string describe_sets(const std::set<std::string>& want, const std::set<std::string>& got) {
  std::string out;
  for (const std::string& n : want)
    if (!got.contains(n)) out += "missing: " + n + "\n";
  for (const std::string& n : got)
    if (!want.contains(n)) out += "extra: " + n + "\n";
  return tail(out, 3000);
}

void drop_optional(std::set<std::string>& names, const std::set<std::string>& optional_dirs) {
  for (const std::string& n : optional_dirs) names.erase(strip_slash(n));
}

void check_extracted(const std::string& who, const std::string& dest, const Expect& e) {
  Digests got = read_tree(dest);
  drop_optional(got, e.optional_dirs);
  const std::string diff = difference(digests(e.tree), got);
  CHECK_MESSAGE(diff.empty(), who << " extracted something else:\n" << diff);
}

// Judges the archive in `file` ("zip" or "tar") against `e` with python and every tool there
// is. `scratch` is an empty directory for the extractions.
void check_archive(const std::string& kind, const std::string& file, const Expect& e,
                   const std::string& scratch) {
  CAPTURE(kind);
  const std::size_t n = e.tree.size();

  // python: every member read (each CRC-32 checked), names, types and bytes, order.
  {
    const std::string dest = e.extract ? scratch + "/python" : "-";
    std::string why;
    const auto members = python_read(kind, file, dest, &why);
    REQUIRE_MESSAGE(members.has_value(), "python's " << kind << "file refuses it:\n" << why);
    Digests got = digests(*members);
    CHECK_MESSAGE(got.size() == members->size(), "a name appears twice");
    drop_optional(got, e.optional_dirs);
    const std::string diff = difference(digests(e.tree), got);
    CHECK_MESSAGE(diff.empty(), "python's " << kind << "file reads something else:\n" << diff);
    std::vector<std::string> order;
    for (const Member& m : *members)
      if (!(e.optional_dirs.contains(m.name) && m.type == "dir")) order.push_back(m.name);
    CHECK_MESSAGE(order == archive_order(order), "members out of order");
    for (const Member& m : *members) {
      CAPTURE(m.name);
      if (kind == "zip") {
        CHECK(m.raw["stored"] == true);
        // A non-ASCII name is flagged UTF-8 (bit 11); a file with bytes has a data descriptor.
        if (std::any_of(m.name.begin(), m.name.end(), [](char c) { return (c & 0x80) != 0; }))
          CHECK(m.raw["utf8"] == true);
        if (m.type == "file" && m.raw["sha256"] != sha256_hex(""))
          CHECK(m.raw["descriptor"] == true);
      } else if (strip_slash(m.name).size() > 100) {
        // A name longer than the ustar field: a pax "path" record (POSIX), not a GNU long name.
        const auto& pax = m.raw["pax"];
        CHECK(std::find(pax.begin(), pax.end(), "path") != pax.end());
      }
    }
    if (e.extract) check_extracted("python", dest, e);
  }

  if (kind == "zip") {
    if (const std::string unzip = tool_or_skip("unzip", "unzip"); !unzip.empty()) {
      const RunResult t = run({unzip, "-t", file}, 120s, std::nullopt, kUtf8Env);
      CHECK_MESSAGE(t.status == 0, "unzip -t: " << tail(t.out) << t.err);
      CHECK_MESSAGE(contains(t.out, "No errors detected"), tail(t.out));
      const RunResult l = run({unzip, "-l", file}, 120s, std::nullopt, kUtf8Env);
      CHECK_MESSAGE(l.status == 0, l.err);
      std::smatch m;
      const std::string last = tail(l.out, 200);
      REQUIRE_MESSAGE(std::regex_search(last, m, std::regex(R"((\d+) files?\s*$)")), last);
      const std::size_t count = std::stoul(m[1]);
      CHECK_MESSAGE((count >= n && count <= n + e.optional_dirs.size()),
                    "unzip -l counts " << count << ", the tree has " << n);
      if (e.extract) {
        const std::string dest = scratch + "/unzip";
        const RunResult x = run({unzip, "-q", file, "-d", dest}, 120s, std::nullopt, kUtf8Env);
        CHECK_MESSAGE(x.status == 0, "unzip: " << tail(x.out) << x.err);
        check_extracted("unzip", dest, e);
      }
    }
  } else if (e.extract) {
    if (const std::string tar = tool_or_skip("tar", "tar"); !tar.empty()) {
      const std::string dest = scratch + "/gnutar";
      fs::create_directories(dest);
      const RunResult x =
          run({tar, "--no-same-owner", "-xf", file, "-C", dest}, 120s, std::nullopt, kUtf8Env);
      CHECK_MESSAGE(x.status == 0, "GNU tar: " << x.err);
      CHECK_MESSAGE(x.err.empty(), "GNU tar warns: " << x.err);
      check_extracted("GNU tar", dest, e);
    }
  }

  if (const std::string sz = tool_or_skip("7z", "p7zip-full"); !sz.empty()) {
    const RunResult t = run({sz, "t", file}, 120s, std::nullopt, kUtf8Env);
    CHECK_MESSAGE(t.status == 0, "7z t: " << tail(t.out) << t.err);
    CHECK_MESSAGE(contains(t.out, "Everything is Ok"), tail(t.out));
  }

  if (const std::string bsdtar = tool_or_skip("bsdtar", "libarchive-tools"); !bsdtar.empty()) {
    const RunResult l = run({bsdtar, "-tf", file}, 120s, std::nullopt, kUtf8Env);
    CHECK_MESSAGE(l.status == 0, "bsdtar -tf: " << l.err);
    std::set<std::string> got = listed(l.out);
    drop_optional(got, e.optional_dirs);
    const std::string diff = describe_sets(stripped_names(e), got);
    CHECK_MESSAGE(diff.empty(), "bsdtar lists something else:\n" << diff);
    if (e.extract) {
      const std::string dest = scratch + "/bsdtar";
      fs::create_directories(dest);
      const RunResult x = run({bsdtar, "-xf", file, "-C", dest}, 120s, std::nullopt, kUtf8Env);
      CHECK_MESSAGE(x.status == 0, "bsdtar -x: " << x.err);
      check_extracted("bsdtar", dest, e);
    }
  }
}

// ---- the trees --------------------------------------------------------------------------------

constexpr std::time_t kOldTime = 1600000000;  // 2020-09-13T12:26:40Z

// Everything the listing rules decide about, under root/tree, with outside/ beside it. Returns
// what ?download= must hold without --show-hidden; `hidden` gets what --show-hidden adds.
Expect make_rich_tree(const TempDir& root, const std::string& outside, Tree& hidden) {
  Expect e;
  Tree& t = e.tree;
  auto file = [&](const std::string& rel, const std::string& content) {
    root.write("tree/" + rel, content);
    t[rel] = content;
  };
  auto dir = [&](const std::string& rel) {
    root.mkdir("tree/" + rel);
    t[rel + "/"] = std::nullopt;
  };
  const std::string big = random_bytes(3u << 20, 11);
  const std::string long_name = std::string(146, 'L') + ".txt";  // 150 bytes
  REQUIRE(long_name.size() == 150);

  file("a.txt", "hello, archive\n");
  file("empty.txt", "");
  file("big.bin", big);
  dir("café");
  file("café/naïve ✓.txt", "naïve ✓ content\n");
  file("日本語.txt", "日本語のテキスト\n");
  dir("empty-dir");
  dir("sub");
  dir("sub/deep");
  dir("sub/deep/empty-nested");
  file("sub/deep/file.txt", "deep\n");
  file("sub/deep/" + long_name, "a long name\n");
  file("sub-x.txt", "after sub/ and all in it\n");  // '-' < '/': a whole-path sort differs
  // A symlink to a file inside: a file in the archive.
  REQUIRE(::symlink("sub/deep/file.txt", (root / "tree/link-to-file").c_str()) == 0);
  t["link-to-file"] = "deep\n";
  // A symlink to a directory inside: entered like that directory.
  REQUIRE(::symlink("sub/deep", (root / "tree/linked-dir").c_str()) == 0);
  t["linked-dir/"] = std::nullopt;
  t["linked-dir/empty-nested/"] = std::nullopt;
  t["linked-dir/file.txt"] = "deep\n";
  t["linked-dir/" + long_name] = "a long name\n";
  // A symlink to an ancestor: no loop (absent, or at most an empty directory).
  REQUIRE(::symlink("..", (root / "tree/sub/loop").c_str()) == 0);
  e.optional_dirs.insert("sub/loop/");
  // Symlinks out of the root, and one to nothing: absent.
  REQUIRE(::symlink((outside + "/secret.txt").c_str(), (root / "tree/out-file").c_str()) == 0);
  REQUIRE(::symlink(outside.c_str(), (root / "tree/out-dir").c_str()) == 0);
  REQUIRE(::symlink("no-such-file", (root / "tree/dangling").c_str()) == 0);
  // A FIFO: neither a file nor a directory, absent (and reading it would block).
  REQUIRE(::mkfifo((root / "tree/fifo").c_str(), 0644) == 0);
  // Dotfiles: only with --show-hidden.
  root.write("tree/.hidden", "dot secret\n");
  root.write("tree/.hiddendir/x.txt", "in a hidden dir\n");
  root.write("tree/sub/.also-hidden", "nested dot\n");
  hidden[".hidden"] = "dot secret\n";
  hidden[".hiddendir/"] = std::nullopt;
  hidden[".hiddendir/x.txt"] = "in a hidden dir\n";
  hidden["sub/.also-hidden"] = "nested dot\n";

  set_all_mtimes(root / "tree", kOldTime);
  return e;
}

// `dirs` directories of `per_dir` files each under root/rel (fNN: a quarter empty, the rest
// 800 B to 2.4 KB). Each fNN is a hard link to root/sources/fNN (outside rel): to the server
// a regular file like any other, and made in well under a second where creating as many
// inodes can take half a minute (ext4 with discard, after another big tree went).
Tree make_many(const TempDir& root, const std::string& rel, int dirs, int per_dir) {
  std::vector<std::string> sources;
  for (int f = 0; f < per_dir; ++f) {
    const std::size_t size = f % 4 == 0 ? 0 : 800 + static_cast<std::size_t>(f * 131 % 1600);
    std::string content = random_bytes(size, static_cast<unsigned>(f));
    root.write("sources/f" + std::to_string(f), content);
    sources.push_back(std::move(content));
  }
  Tree t;
  root.mkdir(rel);
  bool made = true;
  for (int d = 0; d < dirs; ++d) {
    char dname[32];
    std::snprintf(dname, sizeof dname, "d%03d", d);
    const std::string dpath = root / (rel + "/" + dname);
    made &= ::mkdir(dpath.c_str(), 0755) == 0;
    t[std::string(dname) + "/"] = std::nullopt;
    for (int f = 0; f < per_dir; ++f) {
      char fname[32];
      std::snprintf(fname, sizeof fname, "f%02d", f);
      const std::string source = root / ("sources/f" + std::to_string(f));
      made &= ::link(source.c_str(), (dpath + "/" + fname).c_str()) == 0;
      t[std::string(dname) + "/" + fname] = sources[static_cast<std::size_t>(f)];
    }
  }
  REQUIRE_MESSAGE(made, "cannot make the tree: " << std::strerror(errno));
  return t;
}

// ---- ZIP structure ------------------------------------------------------------------------------

std::uint64_t le(const std::string& s, std::size_t at, int bytes) {
  REQUIRE(at + static_cast<std::size_t>(bytes) <= s.size());
  std::uint64_t v = 0;
  for (int i = bytes - 1; i >= 0; --i)
    v = (v << 8) | static_cast<unsigned char>(s[at + static_cast<std::size_t>(i)]);
  return v;
}

struct ZipEnd {
  std::uint64_t cd_offset = 0, cd_size = 0, entries = 0;
  bool zip64 = false;
};

// The central directory's place and the entry count, from the end records (ZIP64 ones when
// the classic record says so).
ZipEnd zip_end(const std::string& zip) {
  const std::size_t eocd = zip.rfind(std::string("PK\x05\x06", 4));
  REQUIRE_MESSAGE(eocd != std::string::npos, "no end of central directory record");
  ZipEnd z;
  z.entries = le(zip, eocd + 10, 2);
  z.cd_size = le(zip, eocd + 12, 4);
  z.cd_offset = le(zip, eocd + 16, 4);
  if (z.entries == 0xFFFF || z.cd_size == 0xFFFFFFFF || z.cd_offset == 0xFFFFFFFF) {
    REQUIRE(eocd >= 20);
    REQUIRE_MESSAGE(zip.compare(eocd - 20, 4, "PK\x06\x07") == 0, "no ZIP64 end locator");
    const std::uint64_t rec = le(zip, eocd - 20 + 8, 8);
    REQUIRE(rec + 56 <= zip.size());
    REQUIRE_MESSAGE(zip.compare(rec, 4, "PK\x06\x06") == 0, "no ZIP64 end record at " << rec);
    z.zip64 = true;
    z.entries = le(zip, rec + 32, 8);
    z.cd_size = le(zip, rec + 40, 8);
    z.cd_offset = le(zip, rec + 48, 8);
  }
  REQUIRE(z.cd_offset + z.cd_size <= zip.size());
  return z;
}

std::mt19937_64 seeded_rng() {
  std::uint64_t seed = std::random_device{}();
  if (const char* s = std::getenv("HTTPFS_TEST_SEED")) seed = std::stoull(s);
  MESSAGE("random cuts from seed " << seed << " (HTTPFS_TEST_SEED to repeat)");
  return std::mt19937_64(seed);
}

std::size_t pick(std::mt19937_64& rng, std::size_t lo, std::size_t hi) {  // in [lo, hi]
  return std::uniform_int_distribution<std::size_t>(lo, hi)(rng);
}

const char* const kKinds[] = {"zip", "tar"};

}  // namespace

// ---- 1. the archive holds the tree -------------------------------------------------------------

TEST_CASE("zip and tar of a tree: every name and byte, judged by python, unzip, 7z, bsdtar, tar") {
  TempDir root, outside, scratch;
  outside.write("secret.txt", "outside the root\n");
  outside.write("secret-dir/y.txt", "also outside\n");
  Tree hidden;
  const Expect e = make_rich_tree(root, outside.path(), hidden);
  ServerProcess server(root.path());
  const int port = server.port();

  for (const std::string kind : kKinds) {
    CAPTURE(kind);
    const std::string dir = scratch / kind;
    fs::create_directories(dir);
    // curl, a real client, saves it.
    const std::string file = dir + "/tree." + kind;
    const RunResult c = curl({"-o", file, "-D", dir + "/head", "-w", "%{http_code}",
                              server.url("/tree/?download=" + kind)},
                             60s);
    REQUIRE_MESSAGE(c.status == 0, c.err);
    CHECK(c.out == "200");
    const std::string bytes = read_file(file);
    // The same bytes over a raw socket, with the head.
    const Response r = download(port, "/tree/?download=" + kind);
    CHECK(r.body.size() == bytes.size());
    CHECK_MESSAGE(r.body == bytes, "two downloads of an unchanged tree differ");
    CHECK(r.header("Content-Type") == (kind == "zip" ? "application/zip" : "application/x-tar"));
    CHECK(r.header("Content-Disposition") ==
          "attachment; filename=\"tree." + kind + "\"; filename*=UTF-8''tree." + kind);
    CHECK(r.header("Accept-Ranges") == "bytes");
    CHECK(r.header("Last-Modified") == http_date(kOldTime));
    check_archive(kind, file, e, dir);

    // tar keeps each member's modification time.
    if (kind == "tar") {
      const auto members = python_read("tar", file, "-");
      REQUIRE(members.has_value());
      for (const Member& m : *members) {
        CAPTURE(m.name);
        if (m.type == "file") CHECK(m.raw["mtime"] == kOldTime);
      }
    }
  }

  // With --show-hidden the dotfiles come too.
  server.stop();
  ServerProcess shown(root.path(), {"--show-hidden"});
  Expect with_hidden = e;
  for (const auto& [name, content] : hidden) with_hidden.tree[name] = content;
  for (const std::string kind : kKinds) {
    CAPTURE(kind);
    const std::string dir = scratch / (std::string("hidden-") + kind);
    fs::create_directories(dir);
    const Response r = download(shown.port(), "/tree/?download=" + kind);
    write_file(dir + "/tree." + kind, r.body);
    Expect quick = with_hidden;
    quick.extract = false;  // python compares every byte; the tools list
    check_archive(kind, dir + "/tree." + kind, quick, dir);
  }
}

TEST_CASE("the archive is named after its directory; the root is files; never the state dir") {
  TempDir root, scratch;
  root.write("café ☕/x.txt", "x\n");
  root.write("plain/y.txt", "y\n");
  root.write(".dot", "dot\n");
  root.write(".httpfs-state/note", "the server's own\n");
  ServerProcess server(root.path(), {"--show-hidden"});
  const int port = server.port();

  Response r = download(port, "/caf%C3%A9%20%E2%98%95/?download=zip");
  const std::string cd = r.header("Content-Disposition");
  CAPTURE(cd);
  // filename= is ASCII only (non-ASCII replaced by '_'); filename* has the real name.
  CHECK(std::regex_match(cd, std::regex("attachment; filename=\"caf_+ _+\\.zip\"; "
                                        "filename\\*=UTF-8''caf%C3%A9%20%E2%98%95\\.zip")));
  CHECK(std::all_of(cd.begin(), cd.end(), [](char ch) { return (ch & 0x80) == 0; }));

  for (const std::string kind : kKinds) {
    CAPTURE(kind);
    r = download(port, "/?download=" + kind);
    CHECK(r.header("Content-Disposition") ==
          "attachment; filename=\"files." + kind + "\"; filename*=UTF-8''files." + kind);
    const std::string file = scratch / ("root." + kind);
    write_file(file, r.body);
    const auto members = python_read(kind, file, "-");
    REQUIRE(members.has_value());
    Expect e;
    e.tree = {{".dot", "dot\n"},
              {"café ☕/", std::nullopt},
              {"café ☕/x.txt", "x\n"},
              {"plain/", std::nullopt},
              {"plain/y.txt", "y\n"}};
    const std::string diff = difference(digests(e.tree), digests(*members));
    CHECK_MESSAGE(diff.empty(), diff);
  }
  // Nor is the state directory an archive of its own.
  CHECK(fetch(port, "/.httpfs-state/?download=zip").status == 404);
}

// ---- 2. validators ------------------------------------------------------------------------------

TEST_CASE("exact Content-Length, HEAD, a strong ETag that follows the tree, 304, Last-Modified") {
  TempDir root;
  root.write("d/a.txt", "alpha");
  root.write("d/sub/b.txt", "bravo");
  root.mkdir("d/empty");
  constexpr std::time_t kT0 = 1700000000, kT1 = 1700000999;
  set_all_mtimes(root / "d", kT0);
  set_mtime(root / "d/sub/b.txt", kT1);  // the newest entry
  ServerProcess server(root.path());
  const int port = server.port();

  for (const std::string kind : kKinds) {
    CAPTURE(kind);
    const std::string target = "/d/?download=" + kind;
    // Exactly Content-Length bytes, then the server closes (Connection: close).
    Fetched f = fetch_raw(port, target);
    CHECK(f.closed);
    const Response g = f.r;
    REQUIRE(g.status == 200);
    CHECK(g.body.size() == content_length(g));
    CHECK(g.header("Accept-Ranges") == "bytes");
    CHECK(g.header("Last-Modified") == http_date(kT1));
    const std::string etag = g.header("ETag");
    CAPTURE(etag);
    CHECK_MESSAGE(std::regex_match(etag, std::regex("\"[\\x21\\x23-\\x7e]+\"")),
                  "not a strong entity tag");

    // HEAD: the same head, no body.
    const Response h = fetch(port, target, {}, "HEAD");
    CHECK(h.status == 200);
    CHECK(h.body.empty());
    auto without_date = [](const Response& x) {
      std::multiset<std::pair<std::string, std::string>> out;
      for (auto [n, v] : x.headers) {
        std::transform(n.begin(), n.end(), n.begin(), ::tolower);
        if (n != "date") out.emplace(n, v);
      }
      return out;
    };
    CHECK(without_date(h) == without_date(g));

    // Stable across requests.
    const Response g2 = download(port, target);
    CHECK(g2.header("ETag") == etag);
    CHECK(g2.body == g.body);

    // 304 for If-None-Match with it (and with its weak form: weak comparison).
    for (const std::string& inm : {etag, "W/" + etag, "\"other\", " + etag}) {
      CAPTURE(inm);
      const Response nm = fetch(port, target, {"If-None-Match: " + inm});
      CHECK(nm.status == 304);
      CHECK(nm.body.empty());
      CHECK(nm.header("ETag") == etag);
    }
    CHECK(fetch(port, target, {"If-None-Match: \"other\""}).status == 200);
  }

  // Each change to a file makes another ETag; unchanged, it stays.
  const std::string target = "/d/?download=zip";
  std::string previous = download(port, target).header("ETag");
  std::set<std::string> seen = {previous};
  auto etag_changes = [&](const std::string& what, std::time_t newest) {
    CAPTURE(what);
    const Response a = download(port, target);
    const Response b = download(port, target);
    const std::string etag = a.header("ETag");
    CHECK(b.header("ETag") == etag);
    CHECK_MESSAGE(!seen.contains(etag), "the ETag did not change after: " << what);
    CHECK(fetch(port, target, {"If-None-Match: " + previous}).status == 200);
    seen.insert(etag);
    previous = etag;
    CHECK(a.header("Last-Modified") == http_date(newest));
  };
  set_mtime(root / "d/a.txt", kT0 + 1);
  etag_changes("a.txt touched (mtime + 1 s)", kT1);
  set_mtime(root / "d/a.txt", kT0 + 1, 500000000);
  etag_changes("a.txt touched (mtime + 0.5 s, same second)", kT1);
  append_file(root / "d/a.txt", "!");
  set_mtime(root / "d/a.txt", kT0 + 1, 500000000);
  etag_changes("a.txt one byte longer, same mtime", kT1);
  REQUIRE(::rename((root / "d/sub/b.txt").c_str(), (root / "d/sub/c.txt").c_str()) == 0);
  set_mtime(root / "d/sub", kT0);
  etag_changes("b.txt renamed c.txt", kT1);
  set_mtime(root / "d/sub/c.txt", kT1 + 60);
  etag_changes("c.txt newer", kT1 + 60);
}

// ---- 3. ranges ----------------------------------------------------------------------------------

TEST_CASE("an interrupted download resumes with Range and If-Range, for zip and tar") {
  TempDir root, scratch;
  const std::string big = random_bytes(3u << 20, 23);
  root.write("r/big.bin", big);
  root.write("r/a.txt", "a\n");
  root.mkdir("r/empty");
  for (int i = 0; i < 60; ++i)  // a central directory of some size
    root.write("r/many/file-" + std::to_string(i) + ".txt", std::string(100 + i, 'm'));
  root.write("r/z.bin", random_bytes(100000, 29));
  ServerProcess server(root.path());
  const int port = server.port();
  std::mt19937_64 rng = seeded_rng();

  for (const std::string kind : kKinds) {
    CAPTURE(kind);
    const std::string target = "/r/?download=" + kind;
    const Response whole = download(port, target);
    const std::string& full = whole.body;
    const std::size_t size = full.size();
    const std::string etag = whole.header("ETag");
    REQUIRE(!etag.empty());
    // The archive itself is good (the resumed copies are compared with it byte for byte).
    write_file(scratch / ("full." + kind), full);
    REQUIRE(python_read(kind, scratch / ("full." + kind), "-").has_value());

    const std::size_t data_at = full.find(big.substr(0, 4096));
    REQUIRE(data_at != std::string::npos);
    std::vector<std::pair<std::string, std::size_t>> cuts = {
        {"inside big.bin's data", pick(rng, data_at + 1, data_at + big.size() - 1)},
        {"anywhere", pick(rng, 1, size - 1)},
        {"in the first headers", pick(rng, 1, std::min<std::size_t>(size - 1, 1500))},
        {"at the last byte", size - 1},
    };
    if (kind == "zip") {
      const ZipEnd z = zip_end(full);
      REQUIRE(z.cd_size > 2);
      cuts.emplace_back("inside the central directory",
                        pick(rng, z.cd_offset + 1, z.cd_offset + z.cd_size - 1));
    }
    for (const auto& cut : cuts) {
      // Not a structured binding: CAPTURE's lambda cannot capture one under clang 14.
      const auto& where = cut.first;
      const auto n = cut.second;
      CAPTURE(where);
      CAPTURE(n);
      const std::string prefix = cut_download(port, target, n);
      CHECK(prefix == full.substr(0, n));
      const Response rest =
          fetch(port, target, {"Range: bytes=" + std::to_string(n) + "-", "If-Range: " + etag});
      CHECK(rest.status == 206);
      CHECK(rest.header("Content-Range") == "bytes " + std::to_string(n) + "-" +
                                                std::to_string(size - 1) + "/" +
                                                std::to_string(size));
      CHECK(content_length(rest) == size - n);
      CHECK(rest.body.size() == size - n);
      CHECK(rest.header("ETag") == etag);
      CHECK_MESSAGE(prefix + rest.body == full, "the resumed download differs from a whole one");
    }

    // curl resumes a partial file the same way (-C -).
    {
      const std::size_t n = pick(rng, 1, size - 1);
      CAPTURE(n);
      const std::string file = scratch / ("curl." + kind);
      write_file(file, cut_download(port, target, n));
      const RunResult c = curl({"-C", "-", "-o", file, "-w", "%{http_code}", server.url(target)});
      CHECK_MESSAGE(c.status == 0, c.err);
      CHECK(c.out == "206");
      CHECK_MESSAGE(read_file(file) == full, "curl -C - made another file");
    }

    // Any one range is that slice of the whole.
    for (int i = 0; i < 6; ++i) {
      std::size_t a = pick(rng, 0, size - 1), b = pick(rng, 0, size - 1);
      if (a > b) std::swap(a, b);
      CAPTURE(a);
      CAPTURE(b);
      const Response s =
          fetch(port, target, {"Range: bytes=" + std::to_string(a) + "-" + std::to_string(b)});
      CHECK(s.status == 206);
      CHECK(s.header("Content-Range") ==
            "bytes " + std::to_string(a) + "-" + std::to_string(b) + "/" + std::to_string(size));
      CHECK(s.body.size() == b - a + 1);
      CHECK(s.body == full.substr(a, b - a + 1));
    }
    const Response suffix = fetch(port, target, {"Range: bytes=-100"});
    CHECK(suffix.status == 206);
    CHECK(suffix.body == full.substr(size - 100));
    // A range past the end ends at the end.
    const Response over =
        fetch(port, target,
              {"Range: bytes=" + std::to_string(size - 10) + "-" + std::to_string(size + 1000)});
    CHECK(over.status == 206);
    CHECK(over.body == full.substr(size - 10));
  }
}

TEST_CASE("a file rewritten with the same size and mtime gets its new CRC-32 in the next zip") {
  // The second download sends file data with sendfile and takes CRC-32s from memory: they
  // must be of the file's current version, whatever its size and mtime say.
  TempDir root, scratch;
  root.write("r/a.bin", random_bytes(200000, 41));
  root.write("r/b.txt", "bbb\n");
  set_all_mtimes(root / "r", 1600000000);
  ServerProcess server(root.path());
  const Response first = download(server.port(), "/r/?download=zip");
  const Response again = download(server.port(), "/r/?download=zip");  // from remembered CRCs
  CHECK(again.body == first.body);

  const std::string changed = random_bytes(200000, 43);
  {
    const int fd = ::open((root / "r/a.bin").c_str(), O_WRONLY);  // in place, same inode
    REQUIRE(fd >= 0);
    REQUIRE(::pwrite(fd, changed.data(), changed.size(), 0) == 200000);
    ::close(fd);
  }
  set_mtime(root / "r/a.bin", 1600000000);
  const Response after = download(server.port(), "/r/?download=zip");
  CHECK(after.header("ETag") == first.header("ETag"));  // names, sizes, mtimes: all the same
  CHECK(after.body.size() == first.body.size());
  CHECK(after.body != first.body);
  write_file(scratch / "after.zip", after.body);
  std::string why;
  const auto members = python_read("zip", scratch / "after.zip", "-", &why);
  REQUIRE_MESSAGE(members.has_value(), "python rejects the zip: " << why);
  const Digests got = digests(*members);
  Tree want{{"a.bin", changed}, {"b.txt", "bbb\n"}};
  CHECK(got.at("a.bin") == digests(want).at("a.bin"));
}

TEST_CASE("a stale If-Range gets the whole archive, so do several ranges; past the end is 416") {
  TempDir root;
  root.write("s/one.bin", random_bytes(200000, 31));
  root.write("s/two/three.txt", "three\n");
  ServerProcess server(root.path());
  const int port = server.port();

  for (const std::string kind : kKinds) {
    CAPTURE(kind);
    const std::string target = "/s/?download=" + kind;
    const Response before = download(port, target);
    const std::string old_etag = before.header("ETag");
    // The tree changes: the old ETag no longer matches.
    set_mtime(root / "s/one.bin", 1650000000 + (kind == "zip" ? 1 : 2));
    const Response now = download(port, target);
    REQUIRE(now.header("ETag") != old_etag);
    const std::size_t size = now.body.size();

    const Response stale = fetch(port, target, {"Range: bytes=1000-", "If-Range: " + old_etag});
    CHECK(stale.status == 200);
    CHECK(!stale.has("Content-Range"));
    CHECK(stale.body.size() == content_length(stale));
    CHECK_MESSAGE(stale.body == now.body, "not the whole, current archive");
    CHECK(stale.header("ETag") == now.header("ETag"));

    const Response fresh =
        fetch(port, target, {"Range: bytes=1000-", "If-Range: " + now.header("ETag")});
    CHECK(fresh.status == 206);
    CHECK(fresh.body == now.body.substr(1000));

    // Several ranges: the whole archive (no multipart)...
    const std::string far =
        "bytes=0-9," + std::to_string(size - 10) + "-" + std::to_string(size - 1);
    const Response several = fetch(port, target, {"Range: " + far});
    CHECK(several.status == 200);
    CHECK(several.body.size() == content_length(several));
    CHECK(several.body == now.body);
    // ...unless they are so close that they are coalesced into one (RFC 9110 14.2 allows it,
    // as for files): then exactly that one slice.
    const Response close = fetch(port, target, {"Range: bytes=0-9,20-29"});
    if (close.status == 206) {
      CHECK(close.header("Content-Range") == "bytes 0-29/" + std::to_string(size));
      CHECK(close.body == now.body.substr(0, 30));
    } else {
      CHECK(close.status == 200);
      CHECK(close.body == now.body);
    }

    for (const std::string& range : {std::to_string(size) + "-",
                                     std::to_string(size + 10) + "-" + std::to_string(size + 20)}) {
      CAPTURE(range);
      const Response bad = fetch(port, target, {"Range: bytes=" + range});
      CHECK(bad.status == 416);
      CHECK(bad.header("Content-Range") == "bytes */" + std::to_string(size));
    }
  }
}

// ---- 4. many entries
// ------------------------------------------------------------------------------

// Long (17 s in the release build, several times that under the sanitizers): like the heavy
// suite, it runs in the release build only.
#if defined(__SANITIZE_ADDRESS__)
constexpr bool kSanitized = true;
#else
constexpr bool kSanitized = false;
#endif

TEST_CASE("70 000 entries: ZIP64 end records, every entry there, server memory bounded") {
  if (kSanitized) {
    MESSAGE("left to the release build: 70 000 entries take minutes under the sanitizers");
    return;
  }
  TempDir root, scratch;
  Expect e;
  e.tree = make_many(root, "many", 700, 100);
  e.extract = false;
  REQUIRE(e.tree.size() == 70700);
  ServerProcess server(root.path());
  const int port = server.port();
  CHECK(download(port, "/many/d000/?download=zip").body.size() > 0);  // warmed up
  const long before_kib = rss_kib(server.pid());
  REQUIRE(before_kib > 0);

  // The server may keep an entry per member (name, size, time, its pieces: a few hundred
  // bytes, some 30 MB for all) while it streams, not the archive: both archives are far
  // larger than this bound.
  constexpr long kBoundKib = 48 * 1024;
  for (const std::string kind : kKinds) {
    CAPTURE(kind);
    const std::string file = scratch / ("many." + kind);
    std::atomic<bool> done{false};
    std::atomic<long> peak_kib{before_kib};
    std::thread sampler([&] {
      while (!done) {
        peak_kib = std::max(peak_kib.load(), rss_kib(server.pid()));
        std::this_thread::sleep_for(2ms);
      }
    });
    const RunResult c = curl(
        {"-o", file, "-w", "%{http_code} %{size_download}", server.url("/many/?download=" + kind)},
        120s);
    done = true;
    sampler.join();
    REQUIRE_MESSAGE(c.status == 0, c.err);
    const std::size_t size = fs::file_size(file);
    CHECK(c.out == "200 " + std::to_string(size));
    MESSAGE(kind << ": " << size << " bytes; server RSS " << before_kib << " KiB before, peak "
                 << peak_kib.load() << " KiB");
    CHECK_MESSAGE(static_cast<long>(size / 1024) > kBoundKib * 3 / 2,
                  "the archive is too small for the memory bound to mean anything");
    CHECK_MESSAGE(peak_kib.load() - before_kib < kBoundKib,
                  "server RSS grew by " << peak_kib.load() - before_kib << " KiB");

    if (kind == "zip") {
      const std::string zip = read_file(file);
      const ZipEnd z = zip_end(zip);
      CHECK_MESSAGE(z.zip64, "more than 65 535 entries need the ZIP64 end records");
      CHECK(z.entries == 70700);
    }
    check_archive(kind, file, e, scratch.path());
  }
  CHECK(server.process().running());
}

// ---- 5. a file that changes while it streams --------------------------------------------------

namespace {

// A connection whose receive buffer is small (set before connecting), so that the server can
// run only a little ahead of what the test has read.
int connect_small(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  REQUIRE(fd >= 0);
  int small = 16384;
  ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<std::uint16_t>(port));
  ::inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
  REQUIRE(::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
  return fd;
}

// Receives into `got` until it holds `want` bytes or the peer closes; true when it closed.
// Fails the test if nothing arrives for 30 s (the server neither sends nor closes).
bool receive_until(int fd, std::string& got, std::size_t want) {
  while (got.size() < want) {
    pollfd p{fd, POLLIN, 0};
    const int r = ::poll(&p, 1, 30000);
    REQUIRE_MESSAGE(r == 1, "the server neither sent more nor closed, at " << got.size());
    char buf[65536];
    const ssize_t k = ::recv(fd, buf, sizeof buf, 0);
    if (k <= 0) return true;
    got.append(buf, static_cast<std::size_t>(k));
  }
  return false;
}

}  // namespace

TEST_CASE("a file that changes size while the archive streams cuts the connection") {
  TempDir root, scratch;
  const std::string first = random_bytes(24u << 20, 41);  // far more than socket buffers hold
  const std::string later = random_bytes(1u << 20, 43);
  root.write("g/a-first.bin", first);
  root.write("g/z-later.bin", later);
  ServerProcess server(root.path());
  const int port = server.port();

  struct Case {
    std::string kind, change;
  };
  for (const Case& k : {Case{"zip", "grows"}, Case{"tar", "grows"}, Case{"zip", "shrinks"},
                        Case{"tar", "shrinks"}}) {
    CAPTURE(k.kind);
    CAPTURE(k.change);
    write_file(root / "g/z-later.bin", later);
    const int fd = connect_small(port);
    const std::string req = "GET /g/?download=" + k.kind + " HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
    REQUIRE(::send(fd, req.data(), req.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(req.size()));
    std::string got;
    std::size_t head_end = std::string::npos;
    while (head_end == std::string::npos) {
      REQUIRE_FALSE(receive_until(fd, got, got.size() + 1));
      head_end = got.find("\r\n\r\n");
    }
    const auto head = parse_response(got.substr(0, head_end + 4), httpfs::http::Method::Head);
    REQUIRE(head.has_value());
    REQUIRE(head->status == 200);
    const std::uint64_t length = content_length(*head);
    const std::size_t body_at = head_end + 4;
    // The first 64 KiB: the server is well inside a-first.bin, far from z-later.bin.
    REQUIRE_FALSE(receive_until(fd, got, body_at + 65536));
    if (k.change == "grows")
      append_file(root / "g/z-later.bin", std::string(1000, 'x'));
    else
      REQUIRE(::truncate((root / "g/z-later.bin").c_str(), 100) == 0);
    const bool closed = receive_until(fd, got, body_at + length + 1);
    ::close(fd);
    const std::size_t body = got.size() - body_at;
    CHECK_MESSAGE(closed, "the server kept the connection after " << body << " bytes");
    CHECK_MESSAGE(body < length, "the whole Content-Length (" << length << ") arrived");
    // What arrived is no good archive.
    const std::string file = scratch / ("cut-" + k.change + "." + k.kind);
    write_file(file, got.substr(body_at));
    if (k.kind == "zip") {
      CHECK_MESSAGE(!python_read("zip", file, "-").has_value(), "python accepts the cut zip");
      if (const std::string unzip = tool_or_skip("unzip", "unzip"); !unzip.empty())
        CHECK(run({unzip, "-t", file}, 60s, std::nullopt, kUtf8Env).status != 0);
    } else {
      // A tar cut between members may look whole to a reader: at least z-later.bin's bytes
      // must not all be there.
      const auto members = python_read("tar", file, "-");
      if (members)
        for (const Member& m : *members)
          if (m.name == "z-later.bin") CHECK(m.raw["sha256"] != sha256_hex(later));
    }
  }
  // The server carries on.
  write_file(root / "g/z-later.bin", later);
  CHECK(download(port, "/g/?download=tar").body.size() > first.size() + later.size());
}

// ---- 6. refusals --------------------------------------------------------------------------------

TEST_CASE("refusals: unknown format 400, --no-listing and too many entries 403, auth 401, 301") {
  TempDir root, scratch;
  root.write("five/a", "a");
  root.write("five/b", "b");
  root.write("five/c/d", "d");
  root.mkdir("five/e");  // five entries: a, b, c/, c/d, e/
  root.write(".hid/x", "x");
  root.write("site/index.html", "<h1>site</h1>");
  root.write("file.txt", "just a file");
  {
    ServerProcess server(root.path(), {"--max-archive-entries", "5"});
    const int port = server.port();
    CHECK(fetch(port, "/five/?download=rar").status == 400);
    CHECK(fetch(port, "/five/?download=").status == 400);
    CHECK(fetch(port, "/five/?download=ZIPX").status == 400);
    // At the limit it is served; one more entry is refused.
    for (const std::string kind : kKinds)
      CHECK(download(port, "/five/?download=" + kind).status == 200);
    root.write("five/f", "f");
    for (const std::string kind : kKinds) {
      CAPTURE(kind);
      CHECK(fetch(port, "/five/?download=" + kind).status == 403);
      CHECK(fetch(port, "/?download=" + kind).status == 403);
    }
    ::unlink((root / "five/f").c_str());
    // Without the slash: 301 to it, query kept; curl -L follows to the archive.
    const Response moved = fetch(port, "/five?download=zip");
    CHECK(moved.status == 301);
    CHECK(moved.header("Location") == "/five/?download=zip");
    const std::string file = scratch / "five.zip";
    const RunResult c =
        curl({"-L", "-o", file, "-w", "%{http_code}", server.url("/five?download=zip")});
    CHECK(c.out == "200");
    const auto members = python_read("zip", file, "-");
    REQUIRE(members.has_value());
    CHECK(members->size() == 5);
    // A hidden directory is not there; neither is a directory that does not exist.
    CHECK(fetch(port, "/.hid/?download=zip").status == 404);
    CHECK(fetch(port, "/%2ehid/?download=tar").status == 404);
    CHECK(fetch(port, "/nothing/?download=zip").status == 404);
    // index.html does not hide the archive, not even once the file cache holds it.
    CHECK(download(port, "/site/?download=zip").header("Content-Type") == "application/zip");
    CHECK(download(port, "/site/").body == "<h1>site</h1>");
    for (const std::string kind : kKinds) {
      CAPTURE(kind);
      const Response site = download(port, "/site/?download=" + kind);
      CHECK(site.header("Content-Type") ==
            std::string(kind == "zip" ? "application/zip" : "application/x-tar"));
      CHECK(site.body != "<h1>site</h1>");
    }
  }
  {
    ServerProcess server(root.path(), {"--no-listing"});
    for (const std::string kind : kKinds) {
      CAPTURE(kind);
      CHECK(fetch(server.port(), "/five/?download=" + kind).status == 403);
      CHECK(fetch(server.port(), "/five/?download=" + kind, {}, "HEAD").status == 403);
    }
  }
  {
    ServerProcess server(root.path(), {"--auth", "alice:s3cret", "--auth-all"});
    const Response r = fetch(server.port(), "/five/?download=zip");
    CHECK(r.status == 401);
    CHECK(r.has("WWW-Authenticate"));
    CHECK(fetch(server.port(), "/five/?download=tar", {"Authorization: Basic YWxpY2U6d3Jvbmc="})
              .status == 401);  // alice:wrong
    const std::string file = scratch / "auth.zip";
    const RunResult c = curl({"-u", "alice:s3cret", "-o", file, "-w", "%{http_code}",
                              server.url("/five/?download=zip")});
    CHECK(c.out == "200");
    CHECK(python_read("zip", file, "-").has_value());
  }
}
