#!/bin/bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#
# netprof's numbers in the tools users already run, each checked with the
# real program: a Prometheus server scraping `netprofd --metrics`; nfdump's
# nfcapd collecting `netprofd --ipfix`.
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
	# IPv4 only (RIG_V6=1: also IPv6 between load and app): no IPv6 link
	# chatter (MLD, DAD) arriving between snapshots
	for ns in l a r; do
		ip netns add "$P-$ns" || return 1
		[ -n "$RIG_V6" ] && [ "$ns" != r ] && continue
		ip netns exec "$P-$ns" sysctl -qw net.ipv6.conf.default.disable_ipv6=1 || return 1
	done
	veth_pair "$P-l" l0 10.220.1.1 "$P-a" a0 10.220.1.2 ${RIG_V6:+fd00:220::1 fd00:220::2}
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
	"$NETPROF" flows --json >"$WORK/flows.json" &&
	"$NETPROF" status --json >"$WORK/status.json" || return 1
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
		netprof_interface_hooks process_resident_memory_bytes process_cpu_seconds_total; do
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
st = json.load(open(f"{work}/status.json"))["interfaces"]
hooks = {(i["netns"], i["ifname"], i["hooks"], i["why"]) for i in st}
prom_h = {(l.get("netns", ""), l["interface"], l["hooks"], l["why"]) for l, v in q["netprof_interface_hooks"]}
assert hooks == prom_h, f"hooks: Prometheus {sorted(prom_h)}, status {sorted(hooks)}"
rss = int(open(f"{work}/rss.txt").read().split("VmRSS:")[1].split()[0]) * 1024
prss = q["process_resident_memory_bytes"][0][1]
assert abs(prss - rss) < 0.2 * rss, f"RSS: Prometheus {prss}, /proc {rss}"
print(f"  netprofd RSS {prss / 2**20:.1f} MiB (/proc {rss / 2**20:.1f} MiB)")
PY
}

# IPFIX to a real collector: nfcapd receives netprofd's export (short TCP
# connections, IPv4 and IPv6 pings and a UDP stream longer than the active timeout, so
# they are exported in several records); nfdump lists, per direction, the
# packets and bytes `netprof flows --json` counts, on the right interfaces.
test_ipfix() {
	local cport
	cport=$(free_port)
	mkdir -p "$WORK/nfcapd"
	nfcapd -b 127.0.0.1 -p "$cport" -w "$WORK/nfcapd" >"$WORK/nfcapd.log" 2>&1 &
	NFCAPD_PID=$!
	PIDS+=("$NFCAPD_PID")
	wait_log "$WORK/nfcapd.log" 'Startup' "$NFCAPD_PID" nfcapd || return 1
	# the export itself, for tshark's IPFIX decoder (flowEndReason)
	tcpdump -i lo --immediate-mode -U -w "$WORK/ipfix.pcap" "udp port $cport" 2>"$WORK/ipfix.pcap.log" &
	local tdp=$!
	PIDS+=("$tdp")
	wait_log "$WORK/ipfix.pcap.log" 'listening on' "$tdp" tcpdump || return 1
	RIG_V6=1 rig --ipfix "127.0.0.1:$cport" --ipfix-active 1s --ipfix-templates 2s || return 1
	load || return 1
	in_cg "$P-l" ping -c 8 -i 0.4 -q 10.220.1.2 >/dev/null &&
	in_cg "$P-l" ping -6 -c 8 -i 0.4 -q fd00:220::2 >/dev/null || return 1
	in_cg "$P-a" python3 -c 'import socket, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for i in range(60):
    s.sendto(b"x" * (100 + i), ("10.220.2.2", 9999)); time.sleep(0.05)' || return 1
	sleep 2.5	# the last ACKs; a sweep or two (active records go out)
	stop_netprofd	# exports what the live flows counted last
	"$NETPROF" flows --json >"$WORK/flows.json" || return 1
	kill -TERM "$NFCAPD_PID"
	wait "$NFCAPD_PID"
	sleep 0.2
	kill -INT "$tdp"
	wait "$tdp"
	# flows' last records say how they ended (RFC 5102 flowEndReason: 1 idle,
	# 2 active timeout, 3 end of flow, 4 forced); seen to fail: the UDP
	# stream, exported while active, got no record at netprofd's stop
	tshark -r "$WORK/ipfix.pcap" -d "udp.port==$cport,cflow" -T pdml \
		>"$WORK/ipfix.pdml" 2>"$WORK/ipfix.tshark.err" ||
		{ cat "$WORK/ipfix.tshark.err" >&2; fail "tshark cannot decode the export"; return 1; }
	grep -q "Sequence Errors: 0" "$WORK/nfcapd.log" ||
		{ cat "$WORK/nfcapd.log" >&2; fail "nfcapd saw sequence errors or nothing"; return 1; }
	nfdump -q -N -6 -R "$WORK/nfcapd" -o "fmt:%pr %sa %sp %da %dp %pkt %byt %in %out" \
		>"$WORK/nfdump.txt" || { fail "nfdump cannot read the collector's files"; return 1; }
	grep -h "Process_ipfix\|Flows:" "$WORK/nfcapd.log" | sed 's/^/  nfcapd: /' | tail -2
	python3 - "$WORK" <<'PY'
import json, sys
from collections import defaultdict
work = sys.argv[1]
flows = json.load(open(f"{work}/flows.json"))["flows"]
ours, ifs = defaultdict(lambda: [0, 0]), defaultdict(set)
for f in flows:
    icmp = f["proto"].startswith("icmp")
    for src, sp, dst, dp, p, b in ((f["src"], f["src_port"], f["dst"], f["dst_port"], f["packets_fwd"], f["bytes_fwd"]),
                                   (f["dst"], f["dst_port"], f["src"], f["src_port"], f["packets_rev"], f["bytes_rev"])):
        if not p:
            continue
        k = (f["ip_proto"], src, 0 if icmp else sp, dst, 0 if icmp else dp)
        ours[k][0] += p
        ours[k][1] += b
        ifs[k].add(f["ifindex"])
theirs, records = defaultdict(lambda: [0, 0]), defaultdict(int)
names = {"TCP": 6, "UDP": 17, "ICMP": 1, "ICMP6": 58}
for line in open(f"{work}/nfdump.txt"):
    pr, sa, sp, da, dp, pkt, byt, i, o = line.split()
    pr = int(pr) if pr.isdigit() else names[pr]
    icmp = pr in (1, 58)
    k = (pr, sa, 0 if icmp else int(sp), da, 0 if icmp else int(float(dp)))
    theirs[k][0] += int(pkt)
    theirs[k][1] += int(byt)
    records[k] += 1
    assert {int(i), int(o)} - {0} <= ifs[k] and (int(i) or int(o)), f"{k}: interfaces in {i} out {o}, flows on {ifs[k]}"
assert set(theirs) == set(ours), f"only in nfdump: {set(theirs) - set(ours)}; only in netprof: {set(ours) - set(theirs)}"
for k in ours:
    assert ours[k] == theirs[k], f"{k}: netprof {ours[k]}, nfdump {theirs[k]}"
# more records than interfaces the flow crossed: exported while active
multi = {k: n for k, n in records.items() if n > len(ifs[k])}
assert any(k[0] == 17 for k in multi) and any(k[0] == 1 for k in multi), f"no active-timeout records: {multi}"
assert any(k[0] == 58 and ":" in k[1] for k in ours), "no IPv6 flow exported"
# tshark's view of the export: the reasons of each directional flow's records, in order
reasons, starts = defaultdict(list), defaultdict(list)
import xml.etree.ElementTree as ET
# PDML keeps every record (JSON output repeats keys); a record is the
# element whose fields include flowEndReason, in the order sent. One flow
# of netprof is a 5-tuple in one namespace (observation domain) on one
# interface (ingress or egress)
for pkt in ET.parse(f"{work}/ipfix.pdml").getroot().iter("packet"):
    od = next(f.get("show") for f in pkt.iter("field") if f.get("name") == "cflow.od_id")
    for rec in pkt.iter():
        r = {f.get("name"): f.get("show") for f in rec.findall("field")}
        if "cflow.flow_end_reason" not in r:
            continue
        p = int(r["cflow.protocol"])
        icmp = p in (1, 58)
        sa = r.get("cflow.srcaddr") or r.get("cflow.srcaddrv6")
        da = r.get("cflow.dstaddr") or r.get("cflow.dstaddrv6")
        k = (p, sa, 0 if icmp else int(r["cflow.srcport"]), da, 0 if icmp else int(r["cflow.dstport"]))
        fk = (od, r.get("cflow.inputint"), r.get("cflow.outputint")) + k
        reasons[fk].append(int(r["cflow.flow_end_reason"]))
        t = {f.get("name"): f.get("value") for f in rec.iter("field")
             if f.get("name") in ("cflow.abstimestart", "cflow.abstimeend")}
        starts[fk].append((t.get("cflow.abstimestart"), t.get("cflow.abstimeend")))
assert {k[3:] for k in reasons} == set(ours), f"tshark decoded {len(reasons)} flows, netprof has {len(ours)} directional ones"
# every flow (a 5-tuple on one interface of one namespace) ends with one
# record saying how, after its active-timeout ones; the same 5-tuple may
# start anew after that (an IPv6 router solicitation repeated after its
# flow went idle, on a slow kernel). Each record covers the time since the
# flow's previous one: the intervals of a 5-tuple's records never overlap,
# so a final record sent twice shows.
for k, rs in reasons.items():
    ts = [tuple(int(x, 16) if x else None for x in t) for t in starts[k]]
    assert all(None not in t for t in ts), f"{k}: a record without its start or end time"
    for (s0, e0), (s1, e1) in zip(ts, ts[1:]):
        assert s1 >= e0 and (s1, e1) != (s0, e0), f"{k}: records overlap: {ts}"
    life = []
    for r in rs:
        life.append(r)
        if r in (1, 3, 4):
            assert all(x == 2 for x in life[:-1]), f"{k}: flowEndReasons {rs}: want 2... then one of 1, 3, 4"
            life = []
    assert not life, f"{k}: flowEndReasons {rs}: the last must say how it ended"
# the UDP stream (longer than the active timeout, live at netprofd's stop):
# active-timeout records, then a forced end; the TCP connections (closed
# during the test): each direction's last record is an end of flow
udp = [rs for k, rs in reasons.items() if k[3] == 17]
assert udp and all(2 in rs and rs[-1] == 4 for rs in udp), f"the UDP stream: {udp}"
tcp = {k: rs for k, rs in reasons.items() if k[3] == 6}
assert tcp and all(rs[-1] == 3 for rs in tcp.values()), f"TCP: {[(k, rs) for k, rs in tcp.items() if rs[-1] != 3][:3]}"
tcp_ends = sorted({rs[-1] for rs in tcp.values()})
print(f"  flowEndReason as tshark decodes it: every flow's last record ends it (TCP {tcp_ends}; UDP stream active, then forced)")
print(f"  {len(ours)} directional flows, {sum(records.values())} records: packets and bytes equal; "
      f"{len(multi)} exported in several records (active timeout)")
PY
}

# netprof capture beside tcpdump on the same interface at the same time:
# the same packets; tcpdump and tshark read the file; in pcapng each packet
# of the app's accepted connections names the app's process (the pid the
# test started) in its comment, SYNs included.
test_capture() {
	local app_pid cap_pid
	rig || return 1
	app_pid=$(pgrep -f "tiers.py app 10.220.1.2" | head -1)
	start_capture "$P-a" a0 "$WORK/tcpdump.pcap" || return 1
	"$NETPROF" capture --netns "$P-a" -i a0 -w "$WORK/np.pcapng" 'tcp port 8000' \
		2>"$WORK/cap.log" &
	cap_pid=$!
	PIDS+=("$cap_pid")
	wait_log "$WORK/cap.log" 'capturing on' "$cap_pid" "netprof capture" || return 1
	"$NETPROF" capture --netns "$P-a" -i a1 -F pcap -c 20 -s 96 --file-mode 0640 -w "$WORK/np-redis.pcap" \
		2>"$WORK/cap2.log" &
	PIDS+=("$!")
	wait_log "$WORK/cap2.log" 'capturing on' "$!" "netprof capture -c" || return 1
	load || return 1
	sleep 0.3
	kill -INT "$cap_pid"
	wait "$cap_pid" || { cat "$WORK/cap.log" >&2; fail "netprof capture failed"; return 1; }
	stop_capture
	# payloads: the file is its owner's alone unless asked otherwise
	[ "$(stat -c %a "$WORK/np.pcapng")" = 600 ] && [ "$(stat -c %a "$WORK/np-redis.pcap")" = 640 ] ||
		{ fail "capture files' modes: $(stat -c '%n %a' "$WORK/np.pcapng" "$WORK/np-redis.pcap")"; return 1; }
	grep -q " 0 lost" "$WORK/cap.log" || { cat "$WORK/cap.log" >&2; fail "packets lost"; return 1; }
	tcpdump -n -r "$WORK/tcpdump.pcap" 'tcp port 8000' 2>/dev/null | wc -l >"$WORK/n.tcpdump"
	tcpdump -n -r "$WORK/np.pcapng" 2>/dev/null | wc -l >"$WORK/n.np" ||
		{ fail "tcpdump cannot read the pcapng"; return 1; }
	tshark -r "$WORK/np.pcapng" -T fields -e tcp.srcport -e tcp.dstport -e tcp.flags.syn \
		-e tcp.flags.ack -e frame.comment >"$WORK/tshark.txt" 2>"$WORK/tshark.err" ||
		{ cat "$WORK/tshark.err" >&2; fail "tshark cannot read the pcapng"; return 1; }
	tcpdump -n -r "$WORK/np-redis.pcap" 2>/dev/null | wc -l >"$WORK/n.redis"
	tshark -r "$WORK/np-redis.pcap" -T fields -e frame.cap_len -e frame.len >"$WORK/redis.txt" 2>/dev/null ||
		{ fail "tshark cannot read the pcap"; return 1; }
	python3 - "$WORK" "$app_pid" <<'PY'
import sys
work, app = sys.argv[1], sys.argv[2]
n_td, n_np = int(open(f"{work}/n.tcpdump").read()), int(open(f"{work}/n.np").read())
rows = [l.rstrip("\n").split("\t") for l in open(f"{work}/tshark.txt")]
assert n_td > 100 and n_np == n_td == len(rows), f"tcpdump {n_td} packets, netprof capture {n_np}, tshark {len(rows)}"
want = f"python3[{app}]"
missing = [r for r in rows if want not in (r[4] if len(r) > 4 else "")]
assert not missing, f"{len(missing)} packets without {want} in their comment, e.g. {missing[:3]}"
redis = [l.split() for l in open(f"{work}/redis.txt")]
assert int(open(f"{work}/n.redis").read()) == len(redis) == 20, f"-c 20 wrote {len(redis)}"
assert all(int(c) == min(96, int(l)) for c, l in redis), f"-s 96: {redis[:3]}"
print(f"  {n_np} packets, as tcpdump; every one names {want}; -c 20 -s 96 kept")
PY
}

# A capture killed before it could detach leaves its TC filters: the next
# capture on that interface takes their place and says so; a capture that
# runs keeps its own (issue 19: 6; seen to fail: "another netprof capture
# runs there" until someone removed the filters by hand). Ground truth: the
# packets the test sends, tc's own list of filters.
test_capture_after_kill() {
	local k live
	ip netns add "$P-k" && ip -n "$P-k" link set lo up || return 1
	"$NETPROF" capture --netns "$P-k" -i lo -w "$WORK/k1.pcap" 2>"$WORK/k1.log" &
	k=$!
	PIDS+=("$k")
	wait_log "$WORK/k1.log" 'capturing on' "$k" "netprof capture" || return 1
	kill -9 "$k"
	wait "$k" 2>/dev/null
	ip netns exec "$P-k" tc filter show dev lo ingress | grep -q np_cap_ingress ||
		{ fail "the killed capture left no filter: nothing to test"; return 1; }
	"$NETPROF" capture --netns "$P-k" -i lo -c 4 -w "$WORK/k2.pcap" 'icmp' 2>"$WORK/k2.log" &
	live=$!
	PIDS+=("$live")
	wait_log "$WORK/k2.log" 'capturing on' "$live" "netprof capture after a killed one" || return 1
	grep -q "removed the ingress filter of a capture that is gone (pid $k)" "$WORK/k2.log" ||
		{ cat "$WORK/k2.log" >&2; fail "the stale filter was not named"; return 1; }
	# a capture that runs is not taken over
	if "$NETPROF" capture --netns "$P-k" -i lo -w "$WORK/k3.pcap" 2>"$WORK/k3.log"; then
		fail "a second capture took the interface from a running one"; return 1
	fi
	grep -q "another netprof capture runs there" "$WORK/k3.log" || { cat "$WORK/k3.log" >&2; return 1; }
	ip netns exec "$P-k" ping -c 2 -i 0.2 127.0.0.1 >/dev/null
	wait "$live" || { cat "$WORK/k2.log" >&2; fail "the capture after the kill failed"; return 1; }
	[ "$(tcpdump -n -r "$WORK/k2.pcap" 2>/dev/null | wc -l)" = 4 ] ||
		{ fail "the capture after the kill did not write the 4 ICMP packets sent"; return 1; }
	echo "  a killed capture's filters taken over and named; a running capture's kept; 4 of 4 packets"
}

# A local user holds 300 connections to /metrics open without finishing a
# request (and sends one with a NUL byte) while a scraper scrapes 20 times:
# every scrape is answered, the NUL request gets 400 at once, and each held
# connection is closed by netprofd and counted exactly once (replaced by a
# newer one or past the request deadline), as the holder saw it.
test_metrics_hostile() {
	local mport
	mport=$(free_port)
	veth_pair "$P-l" l0 10.220.1.1 "$P-a" a0 10.220.1.2
	start_netprofd "$WORK/d.log" --netns "$P-l" --no-profile --metrics "127.0.0.1:$mport" ||
		return 1
	python3 "$ROOT/tests/lib/httphold.py" 127.0.0.1 "$mport" 300 20 >"$WORK/hold.json" ||
		{ fail "httphold.py failed"; return 1; }
	python3 - "$WORK/hold.json" <<'PY'
import json, statistics, sys
r = json.load(open(sys.argv[1]))
print(f"  {r['scrapes_ok']} of 20 scrapes answered beside {r['held']} held connections "
      f"(median {statistics.median(r['scrape_ms'] or [0]):.1f} ms); NUL request: {r['nul_status']}; "
      f"{r['held_closed']} held closed by netprofd, counted {r['dropped']}")
assert r["scrapes_ok"] == 20, "scrapes failed while connections were held"
assert r["nul_status"] == "HTTP/1.1 400 Bad Request", r["nul_status"]
assert r["held_closed"] == r["held"], "held connections left open past the deadline"
d = r["dropped"]
assert d.get("replaced", 0) + d.get("request_deadline", 0) == r["held"], d
assert d.get("answer_deadline", 0) == 0, d
PY
}

run_tests ${TESTS:-test_prometheus test_ipfix test_capture test_capture_after_kill test_metrics_hostile}
