// GiB-sized transfers, compared byte for byte. Release build only (suite "heavy"): under the
// sanitizers they would take most of a CI run.
#include <doctest/doctest.h>

#include <atomic>
#include <csignal>
#include <thread>

#include "client/segment_map.hpp"
#include "support/cutting_proxy.hpp"
#include "support/http_client.hpp"
#include "support/scripted_server.hpp"
#include "support/wait.hpp"

using namespace httpfs::test;

namespace {

// Peak RSS growth of a process while fn runs, in KiB, sampled every 20 ms.
template <typename Fn>
long rss_growth(pid_t pid, Fn&& fn) {
  const long base = rss_kib(pid);
  long peak = base;
  std::atomic<bool> done{false};
  std::thread sampler([&] {
    while (!done) {
      peak = std::max(peak, rss_kib(pid));
      std::this_thread::sleep_for(20ms);  // a pace, not a wait: the sampling period
    }
  });
  fn();
  done = true;
  sampler.join();
  return peak - base;
}

}  // namespace

TEST_CASE("1 GiB up and down, byte for byte, in constant server memory") {
  TempDir root, src;
  REQUIRE(
      run({"/bin/sh", "-c", "head -c 1073741824 /dev/urandom > '" + src / "one.gib" + "'"}, 120s)
          .status == 0);
  ServerProcess server(root.path(), {"--access-log", "off"});

  long up_growth = rss_growth(server.pid(), [&] {
    RunResult r = curl(
        {"-o", "/dev/null", "-w", "%{http_code}", "-T", src / "one.gib", server.url("/up.gib")},
        300s);
    CHECK(r.out == "201");
  });
  CHECK(run({"/usr/bin/cmp", src / "one.gib", root / "up.gib"}, 120s).status == 0);
  MESSAGE("server RSS growth during a 1 GiB upload: " << up_growth << " KiB");
  CHECK(up_growth < 8 * 1024);

  long down_growth = rss_growth(server.pid(), [&] {
    RunResult r = curl({"-o", src / "down.gib", "-w", "%{http_code}", server.url("/up.gib")}, 300s);
    CHECK(r.out == "200");
  });
  CHECK(run({"/usr/bin/cmp", src / "one.gib", src / "down.gib"}, 120s).status == 0);
  MESSAGE("server RSS growth during a 1 GiB download: " << down_growth << " KiB");
  CHECK(down_growth < 8 * 1024);

  // Chunked, from stdin, too.
  RunResult ch = run({"/bin/sh", "-c",
                      "curl -sS -o /dev/null -w '%{http_code}' -T - " + server.url("/chunked.gib") +
                          " < '" + src / "one.gib" + "'"},
                     300s);
  CHECK(ch.out == "201");
  CHECK(run({"/usr/bin/cmp", src / "one.gib", root / "chunked.gib"}, 120s).status == 0);
}

TEST_CASE("httpc: 1 GiB up and down, byte for byte, against httpfs and nginx") {
  TempDir root, src;
  REQUIRE(
      run({"/bin/sh", "-c", "head -c 1073741824 /dev/urandom > '" + src / "one.gib" + "'"}, 120s)
          .status == 0);
  ServerProcess server(root.path(), {"--access-log", "off"});
  NginxProcess nginx(root.path());
  for (const std::string& base : {server.url("/"), nginx.url("/")}) {
    INFO(base);
    RunResult up = run({binary("httpc"), "-s", "-T", src / "one.gib", base + "up.gib"}, 300s);
    CHECK(up.status == 0);
    CHECK(run({"/usr/bin/cmp", src / "one.gib", root / "up.gib"}, 120s).status == 0);
    ::unlink((src / "down.gib").c_str());
    RunResult down = run({binary("httpc"), "-s", "-o", src / "down.gib", base + "up.gib"}, 300s);
    CHECK(down.status == 0);
    CHECK(run({"/usr/bin/cmp", src / "one.gib", src / "down.gib"}, 120s).status == 0);
    ::unlink((root / "up.gib").c_str());
  }
}

TEST_CASE("httpc --segments 4: 1 GiB from nginx, killed midway, -C - finishes it whole") {
  TempDir root, out;
  REQUIRE(
      run({"/bin/sh", "-c", "head -c 1073741824 /dev/urandom > '" + root / "one.gib" + "'"}, 120s)
          .status == 0);
  NginxProcess nginx(root.path());
  const std::string part = out / "one.gib.part", rec = part + ".segments";
  {
    // Every connection is held after 64 MiB: the download stands still, part done, when the
    // kill comes.
    CuttingProxy proxy(nginx.port(), 64 << 20, 100, CuttingProxy::Fault::Hold,
                       CuttingProxy::Direction::Download);
    Process p({binary("httpc"), "-s", "--segments", "4", "-o", out / "one.gib",
               "http://127.0.0.1:" + std::to_string(proxy.port()) + "/one.gib"});
    wait_until(
        [&] {
          if (!file_exists(rec)) return false;
          const auto m = httpfs::client::parse_segment_map(read_file(rec));
          if (!m || m->segments.size() != 4) return false;
          for (const auto& s : m->segments)
            if (s.next < s.first + (32 << 20)) return false;
          return true;
        },
        "every segment is 32 MiB along in the record", 120s);
    p.signal(SIGKILL);
    REQUIRE(p.wait(10s).has_value());
    proxy.release_held();
  }
  CHECK(!file_exists(out / "one.gib"));
  const RunResult r =
      run({binary("httpc"), "-C", "-", "-o", out / "one.gib", nginx.url("/one.gib")}, 300s);
  INFO(r.err);
  CHECK(r.status == 0);
  CHECK(r.err.find("resuming 4 segments") != std::string::npos);
  CHECK(run({"/usr/bin/cmp", root / "one.gib", out / "one.gib"}, 120s).status == 0);
  CHECK(!file_exists(rec));
  CHECK(!file_exists(part));
}

TEST_CASE("a folder of more than 4 GiB as zip (ZIP64) and tar, judged by python, in flat memory") {
  TempDir root, out;
  // Sparse: 4.5 GiB that takes no disk, with data written around the 4 GiB mark and at both
  // ends, so that a CRC or an offset cut to 32 bits shows.
  const std::string big = root / "tree/big.bin";
  REQUIRE(run({"/bin/sh", "-c",
               "mkdir -p '" + root / "tree/sub" + "' && truncate -s 4831838208 '" + big +
                   "' && for off in 0 4294967000 4831838000; do head -c 200 /dev/urandom | "
                   "dd of='" +
                   big + "' bs=1 seek=$off conv=notrunc status=none; done"},
              120s)
              .status == 0);
  write_file(root / "tree/sub/after.txt", "after the big one\n");
  write_file(root / "tree/a.txt", "first\n");
  const RunResult sum = run({"/usr/bin/sha256sum", big}, 300s);
  REQUIRE(sum.status == 0);
  const std::string want = sum.out.substr(0, 64);
  // The zip from a file (zipfile needs its central directory); the tar as a stream from
  // stdin, never written to disk.
  constexpr const char* kJudge = R"PY(
import hashlib, sys, tarfile, zipfile
kind, archive, want = sys.argv[1], sys.argv[2], sys.argv[3]
def sha(f):
    h = hashlib.sha256()
    for b in iter(lambda: f.read(1 << 22), b''):
        h.update(b)
    return h.hexdigest()
names, got, small = [], None, None
if kind == 'zip':
    with zipfile.ZipFile(archive) as z:
        names = z.namelist()
        with z.open('big.bin') as f:   # zipfile checks the CRC-32 at the end
            got = sha(f)
        small = z.read('sub/after.txt')
else:
    with tarfile.open(fileobj=sys.stdin.buffer, mode='r|') as t:
        for m in t:
            names.append(m.name + ('/' if m.isdir() else ''))
            if m.name == 'big.bin':
                got = sha(t.extractfile(m))
            elif m.name == 'sub/after.txt':
                small = t.extractfile(m).read()
assert got == want, 'big.bin differs'
assert small == b'after the big one\n', small
print(' '.join(sorted(names)))
)PY";
  ServerProcess server(root.path(), {"--access-log", "off"});
  for (const std::string kind : {"zip", "tar"}) {
    CAPTURE(kind);
    const std::string url = server.url("/tree/?download=" + kind);
    const std::string file = out / "tree.zip";
    RunResult j;
    long growth = rss_growth(server.pid(), [&] {
      if (kind == "zip") {
        RunResult r = curl({"-o", file, "-w", "%{http_code}", url}, 600s);
        CHECK(r.out == "200");
        return;
      }
      j = run({"/bin/sh", "-c",
               "curl -sSf '" + url + "' | /usr/bin/python3 -c \"$0\" tar - " + want, kJudge},
              600s);
    });
    MESSAGE("server RSS growth during a 4.5 GiB " << kind << " download: " << growth << " KiB");
    CHECK(growth < 8 * 1024);
    if (kind == "zip") j = run({"/usr/bin/python3", "-c", kJudge, kind, file, want}, 600s);
    CHECK_MESSAGE(j.status == 0, j.err);
    CHECK(j.out == "a.txt big.bin sub/ sub/after.txt\n");
  }
}
