// XML attacks on every XML-bodied method (PROPFIND, PROPPATCH, LOCK): entity expansion,
// external and parameter entities, deep nesting, bodies past --max-xml-body, bad UTF-8 and
// namespace abuse. Each is answered with its exact status within a bounded time, leaks nothing
// of the files it names, changes nothing on disk, and leaves the server serving others.
#include <doctest/doctest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "common.hpp"
#include "support/http_client.hpp"

using namespace httpfs::test;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {

constexpr std::string_view kXmlDecl = "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n";
// A hang detector, not a performance bound: a parser that expands entities or walks the
// nesting quadratically takes minutes here, a correct one milliseconds.
constexpr auto kAnswerBound = 10s;

// A loopback listener that nobody should ever call: an external entity or DTD fetched over
// HTTP would connect to it.
class Tripwire {
 public:
  Tripwire() {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    REQUIRE(::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
    REQUIRE(::listen(fd_, 64) == 0);
    REQUIRE(::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len) == 0);
    port_ = ntohs(a.sin_port);
  }
  ~Tripwire() { ::close(fd_); }
  Tripwire(const Tripwire&) = delete;
  Tripwire& operator=(const Tripwire&) = delete;
  int port() const { return port_; }
  // Connections made to it so far (each is accepted and closed, so none is counted twice).
  int connections() {
    for (int c; (c = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC)) >= 0;) {
      ::close(c);
      ++count_;
    }
    return count_;
  }

 private:
  int fd_ = -1;
  int port_ = 0;
  int count_ = 0;
};

// Every extended attribute of a path, name=value, in order: dead properties live there.
std::string xattrs_of(const std::string& path) {
  char names[65536];
  const ssize_t n = ::llistxattr(path.c_str(), names, sizeof names);
  if (n <= 0) return "";
  std::string out;
  for (const char* name = names; name < names + n;
       name += std::char_traits<char>::length(name) + 1) {
    std::string value(1 << 16, '\0');
    const ssize_t v = ::lgetxattr(path.c_str(), name, value.data(), value.size());
    value.resize(v < 0 ? 0 : static_cast<std::size_t>(v));
    out += std::string(name) + "=" + value + ";";
  }
  return out;
}

// Everything under `root`, the server's state directory (locks) included: each directory,
// each file with its bytes and extended attributes. Equal snapshots: nothing changed on disk.
std::map<std::string, std::string> snapshot(const std::string& root) {
  std::map<std::string, std::string> out;
  for (const auto& e : fs::recursive_directory_iterator(root)) {
    const std::string path = e.path().string();
    const std::string rel = fs::relative(e.path(), root).string();
    if (e.is_symlink())
      out[rel] = "symlink";
    else if (e.is_directory())
      out[rel] = "dir " + xattrs_of(path);
    else
      out[rel] = "file " + read_file(path) + " xattrs " + xattrs_of(path);
  }
  return out;
}

std::string difference(const std::map<std::string, std::string>& before,
                       const std::map<std::string, std::string>& after) {
  std::string out;
  for (const auto& [path, what] : before) {
    auto it = after.find(path);
    if (it == after.end())
      out += "gone: " + path + "\n";
    else if (it->second != what)
      out += "changed: " + path + "\n";
  }
  for (const auto& [path, what] : after)
    if (!before.contains(path)) out += "new: " + path + "\n";
  return out;
}

bool contains(std::string_view hay, std::string_view needle) {
  return hay.find(needle) != std::string_view::npos;
}

std::string repeat(std::string_view unit, int n) {
  std::string s;
  s.reserve(unit.size() * static_cast<std::size_t>(n));
  for (int i = 0; i < n; ++i) s += unit;
  return s;
}

// One attack: what goes before the root element (a DOCTYPE), extra attributes on the root
// element, and the element put where each method takes arbitrary XML: a property name in
// PROPFIND's prop, a property value in PROPPATCH's set, LOCK's owner.
struct Attack {
  std::string name;
  std::string prolog;
  std::string root_attributes;
  std::string payload;
  // Namespace-well-formed XML, however odd: the server must take it (RFC 4918 with
  // Namespaces in XML 1.0), within bounded time and memory.
  bool well_formed = false;
};

std::string body_for(std::string_view method, const Attack& a) {
  const std::string open = std::string(kXmlDecl) + a.prolog;
  const std::string attrs = " xmlns:D=\"DAV:\"" + a.root_attributes;
  if (method == "PROPFIND")
    return open + "<D:propfind" + attrs + "><D:prop>" + a.payload + "</D:prop></D:propfind>";
  if (method == "PROPPATCH")
    return open + "<D:propertyupdate" + attrs + "><D:set><D:prop>" + a.payload +
           "</D:prop></D:set></D:propertyupdate>";
  return open + "<D:lockinfo" + attrs +
         "><D:lockscope><D:exclusive/></D:lockscope><D:locktype><D:write/></D:locktype>"
         "<D:owner>" +
         a.payload + "</D:owner></D:lockinfo>";
}

std::string raw_request(int port, std::string_view method, std::string_view path,
                        const std::vector<std::string>& headers, std::string_view body) {
  std::string r = std::string(method) + " " + std::string(path) +
                  " HTTP/1.1\r\nHost: 127.0.0.1:" + std::to_string(port) + "\r\n";
  for (const std::string& h : headers) r += h + "\r\n";
  if (!body.empty()) r += "Content-Length: " + std::to_string(body.size()) + "\r\n";
  return r + "\r\n" + std::string(body);
}

Response dav(int port, std::string_view method, std::string_view path,
             const std::vector<std::string>& headers = {}, std::string_view body = {}) {
  return request(port, raw_request(port, method, path, headers, body),
                 httpfs::http::method_from_token(method));
}

std::string lock_token(const Response& r) {
  std::string t = r.header("Lock-Token");
  if (t.size() >= 2 && t.front() == '<' && t.back() == '>') t = t.substr(1, t.size() - 2);
  return t;
}

// <tmp>/canary.txt beside the docroot <tmp>/www; the docroot holds the file the attacks aim
// at and a scratch file for the bodies the server must take.
struct Fixture {
  TempDir tmp;
  std::string www = tmp / "www";
  std::string canary_path = tmp / "canary.txt";
  std::string canary = "CANARY-" + std::to_string(::getpid()) + "-xml";
  Fixture() {
    tmp.write("canary.txt", canary);
    tmp.write("www/file.txt", "hello");
    tmp.write("www/scratch.txt", "scratch");
  }
};

std::vector<Attack> attacks(const Fixture& f, int trip_port) {
  const std::string trip = "http://127.0.0.1:" + std::to_string(trip_port);
  std::vector<Attack> out;
  {
    // Billion laughs: 10^9 "lol"s from a 1 KB body.
    std::string dtd = "<!DOCTYPE d [<!ENTITY lol0 \"lol\">";
    for (int i = 1; i <= 9; ++i)
      dtd += "<!ENTITY lol" + std::to_string(i) + " \"" +
             repeat("&lol" + std::to_string(i - 1) + ";", 10) + "\">";
    out.push_back({"billion laughs", dtd + "]>", "", "<Z:x xmlns:Z=\"urn:z\">&lol9;</Z:x>"});
  }
  // Quadratic blowup: one 100 KB entity referenced 20 000 times, 2 GB expanded, no nesting
  // for a nesting limit to catch.
  out.push_back({"quadratic blowup", "<!DOCTYPE d [<!ENTITY big \"" + repeat("x", 100000) + "\">]>",
                 "", "<Z:x xmlns:Z=\"urn:z\">" + repeat("&big;", 20000) + "</Z:x>"});
  out.push_back({"external entity (file)",
                 "<!DOCTYPE d [<!ENTITY xxe SYSTEM \"file://" + f.canary_path + "\">]>", "",
                 "<Z:x xmlns:Z=\"urn:z\">&xxe;</Z:x>"});
  out.push_back({"external entity (http)", "<!DOCTYPE d [<!ENTITY xxe SYSTEM \"" + trip + "/x\">]>",
                 "", "<Z:x xmlns:Z=\"urn:z\">&xxe;</Z:x>"});
  out.push_back({"external DTD (http)", "<!DOCTYPE d SYSTEM \"" + trip + "/d.dtd\">", "",
                 "<Z:x xmlns:Z=\"urn:z\">x</Z:x>"});
  // Out-of-band exfiltration: a parameter entity holds the file, a remote DTD would send it.
  out.push_back({"parameter entities",
                 "<!DOCTYPE d [<!ENTITY % file SYSTEM \"file://" + f.canary_path +
                     "\"><!ENTITY % dtd SYSTEM \"" + trip + "/evil.dtd\"> %dtd; %file;]>",
                 "", "<Z:x xmlns:Z=\"urn:z\">x</Z:x>"});
  // 100 000 open elements in 700 KB, under --max-xml-body: only a depth limit stops it.
  out.push_back({"100 000 nested elements", "", "",
                 "<x xmlns=\"urn:z\">" + repeat("<n>", 100000) + repeat("</n>", 100000) + "</x>"});
  out.push_back(
      {"invalid UTF-8 in text", "", "", "<Z:x xmlns:Z=\"urn:z\">ok \xff\xfe bad \xc0\xaf</Z:x>"});
  out.push_back(
      {"a UTF-16 surrogate encoded in UTF-8", "", "", "<Z:x xmlns:Z=\"urn:z\">\xed\xa0\x80</Z:x>"});
  out.push_back({"invalid UTF-8 in an element name", "", "",
                 "<Z:x\xc3\x28 xmlns:Z=\"urn:z\">t</Z:x\xc3\x28>"});
  out.push_back(
      {"invalid UTF-8 in a namespace name", "", "", "<Z:x xmlns:Z=\"urn:\xff\xfe\">t</Z:x>"});
  out.push_back({"a prefix bound to the empty namespace", "", "", "<Z:x xmlns:Z=\"\">t</Z:x>"});
  // Expat reports names as URI, newline, local part: a newline in a URI could split a name
  // where the attacker likes (CVE-2022-25236).
  out.push_back({"a newline in a namespace name", "", "", "<Z:x xmlns:Z=\"urn:a&#10;b\">t</Z:x>"});
  out.push_back({"an undeclared element prefix", "", "", "<Q:x>t</Q:x>"});
  out.push_back(
      {"an undeclared attribute prefix", "", "", "<Z:x xmlns:Z=\"urn:z\" Q:a=\"1\">t</Z:x>"});
  out.push_back(
      {"the xmlns prefix declared", "", " xmlns:xmlns=\"urn:x\"", "<Z:x xmlns:Z=\"urn:z\"/>"});
  out.push_back({"the xml prefix bound elsewhere", "", " xmlns:xml=\"urn:not-xml\"",
                 "<Z:x xmlns:Z=\"urn:z\"/>"});
  // A 100 KB namespace name declared once and used by 8000 names: 800 MB if every name kept
  // its own copy, from a 150 KB body.
  out.push_back({"one long namespace name used 8000 times", "",
                 " xmlns:Z=\"urn:" + repeat("n", 100000) + "\"", repeat("<Z:a/>", 8000)});
  // Well-formed, and so taken.
  {
    std::string many;
    for (int i = 0; i < 5000; ++i)
      many += " xmlns:p" + std::to_string(i) + "=\"urn:p" + std::to_string(i) + "\"";
    out.push_back({"5000 namespace declarations", "", many, "<p4999:x>t</p4999:x>", true});
  }
  out.push_back({"a 500 KB namespace name", "", "",
                 "<Z:x xmlns:Z=\"urn:" + repeat("u", 500000) + "\">t</Z:x>", true});
  return out;
}

}  // namespace

TEST_CASE("XML attacks on every XML-bodied method: the exact status, nothing leaked or changed") {
  Fixture f;
  Tripwire trip;
  ServerProcess server(f.www);
  const int port = server.port();
  const std::vector<Attack> all = attacks(f, trip.port());
  for (const std::string method : {"PROPFIND", "PROPPATCH", "LOCK"}) {
    for (const Attack& a : all) {
      INFO(method << ": " << a.name);
      const std::string body = body_for(method, a);
      REQUIRE(body.size() < (1u << 20));  // under --max-xml-body: the parser itself must refuse
      const std::string target = a.well_formed ? "/scratch.txt" : "/file.txt";
      const std::vector<std::string> headers = method == std::string("PROPFIND")
                                                   ? std::vector<std::string>{"Depth: 0"}
                                                   : std::vector<std::string>{};
      const auto before = snapshot(f.tmp.path());
      const long rss0 = rss_kib(server.pid());
      const auto t0 = std::chrono::steady_clock::now();
      const Response r = dav(port, method, target, headers, body);
      CHECK(std::chrono::steady_clock::now() - t0 < kAnswerBound);
      CHECK_FALSE(contains(r.body, f.canary));
      CHECK(rss_kib(server.pid()) - rss0 < 32 * 1024);
      if (!a.well_formed) {
        CHECK(r.status == 400);
        // No dead property stored, no lock taken, no file made: the disk is as it was.
        const auto after = snapshot(f.tmp.path());
        CHECK_MESSAGE(after == before, difference(before, after));
        // Nothing holds the file: a PUT without a token goes through.
        CHECK(dav(port, "PUT", "/file.txt", {}, "hello").status == 204);
      } else if (method == std::string("PROPFIND")) {
        CHECK(r.status == 207);
      } else if (method == std::string("PROPPATCH")) {
        CHECK(r.status == 207);
      } else {
        CHECK(r.status == 200);
        const std::string token = lock_token(r);
        CHECK(dav(port, "UNLOCK", target, {"Lock-Token: <" + token + ">"}).status == 204);
      }
      // Another client, right after: served.
      const Response g = get(port, "/file.txt");
      CHECK(g.status == 200);
      CHECK(g.body == "hello");
    }
  }
  CHECK(trip.connections() == 0);
  CHECK(read_file(f.canary_path) == f.canary);
  CHECK(server.process().running());
}

namespace {

// Sends `head` and then `length` body bytes made by `next_piece`, as fast as the server takes
// them, and stops as soon as an answer starts to arrive or the server closes: a server that
// refuses early must not have to read it all. Returns how many body bytes went out.
template <typename Piece>
std::uint64_t send_until_answered(RawConnection& c, const std::string& head, std::uint64_t length,
                                  Piece&& next_piece) {
  REQUIRE(c.send(head));
  std::uint64_t sent = 0;
  std::string piece;
  std::size_t at = 0;
  while (sent < length) {
    pollfd p{c.fd(), POLLIN | POLLOUT, 0};
    if (::poll(&p, 1, 10000) <= 0) break;  // stuck: the caller's checks say what is missing
    if (p.revents & (POLLIN | POLLHUP | POLLERR)) break;
    if (at == piece.size()) {
      piece = next_piece(sent);
      at = 0;
    }
    // Never past the length the head declared.
    const std::size_t want = std::min<std::uint64_t>(piece.size() - at, length - sent);
    const ssize_t n = ::send(c.fd(), piece.data() + at, want, MSG_DONTWAIT | MSG_NOSIGNAL);
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) continue;
    if (n <= 0) break;
    at += static_cast<std::size_t>(n);
    sent += static_cast<std::uint64_t>(n);
  }
  return sent;
}

}  // namespace

TEST_CASE("XML bodies of 100 MB, with Content-Length and chunked: 413 before the end, bounded") {
  Fixture f;
  ServerProcess server(f.www);
  const int port = server.port();
  const std::uint64_t length = 100'000'000;
  const std::string filler(65536, 'x');
  const auto before = snapshot(f.tmp.path());
  for (const std::string method : {"PROPFIND", "PROPPATCH", "LOCK"}) {
    for (const bool chunked : {false, true}) {
      const std::string label = method + (chunked ? " chunked" : " with Content-Length");
      INFO(label);
      const long rss0 = rss_kib(server.pid());
      RawConnection c(port);
      std::string head = method + " /file.txt HTTP/1.1\r\nHost: 127.0.0.1\r\n";
      head += method == "PROPFIND" ? "Depth: 0\r\n" : "";
      head += chunked ? "Transfer-Encoding: chunked\r\n\r\n"
                      : "Content-Length: " + std::to_string(length) + "\r\n\r\n";
      // A well-formed start, so that only the size is wrong; then text without end.
      const std::string start =
          std::string(kXmlDecl) +
          (method == "PROPFIND"    ? "<D:propfind xmlns:D=\"DAV:\"><D:prop><Z:x xmlns:Z=\"urn:z\">"
           : method == "PROPPATCH" ? "<D:propertyupdate xmlns:D=\"DAV:\"><D:set><D:prop>"
                                     "<Z:x xmlns:Z=\"urn:z\">"
                                   : "<D:lockinfo xmlns:D=\"DAV:\"><D:lockscope><D:exclusive/>"
                                     "</D:lockscope><D:locktype><D:write/></D:locktype><D:owner>");
      const auto t0 = std::chrono::steady_clock::now();
      const std::uint64_t sent =
          send_until_answered(c, head, length, [&](std::uint64_t so_far) -> std::string {
            const std::string data = so_far == 0 ? start : filler;
            if (!chunked) return data;
            char size[32];
            std::snprintf(size, sizeof size, "%zx\r\n", data.size());
            return size + data + "\r\n";
          });
      MESSAGE(label << ": " << sent << " of " << length << " bytes sent before the answer");
      CHECK(sent < length);
      const std::optional<Response> r =
          c.read_response(httpfs::http::method_from_token(method), kAnswerBound);
      REQUIRE(r);
      CHECK(r->status == 413);
      CHECK(c.wait_closed(kAnswerBound));
      CHECK(std::chrono::steady_clock::now() - t0 < kAnswerBound);
      const long grew = rss_kib(server.pid()) - rss0;
      MESSAGE(label << ": server RSS +" << grew << " KiB");
      CHECK(grew < 16 * 1024);
      const Response g = get(port, "/file.txt");
      CHECK(g.status == 200);
      CHECK(g.body == "hello");
    }
  }
  const auto after = snapshot(f.tmp.path());
  CHECK_MESSAGE(after == before, difference(before, after));
  CHECK(server.process().running());
}
