// httpfs: serve a directory over HTTP/1.1. Argument parsing, logging set-up, exit codes.
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>
#include <uv.h>

#include <csignal>
#include <cstdio>
#include <exception>
#include <memory>

#include "server/options.hpp"
#include "server/server.hpp"

namespace {

constexpr int kExitUsage = 2;

void setup_logging(bool verbose) {
  auto logger =
      std::make_shared<spdlog::logger>("httpfs", std::make_shared<spdlog::sinks::stderr_sink_st>());
  logger->set_pattern("%Y-%m-%dT%H:%M:%S.%e %l %v");
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
  setup_logging(cl.options.verbose);

  try {
    uv_loop_t loop;
    uv_loop_init(&loop);
    int exit_code = 0;
    {
      auto server = std::make_unique<httpfs::server::Server>(&loop, cl.options);
      if (std::string err = server->start(); !err.empty()) {
        std::fprintf(stderr, "httpfs: %s\n", err.c_str());
        exit_code = kExitUsage;
      } else {
        std::string line = "httpfs " HTTPFS_VERSION " serving " + server->docroot().path() + " at";
        for (const std::string& url : server->urls()) line += " " + url;
        std::puts(line.c_str());
        std::fflush(stdout);
      }
      // Also after a failed start: it runs the close callbacks of what was opened.
      uv_run(&loop, UV_RUN_DEFAULT);
    }
    if (int r = uv_loop_close(&loop); r != 0) {
      spdlog::error("event loop did not close cleanly: {}", uv_strerror(r));
      return 1;
    }
    return exit_code;
  } catch (const std::exception& e) {
    spdlog::critical("{}", e.what());
    return 1;
  }
}
