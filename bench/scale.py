#!/usr/bin/env python3
"""The engine of bench/scale: how httpfs grows beyond one core and one instance.

Two groups, in interleaved rounds (median and min-max of the rounds, as bench/run does):

workers  httpfs --workers 1 and 2 against nginx worker_processes 1 and 2, on one docroot
         (1k.bin, 100k.bin), by wrk -t2 over keep-alive connections. Nothing is pinned: on
         a 2-core machine the load generator shares the cores with the server, so CPU per
         request (the server's, wrk's, the whole machine's) matters as much as req/s.
shared   one GlusterFS volume mounted twice (tests/scale/gluster.sh), HAProxy in front:
         (a) one httpfs --shared-fs on mount 1, (b) two, on mounts 1 and 2, (c) one httpfs on
         the local disk (no --shared-fs) behind the same HAProxy, (d) that httpfs directly,
         (e) one httpfs --shared-fs --workers 4 on mount 1.
         Loads: GET of 1 KiB and of 100 KiB, and PUTs of 64 KiB to names of their own.

CPU comes from /proc: utime+stime of every process of a server (nginx's master and
workers, every thread), read before and after each run; wrk's from its rusage; the
machine's from /proc/stat (everything but idle and iowait). Helpers (logging, ports, number
formatting, RESULTS.md blocks) come from bench/run.py, imported as a module.
"""

import argparse
import datetime
import http.client
import json
import os
import platform
import re
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

BENCH = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, BENCH)
import run as engine  # noqa: E402  bench/run.py: the standard library only, main() guarded

REPO = engine.REPO
log, free_port, wait_port = engine.log, engine.free_port, engine.wait_port
fmt, cell, summary, median_ratio = engine.fmt, engine.cell, engine.summary, engine.median_ratio
CLK_TCK = os.sysconf("SC_CLK_TCK")

GROUPS = {"workers": ["keepalive-50", "keepalive-1000", "100k-keepalive"],
          "shared": ["get-1k", "get-100k", "put-64k"]}
WORKER_SERVERS = ["httpfs-1", "httpfs-2", "nginx-1", "nginx-2"]
# The shared group's configurations, in the order of the table.
CONFIGS = {"d": "(d) local disk, direct",
           "c": "(c) local disk, HAProxy",
           "a": "(a) 1 × --shared-fs, HAProxy",
           "b": "(b) 2 × --shared-fs, HAProxy",
           "e": "(e) 1 × --shared-fs --workers 4, HAProxy"}
# The instances over the volume, and (e) in particular: a loop waits for each file-system
# call, a network round trip on a distributed file system, so more loops than cores help.
SHARED_CONFIGS = ("a", "b", "e")
CONNS = 50
WRK_THREADS = 2
UPLOAD_BYTES = 64 << 10
# gluster.sh's fixed names: its volume, and the file that says where a setup lives.
GLUSTER_VOLUME = "httpfs_scale"
GLUSTER_STATE = "/run/httpfs-scale-gluster.dir"
GLUSTER_UP_TIMEOUT = 300    # gluster.sh up: glusterd (30 s), CLI calls (60 s each), mounts
GLUSTER_DOWN_TIMEOUT = 180

# wrk: PUT of UPLOAD_BYTES to <prefix><thread>-<n>, a name per request.
PUT_LUA = """-- bench/scale: PUT of %(size)d bytes, each request to a name of its own.
local counter = 0
local body, prefix
local threads = 0
function setup(thread)
  threads = threads + 1
  thread:set("tid", threads)
end
function init(args)
  prefix = args[1]
  local lines = {}
  for i = 1, %(size)d / 64 do lines[i] = string.format("%%063d\\n", i) end
  body = table.concat(lines)
end
function request()
  counter = counter + 1
  return wrk.format("PUT", prefix .. tid .. "-" .. counter, nil, body)
end
""" % {"size": UPLOAD_BYTES}


def upload_body():
    """The bytes PUT_LUA sends."""
    return "".join(f"{i:063d}\n" for i in range(1, UPLOAD_BYTES // 64 + 1)).encode()


# ---- processes

class Interrupted(Exception):
    pass


STARTED = []  # every Proc started, stopped in reverse order at the end


class Proc:
    """One long-running process in a session of its own (Ctrl-C reaches only this script,
    which stops it in order), its output in WORKDIR/NAME.out."""

    def __init__(self, name, argv, workdir, port=None):
        self.name, self.argv, self.workdir, self.port = name, argv, workdir, port
        self.proc = None

    def start(self, timeout=15):
        out = open(os.path.join(self.workdir, f"{self.name}.out"), "w")
        self.proc = subprocess.Popen(self.argv, stdout=out, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, start_new_session=True)
        out.close()
        STARTED.append(self)
        if self.port:
            try:
                wait_port(self.port, self.proc, timeout)
            except RuntimeError as e:
                raise RuntimeError(f"{self.name}: {e}: {self.tail()}") from None

    def tail(self):
        try:
            with open(os.path.join(self.workdir, f"{self.name}.out")) as f:
                return " | ".join(f.read().strip().splitlines()[-5:])
        except OSError:
            return ""

    @property
    def pid(self):
        return self.proc.pid

    def stop(self):
        if not self.proc or self.proc.poll() is not None:
            return
        for sig, wait in ((signal.SIGTERM, 10), (signal.SIGKILL, 5)):
            try:
                os.killpg(self.proc.pid, sig)
            except ProcessLookupError:
                pass
            try:
                self.proc.wait(wait)
                return
            except subprocess.TimeoutExpired:
                log(f"scale: {self.name} (pid {self.proc.pid}) still there after "
                    f"{signal.Signals(sig).name}")


def run_bounded(argv, timeout, **kw):
    """A command in a session of its own, killed with its process group after `timeout`
    seconds or when this script is interrupted; (returncode or None, output)."""
    p = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                         stdin=subprocess.DEVNULL, start_new_session=True, **kw)
    try:
        out, _ = p.communicate(timeout=timeout)
        return p.returncode, out
    except subprocess.TimeoutExpired:
        os.killpg(p.pid, signal.SIGKILL)
        out, _ = p.communicate()
        return None, out
    except BaseException:
        os.killpg(p.pid, signal.SIGKILL)
        p.wait()
        raise


# ---- CPU from /proc

def stat_fields(pid):
    with open(f"/proc/{pid}/stat") as f:
        return f.read().rsplit(")", 1)[1].split()


def process_tree(roots):
    """The pids of `roots` and of all their descendants."""
    children = {}
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                children.setdefault(int(stat_fields(d)[1]), []).append(int(d))
            except (OSError, IndexError, ValueError):
                pass
    seen, todo = [], list(roots)
    while todo:
        pid = todo.pop()
        if pid not in seen:
            seen.append(pid)
            todo.extend(children.get(pid, []))
    return seen


def cpu_ticks(pids):
    """utime+stime of these processes (every thread of each), in clock ticks."""
    total = 0
    for pid in pids:
        try:
            f = stat_fields(pid)
            total += int(f[11]) + int(f[12])
        except (OSError, IndexError, ValueError):
            pass
    return total


def machine_ticks():
    """Busy clock ticks of the whole machine: all but idle and iowait (guest time is in
    user time already)."""
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:9]]
    user, nice, system, _idle, _iowait, irq, softirq, steal = v
    return user + nice + system + irq + softirq + steal


def children_cpu_s():
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ru.ru_utime + ru.ru_stime


def gluster_pids(gdir):
    """glusterd, the bricks and the two FUSE clients of the setup in `gdir`, by pid file."""
    files = [os.path.join(gdir, "glusterd.pid"), os.path.join(gdir, "m1.pid"),
             os.path.join(gdir, "m2.pid")]
    vols = f"/run/gluster/vols/{GLUSTER_VOLUME}"
    if os.path.isdir(vols):
        files += [os.path.join(vols, n) for n in os.listdir(vols) if n.endswith(".pid")]
    pids = []
    for path in files:
        try:
            with open(path) as f:
                pids.append(int(f.read().strip()))
        except (OSError, ValueError):
            pass
    return pids


def gluster_busy():
    """Why a gluster setup cannot be brought up now (empty when it can): one setup per
    machine (gluster.sh's port 24007, its state file, the bricks' sockets). /run/gluster
    itself does not count: glusterd makes it and nothing removes it, so it is there after
    every clean teardown; what is under /run/gluster/vols goes with the volume."""
    why = []
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/comm") as f:
                comm = f.read().strip()
            if comm in ("glusterd", "glusterfsd", "glusterfs") and stat_fields(d)[0] != "Z":
                why.append(f"a {comm} process runs (pid {d})")
        except (OSError, IndexError):
            pass
    if os.path.exists(GLUSTER_STATE):
        try:
            with open(GLUSTER_STATE) as f:
                where = f.read().strip()
        except OSError:
            where = "?"
        why.append(f"{GLUSTER_STATE} exists: a gluster.sh setup lives in {where} (in use, or "
                   f"left by a killed run: `tests/scale/gluster.sh down {where}`)")
    vols = "/run/gluster/vols"
    if os.path.isdir(vols) and os.listdir(vols):
        why.append(f"{vols} holds {', '.join(sorted(os.listdir(vols)))}: a volume's bricks "
                   "are, or were just, running")
    return why


def mounted(path):
    with open("/proc/mounts") as f:
        return any(line.split()[1] == path for line in f)


def mounts_under(path):
    with open("/proc/mounts") as f:
        return [line.split()[1] for line in f if line.split()[1].startswith(path + "/")]


# ---- HTTP checks

def fetch(port, method, path, body=None, timeout=10):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        c.request(method, path, body=body)
        r = c.getresponse()
        return r.status, r.read()
    finally:
        c.close()


def expect_file(port, path, data, what):
    status, body = fetch(port, "GET", path)
    if status != 200 or body != data:
        raise RuntimeError(f"{what}: GET {path} answered {status} with {len(body)} bytes, "
                           f"not 200 with the file's {len(data)}")


# ---- wrk

def parse_wrk(out):
    num = lambda rx: re.search(rx, out, re.M)
    reqs, rps = num(r"^\s*(\d+) requests in"), num(r"^Requests/sec:\s*([\d.]+)")
    if not reqs or not rps:
        raise RuntimeError("wrk printed no result: " + " | ".join(out.strip().splitlines()[-5:]))
    r = {"requests": int(reqs[1]), "rps": float(rps[1])}
    for key, rx in (("p50_ms", r"^\s*50%\s+(\S+)"), ("p99_ms", r"^\s*99%\s+(\S+)")):
        m = num(rx)
        if m and engine.to_ms(m[1]) > 0:
            r[key] = engine.to_ms(m[1])
    bad = num(r"Non-2xx or 3xx responses: (\d+)")
    errors = num(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)")
    r["non_2xx"] = int(bad[1]) if bad else 0
    r["socket_errors"] = sum(int(x) for x in errors.groups()) if errors else 0
    return r


class Bench:
    def __init__(self, args):
        self.args = args
        self.quick = args.quick
        self.rounds = args.rounds or (1 if self.quick else 3)
        self.seconds = args.seconds or (3 if self.quick else 10)
        self.warmup = not self.quick
        self.build = os.path.join(REPO, args.build)
        self.httpfs = os.path.join(self.build, "httpfs")
        self.only = [x.strip() for x in args.only.split(",") if x.strip()] if args.only else None
        known = set(GROUPS) | {s for v in GROUPS.values() for s in v}
        for x in self.only or []:
            if x not in known:
                raise SystemExit(f"bench/scale: --only {x}: not a group or scenario (groups: "
                                 f"{', '.join(GROUPS)}; scenarios: "
                                 f"{', '.join(s for v in GROUPS.values() for s in v)})")
        self.gluster_sh = os.path.abspath(args.gluster_sh or
                                          os.path.join(REPO, "tests", "scale", "gluster.sh"))
        self.tmp = tempfile.mkdtemp(prefix="httpfs-bench-scale-", dir=args.tmpdir)
        os.chmod(self.tmp, 0o755)
        d = self.tmp
        while d != "/":  # nginx's workers run as nobody: the docroot readable all the way up
            os.chmod(d, os.stat(d).st_mode | 0o111)
            d = os.path.dirname(d)
        self.files = {"/1k.bin": os.urandom(1024), "/100k.bin": os.urandom(100 << 10)}
        self.results = {"workers": {}, "shared": {}, "machine": {}, "versions": {},
                        "settings": {}, "notes": {}}
        self.gdir = None
        self.gluster_up = False

    def want(self, scenario):
        if not self.only:
            return True
        return scenario in self.only or any(g in self.only and scenario in v
                                            for g, v in GROUPS.items())

    def group_wanted(self, group):
        return any(self.want(s) for s in GROUPS[group])

    def record(self, group, scenario, name, value):
        self.results[group].setdefault(scenario, {}).setdefault(name, []).append(value)

    @staticmethod
    def rotate(names, r):
        k = r % len(names) if names else 0
        return names[k:] + names[:k]

    def make_docroot(self, root):
        os.makedirs(os.path.join(root, "up"), exist_ok=True)
        for path, data in self.files.items():
            with open(root + path, "wb") as f:
                f.write(data)
            os.chmod(root + path, 0o644)
        os.chmod(root, 0o755)
        os.chmod(os.path.join(root, "up"), 0o777)

    def httpfs_argv(self, port, root, *extra):
        return [self.httpfs, "-p", str(port), "-b", "127.0.0.1", "-d", root,
                "--access-log", "off", "--keepalive-timeout", "120", *extra]

    def check_options(self):
        try:
            text = subprocess.run([self.httpfs, "--help"], capture_output=True, text=True,
                                  timeout=10).stdout
        except OSError as e:
            raise SystemExit(f"bench/scale: {self.httpfs}: {e} (build it: bench/scale does)")
        for group, option in (("workers", "--workers"), ("shared", "--shared-fs")):
            if self.group_wanted(group) and option not in text:
                raise SystemExit(f"bench/scale: {self.httpfs} has no {option}: rebuild it from "
                                 f"this tree (ninja -C {self.args.build})")

    # ---- one measured run

    def wrk(self, port, path, conns, watch, extra=(), lua_args=(), warm_args=None):
        """wrk -t2 against 127.0.0.1:port/path; CPU of the processes in `watch`
        ({label: [root pids]}, each with its descendants) over the run."""
        seconds = self.seconds
        base = ["wrk", f"-t{WRK_THREADS}", f"-c{conns}", "--latency", "--timeout", "10s",
                *extra, f"http://127.0.0.1:{port}{path}"]
        if self.warmup:
            rc, _ = run_bounded(base + ["-d1s", *(["--", *warm_args] if warm_args else [])], 40)
        trees = {k: process_tree(v) for k, v in watch.items()}
        cmd = base + [f"-d{seconds}s", *(["--", *lua_args] if lua_args else [])]
        before = {k: cpu_ticks(p) for k, p in trees.items()}
        m0, w0, t0 = machine_ticks(), children_cpu_s(), time.monotonic()
        rc, out = run_bounded(cmd, seconds + 40)
        t1, w1, m1 = time.monotonic(), children_cpu_s(), machine_ticks()
        after = {k: cpu_ticks(p) for k, p in trees.items()}
        if rc is None:
            raise RuntimeError(f"wrk did not end within {seconds + 40} s")
        r = parse_wrk(out)
        n = r["requests"] or 1
        us = 1e6 / CLK_TCK
        for k in trees:
            r[f"{k}_us"] = (after[k] - before[k]) * us / n
            r[f"{k}_cores"] = (after[k] - before[k]) / CLK_TCK / (t1 - t0)
        r["wrk_us"] = (w1 - w0) * 1e6 / n
        r["machine_us"] = (m1 - m0) * us / n
        r["machine_cores"] = (m1 - m0) / CLK_TCK / (t1 - t0)
        r["errors"] = r["non_2xx"] + r["socket_errors"]
        return r

    # ---- workers

    def nginx_conf(self, name, workers, port, root):
        d = os.path.join(self.tmp, name)
        conf = engine.nginx_prelude(d, workers) + f"""    listen 127.0.0.1:{port} reuseport;
    root {root};
  }}
}}
"""
        path = os.path.join(d, "nginx.conf")
        with open(path, "w") as f:
            f.write(conf)
        return path

    def run_workers(self):
        root = os.path.join(self.tmp, "www")
        self.make_docroot(root)
        servers = {}
        for n in (1, 2):
            p = free_port()
            servers[f"httpfs-{n}"] = Proc(f"httpfs-{n}", self.httpfs_argv(
                p, root, "--workers", str(n)), self.tmp, p)
            p = free_port()
            servers[f"nginx-{n}"] = Proc(f"nginx-{n}", ["nginx", "-c", self.nginx_conf(
                f"nginx-{n}", n, p, root)], self.tmp, p)
        try:
            for s in servers.values():
                s.start()
            for s in servers.values():
                for path, data in self.files.items():
                    expect_file(s.port, path, data, s.name)
            scenarios = [("keepalive-50", "/1k.bin", CONNS), ("keepalive-1000", "/1k.bin", 1000),
                         ("100k-keepalive", "/100k.bin", CONNS)]
            scenarios = [s for s in scenarios if self.want(s[0])]
            for r in range(self.rounds):
                for scenario, path, conns in scenarios:
                    for name in self.rotate(WORKER_SERVERS, r):
                        s = servers[name]
                        log(f"round {r + 1}: workers {scenario} {name}")
                        res = self.wrk(s.port, path, conns, {"server": [s.pid]})
                        self.record("workers", scenario, name, res)
        finally:
            for s in servers.values():
                s.stop()

    # ---- shared

    def gluster(self, action):
        rc, out = run_bounded(["bash", self.gluster_sh, action, self.gdir],
                              GLUSTER_UP_TIMEOUT if action == "up" else GLUSTER_DOWN_TIMEOUT)
        for line in out.strip().splitlines():
            log(f"  {line}")
        if rc != 0:
            raise RuntimeError(f"gluster.sh {action} {self.gdir} "
                               + ("timed out" if rc is None else f"exited with {rc}"))

    def haproxy_conf(self, port_of, backends):
        """One HAProxy, a frontend per configuration: roundrobin, keep-alive to the
        backends (connections reused across client connections), health checks every
        second with 5 s to answer (a loop waiting on a slow file system answers late; a
        check that gives up sooner takes a busy backend out)."""
        d = os.path.join(self.tmp, "haproxy")
        os.makedirs(d, exist_ok=True)
        self.haproxy_sock = os.path.join(d, "stats.sock")
        lines = ["global",
                 "  maxconn 4000",
                 f"  stats socket {self.haproxy_sock} mode 600 level admin",
                 "defaults",
                 "  mode http",
                 "  option http-keep-alive",
                 "  http-reuse always",
                 "  timeout connect 5s",
                 "  timeout client 120s",
                 "  timeout server 120s",
                 "  timeout http-keep-alive 120s",
                 "  timeout check 5s",
                 "  maxconn 4000"]
        for cfg, servers in backends.items():
            lines += ["", f"frontend fe_{cfg}", f"  bind 127.0.0.1:{port_of[cfg]}",
                      f"  default_backend be_{cfg}", f"backend be_{cfg}", "  balance roundrobin",
                      "  option httpchk HEAD /1k.bin"]
            lines += [f"  server {name} 127.0.0.1:{port} check inter 1s fall 5"
                      for name, port in servers]
        path = os.path.join(d, "haproxy.cfg")
        with open(path, "w") as f:
            f.write("\n".join(lines) + "\n")
        return path

    def haproxy_stat(self):
        """{(backend, server): responses 2xx so far}, from HAProxy's stats socket."""
        s = socket.socket(socket.AF_UNIX)
        s.settimeout(5)
        try:
            s.connect(self.haproxy_sock)
            s.sendall(b"show stat\n")
            data = b""
            while chunk := s.recv(65536):
                data += chunk
        finally:
            s.close()
        rows = data.decode().splitlines()
        head = rows[0].lstrip("# ").split(",")
        ix = {k: i for i, k in enumerate(head)}
        out = {}
        for row in rows[1:]:
            f = row.split(",")
            if len(f) > ix["hrsp_2xx"] and f[1] not in ("FRONTEND", "BACKEND"):
                out[(f[0], f[1])] = (int(f[ix["hrsp_2xx"]] or 0), f[ix["status"]])
        return out

    def await_backends(self, timeout=15):
        deadline = time.monotonic() + timeout
        while True:
            st = self.haproxy_stat()
            down = [f"{b}/{s}: {v[1]}" for (b, s), v in st.items() if not v[1].startswith("UP")]
            if not down:
                return
            if time.monotonic() > deadline:
                raise RuntimeError("HAProxy sees backends down: " + ", ".join(down))
            time.sleep(0.2)

    def run_shared(self):
        configs = ["d", "c"]
        why = gluster_busy()
        if not os.path.isfile(self.gluster_sh):
            why.append(f"no {self.gluster_sh} (--gluster-sh PATH names another)")
        if os.geteuid() != 0:
            why.append("not root (FUSE mounts, glusterd)")
        if not os.path.exists("/dev/fuse"):
            why.append("no /dev/fuse")
        if why:
            note = ("(a), (b) and (e) left out, no GlusterFS volume brought up: " + "; ".join(why))
            log("bench/scale: " + note)
            self.results["notes"]["shared"] = note
        else:
            configs += list(SHARED_CONFIGS)
        local = os.path.join(self.tmp, "local")
        self.make_docroot(local)
        procs = {}
        try:
            if "a" in configs:
                self.gdir = os.path.join(self.tmp, "gluster")
                t = time.monotonic()
                log(f"bench/scale: gluster.sh up {self.gdir}")
                self.gluster_up = True  # from here on, down in the end whatever happens
                m1, m2 = os.path.join(self.gdir, "m1"), os.path.join(self.gdir, "m2")
                shared = [os.path.join(m1, "www"), os.path.join(m2, "www")]
                try:
                    self.gluster("up")
                    self.results["settings"]["gluster_up_s"] = round(time.monotonic() - t, 1)
                    self.make_docroot(shared[0])
                    deadline = time.monotonic() + 10
                    while not all(os.path.isfile(shared[1] + p) for p in self.files):
                        if time.monotonic() > deadline:
                            raise RuntimeError("the docroot written through m1 is not seen "
                                               "on m2")
                        time.sleep(0.1)
                except (RuntimeError, OSError) as e:
                    # The local configurations still run.
                    self.results["notes"]["shared"] = f"(a), (b) and (e) left out: {e}"
                    log(f"bench/scale: {e}: (a), (b) and (e) left out")
                    self.teardown_gluster()
                    configs = ["d", "c"]
            ports = {}
            p = free_port()
            procs["L"] = Proc("httpfs-local", self.httpfs_argv(p, local), self.tmp, p)
            ports["d"] = p
            backends = {"c": [("local", p)]}
            if "a" in configs:
                for i, name in enumerate(("A", "B")):
                    p = free_port()
                    procs[name] = Proc(f"httpfs-shared-{name}", self.httpfs_argv(
                        p, shared[i], "--shared-fs"), self.tmp, p)
                p = free_port()
                procs["A4"] = Proc("httpfs-shared-A4", self.httpfs_argv(
                    p, shared[0], "--shared-fs", "--workers", "4"), self.tmp, p)
                backends["a"] = [("A", procs["A"].port)]
                backends["e"] = [("A4", procs["A4"].port)]
                backends["b"] = [("A", procs["A"].port), ("B", procs["B"].port)]
            for cfg in backends:
                ports[cfg] = free_port()
            hp_port = ports["c"]
            for proc in procs.values():
                proc.start()
            procs["haproxy"] = Proc("haproxy", ["haproxy", "-f", self.haproxy_conf(
                ports, backends), "-db"], self.tmp, hp_port)
            procs["haproxy"].start()
            self.await_backends()
            body = upload_body()
            for cfg in configs:
                for path, data in self.files.items():
                    expect_file(ports[cfg], path, data, CONFIGS[cfg])
                status, _ = fetch(ports[cfg], "PUT", f"/up/check-{cfg}", body)
                if status not in (200, 201, 204):
                    raise RuntimeError(f"{CONFIGS[cfg]}: PUT answered {status}")
                expect_file(ports[cfg], f"/up/check-{cfg}", body, CONFIGS[cfg])
            if "b" in configs:
                # What one instance wrote, the other serves.
                status, _ = fetch(procs["B"].port, "PUT", "/up/check-B", body)
                if status not in (200, 201, 204):
                    raise RuntimeError(f"httpfs on m2: PUT answered {status}")
                expect_file(procs["A"].port, "/up/check-B", body, "httpfs on m1")
            watch = {"d": {"server": [procs["L"].pid]},
                     "c": {"server": [procs["L"].pid], "haproxy": [procs["haproxy"].pid]}}
            if "a" in configs:
                gp = gluster_pids(self.gdir)
                watch["a"] = {"server": [procs["A"].pid], "haproxy": [procs["haproxy"].pid],
                              "gluster": gp}
                watch["b"] = {"server": [procs["A"].pid, procs["B"].pid],
                              "haproxy": [procs["haproxy"].pid], "gluster": gp}
                watch["e"] = {"server": [procs["A4"].pid], "haproxy": [procs["haproxy"].pid],
                              "gluster": gp}
            lua = os.path.join(self.tmp, "put.lua")
            with open(lua, "w") as f:
                f.write(PUT_LUA)
            loads = [s for s in GROUPS["shared"] if self.want(s)]
            for r in range(self.rounds):
                for load in loads:
                    for cfg in self.rotate(configs, r):
                        if cfg in SHARED_CONFIGS and not (mounted(m1) and mounted(m2)):
                            # Another gluster.sh up takes a live setup's state file for a
                            # left-over one and tears it down.
                            note = (f"(a), (b) and (e) stopped in round {r + 1}: {m1} or {m2} is no "
                                    "longer mounted (torn down by another gluster.sh?)")
                            log("bench/scale: " + note)
                            self.results["notes"]["shared"] = note
                            configs = ["d", "c"]
                            continue
                        log(f"round {r + 1}: shared {load} {CONFIGS[cfg]}")
                        before = self.haproxy_stat() if cfg == "b" else None
                        if load == "put-64k":
                            # A directory of its own per run, made through the mount the
                            # first instance serves; emptied after a run on the local disk.
                            sub = f"{cfg}-{r}"
                            top = shared[0] if cfg in SHARED_CONFIGS else local
                            os.makedirs(os.path.join(top, "up", sub))
                            res = self.wrk(ports[cfg], "/", CONNS, watch[cfg],
                                           extra=("-s", lua), lua_args=(f"/up/{sub}/",),
                                           warm_args=(f"/up/{sub}/w",))
                            if cfg in ("c", "d"):
                                shutil.rmtree(os.path.join(top, "up", sub), ignore_errors=True)
                        else:
                            path = "/1k.bin" if load == "get-1k" else "/100k.bin"
                            res = self.wrk(ports[cfg], path, CONNS, watch[cfg])
                        if before is not None:
                            after = self.haproxy_stat()
                            served = {s: after[("be_b", s)][0] - before[("be_b", s)][0]
                                      for s in ("A", "B")}
                            if sum(served.values()):
                                res["share_B_pct"] = 100 * served["B"] / sum(served.values())
                        self.record("shared", load, cfg, res)
            self.results["settings"]["configs"] = configs
        finally:
            for key in ("haproxy", "A", "B", "L"):
                if key in procs:
                    procs[key].stop()

    def teardown_gluster(self):
        if not self.gluster_up:
            return
        self.gluster_up = False
        log(f"bench/scale: gluster.sh down {self.gdir}")
        try:
            self.gluster("down")
        except RuntimeError as e:
            log(f"bench/scale: {e}: see {self.gdir}/logs")

    # ---- the whole run

    def collect_machine(self):
        m = self.results["machine"]
        lscpu = subprocess.run(["lscpu"], capture_output=True, text=True).stdout
        model = re.search(r"Model name:\s*(.*)", lscpu)
        m["cpu"] = model[1].strip() if model else platform.processor()
        m["cores"] = os.cpu_count()
        m["kernel"] = platform.release()
        with open("/etc/os-release") as f:
            m["os"] = re.search(r'PRETTY_NAME="(.*)"', f.read())[1]
        m["date"] = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")

        def first(cmd):
            try:
                r = subprocess.run(cmd, capture_output=True, text=True, timeout=10)
            except (OSError, subprocess.TimeoutExpired):
                return "not found"
            return ((r.stdout + r.stderr).strip().splitlines() or ["?"])[0]

        v = self.results["versions"]
        commit = subprocess.run(["git", "-C", REPO, "describe", "--always", "--dirty"],
                                capture_output=True, text=True).stdout.strip()
        v["httpfs"] = first([self.httpfs, "--version"]) + (f" ({commit})" if commit else "")
        if self.group_wanted("workers"):
            v["nginx"] = first(["nginx", "-v"])
        if self.group_wanted("shared"):
            v["haproxy"] = first(["haproxy", "-v"])
            v["glusterfs"] = first(["glusterfs", "--version"])
        v["wrk"] = first(["wrk", "--version"])

    def run(self):
        started = time.time()
        self.check_options()
        self.collect_machine()
        st = self.results["settings"]
        st.update(rounds=self.rounds, seconds=self.seconds, quick=self.quick,
                  only=self.only, warmup=self.warmup)
        runs = (sum(self.want(s) for s in GROUPS["workers"]) * len(WORKER_SERVERS) +
                sum(self.want(s) for s in GROUPS["shared"]) * len(CONFIGS)) * self.rounds
        log(f"bench/scale: {self.rounds} round(s), {self.seconds} s per run"
            f"{' after a 1 s warm-up' if self.warmup else ''}, at most {runs} runs: about "
            f"{round(runs * (self.seconds + self.warmup + 0.2) / 60 + 0.5)} min, in {self.tmp}")
        if self.group_wanted("workers"):
            self.run_workers()
        if self.group_wanted("shared"):
            try:
                self.run_shared()
            finally:
                self.teardown_gluster()
        st["duration_s"] = round(time.time() - started)

    def cleanup(self):
        left = mounts_under(self.tmp)
        if left:
            log(f"bench/scale: {', '.join(left)} still mounted: {self.tmp} left in place")
            return
        shutil.rmtree(self.tmp, ignore_errors=True)


# ---- the report

def ratio(a, b, key):
    r = median_ratio(a, b, key) if a and b else None
    return f"{r:.2f}x" if r is not None else "–"


def header(results, group):
    m, v, st = results["machine"], results["versions"], results["settings"]
    command = "bench/scale" + (" --quick" if st.get("quick") else "") + (
        f" --only {','.join(st['only'])}" if st.get("only") else "")
    shown = ("httpfs", "nginx", "wrk") if group == "workers" else (
        "httpfs", "haproxy", "glusterfs", "wrk")
    runs = f"{st['seconds']} s per wrk run" + (" after a 1 s warm-up" if st["warmup"] else "")
    return (f"Generated by `{command}` on {m['date']}, {st['rounds']} interleaved round(s), "
            f"{runs}; the whole run took {st.get('duration_s', '?')} s. Each cell: the median, "
            f"and the range over the rounds. Machine: {m['cpu']}, {m['cores']} cores, {m['os']}, "
            f"Linux {m['kernel']}; nothing pinned (the load generator shares the cores). "
            "Versions: " + "; ".join(f"{k}: {v[k]}" for k in shown if k in v) + ".")


WORKER_METRICS = [("rps", "req/s", None), ("server_us", "server CPU µs/req", None),
                  ("server_cores", "server CPU, cores busy", 2), ("wrk_us", "wrk CPU µs/req", None),
                  ("machine_us", "machine CPU µs/req", None), ("p99_ms", "p99 ms", None)]
WORKER_SCENARIOS = {"keepalive-50": f"1 KiB keep-alive, {CONNS} conns",
                    "keepalive-1000": "1 KiB keep-alive, 1000 conns",
                    "100k-keepalive": f"100 KiB keep-alive, {CONNS} conns"}


def errors_line(table, names):
    bad = []
    for scenario, per in table.items():
        for name in names:
            n = sum(v.get("errors", 0) for v in per.get(name, []))
            if n:
                bad.append(f"{scenario} {name}: {n}")
    return ["", "Errors (non-2xx answers and socket errors, all rounds): " + ", ".join(bad)] \
        if bad else []


def workers_report(results):
    table = results["workers"]
    lines = [header(results, "workers"), "",
             f"### Workers: httpfs `--workers 1` and `2` against nginx `worker_processes 1` "
             f"and `2` (wrk -t{WRK_THREADS}, not pinned)", "",
             "Same docroot, access log off, sendfile on (nginx), keep-alive limits raised; "
             "each worker of either accepts on a SO_REUSEPORT socket of its own (nginx: "
             "`listen ... reuseport`, master process on). Server CPU: "
             "utime+stime of all its processes and threads; machine CPU: all of /proc/stat "
             "but idle and iowait, per request served.", "",
             "| scenario | metric | httpfs-1 | httpfs-2 | nginx-1 | nginx-2 | httpfs-2 / httpfs-1 "
             "| nginx-2 / nginx-1 | httpfs-1 / nginx-1 | httpfs-2 / nginx-2 |",
             "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for scenario, label in WORKER_SCENARIOS.items():
        if scenario not in table:
            continue
        per = table[scenario]
        for i, (key, name, digits) in enumerate(WORKER_METRICS):
            if not any(key in v for vs in per.values() for v in vs):
                continue
            cells = [cell(per[n], key, digits) if per.get(n) else "–" for n in WORKER_SERVERS]
            ratios = [ratio(per.get(a), per.get(b), key) for a, b in (
                ("httpfs-2", "httpfs-1"), ("nginx-2", "nginx-1"), ("httpfs-1", "nginx-1"),
                ("httpfs-2", "nginx-2"))]
            lines.append(f"| {label if i == 0 else ''} | {name} | " + " | ".join(cells + ratios)
                         + " |")
    return "\n".join(lines + errors_line(table, WORKER_SERVERS))


SHARED_METRICS = [("rps", "req/s", None), ("server_us", "httpfs CPU µs/req", None),
                  ("haproxy_us", "HAProxy CPU µs/req", None),
                  ("gluster_us", "GlusterFS CPU µs/req", None),
                  ("wrk_us", "wrk CPU µs/req", None), ("machine_us", "machine CPU µs/req", None),
                  ("machine_cores", "machine CPU, cores busy", 2), ("p99_ms", "p99 ms", None)]
SHARED_LOADS = {"get-1k": f"GET 1 KiB keep-alive, {CONNS} conns",
                "get-100k": f"GET 100 KiB keep-alive, {CONNS} conns",
                "put-64k": f"PUT 64 KiB, a new name each, {CONNS} conns"}


def shared_report(results):
    table = results["shared"]
    order = list(CONFIGS)
    lines = [header(results, "shared"), "",
             "### Several instances over one GlusterFS volume, HAProxy in front "
             f"(wrk -t{WRK_THREADS}, not pinned)", "",
             "One GlusterFS volume (2 bricks on the local disk, distribute) mounted twice with "
             "FUSE (`tests/scale/gluster.sh`: caching off for coherent mounts); httpfs with one "
             "worker each, fsync before answering an upload (the default); one HAProxy process "
             "(its default threads), roundrobin, keep-alive and `http-reuse always` to the "
             "backends, `check inter 1s fall 5`, `timeout check 5s`. GlusterFS CPU: glusterd, both bricks and both "
             "FUSE clients. PUT: req/s are uploads/s.", "",
             "| load | metric | " + " | ".join(CONFIGS[c] for c in order) +
             " | (b) / (a) | (e) / (a) | (a) / (c) | (c) / (d) |",
             "|---|---|" + "---:|" * (len(order) + 4)]
    for load, label in SHARED_LOADS.items():
        if load not in table:
            continue
        per = table[load]
        first = True
        for key, name, digits in SHARED_METRICS:
            if not any(key in v for vs in per.values() for v in vs):
                continue
            cells = [cell(per[c], key, digits) if per.get(c) else "–" for c in order]
            ratios = [ratio(per.get(a), per.get(b), key)
                      for a, b in (("b", "a"), ("e", "a"), ("a", "c"), ("c", "d"))]
            lines.append(f"| {label if first else ''} | {name} | " + " | ".join(cells + ratios)
                         + " |")
            first = False
    split = [f"{SHARED_LOADS[load].split(',')[0]}: {cell(per['b'], 'share_B_pct', 1)} %"
             for load, per in table.items() if any("share_B_pct" in v for v in per.get("b", []))]
    if split:
        lines += ["", "(b): share of the answers given by the instance on the second mount "
                  "(HAProxy's 2xx counts): " + "; ".join(split) + "."]
    note = results["notes"].get("shared")
    if note:
        lines += ["", note + "."]
    return "\n".join(lines + errors_line(table, order))


def write_results(texts):
    path = os.path.join(BENCH, "RESULTS.md")
    with open(path) as f:
        md = f.read()
    for group, text in texts.items():
        md = engine.put_block(md, f"<!-- bench/scale {group}: begin -->",
                              f"<!-- bench/scale {group}: end -->", text)
    with open(path, "w") as f:
        f.write(md)


def main():
    ap = argparse.ArgumentParser(
        prog="bench/scale",
        description="How httpfs scales: --workers 1 and 2 against nginx worker_processes 1 "
                    "and 2 (workers), and httpfs instances over one GlusterFS volume behind "
                    "HAProxy against httpfs on the local disk (shared). Loopback only, nothing "
                    "pinned. Prints markdown tables; a full run also writes its blocks in "
                    "bench/RESULTS.md. Never a pass/fail test.",
        epilog="Scenarios: workers: keepalive-50, keepalive-1000 (1 KiB), 100k-keepalive; "
               "shared: get-1k, get-100k, put-64k. The shared group needs root, /dev/fuse and "
               "no other GlusterFS on the machine: without them it runs (c) and (d) only and "
               "says why. A full run takes about 17 minutes on 2 cores; --quick about 2.")
    ap.add_argument("--quick", action="store_true",
                    help="one round of 3 s runs without warm-up; writes nothing unless --write")
    ap.add_argument("--rounds", type=int, help="rounds (default 3; quick: 1)")
    ap.add_argument("--seconds", type=int, help="seconds per wrk run (default 10; quick: 3)")
    ap.add_argument("--only", help="comma-separated groups (workers, shared) or scenarios")
    ap.add_argument("--gluster-sh", metavar="PATH",
                    help="the script that brings the volume up and down "
                         "(default: tests/scale/gluster.sh)")
    ap.add_argument("--tmpdir", help="where docroots, bricks and uploads go (default: $TMPDIR)")
    ap.add_argument("--json", metavar="FILE", help="also write the raw results there")
    ap.add_argument("--write", action="store_true", help="write RESULTS.md even with --quick")
    ap.add_argument("--no-write", action="store_true", help="print the tables only")
    ap.add_argument("--build", default="build-release", help=argparse.SUPPRESS)
    args = ap.parse_args()

    # Ctrl-C, SIGTERM and SIGHUP end the run through the finally blocks (every process
    # stopped, the volume torn down); a second signal during that is ignored.
    def interrupted(signum, _frame):
        for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(s, signal.SIG_IGN)
        raise Interrupted(signal.Signals(signum).name)

    for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(s, interrupted)
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))

    bench = Bench(args)
    failed = None
    try:
        bench.run()
    except Interrupted as e:
        failed = f"interrupted ({e})"
    except (RuntimeError, OSError) as e:
        failed = str(e)
    finally:
        for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(s, signal.SIG_IGN)
        for p in reversed(STARTED):
            p.stop()
        bench.teardown_gluster()
        bench.cleanup()
    texts = {}
    if bench.results["workers"]:
        texts["workers"] = workers_report(bench.results)
    if bench.results["shared"]:
        texts["shared"] = shared_report(bench.results)
    if texts:
        print("\n\n".join(texts.values()))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(bench.results, f, indent=1)
    if failed:
        log(f"bench/scale: stopped: {failed}" + (" (the tables show what ran before)"
                                                 if texts else ""))
        sys.exit(1)
    if texts and (args.write or not args.quick) and not args.no_write:
        write_results(texts)
        log("bench/scale: wrote the block(s) of " + ", ".join(texts) + " in bench/RESULTS.md")


if __name__ == "__main__":
    main()
