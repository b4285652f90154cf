# Benchmark helpers, sourced by bench/run and bench/quick.sh.
#
# Every server runs with one worker (process or thread), access log off, keep-alive limits
# raised and sendfile on where it has it, pinned to SERVER_CPU; the load generator runs on
# LOAD_CPU. Each server's CPU time comes from /proc/<pid>/stat before and after a run.

BENCH_PEERS=(httpfs nginx lighttpd h2o)
NCPU=$(nproc)
SERVER_CPU=${SERVER_CPU:-$((NCPU - 1))}
LOAD_CPU=${LOAD_CPU:-0}

# bench_tmp: a scratch directory for configs, docroot and logs (set by the caller).

# Port 0 is not an option for the peers: pick a free one.
free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# CPU time of a process (and its threads) in microseconds.
cpu_us() {
  awk -v tck="$(getconf CLK_TCK)" '{ print int(($14 + $15) * 1000000 / tck) }' "/proc/$1/stat"
}

rss_kib() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"; }

wait_port() {
  for _ in $(seq 1 200); do
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
    sleep 0.05
  done
  echo "server did not listen on $1" >&2
  return 1
}

# start_server NAME DOCROOT PORT -> SERVER_PID
start_server() {
  local name=$1 root=$2 port=$3 conf
  mkdir -p "$bench_tmp/$name"
  case $name in
    httpfs)
      taskset -c "$SERVER_CPU" "$HTTPFS_BIN" -b 127.0.0.1 -p "$port" -d "$root" --access-log off \
        --keepalive-timeout 120 --max-pipelined 64 >"$bench_tmp/$name/out" 2>&1 &
      ;;
    ceiling)
      taskset -c "$SERVER_CPU" "$CEILING_BIN" "$port" "$root/1k.bin" >"$bench_tmp/$name/out" 2>&1 &
      ;;
    nginx)
      conf=$bench_tmp/nginx/nginx.conf
      mkdir -p "$bench_tmp/nginx/body"
      cat >"$conf" <<EOF
worker_processes 1;
master_process off;
daemon off;
pid $bench_tmp/nginx/nginx.pid;
error_log $bench_tmp/nginx/error.log warn;
worker_rlimit_nofile 40000;
events { worker_connections 20000; use epoll; multi_accept on; }
http {
  access_log off;
  sendfile on;
  tcp_nopush on;
  tcp_nodelay on;
  keepalive_requests 100000000;
  keepalive_timeout 120s;
  default_type application/octet-stream;
  client_body_temp_path $bench_tmp/nginx/body;
  proxy_temp_path $bench_tmp/nginx/body;
  fastcgi_temp_path $bench_tmp/nginx/body;
  uwsgi_temp_path $bench_tmp/nginx/body;
  scgi_temp_path $bench_tmp/nginx/body;
  server {
    listen 127.0.0.1:$port;
    root $root;
    location / {
      dav_methods PUT DELETE;
      create_full_put_path on;
      client_max_body_size 0;
    }
  }
}
EOF
      taskset -c "$SERVER_CPU" nginx -c "$conf" >"$bench_tmp/nginx/out" 2>&1 &
      ;;
    lighttpd)
      conf=$bench_tmp/lighttpd/lighttpd.conf
      cat >"$conf" <<EOF
server.document-root = "$root"
server.bind = "127.0.0.1"
server.port = $port
server.errorlog = "$bench_tmp/lighttpd/error.log"
server.max-keep-alive-requests = 100000000
server.max-keep-alive-idle = 120
server.max-fds = 40000
server.max-connections = 20000
server.network-backend = "sendfile"
mimetype.assign = ( ".bin" => "application/octet-stream", ".html" => "text/html" )
EOF
      taskset -c "$SERVER_CPU" lighttpd -D -f "$conf" >"$bench_tmp/lighttpd/out" 2>&1 &
      ;;
    h2o)
      conf=$bench_tmp/h2o/h2o.conf
      cat >"$conf" <<EOF
listen:
  host: 127.0.0.1
  port: $port
num-threads: 1
max-connections: 20000
http1-request-timeout: 120
error-log: $bench_tmp/h2o/error.log
hosts:
  default:
    paths:
      /:
        file.dir: $root
EOF
      taskset -c "$SERVER_CPU" h2o -c "$conf" >"$bench_tmp/h2o/out" 2>&1 &
      ;;
    *) echo "unknown server $name" >&2; return 1 ;;
  esac
  SERVER_PID=$!
  wait_port "$port"
}

stop_server() {
  kill "$SERVER_PID" 2>/dev/null
  wait "$SERVER_PID" 2>/dev/null
  SERVER_PID=
}

# Generates the docroot: small files and a large one. World-readable, because h2o (and
# nginx with a master process) drop privileges to 'nobody' when started as root.
make_docroot() {
  local root=$1 big_mib=${2:-1024}
  mkdir -p "$root"
  head -c 1024 /dev/urandom >"$root/1k.bin"
  head -c 102400 /dev/urandom >"$root/100k.bin"
  [ -f "$root/big.bin" ] || dd if=/dev/urandom of="$root/big.bin" bs=1M count="$big_mib" status=none
  chmod -R a+rX "$root"
  local d=$root
  while [ "$d" != / ]; do chmod a+x "$d"; d=$(dirname "$d"); done
}

# verify_server PORT DOCROOT FILE: the server must answer 200 with the file's exact bytes
# (a misconfigured peer answering 403 fast would otherwise win every benchmark).
verify_server() {
  local port=$1 root=$2 file=$3 got
  got=$(curl -s -o "$bench_tmp/verify.out" -w '%{http_code}' "http://127.0.0.1:$port/$file")
  if [ "$got" != 200 ] || ! cmp -s "$bench_tmp/verify.out" "$root/$file"; then
    echo "server on port $port does not serve $file correctly (HTTP $got)" >&2
    return 1
  fi
}

# wrk_run PORT PATH CONNECTIONS SECONDS [extra wrk args] -> prints "req_per_s p50_ms p99_ms requests"
wrk_run() {
  local port=$1 path=$2 conns=$3 secs=$4
  shift 4
  local out
  out=$(taskset -c "$LOAD_CPU" wrk -t1 -c"$conns" -d"${secs}s" --latency "$@" "http://127.0.0.1:$port$path" 2>&1)
  local rps p50 p99 reqs
  rps=$(awk '/^Requests\/sec:/ { print $2 }' <<<"$out")
  reqs=$(awk '/requests in/ { print $1 }' <<<"$out")
  p50=$(awk '$1 == "50%" { print $2 }' <<<"$out")
  p99=$(awk '$1 == "99%" { print $2 }' <<<"$out")
  echo "${rps:-0} $(to_ms "${p50:-0}") $(to_ms "${p99:-0}") ${reqs:-0}"
}

# wrk prints 1.23ms / 456.00us / 1.20s
to_ms() {
  awk -v v="$1" 'BEGIN {
    if (v ~ /us$/) { sub(/us$/, "", v); print v / 1000 }
    else if (v ~ /ms$/) { sub(/ms$/, "", v); print v + 0 }
    else if (v ~ /s$/) { sub(/s$/, "", v); print v * 1000 }
    else print 0 }'
}
