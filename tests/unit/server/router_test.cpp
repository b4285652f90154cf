// The Router: what it answers itself, and what the handler it picks gets to see. Answers go
// through the real HTTP/1 encoder into an output queue, read back as bytes.
#include "server/router.hpp"

#include <doctest/doctest.h>

#include <memory>
#include <string>

#include "http/request_parser.hpp"
#include "net/output_queue.hpp"
#include "server/http1_encoder.hpp"
#include "server/options_handler.hpp"
#include "support/process.hpp"

using namespace httpfs::server;
using httpfs::http::Method;

namespace {

// A handler that answers 200 and remembers what it was given.
struct Recorder final : Handler {
  int calls = 0;
  std::string path, user;
  Handling handle(const Request& request, Reply& reply) override {
    ++calls;
    path = request.path.path;
    user = request.user;
    reply.begin(200);
    reply.end_head(0);
    reply.finish();
    return {};
  }
};

std::string drain(httpfs::net::OutputQueue& q) {
  std::string out;
  char scratch[65536];
  std::size_t completed = 0;
  while (!q.empty()) {
    const std::string_view v = q.peek(scratch, sizeof scratch, sizeof scratch);
    out.append(v);
    q.consume(v.size(), completed);
  }
  return out;
}

struct Fixture {
  httpfs::test::TempDir dir;
  httpfs::io::Docroot root;
  ServerOptions options;
  Authenticator auth;
  std::unique_ptr<Router> router;
  Recorder* reads = nullptr;
  Recorder* writes = nullptr;
  Recorder* uploads = nullptr;  // the upload resource's handler

  void build() {
    router = std::make_unique<Router>(options, auth);
    auto r = std::make_unique<Recorder>();
    auto w = std::make_unique<Recorder>();
    reads = r.get();
    writes = w.get();
    router->add({Method::Get, Method::Head}, Router::Access::Read, std::move(r));
    router->add({Method::Put}, Router::Access::Write, std::move(w));
    auto u = std::make_unique<Recorder>();
    uploads = u.get();
    router->set_upload_resource(std::move(u));
    dir.mkdir("x");
    REQUIRE(root.open_root(dir.path(), {}) == 0);
    router->add({Method::Options}, Router::Access::Read,
                std::make_unique<OptionsHandler>(root, options, router->allow()));
  }

  // The answer to `raw` (a whole request head) as bytes.
  std::string answer(std::string raw) {
    httpfs::http::RequestParser parser;
    REQUIRE(parser.parse(raw) == httpfs::http::RequestParser::Result::Complete);
    const auto& head = parser.head();
    httpfs::net::OutputQueue out;
    Http1Encoder encoder(out, {"Thu, 01 Jan 2026 00:00:00 GMT", false, true});
    Reply reply(encoder, head.method == Method::Head);
    const auto peer = *httpfs::net::SocketAddress::parse("127.0.0.1", 1);
    Request request{head, {}, {}, peer, 0};
    Handling h = router->dispatch(request, reply);
    CHECK_FALSE(h.sink);
    CHECK_FALSE(h.job);
    CHECK(reply.finished());
    return drain(out);
  }
};

bool starts(const std::string& s, std::string_view prefix) {
  return s.starts_with(prefix);
}

}  // namespace

TEST_CASE("the handler of the method gets the normalised path") {
  Fixture f;
  f.build();
  const std::string a = f.answer("GET /dir/%61b/../c.txt HTTP/1.1\r\nHost: h\r\n\r\n");
  CHECK(starts(a, "HTTP/1.1 200 "));
  CHECK(f.reads->calls == 1);
  CHECK(f.reads->path == "/dir/c.txt");
  CHECK(f.writes->calls == 0);
}

TEST_CASE("what no handler sees: 501, 417, 400, 405 with Allow") {
  Fixture f;
  f.build();
  struct Row {
    std::string request;
    std::string_view status_line;
  };
  const Row rows[] = {
      {"BREW /pot HTTP/1.1\r\nHost: h\r\n\r\n", "HTTP/1.1 501 "},
      {"CONNECT h:443 HTTP/1.1\r\nHost: h:443\r\n\r\n", "HTTP/1.1 501 "},
      {"GET /a HTTP/1.1\r\nHost: h\r\nExpect: tea\r\n\r\n", "HTTP/1.1 417 "},
      {"GET /../../etc/passwd HTTP/1.1\r\nHost: h\r\n\r\n", "HTTP/1.1 400 "},
      {"GET /a%00b HTTP/1.1\r\nHost: h\r\n\r\n", "HTTP/1.1 400 "},
      // PATCH is implemented for upload resources: 405 elsewhere. PROPFIND has no handler
      // in this router, and TRACE none in any: 501 (RFC 9110 9.1).
      {"PATCH /a HTTP/1.1\r\nHost: h\r\n\r\n", "HTTP/1.1 405 "},
      {"PROPFIND /a HTTP/1.1\r\nHost: h\r\n\r\n", "HTTP/1.1 501 "},
      {"TRACE /a HTTP/1.1\r\nHost: h\r\n\r\n", "HTTP/1.1 501 "},
  };
  for (const Row& row : rows) {
    CAPTURE(row.request);
    const std::string a = f.answer(row.request);
    CHECK(starts(a, row.status_line));
    if (row.status_line == "HTTP/1.1 405 ")
      CHECK(a.find("\r\nAllow: GET, HEAD, PUT, OPTIONS\r\n") != std::string::npos);
  }
  CHECK(f.reads->calls == 0);
  CHECK(f.writes->calls == 0);
}

TEST_CASE("OPTIONS *: what the server serves; a path: what it accepts, and DAV") {
  Fixture f;
  f.build();
  std::string a = f.answer("OPTIONS * HTTP/1.1\r\nHost: h\r\n\r\n");
  CHECK(starts(a, "HTTP/1.1 200 "));
  CHECK(a.find("\r\nAllow: GET, HEAD, PUT, OPTIONS\r\n") != std::string::npos);
  CHECK(a.find("\r\nDAV: 1, 2\r\n") != std::string::npos);
  a = f.answer("OPTIONS /x HTTP/1.1\r\nHost: h\r\n\r\n");  // a collection
  CHECK(a.find("\r\nAllow: GET, HEAD, DELETE, OPTIONS, PROPFIND, PROPPATCH, COPY, MOVE, LOCK, "
               "UNLOCK\r\n") != std::string::npos);
  a = f.answer("OPTIONS /missing HTTP/1.1\r\nHost: h\r\n\r\n");
  CHECK(a.find("\r\nAllow: OPTIONS, PUT, POST, MKCOL, LOCK\r\n") != std::string::npos);

  Fixture ro;
  ro.options.read_only = true;
  ro.build();
  a = ro.answer("OPTIONS * HTTP/1.1\r\nHost: h\r\n\r\n");
  CHECK(a.find("\r\nAllow: GET, HEAD, OPTIONS\r\n") != std::string::npos);
  a = ro.answer("OPTIONS /x HTTP/1.1\r\nHost: h\r\n\r\n");
  CHECK(a.find("\r\nAllow: GET, HEAD, OPTIONS, PROPFIND\r\n") != std::string::npos);
}

TEST_CASE("the state directory is never served") {
  Fixture f;
  f.build();
  f.options.show_hidden = true;
  CHECK(starts(f.answer("GET /.httpfs-state/locks HTTP/1.1\r\nHost: h\r\n\r\n"), "HTTP/1.1 404 "));
  CHECK(starts(f.answer("PUT /.httpfs-state HTTP/1.1\r\nHost: h\r\n\r\n"), "HTTP/1.1 404 "));
  CHECK(f.reads->calls == 0);
  CHECK(f.writes->calls == 0);
}

TEST_CASE("credentials: required for writes, for reads only with --auth-all") {
  Fixture f;
  f.auth.add_plain("alice:secret");
  f.build();
  const std::string good = "Authorization: Basic YWxpY2U6c2VjcmV0\r\n";  // alice:secret
  const std::string bad = "Authorization: Basic YWxpY2U6d3Jvbmc=\r\n";   // alice:wrong

  std::string a = f.answer("GET /a HTTP/1.1\r\nHost: h\r\n\r\n");
  CHECK(starts(a, "HTTP/1.1 200 "));
  a = f.answer("PUT /a HTTP/1.1\r\nHost: h\r\n\r\n");
  CHECK(starts(a, "HTTP/1.1 401 "));
  CHECK(a.find("\r\nWWW-Authenticate: Basic realm=\"httpfs\"") != std::string::npos);
  a = f.answer("PUT /a HTTP/1.1\r\nHost: h\r\n" + bad + "\r\n");
  CHECK(starts(a, "HTTP/1.1 401 "));
  CHECK(f.writes->calls == 0);
  a = f.answer("PUT /a HTTP/1.1\r\nHost: h\r\n" + good + "\r\n");
  CHECK(starts(a, "HTTP/1.1 200 "));
  CHECK(f.writes->calls == 1);
  CHECK(f.writes->user == "alice");

  Fixture all;
  all.options.auth_all = true;
  all.auth.add_plain("alice:secret");
  all.build();
  CHECK(starts(all.answer("GET /a HTTP/1.1\r\nHost: h\r\n\r\n"), "HTTP/1.1 401 "));
  CHECK(starts(all.answer("GET /a HTTP/1.1\r\nHost: h\r\n" + good + "\r\n"), "HTTP/1.1 200 "));
  CHECK(all.reads->user == "alice");
}

TEST_CASE("upload resources: every method reaches their handler, and each is a write") {
  Fixture f;
  f.auth.add_plain("alice:secret");
  f.build();
  const std::string good = "Authorization: Basic YWxpY2U6c2VjcmV0\r\n";  // alice:secret
  const std::string id = "/.httpfs-upload/0123456789abcdef0123456789abcdef";
  // Without credentials: 401, whatever the method (HEAD is a read elsewhere).
  for (const char* method : {"HEAD", "PATCH", "DELETE", "GET"})
    CHECK(starts(f.answer(std::string(method) + " " + id + " HTTP/1.1\r\nHost: h\r\n\r\n"),
                 "HTTP/1.1 401 "));
  CHECK(f.uploads->calls == 0);
  // PATCH is registered nowhere else, yet reaches the upload handler.
  CHECK(starts(f.answer("PATCH " + id + " HTTP/1.1\r\nHost: h\r\n" + good + "\r\n"),
               "HTTP/1.1 200 "));
  CHECK(starts(f.answer("HEAD /./.httpfs-upload/x/../y HTTP/1.1\r\nHost: h\r\n" + good + "\r\n"),
               "HTTP/1.1 200 "));
  CHECK(f.uploads->calls == 2);
  CHECK(f.uploads->path == "/.httpfs-upload/y");
  CHECK(f.uploads->user == "alice");
  CHECK(f.reads->calls == 0);
  // Elsewhere PATCH is still a method this server does not serve.
  CHECK(starts(f.answer("PATCH /a HTTP/1.1\r\nHost: h\r\n" + good + "\r\n"), "HTTP/1.1 405 "));
}

TEST_CASE("OPTIONS offers resumable uploads, unless read-only") {
  Fixture f;
  f.build();
  std::string a = f.answer("OPTIONS /missing HTTP/1.1\r\nHost: h\r\n\r\n");
  CHECK(a.find("\r\nAccept-Patch: application/partial-upload\r\n") != std::string::npos);
  CHECK(a.find("\r\nUpload-Limit: max-size=8589934592, min-size=0\r\n") != std::string::npos);
  Fixture ro;
  ro.options.read_only = true;
  ro.build();
  a = ro.answer("OPTIONS /missing HTTP/1.1\r\nHost: h\r\n\r\n");
  CHECK(a.find("Accept-Patch") == std::string::npos);
  CHECK(a.find("Upload-Limit") == std::string::npos);
}
