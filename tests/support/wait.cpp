#include "wait.hpp"

#include <doctest/doctest.h>

#include <thread>

namespace httpfs::test {

namespace {

constexpr std::chrono::milliseconds kPollInterval{5};

// Polls until `done`; false when the timeout passed first.
bool poll(const std::function<bool()>& done, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    if (done()) return true;
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(kPollInterval);
  }
}

}  // namespace

void wait_until(const std::function<bool()>& done, std::string_view what,
                std::chrono::milliseconds timeout, CallSite where) {
  if (poll(done, timeout)) return;
  ADD_FAIL_AT(where.file, where.line,
              "gave up after " << timeout.count() << " ms waiting until " << what);
}

std::string wait_for_output(Process& p, Stream stream, std::string_view needle,
                            std::chrono::milliseconds timeout, CallSite where) {
  std::string seen;
  bool exited = false;
  poll(
      [&] {
        // Whether it still runs is asked before reading: what it wrote before exiting is
        // then read in full.
        exited = !p.running();
        seen = stream == Stream::Out ? p.out() : p.err();
        return seen.find(needle) != std::string::npos || exited;
      },
      timeout);
  if (seen.find(needle) != std::string::npos) return seen;
  const std::string why =
      exited ? "the process exited" : "gave up after " + std::to_string(timeout.count()) + " ms";
  ADD_FAIL_AT(where.file, where.line,
              why << " waiting for \"" << needle << "\" on its "
                  << (stream == Stream::Out ? "stdout" : "stderr") << "\n--- stdout:\n"
                  << p.out() << "\n--- stderr:\n"
                  << p.err());
  return seen;
}

}  // namespace httpfs::test
