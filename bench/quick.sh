#!/usr/bin/env bash
# A quick side-by-side while developing: 1 KiB keep-alive at 50 connections, pipelined x16
# and Connection: close, httpfs against the peers; req/s and server CPU per request.
#   bench/quick.sh [SECONDS] [PEER...]
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
secs=${1:-5}
shift || true
peers=("$@")
[ ${#peers[@]} -gt 0 ] || peers=("${BENCH_PEERS[@]}")
HTTPFS_BIN=${HTTPFS_BIN:-build/httpfs}
bench_tmp=$(mktemp -d)
chmod 755 "$bench_tmp"
trap 'stop_server 2>/dev/null; rm -rf "$bench_tmp"' EXIT
make_docroot "$bench_tmp/www" 1
printf "%-9s %-12s %10s %8s %8s %10s\n" server scenario req/s p50ms p99ms cpu_us/req
for peer in "${peers[@]}"; do
  port=$(free_port)
  start_server "$peer" "$bench_tmp/www" "$port"
  verify_server "$port" "$bench_tmp/www" 1k.bin
  for scenario in keepalive pipelined close; do
    args=()
    case $scenario in
      pipelined) args=(-s bench/pipeline.lua) ;;
      close) args=(-H "Connection: close") ;;
    esac
    wrk_run "$port" /1k.bin 50 1 "${args[@]}" >/dev/null  # warm-up
    c0=$(cpu_us "$SERVER_PID")
    read -r rps p50 p99 reqs < <(wrk_run "$port" /1k.bin 50 "$secs" "${args[@]}")
    c1=$(cpu_us "$SERVER_PID")
    awk -v s="$peer" -v sc="$scenario" -v r="$rps" -v a="$p50" -v b="$p99" -v n="$reqs" -v c=$((c1 - c0)) \
      'BEGIN { printf "%-9s %-12s %10.0f %8.2f %8.2f %10.2f\n", s, sc, r, a, b, (n > 0 ? c / n : 0) }'
  done
  stop_server
done
