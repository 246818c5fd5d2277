#!/usr/bin/env python3
"""TCP traffic with a known shape, for the latency tests.

Request/response where the server sleeps before each read:
  tcpwork.py server PORT SLEEP_MS LOG        accept one connection; for each
                                             request: sleep, read it, answer;
                                             LOG gets one line per request
                                             with the sleep it really took (ns)
  tcpwork.py client HOST PORT COUNT [NETPROF]
                                             COUNT requests of 100 bytes, each
                                             after the previous answer; with
                                             NETPROF, before closing, print
                                             {"tcp_info": {"rtt": µs},
                                              "latency": netprof latency --json}
The sleep the server measures itself is the test's ground truth for how long
requests wait in its socket's receive queue.

One bulk connection (the server: socat -u TCP-LISTEN:PORT OPEN:/dev/null):
  tcpwork.py pour HOST PORT SECONDS [NETPROF]
                                             write as fast as TCP takes it for
                                             SECONDS; with NETPROF, print the
                                             same JSON as client before closing
  tcpwork.py sent HOST PORT SECONDS          pour, close the sending side, wait
                                             for the server's close; print
                                             {"local_port", "segs_out"} (the
                                             kernel's count of segments sent)
"""
import json
import socket
import subprocess
import sys
import time

from tcpclient import tcp_info


def server(port, sleep_ms, log):
    ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("0.0.0.0", port))
    ls.listen(4)
    c, _ = ls.accept()
    with open(log, "w") as out:
        while True:
            # ACK at once: a delayed ACK would add the sleep to the client's RTT
            c.setsockopt(socket.IPPROTO_TCP, socket.TCP_QUICKACK, 1)
            t0 = time.monotonic_ns()
            time.sleep(sleep_ms / 1000)
            slept = time.monotonic_ns() - t0
            data = c.recv(4096)
            if not data:
                break
            c.sendall(b"r" * 100)
            out.write(f"{slept}\n")
            out.flush()


def report(s, netprof):
    """tcp_info's RTT and what netprof says about this connection, as JSON"""
    rtt = tcp_info(s)["rtt"]     # µs
    lport = s.getsockname()[1]
    out = subprocess.run([netprof, "latency", "--json", f"port {lport}"],
                         capture_output=True, text=True, check=True)
    print(json.dumps({"local_port": lport, "tcp_info": {"rtt": rtt},
                      "latency": json.loads(out.stdout)}))


def pour_into(host, port, seconds):
    """a connection, and SECONDS of writes as fast as TCP takes them"""
    s = socket.create_connection((host, port), timeout=30)
    chunk = b"b" * (1 << 16)
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        s.sendall(chunk)
    return s


def pour(host, port, seconds, netprof=None):
    s = pour_into(host, port, seconds)
    if netprof:
        report(s, netprof)
    s.close()


def sent(host, port, seconds):
    """pour, then close the sending side and wait for the server's close:
    every segment this socket will send is sent; print the kernel's count"""
    s = pour_into(host, port, seconds)
    s.shutdown(socket.SHUT_WR)
    while s.recv(65536):
        pass
    info = tcp_info(s)
    print(json.dumps({"local_port": s.getsockname()[1], "segs_out": info["segs_out"],
                      "total_retrans": info["total_retrans"]}))
    s.close()


def client(host, port, count, netprof=None):
    s = socket.create_connection((host, port), timeout=30)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    for _ in range(count):
        s.sendall(b"q" * 100)
        got = 0
        while got < 100:
            d = s.recv(4096)
            if not d:
                sys.exit("server closed early")
            got += len(d)
    if netprof:
        report(s, netprof)
    s.close()


if __name__ == "__main__":
    if sys.argv[1] == "server":
        server(int(sys.argv[2]), float(sys.argv[3]), sys.argv[4])
    elif sys.argv[1] == "sent":
        sent(sys.argv[2], int(sys.argv[3]), float(sys.argv[4]))
    elif sys.argv[1] == "pour":
        pour(sys.argv[2], int(sys.argv[3]), float(sys.argv[4]),
             sys.argv[5] if len(sys.argv) > 5 else None)
    else:
        client(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]),
               sys.argv[5] if len(sys.argv) > 5 else None)
