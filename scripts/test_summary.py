#!/usr/bin/env python3
"""Counts test cases from meson's testlog.json: doctest's own summary line of each test
executable, and a test executable that failed without printing one (a crash) as one failed
case. Prints "N passed, N failed"."""
import json
import re
import sys

SUMMARY = re.compile(r"\[doctest\] test cases:\s*(\d+)\s*\|\s*(\d+) passed\s*\|\s*(\d+) failed")

passed = failed = 0
with open(sys.argv[1]) as log:
    for line in log:
        test = json.loads(line)
        out = (test.get("stdout") or "") + (test.get("stderr") or "")
        m = SUMMARY.findall(out)
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
