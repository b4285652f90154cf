#!/usr/bin/env python3
"""The engine of bench/slowhttp: a normal client's latency while slowhttptest attacks.

For each server (httpfs, nginx with one worker), each scheme (http, https) and each attack
of slowhttptest (-H slowloris, -B slow body, -X slow read, -R range), at 1000 connections
for SECONDS: a client opens a fresh connection every 100 ms and GETs a 16-byte file; its
latencies give p50, p99 and max. Also: the seconds the tool's own probe went unanswered
(3 s timeout), the client's failed GETs, and the server's CPU time and peak RSS over the
attack. The goal (README "Security"): p99 under 100 ms while 1000 connections attack.

Both servers get the same deadlines: header and body 5 s, send 10 s (nginx:
client_header_timeout, client_body_timeout, send_timeout); nginx has no minimum body rate,
so its slow-body connections last until the body deadline between two bytes. Nothing here
is a pass/fail test: hardening/slowhttptest is.
"""

import argparse
import datetime
import os
import platform
import resource
import ssl
import socket
import subprocess
import sys
import tempfile
import time
import http.client

BENCH = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, BENCH)
import run as engine  # noqa: E402  bench/run.py: the standard library only, main() guarded

REPO = engine.REPO
log, free_port = engine.log, engine.free_port
ATTACKS = {
    "H": ["-H", "-i", "3"],
    "B": ["-B", "-t", "PUT", "-s", "8192", "-x", "10", "-i", "3"],
    "X": ["-X", "-k", "3", "-n", "1", "-w", "1", "-y", "512", "-z", "5"],
    "R": ["-R", "-a", "5", "-b", "2000"],
}
NAMES = {"H": "slowloris (-H)", "B": "slow body (-B)", "X": "slow read (-X)",
         "R": "range (-R)"}
PATHS = {"H": "/page.txt", "B": "/up/b.bin", "X": "/big.bin", "R": "/big.bin"}


def make_docroot(d):
    www = os.path.join(d, "www")
    os.makedirs(os.path.join(www, "up"), exist_ok=True)
    with open(os.path.join(www, "page.txt"), "w") as f:
        f.write("served meanwhile")
    with open(os.path.join(www, "big.bin"), "wb") as f:
        f.write(os.urandom(1 << 20))
    return www


def make_cert(d):
    cert, key = os.path.join(d, "c.pem"), os.path.join(d, "k.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:P-256", "-nodes", "-keyout", key, "-out", cert,
                    "-days", "2", "-subj", "/CN=127.0.0.1", "-addext",
                    "subjectAltName=IP:127.0.0.1"], check=True, capture_output=True)
    return cert, key


def start_httpfs(www, port, tls, d):
    args = [os.path.join(REPO, "build-release", "httpfs"), "-p", str(port), "-b", "127.0.0.1",
            "-d", www, "--access-log", "off", "--header-timeout", "5", "--body-timeout", "5",
            "--send-timeout", "10"]
    if tls:
        args += ["--tls-cert", tls[0], "--tls-key", tls[1]]
    return subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def start_nginx(www, port, tls, d):
    conf = os.path.join(d, "nginx.conf")
    listen = f"listen 127.0.0.1:{port}" + (" ssl" if tls else "") + ";"
    certs = f"ssl_certificate {tls[0]}; ssl_certificate_key {tls[1]};" if tls else ""
    with open(conf, "w") as f:
        f.write(engine.nginx_prelude(d) + f"""    {listen} {certs}
    root {www};
    client_header_timeout 5s; client_body_timeout 5s; send_timeout 10s;
    location /up/ {{ dav_methods PUT; client_body_temp_path {d}/body; }}
  }}
}}
""")
    return subprocess.Popen(["nginx", "-c", conf, "-p", d], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)


def wait_listening(port, proc):
    engine.wait_port(port, proc)


def proc_cpu_rss(pid):
    """CPU seconds (all threads) and RSS KiB of a process, from /proc."""
    with open(f"/proc/{pid}/stat") as f:
        parts = f.read().rsplit(")", 1)[1].split()
    cpu = (int(parts[11]) + int(parts[12])) / os.sysconf("SC_CLK_TCK")
    return cpu, engine.rss_kib(pid)


def one_get(port, tls):
    t0 = time.monotonic()
    try:
        if tls:
            ctx = ssl.create_default_context()
            ctx.check_hostname, ctx.verify_mode = False, ssl.CERT_NONE
            c = http.client.HTTPSConnection("127.0.0.1", port, timeout=10, context=ctx)
        else:
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        c.request("GET", "/page.txt")
        r = c.getresponse()
        ok = r.status == 200 and r.read() == b"served meanwhile"
        c.close()
    except OSError:
        ok = False
    return (time.monotonic() - t0) * 1000 if ok else None


def attack(server, scheme, name, seconds, www, d, tls):
    port = free_port()
    proc = (start_httpfs if server == "httpfs" else start_nginx)(www, port, tls, d)
    try:
        wait_listening(port, proc)
        cpu0, _ = proc_cpu_rss(proc.pid)
        prefix = os.path.join(d, f"{server}-{scheme}-{name}")
        tool = subprocess.Popen(
            ["slowhttptest"] + ATTACKS[name] +
            ["-c", "1000", "-r", "500", "-l", str(seconds), "-p", "3", "-g", "-o", prefix,
             "-u", f"{scheme}://127.0.0.1:{port}{PATHS[name]}"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        ms, failed, peak_rss = [], 0, 0
        while tool.poll() is None:
            t = one_get(port, tls)
            if t is None:
                failed += 1
            else:
                ms.append(t)
            peak_rss = max(peak_rss, proc_cpu_rss(proc.pid)[1])
            time.sleep(0.1)
        cpu1, _ = proc_cpu_rss(proc.pid)
        down = 0
        with open(prefix + ".csv") as f:
            for line in f.readlines()[1:]:
                down += line.strip().split(",")[-1] == "0"
        ms.sort()

        def pct(p):
            return ms[min(len(ms) - 1, int(p * len(ms)))] if ms else None
        return {"p50": pct(0.5), "p99": pct(0.99), "max": ms[-1] if ms else None,
                "gets": len(ms), "failed": failed, "down_s": down, "cpu_s": cpu1 - cpu0,
                "rss_mib": peak_rss / 1024}
    finally:
        proc.terminate()
        proc.wait(10)


def table(results, servers, schemes):
    lines = ["| attack | scheme | " + " | ".join(
        f"{s} p50 / p99 / max ms" for s in servers) + " | p99 httpfs/nginx | " +
        " | ".join(f"{s} CPU s, RSS MiB, probe down s, failed GETs" for s in servers) + " |",
        "|---|---|" + "---|" * (2 * len(servers) + 1)]
    for name in ATTACKS:
        for scheme in schemes:
            row = [results.get((s, scheme, name)) for s in servers]
            if not all(row):
                continue
            lat = [f"{r['p50']:.1f} / {r['p99']:.1f} / {r['max']:.1f}" if r["p99"] is not None
                   else "none answered" for r in row]
            h, n = row[0], row[-1]
            ratio = (f"{h['p99'] / n['p99']:.2f}x" if len(row) > 1 and h["p99"] and n["p99"]
                     else "-")
            cost = [f"{r['cpu_s']:.2f}, {r['rss_mib']:.0f}, {r['down_s']}, {r['failed']}"
                    for r in row]
            lines.append(f"| {NAMES[name]} | {scheme} | " + " | ".join(lat) + f" | {ratio} | " +
                         " | ".join(cost) + " |")
    return lines


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seconds", type=int, default=30, help="per attack (default 30)")
    ap.add_argument("--quick", action="store_true", help="10 s per attack, nothing written")
    ap.add_argument("--only", default="", help="attacks to run, e.g. X,R (default all)")
    ap.add_argument("--no-write", action="store_true", help="do not update RESULTS.md")
    args = ap.parse_args()
    seconds = 10 if args.quick else args.seconds
    names = [n for n in ATTACKS if not args.only or n in args.only.split(",")]
    servers, schemes = ["httpfs", "nginx"], ["http", "https"]
    t0 = time.time()
    results = {}
    with tempfile.TemporaryDirectory(prefix="httpfs-slowhttp-") as d:
        www = make_docroot(d)
        tls = make_cert(d)
        for name in names:
            for scheme in schemes:
                for server in servers:
                    log(f"{server} {scheme} {NAMES[name]} for {seconds} s")
                    r = attack(server, scheme, name, seconds, www, d,
                               tls if scheme == "https" else None)
                    results[(server, scheme, name)] = r
                    log(f"  p99 {r['p99']} ms, probe down {r['down_s']} s, "
                        f"{r['failed']} failed, CPU {r['cpu_s']:.2f} s")
    lines = [f"Generated by `bench/slowhttp{' --quick' if args.quick else ''}` on "
             f"{datetime.date.today()}: slowhttptest 1000 connections per attack, {seconds} s "
             f"at most (the tool stops once the server has closed every connection); one GET "
             f"of 16 bytes on a fresh connection every 100 ms meanwhile. Machine: "
             f"{os.cpu_count()} cores, Linux {platform.release()}; nothing pinned (the tool, "
             f"the client and the server share the cores). The whole run took "
             f"{time.time() - t0:.0f} s. Versions: {engine.nginx_v().splitlines()[0]}; "
             f"{subprocess.run(['slowhttptest', '-h'], capture_output=True, text=True).stdout.split('version')[-1].split()[0]} "
             "(slowhttptest).", "",
             "### Slow clients: slowhttptest at 1000 connections, a normal client meanwhile",
             "", "Both servers: header and body deadlines 5 s, send 10 s, one worker, access "
             "log off; httpfs's minimum body rate is its default (1024 B/s), nginx has none. "
             "Latency: one GET of 16 bytes on a fresh connection every 100 ms (python "
             "http.client; over HTTPS a full handshake each). CPU: the server's, over the "
             "attack; RSS: its peak. Probe down: seconds the tool's own probe went "
             "unanswered for 3 s.", ""] + table(results, servers, schemes)
    text = "\n".join(lines)
    print(text)
    if not args.quick and not args.no_write:
        path = os.path.join(BENCH, "RESULTS.md")
        with open(path) as f:
            md = f.read()
        md = engine.put_block(md, "<!-- bench/slowhttp: begin -->",
                              "<!-- bench/slowhttp: end -->", text)
        with open(path, "w") as f:
            f.write(md)
        log("bench/slowhttp: wrote its block in bench/RESULTS.md")


if __name__ == "__main__":
    main()
