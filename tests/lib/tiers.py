#!/usr/bin/env python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""The application tier and the load generator of the service-map rig.

  tiers.py app ADDR PORT REDIS_ADDR REDIS_PORT LOG
        an HTTP/1.0 server: each request opens a new connection to redis,
        INCRs a counter and answers with it; GET /reset instead closes the
        client's connection with a reset (SO_LINGER 0). Appends one line
        per accepted connection to LOG ("conn" or "reset"), its own ground
        truth.
  tiers.py load ADDR PORT N REFUSED_PORT
        N requests to http://ADDR:PORT/, one connection each, then one
        GET /reset, then one connection to REFUSED_PORT (nothing listens
        there); prints {"ok": n, "reset_status": s, "refused": 0|1}
        (s: the proxy's status, or -1 when the reset reached the client).
"""
import json
import socket
import struct
import sys


def redis_incr(addr, port):
    with socket.create_connection((addr, port)) as r:
        r.sendall(b"*2\r\n$4\r\nINCR\r\n$4\r\nhits\r\n")
        reply = r.recv(64)
    if not reply.startswith(b":"):
        raise RuntimeError(f"redis answered {reply!r}")
    return int(reply[1:].split(b"\r\n")[0])


def read_request(c):
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = c.recv(4096)
        if not chunk:
            break
        data += chunk
    return data


def app(addr, port, raddr, rport, log):
    srv = socket.socket()
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind((addr, int(port)))
    srv.listen(128)
    with open(log, "a", buffering=1) as out:
        while True:
            c, _ = srv.accept()
            req = read_request(c)
            if req.startswith(b"GET /reset"):
                c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                c.close()
                out.write("reset\n")
                continue
            n = redis_incr(raddr, int(rport))
            body = f"{n}\n".encode()
            c.sendall(b"HTTP/1.0 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body))
            c.close()
            out.write("conn\n")


def get(addr, port, path):
    with socket.create_connection((addr, port)) as s:
        s.sendall(f"GET {path} HTTP/1.0\r\nHost: {addr}\r\n\r\n".encode())
        data = b""
        while True:
            try:
                chunk = s.recv(65536)
            except ConnectionResetError:    # /reset without a proxy in front
                return -1
            if not chunk:
                break
            data += chunk
    return int(data.split(b" ", 2)[1]) if data else 0


def load(addr, port, n, refused_port):
    port, ok = int(port), 0
    for _ in range(int(n)):
        ok += get(addr, port, "/") == 200
    reset_status = get(addr, port, "/reset")
    refused = 0
    try:
        socket.create_connection((addr, int(refused_port))).close()
    except ConnectionRefusedError:
        refused = 1
    print(json.dumps({"ok": ok, "reset_status": reset_status, "refused": refused}))


if __name__ == "__main__":
    {"app": app, "load": load}[sys.argv[1]](*sys.argv[2:])
