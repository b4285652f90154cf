// httpc: one HTTP request from the command line. Argument parsing and exit codes; the work
// is in client::run().
#include <csignal>
#include <cstdio>
#include <exception>

#include "client/client.hpp"
#include "client/options.hpp"

int main(int argc, char** argv) {
  using namespace httpfs::client;
  // A reader that went away (httpc URL | head) must give EPIPE, not kill the process.
  std::signal(SIGPIPE, SIG_IGN);
  // A download past RLIMIT_FSIZE fails with EFBIG (a local file error) instead of killing us.
  std::signal(SIGXFSZ, SIG_IGN);
  Command cmd;
  try {
    cmd = parse_command_line(argc, argv);
    if (cmd.action == Command::Action::Help) {
      std::fputs(help_text(cmd.help_topic).c_str(), stdout);
      return kOk;
    }
  } catch (const UsageError& e) {
    std::fprintf(stderr, "httpc: %s\nTry 'httpc help'.\n", e.what());
    return kUsage;
  }
  if (cmd.action == Command::Action::Version) {
    std::puts("httpc " HTTPFS_VERSION);
    return kOk;
  }
  try {
    return run(cmd.options);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "httpc: internal error: %s\n", e.what());
    return kInternal;
  }
}
