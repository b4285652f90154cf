#!/usr/bin/env bash
# Parser benchmark: wall-clock throughput (best of interleaved rounds, pinned to one core)
# and, as a measure that does not depend on the machine's noise, instructions per request
# counted by callgrind for each parser on each input.
#   bench/parser.sh [BUILD_DIR]      (default: build)
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
ninja -C "$build" bench/parser_bench >/dev/null
bin=$build/bench/parser_bench
core=$(( $(nproc) - 1 ))
echo "### Throughput (best of 9 rounds, taskset -c $core)"
echo
taskset -c "$core" "$bin" 9 0.3
echo
if command -v valgrind >/dev/null; then
  echo "### Instructions per request (callgrind, 20000 parses each)"
  echo
  echo "| input | httpfs | http-parser | ratio |"
  echo "|---|---:|---:|---:|"
  names=("browser GET" "curl GET" "wrk GET" "PUT chunked")
  for i in 0 1 2 3; do
    count() {
      local out base
      out=$(valgrind --tool=callgrind --callgrind-out-file=/dev/null "$bin" --count "$1" "$i" "$2" 2>&1 |
            sed -n 's/.*Collected : \([0-9]*\).*/\1/p')
      echo "$out"
    }
    # Subtract a run of 0 parses so start-up costs cancel out.
    a=$(( ($(count httpfs 20000) - $(count httpfs 0)) / 20000 ))
    b=$(( ($(count http-parser 20000) - $(count http-parser 0)) / 20000 ))
    awk -v n="${names[$i]}" -v a="$a" -v b="$b" 'BEGIN { printf "| %s | %d | %d | %.2fx |\n", n, a, b, b / a }'
  done
fi
