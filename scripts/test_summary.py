#!/usr/bin/env python3
"""Counts test cases from meson's testlog.json: doctest's own summary line of each test
executable (or the "# pass N" and "# fail N" lines of node's test runner, TAP), and a test
executable that failed without printing one (a crash) as one failed case. Prints
"N passed, N failed"."""
import json
import re
import sys

SUMMARY = re.compile(r"\[doctest\] test cases:\s*(\d+)\s*\|\s*(\d+) passed\s*\|\s*(\d+) failed")
NODE_PASS = re.compile(r"^# pass (\d+)$", re.M)
NODE_FAIL = re.compile(r"^# fail (\d+)$", re.M)

passed = failed = 0
with open(sys.argv[1]) as log:
    for line in log:
        test = json.loads(line)
        out = (test.get("stdout") or "") + (test.get("stderr") or "")
        m = SUMMARY.findall(out)
        if not m and NODE_PASS.search(out) and NODE_FAIL.search(out):
            m = [("", NODE_PASS.search(out).group(1), NODE_FAIL.search(out).group(1))]
        if m:
            passed += sum(int(p) for _, p, _ in m)
            failed += sum(int(f) for _, _, f in m)
            if test.get("result") not in ("OK", "EXPECTEDFAIL") and not any(int(f) for _, _, f in m):
                failed += 1  # e.g. a crash after doctest printed its summary
        elif test.get("result") in ("OK", "SKIP"):
            passed += 0 if test.get("result") == "SKIP" else 1
        else:
            failed += 1
print(f"{passed} passed, {failed} failed")
