// Resumable uploads (draft-ietf-httpbis-resumable-upload, interop versions 8 and 6) against
// the real server, over raw sockets so that every byte, the 104 interim answer included, is
// the test's to check:
//   - a 2 MiB upload cut 20 times at random offsets, each time asked for its offset and
//     resumed from it, then finished in pieces: the file appears only at the last byte,
//     identical to the source
//   - offsets that do not match (409), cancelling (DELETE), the interop 6 flow of
//     tus-js-client and a zero-length upload, requests that speak no known version
//   - the server killed (-9) mid-append and restarted, and two servers sharing one tree
//   - bad input of every kind (fields, media type, completed, cancelled, guessed and other
//     users' uploads), the limits on creation, expiry, a client too slow to keep
//   - a newer request ending an older one still appending, and digests and preconditions
//     checked at the end
// Whatever goes wrong, nothing is ever committed under the target's name before the last
// byte, and the bytes before the reported offset are always the ones sent.
#include <doctest/doctest.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <optional>
#include <random>
#include <regex>
#include <set>
#include <thread>

#include "http/base64.hpp"
#include "support/http_client.hpp"
#include "support/upload_requests.hpp"
#include "support/vectors.hpp"
#include "support/wait.hpp"

using namespace httpfs::test;
using httpfs::http::Method;

namespace {

// The max-age member of an Upload-Limit value; -1 when absent.
long max_age(const std::string& limit) {
  const std::size_t at = limit.find("max-age=");
  return at == std::string::npos ? -1 : std::stol(limit.substr(at + 8));
}

// ---- answers -----------------------------------------------------------------------------

// The next interim (1xx) answer on `c`, or nullopt when the next answer is a final one (or
// none comes in time). RawConnection::read_response skips interim answers, so this reads
// them straight from the socket, before `c` buffers anything: it peeks until a whole 1xx
// head is there and then takes exactly its bytes.
std::optional<Response> read_interim(RawConnection& c, std::chrono::milliseconds timeout = 10s) {
  REQUIRE(c.buffered().empty());
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  char buf[8192];
  while (std::chrono::steady_clock::now() < deadline) {
    pollfd p{c.fd(), POLLIN, 0};
    if (::poll(&p, 1, 10) <= 0) continue;
    const ssize_t n = ::recv(c.fd(), buf, sizeof buf, MSG_PEEK);
    if (n <= 0) return std::nullopt;  // closed: read_response will say so
    const std::string_view s(buf, static_cast<std::size_t>(n));
    if (s.size() >= 10 && s[9] != '1') return std::nullopt;  // "HTTP/1.1 2..": a final answer
    const std::size_t end = s.find("\r\n\r\n");
    if (s.size() < 10 || end == std::string_view::npos) {
      std::this_thread::sleep_for(1ms);  // the rest of the head is on its way
      continue;
    }
    const std::string head(s.substr(0, end + 4));
    REQUIRE(::recv(c.fd(), buf, head.size(), MSG_WAITALL) == static_cast<ssize_t>(head.size()));
    Response r;
    r.status = std::stoi(head.substr(9, 3));
    std::size_t at = head.find("\r\n") + 2;
    r.reason = head.substr(13, at - 15);
    for (std::size_t eol; (eol = head.find("\r\n", at)) != at; at = eol + 2) {
      const std::string line = head.substr(at, eol - at);
      const std::size_t colon = line.find(':');
      const std::size_t v = line.find_first_not_of(' ', colon + 1);
      r.headers.emplace_back(line.substr(0, colon), v == std::string::npos ? "" : line.substr(v));
    }
    return r;
  }
  return std::nullopt;
}

// The interim answers to a request and the final one (status 0 when none came).
struct Answer {
  std::vector<Response> interim;
  Response final;
};

Answer talk(RawConnection& c, std::string_view request, Method method = Method::Get) {
  Answer a;
  c.send(request);
  while (auto r = read_interim(c)) a.interim.push_back(*r);
  a.final = c.read_response(method).value_or(Response{});
  return a;
}

Answer talk(int port, std::string_view request, Method method = Method::Get) {
  RawConnection c(port);
  return talk(c, request, method);
}

// One request on a fresh connection; its final answer.
Response ask(int port, std::string_view request, Method method = Method::Get) {
  return talk(port, request, method).final;
}

std::uint64_t offset_of(const Response& r) {
  const std::string v = r.header("Upload-Offset");
  REQUIRE_MESSAGE(!v.empty(), "no Upload-Offset in a " << r.status);
  return std::stoull(v);
}

// HEAD of the upload at `url`.
Response head(int port, const std::string& url, const Fields& fields = {}) {
  return ask(port, raw("HEAD", url, fields), Method::Head);
}

bool is_upload_url(const std::string& url) {
  static const std::regex form("/\\.httpfs-upload/[0-9a-f]{32}");
  return std::regex_match(url, form);
}

// Creates an upload of `path` (interop 8, Upload-Complete: ?0) holding `first`; its URL.
std::string create(int port, const std::string& path, std::string_view first,
                   const Fields& extra = {}) {
  const Answer a = talk(port, with_body("PUT", path, creating(false) + extra, first));
  REQUIRE(a.interim.size() == 1);
  CHECK(a.interim[0].status == 104);
  REQUIRE(a.final.status == 201);
  CHECK(a.final.header("Location") == a.interim[0].header("Location"));
  CHECK(offset_of(a.final) == first.size());
  REQUIRE(is_upload_url(a.final.header("Location")));
  return a.final.header("Location");
}

// ---- the state directory -----------------------------------------------------------------

std::string uploads_dir(const TempDir& root) {
  return root / ".httpfs-state/uploads";
}

std::string id_of(const std::string& url) {
  return url.substr(url.rfind('/') + 1);
}

std::string data_file(const TempDir& root, const std::string& url) {
  return uploads_dir(root) + "/" + id_of(url) + ".data";
}

long long file_size(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 ? st.st_size : -1;
}

// The state directory's files for the upload at `url` (its record, its data).
std::vector<std::string> files_of(const TempDir& root, const std::string& url) {
  std::vector<std::string> out;
  if (!file_exists(uploads_dir(root))) return out;
  for (const std::string& e : entries(uploads_dir(root)))
    if (e.starts_with(id_of(url))) out.push_back(e);
  return out;
}

// The unfinished uploads recorded in the state directory (their records are named by the id
// alone).
std::size_t upload_records(const TempDir& root) {
  if (!file_exists(uploads_dir(root))) return 0;
  std::size_t n = 0;
  for (const std::string& e : entries(uploads_dir(root)))
    if (e.size() == 32 && e.find_first_not_of("0123456789abcdef") == std::string::npos) ++n;
  return n;
}

// The bytes before `offset` in the upload's data file are the source's.
void check_prefix(const TempDir& root, const std::string& url, const std::string& source,
                  std::uint64_t offset) {
  const std::string data = read_file(data_file(root, url));
  REQUIRE(data.size() >= offset);
  CHECK_MESSAGE(data.compare(0, offset, source, 0, offset) == 0,
                "the first " << offset << " bytes of the upload's data differ from the source");
}

// "sha-256=:<base64>:" of `data`, for Content-Digest and Repr-Digest.
std::string sha256_field(const std::string& data) {
  const std::string hex = sha256_hex(data);
  std::string bin;
  for (std::size_t i = 0; i < hex.size(); i += 2)
    bin += static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16));
  return "sha-256=:" + httpfs::http::base64_encode(bin) + ":";
}

// Sends the head of an append at `offset` that announces all of `source` after it, then
// only the bytes up to `cut`, then ends the connection (half-close, and waits for the server
// to close its side: by then it has read every byte sent).
void append_cut(int port, const std::string& url, const std::string& source, std::uint64_t offset,
                std::uint64_t cut) {
  RawConnection c(port);
  Fields f = appending(offset, true);
  f.push_back("Content-Length: " + std::to_string(source.size() - offset));
  c.send(raw("PATCH", url, f));
  c.send(std::string_view(source).substr(offset, cut - offset));
  c.shutdown_write();
  REQUIRE_MESSAGE(c.wait_closed(), "the server kept a connection open after its body was cut");
}

}  // namespace

TEST_CASE("interop 8: a 2 MiB upload cut at 20 random offsets resumes to identical bytes") {
  TempDir root;
  ServerProcess server(root.path());
  const int port = server.port();
  const std::string source = random_bytes(2 << 20, 0x5eed);
  const std::string target = root / "big.bin";
  std::mt19937_64 rng(20260601);

  // Creation: the 104 comes after the head alone, before any of the body was sent.
  RawConnection c(port);
  const std::uint64_t first = 100000;
  c.send(raw("PUT", "/big.bin", creating(false) + Fields{"Content-Length: 100000"}));
  const std::optional<Response> r104 = read_interim(c);
  REQUIRE(r104);
  CHECK(r104->status == 104);
  const std::string url = r104->header("Location");
  REQUIRE(is_upload_url(url));
  CHECK(r104->header("Upload-Draft-Interop-Version") == "8");
  const std::string limit = r104->header("Upload-Limit");
  CHECK(limit.find("max-size=") != std::string::npos);
  CHECK(limit.find("min-size=0") != std::string::npos);
  // The lifetime left, in whole seconds: a second may tick between two answers.
  CHECK(max_age(limit) >= 86398);
  CHECK(max_age(limit) <= 86400);
  CHECK(!file_exists(target));
  c.send(std::string_view(source).substr(0, first));
  const std::optional<Response> created = c.read_response();
  REQUIRE(created);
  CHECK(created->status == 201);
  CHECK(created->header("Location") == url);
  CHECK(created->header("Upload-Complete") == "?0");
  CHECK(max_age(created->header("Upload-Limit")) >= 86398);
  CHECK(max_age(created->header("Upload-Limit")) <= 86400);
  CHECK(offset_of(*created) == first);

  // 20 cuts at distinct random offsets, each resumed from the offset the server reports.
  std::set<std::uint64_t> cut_set;
  std::uniform_int_distribution<std::uint64_t> pick(first + 1, source.size() - 1);
  while (cut_set.size() < 20) cut_set.insert(pick(rng));
  std::uint64_t offset = first;
  for (const std::uint64_t cut : cut_set) {
    CAPTURE(cut);
    append_cut(port, url, source, offset, cut);
    const Response h = head(port, url);
    REQUIRE(h.status == 204);
    const std::uint64_t now = offset_of(h);
    REQUIRE(now <= cut);
    REQUIRE(now >= offset);
    CHECK_MESSAGE(now == cut, "bytes that reached the server before the cut were not kept");
    CHECK(h.header("Upload-Complete") == "?0");
    CHECK(h.header("Upload-Length") == std::to_string(source.size()));
    CHECK(h.header("Cache-Control") == "no-store");
    CHECK(h.header("Upload-Draft-Interop-Version") == "8");
    CHECK(h.header("Upload-Limit").find("max-age=") != std::string::npos);
    check_prefix(root, url, source, now);
    CHECK(!file_exists(target));
    offset = now;
  }

  // The rest in three pieces on one connection: two that are not the last, then the last.
  RawConnection pieces(port);
  const std::uint64_t left = source.size() - offset;
  const std::uint64_t piece = left / 3;
  for (int i = 0; i < 2; ++i) {
    const Response r = talk(pieces, with_body("PATCH", url, appending(offset, false),
                                              source.substr(offset, piece)))
                           .final;
    REQUIRE(r.status == 204);
    CHECK(offset_of(r) == offset + piece);
    CHECK(r.header("Upload-Complete") == "?0");
    offset += piece;
    CHECK(!file_exists(target));
  }
  const Response done =
      talk(pieces, with_body("PATCH", url, appending(offset, true), source.substr(offset))).final;
  REQUIRE(done.status == 201);
  CHECK(done.header("Location") == "/big.bin");
  CHECK(done.header("Upload-Complete") == "?1");
  CHECK(offset_of(done) == source.size());
  CHECK(!done.header("ETag").empty());
  REQUIRE(file_exists(target));
  CHECK(sha256_hex(read_file(target)) == sha256_hex(source));
  CHECK(get(port, "/big.bin").header("ETag") == done.header("ETag"));
  // The upload now says it is complete.
  const Response h = head(port, url);
  CHECK(h.status == 204);
  CHECK(h.header("Upload-Complete") == "?1");
  CHECK(offset_of(h) == source.size());
}

TEST_CASE("a wrong offset is 409 with the right one; DELETE cancels and leaves nothing") {
  TempDir root;
  ServerProcess server(root.path());
  const int port = server.port();
  const std::string source = random_bytes(30000, 2);
  const std::string url = create(port, "/doc.bin", source.substr(0, 10000));

  for (const std::uint64_t wrong : {0ull, 9999ull, 10001ull, 30000ull}) {
    CAPTURE(wrong);
    const Response r =
        ask(port, with_body("PATCH", url, appending(wrong, false), source.substr(wrong, 100)));
    REQUIRE(r.status == 409);
    CHECK(r.header("Content-Type") == "application/problem+json");
    CHECK(offset_of(r) == 10000);
    const nlohmann::json j = nlohmann::json::parse(r.body);
    CHECK(j.at("type") ==
          "https://iana.org/assignments/http-problem-types#mismatching-upload-offset");
    CHECK(j.at("expected-offset") == 10000);
    CHECK(j.at("provided-offset") == wrong);
    CHECK(offset_of(head(port, url)) == 10000);
  }
  check_prefix(root, url, source, 10000);

  CHECK(files_of(root, url).size() == 2);  // the record and the data
  const Response d = ask(port, raw("DELETE", url, {}));
  CHECK(d.status == 204);
  CHECK(d.body.empty());
  CHECK(files_of(root, url).empty());
  CHECK(head(port, url).status == 404);
  CHECK(ask(port, with_body("PATCH", url, appending(10000, true), source.substr(10000))).status ==
        404);
  CHECK(ask(port, raw("DELETE", url, {})).status == 404);
  CHECK(!file_exists(root / "doc.bin"));
  CHECK(get(port, "/doc.bin").status == 404);
}

TEST_CASE("a creation cut mid-body is resumed; completing over an existing file is 204") {
  TempDir root;
  ServerProcess server(root.path());
  const int port = server.port();
  const std::string source = random_bytes(300000, 3);
  write_file(root / "old.bin", "the old content");

  // The whole body announced with ?1, as a client that hopes to send it in one go; cut.
  RawConnection c(port);
  c.send(raw("PUT", "/old.bin", creating(true) + Fields{"Content-Length: 300000"}));
  c.send(std::string_view(source).substr(0, 123456));
  const std::optional<Response> r104 = read_interim(c);
  REQUIRE(r104);
  const std::string url = r104->header("Location");
  REQUIRE(is_upload_url(url));
  c.shutdown_write();
  REQUIRE(c.wait_closed());

  const Response h = head(port, url);
  REQUIRE(h.status == 204);
  CHECK(offset_of(h) == 123456);
  CHECK(h.header("Upload-Length") == "300000");
  check_prefix(root, url, source, 123456);
  CHECK(read_file(root / "old.bin") == "the old content");

  const Response done =
      ask(port, with_body("PATCH", url, appending(123456, true), source.substr(123456)));
  CHECK(done.status == 204);  // replaced, not created
  CHECK(done.header("Upload-Complete") == "?1");
  CHECK(offset_of(done) == 300000);
  CHECK(!done.header("ETag").empty());
  CHECK(read_file(root / "old.bin") == source);
}

TEST_CASE("interop 6, as tus-js-client: POST with Upload-Length, then PATCH; zero length") {
  TempDir root;
  ServerProcess server(root.path());
  const int port = server.port();
  const std::string source = random_bytes(50000, 6);

  const Answer a = talk(port, with_body("POST", "/v6/file.bin",
                                        creating(false, 6) + Fields{"Upload-Length: 50000"}, ""));
  REQUIRE(a.interim.size() == 1);
  CHECK(a.interim[0].status == 104);
  CHECK(a.interim[0].header("Upload-Draft-Interop-Version") == "6");
  CHECK(a.interim[0].header("Upload-Limit").find("expires=86400") != std::string::npos);
  CHECK(a.interim[0].header("Upload-Limit").find("max-age") == std::string::npos);
  REQUIRE(a.final.status == 201);
  const std::string url = a.final.header("Location");
  REQUIRE(is_upload_url(url));
  CHECK(url == a.interim[0].header("Location"));
  CHECK(offset_of(a.final) == 0);
  CHECK(a.final.header("Upload-Complete") == "?0");

  Response h = head(port, url, {"Upload-Draft-Interop-Version: 6"});
  CHECK(h.status == 204);
  CHECK(offset_of(h) == 0);
  CHECK(h.header("Upload-Length") == "50000");
  CHECK(h.header("Upload-Limit").find("expires=") != std::string::npos);

  // An append without Upload-Complete is not the last one in interop 6.
  Fields part = {"Upload-Draft-Interop-Version: 6", "Content-Type: application/partial-upload",
                 "Upload-Offset: 0"};
  Response r = ask(port, with_body("PATCH", url, part, source.substr(0, 20000)));
  REQUIRE(r.status == 204);
  CHECK(offset_of(r) == 20000);
  CHECK(r.header("Upload-Complete") == "?0");
  CHECK(!file_exists(root / "v6/file.bin"));

  r = ask(port, with_body("PATCH", url, appending(20000, true, 6), source.substr(20000)));
  REQUIRE(r.status == 201);
  CHECK(r.header("Location") == "/v6/file.bin");
  CHECK(r.header("Upload-Complete") == "?1");
  CHECK(offset_of(r) == 50000);
  CHECK(read_file(root / "v6/file.bin") == source);

  // Zero bytes: complete at creation, although the client said ?0 (interop 6 and 8).
  for (const int v : {6, 8}) {
    CAPTURE(v);
    const std::string path = "/v6/empty" + std::to_string(v) + ".bin";
    const Answer z =
        talk(port, with_body("POST", path, creating(false, v) + Fields{"Upload-Length: 0"}, ""));
    CHECK(z.interim.size() == 1);
    REQUIRE(z.final.status == 201);
    CHECK(z.final.header("Upload-Complete") == "?1");
    CHECK(offset_of(z.final) == 0);
    REQUIRE(file_exists(root / path.substr(1)));
    CHECK(read_file(root / path.substr(1)).empty());
  }
}

TEST_CASE("no or an unknown interop version: no 104, an ordinary upload") {
  TempDir root;
  ServerProcess server(root.path());
  const int port = server.port();
  for (const Fields& f : {Fields{"Upload-Complete: ?0"},
                          Fields{"Upload-Draft-Interop-Version: 7", "Upload-Complete: ?0"},
                          Fields{"Upload-Draft-Interop-Version: 99", "Upload-Complete: ?1"},
                          Fields{"Upload-Draft-Interop-Version: 8"}}) {
    CAPTURE(f.front());
    const Answer a = talk(port, with_body("PUT", "/plain.txt", f, "whole body"));
    CHECK(a.interim.empty());
    CHECK((a.final.status == 201 || a.final.status == 204));
    CHECK(!a.final.has("Upload-Offset"));
    CHECK(!is_upload_url(a.final.header("Location")));
    CHECK(read_file(root / "plain.txt") == "whole body");
  }
  CHECK(upload_records(root) == 0);

  // OPTIONS tells a client that appends are understood.
  const Response o = ask(port, raw("OPTIONS", "/plain.txt", {}));
  CHECK(o.header("Accept-Patch").find("application/partial-upload") != std::string::npos);
  CHECK(o.has("Upload-Limit"));
}

TEST_CASE("kill -9 during an append: a restart on the same tree resumes to identical bytes") {
  TempDir root;
  const std::string source = random_bytes(1 << 20, 55);
  auto server = std::make_unique<ServerProcess>(root.path());
  const std::string url = create(server->port(), "/crash.bin", source.substr(0, 100000));
  const Response acked = ask(server->port(), with_body("PATCH", url, appending(100000, false),
                                                       source.substr(100000, 200000)));
  REQUIRE(acked.status == 204);
  REQUIRE(offset_of(acked) == 300000);

  // An append in flight: 250000 more bytes reached the server's file, then it dies.
  RawConnection c(server->port());
  c.send(raw("PATCH", url,
             appending(300000, true) +
                 Fields{"Content-Length: " + std::to_string(source.size() - 300000)}));
  c.send(std::string_view(source).substr(300000, 250000));
  wait_until([&] { return file_size(data_file(root, url)) == 550000; },
             "the bytes in flight reached the data file");
  server->expect_unclean_exit();
  server->process().signal(SIGKILL);
  REQUIRE(server->process().wait(10s));
  server.reset();
  CHECK(!file_exists(root / "crash.bin"));

  ServerProcess again(root.path());
  const Response h = head(again.port(), url);
  REQUIRE(h.status == 204);
  const std::uint64_t offset = offset_of(h);
  CHECK(offset >= 300000);  // what was acknowledged survives
  CHECK(offset <= 550000);
  check_prefix(root, url, source, offset);
  const Response done =
      ask(again.port(), with_body("PATCH", url, appending(offset, true), source.substr(offset)));
  REQUIRE(done.status == 201);
  CHECK(read_file(root / "crash.bin") == source);
}

TEST_CASE("two servers on one tree: created on one, cut, resumed and finished on the other") {
  TempDir root;
  ServerProcess one(root.path()), two(root.path());
  const std::string source = random_bytes(400000, 66);
  const std::string url = create(one.port(), "/shared.bin", source.substr(0, 50000));

  append_cut(one.port(), url, source, 50000, 120000);
  Response h = head(two.port(), url);
  REQUIRE(h.status == 204);
  std::uint64_t offset = offset_of(h);
  CHECK(offset <= 120000);
  CHECK(offset == 120000);
  check_prefix(root, url, source, offset);

  // While the first server appends, the second refuses to: 503, Retry-After: 1.
  {
    RawConnection busy(one.port());
    busy.send(raw("PATCH", url,
                  appending(offset, true) +
                      Fields{"Content-Length: " + std::to_string(source.size() - offset)}));
    busy.send(std::string_view(source).substr(offset, 1000));
    wait_until(
        [&] { return file_size(data_file(root, url)) == static_cast<long long>(offset + 1000); },
        "the first server appended");
    const Response r =
        ask(two.port(), with_body("PATCH", url, appending(offset, true), source.substr(offset)));
    CHECK(r.status == 503);
    CHECK(r.header("Retry-After") == "1");
    busy.shutdown_write();
    REQUIRE(busy.wait_closed());
  }
  CHECK(!file_exists(root / "shared.bin"));
  h = head(two.port(), url);
  REQUIRE(h.status == 204);
  offset = offset_of(h);
  CHECK(offset == 121000);
  check_prefix(root, url, source, offset);
  const Response done =
      ask(two.port(), with_body("PATCH", url, appending(offset, true), source.substr(offset)));
  REQUIRE(done.status == 201);
  CHECK(read_file(root / "shared.bin") == source);
  h = head(one.port(), url);
  CHECK(h.header("Upload-Complete") == "?1");
}

TEST_CASE("bad fields at creation and in appends are refused and commit nothing") {
  TempDir root;
  ServerProcess server(root.path(), {"--max-body", "1M"});
  const int port = server.port();
  const std::string source = random_bytes(20000, 7);

  SUBCASE("creations refused before the body: no 104, no upload") {
    struct Case {
      const char* what;
      std::string request;
      int status;
    };
    const Case cases[] = {
        {"Upload-Offset at creation",
         with_body("PUT", "/x.bin", creating(false) + Fields{"Upload-Offset: 0"}, "abc"), 400},
        {"Upload-Length against Content-Length",
         with_body("PUT", "/x.bin", creating(true) + Fields{"Upload-Length: 4"}, "abc"), 400},
        {"Upload-Length over --max-body",
         with_body("PUT", "/x.bin", creating(false) + Fields{"Upload-Length: 2000000"}, "abc"),
         413},
        {"Content-Length over --max-body",
         raw("PUT", "/x.bin", creating(false) + Fields{"Content-Length: 2000000"}), 413},
        {"a hidden path", with_body("PUT", "/.secret", creating(false), "abc"), 403},
        {"Upload-Offset: -1 at creation",
         with_body("PUT", "/x.bin", creating(false) + Fields{"Upload-Offset: -1"}, "abc"), 400},
        {"the state directory (never served)",
         with_body("PUT", "/.httpfs-state/uploads/x", creating(false), "abc"), 404},
        {"If-Match on a missing file",
         with_body("PUT", "/x.bin", creating(false) + Fields{"If-Match: \"abc\""}, "abc"), 412},
        {"a malformed Repr-Digest",
         with_body("PUT", "/x.bin", creating(false) + Fields{"Repr-Digest: sha-256=abc"}, "abc"),
         400},
        {"a malformed Content-Digest",
         with_body("PUT", "/x.bin", creating(false) + Fields{"Content-Digest: sha-256=:YWJj:"},
                   "abc"),
         400},
        {"If-None-Match: * on an existing file",
         with_body("PUT", "/there.txt", creating(false) + Fields{"If-None-Match: *"}, "abc"), 412},
    };
    write_file(root / "there.txt", "was there");
    for (const Case& k : cases) {
      CAPTURE(std::string(k.what));
      const Answer a = talk(port, k.request);
      CHECK(a.interim.empty());
      CHECK(a.final.status == k.status);
    }
    const Answer a =
        talk(port, with_body("PUT", "/x.bin", creating(true) + Fields{"Upload-Length: 4"}, "abc"));
    CHECK(a.final.header("Content-Type") == "application/problem+json");
    CHECK(a.final.body.find("inconsistent-upload-length") != std::string::npos);
    CHECK(upload_records(root) == 0);
    CHECK(!file_exists(root / "x.bin"));
    CHECK(read_file(root / "there.txt") == "was there");
  }

  SUBCASE("a malformed Upload-Complete at creation is an ordinary upload") {
    for (const char* bad : {"yes", "1", "?2", "?0, ?1"}) {
      CAPTURE(bad);
      const Answer a = talk(port, with_body("PUT", "/ordinary.txt",
                                            {"Upload-Draft-Interop-Version: 8",
                                             std::string("Upload-Complete: ") + bad},
                                            bad));
      CHECK(a.interim.empty());
      CHECK((a.final.status == 201 || a.final.status == 204));
      CHECK(read_file(root / "ordinary.txt") == bad);
    }
    CHECK(upload_records(root) == 0);
  }

  SUBCASE("appends with bad fields, of the wrong type, or too long") {
    const std::string url = create(port, "/y.bin", source.substr(0, 5000),
                                   {"Upload-Length: " + std::to_string(source.size())});
    const std::string next = source.substr(5000, 100);
    auto patch_with = [&](const Fields& f) { return ask(port, with_body("PATCH", url, f, next)); };
    const Fields v8 = {"Upload-Draft-Interop-Version: 8"};
    const Fields type = {"Content-Type: application/partial-upload"};
    for (const char* offset : {"-1", "abc", "5000.0", "?1", "5000, 5000", "0x1388"}) {
      CAPTURE(offset);
      const Response r = patch_with(
          v8 + type + Fields{std::string("Upload-Offset: ") + offset, "Upload-Complete: ?0"});
      CHECK(r.status == 400);
    }
    // An offset past the length is no offset of this upload.
    Response r = patch_with(appending(source.size() + 1, false));
    CHECK(r.status == 409);
    for (const char* complete : {"1", "true", "?2", ""}) {
      CAPTURE(complete);
      r = patch_with(v8 + type +
                     Fields{"Upload-Offset: 5000", std::string("Upload-Complete: ") + complete});
      CHECK(r.status == 400);
    }
    CHECK(patch_with(v8 + type + Fields{"Upload-Complete: ?0"}).status == 400);  // no offset
    CHECK(patch_with(v8 + type + Fields{"Upload-Offset: 5000"}).status == 400);  // no complete
    for (const Fields& t : {Fields{}, Fields{"Content-Type: application/octet-stream"},
                            Fields{"Content-Type: application/offset+octet-stream"}}) {
      r = patch_with(v8 + t + Fields{"Upload-Offset: 5000", "Upload-Complete: ?0"});
      CHECK(r.status == 415);
      CHECK(r.header("Accept-Patch") == "application/partial-upload");
    }
    // Lengths that disagree, and a body that runs past the length.
    r = patch_with(appending(5000, false) + Fields{"Upload-Length: 30000"});
    CHECK(r.status == 400);
    CHECK(r.body.find("inconsistent-upload-length") != std::string::npos);
    r = patch_with(appending(5000, true));  // ?1: the upload would end at 5100, not 20000
    CHECK(r.status == 400);
    CHECK(r.body.find("inconsistent-upload-length") != std::string::npos);
    r = ask(port, with_body("PATCH", url, appending(5000, false), source.substr(5000) + "x"));
    CHECK(r.status == 400);
    CHECK(r.body.find("inconsistent-upload-length") != std::string::npos);
    // A length beyond --max-body, on an upload that had none yet.
    const Answer other = talk(port, with_body("PUT", "/z.bin", creating(false), "abc"));
    REQUIRE(other.interim.size() == 1);
    CHECK(other.interim[0].header("Upload-Limit").find("max-size=1048576") != std::string::npos);
    const std::string z = other.final.header("Location");
    r = ask(port,
            with_body("PATCH", z, appending(3, false) + Fields{"Upload-Length: 2000000"}, "d"));
    CHECK(r.status == 413);
    CHECK(offset_of(head(port, z)) == 3);
    CHECK(!file_exists(root / "z.bin"));
    // None of it moved the offset or left a file.
    const Response h = head(port, url);
    CHECK(offset_of(h) == 5000);
    check_prefix(root, url, source, 5000);
    CHECK(!file_exists(root / "y.bin"));
    // The upload still completes.
    r = ask(port, with_body("PATCH", url, appending(5000, true), source.substr(5000)));
    CHECK(r.status == 201);
    CHECK(read_file(root / "y.bin") == source);
  }

  SUBCASE("appends to a completed and to a cancelled upload; other methods") {
    const Answer a = talk(port, with_body("PUT", "/whole.bin", creating(true), source));
    REQUIRE(a.final.status == 201);
    const std::string url = a.final.header("Location");
    REQUIRE(is_upload_url(url));
    CHECK(a.final.header("Upload-Complete") == "?1");
    CHECK(read_file(root / "whole.bin") == source);
    Response r = ask(port, with_body("PATCH", url, appending(source.size(), true), ""));
    CHECK(r.status == 410);
    r = ask(port, with_body("PATCH", url, appending(source.size(), true), "more"));
    CHECK(r.status == 400);
    r = ask(port, with_body("PATCH", url, appending(source.size(), true, 6), "more"));
    CHECK(r.status == 400);
    CHECK(r.body.find("completed-upload") != std::string::npos);
    CHECK(read_file(root / "whole.bin") == source);

    const std::string gone = create(port, "/gone.bin", "abc");
    CHECK(ask(port, raw("DELETE", gone, {})).status == 204);
    CHECK(ask(port, with_body("PATCH", gone, appending(3, true), "def")).status == 404);
    CHECK(!file_exists(root / "gone.bin"));

    for (const char* m : {"GET", "PUT", "POST", "PROPFIND", "MKCOL"}) {
      CAPTURE(m);
      r = ask(port, with_body(m, url, {}, ""));
      CHECK(r.status == 405);
      CHECK(r.header("Allow") == "HEAD, PATCH, DELETE, OPTIONS");
    }
    CHECK(read_file(root / "whole.bin") == source);
  }
}

TEST_CASE("upload URLs are capabilities: guessed ids, other users, no credentials") {
  TempDir root;
  ServerProcess server(root.path(), {"--auth", "a:a", "--auth", "b:b"});
  const int port = server.port();
  const std::string source = random_bytes(10000, 8);

  // Without credentials: 401 before any upload exists, so no 104.
  Answer a = talk(port, with_body("PUT", "/mine.bin", creating(false), "abc"));
  CHECK(a.interim.empty());
  CHECK(a.final.status == 401);
  CHECK(upload_records(root) == 0);

  a = talk(port,
           with_body("PUT", "/mine.bin", creating(false) + Fields{kUserA}, source.substr(0, 4000)));
  REQUIRE(a.final.status == 201);
  const std::string url = a.final.header("Location");
  REQUIRE(is_upload_url(url));

  CHECK(head(port, url).status == 401);
  CHECK(ask(port, with_body("PATCH", url, appending(4000, true), source.substr(4000))).status ==
        401);
  CHECK(ask(port, raw("DELETE", url, {})).status == 401);
  // User b sees no upload there.
  CHECK(head(port, url, {kUserB}).status == 404);
  CHECK(ask(port,
            with_body("PATCH", url, appending(4000, true) + Fields{kUserB}, source.substr(4000)))
            .status == 404);
  CHECK(ask(port, raw("DELETE", url, {kUserB})).status == 404);
  // Guessed ids of the right form, and ids of the wrong form.
  std::mt19937 rng(8);
  for (int i = 0; i < 20; ++i) {
    std::string id;
    for (int k = 0; k < 32; ++k) id += "0123456789abcdef"[rng() % 16];
    const std::string guess = "/.httpfs-upload/" + id;
    CHECK(head(port, guess, {kUserA}).status == 404);
    CHECK(ask(port, with_body("PATCH", guess, appending(0, true) + Fields{kUserA}, "x")).status ==
          404);
  }
  const std::string upper = "/.httpfs-upload/" + [&] {
    std::string s = id_of(url);
    std::transform(s.begin(), s.end(), s.begin(), ::toupper);
    return s;
  }();
  for (const std::string& bad :
       {url.substr(0, url.size() - 1), url + "0", upper, std::string("/.httpfs-upload/"), url + "/",
        url + "/x", url + ".data", std::string("/.httpfs-upload/") + std::string(32, 'g')}) {
    CAPTURE(bad);
    CHECK(head(port, bad, {kUserA}).status == 404);
    CHECK(ask(port,
              with_body("PATCH", bad, appending(4000, true) + Fields{kUserA}, source.substr(4000)))
              .status == 404);
    CHECK(ask(port, raw("DELETE", bad, {kUserA})).status == 404);
  }
  // None of it touched the upload; its owner finishes it.
  const Response h = head(port, url, {kUserA});
  REQUIRE(h.status == 204);
  CHECK(offset_of(h) == 4000);
  CHECK(!file_exists(root / "mine.bin"));
  const Response done = ask(
      port, with_body("PATCH", url, appending(4000, true) + Fields{kUserA}, source.substr(4000)));
  CHECK(done.status == 201);
  CHECK(read_file(root / "mine.bin") == source);
}

TEST_CASE("limits on creation: uploads in all (503), per client (429), space (507)") {
  SUBCASE("--max-uploads 5") {
    TempDir root;
    ServerProcess server(root.path(), {"--max-uploads", "5"});
    std::vector<std::string> urls;
    for (int i = 0; i < 5; ++i)
      urls.push_back(create(server.port(), "/f" + std::to_string(i), "x"));
    const Answer a = talk(server.port(), with_body("PUT", "/f5", creating(false), "x"));
    CHECK(a.interim.empty());
    CHECK(a.final.status == 503);
    CHECK(a.final.has("Retry-After"));
    CHECK(upload_records(root) == 5);
    // A cancelled one makes room.
    CHECK(ask(server.port(), raw("DELETE", urls[0], {})).status == 204);
    create(server.port(), "/f5", "x");
    CHECK(!file_exists(root / "f5"));
    // So does a completed one.
    CHECK(ask(server.port(), with_body("PATCH", urls[1], appending(1, true), "y")).status == 201);
    create(server.port(), "/f6", "x");
    CHECK(talk(server.port(), with_body("PUT", "/f7", creating(false), "x")).final.status == 503);
  }
  SUBCASE("--max-client-uploads 3: per address, and per user") {
    TempDir root;
    ServerProcess server(root.path(), {"--max-client-uploads", "3"});
    for (int i = 0; i < 3; ++i) create(server.port(), "/f" + std::to_string(i), "x");
    const Answer a = talk(server.port(), with_body("PUT", "/f3", creating(false), "x"));
    CHECK(a.interim.empty());
    CHECK(a.final.status == 429);
    CHECK(upload_records(root) == 3);

    TempDir root2;
    ServerProcess users(root2.path(),
                        {"--max-client-uploads", "3", "--auth", "a:a", "--auth", "b:b"});
    for (int i = 0; i < 3; ++i) create(users.port(), "/a" + std::to_string(i), "x", {kUserA});
    CHECK(
        ask(users.port(), with_body("PUT", "/a3", creating(false) + Fields{kUserA}, "x")).status ==
        429);
    create(users.port(), "/b0", "x", {kUserB});
  }
  SUBCASE("--max-upload-space 64K") {
    TempDir root;
    ServerProcess server(root.path(), {"--max-upload-space", "64K"});
    Answer a =
        talk(server.port(),
             with_body("PUT", "/big", creating(false) + Fields{"Upload-Length: 100000"}, ""));
    CHECK(a.interim.empty());
    CHECK(a.final.status == 507);
    create(server.port(), "/half", random_bytes(40000, 1));
    a = talk(server.port(),
             with_body("PUT", "/more", creating(false) + Fields{"Upload-Length: 40000"}, ""));
    CHECK(a.interim.empty());
    CHECK(a.final.status == 507);
    CHECK(upload_records(root) == 1);
  }
}

TEST_CASE("an abandoned upload expires: 404, and its files are swept") {
  TempDir root;
  ServerProcess server(root.path(), {"--upload-expiry", "1", "--lock-sweep", "0.2"});
  const int port = server.port();
  const Answer a = talk(port, with_body("PUT", "/late.bin", creating(false), "some bytes"));
  REQUIRE(a.final.status == 201);
  CHECK(max_age(a.final.header("Upload-Limit")) <= 1);
  const std::string url = a.final.header("Location");
  CHECK(files_of(root, url).size() == 2);
  wait_until([&] { return head(port, url).status == 404; }, "the upload expired");
  wait_until([&] { return files_of(root, url).empty(); }, "the expired upload's files were swept");
  CHECK(ask(port, with_body("PATCH", url, appending(10, true), "x")).status == 404);
  CHECK(!file_exists(root / "late.bin"));
}

TEST_CASE("an upload lives at least the max-age its creation announced") {
  // Made late in a wall-clock second, an upload promised max-age=1 must still be there just
  // after that second ends (expiry is kept in whole seconds). Only a HEAD that came well within the
  // max-age is judged, so a slow machine makes this test say nothing rather than fail.
  TempDir root;
  ServerProcess server(root.path(), {"--upload-expiry", "1"});
  const int port = server.port();
  auto wall_ms = [] {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
  };
  int judged = 0;
  for (int i = 0; i < 3; ++i) {
    wait_until([&] { return wall_ms() % 1000 >= 900; }, "late in a second", 2s);
    const auto t0 = std::chrono::steady_clock::now();
    const long long second = wall_ms() / 1000;
    const Answer a = talk(port, with_body("PUT", "/f" + std::to_string(i), creating(false), "x"));
    REQUIRE(a.final.status == 201);
    CHECK(max_age(a.final.header("Upload-Limit")) <= 1);
    // A little into the next second: the clock behind time(2) may lag by a tick.
    wait_until([&] { return wall_ms() >= (second + 1) * 1000 + 100; }, "the next second", 2s);
    const int status = head(port, a.final.header("Location")).status;
    if (std::chrono::steady_clock::now() - t0 >= 800ms) continue;  // too slow to judge
    ++judged;
    CHECK_MESSAGE(status == 204, "an upload promised max-age=1 was gone within 0.8 s");
  }
  if (judged == 0) MESSAGE("the machine was too slow to judge the max-age promise");
}

TEST_CASE("a client slower than --min-body-rate is cut, and what it sent is kept") {
  TempDir root;
  ServerProcess server(root.path(), {"--body-timeout", "0.5", "--min-body-rate", "4000"});
  const int port = server.port();
  const std::string source = random_bytes(100000, 9);
  const std::string url = create(port, "/slow.bin", source.substr(0, 1000));

  RawConnection c(port);
  c.send(raw("PATCH", url, appending(1000, true) + Fields{"Content-Length: 99000"}));
  std::uint64_t sent = 1000;
  c.send(std::string_view(source).substr(sent, 10000));
  sent += 10000;
  bool cut = false;
  for (int i = 0; i < 200 && !cut; ++i) {  // 10 bytes per 50 ms: 200 B/s, for at most 10 s
    if (!c.send(std::string_view(source).substr(sent, 10))) break;
    sent += 10;
    cut = c.wait_closed(50ms);
  }
  CHECK((cut || c.wait_closed(1s)));
  const Response h = head(port, url);
  REQUIRE(h.status == 204);
  const std::uint64_t offset = offset_of(h);
  CHECK(offset >= 11000);
  CHECK(offset <= sent);
  check_prefix(root, url, source, offset);
  CHECK(!file_exists(root / "slow.bin"));
}

TEST_CASE("a newer HEAD ends an older append still open; its later bytes change nothing") {
  TempDir root;
  ServerProcess server(root.path());
  const int port = server.port();
  const std::string source = random_bytes(300000, 10);
  const std::string url = create(port, "/takeover.bin", source.substr(0, 50000));

  RawConnection old(port);
  old.send(raw("PATCH", url, appending(50000, true) + Fields{"Content-Length: 250000"}));
  old.send(std::string_view(source).substr(50000, 70000));
  wait_until([&] { return file_size(data_file(root, url)) == 120000; },
             "the old append's bytes reached the data file");

  const Response h = head(port, url);
  REQUIRE(h.status == 204);
  CHECK(offset_of(h) == 120000);
  check_prefix(root, url, source, 120000);
  // The server ends the old request at once (server/upload_registry.hpp: interrupt() "closes
  // its connection"), not when the dead client's body timeout runs out.
  CHECK_MESSAGE(old.wait_closed(5s), "the interrupted append's connection is still open");

  // The old connection's later bytes (not the source's) go nowhere: refused (409), if the
  // connection is still there to take them.
  const std::string junk(50000, 'J');
  old.send(junk);
  if (const std::optional<Response> refused = old.read_response(Method::Patch, 10s)) {
    CHECK(refused->status == 409);
    CHECK(offset_of(*refused) == 120000);
  }
  const Response r =
      ask(port, with_body("PATCH", url, appending(120000, false), source.substr(120000, 80000)));
  REQUIRE(r.status == 204);
  old.send(junk);
  const Response done =
      ask(port, with_body("PATCH", url, appending(200000, true), source.substr(200000)));
  REQUIRE(done.status == 201);
  CHECK(read_file(root / "takeover.bin") == source);
}

TEST_CASE("digests and preconditions are checked: Repr-Digest, Content-Digest, If-None-Match") {
  TempDir root;
  ServerProcess server(root.path());
  const int port = server.port();
  const std::string source = random_bytes(60000, 11);

  SUBCASE("Repr-Digest at creation is checked on the whole") {
    std::string url = create(port, "/repr.bin", source.substr(0, 30000),
                             {"Repr-Digest: " + sha256_field(source + "!")});
    Response r = ask(port, with_body("PATCH", url, appending(30000, true), source.substr(30000)));
    CHECK(r.status == 400);
    CHECK(!file_exists(root / "repr.bin"));
    CHECK(head(port, url).status == 404);
    CHECK(files_of(root, url).empty());

    // The same for an upload sent whole at creation.
    const Answer whole =
        talk(port, with_body("PUT", "/repr.bin",
                             creating(true) + Fields{"Repr-Digest: " + sha256_field(source + "!")},
                             source));
    CHECK(whole.interim.size() == 1);
    CHECK(whole.final.status == 400);
    CHECK(!file_exists(root / "repr.bin"));
    CHECK(upload_records(root) == 0);

    url = create(port, "/repr.bin", source.substr(0, 30000),
                 {"Repr-Digest: " + sha256_field(source)});
    r = ask(port, with_body("PATCH", url, appending(30000, true), source.substr(30000)));
    CHECK(r.status == 201);
    CHECK(read_file(root / "repr.bin") == source);
  }

  SUBCASE("Content-Digest is checked on one request's bytes, which are not kept") {
    const std::string url = create(port, "/content.bin", source.substr(0, 20000));
    const std::string piece = source.substr(20000, 20000);
    Response r = ask(port, with_body("PATCH", url,
                                     appending(20000, false) +
                                         Fields{"Content-Digest: " + sha256_field(piece + "!")},
                                     piece));
    CHECK(r.status == 400);
    const Response h = head(port, url);
    CHECK(offset_of(h) == 20000);
    r = ask(port,
            with_body("PATCH", url,
                      appending(20000, false) + Fields{"Content-Digest: " + sha256_field(piece)},
                      piece));
    CHECK(r.status == 204);
    CHECK(offset_of(r) == 40000);
    // The last append too: nothing is committed.
    const std::string last = source.substr(40000);
    r = ask(port, with_body("PATCH", url,
                            appending(40000, true) + Fields{"Content-Digest: " + sha256_field("x")},
                            last));
    CHECK(r.status == 400);
    CHECK(!file_exists(root / "content.bin"));
    CHECK(offset_of(head(port, url)) == 40000);
    r = ask(
        port,
        with_body("PATCH", url,
                  appending(40000, true) + Fields{"Content-Digest: " + sha256_field(last)}, last));
    CHECK(r.status == 201);
    CHECK(read_file(root / "content.bin") == source);
  }

  SUBCASE("If-None-Match: * at creation, and somebody else created the file meanwhile") {
    const std::string url =
        create(port, "/race.bin", source.substr(0, 30000), {"If-None-Match: *"});
    const Response other = ask(port, with_body("PUT", "/race.bin", {}, "the other writer's"));
    REQUIRE(other.status == 201);
    const Response r =
        ask(port, with_body("PATCH", url, appending(30000, true), source.substr(30000)));
    CHECK(r.status == 412);
    CHECK(read_file(root / "race.bin") == "the other writer's");
  }
}
