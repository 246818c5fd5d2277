#!/bin/bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#
# Latency stages (netprof latency): each test adds delay at one known place
# and checks that netprof puts it there and not elsewhere, against what the
# application, the qdisc or the kernel report themselves.
#
#   netns $P-c eth0 10.220.0.1 ---- eth0 10.220.0.2 netns $P-s

. "$(dirname "$0")/lib.sh"

# stage means (ns) of one row of `netprof latency --json`
STAGES_PY='
def mean(row, st):
    return row["stages"][st]["mean_ns"] if st != "network" else row["network"]["mean_ns"]
def host_stages_below(row, limit_ns, skip=()):
    for st in ("rx_stack", "rx_sockq", "tx_sockq", "tx_qdisc", "tx_driver"):
        if st in skip:
            continue
        assert mean(row, st) < limit_ns, f"{st} mean {mean(row, st):.0f} ns, expected below {limit_ns:.0f}"
'

# The server sleeps 50 ms before each read: requests wait in its receive
# queue. rx_sockq on the server's connection must average the sleep the
# server measured itself (a request arrives within a fraction of a
# millisecond of the sleep's start), with one sample per request; every
# other stage on both ends stays below 1 ms.
test_sleep_before_read() {
	veth_pair "$P-c" eth0 10.220.0.1 "$P-s" eth0 10.220.0.2
	start_netprofd "$WORK/d.log" --netns "$P-c" --netns "$P-s" || return 1
	need_cap sockets && need_cap latency "stage" || return 1
	start_bg "$P-s" python3 "$ROOT/tests/lib/tcpwork.py" server 7000 50 "$WORK/slept.log"
	wait_port "$P-s" 7000 || return 1
	in_cg "$P-c" python3 "$ROOT/tests/lib/tcpwork.py" client 10.220.0.2 7000 20 "$NETPROF" \
		>"$WORK/client.json" || return 1
	sleep 0.3
	"$NETPROF" latency --edges --json 'port 7000' >"$WORK/edges.json" || return 1
	python3 - "$WORK/slept.log" "$WORK/client.json" "$WORK/edges.json" <<PY
import json, sys
$STAGES_PY
slept = [int(x) for x in open(sys.argv[1])]
client = json.load(open(sys.argv[2]))
edges = json.load(open(sys.argv[3]))["edges"]
srv = [e for e in edges if e["role"] == "server"]
cli = [e for e in edges if e["role"] == "client"]
assert len(srv) == 1 and len(cli) == 1, edges
srv, cli = srv[0], cli[0]
truth = sum(slept) / len(slept)
q = srv["stages"]["rx_sockq"]
print(f"  server slept {truth / 1e6:.2f} ms x {len(slept)}; netprof rx_sockq mean "
      f"{q['mean_ns'] / 1e6:.2f} ms x {q['samples']}, p50 {q['p50_ns'] / 1e6:.1f} ms")
assert q["samples"] == len(slept), "one rx_sockq sample per request"
assert abs(q["mean_ns"] - truth) <= 0.10 * truth, "rx_sockq is not the server's sleep"
# every request segment went netif_receive_skb -> tcp_probe on the server
# (far below the sampling budget): each is an rx_stack sample
assert srv["stages"]["rx_stack"]["samples"] >= len(slept), srv["stages"]["rx_stack"]
host_stages_below(srv, 1e6 * $SLOW, skip=("rx_sockq",))
host_stages_below(cli, 1e6 * $SLOW)
# the client's own connection, while it was open: the same on its side
row = [r for r in client["latency"]["connections"] if r["local_port"] == client["local_port"]]
assert len(row) == 1, row
host_stages_below(row[0], 1e6 * $SLOW)
print(f"  other stages below 1 ms on both ends; client srtt {client['tcp_info']['rtt']} µs")
PY
}

# A tbf qdisc (10 Mbit/s) on the client's eth0 and one bulk connection:
# packets queue in the qdisc. tx_qdisc must average what Little's law gives
# from the qdisc's own backlog (sampled from tc every 50 ms): backlog / rate.
# gso_max_segs 1 makes every skb one segment, so a packet's wait and a
# byte's wait are the same thing. rx_stack and tx_driver on the client and
# every stage on the receiving end stay below 1 ms.
test_qdisc_tbf() {
	veth_pair "$P-c" eth0 10.220.0.1 "$P-s" eth0 10.220.0.2
	ip netns exec "$P-c" ip link set dev eth0 gso_max_segs 1 || return 1
	ip netns exec "$P-c" tc qdisc add dev eth0 root tbf rate $((10000 / SLOW))kbit burst 32kbit latency $((20 * SLOW))ms || return 1
	start_netprofd "$WORK/d.log" --netns "$P-c" --netns "$P-s" || return 1
	need_cap sockets && need_cap latency "stage" || return 1
	start_bg "$P-s" socat -u TCP-LISTEN:7000,reuseaddr OPEN:/dev/null
	wait_port "$P-s" 7000 || return 1
	in_cg "$P-c" python3 "$ROOT/tests/lib/tcpwork.py" pour 10.220.0.2 7000 3 "$NETPROF" \
		>"$WORK/client.json" &
	local client=$!
	# the backlog every 50 ms while the client pours (fewer where tc is
	# slow to start: a kernel in qemu)
	while kill -0 "$client" 2>/dev/null; do
		ip netns exec "$P-c" tc -s -j qdisc show dev eth0; echo; sleep 0.05
	done >"$WORK/backlog.jsonl"
	wait "$client" || return 1
	python3 - "$WORK/backlog.jsonl" "$WORK/client.json" <<PY
import json, sys
$STAGES_PY
backlogs = []
for line in open(sys.argv[1]):
    if line.strip():
        q = [x for x in json.loads(line) if x["kind"] == "tbf"][0]
        backlogs.append(q["backlog"])
busy = [b for b in backlogs if b > 0]
assert len(busy) >= 5, f"the qdisc never queued: {backlogs}"
truth = sum(busy) / len(busy) / (10e6 / $SLOW / 8) * 1e9      # Little: bytes / (bytes/s), in ns
c = json.load(open(sys.argv[2]))
rows = c["latency"]["connections"]
cli = [r for r in rows if r["role"] == "client" and r["local_port"] == c["local_port"]]
srv = [r for r in rows if r["role"] == "server" and r["remote_port"] == c["local_port"]]
assert len(cli) == 1 and len(srv) == 1, rows
cli, srv = cli[0], srv[0]
d = cli["stages"]["tx_qdisc"]
print(f"  tbf backlog {sum(busy) / len(busy):.0f} B on average -> {truth / 1e6:.1f} ms; "
      f"netprof tx_qdisc mean {d['mean_ns'] / 1e6:.1f} ms over {d['samples']} packets")
assert abs(d["mean_ns"] - truth) <= 0.20 * truth, "tx_qdisc is not the qdisc's queueing delay"
for st in ("rx_stack", "tx_driver"):
    assert mean(cli, st) < 1e6 * $SLOW, (st, cli["stages"][st])
host_stages_below(srv, 1e6 * $SLOW)
print("  client rx_stack, tx_driver below 1 ms; the receiving end's stages below 1 ms")
PY
}

# The delay bridge from ../shared/RIG.md (10 ms each way) between client and
# server: the network share grows to the kernel's RTT for the connection
# (within 10%), the host stages stay below 1 ms.
test_delay_bridge() {
	delay_rig 10.221.0 || return 1
	start_netprofd "$WORK/d.log" --netns "$P-c" --netns "$P-s" --rtt-from-start || return 1
	need_cap sockets && need_cap latency "stage" || return 1
	start_bg "$P-s" python3 "$ROOT/tests/lib/tcpwork.py" server 7000 0 "$WORK/slept.log"
	wait_port "$P-s" 7000 || return 1
	in_cg "$P-c" python3 "$ROOT/tests/lib/tcpwork.py" client 10.221.0.2 7000 30 "$NETPROF" \
		>"$WORK/client.json" || return 1
	python3 - "$WORK/client.json" <<PY
import json, sys
$STAGES_PY
c = json.load(open(sys.argv[1]))
rtt = c["tcp_info"]["rtt"] * 1000
row = [r for r in c["latency"]["connections"] if r["local_port"] == c["local_port"]]
assert len(row) == 1, row
row = row[0]
net = row["network"]
print(f"  kernel rtt {rtt / 1e6:.2f} ms; netprof network {net['mean_ns'] / 1e6:.2f} ms, "
      f"share {net['share']:.0%}")
assert abs(net["mean_ns"] - rtt) <= 0.10 * rtt, "network is not the connection's RTT"
assert net["share"] > 0.9, "the delay is not where most of the time went"
host_stages_below(row, 1e6 * $SLOW)
print("  host stages below 1 ms")
PY
}

# Under a bulk transfer the send side is sampled (16 packets a jiffy per
# CPU): every packet the followed connection sends once it has a latency
# record (from its first write) is either timed (a tx_driver sample) or
# counted (latency_tx_unsampled). Ground truth: the kernel's
# count of segments the socket sent (tcpi_segs_out; with gso_max_segs 1 a
# packet is a segment) less the two before the first write (SYN and the
# handshake's ACK). The server runs outside the followed cgroup, so the
# client's packets are the only ones counted.
test_tx_budget() {
	veth_pair "$P-c" eth0 10.220.0.1 "$P-s" eth0 10.220.0.2
	# one skb per segment: TCP builds GSO skbs even without device offloads
	ip -n "$P-c" link set dev eth0 gso_max_segs 1 || return 1
	start_netprofd "$WORK/d.log" --netns "$P-c" --netns "$P-s" || return 1
	need_cap sockets && need_cap latency "stage" || return 1
	ip netns exec "$P-s" socat -u TCP-LISTEN:7100 OPEN:/dev/null >"$WORK/socat.log" 2>&1 &
	PIDS+=($!)
	wait_port "$P-s" 7100 || return 1
	in_cg "$P-c" python3 "$ROOT/tests/lib/tcpwork.py" sent 10.220.0.2 7100 1 \
		>"$WORK/sent.json" || return 1
	sleep 0.3
	"$NETPROF" latency --edges --json 'port 7100' >"$WORK/edges.json" || return 1
	"$NETPROF" status --json >"$WORK/status.json" || return 1
	python3 - "$WORK/sent.json" "$WORK/edges.json" "$WORK/status.json" <<'PY'
import json, sys
sent = json.load(open(sys.argv[1]))
edges = [e for e in json.load(open(sys.argv[2]))["edges"] if e["role"] == "client"]
assert len(edges) == 1, edges
timed = edges[0]["stages"]["tx_driver"]["samples"]
st = json.load(open(sys.argv[3]))
unsampled = st["counters"]["latency_tx_unsampled"]
truth = sent["segs_out"] - 2
print(f"  client sent {sent['segs_out']} segments ({sent['total_retrans']} again); netprof timed {timed}, "
      f"counted {unsampled} past the budget: {timed + unsampled} of {truth}")
assert timed > 0 and unsampled > 0, "the transfer should go past the budget"
assert timed + unsampled <= truth, "more packets timed or counted than were sent"
# exact in most runs, but not always, and not through netprof: with an nft
# netdev egress counter and perf beside it (2026-12-03, 6.18.44), nft
# counted every segment TCP sent while the tp_btf program on net_dev_queue
# ran for up to 2.6% fewer of them, in bursts of a few ms on one CPU, with
# no recursion misses; perf on the same tracepoint made the loss vanish.
# The program's own books balance (timed + counted == its runs for the
# connection), so the floor is on what the kernel hands it (docs/latency.md).
assert timed + unsampled >= 0.95 * truth, "sent packets neither timed nor counted"
PY
}

run_tests ${TESTS:-test_sleep_before_read test_qdisc_tbf test_delay_bridge test_tx_budget}
