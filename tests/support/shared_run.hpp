// One run of an outside judge (Chromium) shared by the cases of a test binary: the first case
// to ask starts it; each case then gets its results, or nullptr after saying why it cannot
// run, which is a failure under CI=true (there scripts/lib.sh has installed the judge).
//
// `Judged` holds `std::string missing` (why the judge cannot run, "" when it can) and
// `bool complete` (the run got to its end). Lifetime: the results live as long as the binary.
#pragma once

#include <doctest/doctest.h>

#include <cstdlib>
#include <string_view>

namespace httpfs::test {

template <typename Judged>
const Judged* shared_run_or_skip(void (*run)(Judged&)) {
  static Judged j;
  static bool started = false;
  if (!started) {
    started = true;
    run(j);
  }
  if (!j.missing.empty()) {
    const char* ci = std::getenv("CI");
    if (ci != nullptr && std::string_view(ci) == "true")
      FAIL_CHECK("Chromium cannot run under CI: " << j.missing);
    else
      MESSAGE("skipped: " << j.missing);
    return nullptr;
  }
  REQUIRE_MESSAGE(j.complete, "the Chromium run failed (see the first case that ran)");
  return &j;
}

}  // namespace httpfs::test
