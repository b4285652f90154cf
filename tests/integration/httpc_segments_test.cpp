// httpc --segments N: one file as N ranges over N connections into one .part file, judged
// against httpfs and nginx (the bytes equal the file), through a proxy that cuts or holds
// connections after a number of bytes (segments asked again; a kill -9 and -C -), and
// against servers that do not serve ranges or whose file changes (one stream instead).
#include <doctest/doctest.h>
#include <sys/stat.h>

#include <csignal>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "client/segment_map.hpp"
#include "support/cutting_proxy.hpp"
#include "support/http_client.hpp"
#include "support/process.hpp"
#include "support/scripted_server.hpp"
#include "support/wait.hpp"

using namespace httpfs::test;
using namespace std::chrono_literals;
namespace client = httpfs::client;

namespace {

RunResult httpc(std::vector<std::string> args) {
  args.insert(args.begin(), binary("httpc"));
  return run(std::move(args), 120s);
}

std::size_t count(const std::string& text, std::string_view needle) {
  std::size_t n = 0;
  for (std::size_t at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1))
    ++n;
  return n;
}

std::string proxied(const CuttingProxy& p, const std::string& path) {
  return "http://127.0.0.1:" + std::to_string(p.port()) + path;
}

std::optional<client::SegmentMap> record(const std::string& path) {
  if (!file_exists(path)) return std::nullopt;
  return client::parse_segment_map(read_file(path));
}

// Runs httpc with 4 segments (through a proxy that holds its connections after some bytes),
// waits until the segment record shows every segment under way, and kills it (-9).
void download_and_kill(const std::string& url, const std::string& out) {
  Process p({binary("httpc"), "-s", "--segments", "4", "-o", out, url});
  const std::string rec = out + ".part.segments";
  wait_until(
      [&] {
        const auto m = record(rec);
        if (!m || m->segments.size() != 4) return false;
        for (const client::Segment& s : m->segments)
          if (s.next == s.first) return false;
        return true;
      },
      "every segment has bytes in the record");
  p.signal(SIGKILL);
  REQUIRE(p.wait(10s).has_value());
}

}  // namespace

TEST_CASE("--segments 4 against httpfs and nginx: four ranges, the file byte for byte") {
  TempDir root, out;
  const std::string data = random_bytes(12 << 20, 3);
  root.write("big.bin", data);
  root.write("small.bin", "too small to split");
  ServerProcess server(root.path());
  NginxProcess nginx(root.path());
  for (const std::string& base : {server.url("/"), nginx.url("/")}) {
    CAPTURE(base);
    std::filesystem::remove(out / "big.bin");
    const RunResult r = httpc({"-v", "--segments", "4", "-o", out / "big.bin", base + "big.bin"});
    INFO(r.err);
    REQUIRE(r.status == 0);
    CHECK(r.err.find("in 4 segments") != std::string::npos);
    CHECK(read_file(out / "big.bin") == data);
    CHECK(!file_exists(out / "big.bin.part"));
    CHECK(!file_exists(out / "big.bin.part.segments"));
    // A file under a segment's worth goes as one stream.
    const RunResult s =
        httpc({"-v", "--segments", "4", "-o", out / "small.bin", base + "small.bin"});
    CHECK(s.status == 0);
    CHECK(s.err.find("Not segmented") != std::string::npos);
    CHECK(read_file(out / "small.bin") == "too small to split");
    std::filesystem::remove(out / "small.bin");
  }
  // httpfs saw the plan's GET and one 206 per segment, each pinned to the ETag.
  const std::string log = server.access_log();
  CHECK(count(log, "\"GET /big.bin HTTP/1.1\" 206 ") == 4);
  // The mtime is the server's Last-Modified (whole seconds).
  struct stat mine {
  }, theirs{};
  REQUIRE(::stat((out / "big.bin").c_str(), &mine) == 0);
  REQUIRE(::stat((root / "big.bin").c_str(), &theirs) == 0);
  CHECK(mine.st_mtime == theirs.st_mtime);
  // Usage: a file to write, and nothing that cannot be cut in ranges.
  CHECK(httpc({"--segments", "4", server.url("/big.bin")}).status == 2);
  CHECK(
      httpc({"--segments", "4", "--compressed", "-o", out / "x", server.url("/big.bin")}).status ==
      2);
  CHECK(httpc({"--segments", "17", "-o", out / "x", server.url("/big.bin")}).status == 2);
}

TEST_CASE("a segment cut midway is asked again from its next byte") {
  TempDir root, out;
  const std::string data = random_bytes(8 << 20, 5);
  root.write("f.bin", data);
  ServerProcess server(root.path());
  CuttingProxy proxy(server.port(), 700 << 10, 3, CuttingProxy::Fault::Cut,
                     CuttingProxy::Direction::Download);
  const RunResult r =
      httpc({"-v", "--segments", "4", "-o", out / "f.bin", proxied(proxy, "/f.bin")});
  INFO(r.err);
  REQUIRE(r.status == 0);
  CHECK(proxy.faults_done() == 3);
  CHECK(count(r.err, "again from byte") >= 2);  // the plan's own cut is not a segment's
  CHECK(read_file(out / "f.bin") == data);
}

TEST_CASE("killed mid-download: -C - continues every segment where its record says") {
  TempDir root, out;
  const std::string data = random_bytes(16 << 20, 9);
  root.write("f.bin", data);
  ServerProcess server(root.path());
  {
    CuttingProxy proxy(server.port(), 1 << 20, 100, CuttingProxy::Fault::Hold,
                       CuttingProxy::Direction::Download);
    download_and_kill(proxied(proxy, "/f.bin"), out / "f.bin");
    proxy.release_held();
  }
  const auto before = record(out / "f.bin.part.segments");
  REQUIRE(before.has_value());
  CHECK(!file_exists(out / "f.bin"));
  CHECK(std::filesystem::file_size(out / "f.bin.part") == data.size());
  const std::uint64_t had = before->length - before->remaining();
  CHECK(had > 0);
  // A plain -C - without --segments still finds the record and uses it.
  const RunResult r = httpc({"-C", "-", "-o", out / "f.bin", server.url("/f.bin")});
  INFO(r.err);
  REQUIRE(r.status == 0);
  CHECK(r.err.find("resuming 4 segments") != std::string::npos);
  CHECK(read_file(out / "f.bin") == data);
  CHECK(!file_exists(out / "f.bin.part.segments"));
  // Four more range requests: what was missing, from each segment's next byte.
  CHECK(had < data.size());
  CHECK(count(server.access_log(), "\"GET /f.bin HTTP/1.1\" 206 ") >= 8);
}

TEST_CASE("the file changed between the kill and -C -: the new version, as one stream") {
  TempDir root, out;
  const std::string old_data = random_bytes(8 << 20, 11);
  const std::string new_data = random_bytes(8 << 20, 12);  // the same length: If-Range tells
  root.write("f.bin", old_data);
  ServerProcess server(root.path());
  {
    CuttingProxy proxy(server.port(), 512 << 10, 100, CuttingProxy::Fault::Hold,
                       CuttingProxy::Direction::Download);
    download_and_kill(proxied(proxy, "/f.bin"), out / "f.bin");
    proxy.release_held();
  }
  REQUIRE(record(out / "f.bin.part.segments").has_value());
  root.write("f.bin", new_data);
  const RunResult r = httpc({"-C", "-", "-o", out / "f.bin", server.url("/f.bin")});
  INFO(r.err);
  REQUIRE(r.status == 0);
  CHECK(r.err.find("fetching it as one stream") != std::string::npos);
  CHECK(read_file(out / "f.bin") == new_data);
  CHECK(!file_exists(out / "f.bin.part.segments"));
  // A record that cannot be trusted is dropped, and the download starts again.
  write_file(out / "g.bin.part", std::string(100, 'x'));
  write_file(out / "g.bin.part.segments", "httpc-segments 1\nlength 5\n");
  root.write("g.bin", "fresh");
  const RunResult g = httpc({"-C", "-", "-o", out / "g.bin", server.url("/g.bin")});
  CHECK(g.status == 0);
  CHECK(g.err.find("cannot be trusted") != std::string::npos);
  CHECK(read_file(out / "g.bin") == "fresh");
}

TEST_CASE("a server that answers ranges with the whole file: one stream, the same bytes") {
  const std::string data = random_bytes(6 << 20, 13);
  ScriptedServer s([&](const ReceivedRequest&, int) {
    return ScriptedReply::bytes(
        "HTTP/1.1 200 OK\r\nContent-Length: " + std::to_string(data.size()) +
        "\r\nAccept-Ranges: bytes\r\nETag: \"same\"\r\n"
        "Connection: close\r\n\r\n" +
        data);
  });
  TempDir out;
  const RunResult r = httpc({"--segments", "3", "-o", out / "f.bin", s.url("/f.bin")});
  INFO(r.err);
  REQUIRE(r.status == 0);
  CHECK(r.err.find("fetching it as one stream") != std::string::npos);
  CHECK(read_file(out / "f.bin") == data);
  CHECK(!file_exists(out / "f.bin.part.segments"));
  // Every range request carried If-Range with the plan's validator.
  for (const ReceivedRequest& req : s.requests())
    if (!req.header("Range").empty()) CHECK(req.header("If-Range") == "\"same\"");
}

TEST_CASE("a Repr-Digest that the finished file does not match: nothing is saved") {
  const std::string data = random_bytes(3 << 20, 17);
  const std::string digest = "sha-256=:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=:";
  ScriptedServer s([&](const ReceivedRequest& req, int) {
    const std::string range = req.header("Range");
    std::string head = "Accept-Ranges: bytes\r\nETag: \"v\"\r\nRepr-Digest: " + digest +
                       "\r\nConnection: close\r\n";
    if (range.empty())
      return ScriptedReply::bytes("HTTP/1.1 200 OK\r\nContent-Length: " +
                                  std::to_string(data.size()) + "\r\n" + head + "\r\n" + data);
    const std::size_t dash = range.find('-');
    const std::size_t first = std::stoull(range.substr(6, dash - 6));
    const std::size_t last = std::stoull(range.substr(dash + 1));
    return ScriptedReply::bytes(
        "HTTP/1.1 206 Partial Content\r\nContent-Length: " + std::to_string(last + 1 - first) +
        "\r\nContent-Range: bytes " + std::to_string(first) + "-" + std::to_string(last) + "/" +
        std::to_string(data.size()) + "\r\n" + head + "\r\n" +
        data.substr(first, last + 1 - first));
  });
  TempDir out;
  const RunResult r = httpc({"--segments", "3", "-o", out / "f.bin", s.url("/f.bin")});
  CHECK(r.status == 10);
  CHECK(r.err.find("does not match the digest") != std::string::npos);
  CHECK(!file_exists(out / "f.bin"));
  CHECK(!file_exists(out / "f.bin.part"));
  CHECK(!file_exists(out / "f.bin.part.segments"));
}
