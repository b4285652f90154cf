#!/usr/bin/python3
"""An HTTP/1.1 server on 127.0.0.1 that measures how many requests a client has in flight.

Each GET is held until `hold` requests wait together, or `total` have come in all and the rest
wait, or `patience` seconds pass; then it is answered with its own path as the body, keep-alive. The first line on stdout is the port; at the end (SIGTERM) the
last line is the largest number of requests that were in flight at once.

usage: barrier_server.py HOLD TOTAL PATIENCE
"""
import signal
import socket
import sys
import threading

hold, total, patience = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])
lock = threading.Condition()
in_flight = 0
seen = 0
most = 0


def serve(conn):
    global in_flight, seen, most
    buf = b""
    with conn:
        while True:
            while b"\r\n\r\n" not in buf:
                data = conn.recv(65536)
                if not data:
                    return
                buf += data
            head, buf = buf.split(b"\r\n\r\n", 1)
            path = head.split(b" ")[1]
            with lock:
                in_flight += 1
                seen += 1
                most = max(most, in_flight)
                lock.notify_all()
                lock.wait_for(lambda: in_flight >= hold or seen >= total, timeout=patience)
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(path), path))
            with lock:
                in_flight -= 1


def stop(*_):
    print(most, flush=True)
    sys.exit(0)


signal.signal(signal.SIGTERM, stop)
listener = socket.socket()
listener.bind(("127.0.0.1", 0))
listener.listen(64)
print(listener.getsockname()[1], flush=True)
while True:
    c, _ = listener.accept()
    threading.Thread(target=serve, args=(c,), daemon=True).start()
