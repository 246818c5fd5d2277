#!/usr/bin/env python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""A small TCP client for the rigs, whose kernel-side numbers are read with
getsockopt(TCP_INFO) on the very socket netprof tracks.

  tcpclient.py churn HOST PORT N        N HTTP/1.0 requests, one connection
                                        each; prints {"ok": n, "ports": [...]}
  tcpclient.py bulk HOST PORT BYTES RATE NETPROF
                                        send BYTES at about RATE bytes/s,
                                        wait until all is acknowledged, read
                                        TCP_INFO, then (socket still open) run
                                        NETPROF sockets --json --pid <self>;
                                        prints {"tcp_info": {...}, "netprof": ...}
"""
import json
import os
import socket
import struct
import subprocess
import sys
import time

TCP_INFO = 11


def tcp_info(s):
    raw = s.getsockopt(socket.IPPROTO_TCP, TCP_INFO, 232)
    # struct tcp_info: 8 bytes of u8 fields, then u32s from tcpi_rto on
    u32 = struct.unpack_from("<24I", raw, 8)
    names = ["rto", "ato", "snd_mss", "rcv_mss", "unacked", "sacked", "lost", "retrans",
             "fackets", "last_data_sent", "last_ack_sent", "last_data_recv",
             "last_ack_recv", "pmtu", "rcv_ssthresh", "rtt", "rttvar", "snd_ssthresh",
             "snd_cwnd", "advmss", "reordering", "rcv_rtt", "rcv_space", "total_retrans"]
    info = dict(zip(names, u32))
    # tcpi_min_rtt follows pacing_rate(8) max_pacing_rate(8) bytes_acked(8)
    # bytes_received(8) segs_out(4) segs_in(4) notsent_bytes(4): from offset 104
    info["bytes_acked"], info["bytes_received"] = struct.unpack_from("<QQ", raw, 120)
    info["segs_out"], info["segs_in"] = struct.unpack_from("<II", raw, 136)
    info["min_rtt"] = struct.unpack_from("<I", raw, 148)[0]
    return info


def churn(host, port, n):
    ok, ports = 0, []
    for _ in range(n):
        s = socket.create_connection((host, port), timeout=5)
        ports.append(s.getsockname()[1])
        s.sendall(b"GET / HTTP/1.0\r\n\r\n")
        while s.recv(65536):
            pass
        s.close()
        ok += 1
    print(json.dumps({"ok": ok, "pid": os.getpid(), "ports": ports}))


def bulk(host, port, total, rate, netprof):
    s = socket.create_connection((host, port), timeout=10)
    chunk = b"x" * 16384
    sent, t0 = 0, time.monotonic()
    while sent < total:
        s.sendall(chunk)
        sent += len(chunk)
        ahead = sent / rate - (time.monotonic() - t0)
        if ahead > 0:
            time.sleep(ahead)
    for _ in range(500):        # all data acknowledged: no retransmission pending
        info = tcp_info(s)
        if info["unacked"] == 0:
            break
        time.sleep(0.02)
    info = tcp_info(s)
    out = subprocess.run([netprof, "sockets", "--json", "--pid", str(os.getpid())],
                         capture_output=True, text=True)
    print(json.dumps({"local_port": s.getsockname()[1], "tcp_info": info,
                      "netprof": json.loads(out.stdout) if out.returncode == 0 else out.stderr}))
    s.close()


if __name__ == "__main__":
    if sys.argv[1] == "churn":
        churn(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))
    else:
        bulk(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), float(sys.argv[5]), sys.argv[6])
