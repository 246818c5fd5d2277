#!/bin/bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#
# TCP socket tracking, proven against what the processes and the kernel
# themselves say.
#
#   netns $P-c  10.200.0.1 --veth-- 10.200.0.2  netns $P-s
#   curl, tests/lib/tcpclient.py              nginx (master + 1 worker) :80
#                                             python3 http.server       :8080
#                                             socat sink                 :9000
#
# Every process runs in the run's test cgroup ($CG); netprofd tracks that
# cgroup (never the root). Ground truth: the pids the test started (and
# nginx's own worker pid), nginx's access log, the client's own count, and
# the kernel's getsockopt(TCP_INFO) on the very socket.

. "$(dirname "$0")/lib.sh"

rig() {
	veth_pair "$P-c" cli 10.200.0.1 "$P-s" srv 10.200.0.2 fd00:200::1 fd00:200::2
	chmod 755 "$WORK"	# nginx workers run as nobody
	mkdir -p "$WORK/www" && echo hello >"$WORK/www/index.html"
	rm -f "$WORK/access.log"
	cat >"$WORK/nginx.conf" <<-CONF
	worker_processes 1;
	daemon off;
	master_process on;
	pid $WORK/nginx.pid;
	error_log $WORK/nginx-error.log;
	events { worker_connections 1024; }
	http {
		log_format sizes '\$remote_addr \$remote_port \$request_length \$bytes_sent';
		access_log $WORK/access.log sizes;
		client_body_temp_path $WORK/tmp;
		proxy_temp_path $WORK/tmp;
		fastcgi_temp_path $WORK/tmp;
		uwsgi_temp_path $WORK/tmp;
		scgi_temp_path $WORK/tmp;
		server { listen 10.200.0.2:80; listen [fd00:200::2]:80; root $WORK/www; }
	}
	CONF
	mkdir -p "$WORK/tmp"
	[ -n "$BEFORE_NETPROFD" ] && { $BEFORE_NETPROFD || return 1; }
	start_netprofd "$WORK/d.log" --netns "$P-c" --netns "$P-s" $NETPROFD_ARGS || return 1
	need_cap sockets "owners do not follow" "resets" ${BEFORE_NETPROFD:+"from before netprofd"} ||
		return 1
	start_bg "$P-s" nginx -c "$WORK/nginx.conf" -e "$WORK/nginx-error.log"
	NGINX_MASTER=$LAST_PID
	start_bg "$P-s" python3 -m http.server 8080 --bind 10.200.0.2 --directory "$WORK/www"
	PYTHON_PID=$LAST_PID
	wait_port "$P-s" 80 && wait_port "$P-s" 8080 || { cat "$WORK"/bg.*.log "$WORK/nginx-error.log" >&2; return 1; }
	NGINX_WORKER=$(pgrep -P "$NGINX_MASTER" nginx)
	[ -n "$NGINX_WORKER" ] || { fail "no nginx worker"; return 1; }
}

# A connection made before netprofd starts: a socat server that forks a
# child per connection, and a python client that, once told, sends 10 kB
# and writes the kernel's tcpi_bytes_acked for its socket.
old_connection() {
	start_bg "$P-s" socat -u TCP-LISTEN:9001,fork,reuseaddr OPEN:/dev/null
	OLD_SERVER=$LAST_PID
	wait_port "$P-s" 9001 || return 1
	in_cg_bg "$P-c" python3 -c '
import socket, struct, sys, time, os
s = socket.create_connection(("10.200.0.2", 9001))
while not os.path.exists(sys.argv[1]): time.sleep(0.05)
s.sendall(b"x" * 10000)
while struct.unpack_from("<I", s.getsockopt(6, 11, 232), 8 + 4 * 4)[0]: time.sleep(0.02)
open(sys.argv[2], "w").write(str(struct.unpack_from("<Q", s.getsockopt(6, 11, 232), 120)[0]))
time.sleep(60)' "$WORK/go" "$WORK/acked"
	OLD_CLIENT=$LAST_PID
	PIDS+=("$OLD_CLIENT")
	for i in $(seq 50); do
		ip netns exec "$P-s" ss -Htn state established "sport = :9001" | grep -q . && break
		sleep 0.05
	done
	OLD_CHILD=$(pgrep -P "$OLD_SERVER")
	[ -n "$OLD_CHILD" ] || fail "socat did not fork for the old connection"
}

test_pid_attribution() {
	local pids=() p i
	BEFORE_NETPROFD=old_connection rig || return 1
	touch "$WORK/go"
	for i in $(seq 100); do [ -s "$WORK/acked" ] && break; sleep 0.05; done
	for i in 1 2 3; do
		in_cg_bg "$P-c" curl -sf -o /dev/null http://10.200.0.2/
		pids+=("curl:$LAST_PID:80")
	done
	in_cg_bg "$P-c" curl -sf -g -o /dev/null "http://[fd00:200::2]/"
	pids+=("curl:$LAST_PID:80")
	for i in 1 2; do
		in_cg_bg "$P-c" curl -sf -o /dev/null http://10.200.0.2:8080/
		pids+=("curl:$LAST_PID:8080")
	done
	for p in "${pids[@]}"; do
		p=${p#*:}
		wait "${p%%:*}" || { fail "curl ${p%%:*} failed"; cat "$WORK/nginx-error.log" >&2; return 1; }
	done
	sleep 0.3
	# the old connection's receiving end as the kernel counts it
	ip netns exec "$P-s" ss -Htin state established "sport = :9001" >"$WORK/old_srv.ss"
	wait_sweep || return 1	# the old connection's counters: as of a pass
	"$NETPROF" sockets --json >"$WORK/socks.json" || return 1
	# flows name the process at their local end: on srv, nginx's worker
	"$NETPROF" flows --json --netns "$P-s" -i srv 'tcp port 80' >"$WORK/flows.json" || return 1
	python3 - "$WORK/flows.json" "$NGINX_WORKER" "/netprof-test-$$" <<'PY' || return 1
import json, sys
flows = json.load(open(sys.argv[1]))["flows"]
worker, cgroup = int(sys.argv[2]), sys.argv[3]
# one flow per connection; a late segment after the sweep ended a flow (seen
# under emulation) starts a second record of the same connection
assert len({f["src_port"] for f in flows}) == 4, f"{len(flows)} flows to port 80 on srv"
for f in flows:
    d, s = f["dst_process"], f["src_process"]
    assert d and d["pid"] == worker and d["comm"] == "nginx" and d["cgroup"] == cgroup, f
    assert s is None, f"the client's socket is in another namespace: {s}"
PY
	python3 - "$WORK/socks.json" "$NGINX_WORKER" "$PYTHON_PID" "/netprof-test-$$" \
		"$OLD_CLIENT" "$OLD_CHILD" "$(cat "$WORK/acked")" "$WORK/old_srv.ss" "${pids[@]}" <<'PY'
import json, re, sys
socks = json.load(open(sys.argv[1]))["sockets"]
worker, python, cgroup = int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
old_client, old_child, old_acked = int(sys.argv[5]), int(sys.argv[6]), int(sys.argv[7])
old_received = int(re.search(r"bytes_received:(\d+)", open(sys.argv[8]).read()).group(1))
clients = [(c.split(":")[0], int(c.split(":")[1].split(":")[0]), int(c.split(":")[2])) for c in sys.argv[9:]]
errors = []
# the connection that predates netprofd: both ends, owners, and kept current since
old = [s for s in socks if 9001 in (s["local_port"], s["remote_port"])]
oc = [s for s in old if s["role"] == "client"]
os_ = [s for s in old if s["role"] == "server"]
if len(oc) != 1 or oc[0]["pid"] != old_client or oc[0]["comm"] != "python3" or not oc[0]["existed_before_netprofd"]:
    errors.append(f"old client socket: {oc}")
elif oc[0]["bytes_acked"] != old_acked:
    errors.append(f"old client bytes_acked {oc[0]['bytes_acked']}, kernel {old_acked}")
if len(os_) != 1 or os_[0]["pid"] != old_child or os_[0]["comm"] != "socat":
    errors.append(f"old server socket: {os_} (socat child {old_child})")
elif os_[0]["bytes_received"] != old_received:
    # a pure receiver has no RTT samples: only the daemon's pass refreshes it
    errors.append(f"old server bytes_received {os_[0]['bytes_received']}, kernel {old_received}")
socks = [s for s in socks if s not in old]
for comm, pid, port in clients:
    mine = [s for s in socks if s["role"] == "client" and s["pid"] == pid]
    if len(mine) != 1 or mine[0]["comm"] != comm or mine[0]["remote_port"] != port:
        errors.append(f"client {comm}[{pid}] -> :{port}: {mine}")
    # named at connect(), not later by its first I/O
    elif mine[0]["owner_source"] != "create":
        errors.append(f"client {comm}[{pid}] named by {mine[0]['owner_source']}, not at connect()")
for port, pid, comm, n in ((80, worker, "nginx", 4), (8080, python, "python3", 2)):
    srv = [s for s in socks if s["role"] == "server" and s["local_port"] == port]
    if len(srv) != n:
        errors.append(f"{n} server sockets expected on :{port}, got {len(srv)}")
    for s in srv:
        if s["pid"] != pid or s["comm"] != comm:
            errors.append(f"server socket on :{port} owned by {s['comm']}[{s['pid']}], want {comm}[{pid}]")
        # python listens and reads itself: named from listen(), kept by its I/O
        elif port == 8080 and s["owner_source"] != "create":
            errors.append(f"server socket on :8080 named by {s['owner_source']}, not at listen()")
for s in socks:
    if s["pid"] == 0 or s["cgroup"] != cgroup:
        errors.append(f"socket {s['local']}:{s['local_port']} pid {s['pid']} cgroup {s['cgroup']}")
    if s["state"] != "CLOSED" or s["end_reason"] != "fin":
        errors.append(f"socket {s['local_port']}->{s['remote_port']}: {s['state']} {s['end_reason']}")
for e in errors:
    print("  " + e)
print(f"  {len(socks)} sockets: clients by curl pid, nginx worker {worker}, python {python}")
sys.exit(1 if errors else 0)
PY
}

# 1000 connections opened and closed as fast as the client can: every one
# is in the table, on both ends, whether or not a sweep saw it open.
test_short_connections() {
	rig || return 1
	in_cg "$P-c" python3 "$ROOT/tests/lib/tcpclient.py" churn 10.200.0.2 80 1000 >"$WORK/churn.json" || return 1
	sleep 0.5
	"$NETPROF" sockets --json -S closed >"$WORK/socks.json" || return 1
	python3 - "$WORK/socks.json" "$WORK/churn.json" "$WORK/access.log" "$NGINX_WORKER" <<'PY'
import json, sys
socks = json.load(open(sys.argv[1]))["sockets"]
churn = json.load(open(sys.argv[2]))
served = sum(1 for _ in open(sys.argv[3]))
worker = int(sys.argv[4])
client = {s["local_port"] for s in socks if s["role"] == "client" and s["pid"] == churn["pid"]}
server = {s["remote_port"] for s in socks if s["role"] == "server" and s["pid"] == worker}
want = set(churn["ports"])
assert churn["ok"] == 1000 and served == 1000, f"client {churn['ok']}, nginx log {served}"
assert client == want, f"client sockets: {len(client)} of {len(want)}"
assert server == want, f"server sockets: {len(server)} of {len(want)}"
print(f"  1000 connections: {len(client)} client and {len(server)} server sockets, nginx logged {served}")
PY
}

# More connections close than the closed-socket ring holds (--max-sockets
# 256): the newest 256 stay visible, and every overwritten one is counted,
# against the connections the client made and nginx logged.
test_closed_overflow() {
	NETPROFD_ARGS="--max-sockets 256" rig || return 1
	in_cg "$P-c" python3 "$ROOT/tests/lib/tcpclient.py" churn 10.200.0.2 80 1000 >"$WORK/churn.json" || return 1
	sleep 0.5
	"$NETPROF" sockets --json -S closed >"$WORK/socks.json" &&
	"$NETPROF" status --json >"$WORK/status.json" || return 1
	python3 - "$WORK/socks.json" "$WORK/status.json" "$WORK/churn.json" "$WORK/access.log" <<'PY'
import json, sys
socks = json.load(open(sys.argv[1]))["sockets"]
c = json.load(open(sys.argv[2]))["counters"]
churn = json.load(open(sys.argv[3]))
served = sum(1 for _ in open(sys.argv[4]))
assert churn["ok"] == 1000 and served == 1000, f"client {churn['ok']}, nginx log {served}"
ends = 2 * churn["ok"]		# a client and a server socket per connection
assert c["sockets_closed"] == ends, f"sockets_closed {c['sockets_closed']}, want {ends}"
assert len(socks) == 256, f"{len(socks)} closed sockets shown, ring holds 256"
assert c["closed_sockets_dropped"] == ends - 256, c
# every connection is the same request and answer: nginx's log says what
# the payload is (the request's length and the bytes it sent). Every
# record carries it (without SYN and FIN: a server whose FIN was acked
# alone leaves FIN_WAIT2 for a time-wait socket before the client's FIN
# arrives, so bytes_received may hold the peer's FIN or not), and what
# is not kept was dropped with its payload.
log = [l.split() for l in open(sys.argv[4]) if l.strip()]
assert log and all(len(l) == 4 for l in log), (len(log), open(sys.argv[4]).read()[:200])
truth = {(int(l[-2]), int(l[-1])) for l in log}
assert len(truth) == 1, truth
req, ans = truth.pop()
for s in socks:
    sent, recv = (req, ans) if s["role"] == "client" else (ans, req)
    assert (s["payload_sent"], s["payload_received"]) == (sent, recv), (s, req, ans)
kept = sum(s["payload_sent"] + s["payload_received"] for s in socks)
want = churn["ok"] * 2 * (req + ans) - kept
assert c["closed_sockets_dropped_bytes"] == want, \
    f"dropped bytes {c['closed_sockets_dropped_bytes']}, want {want}"
print(f"  {ends} sockets closed: 256 kept, {c['closed_sockets_dropped']} counted as dropped "
      f"with their {c['closed_sockets_dropped_bytes']} bytes")
PY
}

# A full socket table counts each socket it could not take once, as
# socket_table_full, and never also as a socket without owner (issue 19:
# 12; seen to fail: every client socket counted twice, once at connect()
# and again when established). Ground truth: ss's established sockets on
# both ends, the sockets netprof shows.
test_socket_table_full() {
	local i
	NETPROFD_ARGS="--max-sockets 16" rig || return 1
	in_cg_bg "$P-c" python3 -c '
import socket, time
s = [socket.create_connection(("10.200.0.2", 80)) for _ in range(40)]
print(len(s), flush=True)
time.sleep(30)' >"$WORK/held"
	PIDS+=("$LAST_PID")
	for i in $(seq 50); do [ -s "$WORK/held" ] && break; sleep 0.1; done
	[ "$(cat "$WORK/held")" = 40 ] || { fail "the client did not open 40 connections"; return 1; }
	wait_sweep || return 1
	ip netns exec "$P-c" ss -Htn state established "dport = :80" >"$WORK/ss.c"
	ip netns exec "$P-s" ss -Htn state established "sport = :80" >"$WORK/ss.s"
	"$NETPROF" sockets --json >"$WORK/socks.json" && "$NETPROF" status --json >"$WORK/status.json" ||
		return 1
	python3 - "$WORK/ss.c" "$WORK/ss.s" "$WORK/socks.json" "$WORK/status.json" <<'PY'
import json, sys
ends = sum(1 for l in open(sys.argv[1]) if l.strip()) + sum(1 for l in open(sys.argv[2]) if l.strip())
socks = [s for s in json.load(open(sys.argv[3]))["sockets"] if 80 in (s["local_port"], s["remote_port"])]
c = json.load(open(sys.argv[4]))["counters"]
assert ends == 80, f"ss shows {ends} established ends, want 80"
assert len(socks) <= 16, f"{len(socks)} sockets shown with a table of 16"
assert c["socket_table_full"] == ends - len(socks), \
    f"socket_table_full {c['socket_table_full']}, want {ends} - {len(socks)} shown = {ends - len(socks)}"
assert c["sockets_without_owner"] == 0, f"sockets_without_owner {c['sockets_without_owner']}"
print(f"  {ends} ends: {len(socks)} recorded, {c['socket_table_full']} counted once each as socket_table_full, none blamed on owners")
PY
}

# Deterministic loss (every 25th TCP packet the server namespace receives
# is dropped) on a rate-limited transfer: netprof's retransmit count for
# the socket equals the kernel's tcpi_total_retrans for it.
test_retransmits() {
	rig || return 1
	ip netns exec "$P-s" nft -f - <<-NFT || return 1
	table inet nptest {
		chain pre {
			type filter hook prerouting priority -300;
			tcp dport 9000 numgen inc mod 25 == 0 drop
		}
	}
	NFT
	start_bg "$P-s" socat -u TCP-LISTEN:9000,reuseaddr OPEN:/dev/null
	wait_port "$P-s" 9000 || return 1
	in_cg "$P-c" python3 "$ROOT/tests/lib/tcpclient.py" bulk 10.200.0.2 9000 3000000 4000000 \
		"$NETPROF" >"$WORK/bulk.json" || return 1
	python3 - "$WORK/bulk.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
ti = d["tcp_info"]
socks = [s for s in d["netprof"]["sockets"] if s["local_port"] == d["local_port"]]
assert len(socks) == 1, socks
s = socks[0]
print(f"  kernel: total_retrans {ti['total_retrans']}, bytes_acked {ti['bytes_acked']}; "
      f"netprof: total_retrans {s['total_retrans']}, bytes_acked {s['bytes_acked']}")
assert ti["total_retrans"] > 0, "the drop rule caused no retransmission"
assert s["total_retrans"] == ti["total_retrans"], "retransmits differ"
PY
}

# A known delay on the path (delay_rig: 10 ms each way, 10.202.0.1 -> .2).
# netprof's srtt must be within 10% of the kernel's tcpi_rtt for the socket,
# and its min RTT within 10% of the configured 20 ms. 5 s of traffic: the
# per-ACK RTT samples start at netprofd's first pass after the handshake.
test_rtt_delay() {
	delay_rig 10.202.0 || return 1
	start_netprofd "$WORK/d.log" --netns "$P-c" --netns "$P-s" $NETPROFD_ARGS || return 1
	need_cap sockets "owners do not follow" "counters are read only" || return 1
	start_bg "$P-s" socat -u TCP-LISTEN:9000,reuseaddr OPEN:/dev/null
	wait_port "$P-s" 9000 || return 1
	in_cg "$P-c" python3 "$ROOT/tests/lib/tcpclient.py" bulk 10.202.0.2 9000 300000 60000 \
		"$NETPROF" >"$WORK/bulk.json" || return 1
	python3 - "$WORK/bulk.json" <<'PY'
import json, os, sys
d = json.load(open(sys.argv[1]))
ti = d["tcp_info"]
s = [x for x in d["netprof"]["sockets"] if x["local_port"] == d["local_port"]]
assert len(s) == 1, s
s = s[0]
print(f"  kernel: rtt {ti['rtt']} µs, min_rtt {ti['min_rtt']} µs; netprof: srtt {s['srtt_us']} µs, "
      f"min {s['min_rtt_us']} µs, p50 {s['rtt_p50_us']:.0f} µs over {s['rtt_samples']} samples")
assert abs(s["srtt_us"] - ti["rtt"]) <= 0.10 * ti["rtt"], "srtt differs from the kernel's by more than 10%"
# the rig's own delay (emulation adds its own: 10% of it per SLOW)
slow = int(os.environ.get("NP_SLOW", "1"))
assert abs(s["min_rtt_us"] - 20000) <= 2000 * slow, "min RTT is not within 10% of the 20 ms delay"
# the histogram's median (a log2 bucket's middle) near the delay, or near
# the kernel's own srtt where emulation adds to it
hi = max(20000, ti["rtt"]) * 1.5
assert s["rtt_samples"] >= 10 and 20000 / 1.5 <= s["rtt_p50_us"] <= hi, "RTT histogram"
PY
}

# Open connections in states no callback reports (the close is the only
# state change netprof takes from the kernel as it happens): a server that
# shuts its side down leaves the client in CLOSE-WAIT and itself in
# FIN-WAIT-2, a third connection stays established. Within two sweeps
# every one of them shows the state ss reads from the kernel, on both ends,
# and --state selects it.
test_open_states() {
	rig || return 1
	# the states of open connections come from the sweep's pass
	need_cap sockets "counters are read only" || return 1
	start_bg "$P-s" python3 -c '
import socket, time
l = socket.create_server(("10.200.0.2", 9003))
a, _ = l.accept()
b, _ = l.accept()
a.shutdown(socket.SHUT_WR)
time.sleep(60)'
	wait_port "$P-s" 9003 || return 1
	in_cg_bg "$P-c" python3 -c '
import socket, time
a = socket.create_connection(("10.200.0.2", 9003))
time.sleep(0.3)
b = socket.create_connection(("10.200.0.2", 9003))
time.sleep(60)'
	PIDS+=("$LAST_PID")
	for i in $(seq 50); do
		[ "$(ip netns exec "$P-c" ss -Htn state close-wait "dport = :9003" | wc -l)" = 1 ] && break
		sleep 0.1
	done
	wait_sweep && wait_sweep && wait_sweep || return 1
	"$NETPROF" sockets --json -S open port 9003 >"$WORK/socks.json" &&
	"$NETPROF" sockets --json -S close-wait >"$WORK/cw.json" || return 1
	{ ip netns exec "$P-c" ss -Htn "dport = :9003"; ip netns exec "$P-s" ss -Htn "sport = :9003"; } >"$WORK/ss.txt"
	python3 - "$WORK/socks.json" "$WORK/cw.json" "$WORK/ss.txt" <<'PY'
import json, sys
socks = json.load(open(sys.argv[1]))["sockets"]
cw = json.load(open(sys.argv[2]))["sockets"]
kernel = {}
for line in open(sys.argv[3]):
    f = line.split()
    state, local, peer = f[0], f[3], f[4]
    kernel[(int(local.rsplit(":", 1)[1]), int(peer.rsplit(":", 1)[1]))] = state
ours = {(s["local_port"], s["remote_port"]): s["state"] for s in socks}
print(f"  kernel: {sorted(kernel.values())}; netprof: {sorted(ours.values())}")
assert len(kernel) == 4 and sorted(kernel.values()) == ["CLOSE-WAIT", "ESTAB", "ESTAB", "FIN-WAIT-2"], kernel
assert ours == kernel, f"netprof {ours}, ss {kernel}"
assert [(s["local_port"], s["remote_port"]) for s in cw] == [k for k, v in kernel.items() if v == "CLOSE-WAIT"], cw
PY
}

# netprofd --keep, stopped, restarted: connections made before, during the
# gap and after are all recorded with their pids, and the restarted daemon
# updated its cgroup link in place (one sockops program on the cgroup).
test_restart_keeps_tracking() {
	local pids=() p
	rig || return 1
	stop_netprofd
	start_netprofd "$WORK/d1.log" --keep --netns "$P-c" --netns "$P-s" || return 1
	in_cg_bg "$P-c" curl -sf -o /dev/null http://10.200.0.2:8080/; pids+=("$LAST_PID")
	wait "$LAST_PID" || return 1
	stop_netprofd
	in_cg_bg "$P-c" curl -sf -o /dev/null http://10.200.0.2:8080/; pids+=("$LAST_PID")
	wait "$LAST_PID" || return 1
	start_netprofd "$WORK/d2.log" --netns "$P-c" --netns "$P-s" || return 1
	grep -q "adopted TCP socket tracking" "$WORK/d2.log" || { cat "$WORK/d2.log" >&2; fail "not adopted"; return 1; }
	in_cg_bg "$P-c" curl -sf -o /dev/null http://10.200.0.2:8080/; pids+=("$LAST_PID")
	wait "$LAST_PID" || return 1
	sleep 0.3
	# the kernel's links on the test cgroup (bpftool cgroup show lists
	# no link-attached program on 5.10), and its attachment list
	p=$(bpftool -j link show | python3 -c '
import json, sys
print(sum(1 for l in json.load(sys.stdin)
          if l.get("attach_type") == "cgroup_sock_ops" and l.get("cgroup_id") == int(sys.argv[1])))' \
		"$(stat -c %i "$CG")")
	[ "$p" = 1 ] || { bpftool link show >&2; fail "$p sock_ops links on the test cgroup, want 1"; return 1; }
	p=$(bpftool cgroup show "$CG" | grep -c sock_ops)
	[ "$p" -le 1 ] || { bpftool cgroup show "$CG" >&2; fail "sock_ops attached $p times, want once"; return 1; }
	"$NETPROF" sockets --json >"$WORK/socks.json" || return 1
	for p in "${pids[@]}"; do
		python3 -c '
import json, sys
s = [x for x in json.load(open(sys.argv[1]))["sockets"] if x["pid"] == int(sys.argv[2]) and x["role"] == "client"]
assert len(s) == 1 and s[0]["comm"] == "curl" and s[0]["end_reason"] == "fin", s' "$WORK/socks.json" "$p" ||
			{ fail "curl $p not recorded"; return 1; }
	done
	echo "  3 connections (before, during and after the restart) recorded"
}

run_tests ${TESTS:-test_pid_attribution test_short_connections test_closed_overflow test_socket_table_full test_retransmits test_rtt_delay \
	test_open_states test_restart_keeps_tracking}
