// httpfs: serve a directory over HTTP/1.1 and HTTP/2. Argument parsing, logging set-up, exit codes.
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>
#include <uv.h>

#include <csignal>
#include <cstdio>
#include <exception>
#include <memory>

#include "io/file_sink.hpp"
#include "server/options.hpp"
#include "server/workers.hpp"

namespace {

constexpr int kExitUsage = 2;

// With several worker loops, each line names its thread (the kernel's thread id, as
// /proc/PID/task/TID lists it, whose comm is "httpfs-wN").
void setup_logging(bool verbose, std::size_t workers) {
  auto logger =
      std::make_shared<spdlog::logger>("httpfs", std::make_shared<spdlog::sinks::stderr_sink_mt>());
  logger->set_pattern(workers > 1 ? "%Y-%m-%dT%H:%M:%S.%e %l [%t] %v"
                                  : "%Y-%m-%dT%H:%M:%S.%e %l %v");
  logger->set_level(verbose ? spdlog::level::debug : spdlog::level::info);
  logger->flush_on(spdlog::level::debug);
  spdlog::set_default_logger(logger);
}

}  // namespace

int main(int argc, char** argv) {
  // Writes to a peer that went away must fail with EPIPE, not kill the process.
  std::signal(SIGPIPE, SIG_IGN);
  // A write past RLIMIT_FSIZE fails with EFBIG (an upload error) instead of killing us.
  std::signal(SIGXFSZ, SIG_IGN);
  httpfs::server::CommandLine cl;
  try {
    cl = httpfs::server::parse_command_line(argc, argv);
  } catch (const httpfs::server::UsageError& e) {
    std::fprintf(stderr, "httpfs: %s\nTry 'httpfs --help'.\n", e.what());
    return kExitUsage;
  }
  if (cl.action == httpfs::server::CommandLine::Action::Help) {
    std::fputs(httpfs::server::help_text().c_str(), stdout);
    return 0;
  }
  if (cl.action == httpfs::server::CommandLine::Action::Version) {
    std::puts("httpfs " HTTPFS_VERSION);
    return 0;
  }
  setup_logging(cl.options.verbose, cl.options.workers);

  // Other hosts see the directory too: temporary files get names, never O_TMPFILE.
  httpfs::io::use_named_temps_only(cl.options.shared_fs);

  try {
    httpfs::server::Workers workers(cl.options);
    if (std::string err = workers.start(); !err.empty()) {
      std::fprintf(stderr, "httpfs: %s\n", err.c_str());
      return kExitUsage;
    }
    std::string line = "httpfs " HTTPFS_VERSION " serving " + workers.docroot().path();
    if (cl.options.workers > 1) line += " (" + std::to_string(cl.options.workers) + " workers)";
    line += " at";
    for (const std::string& url : workers.urls()) line += " " + url;
    std::puts(line.c_str());
    std::fflush(stdout);
    return workers.run();
  } catch (const std::exception& e) {
    spdlog::critical("{}", e.what());
    return 1;
  }
}
