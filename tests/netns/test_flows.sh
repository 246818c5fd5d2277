#!/bin/bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#
# Flow counts in namespace rigs, proven against tcpdump captures.
#
#   netns $P-c                         netns $P-s
#   +--------------------+   veth    +--------------------+
#   | cli  10.200.0.1    |-----------| srv  10.200.0.2    |
#   |      fd00:200::1   |           |      fd00:200::2   |
#   +--------------------+           +--------------------+
#   curl, ping, iperf3 -c              python3 http.server, iperf3 -s
#
# netprofd follows both namespaces: TC ingress + TC egress on cli and srv
# (with --xdp native: and XDP). tcpdump captures each end; `netprof flows --json` for
# that interface must equal the capture, packet for packet and byte for
# byte, per TCP/UDP direction and per address pair (ICMP included).
# Offloads are off and neighbours static (lib.sh: veth_pair), so the capture
# sees the wire packets netprof counts and no ARP/ND noise.

. "$(dirname "$0")/lib.sh"

ADDRS="10.200.0.1 10.200.0.2 fd00:200::1 fd00:200::2"

rig() {
	veth_pair "$P-c" cli 10.200.0.1 "$P-s" srv 10.200.0.2 fd00:200::1 fd00:200::2
	start_bg "$P-s" python3 -m http.server 8080 --bind ::
	start_bg "$P-s" iperf3 -s -p 5201
	wait_port "$P-s" 8080 && wait_port "$P-s" 5201
}

# snapshot NS IF OUT: netprof flows --json for one interface
snapshot() {
	"$NETPROF" flows --json -n 0 --netns "$1" -i "$2" >"$3" ||
		fail "netprof flows failed"
}

check_capture() {
	python3 "$ROOT/tests/lib/flowcheck.py" "$1" "$2" $ADDRS
}

# Filters a flow record answers, each checked against tcpdump on the capture:
# netprof lists exactly the flows with at least one packet tcpdump matches
# (TCP flags: those seen in a direction, ORed, so single-flag tests are exact).
FILTERS=('tcp[tcpflags] & tcp-rst != 0' 'tcp[tcpflags] & tcp-fin != 0'
	 'tcp[tcpflags] & (tcp-syn|tcp-push) != 0 and port 8080' 'icmp or (icmp6 and not net ff00::/8)'
	 'udp or (ip6 and tcp)' 'not port 5201 and not net ff00::/8')

check_filters() {
	local pcap=$1 i
	for i in "${FILTERS[@]}"; do
		tcpdump -nn -q -r "$pcap" "$i" 2>/dev/null >"$WORK/td.txt"
		python3 - "$WORK/td.txt" "$WORK/cli.$(echo "$i" | md5sum | cut -c1-8).json" "$i" <<'PY' || return 1
import json, sys
def ep(tok, proto):
    tok = tok.rstrip(":")
    if proto in ("tcp", "udp"):
        a, p = tok.rsplit(".", 1)
        return (a, int(p))
    return (tok, 0)
truth = set()
for line in open(sys.argv[1]):
    w = line.split()
    if len(w) < 5 or w[1] not in ("IP", "IP6"):
        continue
    rest = line.split(": ", 1)[1]
    proto = "tcp" if rest.startswith("tcp") else "udp" if rest.startswith("UDP") else "icmp"
    truth.add((proto,) + tuple(sorted([ep(w[2], proto), ep(w[4], proto)])))
got = set()
for f in json.load(open(sys.argv[2]))["flows"]:
    proto = f["proto"] if f["proto"] in ("tcp", "udp") else "icmp"
    got.add((proto,) + tuple(sorted([(f["src"], f["src_port"]), (f["dst"], f["dst_port"])])))
print(f"  '{sys.argv[3]}': {len(got)} flows, as tcpdump's {len(truth)}")
assert truth, "the filter should match some of the test's traffic"
assert got == truth, f"netprof only {sorted(got - truth)}; tcpdump only {sorted(truth - got)}"
PY
	done
}

# flows_match_captures HOOKS: tc (the default on veths: tcx or clsact
# filters, no XDP) or xdp (--xdp native: XDP counts ingress, through its
# flow cache). Every count must be the same on either.
flows_match_captures() {
	local hooks=$1 i args=()
	[ "$hooks" = xdp ] && args=(--xdp native)
	rig || return 1
	# lib.sh's veth_pair turned the offloads off: on, to see whether netprofd keeps them
	ip netns exec "$P-c" ethtool -K cli tso on gso on >/dev/null 2>&1
	start_netprofd "$WORK/d.log" --netns "$P-c" --netns "$P-s" "${args[@]}" || return 1
	"$NETPROF" status --json >"$WORK/status.json"
	ip -n "$P-s" -j -d link show srv >"$WORK/link.json"
	ip netns exec "$P-c" ethtool -k cli >"$WORK/ethtool.cli"
	python3 - "$WORK/status.json" "$hooks" "$WORK/link.json" "$WORK/ethtool.cli" <<'PY' || return 1
import json, sys
ifs = {i["ifname"]: i for i in json.load(open(sys.argv[1]))["interfaces"]}
hooks = sys.argv[2]
kind = json.load(open(sys.argv[3]))[0]["linkinfo"]["info_kind"]
tso = [l for l in open(sys.argv[4]) if l.startswith("tcp-segmentation-offload:")][0].split()[1]
for name in ("cli", "srv"):
    i = ifs.get(name)
    assert i and i["tc_ingress"] and i["tc_egress"], f"{name}: {i}"
    if hooks == "xdp":
        assert i["xdp_native"], f"{name}: {i}"
    else:
        assert kind == "veth" and not i["xdp_native"] and not i["xdp_generic"] and \
            i["why"].startswith("veth"), f"{name} ({kind}): {i}"
# XDP on srv turns off the TSO of its peer, cli; TC leaves it on
assert tso == ("off" if hooks == "xdp" else "on"), f"cli's TSO {tso} with {hooks} hooks on srv"
print(f"  hooks {ifs['srv']['hooks']} ({ifs['srv']['why']}); TSO on the peer: {tso}")
PY
	# the capture counts wire packets: offloads off again
	ip netns exec "$P-c" ethtool -K cli tso off gso off >/dev/null 2>&1
	start_capture "$P-s" srv "$WORK/srv.pcap" || return 1
	local cap_s=$CAPTURE_PID
	start_capture "$P-c" cli "$WORK/cli.pcap" || return 1
	local cap_c=$CAPTURE_PID

	for i in 1 2 3 4 5; do
		ip netns exec "$P-c" curl -sf -o /dev/null http://10.200.0.2:8080/ || return 1
	done
	ip netns exec "$P-c" curl -sf -g -o /dev/null "http://[fd00:200::2]:8080/" || return 1
	ip netns exec "$P-c" ping -q -c 4 -i 0.2 10.200.0.2 >/dev/null || return 1
	ip netns exec "$P-c" ping -q -6 -c 4 -i 0.2 fd00:200::2 >/dev/null || return 1
	ip netns exec "$P-c" iperf3 -c 10.200.0.2 -u -b 2M -t 1 -l 300 >/dev/null || return 1
	ip netns exec "$P-c" iperf3 -c 10.200.0.2 -b 50M -t 1 >/dev/null || return 1
	# refused: the server's stack answers with RST
	ip netns exec "$P-c" curl -s -o /dev/null http://10.200.0.2:8081/ && return 1
	sleep 0.5

	snapshot "$P-s" srv "$WORK/srv.json" || return 1
	snapshot "$P-c" cli "$WORK/cli.json" || return 1
	for i in "${FILTERS[@]}"; do
		"$NETPROF" flows --json -n 0 --netns "$P-c" -i cli "$i" >"$WORK/cli.$(echo "$i" | md5sum | cut -c1-8).json" ||
			{ fail "netprof flows '$i' failed"; return 1; }
	done
	stop_capture "$cap_s"
	stop_capture "$cap_c"
	check_filters "$WORK/cli.pcap" || return 1
	echo "  server side:"
	check_capture "$WORK/srv.pcap" "$WORK/srv.json" || return 1
	# each flow that received packets carries one sampled packet's TC
	# ingress time (with XDP: and its XDP time, before it); the sender
	# side stamps egress
	python3 - "$WORK/srv.json" "$hooks" <<'PY' || return 1
import json, sys
for f in json.load(open(sys.argv[1]))["flows"]:
    if f["proto"] not in ("tcp", "udp"):
        continue
    # the pair is precise; first/last seen advance per tick (4 ms at HZ=250)
    tick = 20e6
    x, t, e = f["tc_ingress_xdp_ts_ns"], f["tc_ingress_ts_ns"], f["tc_egress_ts_ns"]
    if sys.argv[2] == "xdp":
        assert f["xdp_ts_ns"] and x and t and 0 < t - x < 1e9, f
        assert f["first_seen_ns"] <= x <= f["last_seen_ns"] + tick, f
    else:
        assert not f["xdp_ts_ns"] and not x and t, f
        assert f["first_seen_ns"] <= t <= f["last_seen_ns"] + tick, f
    if f["packets_rev"]:
        assert f["first_seen_ns"] <= e <= f["last_seen_ns"], f
PY
	echo "  client side:"
	check_capture "$WORK/cli.pcap" "$WORK/cli.json" || return 1
	# with XDP, the counts above went partly through its flow cache: make
	# sure they did, so the comparison covered its timer's folds
	"$NETPROF" status --json >"$WORK/status.json"
	python3 - "$WORK/status.json" "$hooks" <<'PY'
import json, sys
st = json.load(open(sys.argv[1]))
c = st["counters"]
cached, counted = c["xdp_cached_packets"], c["packets_counted"]
print(f"  {cached} of {counted} packets counted through the XDP flow cache")
why = st["capabilities"]["flows"]["why"]
if sys.argv[2] != "xdp":
    assert cached == 0, cached
elif "no XDP flow cache" in why:
    # the kernel has no CPU-pinned timers: the counts above are the table's alone
    print(f"  (this kernel: {why})")
    assert cached == 0, cached
else:
    assert 1000 < cached < counted, (cached, counted)
PY
}

test_flows_match_captures() {
	flows_match_captures tc
}

test_flows_match_captures_xdp() {
	flows_match_captures xdp
}

# Short connections end between sweeps; they must still be listed, with
# their counts, after the daemon moved them out of the live table.
test_ended_flows_still_listed() {
	local i
	rig || return 1
	start_netprofd "$WORK/d.log" --netns "$P-c" --netns "$P-s" \
		--closed-timeout 300ms --idle-timeout 2s --sweep-interval 200ms || return 1
	start_capture "$P-s" srv "$WORK/srv.pcap" || return 1
	for i in $(seq 20); do
		ip netns exec "$P-c" curl -sf -o /dev/null http://10.200.0.2:8080/ || return 1
	done
	sleep 1.5
	snapshot "$P-s" srv "$WORK/srv.json" || return 1
	stop_capture
	python3 - "$WORK/srv.json" <<'PY' || return 1
import json, sys
flows = [f for f in json.load(open(sys.argv[1]))["flows"] if f["proto"] == "tcp"]
ended = [f for f in flows if f["state"] == "fin" and f["ended_ns"]]
assert len(flows) == 20 and len(ended) == 20, f"{len(flows)} tcp flows, {len(ended)} ended by FIN"
PY
	check_capture "$WORK/srv.pcap" "$WORK/srv.json" || return 1
	# a UDP flow ends by idleness, not by FIN/RST
	start_netprofd_idle_check || return 1
	"$NETPROF" status --json | python3 -c '
import json, sys
s = json.load(sys.stdin)
assert s["daemon"]["flows_expired"] >= 20, s["daemon"]
assert s["maps"]["flows_ended"]["entries"] >= 20, s["maps"]'
}

start_netprofd_idle_check() {
	echo hello | ip netns exec "$P-c" socat -u - UDP:10.200.0.2:9999 || return 1
	sleep 2.6		# idle-timeout 2s + a sweep
	"$NETPROF" flows --json --netns "$P-s" -i srv udp | python3 -c '
import json, sys
f = [x for x in json.load(sys.stdin)["flows"] if x["dst_port"] == 9999]
assert len(f) == 1 and f[0]["state"] == "idle" and f[0]["packets"] >= 1, f'
}

# --watch: the rate of each refresh is bytes over that interval. iperf3
# sends UDP at a fixed rate; its own byte count (payload) plus the 42 bytes
# of Ethernet/IPv4/UDP headers per datagram is the wire rate to expect.
test_watch_rates() {
	rig || return 1
	start_netprofd "$WORK/d.log" --netns "$P-c" --netns "$P-s" || return 1
	ip netns exec "$P-c" iperf3 -c 10.200.0.2 -u -b 8M -l 1000 -t $((5 * SLOW)) -J >"$WORK/iperf.json" &
	local ipf=$!
	sleep "$SLOW"
	timeout -s INT "$(awk "BEGIN { print 3.5 * $SLOW }")" "$NETPROF" flows --watch 1 --json -i srv \
		'udp and port 5201' >"$WORK/watch.json"
	wait "$ipf" || return 1
	# under emulation the sender's pacing is uneven over a 1 s window: SLOW widens the bound
	python3 - "$WORK/watch.json" "$WORK/iperf.json" "$SLOW" <<'PY'
import json, sys
slow = float(sys.argv[3])
docs = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
it = json.load(open(sys.argv[2]))["end"]["sum"]
datagrams = it["packets"]
wire_bps = (it["bytes"] + 42 * datagrams) * 8 / it["seconds"]
rates = [d["flows"][0]["rate_bps"] for d in docs if d["flows"]]
assert len(rates) >= 2, f"{len(docs)} refreshes"
for r in rates:
    assert abs(r - wire_bps) / wire_bps < 0.10 * slow, f"watch rate {r:.0f} b/s, iperf3 wire rate {wire_bps:.0f} b/s"
print(f"  {len(rates)} refreshes, rates {[round(r / 1e6, 2) for r in rates]} Mb/s, iperf3 {wire_bps / 1e6:.2f} Mb/s")
PY
}

# netprofd restarted (--keep, then a new daemon adopts the pins) while UDP
# and TCP traffic flow: not one byte lost, nothing attached twice.
test_restart_under_traffic() {
	local tcp udp
	rig || return 1
	# the first daemon counts ingress at XDP and hooks TC as clsact
	# filters, the second at TC through tcx links (on 6.6+): the switch
	# must neither lose a packet nor count one twice
	start_netprofd "$WORK/d1.log" --keep --xdp native --tc clsact --netns "$P-c" --netns "$P-s" || return 1
	start_capture "$P-s" srv "$WORK/srv.pcap" || return 1
	ip netns exec "$P-c" iperf3 -c 10.200.0.2 -u -b 4M -t 4 -l 400 >/dev/null &
	udp=$!
	ip netns exec "$P-c" sh -c 'for i in $(seq 40); do curl -sf -o /dev/null http://10.200.0.2:8080/; sleep 0.1; done' &
	tcp=$!
	sleep 1
	stop_netprofd
	grep -q 'leaving programs attached' "$WORK/d1.log" || { cat "$WORK/d1.log"; return 1; }
	sleep 0.5			# traffic goes on with no daemon at all
	start_netprofd "$WORK/d2.log" --netns "$P-c" --netns "$P-s" || return 1
	grep -q 'adopted srv' "$WORK/d2.log" || { cat "$WORK/d2.log"; fail "srv not adopted"; return 1; }
	wait "$udp" || return 1
	wait "$tcp" || return 1
	sleep 0.5
	snapshot "$P-s" srv "$WORK/srv.json" || return 1
	stop_capture
	check_capture "$WORK/srv.pcap" "$WORK/srv.json" || return 1
	# one hook of ours per direction (a tcx link, or a clsact filter
	# before 6.6), and the first daemon's XDP link gone
	hooks "$P-s" srv >"$WORK/hooks.json"
	python3 - "$WORK/hooks.json" <<'PY'
import json, sys
h = json.load(open(sys.argv[1]))
for d in ("ingress", "egress"):
    assert max(h[f"tcx_{d}"], 0) + h[f"clsact_{d}"] == 1, h
assert h["xdp"] == 0, h
print(f"  after the restart: {h}")
PY
}

# XDP's cost to offloads, named from the device's own features: a veth
# pair with both ends in one namespace, TSO on. By default netprofd counts
# at TC and the peer keeps its offloads; with --xdp native it attaches XDP
# and names every feature the peer lost. Ground truth: ethtool -k of the
# peer before and after (ethtool's legacy aggregate names left out: they
# are not the kernel's feature names).
test_xdp_offloads_named() {
	ip netns add "$P-o" || return 1
	ip -n "$P-o" link add va type veth peer name vb || return 1
	ip -n "$P-o" link set va up && ip -n "$P-o" link set vb up || return 1
	ip netns exec "$P-o" ethtool -K vb tso on gso on >/dev/null 2>&1
	ip netns exec "$P-o" ethtool -k vb >"$WORK/k0"
	start_netprofd "$WORK/d1.log" --netns "$P-o" -i va --no-sockets --no-profile || return 1
	ip netns exec "$P-o" ethtool -k vb >"$WORK/k1"
	stop_netprofd
	start_netprofd "$WORK/d2.log" --netns "$P-o" -i va --no-sockets --no-profile --xdp native || return 1
	ip netns exec "$P-o" ethtool -k vb >"$WORK/k2"
	"$NETPROF" status --json >"$WORK/status.json" || return 1
	stop_netprofd
	ip netns exec "$P-o" ethtool -k vb >"$WORK/k3"
	python3 - "$WORK" <<'PY'
import json, re, sys
w = sys.argv[1]
def feats(n):
    return {m.group(1): m.group(2) for m in
            (re.match(r"\s*([\w-]+): (on|off)", l) for l in open(f"{w}/{n}")) if m}
legacy = {"rx-checksumming", "tx-checksumming", "scatter-gather", "tcp-segmentation-offload",
          "udp-fragmentation-offload", "generic-segmentation-offload", "generic-receive-offload",
          "large-receive-offload", "rx-vlan-offload", "tx-vlan-offload", "ntuple-filters",
          "receive-hashing"}
k0, k1, k2, k3 = (feats(n) for n in ("k0", "k1", "k2", "k3"))
assert k0 == k1, f"the default hooks changed vb: {set(k0.items()) ^ set(k1.items())}"
assert k0 == k3, "vb's features did not come back after the XDP daemon stopped"
lost = {f for f, v in k0.items() if v == "on" and k2.get(f) == "off" and f not in legacy}
assert "tx-tcp-segmentation" in lost, lost
log = open(f"{w}/d2.log").read()
m = re.search(r"attaching XDP turned off (.*) on vb:", log)
assert m, log
named = set(m.group(1).split(", "))
assert named == lost, f"netprofd named {sorted(named)}; ethtool shows {sorted(lost)} turned off"
st = {i["ifname"]: i for i in json.load(open(f"{w}/status.json"))["interfaces"]}
assert st["va"]["xdp_native"] and st["va"]["why"] == "as --xdp asked", st
d1 = open(f"{w}/d1.log").read()
assert re.search(r"attached va .*: tcx?-ingress tcx?-egress \(veth", d1), d1
print(f"  default: vb kept its offloads; --xdp native: {len(named)} features named, as ethtool: {', '.join(sorted(named))}")
PY
}

# Interfaces that appear after netprofd started are followed; removed ones
# are forgotten.
test_follows_interfaces() {
	local i found=
	ip netns add "$P-a" && ip netns add "$P-b" || return 1
	start_netprofd "$WORK/d.log" --netns "$P-a" --netns "$P-b" || return 1
	veth_pair "$P-a" late1 10.201.0.1 "$P-b" late2 10.201.0.2
	for i in $(seq 60); do
		"$NETPROF" status --json | grep -q '"ifname":"late2"' && found=1 && break
		sleep 0.05
	done
	[ -n "$found" ] || { cat "$WORK/d.log"; fail "late2 not attached"; return 1; }
	ip netns exec "$P-a" ping -q -c 3 -i 0.2 10.201.0.2 >/dev/null || return 1
	"$NETPROF" flows --json --netns "$P-b" -i late2 icmp | python3 -c '
import json, sys
f = json.load(sys.stdin)["flows"]
assert len(f) == 1 and f[0]["packets"] == 6, f' || return 1
	ip -n "$P-a" link del late1
	for i in $(seq 60); do
		"$NETPROF" status --json | grep -q '"ifname":"late2"' || return 0
		sleep 0.05
	done
	fail "late2 still listed after it was deleted"
}

# Nothing vanishes uncounted (issue 19: 11): 600 one-way UDP flows in waves
# through tables of 64, ended flows kept 1 s. Every packet netprof counted
# is in a flow it shows, or in an ended flow dropped for want of room or
# pruned after --keep-ended (with its packets and bytes), or in
# flow_table_full. Ground truth: what the sender sent, and nft's counter at
# the receiver's ingress. Seen to fail: dropped flows had no packets or
# bytes, so the sum fell short by theirs.
test_flow_accounting() {
	veth_pair "$P-c" cli 10.210.0.1 "$P-s" srv 10.210.0.2 || return 1
	ip netns exec "$P-s" sysctl -qw net.ipv6.conf.all.disable_ipv6=1
	ip netns exec "$P-c" sysctl -qw net.ipv6.conf.all.disable_ipv6=1
	ip netns exec "$P-s" nft -f - <<-NFT || return 1
	table netdev np {
		chain in {
			type filter hook ingress device srv priority 0;
			udp dport 9000 counter
		}
	}
	NFT
	start_bg "$P-s" python3 -c '
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("10.210.0.2", 9000))
while True:
    s.recv(2048)'
	start_netprofd "$WORK/d.log" --netns "$P-s" --no-sockets --no-profile --max-flows 64 \
		--idle-timeout 200ms --keep-ended 1s --sweep-interval 100ms || return 1
	ip netns exec "$P-c" python3 -c '
import json, socket, time
sent = 0
for wave in range(10):
    for i in range(60):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind(("10.210.0.1", 20000 + wave * 60 + i))
        for _ in range(3):
            s.sendto(b"x" * 100, ("10.210.0.2", 9000))
            sent += 1
        s.close()
    time.sleep(0.3)
# a frame: Ethernet 14 + IPv4 20 + UDP 8 + 100
print(json.dumps({"packets": sent, "bytes": sent * 142}))' >"$WORK/sent.json" || return 1
	sleep 0.7	# every flow idle and swept; the last waves still shown, older ones pruned
	# one consistent view: no sweep moved or pruned anything between the
	# two reads (on a slow kernel one may: read again)
	for i in $(seq 20); do
		"$NETPROF" status --json >"$WORK/status0.json" &&
		"$NETPROF" flows --json -n 0 >"$WORK/flows.json" &&
		"$NETPROF" status --json >"$WORK/status.json" || return 1
		python3 -c 'import json, sys
c0, c1 = (json.load(open(f))["counters"] for f in sys.argv[1:])
sys.exit(any(c0[k] != c1[k] for k in c0 if k.startswith(("ended_flows", "flow_table_full"))))' \
			"$WORK/status0.json" "$WORK/status.json" && break
	done
	ip netns exec "$P-s" nft -j list table netdev np >"$WORK/nft.json" || return 1
	python3 - "$WORK/sent.json" "$WORK/flows.json" "$WORK/status.json" "$WORK/nft.json" <<'PY'
import json, sys
sent = json.load(open(sys.argv[1]))
flows = [f for f in json.load(open(sys.argv[2]))["flows"] if f.get("proto") == "udp"]
c = json.load(open(sys.argv[3]))["counters"]
nft = [r["rule"]["expr"][-1]["counter"] for r in json.load(open(sys.argv[4]))["nftables"] if "rule" in r][0]
assert nft["packets"] == sent["packets"], f"nft saw {nft['packets']}, the sender sent {sent['packets']}"
shown_p = sum(f["packets"] for f in flows)
shown_b = sum(f["bytes"] for f in flows)
p = shown_p + c["ended_flows_dropped_packets"] + c["ended_flows_pruned_packets"] + c["flow_table_full_packets"]
b = shown_b + c["ended_flows_dropped_bytes"] + c["ended_flows_pruned_bytes"] + c["flow_table_full_bytes"]
print(f"  sent {sent['packets']} packets: {shown_p} in {len(flows)} flows shown, "
      f"{c['ended_flows_dropped_packets']} in {c['ended_flows_dropped']} dropped, "
      f"{c['ended_flows_pruned_packets']} in {c['ended_flows_pruned']} pruned, {c['flow_table_full_packets']} table full")
assert c["ended_flows_dropped"] > 0 and c["ended_flows_pruned"] > 0, "the test must make both happen"
assert p == sent["packets"], f"{p} packets accounted for, {sent['packets']} sent"
assert b == sent["bytes"], f"{b} bytes accounted for, {sent['bytes']} sent"
PY
}

# A namespace deleted with `ip netns del` while netprofd follows it is let
# go: its veth disappears (the kernel frees a namespace nobody holds) and
# pings into it stop being answered; netprofd runs on for the others
# (issue 19: 13; seen to fail: netprofd held the namespace, which kept
# answering). Ground truth: ip link and ping.
test_deleted_netns() {
	local i
	veth_pair "$P-c" cli 10.211.0.1 "$P-s" srv 10.211.0.2 || return 1
	start_netprofd "$WORK/d.log" --netns "$P-c" --netns "$P-s" --no-sockets --no-profile || return 1
	ip netns exec "$P-c" ping -c 1 -W 1 10.211.0.2 >/dev/null || { fail "no ping before"; return 1; }
	ip netns del "$P-s"
	for i in $(seq 30); do
		ip -n "$P-c" link show cli >/dev/null 2>&1 || break
		sleep 0.1
	done
	if ip -n "$P-c" link show cli >/dev/null 2>&1; then
		fail "the deleted namespace lives on: its veth peer is still there"; return 1
	fi
	if ip netns exec "$P-c" ping -c 1 -W 1 10.211.0.2 >/dev/null 2>&1; then
		fail "the deleted namespace still answers pings"; return 1
	fi
	kill -0 "$NETPROFD_PID" 2>/dev/null || { fail "netprofd stopped"; return 1; }
	grep -q "netns $P-s was deleted" "$WORK/d.log" || { cat "$WORK/d.log" >&2; fail "not said"; return 1; }
	"$NETPROF" status --json | python3 -c '
import json, sys
d = json.load(sys.stdin)
left = [i for i in d["interfaces"] if i["netns"].endswith("-s")]
assert not left, left
print("  deleted namespace let go in %.1f s: veth gone, no answer, its interfaces off the list" % (float(sys.argv[1]) / 10))' "$i"
}

run_tests ${TESTS:-test_flows_match_captures test_flows_match_captures_xdp test_ended_flows_still_listed test_restart_under_traffic \
	test_xdp_offloads_named \
	test_follows_interfaces test_watch_rates test_flow_accounting test_deleted_netns}
