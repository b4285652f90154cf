// GiB-sized transfers, compared byte for byte. Release build only (suite "heavy"): under the
// sanitizers they would take most of a CI run.
#include <doctest/doctest.h>

#include <atomic>
#include <thread>

#include "support/http_client.hpp"
#include "support/scripted_server.hpp"

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
