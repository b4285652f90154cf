// Faults and abuse around uploads and ranges (README "Security", rows 14, 15, 20, 25, 27): the
// right status, nothing half-written, the server keeps running.
#include <doctest/doctest.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <unistd.h>

#include <string>
#include <thread>

#include "common.hpp"
#include "support/http_client.hpp"

using namespace httpfs::test;
using namespace std::chrono_literals;

namespace {

std::string put_head(const std::string& path, std::uint64_t length) {
  return "PUT " + path + " HTTP/1.1\r\nHost: x\r\nContent-Length: " + std::to_string(length) +
         "\r\n\r\n";
}

}  // namespace

TEST_CASE("a file-size limit (RLIMIT_FSIZE) under the server: 507, no SIGXFSZ death, no trace") {
  TempDir dir;
  dir.mkdir("up");
  ServerProcess server(dir.path());
  rlimit small{1 << 20, 1 << 20};
  REQUIRE(::prlimit(server.pid(), RLIMIT_FSIZE, &small, nullptr) == 0);
  const std::string big = random_bytes(3 << 20, 5);
  Response r = request(server.port(), put_head("/up/big.bin", big.size()) + big);
  CHECK(r.status == 507);
  CHECK(server.process().running());  // SIGXFSZ is ignored: the write fails with EFBIG
  CHECK(entries(dir / "up").empty());
  Response ok = request(server.port(), put_head("/up/small.bin", 5) + "small");
  CHECK(ok.status == 201);
  CHECK(read_file(dir / "up/small.bin") == "small");
}

TEST_CASE("a device that fails at writeback: the upload's fsync fails, 5xx, nothing committed") {
  // An ext4 filesystem on a loop device whose backing file sits on an 8 MiB tmpfs: the
  // filesystem believes it has 50 MB free, accepts the writes into the page cache, and the
  // device fails them at writeback, which the upload's fsync reports.
  TempDir t;
  t.mkdir("mnt");
  const std::string backing = t / "backing", mnt = t / "mnt", img = backing + "/fs.img";
  TmpfsMount tmpfs(backing, "8M");
  if (!tmpfs.mounted()) {
    MESSAGE("skipped: " << tmpfs.why());
    return;
  }
  std::string dev;
  struct Cleanup {  // before the tmpfs goes: the filesystem, then the loop device
    const std::string &mnt, &dev;
    ~Cleanup() {
      ::umount2(mnt.c_str(), MNT_DETACH);
      if (!dev.empty()) run({"/usr/sbin/losetup", "-d", dev});
    }
  } cleanup{mnt, dev};
  write_file(img, "");
  REQUIRE(::truncate(img.c_str(), 64 << 20) == 0);
  if (run({"/usr/sbin/mkfs.ext4", "-q", img}).status != 0) {
    MESSAGE("skipped: mkfs.ext4 failed");
    return;
  }
  RunResult lo = run({"/usr/sbin/losetup", "-f", "--show", img});
  if (lo.status != 0) {
    MESSAGE("skipped: no loop device: " << lo.err);
    return;
  }
  dev = lo.out.substr(0, lo.out.find('\n'));
  run({"/usr/sbin/blockdev", "--setrw", dev});
  REQUIRE(::mount(dev.c_str(), mnt.c_str(), "ext4", 0, nullptr) == 0);
  ServerProcess server(mnt);
  const std::string body = random_bytes(32 << 20, 21);
  Response r = request(server.port(), put_head("/big.bin", body.size()) + body);
  MESSAGE("upload onto the failing device answered " << r.status);
  CHECK(r.status >= 500);
  CHECK(entries(mnt) == std::vector<std::string>{"lost+found"});
  CHECK(server.process().running());
  CHECK(get(server.port(), "/big.bin").status == 404);
}

TEST_CASE("an upload over --max-body: the client that keeps sending still reads the 413") {
  TempDir dir;
  dir.mkdir("up");
  ServerProcess server(dir.path(), {"--max-body", "1M"});
  SUBCASE("declared: 413 from the head, before any body byte is read") {
    RawConnection c(server.port());
    REQUIRE(c.send(put_head("/up/x.bin", 8 << 20)));
    // The client goes on sending, unaware, and reads only afterwards: a server that closed
    // with these bytes unread would reset the connection and take the 413 with it.
    const std::string chunk(64 * 1024, 'x');
    for (int i = 0; i < 16 && c.send(chunk); ++i) std::this_thread::sleep_for(20ms);
    auto r = c.read_response(httpfs::http::Method::Put, 10s);
    REQUIRE(r);
    CHECK(r->status == 413);
  }
  SUBCASE("chunked: 413 once the decoded bytes pass the limit; the partial file is removed") {
    RawConnection c(server.port());
    REQUIRE(c.send("PUT /up/y.bin HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"));
    std::thread sender([&] {
      const std::string chunk = "10000\r\n" + std::string(0x10000, 'y') + "\r\n";
      for (int i = 0; i < 32 && c.send(chunk); ++i) {  // 2 MiB
      }
      c.send("0\r\n\r\n");
    });
    auto r = c.read_response(httpfs::http::Method::Put, 10s);
    sender.join();
    REQUIRE(r);
    CHECK(r->status == 413);
  }
  CHECK(eventually([&] { return entries(dir / "up").empty(); }, 5s));
}

TEST_CASE("chunk framing out of proportion to the data: 400 after about 1 MiB, nothing kept") {
  TempDir dir;
  dir.mkdir("up");
  ServerProcess server(dir.path());
  RawConnection c(server.port());
  REQUIRE(c.send("PUT /up/f.bin HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"));
  // One data byte per 4 kB of extensions: 8 MB on the wire for 2000 bytes of body.
  const std::string chunk = "1;e=" + std::string(4000, 'z') + "\r\nx\r\n";
  for (int i = 0; i < 2000 && c.send(chunk); ++i) {
  }
  auto r = c.read_response(httpfs::http::Method::Put, 10s);
  REQUIRE(r);
  CHECK(r->status == 400);
  CHECK(eventually([&] { return entries(dir / "up").empty(); }, 5s));
}

TEST_CASE("huge declared lengths: 413 at once, nothing reserved, no overflow") {
  TempDir dir;
  dir.mkdir("up");
  ServerProcess server(dir.path());
  const int fds0 = fd_count(server.pid());
  // Over the 8 GiB default: refused from the head alone (no body is sent at all).
  for (const char* length : {"1099511627776", "9223372036854775807"}) {
    RawConnection c(server.port());
    REQUIRE(c.send(std::string("PUT /up/huge.bin HTTP/1.1\r\nHost: x\r\nContent-Length: ") +
                   length + "\r\n\r\n"));
    auto r = c.read_response(httpfs::http::Method::Put, 5s);
    REQUIRE(r);
    CHECK(r->status == 413);
  }
  // Past 2^63: not a number this server can hold, a framing error.
  Response bad = request(server.port(),
                         "PUT /up/huge.bin HTTP/1.1\r\nHost: x\r\n"
                         "Content-Length: 99999999999999999999\r\n\r\n");
  CHECK(bad.status == 400);
  CHECK(entries(dir / "up").empty());
  CHECK(eventually([&] { return fd_count(server.pid()) <= fds0; }, 5s));
}

TEST_CASE("1000 ranges in one request: bounded work, never 1000 copies") {
  TempDir dir;
  const std::string data = random_bytes(100000, 8);
  dir.write("f.bin", data);
  ServerProcess server(dir.path());
  std::string ranges = "bytes=0-";
  for (int i = 0; i < 999; ++i) ranges += ",0-";
  Response r = get(server.port(), "/f.bin", {"Range: " + ranges});
  // Merged into one (206) or ignored (200): either way the file once, not 1000 times.
  CHECK((r.status == 200 || r.status == 206 || r.status == 416));
  if (r.status != 416) CHECK(r.body == data);
  // Overlapping ranges under the cap are merged, not repeated.
  Response m = get(server.port(), "/f.bin", {"Range: bytes=0-99,50-149,100-199"});
  CHECK(m.status == 206);
  CHECK(m.body == data.substr(0, 200));
}
