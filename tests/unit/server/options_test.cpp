#include "server/options.hpp"

#include <doctest/doctest.h>
#include <sched.h>

#include <vector>

using namespace httpfs::server;

namespace {

CommandLine parse(std::vector<const char*> args) {
  args.insert(args.begin(), "httpfs");
  return parse_command_line(static_cast<int>(args.size()), args.data());
}

}  // namespace

TEST_CASE("server command line") {
  CHECK(parse({}).options.port == 8080);
  CHECK(parse({"5678"}).options.port == 5678);
  auto cl = parse({"-v", "-p", "0", "-d", "/srv", "-b", "127.0.0.1", "-b", "::1", "--read-only",
                   "--max-body=2G", "--header-timeout", "0.5", "--cache-size", "0",
                   "--max-headers=7", "--lock-sweep", "2.5"});
  CHECK(cl.options.verbose);
  CHECK(cl.options.port == 0);
  CHECK(cl.options.dir == "/srv");
  CHECK(cl.options.binds.size() == 2);
  CHECK(cl.options.read_only);
  CHECK(cl.options.max_body == (2ull << 30));
  CHECK(cl.options.header_timeout_ms == 500);
  CHECK(cl.options.cache_bytes == 0);
  CHECK(cl.options.max_headers == 7);
  CHECK(cl.options.lock_sweep_ms == 2500);
  CHECK(parse({}).options.lock_sweep_ms == 60000);
  // Resumable uploads' limits, and their defaults.
  const ServerOptions d = parse({}).options;
  CHECK(d.upload_expiry_s == 86400);
  CHECK(d.max_uploads == 1000);
  CHECK(d.max_client_uploads == 100);
  CHECK(d.max_upload_space == (64ull << 30));
  const ServerOptions u = parse({"--upload-expiry", "60", "--max-uploads", "5",
                                 "--max-client-uploads=2", "--max-upload-space", "10M"})
                              .options;
  CHECK(u.upload_expiry_s == 60);
  CHECK(u.max_uploads == 5);
  CHECK(u.max_client_uploads == 2);
  CHECK(u.max_upload_space == (10ull << 20));
  CHECK(d.max_archive_entries == 1000000);
  CHECK(parse({"--max-archive-entries", "5"}).options.max_archive_entries == 5);
  // Compression, and its defaults.
  CHECK(d.compress);
  CHECK(d.precompressed);
  CHECK(d.compress_level == 3);
  CHECK(d.compress_min == 1024);
  CHECK(d.compress_max == (64ull << 20));
  const ServerOptions z = parse({"--compress", "off", "--precompressed=off", "--compress-level",
                                 "9", "--compress-min", "0", "--compress-max", "1M"})
                              .options;
  CHECK_FALSE(z.compress);
  CHECK_FALSE(z.precompressed);
  CHECK(z.compress_level == 9);
  CHECK(z.compress_min == 0);
  CHECK(z.compress_max == (1ull << 20));
  // The browser page.
  CHECK(d.ui);
  CHECK_FALSE(d.trust_content);
  CHECK_FALSE(parse({"--ui", "off"}).options.ui);
  CHECK(parse({"--trust-content"}).options.trust_content);
  CHECK(d.cors.empty());
  CHECK(parse({"--cors", "https://a.example", "--cors", "http://b.example:8080"}).options.cors ==
        std::vector<std::string>{"https://a.example", "http://b.example:8080"});
  CHECK(parse({"--help"}).action == CommandLine::Action::Help);
  CHECK(parse({"--version"}).action == CommandLine::Action::Version);
  for (std::vector<const char*> bad : {std::vector<const char*>{"--nope"},
                                       {"-p"},
                                       {"-p", "70000"},
                                       {"1", "2"},
                                       {"--keepalive-timeout", "0"},
                                       {"--lock-sweep", "0"},
                                       {"--upload-expiry", "-1"},
                                       {"--max-uploads", "many"},
                                       {"--max-upload-space", "1T"},
                                       {"--max-head", "10", "--max-request-line", "100"},
                                       {"--auth-all"},
                                       {"--auth", "nocolon"},
                                       {"--read-only=1"},
                                       {"--compress", "yes"},
                                       {"--compress-level", "0"},
                                       {"--compress-level", "10"},
                                       {"--precompressed"},
                                       {"--ui", "no"},
                                       {"--trust-content=yes"},
                                       {"--cors", "a.example"},
                                       {"--cors", "https://a.example/"},
                                       {"--cors", "ftp://a.example"},
                                       {"--cors", "https://"},
                                       {"--http2", "yes"},
                                       {"--http2-max-streams", "0"},
                                       {"--http2-window", "0"},
                                       {"--http2-window", "2G"},
                                       {"--http2-conn-window", "4G"},
                                       {"--workers", "0"},
                                       {"--workers", "257"},
                                       {"--workers", "two"},
                                       {"--shared-fs=yes"},
                                       // Past 1 PiB, and sizes whose product would wrap.
                                       {"--max-body", "1048577G"},
                                       {"--max-body", "17179869184G"},
                                       {"--max-body", "1125899906842625"}})
    CHECK_THROWS_AS(parse(bad), UsageError);
  CHECK(parse({"--max-body", "1048576G"}).options.max_body == 1ull << 50);
  // Workers and the shared directory: one loop and a private directory by default.
  CHECK(parse({}).options.workers == 1);
  CHECK_FALSE(parse({}).options.shared_fs);
  CHECK(parse({"--workers", "4"}).options.workers == 4);
  CHECK(parse({"--shared-fs"}).options.shared_fs);
  cpu_set_t cpus;
  CPU_ZERO(&cpus);
  REQUIRE(::sched_getaffinity(0, sizeof cpus, &cpus) == 0);
  CHECK(parse({"--workers", "auto"}).options.workers == static_cast<std::size_t>(CPU_COUNT(&cpus)));
  // HTTP/2: on by default, with its limits.
  const ServerOptions h2 = parse({}).options;
  CHECK(h2.http2);
  CHECK(h2.http2_max_streams == 100);
  CHECK(h2.http2_window == (1u << 20));
  CHECK(h2.http2_conn_window == (16u << 20));
  const ServerOptions h2set = parse({"--http2", "off", "--http2-max-streams", "8", "--http2-window",
                                     "64K", "--http2-conn-window", "2147483647"})
                                  .options;
  CHECK_FALSE(h2set.http2);
  CHECK(h2set.http2_max_streams == 8);
  CHECK(h2set.http2_window == 65536);
  CHECK(h2set.http2_conn_window == 2147483647u);
  CHECK(help_text().find("--http2-max-streams N") != std::string::npos);
  CHECK(help_text().find("--max-pipelined") != std::string::npos);
  CHECK(help_text().find("--upload-expiry") != std::string::npos);
  CHECK(help_text().find("--precompressed on|off") != std::string::npos);
}
