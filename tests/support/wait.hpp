// Waiting for what a test has set in motion (a log line, a file, a socket, a process) to have
// happened, instead of sleeping for a fixed time: that is too long on a fast machine and too
// short on a loaded one.
#pragma once

#include <chrono>
#include <functional>
#include <string>
#include <string_view>

#include "process.hpp"

namespace httpfs::test {

// Where a wait was called from, for its failure message. (std::source_location would do, but
// clang 14, which builds the fuzz targets, cannot use libstdc++'s.)
struct CallSite {
  const char* file;
  int line;
};

// Generous on purpose: a wait ends as soon as its condition holds, so only a failing test pays
// for the length, and a slow machine (sanitizers, other jobs) does not make a test fail.
inline constexpr std::chrono::milliseconds kWaitTimeout = std::chrono::seconds(30);

// Polls `done` every few milliseconds until it returns true. When `timeout` passes first, the
// test fails at the caller's line, as a failed REQUIRE does (the test case ends), saying
// "gave up after N ms waiting until <what>".
void wait_until(const std::function<bool()>& done, std::string_view what,
                std::chrono::milliseconds timeout = kWaitTimeout,
                CallSite where = {__builtin_FILE(), __builtin_LINE()});

enum class Stream { Out, Err };

// Waits until `p` has written `needle` to its stdout or stderr and returns all that stream
// holds then. Fails the test as wait_until does, with both streams, on timeout or at once
// when the process exits without writing it.
std::string wait_for_output(Process& p, Stream stream, std::string_view needle,
                            std::chrono::milliseconds timeout = kWaitTimeout,
                            CallSite where = {__builtin_FILE(), __builtin_LINE()});

}  // namespace httpfs::test
