#!/bin/bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#
# Soak: short HTTP connections to nginx at a steady rate for a long time
# (default 200 connections/s for 10 minutes), netprofd following the
# server's namespace with its default tables, then the books: every packet
# and byte nft counted on the server's interface is in a flow `netprof
# flows` shows, or counted with its packets and bytes as dropped from a
# full ended-flow table, pruned after --keep-ended, or refused by a full
# flow table. Also printed: netprofd's CPU time and memory at the end.
#
#   netns $P-c cli 10.230.0.1  ---  srv 10.230.0.2 netns $P-s (nginx :80)
#
# Usage: bench/soak.sh [RATE] [SECONDS]   (issue 19's figure: 200 600)

. "$(dirname "$0")/../tests/netns/lib.sh"
RATE=${1:-200}
SECS=${2:-600}

mount_bpffs
veth_pair "$P-c" cli 10.230.0.1 "$P-s" srv 10.230.0.2 || exit 1
for ns in "$P-c" "$P-s"; do
	ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1
	ip netns exec "$ns" sysctl -qw net.ipv4.ip_local_port_range="1024 65000"
	ip netns exec "$ns" sysctl -qw net.ipv4.tcp_tw_reuse=1
done
ip netns exec "$P-s" nft -f - <<NFT || exit 1
table netdev np {
	chain in { type filter hook ingress device srv priority 0; tcp dport 80 counter; }
	chain out { type filter hook egress device srv priority 0; tcp sport 80 counter; }
}
NFT
chmod 755 "$WORK"
mkdir -p "$WORK/www" "$WORK/tmp" && echo hello >"$WORK/www/index.html"
cat >"$WORK/nginx.conf" <<CONF
worker_processes 1;
daemon off;
pid $WORK/nginx.pid;
error_log $WORK/nginx-error.log;
events { worker_connections 4096; }
http {
	access_log off;
	client_body_temp_path $WORK/tmp;
	proxy_temp_path $WORK/tmp;
	fastcgi_temp_path $WORK/tmp;
	uwsgi_temp_path $WORK/tmp;
	scgi_temp_path $WORK/tmp;
	server { listen 10.230.0.2:80 backlog=4096; root $WORK/www; }
}
CONF
start_bg "$P-s" nginx -c "$WORK/nginx.conf"
wait_port "$P-s" 80 || exit 1
start_netprofd "$WORK/d.log" --netns "$P-s" -i srv --no-profile || exit 1

echo "soak: $RATE connections/s for $SECS s to nginx; netprofd on srv with its default tables"
in_cg "$P-c" python3 - "$RATE" "$SECS" >"$WORK/client.json" <<'PY' || exit 1
import json, socket, sys, time
rate, secs = int(sys.argv[1]), float(sys.argv[2])
ok = failed = 0
t0 = time.monotonic()
n = 0
while time.monotonic() - t0 < secs:
    n += 1
    try:
        s = socket.create_connection(("10.230.0.2", 80), timeout=5)
        s.sendall(b"GET / HTTP/1.0\r\n\r\n")
        while s.recv(65536):
            pass
        s.close()
        ok += 1
    except OSError:
        failed += 1
    ahead = n / rate - (time.monotonic() - t0)
    if ahead > 0:
        time.sleep(ahead)
print(json.dumps({"ok": ok, "failed": failed, "seconds": time.monotonic() - t0}))
PY
# the last connections: FINs, then --closed-timeout and a sweep
sleep 8
"$NETPROF" flows --json -n 0 --netns "$P-s" -i srv tcp port 80 >"$WORK/flows.json" &&
	"$NETPROF" status --json >"$WORK/status.json" || exit 1
ip netns exec "$P-s" nft -j list table netdev np >"$WORK/nft.json" || exit 1
grep -E '^(VmRSS|VmHWM)' "/proc/$NETPROFD_PID/status" >"$WORK/mem.txt"
awk '{ print $14 + $15 }' "/proc/$NETPROFD_PID/stat" >"$WORK/cpu.txt"
python3 - "$WORK" "$(getconf CLK_TCK)" <<'PY'
import json, sys
w, tck = sys.argv[1], int(sys.argv[2])
client = json.load(open(f"{w}/client.json"))
flows = json.load(open(f"{w}/flows.json"))["flows"]
c = json.load(open(f"{w}/status.json"))["counters"]
nft = {r["rule"]["chain"]: r["rule"]["expr"][-1]["counter"]
       for r in json.load(open(f"{w}/nft.json"))["nftables"] if "rule" in r}
truth_p = nft["in"]["packets"] + nft["out"]["packets"]
# netdev ingress counts from the network header, egress from the Ethernet one
truth_b = nft["in"]["bytes"] + 14 * nft["in"]["packets"] + nft["out"]["bytes"]
shown_p = sum(f["packets"] for f in flows)
shown_b = sum(f["bytes"] for f in flows)
kinds = [("dropped (ended table full)", "ended_flows_dropped"), ("pruned (--keep-ended)", "ended_flows_pruned")]
p = shown_p + c["flow_table_full_packets"] + sum(c[k + "_packets"] for _, k in kinds)
b = shown_b + c["flow_table_full_bytes"] + sum(c[k + "_bytes"] for _, k in kinds)
cpu = int(open(f"{w}/cpu.txt").read()) / tck
mem = dict(l.split(":") for l in open(f"{w}/mem.txt"))
print(f"  client: {client['ok']} connections ({client['failed']} failed) in {client['seconds']:.0f} s")
print(f"  nft on srv: {truth_p} packets, {truth_b} bytes")
print(f"  netprof: {len(flows)} flows shown with {shown_p} packets, {shown_b} bytes")
for name, k in kinds:
    print(f"           {c[k]} flows {name} with {c[k + '_packets']} packets, {c[k + '_bytes']} bytes")
print(f"           {c['flow_table_full_packets']} packets refused by a full flow table ({c['flow_table_full_bytes']} bytes)")
print(f"  accounted for: {p} of {truth_p} packets, {b} of {truth_b} bytes")
print(f"  netprofd: {cpu:.1f} s CPU over the run; RSS {mem['VmRSS'].strip()}, peak {mem['VmHWM'].strip()}")
sys.exit(0 if (p, b) == (truth_p, truth_b) and client["failed"] == 0 else 1)
PY
