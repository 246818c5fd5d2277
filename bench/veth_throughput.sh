#!/bin/bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#
# Throughput over a veth pair between two namespaces, in one run, for:
#   none     no programs
#   empty    empty XDP + TC ingress + TC egress programs on both ends
#            (bench/empty.bpf.c): the cost of the hooks themselves
#   netprof  netprofd following both namespaces (XDP + TC both ways)
# Workloads: iperf3 TCP unlimited (Gbit/s received) and 64-byte UDP frames
# (18-byte payload, packets/s received), client pinned to CPU 0 and server
# to CPU 1. Modes are interleaved round by round; medians and ratios
# against `empty` are printed.
#
#   netns $P-a  10.210.0.1 --veth-- 10.210.0.2  netns $P-b (iperf3 -s)
#
# Usage: bench/veth_throughput.sh [ROUNDS] [SECONDS]

. "$(dirname "$0")/../tests/netns/lib.sh"
ROUNDS=${1:-5}
SECS=${2:-3}
EMPTY=$ROOT/.output/bench/empty.bpf.o
# extra modes for diagnosis: netprof-tc (--xdp off), netprof-precise (--precise-clock)
MODES=${MODES:-"none empty netprof"}

mount_bpffs
ip netns add "$P-a"
ip netns add "$P-b"
ip link add "$P-x" type veth peer name "$P-y"
ip link set "$P-x" netns "$P-a" name va
ip link set "$P-y" netns "$P-b" name vb
ip -n "$P-a" addr add 10.210.0.1/24 dev va
ip -n "$P-b" addr add 10.210.0.2/24 dev vb
for n in a b; do ip -n "$P-$n" link set lo up; done
ip -n "$P-a" link set va up
ip -n "$P-b" link set vb up
start_bg "$P-b" iperf3 -s -p 5201
wait_port "$P-b" 5201 || exit 1

attach_empty() {
	local ns=$1 dev=$2
	ip -n "$ns" link set dev "$dev" xdpdrv obj "$EMPTY" sec xdp || return 1
	ip netns exec "$ns" tc qdisc add dev "$dev" clsact
	ip netns exec "$ns" tc filter add dev "$dev" ingress bpf da obj "$EMPTY" sec tc
	ip netns exec "$ns" tc filter add dev "$dev" egress bpf da obj "$EMPTY" sec tc
}

detach_empty() {
	local ns=$1 dev=$2
	ip -n "$ns" link set dev "$dev" xdpdrv off
	ip netns exec "$ns" tc qdisc del dev "$dev" clsact
}

setup() {
	case $1 in
	empty) attach_empty "$P-a" va && attach_empty "$P-b" vb ;;
	netprof) start_netprofd "$WORK/d.log" --netns "$P-a" --netns "$P-b" ;;
	netprof-tc) start_netprofd "$WORK/d.log" --xdp off --netns "$P-a" --netns "$P-b" ;;
	netprof-precise) start_netprofd "$WORK/d.log" --precise-clock --netns "$P-a" --netns "$P-b" ;;
	esac
}

teardown() {
	case $1 in
	empty) detach_empty "$P-a" va; detach_empty "$P-b" vb ;;
	netprof*) stop_netprofd ;;
	esac
}

tcp_gbps() {
	ip netns exec "$P-a" iperf3 -c 10.210.0.2 -A 0,1 -t "$SECS" -J |
		python3 -c 'import json,sys; print(json.load(sys.stdin)["end"]["sum_received"]["bits_per_second"] / 1e9)'
}

udp_pps() {
	ip netns exec "$P-a" iperf3 -c 10.210.0.2 -A 0,1 -u -b 0 -l 18 -t "$SECS" -J |
		python3 -c '
import json, sys
s = json.load(sys.stdin)["end"]["sum"]
print((s["packets"] - s["lost_packets"]) / s["seconds"])'
}

declare -A TCP UDP
for r in $(seq "$ROUNDS"); do
	for m in $MODES; do
		setup "$m" || { echo "bench: cannot set up $m" >&2; exit 1; }
		sleep 0.5
		TCP[$m]+="$(tcp_gbps) "
		UDP[$m]+="$(udp_pps) "
		teardown "$m"
	done
	echo "round $r done" >&2
done

args=()
for m in $MODES; do args+=("$m" "${TCP[$m]}" "${UDP[$m]}"); done
python3 - "$ROUNDS" "$SECS" "${args[@]}" <<'PY'
import statistics, sys
rounds, secs, rest = sys.argv[1], sys.argv[2], sys.argv[3:]
modes = {rest[i]: (list(map(float, rest[i + 1].split())), list(map(float, rest[i + 2].split())))
         for i in range(0, len(rest), 3)}
stats = open("/proc/sys/kernel/bpf_stats_enabled").read().strip()
print(f"veth between two namespaces, {rounds} rounds x {secs} s, medians; kernel.bpf_stats_enabled={stats}")
print(f"{'mode':15} {'TCP Gbit/s':>11} {'vs empty':>9} {'UDP 64B kpps':>13} {'vs empty':>9}")
te = statistics.median(modes["empty"][0]) if "empty" in modes else 1
ue = statistics.median(modes["empty"][1]) if "empty" in modes else 1
for name, (t, u) in modes.items():
    mt, mu = statistics.median(t), statistics.median(u)
    print(f"{name:15} {mt:11.2f} {mt / te:9.1%} {mu / 1e3:13.1f} {mu / ue:9.1%}")
for name, (t, u) in modes.items():
    print(f"raw {name}: TCP {[round(x, 2) for x in t]} UDP {[round(x) for x in u]}")
PY
