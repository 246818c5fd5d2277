#!/bin/bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#
# netprof's numbers in the tools users already run, each checked with the
# real program: a Prometheus server scraping `netprofd --metrics`.
#
#   load (tiers.py load)  -->  app (tiers.py app)  -->  redis-server
#   10.220.1.1                 10.220.1.2:8000           10.220.2.2:6379
#                              10.220.2.1
. "$(dirname "$0")/lib.sh"

N=25

free_port() {
	local p
	while :; do
		p=$((20000 + RANDOM % 30000))
		ss -Htln "sport = :$p" | grep -q . || { echo "$p"; return; }
	done
}

rig() {
	local ns
	# IPv4 only: no IPv6 link chatter (MLD, DAD) arriving between snapshots
	for ns in l a r; do
		ip netns add "$P-$ns" &&
		ip netns exec "$P-$ns" sysctl -qw net.ipv6.conf.default.disable_ipv6=1 || return 1
	done
	veth_pair "$P-l" l0 10.220.1.1 "$P-a" a0 10.220.1.2
	veth_pair "$P-a" a1 10.220.2.1 "$P-r" r0 10.220.2.2
	start_netprofd "$WORK/d.log" --netns "$P-l" --netns "$P-a" --netns "$P-r" --no-profile "$@" ||
		return 1
	CGSUB=redis start_bg "$P-r" redis-server --bind 10.220.2.2 --port 6379 --save "" \
		--appendonly no --protected-mode no --daemonize no --dir "$WORK"
	CGSUB=app start_bg "$P-a" python3 "$ROOT/tests/lib/tiers.py" app 10.220.1.2 8000 \
		10.220.2.2 6379 "$WORK/app.log"
	wait_port "$P-r" 6379 && wait_port "$P-a" 8000 ||
		{ cat "$WORK"/bg.*.log >&2; return 1; }
}

load() {
	CGSUB=load in_cg "$P-l" python3 "$ROOT/tests/lib/tiers.py" load 10.220.1.2 8000 "$N" 81 \
		>"$WORK/load.json"
}

# A real Prometheus scrapes netprofd every second; its HTTP API, queried
# after a scrape that followed the traffic, says what `netprof map --json`
# and `netprof flows --json` say; promtool accepts the endpoint's text.
test_prometheus() {
	local mport pport t_done i
	mport=$(free_port)
	pport=$(free_port)
	rig --metrics "127.0.0.1:$mport" || return 1
	cat >"$WORK/prometheus.yml" <<-CONF
	global: { scrape_interval: 1s, evaluation_interval: 1s }
	scrape_configs:
	  - job_name: netprof
	    static_configs: [ { targets: ["127.0.0.1:$mport"] } ]
	CONF
	prometheus --config.file="$WORK/prometheus.yml" --storage.tsdb.path="$WORK/prom" \
		--web.listen-address="127.0.0.1:$pport" >"$WORK/prom.log" 2>&1 &
	PIDS+=("$!")
	load || return 1
	sleep 1.2	# the app's last close and its ACK; then a sweep
	wait_sweep || return 1
	"$NETPROF" map --json >"$WORK/map.json" &&
	"$NETPROF" flows --json >"$WORK/flows.json" || return 1
	curl -sf "http://127.0.0.1:$mport/metrics" >"$WORK/metrics.txt" ||
		{ fail "no answer on /metrics"; return 1; }
	promtool check metrics <"$WORK/metrics.txt" >"$WORK/promtool.txt" 2>&1 ||
		{ cat "$WORK/promtool.txt" >&2; fail "promtool check metrics rejects the endpoint"; return 1; }
	# a scrape that began after the snapshot above
	t_done=$(date +%s.%N)
	for i in $(seq 150); do
		curl -sf "http://127.0.0.1:$pport/api/v1/query?query=timestamp(netprof_scrapes_total)" \
			>"$WORK/ts.json" 2>/dev/null &&
		python3 -c 'import json,sys; r=json.load(open(sys.argv[1]))["data"]["result"];
sys.exit(0 if r and float(r[0]["value"][1]) > float(sys.argv[2]) + 0.2 else 1)' \
			"$WORK/ts.json" "$t_done" && break
		sleep 0.2
	done
	[ "$i" != 150 ] || { cat "$WORK/prom.log" >&2; fail "Prometheus did not scrape netprofd in 30 s"; return 1; }
	for q in netprof_edge_connections_total netprof_edge_failed_connections_total \
		netprof_edge_bytes_total netprof_edge_retransmitted_segments_total \
		netprof_edge_rtt_seconds_bucket netprof_edge_rtt_seconds_sum netprof_edge_rtt_seconds_count \
		netprof_edge_open_connections netprof_interface_packets_total netprof_interface_bytes_total \
		process_resident_memory_bytes process_cpu_seconds_total; do
		curl -sf "http://127.0.0.1:$pport/api/v1/query?query=$q" >"$WORK/q.$q.json" ||
			{ fail "Prometheus query $q failed"; return 1; }
	done
	grep -E '^(VmRSS|Pid)' "/proc/$NETPROFD_PID/status" >"$WORK/rss.txt"
	python3 - "$WORK" "$(basename "$CG")" "$N" <<'PY'
import glob, json, sys
work, cg, n = sys.argv[1], "/" + sys.argv[2], int(sys.argv[3])
m = json.load(open(f"{work}/map.json"))
flows = json.load(open(f"{work}/flows.json"))
app = [l.strip() for l in open(f"{work}/app.log")]
q = {}
for f in glob.glob(f"{work}/q.*.json"):
    name = f.split("/q.")[1][:-5]
    q[name] = [(r["metric"], float(r["value"][1])) for r in json.load(open(f))["data"]["result"]]

def val(name, **labels):
    got = [v for l, v in q[name] if all(l.get(k) == x for k, x in labels.items())]
    assert len(got) == 1, f"{name}{labels}: {len(got)} series"
    return got[0]

L, A, R = (f"{cg}/{t}" for t in ("load", "app", "redis"))
edges = {(e["client"], e["server"]): e for e in m["edges"]}
assert set(edges) == {(L, A), (A, R), (L, "10.220.1.2:81")}, sorted(edges)
series = {(l["client"], l["server"]) for l, _ in q["netprof_edge_connections_total"]}
assert series == set(edges), f"Prometheus has edges {sorted(series)}, map {sorted(edges)}"
# ground truth first: the app logged every connection it accepted
assert edges[(L, A)]["connections"] == len(app) == n + 1, (edges[(L, A)]["connections"], len(app))
for (c, s), e in edges.items():
    k = dict(client=c, server=s)
    checks = {
        "connections": (val("netprof_edge_connections_total", **k), e["connections"]),
        "open": (val("netprof_edge_open_connections", **k), e["open"]),
        "refused": (val("netprof_edge_failed_connections_total", reason="refused", **k), e["refused"]),
        "reset": (val("netprof_edge_failed_connections_total", reason="reset", **k), e["reset"]),
        "timed_out": (val("netprof_edge_failed_connections_total", reason="timeout", **k), e["timed_out"]),
        "bytes c2s": (val("netprof_edge_bytes_total", direction="client_to_server", **k), e["bytes_client_to_server"]),
        "bytes s2c": (val("netprof_edge_bytes_total", direction="server_to_client", **k), e["bytes_server_to_client"]),
        "retransmits": (val("netprof_edge_retransmitted_segments_total", **k), e["retransmits"]),
        "rtt count": (val("netprof_edge_rtt_seconds_count", **k), e["rtt_samples"]),
    }
    for what, (p, j) in checks.items():
        assert p == j, f"{c} -> {s} {what}: Prometheus {p}, map {j}"
    assert abs(val("netprof_edge_rtt_seconds_sum", **k) - e["rtt_sum_us"] / 1e6) < 1e-9
    cum = 0
    for b, h in enumerate(e["rtt_hist"]):
        cum += h
        le = f"{(2 << b) / 1e6:.6g}"
        assert val("netprof_edge_rtt_seconds_bucket", le=le, **k) == cum, f"{c} -> {s} le={le}"
    assert val("netprof_edge_rtt_seconds_bucket", le="+Inf", **k) == e["rtt_samples"]
    print(f"  {c} -> {s}: {e['connections']} conns, {e['failed']} failed, "
          f"{e['bytes_client_to_server']}/{e['bytes_server_to_client']} B, "
          f"{e['rtt_samples']} RTT samples: Prometheus agrees")
# interfaces: the flows netprof lists, summed per interface
per_if = {}
for f in flows["flows"]:
    k = (f.get("netns", ""), f["ifname"])
    p, b = per_if.get(k, (0, 0))
    per_if[k] = (p + f["packets"], b + f["bytes"])
prom_if = {(l.get("netns", ""), l["interface"]): v for l, v in q["netprof_interface_packets_total"]}
prom_ib = {(l.get("netns", ""), l["interface"]): v for l, v in q["netprof_interface_bytes_total"]}
assert set(prom_if) == set(per_if), f"interfaces: Prometheus {sorted(prom_if)}, flows {sorted(per_if)}"
for k, (p, b) in per_if.items():
    assert prom_if[k] == p and prom_ib[k] == b, f"{k}: Prometheus {prom_if[k]}/{prom_ib[k]}, flows {p}/{b}"
print(f"  {len(per_if)} interfaces: packets and bytes as in netprof flows")
rss = int(open(f"{work}/rss.txt").read().split("VmRSS:")[1].split()[0]) * 1024
prss = q["process_resident_memory_bytes"][0][1]
assert abs(prss - rss) < 0.2 * rss, f"RSS: Prometheus {prss}, /proc {rss}"
print(f"  netprofd RSS {prss / 2**20:.1f} MiB (/proc {rss / 2**20:.1f} MiB)")
PY
}

run_tests ${TESTS:-test_prometheus}
