#!/usr/bin/env python3
"""The engine of bench/run: starts httpfs and its peers on loopback, runs every scenario
against each in interleaved rounds, and writes the results (bench/RESULTS.md's generated
block, bench/results.json, bench/chart.png).

Method: one worker (process or thread) per server, access log off, keep-alive limits raised,
sendfile on where the server has it; every server pinned to one core and the load generator
to another (taskset). Server CPU per request comes from /proc/PID/stat before and after a
run. Each scenario runs for every server in turn, round after round (the order rotates), and
the median of the rounds is reported with the min-max range.

With --baseline DIR, httpfs-base (DIR/httpfs, with exactly the options of httpfs) takes part
in the same rounds as httpfs, and the tables add the ratio httpfs / httpfs-base: a change can
be compared before and after within the noise of one run.
"""

import argparse
import datetime
import gzip
import io
import json
import os
import platform
import random
import re
import shutil
import signal
import socket
import statistics
import struct
import subprocess
import sys
import tarfile
import tempfile
import threading
import time
import urllib.parse
import zipfile

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# client-mirror: the tree mirrored from nginx (MIRROR_DIRS directories of MIRROR_FILES files).
MIRROR_DIRS, MIRROR_FILES = 100, 100
PEERS = ["nginx", "lighttpd", "h2o"]
# The WebDAV peers: processes of their own, so that the modules they load change nothing in
# the other groups. Their results are recorded as apache, lighttpd and nginx.
DAV_PEERS = ["apache", "lighttpd-dav", "nginx-dav"]
# What --servers names: a server and its variants (httpfs-nofsync and httpfs-tls go with
# httpfs, nginx-tls, nginx-dav, nginx-gzip and nginx-h2 (with its TLS listener nginx-h2-tls)
# with nginx, lighttpd-dav with lighttpd, h2o-h2 (and h2o-h2-tls) with h2o, ceiling-close
# with ceiling).
SERVER_NAMES = ["httpfs", "httpfs-base", "nginx", "lighttpd", "h2o", "apache", "ceiling"]
VARIANT_SUFFIXES = ("-nofsync", "-tls", "-close", "-dav", "-gzip", "-h2")
GROUPS = {"server": ["keepalive-50", "keepalive-1000", "pipelined-16", "close", "100k-keepalive"],
          "tls": ["tls-keepalive-50"],
          "large": ["get-large", "tls-get-large", "put-large"],
          "client": ["client-get", "client-put", "client-segmented", "client-mirror"],
          "memory": ["idle-memory"],
          "dav": ["propfind-10k", "propfind-100k", "dav-cycles", "dav-copy"],
          "resumable": ["put-plain", "put-resumable", "put-resumable-cut10"],
          "compress": ["gzip-js", "zstd-js", "static-gz-js", "gzip-listing"],
          "archive": ["archive-get", "archive-zip", "archive-zip-cold", "archive-tar"],
          "h2": ["h2c-1k", "h2-1k", "h2c-large", "h2-large", "h2c-idle-memory"]}
DAV = tuple(GROUPS["dav"])
# Resumable uploads (draft-ietf-httpbis-resumable-upload, interop version 8) against a plain
# PUT of the same file to the same server: put-plain is the reference of the other two, and
# runs whenever either of them does.
RESUMABLE = tuple(GROUPS["resumable"])
RESUMABLE_CUTS = 10
INTEROP = ("Upload-Draft-Interop-Version", "8")
# Compression: httpfs (its defaults: --compress on, --compress-level 3, --precompressed on)
# against a gzip instance of nginx, by wrk over keep-alive connections with Accept-Encoding.
# Each scenario: (path, the coding asked for, more request fields, what it is).
COMPRESS = tuple(GROUPS["compress"])
COMPRESS_SCENARIOS = {
    "gzip-js": ("/compress/app.js", "gzip", (), "2 MiB JavaScript, gzip on the fly"),
    "zstd-js": ("/compress/app.js", "zstd", (), "the same, zstd on the fly (nginx has no zstd)"),
    "static-gz-js": ("/compress/static/app.js", "gzip", (),
                     "the same beside app.js.gz (gzip -9 -k): the precompressed file"),
    # ?format=html: httpfs answers a browser's Accept: text/html with its web page (which
    # fetches the listing as JSON) unless the query asks for the HTML listing itself; nginx
    # ignores the query.
    "gzip-listing": ("/compress/list/?format=html", "gzip", (("Accept", "text/html"),),
                     "HTML listing of 10 000 entries, gzip on the fly"),
}
COMPRESS_JS_BYTES = 2 << 20
COMPRESS_LISTING_ENTRIES = 10_000
COMPRESS_CONNS = 10
# httpfs's default --compress-level 3 is zlib level 3 for gzip (zstd level 3 for zstd): nginx
# gets gzip_comp_level 3, the same zlib level, window (15) and memLevel (8).
COMPRESS_LEVEL = 3
# Folder downloads (?download=zip|tar) of a tree as large as the big file against a GET of
# the big file, from httpfs. archive-get is the reference, and runs whenever another does.
ARCHIVE = tuple(GROUPS["archive"])
ARCHIVE_FILES = 10_000
ARCHIVE_PATHS = {"archive-get": "/big.bin", "archive-zip": "/tree/?download=zip",
                 "archive-zip-cold": "/tree-cold/?download=zip",
                 "archive-tar": "/tree/?download=tar"}
# HTTP/2: httpfs (h2c by prior knowledge on its plain port, h2 by ALPN on its TLS port)
# against nginx-h2 (`listen ... http2` and `listen ... ssl http2`) and h2o-h2, each a process
# of its own with both listeners, all by h2load. Scenarios: (TLS or not, what it is).
H2 = tuple(GROUPS["h2"])
H2_SCENARIOS = {
    "h2c-1k": (False, "1 KiB, h2c by prior knowledge"),
    "h2-1k": (True, "1 KiB, h2 over TLS (ALPN)"),
    "h2c-large": (False, "the large file, h2c by prior knowledge"),
    "h2-large": (True, "the large file, h2 over TLS (ALPN)"),
    "h2c-idle-memory": (False, "idle h2c connections: preface, empty SETTINGS, SETTINGS ACK"),
}
H2_CONNS, H2_STREAMS = 50, 16
# The h2 peers: process name, and the name of its TLS listener (the same process).
H2_PEERS = {"nginx-h2": "nginx-h2-tls", "h2o-h2": "h2o-h2-tls"}
# Listeners without a process of their own: the process that has them.
SHARED_PROCESS = {"nginx-tls": "nginx", **{tls: proc for proc, tls in H2_PEERS.items()}}
H2_PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
H2_SETTINGS = b"\x00\x00\x00\x04\x00\x00\x00\x00\x00"      # empty SETTINGS, stream 0
H2_SETTINGS_ACK = b"\x00\x00\x00\x04\x01\x00\x00\x00\x00"  # SETTINGS with ACK
# The groups whose tables are blocks of their own in RESULTS.md, between markers named after
# them: a run of one of them (--only compress) replaces its block and keeps the rest.
OWN_BLOCKS = ("compress", "archive", "h2")
PROPFIND_BODY = b'<?xml version="1.0"?><D:propfind xmlns:D="DAV:"><D:allprop/></D:propfind>'
# One <response> element of a 207, whatever the prefix of the DAV: namespace (not
# <responsedescription>).
DAV_RESPONSE = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?response[\s/>]")
CLK_TCK = os.sysconf("SC_CLK_TCK")
BEGIN_MARK = "<!-- bench/run: begin -->"
END_MARK = "<!-- bench/run: end -->"


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def sh(cmd, **kw):
    return subprocess.run(cmd, check=True, text=True, capture_output=True, **kw).stdout


def make_js(size, seed=1):
    """`size` bytes of JavaScript that look like an application bundle: exported functions,
    classes and object literals over a vocabulary of a few hundred identifiers (camelCase
    compounds), some used far more often than others, with keywords, string literals and
    small numbers; gzip -3 makes it about 4.5 times smaller, like a real unminified bundle.
    The same bytes every run (a seeded generator)."""
    rng = random.Random(seed)
    words = ("user account order item cart price total count index value key name id list "
             "map state props event handler request response config options data result error "
             "message token session cache buffer node element child parent widget layout style "
             "theme color width height offset position range filter sort page size limit query "
             "path route view model store action reducer dispatch payload status timeout retry "
             "callback promise resolve reject render update mount format parse validate").split()
    verbs = "get set fetch load save update create remove handle render compute build make apply"
    compound = lambda first: first + "".join(w.capitalize()
                                             for w in rng.sample(words, rng.randint(0, 2)))
    idents = [compound(rng.choice(words)) for _ in range(400)]
    funcs = [compound(rng.choice(verbs.split())) + rng.choice(words).capitalize()
             for _ in range(150)]

    def pick(pool):  # half of the time a few favourites, as in real code
        if rng.random() < 0.5:
            return pool[min(int(rng.paretovariate(1.0)) - 1, len(pool) - 1)]
        return rng.choice(pool)

    ident, fn = lambda: pick(idents), lambda: pick(funcs)

    def expr(depth=0):
        r = rng.random()
        if depth > 2 or r < 0.3:
            return rng.choice([ident(), str(rng.choice([0, 1, 2, 10, 100, rng.randint(0, 1000)])),
                               repr(rng.choice(words) + "-" + rng.choice(words)), "null", "true",
                               "false", "this." + ident()])
        if r < 0.55:
            op = rng.choice(["+", "-", "*", "===", "!==", "&&", "||", "<", ">="])
            return f"{expr(depth + 1)} {op} {expr(depth + 1)}"
        if r < 0.8:
            return f"{fn()}({', '.join(expr(depth + 1) for _ in range(rng.randint(0, 3)))})"
        return f"{ident()}.{ident()}"

    def stmt(indent):
        p, r = "  " * indent, rng.random()
        if r < 0.35:
            return f"{p}const {ident()} = {expr()};\n"
        if r < 0.5:
            return f"{p}let {ident()} = {expr()};\n"
        if r < 0.65:
            return f"{p}if ({expr()}) {{\n{p}  return {expr()};\n{p}}}\n"
        if r < 0.75:
            return (f"{p}for (let i = 0; i < {ident()}.length; i++) {{\n"
                    f"{p}  {ident()}.push({expr()});\n{p}}}\n")
        if r < 0.85:
            return f"{p}this.{ident()} = {expr()};\n"
        return f"{p}{fn()}({expr()});\n"

    def method():
        body = "".join(stmt(2) for _ in range(rng.randint(1, 5)))
        return f"  {fn()}({ident()}) {{\n{body}  }}\n"

    out, n = [], 0
    while n < size:
        r = rng.random()
        if r < 0.5:
            args = ", ".join(ident() for _ in range(rng.randint(0, 3)))
            body = "".join(stmt(1) for _ in range(rng.randint(2, 8)))
            piece = f"export function {fn()}({args}) {{\n{body}}}\n\n"
        elif r < 0.8:
            name = fn()
            base = rng.choice(["Component", "EventEmitter", "Base", "Store"])
            init = "".join(stmt(2) for _ in range(rng.randint(1, 4)))
            methods = "".join(method() for _ in range(rng.randint(1, 4)))
            piece = (f"class {name[0].upper() + name[1:]} extends {base} {{\n"
                     f"  constructor(props) {{\n    super(props);\n{init}  }}\n{methods}}}\n\n")
        else:
            fields = "".join(f"  {ident()}: {expr()},\n" for _ in range(rng.randint(2, 8)))
            piece = f"const {ident()} = {{\n{fields}}};\n\n"
        out.append(piece)
        n += len(piece)
    text = "".join(out).encode()
    # Cut after a whole line and filled up to `size` with a comment.
    cut = text.rfind(b"\n", 0, size - 40) + 1
    return text[:cut] + b"/*" + b" " * (size - cut - 5) + b"*/\n"


def nginx_prelude(d, workers=1):
    """The start of an nginx.conf whose pid, logs and temporary files live in `d`, up to the
    opening of its server block: every nginx of the benchmarks shares it, so they differ only
    in what they serve. One worker runs as a single process; more run under a master."""
    body = os.path.join(d, "body")
    os.makedirs(body, exist_ok=True)
    temps = "".join(f"  {k}_temp_path {body};\n"
                    for k in ["client_body", "proxy", "fastcgi", "uwsgi", "scgi"])
    master = "master_process off;\n" if workers == 1 else ""
    return f"""worker_processes {workers};
{master}daemon off;
pid {d}/nginx.pid;
error_log {d}/error.log warn;
worker_rlimit_nofile 40000;
events {{ worker_connections 20000; use epoll; multi_accept on; }}
http {{
  access_log off;
  sendfile on;
  tcp_nopush on;
  tcp_nodelay on;
  keepalive_requests 100000000;
  keepalive_timeout 120s;
  default_type application/octet-stream;
{temps}  server {{
"""


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port, proc, timeout=10):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing listens on port {port}")


def cpu_us(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) * 1_000_000 // CLK_TCK


def family(name):
    """httpfs-base-nofsync -> httpfs-base, nginx-tls -> nginx, ceiling-close -> ceiling,
    nginx-h2-tls -> nginx."""
    stripped = True
    while stripped:
        stripped = False
        for suffix in VARIANT_SUFFIXES:
            if name.endswith(suffix):
                name, stripped = name[: -len(suffix)], True
                break
    return name


def nginx_v():
    """What `nginx -V` prints (its configure arguments), or "" without an nginx."""
    try:
        return subprocess.run(["nginx", "-V"], capture_output=True, text=True).stderr
    except OSError:
        return ""


def find_baseline(path):
    """The httpfs binary of --baseline: PATH/httpfs, PATH/build-release/httpfs (a source tree),
    or PATH itself when it is the binary."""
    path = os.path.abspath(path)
    for candidate in (os.path.join(path, "httpfs"), os.path.join(path, "build-release", "httpfs"),
                      path):
        if os.path.isfile(candidate) and os.access(candidate, os.X_OK):
            return candidate
    raise SystemExit(f"bench/run: --baseline {path}: no httpfs binary there "
                     "(nor in build-release/ under it)")


def rss_kib(pid, field="VmRSS"):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def cpu_ns(pid):
    """User+system time of every thread of the process, in ns: the sum of
    /proc/PID/task/*/schedstat, the kernel's own run time at full resolution (/proc/PID/stat
    counts 10 ms ticks, as much as a whole 10 000-entry PROPFIND). /proc/PID/stat when the
    kernel has no schedstat. A thread that ends between two readings would take its time
    with it: none of the servers ends one (httpfs's worker pool is libuv's, which lives as
    long as the process)."""
    total = 0
    try:
        tids = os.listdir(f"/proc/{pid}/task")
        for tid in tids:
            try:
                with open(f"/proc/{pid}/task/{tid}/schedstat") as f:
                    total += int(f.read().split()[0])
            except FileNotFoundError:
                if tid == str(pid):
                    raise
    except (OSError, ValueError, IndexError):
        return cpu_us(pid) * 1000
    return total


class HttpClient:
    """A small HTTP/1.1 client for the WebDAV scenarios: one keep-alive connection, one
    request at a time, bodies by Content-Length, chunked or up to the close. Each exchange
    notes when the answer's first byte, its body's first byte and its last byte arrived."""

    def __init__(self, port, timeout=600):
        self.port, self.timeout = port, timeout
        self.sock = None
        self.buf = bytearray()
        self.reconnects = -1
        self.last_recv = 0.0
        self.connect()

    def connect(self):
        if self.sock:
            self.sock.close()
        self.sock = socket.create_connection(("127.0.0.1", self.port), timeout=self.timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = bytearray()
        self.reconnects += 1

    def close(self):
        if self.sock:
            self.sock.close()
            self.sock = None

    def build(self, method, path, headers=(), body=b""):
        head = [f"{method} {path} HTTP/1.1", f"Host: 127.0.0.1:{self.port}"]
        head += [f"{k}: {v}" for k, v in headers]
        if body or method in ("PUT", "POST", "PROPFIND", "PROPPATCH"):
            head.append(f"Content-Length: {len(body)}")
        return ("\r\n".join(head) + "\r\n\r\n").encode() + body

    def _more(self):
        data = self.sock.recv(1 << 18)
        self.last_recv = time.monotonic()
        if not data:
            raise EOFError
        self.buf += data

    def _take_exactly(self, n, take):
        """Hands `n` body bytes to take(k), a buffer's worth at a time, receiving as needed."""
        while n:
            if not self.buf:
                self._more()
            k = min(n, len(self.buf))
            take(k)
            n -= k

    def exchange(self, raw, keep_body=False, head_request=False, sink=None):
        """Sends one request (bytes from build()) and reads its answer: a dict with status,
        headers (lower-case names), size (body bytes), body (with keep_body) and the monotonic
        times sent, first (first byte of the answer), first_body, last. sink(bytes), when
        given, gets the body piece by piece (without keeping it)."""
        if self.sock is None:
            self.connect()
        sent = time.monotonic()
        self.sock.sendall(raw)
        return self.answer(sent, keep_body, head_request, sink)

    def answer(self, sent, keep_body=False, head_request=False, sink=None):
        """Reads one answer to a request sent at `sent` (monotonic): the dict of exchange().
        An interim (1xx) answer is one answer of its own, without a body: call again for the
        next."""
        first = None
        while True:
            end = self.buf.find(b"\r\n\r\n")
            if end >= 0:
                break
            self._more()
            first = first or self.last_recv
        first = first or sent
        lines = bytes(self.buf[:end]).decode("latin-1").split("\r\n")
        del self.buf[: end + 4]
        status = int(lines[0].split()[1])
        headers = {}
        for line in lines[1:]:
            k, _, v = line.partition(":")
            headers[k.strip().lower()] = v.strip()
        pieces, size, first_body = [], 0, None

        def take(n):
            nonlocal size, first_body
            if first_body is None:
                first_body = self.last_recv if self.last_recv > sent else first
            if keep_body:
                pieces.append(bytes(self.buf[:n]))
            if sink:
                sink(bytes(self.buf[:n]))
            size += n
            del self.buf[:n]

        close = headers.get("connection", "").lower() == "close"
        if head_request or status in (204, 304) or 100 <= status < 200:
            pass
        elif "chunked" in headers.get("transfer-encoding", "").lower():
            while True:
                while (eol := self.buf.find(b"\r\n")) < 0:
                    self._more()
                n = int(bytes(self.buf[:eol]).split(b";")[0], 16)
                del self.buf[: eol + 2]
                if n == 0:  # trailer fields, if any, up to the empty line
                    while True:
                        while (eol := self.buf.find(b"\r\n")) < 0:
                            self._more()
                        del self.buf[: eol + 2]
                        if eol == 0:
                            break
                    break
                self._take_exactly(n, take)
                while len(self.buf) < 2:
                    self._more()
                del self.buf[:2]
        elif "content-length" in headers:
            self._take_exactly(int(headers["content-length"]), take)
        else:
            close = True
            while True:
                try:
                    if not self.buf:
                        self._more()
                except EOFError:
                    break
                take(len(self.buf))
        last = time.monotonic()
        if close:
            self.close()
        return {"status": status, "headers": headers, "size": size,
                "body": b"".join(pieces) if keep_body else None, "sent": sent, "first": first,
                "first_body": first_body or last, "last": last}

    def request(self, method, path, headers=(), body=b"", keep_body=False, sink=None):
        return self.exchange(self.build(method, path, headers, body), keep_body,
                             head_request=method == "HEAD", sink=sink)


class RssSampler:
    """The highest VmRSS of a process while it runs, read every millisecond from another
    thread: the check on the VmHWM the kernel keeps (reset through /proc/PID/clear_refs)."""

    def __init__(self, pid):
        self.pid, self.peak, self.done = pid, 0, threading.Event()
        self.thread = threading.Thread(target=self.loop, daemon=True)

    def loop(self):
        while not self.done.is_set():
            try:
                self.peak = max(self.peak, rss_kib(self.pid))
            except OSError:
                return
            self.done.wait(0.001)

    def __enter__(self):
        self.peak = rss_kib(self.pid)
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.done.set()
        self.thread.join()


class Server:
    """One server process on its own port, pinned to the server core."""

    def __init__(self, name, argv, port, scheme="http", workdir=None):
        self.name, self.argv, self.port, self.scheme = name, argv, port, scheme
        self.workdir = workdir
        self.proc = None

    def start(self, cpu):
        out = open(os.path.join(self.workdir, f"{self.name}.out"), "w")
        self.proc = subprocess.Popen(["taskset", "-c", str(cpu)] + self.argv, stdout=out,
                                     stderr=subprocess.STDOUT, start_new_session=True)
        wait_port(self.port, self.proc)

    @property
    def pid(self):
        return self.proc.pid  # taskset execs the server: same pid

    def url(self, path):
        return f"{self.scheme}://127.0.0.1:{self.port}{path}"

    def stop(self):
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()


class Bench:
    def __init__(self, args):
        self.args = args
        self.quick = args.quick
        self.rounds = args.rounds or (1 if self.quick else 3)
        self.seconds = args.seconds or (2 if self.quick else 10)
        self.big_mib = 256 if self.quick else 1024
        self.idle_total = 2000 if self.quick else 8000
        self.large_reps = 1 if self.quick else 3
        # WebDAV: PROPFINDs of the 10 000-entry directory per server and round, the entries
        # of the large one, MKCOL-PUT-MOVE-DELETE cycles per run (COPY copies big.bin).
        self.propfind_reps = 3 if self.quick else 20
        self.dav_dirs = {"propfind-10k": 10_000, "propfind-100k": 100_000}
        self.dav_cycle_count = 200 if self.quick else 1000
        # Folder downloads: a tree as large as the big file, of 10 000 files (quick: 2 500
        # files of 256 MiB, the same mean size).
        self.archive_files = ARCHIVE_FILES * self.big_mib // 1024
        # Debian 12's nginx (nginx-light is a metapackage over it) is built with
        # gzip_static; a build without it leaves nginx out of static-gz-js.
        self.nginx_gzip_static = "http_gzip_static_module" in nginx_v()
        self.cpus = os.cpu_count() or 1
        self.server_cpu = self.cpus - 1
        self.load_cpu = 0
        self.build = os.path.join(REPO, args.build)
        self.baseline = find_baseline(args.baseline) if args.baseline else None
        self.server_filter = None
        if args.servers:
            self.server_filter = [n.strip() for n in args.servers.split(",") if n.strip()]
            variants = {n + v for n in SERVER_NAMES for v in VARIANT_SUFFIXES}
            for n in self.server_filter:
                if n not in SERVER_NAMES and n not in variants:
                    raise SystemExit(f"bench/run: --servers {n}: not a server "
                                     f"({', '.join(SERVER_NAMES)})")
                if family(n) == "httpfs-base" and not self.baseline:
                    raise SystemExit(f"bench/run: --servers {n} needs --baseline DIR")
        self.only = [x.strip() for x in args.only.split(",") if x.strip()] if args.only else None
        known = set(GROUPS) | {s for v in GROUPS.values() for s in v}
        for x in self.only or []:
            if x not in known:
                raise SystemExit(f"bench/run: --only {x}: not a group or scenario "
                                 f"(groups: {', '.join(GROUPS)})")
        self.tmp = tempfile.mkdtemp(prefix="httpfs-bench-", dir=args.tmpdir)
        os.chmod(self.tmp, 0o755)
        self.root = os.path.join(self.tmp, "www")
        self.servers = {}
        self.h2_left_out = {}
        self.results = {"scenarios": {}, "machine": {}, "versions": {}, "settings": {}}

    # ---- setup

    def make_docroot(self):
        os.makedirs(os.path.join(self.root, "up"))
        with open(os.path.join(self.root, "1k.bin"), "wb") as f:
            f.write(os.urandom(1024))
        with open(os.path.join(self.root, "100k.bin"), "wb") as f:
            f.write(os.urandom(102400))
        sh(["dd", "if=/dev/urandom", f"of={self.root}/big.bin", "bs=1M",
            f"count={self.big_mib}", "status=none"])
        self.big = os.path.join(self.root, "big.bin")
        self.big_size = os.path.getsize(self.big)
        # The mirror scenario's tree: 100 directories of 100 files, 1 to 8 KiB each.
        self.mirror_tree = (0, 0)
        if self.want("client-mirror"):
            count = total = 0
            for i in range(MIRROR_DIRS):
                d = os.path.join(self.root, "mirror", f"d{i:03}")
                os.makedirs(d)
                for j in range(MIRROR_FILES):
                    size = random.randint(1024, 8192)
                    with open(os.path.join(d, f"f{j:03}.txt"), "wb") as f:
                        f.write(os.urandom(size))
                    count, total = count + 1, total + size
            self.mirror_tree = (count, total)
        # Written back and read once, so that no scenario pays for the docroot's writeback
        # and every server reads the big file from the page cache.
        subprocess.run(["sync"])
        with open(self.big, "rb") as f:
            while f.read(1 << 20):
                pass
        # World-readable all the way up: h2o drops to nobody when started as root.
        for dirpath, dirs, files in os.walk(self.tmp):
            os.chmod(dirpath, 0o777 if dirpath.endswith("/up") else 0o755)
            for f in files:
                os.chmod(os.path.join(dirpath, f), 0o644)
        d = self.tmp
        while d != "/":
            os.chmod(d, os.stat(d).st_mode | 0o111)
            d = os.path.dirname(d)
        # A certificate for the TLS scenarios (EC P-256, as a current web server would use).
        self.cert = os.path.join(self.tmp, "cert.pem")
        self.key = os.path.join(self.tmp, "key.pem")
        sh(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
            "-nodes", "-keyout", self.key, "-out", self.cert, "-days", "7", "-subj",
            "/CN=localhost", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"])
        os.chmod(self.key, 0o644)

    def make_dav_tree(self):
        """For the WebDAV scenarios, under the docroot: dav/10k and dav/100k (that many empty
        files, f000000.txt on), dav/c (the cycles' collections) and dav/copy (COPY's
        destinations). The last two are writable by every server: Apache, started as root,
        drops to www-data."""
        dav = os.path.join(self.root, "dav")
        for scenario, count in self.dav_dirs.items():
            if not self.want(scenario):
                continue
            d = os.path.join(dav, scenario.split("-", 1)[1])
            os.makedirs(d)
            for i in range(count):
                os.close(os.open(os.path.join(d, f"f{i:06d}.txt"),
                                 os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644))
            os.chmod(d, 0o755)
        for sub in ("c", "copy"):
            os.makedirs(os.path.join(dav, sub), exist_ok=True)
            os.chmod(os.path.join(dav, sub), 0o777)
        os.chmod(dav, 0o755)
        subprocess.run(["sync"])

    def make_compress_tree(self):
        """For the compress group, under the docroot: compress/app.js (2 MiB of generated
        JavaScript), compress/static/app.js with app.js.gz beside it (gzip -9 -k, which
        keeps the source's mtime: the sibling is not older), compress/list/ (10 000 empty
        files with the names of a source tree)."""
        d = os.path.join(self.root, "compress")
        os.makedirs(os.path.join(d, "static"))
        js = make_js(COMPRESS_JS_BYTES)
        for path in (os.path.join(d, "app.js"), os.path.join(d, "static", "app.js")):
            with open(path, "wb") as f:
                f.write(js)
        sh(["gzip", "-9", "-k", os.path.join(d, "static", "app.js")])
        listing = os.path.join(d, "list")
        os.makedirs(listing)
        rng = random.Random(2)
        kinds = ["component", "service", "model", "view", "store", "util", "hook", "test"]
        exts = [".js", ".ts", ".css", ".json", ".md", ".svg"]
        for i in range(COMPRESS_LISTING_ENTRIES):
            name = f"{rng.choice(kinds)}-{i:05d}-{rng.choice(kinds)}{rng.choice(exts)}"
            os.close(os.open(os.path.join(listing, name), os.O_WRONLY | os.O_CREAT | os.O_EXCL,
                             0o644))
        for dirpath, _, files in os.walk(d):
            os.chmod(dirpath, 0o755)
            for f in files:
                os.chmod(os.path.join(dirpath, f), 0o644)
        self.compress_js = js
        subprocess.run(["sync"])

    def make_archive_trees(self):
        """For the archive group, under the docroot: tree/ and tree-cold/, two copies of
        archive_files files in 100 folders, sizes spread (log-normal) to a total of the big
        file's size, their bytes copied from big.bin (random, so nothing in them is
        compressible); tree-check/, a small tree of every kind of entry (empty file and
        folder, long and non-ASCII names, nesting) whose archives are checked byte for byte.
        Written back and read once, like big.bin, so that every run reads the page cache."""
        rng = random.Random(3)
        n = self.archive_files
        weights = [rng.lognormvariate(0, 1) for _ in range(n)]
        scale = self.big_size / sum(weights)
        sizes = [int(w * scale) for w in weights]
        sizes[-1] += self.big_size - sum(sizes)
        src = os.open(self.big, os.O_RDONLY)
        try:
            for tree in ("tree", "tree-cold"):
                at = 0
                for i, size in enumerate(sizes):
                    d = os.path.join(self.root, tree, f"d{i % 100:02d}")
                    os.makedirs(d, exist_ok=True)
                    dst = os.open(os.path.join(d, f"file-{i:05d}.bin"),
                                  os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
                    try:
                        done = 0
                        while done < size:
                            k = os.copy_file_range(src, dst, size - done, at + done)
                            if k <= 0:
                                raise RuntimeError("copy_file_range copied nothing")
                            done += k
                    finally:
                        os.close(dst)
                    at += size
        finally:
            os.close(src)
        check = os.path.join(self.root, "tree-check")
        files = {"empty.txt": b"", "one.txt": b"x",
                 "a/b/c/deep.bin": os.urandom(70_000),
                 "a/big.bin": os.urandom(300 << 10),
                 "caf\u00e9 \u00fcber.txt": "na\u00efve\n".encode() * 100,
                 "long/" + "n" * 150 + ".txt": b"a name longer than tar's 100 bytes\n"}
        for i in range(40):
            files[f"many/f{i:02d}.dat"] = os.urandom(rng.randint(0, 20_000))
        for rel, data in files.items():
            os.makedirs(os.path.dirname(os.path.join(check, rel)), exist_ok=True)
            with open(os.path.join(check, rel), "wb") as f:
                f.write(data)
        os.makedirs(os.path.join(check, "empty-folder"))
        self.archive_check_files = files
        for top in ("tree", "tree-cold", "tree-check"):
            for dirpath, _, names in os.walk(os.path.join(self.root, top)):
                os.chmod(dirpath, 0o755)
                for f in names:
                    os.chmod(os.path.join(dirpath, f), 0o644)
        subprocess.run(["sync"])
        for top in ("tree", "tree-cold"):
            for dirpath, _, names in os.walk(os.path.join(self.root, top)):
                for f in names:
                    with open(os.path.join(dirpath, f), "rb") as fh:
                        while fh.read(1 << 20):
                            pass

    def conf_dir(self, name):
        d = os.path.join(self.tmp, name)
        os.makedirs(d, exist_ok=True)
        return d

    def add(self, name, argv, port, scheme="http"):
        self.servers[name] = Server(name, argv, port, scheme, self.tmp)

    def configure_servers(self):
        b = self.build
        options = ["-b", "127.0.0.1", "-d", self.root, "--access-log", "off",
                   "--keepalive-timeout", "120", "--max-pipelined", "64"]
        # The baseline, when there is one, gets exactly the options of the current build.
        builds = [("httpfs", f"{b}/httpfs")]
        if self.baseline:
            builds.append(("httpfs-base", self.baseline))
        for name, binary in builds:
            httpfs = [binary] + options
            p = free_port()
            self.add(name, httpfs + ["-p", str(p)], p)
            p = free_port()
            self.add(f"{name}-nofsync", httpfs + ["-p", str(p), "--no-fsync"], p)
            p = free_port()
            self.add(f"{name}-tls", httpfs + ["-p", str(p), "--tls-cert", self.cert,
                                              "--tls-key", self.key], p, "https")
        p = free_port()
        self.add("ceiling", [f"{b}/bench/ceiling", str(p), f"{self.root}/1k.bin"], p)
        p = free_port()
        self.add("ceiling-close", [f"{b}/bench/ceiling", str(p), f"{self.root}/1k.bin", "close"], p)

        d = self.conf_dir("nginx")
        p, ptls = free_port(), free_port()
        conf = nginx_prelude(d) + f"""    listen 127.0.0.1:{p};
    listen 127.0.0.1:{ptls} ssl;
    ssl_certificate {self.cert};
    ssl_certificate_key {self.key};
    ssl_protocols TLSv1.2 TLSv1.3;
    root {self.root};
    location / {{
      dav_methods PUT DELETE;
      create_full_put_path on;
      client_max_body_size 0;
    }}
    location /mirror/ {{ autoindex on; }}
  }}
}}
"""
        with open(f"{d}/nginx.conf", "w") as f:
            f.write(conf)
        self.add("nginx", ["nginx", "-c", f"{d}/nginx.conf"], p)
        # nginx's TLS listener is the same process as its plain one: no argv of its own.
        self.add("nginx-tls", [], ptls, "https")

        def lighttpd(name, extra=""):
            d = self.conf_dir(name)
            p = free_port()
            with open(f"{d}/lighttpd.conf", "w") as f:
                f.write(f"""server.document-root = "{self.root}"
server.bind = "127.0.0.1"
server.port = {p}
server.errorlog = "{d}/error.log"
server.max-keep-alive-requests = 100000000
server.max-keep-alive-idle = 120
server.max-fds = 40000
server.max-connections = 20000
server.network-backend = "sendfile"
mimetype.assign = ( ".bin" => "application/octet-stream", ".html" => "text/html" )
""" + extra.replace("{d}", d))
            self.add(name, ["lighttpd", "-D", "-f", f"{d}/lighttpd.conf"], p)

        lighttpd("lighttpd")
        # The same server with mod_webdav (Debian lighttpd-mod-webdav), its property and lock
        # database in sqlite, request bodies buffered in the temporary directory.
        lighttpd("lighttpd-dav", """mimetype.assign += ( ".txt" => "text/plain" )
server.modules += ( "mod_webdav" )
server.upload-dirs = ( "{d}" )
webdav.activate = "enable"
webdav.is-readonly = "disable"
webdav.sqlite-db-name = "{d}/webdav.db"
""")
        self.configure_dav_peers()
        self.configure_gzip_peer()
        if any(self.want(s) for s in H2):
            self.configure_h2_peers()

        d = self.conf_dir("h2o")
        p = free_port()
        with open(f"{d}/h2o.conf", "w") as f:
            f.write(f"""listen:
  host: 127.0.0.1
  port: {p}
num-threads: 1
max-connections: 20000
http1-request-timeout: 120
error-log: {d}/error.log
hosts:
  default:
    paths:
      /:
        file.dir: {self.root}
""")
        self.add("h2o", ["h2o", "-c", f"{d}/h2o.conf"], p)

    def configure_gzip_peer(self):
        """nginx for the compress group: the binary of the other groups, a process of its
        own (so that gzip changes nothing elsewhere) with the settings of the plain
        instance, gzip on at httpfs's level (zlib level 3), gzip_vary, gzip_static where the
        precompressed file is, autoindex for the listing. Its MIME types are Debian's
        (application/javascript for .js); text/html is always in gzip_types."""
        d = self.conf_dir("nginx-gzip")
        p = free_port()
        static = "gzip_static on;" if self.nginx_gzip_static else \
            "# no gzip_static in this nginx: static-gz-js runs without nginx"
        with open(f"{d}/nginx.conf", "w") as f:
            f.write(nginx_prelude(d) + f"""    listen 127.0.0.1:{p};
    root {self.root};
    types {{
      application/javascript js;
      text/html html;
      text/css css;
      application/json json;
      application/octet-stream bin;
    }}
    gzip on;
    gzip_comp_level {COMPRESS_LEVEL};
    gzip_types text/javascript application/javascript application/json text/css;
    gzip_vary on;
    location /compress/list/ {{
      autoindex on;
    }}
    location /compress/static/ {{
      {static}
    }}
  }}
}}
""")
        self.add("nginx-gzip", ["nginx", "-c", f"{d}/nginx.conf"], p)

    def configure_h2_peers(self):
        """The peers of the h2 group, each a process of its own (so that HTTP/2 changes
        nothing in the other groups) with a plain listener that speaks h2c by prior knowledge
        and a TLS listener that speaks h2 by ALPN, on the certificate of the other TLS
        scenarios: nginx-h2 (the binary of the other groups, its settings, `listen ...
        http2` and `listen ... ssl http2`) and h2o-h2 (one thread, as the plain h2o). A peer
        that is not installed, or an nginx built without the HTTP/2 module, is left out of the
        group, with the reason in h2_left_out (logged, and shown under the table)."""
        self.h2_left_out = {}
        if not shutil.which("nginx"):
            self.h2_left_out["nginx"] = "no nginx binary (Debian package nginx-light)"
        elif "--with-http_v2_module" not in nginx_v():
            self.h2_left_out["nginx"] = "this nginx is built without --with-http_v2_module"
        else:
            d = self.conf_dir("nginx-h2")
            p, ptls = free_port(), free_port()
            with open(f"{d}/nginx.conf", "w") as f:
                f.write(nginx_prelude(d) + f"""    listen 127.0.0.1:{p} http2;
    listen 127.0.0.1:{ptls} ssl http2;
    ssl_certificate {self.cert};
    ssl_certificate_key {self.key};
    ssl_protocols TLSv1.2 TLSv1.3;
    root {self.root};
  }}
}}
""")
            self.add("nginx-h2", ["nginx", "-c", f"{d}/nginx.conf"], p)
            # The TLS listener is the same process: no argv of its own.
            self.add("nginx-h2-tls", [], ptls, "https")
        if not shutil.which("h2o"):
            self.h2_left_out["h2o"] = "no h2o binary (Debian package h2o)"
        else:
            d = self.conf_dir("h2o-h2")
            p, ptls = free_port(), free_port()
            # h2o closes an idle HTTP/2 connection after 10 s by default: raised to the
            # keep-alive time of the others. No OCSP stapling (a self-signed certificate).
            with open(f"{d}/h2o.conf", "w") as f:
                f.write(f"""listen:
  host: 127.0.0.1
  port: {p}
listen:
  host: 127.0.0.1
  port: {ptls}
  ssl:
    certificate-file: {self.cert}
    key-file: {self.key}
    ocsp-update-interval: 0
num-threads: 1
max-connections: 20000
http1-request-timeout: 120
http2-idle-timeout: 120
error-log: {d}/error.log
hosts:
  default:
    paths:
      /:
        file.dir: {self.root}
""")
            self.add("h2o-h2", ["h2o", "-c", f"{d}/h2o.conf"], p)
            self.add("h2o-h2-tls", [], ptls, "https")
        if not shutil.which("h2load"):
            self.h2_left_out["all"] = "no h2load (Debian package nghttp2-client)"
        for peer, why in self.h2_left_out.items():
            log(f"bench: h2: {peer} left out of the h2 group: {why}")

    def configure_dav_peers(self):
        """The WebDAV peers of the dav group, each one process with one worker, access log
        off, serving the same docroot: Apache with mod_dav and mod_dav_fs, nginx with its dav
        module and dav-ext (lighttpd with mod_webdav is configured beside plain lighttpd)."""
        # nginx: the binary of the other groups (Debian 12 builds one nginx, with the dav
        # module in it, and ships dav-ext as a dynamic module in libnginx-mod-http-dav-ext),
        # a second instance so that the first loads nothing more.
        d = self.conf_dir("nginx-dav")
        p = free_port()
        os.chmod(d, 0o755)
        modules = re.search(r"--modules-path=(\S+)", subprocess.run(
            ["nginx", "-V"], capture_output=True, text=True).stderr)
        dav_ext = os.path.join(modules[1] if modules else "/usr/lib/nginx/modules",
                               "ngx_http_dav_ext_module.so")
        with open(f"{d}/nginx.conf", "w") as f:
            f.write(f"load_module {dav_ext};\n" + nginx_prelude(d) + f"""    listen 127.0.0.1:{p};
    root {self.root};
    location / {{
      dav_methods PUT DELETE MKCOL COPY MOVE;
      dav_ext_methods PROPFIND OPTIONS;
      dav_access user:rw group:rw all:r;
      create_full_put_path on;
      client_max_body_size 0;
    }}
  }}
}}
""")
        self.add("nginx-dav", ["nginx", "-c", f"{d}/nginx.conf"], p)

        # Apache: prefork in one process (-X: no parent, no children, the server's own pid),
        # one request at a time like the single event loops of the others; a private
        # ServerRoot, PidFile, runtime directory and port; started as root it serves as
        # www-data, the Debian default.
        d = self.conf_dir("apache")
        os.chmod(d, 0o777)  # DavLockDB is opened after the switch to www-data
        p = free_port()
        mods = "/usr/lib/apache2/modules"
        user = ""
        if os.geteuid() == 0:
            user = "User www-data\nGroup www-data\n"
        types = "TypesConfig /etc/mime.types\n" if os.path.exists("/etc/mime.types") else ""
        with open(f"{d}/apache2.conf", "w") as f:
            f.write(f"""ServerRoot "{d}"
ServerName 127.0.0.1
Listen 127.0.0.1:{p}
PidFile "{d}/apache2.pid"
DefaultRuntimeDir "{d}"
Mutex file:{d} default
ErrorLog "{d}/error.log"
LogLevel warn
LoadModule mpm_prefork_module {mods}/mod_mpm_prefork.so
LoadModule authz_core_module {mods}/mod_authz_core.so
LoadModule mime_module {mods}/mod_mime.so
LoadModule dav_module {mods}/mod_dav.so
LoadModule dav_fs_module {mods}/mod_dav_fs.so
{user}StartServers 1
MinSpareServers 1
MaxSpareServers 1
ServerLimit 1
MaxRequestWorkers 1
MaxConnectionsPerChild 0
KeepAlive On
MaxKeepAliveRequests 0
KeepAliveTimeout 5
Timeout 120
HostnameLookups Off
EnableSendfile On
{types}DocumentRoot "{self.root}"
DavLockDB "{d}/davlock"
LimitRequestBody 0
<Directory />
  AllowOverride None
  Require all denied
</Directory>
<Directory "{self.root}">
  Options FollowSymLinks
  AllowOverride None
  Require all granted
  Dav On
</Directory>
""")
        self.add("apache", ["apache2", "-X", "-d", d, "-f", f"{d}/apache2.conf"], p)

    def start_servers(self, needed):
        """Starts the servers that some planned scenario uses, and no others. The h2 peers
        are started by start_h2_peers (they speak HTTP/2 only, and one that fails is left
        out of its group rather than ending the run)."""
        processes = {SHARED_PROCESS.get(n, n) for n in needed}
        for name, s in self.servers.items():
            if name in processes and s.argv and name not in H2_PEERS:
                s.start(self.server_cpu)
        self.share_processes()
        for name in processes | set(needed):
            if name == "ceiling-close" or name in H2_PEERS or \
                    SHARED_PROCESS.get(name) in H2_PEERS:
                continue
            self.verify(self.servers[name], "/1k.bin")
            if not name.startswith("ceiling") and not name.endswith("-tls"):
                self.verify(self.servers[name], "/100k.bin")

    def share_processes(self):
        """Listeners without a process of their own get the process that has them."""
        for listener, owner in SHARED_PROCESS.items():
            if listener in self.servers and owner in self.servers:
                self.servers[listener].proc = self.servers[owner].proc

    def start_h2_peers(self, plan):
        """Starts the h2 peers of the plan and checks each listener of every server of the
        h2 group (verify_h2). A peer that does not start or does not answer right is left
        out of the group, with the reason logged and kept in h2_left_out; so is an
        httpfs-base that does not speak HTTP/2 (a baseline from before it). httpfs must."""
        names = sorted({n for s in H2 for n in plan[s]})
        tls = any(plan[s] for s in H2 if H2_SCENARIOS[s][0])
        for name in names:
            try:
                if name in H2_PEERS:
                    self.servers[name].start(self.server_cpu)
                    self.share_processes()
                self.verify_h2(self.servers[name])
                if tls:
                    self.verify_h2(self.servers[name + "-tls"])
            except (RuntimeError, OSError, subprocess.SubprocessError) as e:
                if family(name) == "httpfs":
                    raise
                out = os.path.join(self.tmp, f"{name}.out")
                said = ""
                if os.path.exists(out):
                    with open(out, errors="replace") as f:
                        said = " ".join(f.read().split())[-300:]
                why = f"{e}" + (f" (it said: {said})" if said else "")
                self.h2_left_out[family(name)] = why
                log(f"bench: h2: {name} left out of the h2 group: {why}")
                if name in H2_PEERS:
                    self.servers[name].stop()
                for scenario in H2:
                    plan[scenario] = [n for n in plan[scenario] if n != name]

    def verify_h2(self, server):
        """One GET of /1k.bin by curl over HTTP/2 (prior knowledge on a plain listener, ALPN
        on a TLS one): 200, HTTP/2 and the file's bytes; and a HEAD of /big.bin: 200 with the
        file's length."""
        out = os.path.join(self.tmp, "verify.out")
        how = ["--http2"] if server.scheme == "https" else ["--http2-prior-knowledge"]
        got = sh(["curl", "-sk", "--max-time", "20", *how, "-o", out, "-w",
                  "%{http_code} %{http_version}", server.url("/1k.bin")])
        with open(out, "rb") as a, open(self.root + "/1k.bin", "rb") as b:
            same = a.read() == b.read()
        if got != "200 2" or not same:
            raise RuntimeError(f"{server.name} does not serve /1k.bin over HTTP/2 correctly "
                               f"(HTTP {got}{'' if same else ', other bytes'})")
        head = sh(["curl", "-skI", "--max-time", "20", *how, server.url("/big.bin")])
        length = re.search(r"^content-length:\s*(\d+)", head, re.M | re.I)
        if not head.startswith("HTTP/2 200") or not length or int(length[1]) != self.big_size:
            raise RuntimeError(f"{server.name}: HEAD /big.bin over HTTP/2: "
                               f"{head.splitlines()[:1]}, length {length and length[1]}")

    def verify(self, server, path):
        # A misconfigured peer that answers 403 fast would win every scenario.
        out = os.path.join(self.tmp, "verify.out")
        code = sh(["curl", "-sk", "-o", out, "-w", "%{http_code}", server.url(path)])
        with open(out, "rb") as a, open(self.root + path, "rb") as b:
            same = a.read() == b.read()
        if code != "200" or not same:
            raise RuntimeError(f"{server.name} does not serve {path} correctly (HTTP {code})")

    def verify_dav(self, server):
        """A WebDAV server must answer a Depth: 0 PROPFIND with one 207 entry, and create and
        remove a collection, before it is measured."""
        c = HttpClient(server.port, timeout=30)
        try:
            r = c.request("PROPFIND", "/dav/", [("Depth", "0"),
                                                ("Content-Type", "application/xml")],
                          PROPFIND_BODY, keep_body=True)
            n = len(DAV_RESPONSE.findall(r["body"]))
            if r["status"] != 207 or n != 1:
                raise RuntimeError(f"{server.name}: PROPFIND /dav/ gave {r['status']} with {n} "
                                   "responses")
            for method, ok in (("MKCOL", 201), ("DELETE", 204)):
                r = c.request(method, f"/dav/c/verify-{server.name}/")
                if r["status"] not in (ok, 200):
                    raise RuntimeError(f"{server.name}: {method} gave {r['status']}")
        finally:
            c.close()

    def on_load_cpu(self):
        """Pins the calling thread (the small WebDAV client; an RSS sampler it starts
        inherits it) to the load generator's core; returns what to restore."""
        before = os.sched_getaffinity(0)
        os.sched_setaffinity(0, {self.load_cpu})
        return before

    def propfind(self, server, scenario):
        """PROPFIND Depth: 1, allprop, on dav/10k/ or dav/100k/, on one keep-alive connection:
        repeated propfind_reps times for 10k, once for 100k. Server CPU and wall time per
        PROPFIND, the answer's bytes and <response> elements; for 100k the peak RSS growth
        (VmHWM, reset through clear_refs just before, and a 1 ms VmRSS sampler as a check)
        and when the first and the last byte of the body arrived."""
        entries = self.dav_dirs[scenario]
        reps = self.propfind_reps if scenario == "propfind-10k" else 1
        path = f"/dav/{scenario.split('-', 1)[1]}/"
        before = self.on_load_cpu()
        c = HttpClient(server.port)
        try:
            raw = c.build("PROPFIND", path, [("Depth", "1"), ("Content-Type", "application/xml")],
                          PROPFIND_BODY)
            pid = server.pid
            rss0 = rss_kib(pid)
            hwm_reset = False
            if scenario == "propfind-100k":
                try:
                    with open(f"/proc/{pid}/clear_refs", "w") as f:
                        f.write("5")
                    hwm_reset = True
                except OSError:
                    pass
            sampler = RssSampler(pid) if scenario == "propfind-100k" else None
            answers = []
            c0, t0 = cpu_ns(pid), time.monotonic()
            if sampler:
                sampler.__enter__()
            try:
                for _ in range(reps):
                    answers.append(c.exchange(raw, keep_body=True))
            finally:
                if sampler:
                    sampler.__exit__()
            secs, c1 = time.monotonic() - t0, cpu_ns(pid)
            hwm = rss_kib(pid, "VmHWM")
        finally:
            c.close()
            os.sched_setaffinity(0, before)
        for a in answers:
            if a["status"] != 207:
                raise RuntimeError(f"{server.name}: PROPFIND {path} gave {a['status']}")
        last = answers[-1]
        count = len(DAV_RESPONSE.findall(last["body"]))
        if count != entries + 1:
            log(f"bench: {server.name}: PROPFIND {path} gave {count} responses, "
                f"not {entries + 1}")
        res = {"cpu_ms": (c1 - c0) / 1e6 / reps, "wall_ms": secs * 1000 / reps,
               "bytes": last["size"], "responses": count}
        if sampler:
            peak = hwm if hwm_reset else sampler.peak
            res.update({
                "rss_growth_kib": max(0, peak - rss0), "rss_sampled_growth_kib":
                    max(0, sampler.peak - rss0), "rss_before_kib": rss0,
                "first_byte_ms": (last["first"] - last["sent"]) * 1000,
                "first_body_ms": (last["first_body"] - last["sent"]) * 1000,
                "last_byte_ms": (last["last"] - last["sent"]) * 1000})
            res["first_fraction"] = res["first_body_ms"] / res["last_byte_ms"]
        return res

    def dav_cycles(self, server, tag):
        """dav_cycles times MKCOL /dav/c/TAG/dN/, PUT .../dN/f (100 bytes), MOVE .../f to
        .../g, DELETE .../dN/, on one keep-alive connection; every answer must be 200, 201
        or 204 and nothing may be left. Requests per second and server CPU per request."""
        base = f"/dav/c/{tag}"
        os.makedirs(self.root + base)
        os.chmod(self.root + base, 0o777)
        before = self.on_load_cpu()
        c = HttpClient(server.port)
        try:
            dest = f"http://127.0.0.1:{server.port}"
            data = b"x" * 100
            raws = []
            for i in range(self.dav_cycle_count):
                d = f"{base}/d{i}/"
                raws += [c.build("MKCOL", d), c.build("PUT", d + "f", body=data),
                         c.build("MOVE", d + "f", [("Destination", dest + d + "g"),
                                                    ("Overwrite", "T")]),
                         c.build("DELETE", d)]
            bad = []
            c0, t0 = cpu_ns(server.pid), time.monotonic()
            for raw in raws:
                r = c.exchange(raw)
                if r["status"] not in (200, 201, 204):
                    bad.append((raw.split(b" ", 2)[:2], r["status"]))
                    if len(bad) > 10:
                        break
            secs, c1 = time.monotonic() - t0, cpu_ns(server.pid)
            reconnects = c.reconnects
        finally:
            c.close()
            os.sched_setaffinity(0, before)
        left = os.listdir(self.root + base)
        if bad or left:
            raise RuntimeError(f"{server.name}: WebDAV cycles: {bad[:3]}, left: {left[:3]}")
        shutil.rmtree(self.root + base)
        n = len(raws)
        res = {"rps": n / secs, "cpu_us_per_req": (c1 - c0) / 1e3 / n, "requests": n}
        if reconnects:
            res["reconnects"] = reconnects
        return res

    def dav_copy(self, server, tag):
        """COPY /big.bin to /dav/copy/TAG.bin with Overwrite: T, the destination absent (the
        same work for every server: a new file). The copy is checked (size, and 1 MiB at the
        start, middle and end) and removed."""
        rel = f"/dav/copy/{tag}.bin"
        target = self.root + rel
        if os.path.exists(target):
            os.unlink(target)
        subprocess.run(["sync"])
        before = self.on_load_cpu()
        c = HttpClient(server.port)
        try:
            raw = c.build("COPY", "/big.bin", [
                ("Destination", f"http://127.0.0.1:{server.port}{rel}"), ("Overwrite", "T")])
            c0, t0 = cpu_ns(server.pid), time.monotonic()
            r = c.exchange(raw)
            secs, c1 = time.monotonic() - t0, cpu_ns(server.pid)
        finally:
            c.close()
            os.sched_setaffinity(0, before)
        if r["status"] not in (201, 204):
            raise RuntimeError(f"{server.name}: COPY gave {r['status']}")
        st, src = os.stat(target), os.stat(self.big)
        size, linked = st.st_size, (st.st_dev, st.st_ino) == (src.st_dev, src.st_ino)
        same = size == self.big_size
        with open(self.big, "rb") as a, open(target, "rb") as b:
            for at in (0, self.big_size // 2, max(0, self.big_size - (1 << 20))):
                a.seek(at)
                b.seek(at)
                same = same and a.read(1 << 20) == b.read(1 << 20)
        os.unlink(target)
        if not same:
            raise RuntimeError(f"{server.name}: COPY made {size} bytes, not a copy")
        res = {"seconds": secs, "gbps": self.big_size / secs / 1e9,
               "server_cpu_s": (c1 - c0) / 1e9}
        if linked:
            # lighttpd's COPY is a hard link within one file system (its PUT replaces a file
            # by rename, so the two names part at the next write): no data is copied.
            res["hard_link"] = True
        return res

    def resumable_upload(self, server, scenario, name, source=None, timeout=300):
        """One upload of `source` (the big file by default) to /up/NAME by a raw-socket
        client pinned to the load core (TCP_NODELAY, the body by socket.sendfile, so that the
        client costs the same in the three ways), after a sync:

        - put-plain: PUT with Content-Length; the final answer.
        - put-resumable: the same PUT with Upload-Draft-Interop-Version: 8 and
          Upload-Complete: ?1: 104 Upload Resumption Supported (with Location), then the
          final answer.
        - put-resumable-cut10: that creation, cut (RST) after about 1/11 of the body, once
          its 104 is read; then RESUMABLE_CUTS times a new connection with HEAD of the upload
          (204, Upload-Offset: N, which must be at most the bytes sent and not below the last
          offset) and on it a PATCH from N (Content-Length: the rest) that sends up to the
          next eleventh and is cut, the last one sending all the rest and reading the final
          answer.

        Wall time from the first byte sent to the final answer (the first connection is made
        before; the others, the HEADs and the cuts are in it) and the server's CPU time. The
        file must have the source's size and bytes (64 KiB compared at its start, middle, end
        and at every offset it was resumed from); it is removed."""
        source = source or self.big
        size = os.path.getsize(source)
        rel = f"/up/{name}"
        target = self.root + rel
        if os.path.exists(target):
            os.unlink(target)
        fail = lambda why: RuntimeError(f"{server.name}: {scenario} of {size} bytes: {why}")
        subprocess.run(["sync"])
        before = self.on_load_cpu()
        c = HttpClient(server.port, timeout=timeout)
        sent_total, offsets = 0, []

        def head(method, path, fields, length):
            lines = [f"{method} {path} HTTP/1.1", f"Host: 127.0.0.1:{server.port}"]
            lines += [f"{k}: {v}" for k, v in fields] + [f"Content-Length: {length}"]
            return ("\r\n".join(lines) + "\r\n\r\n").encode()

        def send(c, raw, f, offset, count):
            """The head, then `count` bytes of the source from `offset`."""
            nonlocal sent_total
            if c.sock is None:
                c.connect()
            try:
                c.sock.sendall(raw)
                n = c.sock.sendfile(f, offset, count) if count else 0
            except OSError as e:
                raise fail(f"sending the body: {e}") from e
            if n != count:
                raise fail(f"sendfile sent {n} of {count} bytes")
            sent_total += n

        def answer(c, sent):
            """The next answer, an interim one (1xx) included."""
            try:
                return c.answer(sent)
            except (OSError, EOFError) as e:
                raise fail(f"no answer ({type(e).__name__} {e})") from e

        def final(c, sent):
            while 100 <= (r := answer(c, sent))["status"] < 200:
                pass
            if not 200 <= r["status"] < 300:
                raise fail(f"the final answer is {r['status']}")
            return r

        def location_of(r):
            if r["status"] != 104 or "location" not in r["headers"]:
                raise fail(f"a {r['status']} answer where 104 Upload Resumption Supported "
                           "with Location was due")
            return urllib.parse.urlsplit(r["headers"]["location"]).path

        def cut(c):
            # An abortive close: RST, whatever is still in the socket's send queue is lost.
            c.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            c.close()

        creation = [INTEROP, ("Upload-Complete", "?1")]
        try:
            with open(source, "rb") as f:
                c0, t0 = cpu_ns(server.pid), time.monotonic()
                if scenario == "put-plain":
                    send(c, head("PUT", rel, [], size), f, 0, size)
                    final(c, t0)
                elif scenario == "put-resumable":
                    send(c, head("PUT", rel, creation, size), f, 0, size)
                    location_of(answer(c, t0))
                    final(c, t0)
                else:
                    pieces = RESUMABLE_CUTS + 1
                    ends = [size * (i + 1) // pieces for i in range(pieces)]
                    send(c, head("PUT", rel, creation, size), f, 0, ends[0])
                    url = location_of(answer(c, t0))
                    cut(c)
                    reached, offset = ends[0], 0
                    for i in range(1, pieces):
                        try:
                            c = HttpClient(server.port, timeout=timeout)
                            r = c.request("HEAD", url, [INTEROP])
                        except (OSError, EOFError) as e:
                            raise fail(f"HEAD {url} after cut {i}: {type(e).__name__} {e}") from e
                        got = r["headers"].get("upload-offset", "")
                        if r["status"] not in (200, 204) or not got.isdigit():
                            raise fail(f"HEAD {url} after cut {i}: {r['status']}, "
                                       f"Upload-Offset {got!r}")
                        if not offset <= int(got) <= reached:
                            raise fail(f"after cut {i} Upload-Offset is {got}, the bytes sent "
                                       f"reached {reached}, the last offset was {offset}")
                        offset = int(got)
                        offsets.append(offset)
                        send(c, head("PATCH", url, [
                            ("Content-Type", "application/partial-upload"),
                            ("Upload-Offset", offset), ("Upload-Complete", "?1"), INTEROP],
                            size - offset), f, offset, ends[i] - offset)
                        reached = ends[i]
                        if i < pieces - 1:
                            cut(c)
                    final(c, t0)
                secs, c1 = time.monotonic() - t0, cpu_ns(server.pid)
        finally:
            c.close()
            os.sched_setaffinity(0, before)
        stored = os.path.getsize(target) if os.path.exists(target) else None
        same = stored == size
        if same:
            with open(source, "rb") as a, open(target, "rb") as b:
                for at in sorted({0, size // 2, size} | set(offsets)):
                    at = min(max(0, at - (32 << 10)), max(0, size - (64 << 10)))
                    a.seek(at)
                    b.seek(at)
                    same = same and a.read(64 << 10) == b.read(64 << 10)
        if os.path.exists(target):
            os.unlink(target)
        if stored != size:
            raise fail(f"the file has {stored} bytes")
        if not same:
            raise fail("the file differs from its source")
        res = {"seconds": secs, "gbps": size / secs / 1e9, "server_cpu_s": (c1 - c0) / 1e9}
        if scenario == "put-resumable-cut10":
            # Bytes sent but lost at the cuts (in the send queue at the RST, or never
            # synced), and sent again.
            res.update({"requests": RESUMABLE_CUTS + 1, "lost_bytes": sent_total - size,
                        "offsets": offsets})
        return res

    def verify_resumable(self, server):
        """Before it is measured, a server must take the 1 KiB file by resumable creation
        and by creation cut RESUMABLE_CUTS times (each a 104 and a whole file)."""
        for scenario in ("put-resumable", "put-resumable-cut10"):
            self.resumable_upload(server, scenario, f"verify-{server.name}.bin",
                                  os.path.join(self.root, "1k.bin"), timeout=30)

    def compress_check(self, server, scenario):
        """One GET of the scenario's path with its Accept-Encoding, on a connection of its
        own: 200, Content-Encoding the coding asked for, and a body that decodes (Python's
        gzip, the zstd tool) to the file, or for the listing to the answer of the same
        server without a coding, with every one of its entries; for static-gz-js the body
        must be app.js.gz byte for byte (the precompressed file, not a coding of its own).
        The body's bytes (what a response puts on the wire, framing aside), the decoded
        bytes and their ratio."""
        path, coding, fields, _ = COMPRESS_SCENARIOS[scenario]
        fail = lambda why: RuntimeError(f"{server.name}: {scenario}: GET {path} with "
                                        f"Accept-Encoding: {coding}: {why}")
        c = HttpClient(server.port, timeout=60)
        try:
            r = c.request("GET", path, [("Accept-Encoding", coding), *fields], keep_body=True)
            plain = None
            if scenario == "gzip-listing":
                plain = c.request("GET", path, [("Accept-Encoding", "identity"), *fields],
                                  keep_body=True)
        except (OSError, EOFError) as e:
            raise fail(f"{type(e).__name__} {e}") from e
        finally:
            c.close()
        got = r["headers"].get("content-encoding", "")
        if r["status"] != 200 or got.lower() != coding:
            raise fail(f"{r['status']} with Content-Encoding {got!r}")
        body = r["body"]
        if coding == "gzip":
            try:
                decoded = gzip.decompress(body)
            except Exception as e:  # BadGzipFile, EOFError, zlib.error
                raise fail(f"the body does not decode: {e}") from e
        else:
            z = subprocess.run(["zstd", "-dcq"], input=body, capture_output=True)
            if z.returncode != 0:
                raise fail(f"the body does not decode: {z.stderr.decode().strip()}")
            decoded = z.stdout
        if scenario == "gzip-listing":
            if plain["status"] != 200 or plain["headers"].get("content-encoding"):
                raise fail(f"without a coding: {plain['status']}, Content-Encoding "
                           f"{plain['headers'].get('content-encoding')!r}")
            if decoded != plain["body"]:
                raise fail("the decoded listing differs from the one sent without a coding")
            listed = len(set(re.findall(rb"-(\d{5})-", decoded)))
            if listed != COMPRESS_LISTING_ENTRIES:
                raise fail(f"{listed} entries listed, not {COMPRESS_LISTING_ENTRIES}")
        elif decoded != self.compress_js:
            raise fail("the decoded body is not the file")
        if scenario == "static-gz-js":
            with open(self.root + path + ".gz", "rb") as f:
                if body != f.read():
                    raise fail("the body is not app.js.gz (coded on the fly?)")
        return {"body_bytes": len(body), "original_bytes": len(decoded),
                "factor": len(decoded) / len(body),
                "vary": "accept-encoding" in r["headers"].get("vary", "").lower(),
                "chunked": "chunked" in r["headers"].get("transfer-encoding", "").lower()}

    def compress_run(self, server, scenario):
        """wrk over COMPRESS_CONNS keep-alive connections with the scenario's Accept-Encoding
        (and Accept for the listing), after a check of the answer (compress_check): req/s,
        server CPU per request (/proc/PID/stat before and after, as the small files), the
        body's bytes per response; wire_bytes_per_req is what wrk read per response, the
        head and the chunked framing included."""
        check = self.compress_check(server, scenario)
        path, coding, fields, _ = COMPRESS_SCENARIOS[scenario]
        extra = ["-H", f"Accept-Encoding: {coding}"]
        for k, v in fields:
            extra += ["-H", f"{k}: {v}"]
        res = self.wrk(server, path, COMPRESS_CONNS, extra)
        res["cpu_ms_per_req"] = res["cpu_us_per_req"] / 1000
        res.update(check)
        return res

    def archive_check(self, server):
        """Before it is measured: tree-check/ as ZIP and as tar, read back by Python's
        zipfile (testzip: every CRC-32) and tarfile, every file byte for byte and the empty
        folder there; then tree/ as ZIP and tar and tree-cold/ as ZIP streamed to the end
        (the ZIP of tree/ computes its CRC-32s, which httpfs then remembers): a body as long
        as its Content-Length, a ZIP that ends with its end record counting every file, a tar
        that ends with two zero blocks. Returns the archives' sizes by path, and the ZIP's
        entries (zip_entries)."""
        fail = lambda path, why: RuntimeError(f"{server.name}: GET {path}: {why}")
        c = HttpClient(server.port, timeout=300)
        sizes = {}
        try:
            for fmt in ("zip", "tar"):
                path = f"/tree-check/?download={fmt}"
                r = c.request("GET", path, keep_body=True)
                body = r["body"]
                if r["status"] != 200 or int(r["headers"].get("content-length", -1)) != len(body):
                    raise fail(path, f"{r['status']}, Content-Length "
                                     f"{r['headers'].get('content-length')} for {len(body)} bytes")
                try:
                    if fmt == "zip":
                        with zipfile.ZipFile(io.BytesIO(body)) as z:
                            bad = z.testzip()
                            if bad is not None:
                                raise fail(path, f"CRC-32 of {bad} is wrong")
                            names = z.namelist()
                            got = {n: z.read(n) for n in names if not n.endswith("/")}
                    else:
                        with tarfile.open(fileobj=io.BytesIO(body)) as t:
                            members = t.getmembers()
                            names = [m.name + ("/" if m.isdir() else "") for m in members]
                            got = {m.name: t.extractfile(m).read() for m in members if m.isfile()}
                except (zipfile.BadZipFile, tarfile.TarError) as e:
                    raise fail(path, f"not an archive: {e}") from e
                # Names are relative to the folder, or start with its name.
                strip = lambda n: n.removeprefix("tree-check/").removeprefix("./")
                got = {strip(n): v for n, v in got.items()}
                if got != self.archive_check_files:
                    missing = set(self.archive_check_files) ^ set(got)
                    raise fail(path, f"the files differ ({sorted(missing)[:3] or 'bytes'})")
                if "empty-folder/" not in {strip(n) for n in names}:
                    raise fail(path, "the empty folder is not in it")
            for path in ("/tree/?download=zip", "/tree/?download=tar",
                         "/tree-cold/?download=zip"):
                tail = bytearray()

                def keep_tail(piece):
                    tail.extend(piece)
                    if len(tail) > (1 << 17):
                        del tail[:len(tail) - (1 << 16)]

                r = c.request("GET", path, sink=keep_tail)
                length = int(r["headers"].get("content-length", -1))
                if r["status"] != 200 or length != r["size"]:
                    raise fail(path, f"{r['status']}, Content-Length {length} for {r['size']} "
                                     "bytes")
                if path.endswith("zip"):
                    end = bytes(tail[-22:])
                    count = struct.unpack("<H", end[10:12])[0] if end[:4] == b"PK\x05\x06" \
                        else -1
                    if count == 0xFFFF:  # ZIP64: the count is in the record before the locator
                        rec = bytes(tail[-22 - 20 - 56:-22 - 20])
                        count = struct.unpack("<Q", rec[32:40])[0] \
                            if rec[:4] == b"PK\x06\x06" else -1
                    if not self.archive_files <= count <= self.archive_files + 101:
                        raise fail(path, f"the end record counts {count} entries for "
                                         f"{self.archive_files} files")
                    sizes["zip_entries"] = count
                elif bytes(tail[-1024:]) != bytes(1024):
                    raise fail(path, "the tar does not end with two zero blocks")
                sizes[path] = r["size"]
        except (OSError, EOFError) as e:
            raise RuntimeError(f"{server.name}: folder downloads: {type(e).__name__} {e}") from e
        finally:
            c.close()
        return sizes

    def archive_run(self, server, scenario):
        """One download by httpc to /dev/null, pinned to the load core, as in the large
        group: archive-get is GET /big.bin, the others GET /tree/?download=zip|tar (ZIP: the
        CRC-32s known from an earlier download) or /tree-cold/?download=zip (every file's
        modification time moved just before, so that no CRC-32 is known and each file is
        read to compute it). Throughput of the archive's bytes, server CPU (schedstat: the
        walk and the CRC-32s run on the worker pool) per GiB, peak RSS (VmHWM reset through
        clear_refs just before; a 1 ms sampler as a check) over RSS before."""
        path = ARCHIVE_PATHS[scenario]
        size = self.big_size if scenario == "archive-get" else self.archive_sizes[server.name][path]
        if scenario == "archive-zip-cold":
            now = time.time_ns()
            for dirpath, _, names in os.walk(os.path.join(self.root, "tree-cold")):
                for f in names:
                    os.utime(os.path.join(dirpath, f), ns=(now, now))
        pid = server.pid
        before = self.on_load_cpu()
        try:
            rss0 = rss_kib(pid)
            hwm_reset = False
            try:
                with open(f"/proc/{pid}/clear_refs", "w") as f:
                    f.write("5")
                hwm_reset = True
            except OSError:
                pass
            with RssSampler(pid) as sampler:
                c0, t0 = cpu_ns(pid), time.monotonic()
                r = subprocess.run(["taskset", "-c", str(self.load_cpu), f"{self.build}/httpc",
                                    "-s", "-k", "-o", "/dev/null", server.url(path)],
                                   capture_output=True, text=True)
                secs, c1 = time.monotonic() - t0, cpu_ns(pid)
            hwm = rss_kib(pid, "VmHWM")
        finally:
            os.sched_setaffinity(0, before)
        if r.returncode != 0:
            raise RuntimeError(f"{server.name}: httpc {path}: exit {r.returncode} "
                               f"{r.stderr.strip()}")
        cpu = (c1 - c0) / 1e9
        peak = hwm if hwm_reset else sampler.peak
        return {"seconds": secs, "bytes": size, "gbps": size / secs / 1e9, "server_cpu_s": cpu,
                "cpu_s_per_gib": cpu / (size / (1 << 30)), "rss_before_kib": rss0,
                "peak_rss_kib": peak, "rss_growth_kib": max(0, peak - rss0),
                "rss_sampled_growth_kib": max(0, sampler.peak - rss0)}

    def stop_servers(self):
        for s in self.servers.values():
            if s.argv:
                s.stop()

    # ---- measuring

    def wrk(self, server, path, conns, extra=()):
        base = ["taskset", "-c", str(self.load_cpu), "wrk", "-t1", f"-c{conns}", "--latency",
                "--timeout", "10s", *extra, server.url(path)]
        cmd = base + [f"-d{self.seconds}s"]
        if not self.quick:
            # A warm-up, so that every server starts from warm caches and open connections.
            subprocess.run(base + ["-d1s"], capture_output=True, text=True)
        c0 = cpu_us(server.pid)
        out = subprocess.run(cmd, capture_output=True, text=True).stdout
        c1 = cpu_us(server.pid)
        num = lambda rx: re.search(rx, out, re.M)
        reqs = int(num(r"^\s*(\d+) requests in")[1])
        rps = float(num(r"^Requests/sec:\s*([\d.]+)")[1])
        bad = num(r"Non-2xx or 3xx responses: (\d+)")
        errors = num(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)")
        result = {
            "rps": rps,
            "cpu_us_per_req": (c1 - c0) / reqs if reqs else 0,
            "p50_ms": to_ms(num(r"^\s*50%\s+(\S+)")[1]),
            "requests": reqs,
        }
        # wrk's 99th percentile reads 0 when its histogram overflows (it does with
        # pipelining, where one sample covers a batch): leave it out rather than report 0.
        p99 = to_ms(num(r"^\s*99%\s+(\S+)")[1])
        if p99 > 0:
            result["p99_ms"] = p99
        read = num(r"requests in [\d.]+\w+, ([\d.]+)([KMGT]?B) read")
        if read and reqs:
            scale = {"B": 1, "KB": 1 << 10, "MB": 1 << 20, "GB": 1 << 30, "TB": 1 << 40}
            result["wire_bytes_per_req"] = float(read[1]) * scale[read[2]] / reqs
        if bad:
            result["non_2xx"] = int(bad[1])
        if errors:
            result["socket_errors"] = sum(int(x) for x in errors.groups())
        return result

    def transfer(self, server, args):
        """One httpc run pinned to the load core: wall seconds and server CPU seconds. httpc is
        the sink and the source here because curl tops out near 1 GB/s on this kind of machine
        and would make every server look the same; the same client runs against every server."""
        c0 = cpu_us(server.pid)
        t0 = time.monotonic()
        r = subprocess.run(["taskset", "-c", str(self.load_cpu), f"{self.build}/httpc", "-s",
                            "-k", *args], capture_output=True, text=True)
        secs = time.monotonic() - t0
        c1 = cpu_us(server.pid)
        if r.returncode != 0:
            raise RuntimeError(f"{server.name}: httpc {' '.join(args)}: {r.stderr.strip()}")
        return {"seconds": secs, "gbps": self.big_size / secs / 1e9,
                "server_cpu_s": (c1 - c0) / 1e6}

    def download(self, server, path):
        url = server.url(path)
        head = sh(["curl", "-skI", "-o", "/dev/null", "-w", "%{http_code}", url])
        if head != "200":
            raise RuntimeError(f"{server.name}: HEAD {path} gave {head}")
        # --no-fail is off: a short body is exit code 8, which transfer() reports.
        return self.transfer(server, ["-o", "/dev/null", url])

    def upload(self, server, name):
        target = os.path.join(self.root, "up", name)
        subprocess.run(["sync"])
        res = self.transfer(server, ["-o", "/dev/null", "-T", self.big,
                                     server.url("/up/" + name)])
        size = os.path.getsize(target)
        os.unlink(target)
        if size != self.big_size:
            raise RuntimeError(f"{server.name}: PUT stored {size} bytes")
        return res

    def mirror_run(self, client):
        """httpc --mirror (one file at a time, or -Z with 8 at once), wget -r or wget2 -r
        (5 threads by default) copying the mirror tree from nginx's autoindex pages into an
        empty directory: seconds, peak RSS and CPU, after checking that every file arrived."""
        url = self.servers["nginx"].url("/mirror/")
        out = os.path.join(self.tmp, "mirror-out")
        shutil.rmtree(out, ignore_errors=True)
        httpc = f"{self.build}/httpc"
        wget = ["-q", "-r", "-np", "-nH", "--cut-dirs=1", "-R", "index.html*", "-P", out, url]
        cmd = {"httpc": [httpc, "-s", "--mirror", url, out],
               "httpc-Z": [httpc, "-s", "-Z", "--parallel-max", "8", "--mirror", url, out],
               "wget": ["wget"] + wget, "wget2": ["wget2"] + wget}[client]
        r = subprocess.run(["taskset", "-c", str(self.load_cpu), "/usr/bin/time", "-f",
                            "%e %M %U %S"] + cmd, capture_output=True, text=True)
        if r.returncode != 0:
            raise RuntimeError(f"{client} mirror failed: {r.stderr.strip()[-500:]}")
        secs, rss, user, system = r.stderr.strip().splitlines()[-1].split()
        count = total = 0
        for dirpath, _, names in os.walk(out):
            for n in names:
                if n.startswith("index.html"):
                    continue  # wget2 keeps the pages -R names; they are not the tree
                count += 1
                total += os.path.getsize(os.path.join(dirpath, n))
        shutil.rmtree(out, ignore_errors=True)
        if (count, total) != self.mirror_tree:
            raise RuntimeError(f"{client} mirror: {count} files, {total} bytes, not "
                               f"{self.mirror_tree}")
        return {"seconds": float(secs), "files_per_s": count / float(secs),
                "peak_rss_kib": int(rss), "cpu_s": float(user) + float(system)}

    def client_run(self, client, direction, round_no):
        """httpc, curl or wget moving the big file to disk (GET) or to httpfs (PUT); httpc
        --segments 4 or aria2c -x4 -s4 fetching it from nginx as four ranges at once
        (segmented; aria2c reserves the file with fallocate as httpc does, not its default
        of writing zeros first)."""
        if direction == "mirror":
            return self.mirror_run(client)
        get_url = self.servers["httpfs"].url("/big.bin")
        put_name = f"client-{client}-{round_no}.bin"
        put_url = self.servers["httpfs-nofsync"].url("/up/" + put_name)
        out = os.path.join(self.tmp, "client.out")
        httpc = f"{self.build}/httpc"
        if direction in ("get", "segmented"):
            if direction == "segmented":
                url = self.servers["nginx"].url("/big.bin")
                cmd = {"httpc": [httpc, "-s", "--segments", "4", "-o", out, url],
                       "aria2c": ["aria2c", "-q", "-x4", "-s4", "--file-allocation=falloc",
                                  "--allow-overwrite=true", "--auto-file-renaming=false",
                                  "-d", self.tmp, "-o", "client.out", url]}[client]
            else:
                cmd = {"httpc": [httpc, "-s", "-o", out, get_url],
                       "curl": ["curl", "-s", "-o", out, get_url],
                       "wget": ["wget", "-q", "-O", out, get_url]}[client]
            for f in (out, out + ".part", out + ".part.segments", out + ".aria2"):
                if os.path.exists(f):
                    os.unlink(f)
        else:
            cmd = {"httpc": [httpc, "-s", "-o", "/dev/null", "-T", self.big, put_url],
                   "curl": ["curl", "-s", "-o", "/dev/null", "-T", self.big, put_url],
                   "wget": ["wget", "-q", "-O", "/dev/null", "--method=PUT",
                            f"--body-file={self.big}", put_url]}[client]
        subprocess.run(["sync"])
        r = subprocess.run(["taskset", "-c", str(self.load_cpu), "/usr/bin/time", "-f",
                            "%e %M %U %S"] + cmd, capture_output=True, text=True)
        if r.returncode != 0:
            raise RuntimeError(f"{client} {direction} failed: {r.stderr.strip()}")
        secs, rss, user, system = r.stderr.strip().splitlines()[-1].split()
        written = out if direction != "put" else os.path.join(self.root, "up", put_name)
        size = os.path.getsize(written)
        os.unlink(written)
        if size != self.big_size:
            raise RuntimeError(f"{client} {direction}: {size} bytes")
        return {"seconds": float(secs), "gbps": self.big_size / float(secs) / 1e9,
                "peak_rss_kib": int(rss), "cpu_s": float(user) + float(system)}

    def idle_memory(self, server):
        """RSS growth from a freshly started server (after one request) to idle_total idle
        keep-alive connections, divided by their count. A fresh process, because memory the
        load scenarios left in the allocator's free lists would hide the cost of a connection;
        what a server reserves at start (nginx's connection array) shows in the first column."""
        tool = f"{self.build}/bench/idle_clients"
        server.stop()
        server.start(self.server_cpu)
        if server.name == "nginx" and "nginx-tls" in self.servers:  # the same process
            self.servers["nginx-tls"].proc = server.proc
        self.verify(server, "/1k.bin")
        time.sleep(0.3)
        base = rss_kib(server.pid)
        p = subprocess.Popen(["taskset", "-c", str(self.load_cpu), tool, str(server.port),
                              "/1k.bin", str(self.idle_total), "600"], stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, text=True)
        try:
            line = p.stdout.readline()
            if not line.startswith("ready"):
                raise RuntimeError(f"{server.name}: idle clients failed: {line!r}")
            time.sleep(0.5)
            full = rss_kib(server.pid)
        finally:
            p.stdin.close()
            p.wait()
        return {"rss_start_kib": base, "rss_kib": full,
                "bytes_per_conn": (full - base) * 1024 / self.idle_total}

    def h2_server(self, name, scenario):
        """The listener of `name` (httpfs, httpfs-base, nginx-h2, h2o-h2) for the scenario:
        its plain one for h2c, its TLS one for h2."""
        return self.servers[name + "-tls" if H2_SCENARIOS[scenario][0] else name]

    def h2load_run(self, server):
        """h2load -t1 with H2_CONNS connections of H2_STREAMS concurrent streams each, GET
        /1k.bin for --seconds (-D), after a 1 s warm-up run (not in quick mode), pinned to
        the load core: req/s, server CPU per request (schedstat of every thread, before and
        after the measured run, over the requests done), the mean time of a request, and
        every request that did not succeed (failed, errored, timeout, not 2xx), kept with
        h2load's own lines."""
        base = ["taskset", "-c", str(self.load_cpu), "h2load", "-t1", f"-c{H2_CONNS}",
                f"-m{H2_STREAMS}", server.url("/1k.bin")]
        if not self.quick:
            subprocess.run(base + ["-D", "1"], capture_output=True, text=True, timeout=120)
        c0 = cpu_ns(server.pid)
        r = subprocess.run(base + ["-D", str(self.seconds)], capture_output=True, text=True,
                           timeout=self.seconds + 120)
        c1 = cpu_ns(server.pid)
        h = parse_h2load(r.stdout)
        if "rps" not in h or "done" not in h:
            raise RuntimeError(f"{server.name}: h2load gave no result (exit {r.returncode}): "
                               f"{(r.stdout + r.stderr).strip()[-500:]}")
        expected = "h2" if server.scheme == "https" else "h2c"
        if h.get("protocol") != expected:
            raise RuntimeError(f"{server.name}: h2load spoke {h.get('protocol')}, not {expected}")
        res = {"rps": h["rps"], "cpu_us_per_req": (c1 - c0) / 1e3 / h["done"] if h["done"] else 0,
               "requests": h["done"], "mean_ms": h.get("mean_ms"),
               "header_bytes_per_req": h["header_bytes"] / h["done"] if h.get("done") and
               "header_bytes" in h else None}
        res = {k: v for k, v in res.items() if v is not None}
        if h.get("tls"):
            res["tls"] = h["tls"]
        bad = {k: h.get(k, 0) for k in ("failed", "errored", "timeout")}
        # Not done - 2xx: h2load counts the status of responses whose body the -D deadline
        # cut (2xx may exceed done).
        bad["not_2xx"] = sum(h.get(k, 0) for k in ("3xx", "4xx", "5xx"))
        res["not_ok"] = sum(bad.values())
        if any(bad.values()) or r.returncode != 0:
            res["bad"] = bad
            res["h2load_lines"] = [line for line in r.stdout.splitlines()
                                   if line.startswith(("finished in", "requests:", "status codes:",
                                                       "traffic:"))]
            log(f"bench: h2: {server.name}: requests that did not succeed: {bad} "
                f"(h2load exit {r.returncode}): " + " / ".join(res["h2load_lines"]))
        return res

    def h2_download(self, server):
        """GET of the large file by `h2load -n1 -c1 -t1` (stream and connection windows
        2^30-1, h2load's defaults), pinned to the load core: wall seconds of the h2load run
        (connection and TLS handshake included), MB/s and server CPU seconds. The one request
        must succeed with exactly the file's bytes of DATA."""
        c0, t0 = cpu_ns(server.pid), time.monotonic()
        r = subprocess.run(["taskset", "-c", str(self.load_cpu), "h2load", "-n1", "-c1", "-t1",
                            server.url("/big.bin")], capture_output=True, text=True, timeout=600)
        secs, c1 = time.monotonic() - t0, cpu_ns(server.pid)
        h = parse_h2load(r.stdout)
        if h.get("succeeded") != 1 or h.get("data_bytes") != self.big_size:
            lines = [line for line in r.stdout.splitlines()
                     if line.startswith(("requests:", "status codes:", "traffic:"))]
            raise RuntimeError(f"{server.name}: h2load GET /big.bin (exit {r.returncode}): "
                               + " / ".join(lines or [(r.stdout + r.stderr).strip()[-300:]]))
        res = {"seconds": secs, "mbps": self.big_size / secs / 1e6,
               "server_cpu_s": (c1 - c0) / 1e9}
        if h.get("tls"):
            res["tls"] = h["tls"]
        return res

    def h2_idle_memory(self, name):
        """RSS growth of a freshly started server process (after one HTTP/2 request) from
        idle_total idle h2c connections, divided by their count: each connection sends the
        preface and an empty SETTINGS, reads the server's SETTINGS, acknowledges it and
        stays idle. Then the connections still open are counted (a server that closed some,
        or sent GOAWAY, would look small)."""
        server = self.servers[name]
        server.stop()
        server.start(self.server_cpu)
        self.share_processes()
        self.verify_h2(server)
        time.sleep(0.3)
        pid, n = server.pid, self.idle_total
        base = rss_kib(pid)
        socks, bufs = [], []
        before = self.on_load_cpu()
        try:
            # All connect and send first, then each reads the server's SETTINGS: one by one,
            # 8000 connections took longer than the servers' idle timeouts.
            for i in range(n):
                s = socket.create_connection(("127.0.0.1", server.port), timeout=10)
                socks.append(s)
                s.sendall(H2_PREFACE + H2_SETTINGS)
            for i, s in enumerate(socks):
                buf = bytearray()
                while not h2_frames(buf, settings=True):
                    data = s.recv(65536)
                    if not data:
                        raise RuntimeError(f"{server.name}: idle h2c connection {i + 1} closed "
                                           "before the server's SETTINGS")
                    buf += data
                s.sendall(H2_SETTINGS_ACK)
                bufs.append(buf)
            time.sleep(0.5)
            full = rss_kib(pid)
            closed = goaway = 0
            for s, buf in zip(socks, bufs):
                # Without a timeout: Python waits for readability (up to the timeout) before
                # a recv, even with MSG_DONTWAIT, and the servers' idle timeouts then run out.
                s.settimeout(0)
                try:
                    while True:
                        data = s.recv(65536, socket.MSG_DONTWAIT)
                        if not data:
                            closed += 1
                            break
                        buf += data
                except BlockingIOError:
                    pass
                except OSError:
                    closed += 1
                if h2_frames(buf, goaway=True):
                    goaway += 1
        finally:
            for s in socks:
                s.close()
            os.sched_setaffinity(0, before)
        if closed or goaway:
            log(f"bench: h2: {server.name}: of {n} idle h2c connections, {closed} closed and "
                f"{goaway} sent GOAWAY before the end")
        return {"rss_start_kib": base, "rss_kib": full, "connections": n,
                "bytes_per_conn": (full - base) * 1024 / n, "closed": closed, "goaway": goaway}

    # ---- the run

    def rotate(self, names, round_no):
        if not names:
            return []
        k = round_no % len(names)
        return names[k:] + names[:k]

    def record(self, scenario, server, value):
        self.results["scenarios"].setdefault(scenario, {}).setdefault(server, []).append(value)

    def want(self, scenario):
        """--only names groups or single scenarios."""
        if not self.only:
            return True
        return scenario in self.only or any(g in self.only and scenario in v
                                            for g, v in GROUPS.items())

    def pick(self, names):
        """The servers of a scenario that --servers keeps (all of them without it)."""
        return [n for n in names if n in self.servers and (
            self.server_filter is None or n in self.server_filter
            or family(n) in self.server_filter)]

    def plan(self):
        """Every scenario that runs, with the servers it runs against, in a fixed order."""
        main = self.pick(["httpfs", "httpfs-base"] + PEERS)
        pipeline = ("-s", f"{REPO}/bench/pipeline.lua")
        close = ("-H", "Connection: close")
        wrk = [
            ("keepalive-50", "/1k.bin", 50, (), self.pick(main + ["ceiling"])),
            ("keepalive-1000", "/1k.bin", 1000, (), self.pick(main + ["ceiling"])),
            ("pipelined-16", "/1k.bin", 50, pipeline, self.pick(main + ["ceiling"])),
            ("close", "/1k.bin", 50, close, self.pick(main + ["ceiling-close"])),
            ("100k-keepalive", "/100k.bin", 50, (), main),
            ("tls-keepalive-50", "/1k.bin", 50, (),
             self.pick(["httpfs-tls", "httpfs-base-tls", "nginx-tls"])),
        ]
        plan = {
            "wrk": [w for w in wrk if self.want(w[0]) and w[4]],
            "get-large": main,
            "tls-get-large": self.pick(["httpfs-tls", "httpfs-base-tls", "nginx-tls"]),
            "put-large": self.pick(["httpfs", "httpfs-base", "httpfs-nofsync",
                                    "httpfs-base-nofsync", "nginx"]),
            "idle-memory": main,
        }
        # WebDAV: httpfs and the dav peers; the writes also with httpfs --no-fsync, since no
        # peer flushes anything to disk before answering.
        dav_read = self.pick(["httpfs", "httpfs-base"] + DAV_PEERS)
        dav_write = self.pick(["httpfs", "httpfs-base", "httpfs-nofsync",
                               "httpfs-base-nofsync"] + DAV_PEERS)
        plan.update({"propfind-10k": dav_read, "propfind-100k": dav_read,
                     "dav-cycles": dav_write, "dav-copy": dav_write})
        for scenario in ("get-large", "tls-get-large", "put-large", "idle-memory") + DAV:
            if not self.want(scenario):
                plan[scenario] = []
        # Resumable uploads: to httpfs (fsync, as put-large), put-plain whenever the others
        # run (their reference).
        resumable = self.pick(["httpfs", "httpfs-base"])
        for scenario in RESUMABLE:
            plan[scenario] = resumable if self.want(scenario) or (
                scenario == "put-plain" and any(self.want(s) for s in RESUMABLE)) else []
        # Compression: httpfs and nginx's gzip instance (recorded as nginx); zstd-js httpfs
        # alone; static-gz-js without nginx when it has no gzip_static.
        for scenario in COMPRESS:
            peers = [] if scenario == "zstd-js" else ["nginx-gzip"]
            if scenario == "static-gz-js" and not self.nginx_gzip_static:
                peers = []
            plan[scenario] = self.pick(["httpfs", "httpfs-base"] + peers) \
                if self.want(scenario) else []
        # Folder downloads from httpfs, archive-get whenever another runs (their reference).
        archive = self.pick(["httpfs", "httpfs-base"])
        for scenario in ARCHIVE:
            plan[scenario] = archive if self.want(scenario) or (
                scenario == "archive-get" and any(self.want(s) for s in ARCHIVE)) else []
        # HTTP/2: httpfs and the h2 peers that are there (their TLS listeners go with them;
        # httpfs's TLS listener is the process httpfs-tls). Nothing without h2load.
        h2 = [] if "all" in self.h2_left_out else \
            self.pick(["httpfs", "httpfs-base"] + list(H2_PEERS))
        for scenario in H2:
            plan[scenario] = h2 if self.want(scenario) else []
        needed = {n for w in plan["wrk"] for n in w[4]}
        needed |= {n for k, v in plan.items() if k != "wrk" for n in v}
        if any(plan[s] for s in H2 if H2_SCENARIOS[s][0]):
            needed |= {n + "-tls" for n in h2}
        # The clients download from httpfs and upload to httpfs --no-fsync, whatever --servers.
        plan["client"] = [d for d in ("get", "put", "segmented", "mirror")
                          if self.want(f"client-{d}")]
        if plan["client"]:
            needed |= {"httpfs", "httpfs-nofsync"}
        # The segmented download (--segments 4 against aria2c -x4) and the mirror (of its
        # autoindex pages, against wget -r and wget2) are from nginx.
        if "segmented" in plan["client"] or "mirror" in plan["client"]:
            needed |= {"nginx"}
        return plan, needed

    def run(self):
        started = time.time()
        log(f"bench: {self.rounds} round(s), {self.seconds} s per load run, "
            f"{self.big_mib} MiB large file, in {self.tmp}")
        if self.baseline:
            log(f"bench: httpfs-base is {self.baseline}")
        self.make_docroot()
        self.configure_servers()
        plan, needed = self.plan()
        if not needed:
            raise SystemExit("bench/run: nothing to run with these --only and --servers")
        dav_servers = {n for s in DAV for n in plan[s]}
        resumable_servers = {n for s in RESUMABLE for n in plan[s]}
        compress_servers = {n for s in COMPRESS for n in plan[s]}
        archive_servers = {n for s in ARCHIVE for n in plan[s]}
        h2_servers = {n for s in H2 for n in plan[s]}
        if dav_servers:
            t = time.monotonic()
            self.make_dav_tree()
            log(f"bench: WebDAV tree made in {time.monotonic() - t:.1f} s")
        if compress_servers:
            self.make_compress_tree()
        if archive_servers:
            t = time.monotonic()
            self.make_archive_trees()
            log(f"bench: folder-download trees made in {time.monotonic() - t:.1f} s")
        log(f"bench: servers {', '.join(n for n in self.servers if n in needed)}")
        self.collect_machine(needed)
        try:
            self.start_servers(needed)
            if h2_servers:
                self.start_h2_peers(plan)
            for name in sorted(dav_servers):
                try:
                    self.verify_dav(self.servers[name])
                except (RuntimeError, OSError) as e:
                    if family(name) != "httpfs-base":
                        raise
                    # A baseline from before WebDAV: the dav group goes on without it.
                    log(f"bench: {e}; {name} left out of the dav group")
                    for scenario in DAV:
                        plan[scenario] = [n for n in plan[scenario] if n != name]
            for name in sorted(resumable_servers):
                try:
                    self.verify_resumable(self.servers[name])
                except (RuntimeError, OSError) as e:
                    if family(name) != "httpfs-base":
                        raise
                    # A baseline from before resumable uploads: the group goes on without it.
                    log(f"bench: {e}; {name} left out of the resumable group")
                    for scenario in RESUMABLE:
                        plan[scenario] = [n for n in plan[scenario] if n != name]
            # Compression: every answer checked (coding, bytes) before the rounds, and again
            # before each run.
            for scenario in COMPRESS:
                for name in list(plan[scenario]):
                    try:
                        self.compress_check(self.servers[name], scenario)
                    except (RuntimeError, OSError) as e:
                        if family(name) != "httpfs-base":
                            raise
                        log(f"bench: {e}; {name} left out of {scenario}")
                        plan[scenario].remove(name)
            self.archive_sizes = {}
            for name in sorted(archive_servers):
                try:
                    self.archive_sizes[name] = self.archive_check(self.servers[name])
                except (RuntimeError, OSError) as e:
                    if family(name) != "httpfs-base":
                        raise
                    # A baseline from before folder downloads: the group goes on without it.
                    log(f"bench: {e}; {name} left out of the archive group")
                    for scenario in ARCHIVE:
                        plan[scenario] = [n for n in plan[scenario] if n != name]
            for r in range(self.rounds):
                for scenario, path, conns, extra, names in plan["wrk"]:
                    for name in self.rotate(names, r):
                        log(f"round {r + 1}: {scenario} {name}")
                        res = self.wrk(self.servers[name], path, conns, extra)
                        self.record(scenario, name.replace("-close", ""), res)
                # Single transfers of the big file vary a lot on a shared VM (memory
                # bandwidth): several per round, all of them in the median.
                for k in range(self.large_reps if any(
                        plan[s] for s in ("get-large", "tls-get-large", "put-large")) else 0):
                    for name in self.rotate(plan["get-large"], r + k):
                        log(f"round {r + 1}.{k + 1}: large GET {name}")
                        self.record("get-large", name,
                                    self.download(self.servers[name], "/big.bin"))
                    for name in self.rotate(plan["tls-get-large"], r + k):
                        log(f"round {r + 1}.{k + 1}: large GET over TLS {name}")
                        self.record("tls-get-large", name,
                                    self.download(self.servers[name], "/big.bin"))
                    for name in self.rotate(plan["put-large"], r + k):
                        log(f"round {r + 1}.{k + 1}: large PUT {name}")
                        self.record("put-large", name,
                                    self.upload(self.servers[name], f"put-{name}-{r}-{k}.bin"))
                # Resumable uploads against the plain PUT, in the same rounds: as many per
                # round as the large transfers, the order of the three rotated.
                resumable = [s for s in RESUMABLE if plan[s]]
                for k in range(self.large_reps if resumable else 0):
                    for scenario in self.rotate(resumable, r + k):
                        for name in self.rotate(plan[scenario], r + k):
                            log(f"round {r + 1}.{k + 1}: {scenario} {name}")
                            self.record(scenario, name, self.resumable_upload(
                                self.servers[name], scenario, f"{scenario}-{name}-{r}-{k}.bin"))
                for direction in plan["client"]:
                    clients = {"segmented": ["httpc", "aria2c"],
                               "mirror": ["httpc", "httpc-Z", "wget", "wget2"]}.get(
                                   direction, ["httpc", "curl", "wget"])
                    for client in self.rotate(clients, r):
                        if shutil.which(client) is None and not client.startswith("httpc"):
                            log(f"bench: {client} is not installed; left out of {direction}")
                            continue
                        log(f"round {r + 1}: client {direction} {client}")
                        self.record(f"client-{direction}", client,
                                    self.client_run(client, direction, r))
                for name in self.rotate(plan["idle-memory"], r):
                    log(f"round {r + 1}: idle memory {name}")
                    self.record("idle-memory", name, self.idle_memory(self.servers[name]))
                # WebDAV: the results of lighttpd-dav and nginx-dav are those of lighttpd
                # and nginx in this group.
                for scenario in DAV:
                    for name in self.rotate(plan[scenario], r):
                        log(f"round {r + 1}: {scenario} {name}")
                        server, tag = self.servers[name], f"{name}-{r}"
                        res = (self.propfind(server, scenario) if scenario.startswith("propfind")
                               else self.dav_cycles(server, tag) if scenario == "dav-cycles"
                               else self.dav_copy(server, tag))
                        self.record(scenario, name.removesuffix("-dav"), res)
                # Compression: the results of nginx-gzip are nginx's in this group.
                for scenario in COMPRESS:
                    for name in self.rotate(plan[scenario], r):
                        log(f"round {r + 1}: {scenario} {name}")
                        self.record(scenario, name.removesuffix("-gzip"),
                                    self.compress_run(self.servers[name], scenario))
                # Folder downloads against the GET of the big file: as many per round as the
                # large transfers, the order rotated.
                archive = [s for s in ARCHIVE if plan[s]]
                for k in range(self.large_reps if archive else 0):
                    for scenario in self.rotate(archive, r + k):
                        for name in self.rotate(plan[scenario], r + k):
                            log(f"round {r + 1}.{k + 1}: {scenario} {name}")
                            self.record(scenario, name,
                                        self.archive_run(self.servers[name], scenario))
                # HTTP/2: the results of nginx-h2 and h2o-h2 are nginx's and h2o's here.
                for scenario in ("h2c-1k", "h2-1k"):
                    for name in self.rotate(plan[scenario], r):
                        log(f"round {r + 1}: {scenario} {name}")
                        self.record(scenario, name.removesuffix("-h2"),
                                    self.h2load_run(self.h2_server(name, scenario)))
                large = [s for s in ("h2c-large", "h2-large") if plan[s]]
                for k in range(self.large_reps if large else 0):
                    for scenario in large:
                        for name in self.rotate(plan[scenario], r + k):
                            log(f"round {r + 1}.{k + 1}: {scenario} {name}")
                            self.record(scenario, name.removesuffix("-h2"),
                                        self.h2_download(self.h2_server(name, scenario)))
                for name in self.rotate(plan["h2c-idle-memory"], r):
                    log(f"round {r + 1}: h2c-idle-memory {name}")
                    self.record("h2c-idle-memory", name.removesuffix("-h2"),
                                self.h2_idle_memory(name))
        finally:
            self.stop_servers()
        self.results["settings"] = {
            "rounds": self.rounds, "seconds_per_run": self.seconds, "large_file_mib": self.big_mib,
            "idle_connections": self.idle_total, "large_reps": self.large_reps, "server_cpu": self.server_cpu,
            "load_cpu": self.load_cpu, "quick": self.quick, "only": self.only,
            "duration_s": round(time.time() - started)}
        if resumable_servers:
            self.results["settings"]["resumable_cuts"] = RESUMABLE_CUTS
        if compress_servers:
            self.results["settings"]["compress"] = {
                "connections": COMPRESS_CONNS, "js_bytes": COMPRESS_JS_BYTES,
                "listing_entries": COMPRESS_LISTING_ENTRIES, "level": COMPRESS_LEVEL,
                "nginx_gzip_static": self.nginx_gzip_static}
        if archive_servers:
            self.results["settings"]["archive"] = {
                "files": self.archive_files, "tree_bytes": self.big_size,
                "sizes": self.archive_sizes}
        if h2_servers or self.h2_left_out and any(self.want(s) for s in H2):
            self.results["settings"]["h2"] = {
                "connections": H2_CONNS, "streams": H2_STREAMS, "large_bytes": self.big_size,
                "left_out": self.h2_left_out}
        if dav_servers:
            self.results["settings"].update({
                "propfind_reps": self.propfind_reps, "dav_cycles": self.dav_cycle_count,
                "propfind_entries": self.dav_dirs})
        if self.baseline:
            self.results["settings"]["baseline"] = self.baseline
        if self.server_filter:
            self.results["settings"]["servers"] = self.server_filter

    def collect_machine(self, needed):
        m = self.results["machine"]
        lscpu = sh(["lscpu"])
        model = re.search(r"Model name:\s*(.*)", lscpu)
        m["cpu"] = model[1].strip() if model else platform.processor()
        m["cores"] = self.cpus
        with open("/proc/meminfo") as f:
            m["memory_gib"] = round(int(f.readline().split()[1]) / 1024 / 1024, 1)
        m["kernel"] = platform.release()
        with open("/etc/os-release") as f:
            m["os"] = re.search(r'PRETTY_NAME="(.*)"', f.read())[1]
        m["date"] = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
        v = self.results["versions"]
        def first(cmd):
            try:
                r = subprocess.run(cmd, capture_output=True, text=True)
            except OSError:
                return "not found"
            return ((r.stdout + r.stderr).strip().splitlines() or ["?"])[0]

        def described(binary):
            commit = subprocess.run(["git", "-C", os.path.dirname(binary), "describe", "--always",
                                     "--dirty"], capture_output=True, text=True).stdout.strip()
            return first([binary, "--version"]) + (f" ({commit})" if commit else "")

        families = {family(n) for n in needed}
        v["httpfs"] = described(f"{self.build}/httpfs")
        if "httpfs-base" in families:
            v["httpfs-base"] = described(self.baseline)
        v["httpc"] = first([f"{self.build}/httpc", "--version"])
        for name, cmd in (("nginx", ["nginx", "-v"]), ("lighttpd", ["lighttpd", "-v"]),
                          ("h2o", ["h2o", "--version"]), ("apache", ["apache2", "-v"])):
            if name in families:
                v[name] = first(cmd)
        for name, package in (("nginx-dav", "libnginx-mod-http-dav-ext"),
                              ("lighttpd-dav", "lighttpd-mod-webdav")):
            if name in needed:
                v[package] = first(["dpkg-query", "-W", "-f", "${Version}", package])
        if any(self.want(s) for s in H2):
            v["h2load"] = first(["h2load", "--version"])
        v["wrk"] = first(["wrk", "--version"])
        v["curl"] = first(["curl", "--version"])
        v["wget"] = first(["wget", "--version"])
        v["openssl"] = first(["openssl", "version"])

    def cleanup(self):
        shutil.rmtree(self.tmp, ignore_errors=True)


def parse_h2load(out):
    """The numbers of h2load's summary: rps, seconds, total/started/done/succeeded/failed/
    errored/timeout, 2xx..5xx, header_bytes, data_bytes, mean_ms (time for request),
    protocol (Application protocol) and tls (protocol and cipher)."""
    res = {}
    m = re.search(r"^finished in ([\d.]+)(\w+), ([\d.]+) req/s", out, re.M)
    if m:
        res["seconds"] = to_ms(m[1] + m[2]) / 1000
        res["rps"] = float(m[3])
    m = re.search(r"^requests: (.*)$", out, re.M)
    if m:
        for count, what in re.findall(r"(\d+) (\w+)", m[1]):
            res[what] = int(count)
    m = re.search(r"^status codes: (.*)$", out, re.M)
    if m:
        for count, what in re.findall(r"(\d+) (\dxx)", m[1]):
            res[what] = int(count)
    m = re.search(r"^traffic: .*?\((\d+)\) headers.*?\((\d+)\) data", out, re.M)
    if m:
        res["header_bytes"], res["data_bytes"] = int(m[1]), int(m[2])
    m = re.search(r"^time for request:\s+(\S+)\s+(\S+)\s+(\S+)", out, re.M)
    if m:
        res["mean_ms"] = to_ms(m[3])
    m = re.search(r"^Application protocol: (\S+)", out, re.M)
    if m:
        res["protocol"] = m[1]
    tls = re.search(r"^TLS Protocol: (\S+)", out, re.M)
    cipher = re.search(r"^Cipher: (\S+)", out, re.M)
    if tls:
        res["tls"] = tls[1] + (f" {cipher[1]}" if cipher else "")
    return res


def h2_frames(buf, settings=False, goaway=False):
    """Whether the HTTP/2 frames at the start of `buf` hold a SETTINGS frame that is not an
    ACK (settings=True) or a GOAWAY (goaway=True)."""
    at = 0
    while at + 9 <= len(buf):
        length = int.from_bytes(buf[at:at + 3], "big")
        kind, flags = buf[at + 3], buf[at + 4]
        if settings and kind == 4 and not flags & 1:
            return True
        if goaway and kind == 7:
            return True
        at += 9 + length
    return False


def to_ms(v):
    for suffix, scale in (("us", 1e-3), ("ms", 1.0), ("s", 1e3)):
        if v.endswith(suffix):
            return float(v[: -len(suffix)]) * scale
    return float(v)


# ---- the report

def summary(values, key):
    xs = [v[key] for v in values]
    return {"median": statistics.median(xs), "min": min(xs), "max": max(xs)}


def fmt(x, digits=None):
    if digits is None:
        digits = 0 if abs(x) >= 1000 else (1 if abs(x) >= 10 else 2)
    s = f"{x:,.{digits}f}".replace(",", " ")
    return s


def cell(values, key, digits=None):
    if any(key not in v for v in values):
        return "–"
    s = summary(values, key)
    if len(values) == 1:
        return fmt(s["median"], digits)
    return f"{fmt(s['median'], digits)} ({fmt(s['min'], digits)}–{fmt(s['max'], digits)})"


def ratio_text(r):
    return f"{r:.2f}x" if r is not None else "–"


def paired_ratio(after, before, key):
    """after / before, round by round: the runs of two servers are recorded in the same
    rounds, so the i-th values are a pair. The median of the pairs' ratios and their range."""
    ratios = paired_ratios(after, before, key)
    if not ratios:
        return "–"
    text = f"{statistics.median(ratios):.2f}x"
    if len(ratios) > 1:
        text += f" ({min(ratios):.2f}–{max(ratios):.2f})"
    return text


# What each scenario is judged on: (scenario, metric, higher_is_better, target ratio to the
# best peer, what the target says).
TARGETS = [
    ("keepalive-50", "rps", True, 1.0, "req/s ≥ best peer"),
    ("keepalive-50", "cpu_us_per_req", False, 0.8, "CPU/req ≤ 0.8x best peer"),
    ("keepalive-1000", "rps", True, 1.0, "req/s ≥ best peer"),
    ("keepalive-1000", "cpu_us_per_req", False, 0.8, "CPU/req ≤ 0.8x best peer"),
    ("pipelined-16", "rps", True, 1.2, "req/s ≥ 1.2x best peer"),
    ("pipelined-16", "cpu_us_per_req", False, 0.8, "CPU/req ≤ 0.8x best peer"),
    ("close", "rps", True, 1.0, "req/s ≥ best peer"),
    ("close", "cpu_us_per_req", False, 0.8, "CPU/req ≤ 0.8x best peer"),
    ("100k-keepalive", "rps", True, 1.0, "req/s ≥ best peer"),
    ("100k-keepalive", "cpu_us_per_req", False, 0.8, "CPU/req ≤ 0.8x best peer"),
    ("get-large", "gbps", True, 1.0, "throughput ≥ best peer"),
    ("put-large", "gbps", True, 3.0, "throughput ≥ 3x nginx dav"),
    ("idle-memory", "bytes_per_conn", False, 0.8, "≤ 0.8x nginx's"),
    ("client-get", "gbps", True, 1.5, "≥ 1.5x curl and wget"),
    ("client-put", "gbps", True, 1.0, "≥ curl and wget"),
    ("client-segmented", "seconds", False, 1.0, "time ≤ aria2c -x4's"),
    ("client-segmented", "peak_rss_kib", False, 1.0, "peak RSS ≤ aria2c -x4's"),
    ("client-mirror", "seconds", False, 1.0, "httpc -Z: time ≤ wget -r's and wget2's"),
    ("client-mirror", "peak_rss_kib", False, 1.0, "httpc -Z: peak RSS ≤ wget -r's and wget2's"),
    ("tls-keepalive-50", "cpu_us_per_req", False, 1.0, "CPU/req ≤ nginx's"),
    ("tls-get-large", "gbps", True, 1.0, "throughput ≥ nginx's"),
    ("propfind-10k", "cpu_ms", False, 1.0, "server CPU per PROPFIND ≤ nginx's"),
    ("dav-cycles", "rps", True, 1.0, "req/s ≥ best peer"),
    ("dav-copy", "gbps", True, 1.0, "throughput ≥ best peer"),
]
# Targets on a value of httpfs alone: (scenario, metric, the limit it must stay under, what
# the target says, how the value is shown).
ABSOLUTE_TARGETS = [
    ("propfind-100k", "rss_growth_kib", 1024, "peak RSS growth < 1 MiB",
     lambda v, vals: f"{fmt(v, 0)} KiB"),
    ("propfind-100k", "first_fraction", 0.5,
     "first body byte before the walk ends (before half the time to the last byte)",
     lambda v, vals: f"{fmt(summary(vals, 'first_body_ms')['median'])} of "
                     f"{fmt(summary(vals, 'last_byte_ms')['median'])} ms"),
]


# Resumable uploads, judged on their wall time against put-plain's in the same run:
# (scenario, the limit of the ratio, what the target says).
RESUMABLE_TARGETS = [
    ("put-resumable", 1.1, "wall time ≤ 1.1x put-plain's"),
    ("put-resumable-cut10", 1.2, f"wall time, cut {RESUMABLE_CUTS} times, ≤ 1.2x put-plain's"),
]


def paired_ratios(after, before, key):
    """after / before of the runs made side by side (the i-th of each, same round)."""
    if not after or not before or any(key not in v for v in after + before):
        return []
    return [a[key] / b[key] for a, b in zip(after, before) if b[key]]


def resumable_report(results):
    """The resumable uploads: seconds, GB/s and server CPU of each way, and each one's time
    over put-plain's (of the same server, run by run: the median and the range)."""
    sc, st = results["scenarios"], results["settings"]
    if not any(s in sc for s in RESUMABLE):
        return []
    cuts = st.get("resumable_cuts", RESUMABLE_CUTS)
    titles = {"put-plain": "PUT, Content-Length",
              "put-resumable": "resumable: creation with Upload-Complete: ?1, one request",
              "put-resumable-cut10": f"resumable, cut {cuts} times: HEAD and PATCH after each"}
    lines = [f"### Resumable uploads ({st['large_file_mib']} MiB to httpfs, fsync before "
             "answering; one Python client, sendfile)", "",
             "| scenario | way | server | seconds | GB/s | server CPU s | time / put-plain |",
             "|---|---|---|---:|---:|---:|---:|"]
    names = [n for n in ("httpfs", "httpfs-base") if any(n in sc.get(s, {}) for s in RESUMABLE)]
    for scenario in RESUMABLE:
        data = sc.get(scenario, {})
        for n in names:
            if n not in data:
                continue
            ratio = ("reference" if scenario == "put-plain" else
                     paired_ratio(data[n], sc.get("put-plain", {}).get(n), "seconds"))
            lines.append(f"| {scenario} | {titles[scenario]} | {n} | {cell(data[n], 'seconds', 2)} "
                         f"| {cell(data[n], 'gbps', 2)} | {cell(data[n], 'server_cpu_s', 2)} "
                         f"| {ratio} |")
        if data.get("httpfs") and data.get("httpfs-base"):
            lines.append(f"| {scenario} | | httpfs / httpfs-base | " + " | ".join(
                paired_ratio(data["httpfs"], data["httpfs-base"], k)
                for k in ("seconds", "gbps", "server_cpu_s")) + " | |")
    lines.append("")
    for n in names:
        runs = sc.get("put-resumable-cut10", {}).get(n)
        if runs and all("lost_bytes" in v for v in runs):
            lost = [{"mib": v["lost_bytes"] / (1 << 20)} for v in runs]
            lines.append(f"{n}, cut {cuts} times: each connection reset (RST) after about "
                         f"1/{cuts + 1} of the body; {cell(lost, 'mib', 1)} MiB in all was "
                         "sent before the cuts without reaching the server's offset, and sent "
                         "again.")
            lines.append("")
    return lines


def cell_same(values, key, digits=None):
    """cell(), with a value that every run had (bytes of a deterministic coding) shown once."""
    if values and all(key in v for v in values) and len({v[key] for v in values}) == 1:
        return fmt(values[0][key], digits)
    return cell(values, key, digits)


def median_ratio(a, b, key):
    """The median of `a` over the median of `b` (as judge() does for the peers), or None."""
    if not a or not b or any(key not in v for v in a + b):
        return None
    d = summary(b, key)["median"]
    return summary(a, key)["median"] / d if d else None


def compress_report(results):
    """The compress group: req/s, server CPU per request and body bytes per response of
    httpfs and nginx (gzip) side by side, with httpfs / nginx; zstd-js (httpfs alone) against
    httpfs's own gzip-js."""
    sc, st = results["scenarios"], results["settings"]
    if not any(s in sc for s in COMPRESS):
        return []
    cs = st.get("compress", {})
    names = [n for n in ("httpfs", "httpfs-base", "nginx")
             if any(n in sc.get(s, {}) for s in COMPRESS)]
    has_nginx, has_base = "nginx" in names, "httpfs" in names and "httpfs-base" in names
    ratios = (["httpfs / nginx (zstd-js: / httpfs gzip-js)"] if has_nginx or "zstd-js" in sc
              else []) + (["httpfs / httpfs-base"] if has_base else [])
    level = cs.get("level", COMPRESS_LEVEL)
    static = ("`gzip_static on` for static-gz-js" if cs.get("nginx_gzip_static", True) else
              "no `gzip_static` in this nginx build (`nginx -V`): static-gz-js without nginx")
    lines = [f"### Compression (wrk -t1, {cs.get('connections', COMPRESS_CONNS)} keep-alive "
             "connections with Accept-Encoding; each server one worker)", "",
             f"httpfs with its defaults (`--compress on --compress-level {level} "
             f"--precompressed on`: zlib level {level} for gzip, zstd level {level}); nginx: "
             f"`gzip on; gzip_comp_level {level}; gzip_types text/javascript "
             "application/javascript application/json text/css; gzip_vary on;` (zlib level "
             f"{level}, the same window and memLevel as httpfs, the same system zlib), "
             f"{static}, `autoindex on` for the listing. Every answer is decoded (Python's "
             "gzip, the zstd tool) and compared with the file, or with the listing sent "
             "without a coding, before each run. Bytes per response: the body as sent "
             "(head and chunked framing aside). Server CPU per request from /proc/PID/stat "
             "before and after each run.", "",
             "| scenario | metric | " + " | ".join(names + ratios) + " |",
             "|---|---|" + "---:|" * (len(names) + len(ratios))]
    metrics = [("rps", "req/s", None), ("cpu_ms_per_req", "server CPU ms/req", None),
               ("body_bytes", "body bytes/response", 0), ("original_bytes", "decoded bytes", 0),
               ("factor", "decoded / body", None)]
    for scenario in COMPRESS:
        data = sc.get(scenario)
        if not data:
            continue
        title = f"{scenario}: {COMPRESS_SCENARIOS[scenario][3]}"
        for i, (metric, label, digits) in enumerate(metrics):
            row = [title if i == 0 else "", label]
            row += [cell_same(data[n], metric, digits) if n in data else "–" for n in names]
            if ratios and ratios[0].startswith("httpfs / nginx"):
                if scenario == "zstd-js":
                    r = median_ratio(data.get("httpfs"), sc.get("gzip-js", {}).get("httpfs"),
                                     metric)
                    row.append(f"{ratio_text(r)} (/ gzip-js)" if r is not None else "–")
                else:
                    row.append(ratio_text(median_ratio(data.get("httpfs"), data.get("nginx"),
                                                       metric)))
            if has_base:
                row.append(paired_ratio(data.get("httpfs"), data.get("httpfs-base"), metric))
            lines.append("| " + " | ".join(row) + " |")
    lines.append("")
    return lines


def archive_report(results):
    """The archive group: each download's throughput, server CPU per GiB and peak RSS growth,
    and its throughput over the GET of the big file in the same round; the issue's goals."""
    sc, st = results["scenarios"], results["settings"]
    if not any(s in sc for s in ARCHIVE):
        return []
    a = st.get("archive", {})
    files = a.get("files", ARCHIVE_FILES)
    mib = a.get("tree_bytes", st["large_file_mib"] << 20) >> 20
    titles = {"archive-get": f"GET /big.bin ({mib} MiB, one file): the reference",
              "archive-zip": "GET /tree/?download=zip, CRC-32s known from an earlier download",
              "archive-zip-cold": "GET /tree-cold/?download=zip, no CRC-32 known (every "
                                  "file's mtime moved just before)",
              "archive-tar": "GET /tree/?download=tar"}
    lines = [f"### Folder downloads (httpfs; a tree of {mib} MiB in {fmt(files, 0)} files, 100 "
             "folders; httpc to /dev/null, as in the large group)", "",
             "| scenario | request | server | GB/s | seconds | bytes | server CPU s | "
             "server CPU s/GiB | peak RSS growth KiB | RSS before KiB | GB/s / archive-get |",
             "|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    names = [n for n in ("httpfs", "httpfs-base") if any(n in sc.get(s, {}) for s in ARCHIVE)]
    for scenario in ARCHIVE:
        data = sc.get(scenario, {})
        for n in names:
            if n not in data:
                continue
            ratio = ("reference" if scenario == "archive-get" else
                     paired_ratio(data[n], sc.get("archive-get", {}).get(n), "gbps"))
            lines.append(f"| {scenario} | {titles[scenario]} | {n} | {cell(data[n], 'gbps', 2)} "
                         f"| {cell(data[n], 'seconds', 2)} | {cell_same(data[n], 'bytes', 0)} "
                         f"| {cell(data[n], 'server_cpu_s', 2)} "
                         f"| {cell(data[n], 'cpu_s_per_gib', 2)} "
                         f"| {cell(data[n], 'rss_growth_kib', 0)} "
                         f"| {cell(data[n], 'rss_before_kib', 0)} | {ratio} |")
        if data.get("httpfs") and data.get("httpfs-base"):
            lines.append(f"| {scenario} | | httpfs / httpfs-base | " + " | ".join(
                paired_ratio(data["httpfs"], data["httpfs-base"], k)
                for k in ("gbps", "seconds")) + " | | " + " | ".join(
                paired_ratio(data["httpfs"], data["httpfs-base"], k)
                for k in ("server_cpu_s", "cpu_s_per_gib")) + " | | | |")
    lines.append("")
    # The goals of the issue: a ZIP of the tree near the GET's throughput, RSS flat (what
    # may grow is the walk's list of entries, not the data: shown per entry, not judged).
    goals = []
    get = sc.get("archive-get", {}).get("httpfs")
    entries = a.get("sizes", {}).get("httpfs", {}).get("zip_entries", files)
    for scenario in ("archive-zip", "archive-zip-cold", "archive-tar"):
        vals = sc.get(scenario, {}).get("httpfs")
        ratios = paired_ratios(vals, get, "gbps")
        if not ratios:
            continue
        r = statistics.median(ratios)
        growth = max(v["rss_growth_kib"] for v in vals)
        goals.append(f"| {scenario} | {paired_ratio(vals, get, 'gbps')} | "
                     f"{'yes' if r >= 0.9 else 'no'} | {paired_ratio(vals, get, 'cpu_s_per_gib')} "
                     f"| {fmt(growth, 0)} KiB | {fmt(growth * 1024 / entries, 0)} B |")
    if goals:
        lines += ["| scenario | GB/s over the GET's, run by run (goal: near it, judged ≥ 0.9x) "
                  "| met | server CPU/GiB over the GET's | peak RSS growth, worst run "
                  "(goal: flat) | per entry |", "|---|---:|:---:|---:|---:|---:|"] + goals + [""]
    lines.append("Peak RSS growth: VmHWM (reset through /proc/PID/clear_refs just before) "
                 "minus VmRSS before; server CPU: /proc/PID/task/*/schedstat (the tree walk "
                 "and the CRC-32s run on the worker pool). Before the rounds, the ZIP and tar "
                 "of a small tree (empty file and folder, long and non-ASCII names) are read "
                 "back with Python's zipfile (testzip) and tarfile and compared file by file, "
                 "and the large ones are streamed to their end (Content-Length, end records).")
    lines.append("")
    return lines


# The h2 group's targets (from the issue): (scenario, metric, higher is better, the limit of
# httpfs / reference, the peers that are the reference (None: the best of them), the text).
H2_TARGETS = [
    ("h2c-1k", "rps", True, 1.0, None, "req/s ≥ best peer"),
    ("h2c-1k", "cpu_us_per_req", False, 0.8, None, "CPU/req ≤ 0.8x best peer"),
    ("h2-1k", "rps", True, 1.0, None, "req/s ≥ best peer"),
    ("h2-1k", "cpu_us_per_req", False, 0.8, None, "CPU/req ≤ 0.8x best peer"),
    ("h2c-large", "mbps", True, 1.0, None, "MB/s ≥ best peer"),
    ("h2-large", "mbps", True, 1.0, None, "MB/s ≥ best peer"),
    ("h2c-idle-memory", "bytes_per_conn", False, 1.0, ["nginx"], "bytes per idle connection "
                                                                 "≤ nginx's"),
]


def h2_report(results):
    """The h2 group: httpfs, nginx and h2o (and httpfs-base) side by side over h2c and h2,
    httpfs / best peer for every judged metric, the requests that did not succeed, and the
    targets of the issue."""
    sc, st = results["scenarios"], results["settings"]
    if not any(s in sc for s in H2):
        return []
    h2 = st.get("h2", {})
    conns, streams = h2.get("connections", H2_CONNS), h2.get("streams", H2_STREAMS)
    mib = h2.get("large_bytes", st["large_file_mib"] << 20) >> 20
    names = [n for n in ("httpfs", "httpfs-base", "nginx", "h2o")
             if any(n in sc.get(s, {}) for s in H2)]
    has_peers = any(n in ("nginx", "h2o") for n in names)
    has_base = "httpfs" in names and "httpfs-base" in names
    ratios = (["httpfs / best peer"] if has_peers else []) + \
             (["httpfs / httpfs-base"] if has_base else [])
    small = [("rps", "req/s", True, None), ("cpu_us_per_req", "server CPU µs/req", False, None),
             ("mean_ms", "mean time per request ms", False, None),
             ("header_bytes_per_req", "header bytes/response (HPACK)", None, 0),
             ("not_ok", "requests not succeeded (sum)", None, 0)]
    large = [("mbps", "MB/s", True, 0), ("seconds", "seconds", False, 2),
             ("server_cpu_s", "server CPU s", False, 2)]
    rows = [("h2c-1k", f"1 KiB, h2c (prior knowledge), {conns} conns x {streams} streams", small),
            ("h2-1k", f"1 KiB, h2 over TLS (ALPN), {conns} conns x {streams} streams", small),
            ("h2c-large", f"{mib} MiB, h2c, one stream", large),
            ("h2-large", f"{mib} MiB, h2 over TLS, one stream", large),
            ("h2c-idle-memory", "idle h2c connections on a fresh process",
             [("bytes_per_conn", "bytes per idle connection", False, 0),
              ("rss_start_kib", "RSS at start KiB", None, 0),
              ("rss_kib", "RSS with all open KiB", None, 0),
              ("connections", "connections", None, 0),
              ("closed", "closed or GOAWAY before the end (sum)", None, 0)])]
    lines = [f"### HTTP/2 (h2load -t1; each server one worker, access log off, the same docroot "
             "and certificate)", "",
             "httpfs: its plain listener (h2c by prior knowledge beside HTTP/1.1) and its TLS "
             "listener (h2 by ALPN), two processes with the options of the other groups. nginx: "
             "a process of its own with the settings of the plain instance and `listen ... "
             "http2;` and `listen ... ssl http2;` (HTTP/2 defaults). h2o: a process of its own, "
             "one thread, a plain and a TLS listener, `http2-idle-timeout: 120`. Small files: "
             f"`h2load -t1 -c{conns} -m{streams} -D {st['seconds_per_run']}` on /1k.bin; server "
             "CPU per request from /proc/PID/task/*/schedstat before and after the run. Large "
             f"file: `h2load -n1 -c1 -t1` on the {mib} MiB file (windows 2^30-1), the wall time "
             "of the run, the DATA bytes checked. Idle connections: a fresh server process, "
             "then connections that each send the preface and an empty SETTINGS, read the "
             "server's SETTINGS and acknowledge it; RSS growth over their count.", "",
             "| scenario | metric | " + " | ".join(names + ratios) + " |",
             "|---|---|" + "---:|" * (len(names) + len(ratios))]

    def total(vals, key):
        return fmt(sum(v.get(key, 0) for v in vals), 0) if vals else "–"

    for scenario, title, metrics in rows:
        data = sc.get(scenario)
        if not data:
            continue
        for i, (metric, label, higher, digits) in enumerate(metrics):
            row = [title if i == 0 else "", label]
            for n in names:
                vals = data.get(n)
                if not vals:
                    row.append("–")
                elif metric == "not_ok":
                    row.append(total(vals, "not_ok"))
                elif metric == "closed":
                    row.append(fmt(sum(v.get("closed", 0) + v.get("goaway", 0) for v in vals), 0))
                else:
                    row.append(cell(vals, metric, digits))
            if has_peers:
                peers = ["nginx"] if scenario == "h2c-idle-memory" else None
                r = judge(results, scenario, metric, higher, "httpfs", peers)[0] \
                    if higher is not None else None
                row.append(ratio_text(r))
            if has_base:
                row.append(paired_ratio(data.get("httpfs"), data.get("httpfs-base"), metric)
                           if higher is not None else "–")
            lines.append("| " + " | ".join(row) + " |")
    lines.append("")
    ciphers = {}
    for scenario in ("h2-1k", "h2-large"):
        for n, vals in sc.get(scenario, {}).items():
            for v in vals:
                if v.get("tls"):
                    ciphers.setdefault(n, set()).add(v["tls"])
    if ciphers:
        lines.append("TLS as negotiated with h2load: " + "; ".join(
            f"{n}: {', '.join(sorted(c))}" for n, c in ciphers.items()) + ".")
        lines.append("")
    left = h2.get("left_out", {})
    if left:
        lines.append("Left out: " + "; ".join(f"{n}: {why}" for n, why in left.items()) + ".")
        lines.append("")
    bad = [(scenario, n, v) for scenario in ("h2c-1k", "h2-1k")
           for n, vals in sc.get(scenario, {}).items() for v in vals if v.get("not_ok")]
    if bad:
        lines.append("Requests that did not succeed (h2load's lines):")
        lines.append("")
        for scenario, n, v in bad:
            lines.append(f"- {scenario}, {n}: " + " / ".join(
                f"`{x}`" for x in v.get("h2load_lines", [])))
        lines.append("")
    targets = []
    for scenario, metric, higher, limit, peers, text in H2_TARGETS:
        r = judge(results, scenario, metric, higher, "httpfs", peers)[0]
        if r is None:
            continue
        met = r >= limit if higher else r <= limit
        targets.append(f"| {scenario} | {text} | {ratio_text(r)} | {'yes' if met else 'no'} |")
    if targets:
        lines += ["| scenario | target | httpfs / reference | met |", "|---|---|---:|:---:|"]
        lines += targets + [""]
    return lines


def block_header(results, group):
    """The first lines of a group's own block: when and how it was made, where, with what."""
    m, v, st = results["machine"], results["versions"], results["settings"]
    command = "bench/run" + (" --quick" if st.get("quick") else "") + (
        f" --only {','.join(st['only'])}" if st.get("only") else "")
    if group == "compress":
        runs = (f"{st['seconds_per_run']} s per wrk run" +
                ("" if st.get("quick") else " after a 1 s warm-up"))
        shown = ("httpfs", "httpfs-base", "nginx", "wrk")
    elif group == "h2":
        runs = (f"{st['seconds_per_run']} s per h2load run" +
                ("" if st.get("quick") else " after a 1 s warm-up") +
                f", {st.get('large_reps', 1)} downloads of the large file per scenario and "
                "server per round")
        shown = ("httpfs", "httpfs-base", "nginx", "h2o", "h2load", "openssl")
    else:
        runs = f"{st.get('large_reps', 1)} downloads per scenario and server per round"
        shown = ("httpfs", "httpfs-base", "httpc")
    return [f"Generated by `{command}` on {m['date']}, {st['rounds']} interleaved round(s), "
            f"{runs}; the whole run took {st['duration_s']} s. Each cell: the median, and the "
            f"range over all runs. Machine: {m['cpu']}, {m['cores']} cores, {m['os']}, Linux "
            f"{m['kernel']}; servers pinned to core {st['server_cpu']}, the client to core "
            f"{st['load_cpu']}. Versions: " +
            "; ".join(f"{k}: {v[k]}" for k in shown if k in v) + ".", ""]


def split_results(results):
    """The results of the first block (every group but OWN_BLOCKS), None when none of them
    ran, and those of each group of OWN_BLOCKS that ran: the same machine, versions and
    settings, each with its own scenarios."""
    own = {s: g for g in OWN_BLOCKS for s in GROUPS[g]}

    def part(keep):
        r = dict(results)
        r["scenarios"] = {k: v for k, v in results["scenarios"].items() if keep(k)}
        return r

    main = part(lambda k: k not in own)
    groups = {g: part(lambda k, g=g: own.get(k) == g) for g in OWN_BLOCKS}
    return (main if main["scenarios"] else None), {g: r for g, r in groups.items()
                                                   if r["scenarios"]}


def group_report(group, results):
    body = {"compress": compress_report, "archive": archive_report,
            "h2": h2_report}[group](results)
    return "\n".join(block_header(results, group) + body)


def block_marks(group):
    return f"<!-- bench/run {group}: begin -->", f"<!-- bench/run {group}: end -->"


def put_block(md, begin, end, text):
    """md with the block between `begin` and `end` replaced by `text`; a block not there yet
    goes after the last generated block (before the hand-written sections), or at the end."""
    block = f"{begin}\n{text}\n{end}"
    if begin in md and end in md:
        return md[: md.index(begin)] + block + md[md.index(end) + len(end):]
    ends = list(re.finditer(r"<!-- bench/run(?: [\w-]+)?: end -->", md))
    if ends:
        at = ends[-1].end()
        return md[:at] + "\n\n" + block + md[at:]
    return md.rstrip("\n") + "\n\n" + block + "\n"


def judge(results, scenario, metric, higher, ours="httpfs", peers=None):
    data = results["scenarios"].get(scenario, {})
    if ours not in data:
        return None, None
    if any(metric not in v for v in data[ours]):
        return None, None
    mine = summary(data[ours], metric)["median"]
    # Peers only: not the ceiling, nor another httpfs (a variant, or the baseline).
    # A COPY that made a hard link copied nothing: shown, but no reference.
    others = [summary(v, metric)["median"] for k, v in data.items()
              if k != ours and k != "ceiling" and not k.startswith("httpfs")
              and (peers is None or k in peers)
              and all(metric in x and not x.get("hard_link") for x in v)]
    if not others or mine == 0:
        return None, None
    best = max(others) if higher else min(others)
    return (mine / best if best else None), best


def dav_report(results):
    """The WebDAV tables: httpfs (and --no-fsync for the writes), the peers, and the ratios to
    the best peer side by side."""
    sc, st = results["scenarios"], results["settings"]
    if not any(s in sc for s in DAV):
        return []
    reps, cycles = st.get("propfind_reps", "?"), st.get("dav_cycles", "?")
    entries = st.get("propfind_entries", {})
    rows = [
        ("propfind-10k", f"PROPFIND Depth 1, {fmt(entries.get('propfind-10k', 10000), 0)} "
                         f"entries (x{reps} per round)",
         [("cpu_ms", "server CPU ms / PROPFIND", False), ("wall_ms", "wall ms / PROPFIND", False),
          ("bytes", "bytes of the answer", None), ("responses", "`<D:response>` elements", None)]),
        ("propfind-100k", f"PROPFIND Depth 1, {fmt(entries.get('propfind-100k', 100000), 0)} "
                          "entries",
         [("rss_growth_kib", "peak RSS growth KiB", False),
          ("first_body_ms", "first body byte ms", False), ("last_byte_ms", "last byte ms", False),
          ("first_fraction", "first / last byte", None), ("cpu_ms", "server CPU ms", False),
          ("bytes", "bytes of the answer", None), ("responses", "`<D:response>` elements", None)]),
        ("dav-cycles", f"MKCOL, PUT, MOVE, DELETE x{cycles}",
         [("rps", "req/s", True), ("cpu_us_per_req", "server CPU µs/req", False)]),
        ("dav-copy", f"COPY of {st['large_file_mib']} MiB",
         [("gbps", "GB/s", True), ("seconds", "seconds", False),
          ("server_cpu_s", "server CPU s", False)]),
    ]
    labels = {"httpfs-nofsync": "httpfs --no-fsync", "httpfs-base-nofsync": "httpfs-base --no-fsync"}
    names = [n for n in ["httpfs", "httpfs-nofsync", "httpfs-base", "httpfs-base-nofsync",
                         "apache", "lighttpd", "nginx"] if any(n in sc.get(s, {}) for s in DAV)]
    has_peers = any(n in ("apache", "lighttpd", "nginx") for n in names)
    has_base = "httpfs" in names and "httpfs-base" in names
    has_nofsync = "httpfs-nofsync" in names and has_peers
    ratios = ((["httpfs / httpfs-base"] if has_base else []) +
              (["httpfs / best peer"] if has_peers else []) +
              (["httpfs --no-fsync / best peer"] if has_nofsync else []))
    lines = ["### WebDAV (one connection, one request at a time; each server one worker)", "",
             "| scenario | metric | " + " | ".join([labels.get(n, n) for n in names] + ratios)
             + " |", "|---|---|" + "---:|" * (len(names) + len(ratios))]
    for scenario, title, metrics in rows:
        data = sc.get(scenario)
        if not data:
            continue
        for i, (metric, label, higher) in enumerate(metrics):
            digits = 0 if metric in ("bytes", "responses", "rss_growth_kib") else None
            row = [title if i == 0 else "", label]
            row += [cell(data[n], metric, digits) if n in data else "–" for n in names]
            if has_base:
                row.append(paired_ratio(data.get("httpfs"), data.get("httpfs-base"), metric)
                           if higher is not None else "–")
            for variant, shown in (("httpfs", has_peers), ("httpfs-nofsync", has_nofsync)):
                if shown:
                    r = judge(results, scenario, metric, higher, variant)[0] \
                        if higher is not None and variant in data else None
                    row.append(ratio_text(r))
            lines.append("| " + " | ".join(row) + " |")
    lines.append("")
    linked = [n for n, v in sc.get("dav-copy", {}).items() if any(x.get("hard_link") for x in v)]
    if linked:
        lines.append(f"COPY: {', '.join(linked)} made a hard link to the source (one file "
                     "system), copying no data: shown, but not a reference for the ratios.")
        lines.append("")
    return lines


def report(results):
    sc = results["scenarios"]
    lines = []
    m, v, st = results["machine"], results["versions"], results["settings"]
    lines.append(f"Generated by `bench/run{' --quick' if st.get('quick') else ''}` on {m['date']}, "
                 f"{st['rounds']} interleaved round(s), {st['seconds_per_run']} s per load run, "
                 f"{st['duration_s']} s in all ({st.get('large_reps', 1)} large-file transfers per "
                 "server per round). Each cell: the median, and the range over all runs.")
    lines.append("")
    lines.append(f"Machine: {m['cpu']}, {m['cores']} cores, {m['memory_gib']} GiB, "
                 f"{m['os']}, Linux {m['kernel']}. Servers pinned to core {st['server_cpu']}, "
                 f"the load generator (wrk, curl, the clients) to core {st['load_cpu']}.")
    lines.append("")
    lines.append("Versions: " + "; ".join(f"{k}: {v[k]}" for k in v) + ".")
    lines.append("")
    base = st.get("baseline")
    if base:
        lines.append(f"httpfs-base: `{base}`, started with exactly the options of httpfs, in the "
                     "same rounds; the large transfers use the current httpc for both. "
                     "httpfs / httpfs-base: the ratio in each round, median and range "
                     "(after / before; a range that straddles 1.00 is a tie).")
        lines.append("")
    if any(n in PEERS + ["apache"] for k, _, _ in CHART_ROWS for n in sc.get(k, {})):
        # no chart without a peer
        lines.append("![httpfs and its peers, relative to the best peer](chart.png)")
        lines.append("")

    # Small files.
    wrk_rows = [("keepalive-50", "1 KiB keep-alive, 50 conns"),
                ("keepalive-1000", "1 KiB keep-alive, 1000 conns"),
                ("pipelined-16", "1 KiB pipelined x16, 50 conns"),
                ("close", "1 KiB Connection: close, 50 conns"),
                ("100k-keepalive", "100 KiB keep-alive, 50 conns")]
    # The columns of the servers that ran (--servers may leave some out).
    names = [n for n in ["httpfs", "httpfs-base", "nginx", "lighttpd", "h2o", "ceiling"]
             if any(n in sc.get(k, {}) for k, _ in wrk_rows)]
    has_peers = any(n in PEERS for n in names)
    has_ceiling = "ceiling" in names
    has_base = "httpfs" in names and "httpfs-base" in names
    if not any(k in sc for k, _ in wrk_rows):
        wrk_rows = []
    else:
        lines.append("### Small files (wrk, 1 thread)")
        lines.append("")
        ratios = ((["httpfs / httpfs-base"] if has_base else []) +
                  (["httpfs / best peer"] if has_peers else []) +
                  (["httpfs / ceiling"] if has_ceiling else []))
        lines.append("| scenario | metric | " + " | ".join(names + ratios) + " |")
        lines.append("|---|---|" + "---:|" * (len(names) + len(ratios)))
    metrics = [("rps", "req/s", True), ("cpu_us_per_req", "server CPU µs/req", False),
               ("p50_ms", "p50 ms", False), ("p99_ms", "p99 ms", False)]
    for scenario, title in wrk_rows:
        data = sc.get(scenario)
        if not data:
            continue
        for metric, label, higher in metrics:
            row = [title if metric == "rps" else "", label]
            for n in names:
                row.append(cell(data[n], metric) if n in data else "–")
            if has_base:
                row.append(paired_ratio(data.get("httpfs"), data.get("httpfs-base"), metric))
            if has_peers:
                r, _ = judge(results, scenario, metric, higher)
                row.append(ratio_text(r))
            if not has_ceiling:
                pass
            elif "ceiling" in data and "httpfs" in data and all(
                    metric in v for v in data["ceiling"] + data["httpfs"]):
                c = summary(data["ceiling"], metric)["median"]
                row.append(ratio_text(summary(data["httpfs"], metric)["median"] / c if c else None))
            else:
                row.append("–")
            lines.append("| " + " | ".join(row) + " |")
    if wrk_rows:
        lines.append("")

    if "get-large" in sc or "put-large" in sc:
        mib = st["large_file_mib"]
        lines.append(f"### Large files ({mib} MiB, httpc to /dev/null, or from the page cache)")
        lines.append("")
        lines.append("| scenario | server | GB/s | seconds | server CPU s |")
        lines.append("|---|---|---:|---:|---:|")
        for scenario, title in (("get-large", "GET"), ("put-large", "PUT"),
                                ("tls-get-large", "GET over TLS")):
            data = sc.get(scenario, {})
            for n, vals in data.items():
                label = {"httpfs": "httpfs (fsync before answering)" if scenario == "put-large"
                         else "httpfs", "httpfs-nofsync": "httpfs --no-fsync",
                         "httpfs-base": "httpfs-base (fsync before answering)"
                         if scenario == "put-large" else "httpfs-base",
                         "httpfs-base-nofsync": "httpfs-base --no-fsync",
                         "nginx": "nginx dav" if scenario == "put-large" else "nginx"}.get(n, n)
                lines.append(f"| {title} | {label} | {cell(vals, 'gbps', 2)} | "
                             f"{cell(vals, 'seconds', 2)} | {cell(vals, 'server_cpu_s', 2)} |")
            for after, label in (("httpfs", "httpfs / httpfs-base"),
                                 ("httpfs-nofsync", "httpfs / httpfs-base, --no-fsync"),
                                 ("httpfs-tls", "httpfs / httpfs-base")):
                a, b = data.get(after), data.get(after.replace("httpfs", "httpfs-base"))
                if a and b:
                    lines.append(f"| {title} | {label} | "
                                 + " | ".join(paired_ratio(a, b, k) for k in
                                              ("gbps", "seconds", "server_cpu_s")) + " |")
        lines.append("")

    if "idle-memory" in sc:
        lines.append(f"### Memory per idle keep-alive connection ({st['idle_connections']} "
                     "connections)")
        lines.append("")
        lines.append("| server | RSS at start, KiB | RSS with all open, KiB | "
                     "bytes per idle connection |")
        lines.append("|---|---:|---:|---:|")
        data = sc["idle-memory"]
        for n, vals in data.items():
            lines.append(f"| {n} | {cell(vals, 'rss_start_kib')} | {cell(vals, 'rss_kib')} | "
                         f"{cell(vals, 'bytes_per_conn')} |")
        if data.get("httpfs") and data.get("httpfs-base"):
            lines.append("| httpfs / httpfs-base | " + " | ".join(
                paired_ratio(data["httpfs"], data["httpfs-base"], k)
                for k in ("rss_start_kib", "rss_kib", "bytes_per_conn")) + " |")
        lines.append("")

    if "client-mirror" in sc:
        lines.append(f"### Mirror ({MIRROR_DIRS * MIRROR_FILES} files of 1–8 KiB in "
                     f"{MIRROR_DIRS} directories, from nginx's autoindex pages to an empty "
                     "directory)")
        lines.append("")
        lines.append("| client | seconds | files/s | peak RSS KiB | client CPU s |")
        lines.append("|---|---:|---:|---:|---:|")
        for n, vals in sc["client-mirror"].items():
            lines.append(f"| {n} | {cell(vals, 'seconds', 2)} | {cell(vals, 'files_per_s')} | "
                         f"{cell(vals, 'peak_rss_kib')} | {cell(vals, 'cpu_s', 2)} |")
        lines.append("")

    if any(s in sc for s in ("client-get", "client-put", "client-segmented")):
        lines.append(f"### Clients ({st['large_file_mib']} MiB; GET from httpfs to a file on "
                     "disk, PUT to httpfs --no-fsync)")
        lines.append("")
        lines.append("| direction | client | GB/s | seconds | peak RSS KiB | client CPU s |")
        lines.append("|---|---|---:|---:|---:|---:|")
        for scenario, title in (("client-get", "GET to disk"), ("client-put", "PUT"),
                                ("client-segmented", "GET from nginx, 4 ranges at once")):
            for n, vals in sc.get(scenario, {}).items():
                lines.append(f"| {title} | {n} | {cell(vals, 'gbps', 2)} | "
                             f"{cell(vals, 'seconds', 2)} | {cell(vals, 'peak_rss_kib')} | "
                             f"{cell(vals, 'cpu_s', 2)} |")
        lines.append("")

    if "tls-keepalive-50" in sc:
        lines.append("### HTTPS (same certificate, EC P-256; no kTLS)")
        lines.append("")
        lines.append("| scenario | server | req/s | server CPU µs/req | p99 ms |")
        lines.append("|---|---|---:|---:|---:|")
        data = sc["tls-keepalive-50"]
        for n, vals in data.items():
            lines.append(f"| 1 KiB keep-alive, 50 conns | {n} | {cell(vals, 'rps')} | "
                         f"{cell(vals, 'cpu_us_per_req')} | {cell(vals, 'p99_ms')} |")
        if data.get("httpfs-tls") and data.get("httpfs-base-tls"):
            lines.append("| 1 KiB keep-alive, 50 conns | httpfs / httpfs-base | " + " | ".join(
                paired_ratio(data["httpfs-tls"], data["httpfs-base-tls"], k)
                for k in ("rps", "cpu_us_per_req", "p99_ms")) + " |")
        lines.append("")

    lines.extend(dav_report(results))
    lines.extend(resumable_report(results))

    # The targets (none when --servers left out every peer).
    targets, judged = [], False
    for scenario, metric, higher, target, text in TARGETS:
        if scenario not in sc:
            continue
        ours = {"client-get": "httpc", "client-put": "httpc", "client-segmented": "httpc",
                "client-mirror": "httpc-Z",
                "tls-keepalive-50": "httpfs-tls",
                "tls-get-large": "httpfs-tls"}.get(scenario, "httpfs")
        peers = {"put-large": ["nginx"], "idle-memory": ["nginx"],
                 "propfind-10k": ["nginx"], "client-segmented": ["aria2c"],
                 "client-mirror": ["wget", "wget2"]}.get(scenario)
        if scenario in ("put-large", "dav-cycles", "dav-copy"):
            for variant in ("httpfs", "httpfs-nofsync"):
                r, _ = judge(results, scenario, metric, higher, variant, peers)
                met = r is not None and (r >= target if higher else r <= target)
                label = {"put-large": "PUT"}.get(scenario, scenario) + (
                    ", fsync" if variant == "httpfs" else ", --no-fsync")
                targets.append(f"| {label} | {text} | {ratio_text(r)} | {'yes' if met else 'no'} |")
                judged |= r is not None
            continue
        r, _ = judge(results, scenario, metric, higher, ours, peers)
        met = r is not None and (r >= target if higher else r <= target)
        targets.append(f"| {scenario} | {text} | {ratio_text(r)} | {'yes' if met else 'no'} |")
        judged |= r is not None
    if not judged:  # no peer ran: the ratio targets say nothing
        targets = []
    # Targets on httpfs's own value, judged even without a peer.
    for scenario, metric, limit, text, show in ABSOLUTE_TARGETS:
        vals = sc.get(scenario, {}).get("httpfs")
        if not vals or any(metric not in v for v in vals):
            continue
        value = summary(vals, metric)["median"]
        targets.append(f"| {scenario} | {text} | {show(value, vals)} | "
                       f"{'yes' if value < limit else 'no'} |")
        judged = True
    # Resumable uploads against httpfs's own plain PUT of the same run.
    for scenario, limit, text in RESUMABLE_TARGETS:
        ratios = paired_ratios(sc.get(scenario, {}).get("httpfs"),
                               sc.get("put-plain", {}).get("httpfs"), "seconds")
        if not ratios:
            continue
        r = statistics.median(ratios)
        targets.append(f"| {scenario} | {text} | {ratio_text(r)} | "
                       f"{'yes' if r <= limit else 'no'} |")
        judged = True
    if judged:
        lines.append("### Targets")
        lines.append("")
        lines.append("| scenario | target | httpfs / reference, or httpfs's value | met |")
        lines.append("|---|---|---:|:---:|")
        lines.extend(targets)
        lines.append("")
    return "\n".join(lines)


# The chart's groups: (scenario, throughput metric, label).
CHART_ROWS = [("keepalive-50", "rps", "keep-alive\\n50"), ("keepalive-1000", "rps", "keep-alive\\n1000"),
              ("pipelined-16", "rps", "pipelined\\nx16"), ("close", "rps", "close"),
              ("100k-keepalive", "rps", "100 KiB"), ("get-large", "gbps", "large\\nGET"),
              ("put-large", "gbps", "large PUT\\n(fsync)"),
              ("tls-keepalive-50", "rps", "TLS\\nkeep-alive"),
              ("tls-get-large", "gbps", "TLS\\nlarge GET"),
              ("dav-cycles", "rps", "WebDAV\\ncycles (fsync)"),
              ("dav-copy", "gbps", "WebDAV\\nCOPY (fsync)")]


def chart(results, png, workdir):
    """Throughput of every server relative to the best peer, per scenario (gnuplot)."""
    sc = results["scenarios"]
    cols = ["httpfs", "nginx", "lighttpd", "h2o", "apache", "ceiling"]
    data = os.path.join(workdir, "chart.dat")
    count = 0
    with open(data, "w") as f:
        for scenario, metric, label in CHART_ROWS:
            d = sc.get(scenario)
            if not d:
                continue
            count += 1
            # A COPY that was a hard link copied nothing: no bar.
            get = lambda n: summary(d[n], metric)["median"] if n in d and not any(
                x.get("hard_link") for x in d[n]) else None
            alias = {"httpfs": "httpfs-tls", "nginx": "nginx-tls"} if scenario.startswith("tls") else {}
            vals = {n: get(alias.get(n, n)) for n in cols}
            peers = [vals[n] for n in ("nginx", "lighttpd", "h2o", "apache") if vals[n]]
            best = max(peers) if peers else None
            if best is None:
                count -= 1
                continue
            f.write(f'"{label}" ' + " ".join(
                f"{vals[n] / best:.3f}" if vals[n] and best else "NaN" for n in cols) + "\n")
    if count == 0:
        log("bench: no peer in the results, so no chart")
        return
    script = f"""set terminal pngcairo size 1100,520 font "sans,10"
set output "{png}"
set title "Throughput relative to the best peer (higher is better; 1.0 = the best of nginx, lighttpd, h2o, apache)"
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.85 border -1
set boxwidth 0.9
set key top left
set grid ytics
set yrange [0:*]
set xrange [-0.6:{count - 0.4}]
set bmargin 4
set arrow from graph 0, first 1 to graph 1, first 1 nohead dt 2 lc rgb "black"
set ylabel "relative throughput"
plot "{data}" using 2:xtic(1) title "httpfs" lc rgb "#1f77b4", \\
     "" using 3 title "nginx" lc rgb "#2ca02c", \\
     "" using 4 title "lighttpd" lc rgb "#ff7f0e", \\
     "" using 5 title "h2o" lc rgb "#9467bd", \\
     "" using 6 title "apache (WebDAV only)" lc rgb "#d62728", \\
     "" using 7 title "ceiling (canned response)" lc rgb "#7f7f7f"
"""
    with open(os.path.join(workdir, "chart.gp"), "w") as f:
        f.write(script)
    subprocess.run(["gnuplot", os.path.join(workdir, "chart.gp")], check=True)


def write_results(main, main_text, groups, bench_dir):
    """bench/results.json and bench/RESULTS.md. `main` (the results of every group but
    OWN_BLOCKS, or None when none of them ran) replaces the block between BEGIN_MARK and
    END_MARK and the top level of results.json; each group of OWN_BLOCKS that ran, in
    `groups` as {name: (results, text)}, replaces its own block and results.json's
    groups[name]. Whatever did not run is kept as the last run that did left it."""
    jpath = os.path.join(bench_dir, "results.json")
    try:
        with open(jpath) as f:
            saved = json.load(f)
    except (OSError, ValueError):
        saved = {}
    kept = saved.get("groups", {})
    if main:
        saved = dict(main)
    saved["groups"] = kept
    for name, (res, _) in groups.items():
        kept[name] = res
    if not kept:
        del saved["groups"]
    with open(jpath, "w") as f:
        json.dump(saved, f, indent=1)
    path = os.path.join(bench_dir, "RESULTS.md")
    with open(path) as f:
        md = f.read()
    if main:
        md = put_block(md, BEGIN_MARK, END_MARK, main_text)
    for name, (_, text) in groups.items():
        md = put_block(md, *block_marks(name), text)
    with open(path, "w") as f:
        f.write(md)


def main():
    ap = argparse.ArgumentParser(
        prog="bench/run",
        description="Benchmarks httpfs and httpc against nginx, lighttpd, h2o, Apache (WebDAV), "
                    "curl and wget on loopback, side by side in one run, and writes bench/RESULTS.md (the "
                    "generated block), bench/results.json and bench/chart.png. Installs what it "
                    "needs from Debian packages and builds httpfs in release mode first. Never "
                    "a pass/fail test.",
        epilog="Scenario groups (--only): server (1 KiB keep-alive at 50 and 1000 connections, "
               "pipelined x16, Connection: close, 100 KiB), tls (1 KiB keep-alive over HTTPS), "
               "large (1 GiB GET, GET over TLS, PUT), client (httpc, curl, wget: 1 GiB to disk "
               "and up), memory (per idle keep-alive connection at 8000 connections), dav "
               "(WebDAV against Apache mod_dav, lighttpd mod_webdav, nginx dav + dav-ext: "
               "PROPFIND Depth 1 of 10 000 and of 100 000 entries, MKCOL-PUT-MOVE-DELETE "
               "cycles, COPY of the large file), resumable (the large file to httpfs by a "
               "plain PUT, by resumable upload in one request and cut 10 times: the time of "
               "each against the plain PUT's), compress (against nginx gzip at the same zlib "
               "level: a 2 MiB JavaScript file gzip and zstd on the fly, its precompressed "
               "app.js.gz, a 10 000-entry HTML listing; req/s, server CPU and bytes per "
               "response), archive (?download=zip and tar of a tree of 10 000 files as large "
               "as the large file, against its GET: GB/s, server CPU per GiB, peak RSS), h2 "
               "(HTTP/2 against nginx and h2o by h2load: 1 KiB with 50 connections x 16 "
               "streams over h2c and over TLS, req/s and server CPU per request; the large "
               "file over h2c and TLS, MB/s; memory per idle h2c connection). The "
               "compress, archive and h2 tables are blocks of their own in RESULTS.md: a run "
               "of them alone replaces only those. Single "
               "scenarios: " + ", ".join(s for v in GROUPS.values() for s in v) + ". A full "
               "run takes about 30 minutes on 2 cores; --quick about three. Before and "
               "after a change: bench/run --baseline OLD/build-release --servers "
               "httpfs,httpfs-base --only server,large,memory")
    ap.add_argument("--quick", action="store_true",
                    help="one round, 2 s load runs without warm-up, a 256 MiB large file (and "
                         "folder-download tree, of 2 500 files), 2000 idle connections, 3 "
                         "PROPFINDs and 200 WebDAV cycles per server; prints the tables and "
                         "writes nothing unless --write")
    ap.add_argument("--rounds", type=int, help="rounds per scenario (default 3; quick: 1)")
    ap.add_argument("--seconds", type=int, help="seconds per load run (default 10)")
    ap.add_argument("--only", help="comma-separated scenario groups or single scenarios "
                                   "(default: all)")
    ap.add_argument("--baseline", metavar="DIR",
                    help="also run httpfs-base: DIR/httpfs (a build directory of another "
                         "commit, or a source tree with build-release/), with the options of "
                         "httpfs, in the same rounds; the tables add httpfs / httpfs-base. "
                         "Writes nothing unless --write")
    ap.add_argument("--servers", metavar="NAME,...",
                    help="only these servers (default: all): " + ", ".join(SERVER_NAMES) +
                         "; a name includes its variants (httpfs: --no-fsync and TLS too; nginx: "
                         "its WebDAV and gzip instances too; lighttpd: its WebDAV instance too)")
    ap.add_argument("--write", action="store_true",
                    help="write the results even with --quick or --baseline")
    ap.add_argument("--no-write", action="store_true", help="print the tables only")
    ap.add_argument("--build", default="build-release", help=argparse.SUPPRESS)
    ap.add_argument("--tmpdir", default=None,
                    help="where the docroot and uploads go (default: $TMPDIR; uploads and the "
                         "client downloads land here, so it should be a real disk)")
    args = ap.parse_args()
    bench = Bench(args)
    try:
        bench.run()
        # The compress, archive and h2 groups have blocks of their own: a run of them alone
        # leaves the first block, its chart and the other blocks as they are.
        main_results, group_results = split_results(bench.results)
        main_text = report(main_results) if main_results else None
        groups = {g: (r, group_report(g, r)) for g, r in group_results.items()}
        print("\n\n".join(([main_text] if main_text else []) + [t for _, t in groups.values()]))
        write = (args.write or not (args.quick or args.baseline)) and not args.no_write
        if write:
            bench_dir = os.path.join(REPO, "bench")
            if main_results:
                chart(main_results, os.path.join(bench_dir, "chart.png"), bench.tmp)
            write_results(main_results, main_text, groups, bench_dir)
            log("wrote bench/results.json and in bench/RESULTS.md the block(s) of " +
                ", ".join((["the main groups"] if main_results else []) + list(groups)) +
                (", and bench/chart.png" if main_results else ""))
    finally:
        bench.cleanup()


if __name__ == "__main__":
    main()
