#!/usr/bin/env python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""
A hostile local user against netprofd's /metrics while a scraper scrapes.

  httphold.py HOST PORT HOLD SCRAPES

Opens HOLD connections that never finish a request (half send nothing,
half a request line and then nothing), plus one that sends a request with
a NUL byte in a header; then scrapes /metrics SCRAPES times, one after the
other, with a 2 s timeout each, while the others stay open. Then it waits
for the server's request deadline and reads what became of each held
connection. Prints one JSON object:

  scrapes_ok, scrape_ms (each), nul_status (the answer's status line or
  null), held, held_closed (closed by the server, as each saw it),
  dropped (the endpoint's netprof_http_dropped_total by reason, scraped
  last)
"""
import json
import select
import socket
import sys
import time


def scrape(host, port, timeout=2.0):
    t = time.monotonic()
    s = socket.create_connection((host, port), timeout=timeout)
    s.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")
    data = b""
    while True:
        chunk = s.recv(65536)
        if not chunk:
            break
        data += chunk
    s.close()
    return data, (time.monotonic() - t) * 1000


def main():
    host, port, hold, scrapes = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
    held = []
    for i in range(hold):
        s = socket.create_connection((host, port), timeout=2)
        if i % 2:
            s.sendall(b"GET /metrics HTTP/1.1\r\n")
        held.append(s)
    nul = socket.create_connection((host, port), timeout=2)
    nul.sendall(b"GET /metrics HTTP/1.1\r\nX-A: a\x00b\r\n\r\n")
    try:
        nul_status = nul.recv(4096).split(b"\r\n")[0].decode() or None
    except OSError:
        nul_status = None
    nul.close()
    ok, ms = 0, []
    for _ in range(scrapes):
        try:
            data, t = scrape(host, port)
        except OSError:
            continue
        if data.startswith(b"HTTP/1.1 200") and b"\nnetprof_build_info{" in data:
            ok += 1
            ms.append(round(t, 2))
    # the server's request deadline is 2 s from accept; wait past it
    deadline = time.monotonic() + 4
    closed = 0
    pending = list(held)
    while pending and time.monotonic() < deadline:
        r, _, _ = select.select(pending, [], [], 0.2)
        for s in r:
            try:
                if s.recv(4096) == b"":
                    closed += 1
            except OSError:
                closed += 1
            pending.remove(s)
    for s in held:
        s.close()
    data, _ = scrape(host, port)
    dropped = {}
    for line in data.decode().splitlines():
        if line.startswith("netprof_http_dropped_total{"):
            reason = line.split('reason="')[1].split('"')[0]
            dropped[reason] = int(float(line.rsplit(" ", 1)[1]))
    print(json.dumps({"scrapes_ok": ok, "scrape_ms": ms, "nul_status": nul_status,
                      "held": hold, "held_closed": closed, "dropped": dropped}))


main()
