#!/bin/bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#
# What netprof costs the traffic it watches: throughput over a veth pair
# between two namespaces, in one run, against no netprof at all.
#   none       no programs: what a user weighs netprof against
#   flows      netprofd following both namespaces, flows only (--no-sockets
#              --no-profile): its default hooks (TC on veths)
#   sockets    flows + socket tracking on the bench cgroup (--no-latency
#              --no-profile)
#   latency    flows + sockets + latency stages (--no-profile)
#   profile    flows + the CPU profiler at its default 99 Hz (--no-sockets)
#   all        netprofd with its defaults: every capability
# Diagnostics (MODES="..."):
#   empty      empty TC programs on the hooks flows uses (tcx links; clsact
#              filters before 6.6): the hooks' own cost
#   empty-xdp  empty XDP + clsact TC programs on both ends (the hooks netprof
#              used before issue 20: XDP on a veth turns off its peer's TSO)
#   empty-all  empty plus empty programs on every tracepoint and the
#              sock_ops hook the sockets and latency stages use
#   flows-xdp  flows with --xdp native (ingress at XDP)
#   flows-clsact  flows, TC as clsact filters (--tc clsact)
#   alt, alt2  all, with the netprofd binary in ALT_NETPROFD, ALT2_NETPROFD
#              (other builds, for A/B rounds)
#   MODE@alt   any netprofd mode above with the binary in ALT_NETPROFD
#              (sockets@alt: socket tracking of another build)
# Workloads: iperf3 TCP unlimited, GSO on as users run it (Gbit/s
# received), and 64-byte UDP frames (18-byte payload, packets/s received),
# client pinned to CPU 0 and server to CPU 1, both in the bench cgroup.
# Modes are interleaved round by round; medians, the ratio of medians and
# the median of per-round ratios against none, and against the mode each
# adds to (flows for sockets and profile, sockets for latency, empty for
# flows).
# COST=1: the same at a fixed rate instead (TCP at RATE, default 2G; UDP
# at URATE of payload, default 20M, i.e. about 139,000 frames/s), reporting
# the CPU time of both CPUs (wall time minus cpuidle residency) per Gbit
# received and per UDP packet received: the overhead, without saturating
# a CPU (less noisy than throughput).
#
#   netns $P-a  10.210.0.1 --veth-- 10.210.0.2  netns $P-b (iperf3 -s)
#
# Usage: [MODES="..."] [ALT_NETPROFD=path] [COST=1 [RATE=2G] [URATE=20M]]
#        bench/veth_throughput.sh [ROUNDS] [SECONDS]

. "$(dirname "$0")/../tests/netns/lib.sh"
ROUNDS=${1:-5}
SECS=${2:-3}
EMPTY=$ROOT/.output/bench/empty.bpf.o
MODES=${MODES:-"none flows sockets latency profile all empty"}

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
	ip netns exec "$ns" tc qdisc replace dev "$dev" clsact
	ip netns exec "$ns" tc filter add dev "$dev" ingress bpf da obj "$EMPTY" sec tc
	ip netns exec "$ns" tc filter add dev "$dev" egress bpf da obj "$EMPTY" sec tc
}

detach_empty() {
	local ns=$1 dev=$2
	ip -n "$ns" link set dev "$dev" xdpdrv off
	ip netns exec "$ns" tc qdisc del dev "$dev" clsact
}

# empty programs as tcx links on both ends (clsact filters where the kernel has no tcx)
EMPTY_PIDS=()
attach_empty_tc() {
	"$ROOT/.output/bench/empty_hooks" "$EMPTY" "$CG" "$P-a" va "$P-b" vb >"$WORK/empty_tc.log" 2>&1 &
	EMPTY_PIDS+=($!)
	PIDS+=($!)
	wait_log "$WORK/empty_tc.log" attached "$!" empty_hooks 2>/dev/null && return 0
	# before 6.6: clsact filters
	ip netns exec "$P-a" tc qdisc replace dev va clsact
	ip netns exec "$P-b" tc qdisc replace dev vb clsact
	for x in "$P-a va" "$P-b vb"; do
		set -- $x
		ip netns exec "$1" tc filter add dev "$2" ingress bpf da obj "$EMPTY" sec tc
		ip netns exec "$1" tc filter add dev "$2" egress bpf da obj "$EMPTY" sec tc
	done
}

setup() {
	local both=(--netns "$P-a" --netns "$P-b")
	case $1 in
	*@alt) NETPROFD=$ALT_NETPROFD setup "${1%@alt}" ;;
	empty) attach_empty_tc ;;
	empty-xdp) attach_empty "$P-a" va && attach_empty "$P-b" vb ;;
	empty-all)
		attach_empty_tc || return 1
		"$ROOT/.output/bench/empty_hooks" "$ROOT/.output/bench/empty_hooks.bpf.o" "$CG" \
			>"$WORK/empty_hooks.log" 2>&1 &
		EMPTY_PIDS+=($!)
		PIDS+=($!)
		wait_log "$WORK/empty_hooks.log" attached "$!" empty_hooks ;;
	flows) start_netprofd "$WORK/d.log" --no-sockets --no-profile "${both[@]}" ;;
	flows-xdp) start_netprofd "$WORK/d.log" --no-sockets --no-profile --xdp native "${both[@]}" ;;
	flows-clsact) start_netprofd "$WORK/d.log" --no-sockets --no-profile --tc clsact "${both[@]}" ;;
	flows-precise) start_netprofd "$WORK/d.log" --no-sockets --no-profile --precise-clock "${both[@]}" ;;
	sockets) start_netprofd "$WORK/d.log" --no-latency --no-profile "${both[@]}" ;;
	latency) start_netprofd "$WORK/d.log" --no-profile "${both[@]}" ;;
	profile) start_netprofd "$WORK/d.log" --no-sockets "${both[@]}" ;;
	all) start_netprofd "$WORK/d.log" "${both[@]}" ;;
	alt*)
		local bin=${1^^}_NETPROFD
		NETPROFD=${!bin} start_netprofd "$WORK/d.log" "${both[@]}" ;;
	esac
}

teardown() {
	local p
	case $1 in
	empty-xdp) detach_empty "$P-a" va; detach_empty "$P-b" vb ;;
	empty*)
		for p in "${EMPTY_PIDS[@]}"; do kill "$p"; wait "$p" 2>/dev/null; done
		EMPTY_PIDS=()
		ip netns exec "$P-a" tc qdisc del dev va clsact 2>/dev/null
		ip netns exec "$P-b" tc qdisc del dev vb clsact 2>/dev/null ;;
	none) ;;
	*)
		stop_netprofd
		"$NETPROFD" --remove -p "$PIN" >/dev/null 2>&1 ;;
	esac
}

tcp_gbps() {
	in_cg "$P-a" iperf3 -c 10.210.0.2 -A 0,1 -t "$SECS" -J "$@" |
		python3 -c 'import json,sys; print(json.load(sys.stdin)["end"]["sum_received"]["bits_per_second"] / 1e9)'
}

udp_pps() {
	in_cg "$P-a" iperf3 -c 10.210.0.2 -A 0,1 -u -l 18 -t "$SECS" -J "$@" |
		python3 -c '
import json, sys
s = json.load(sys.stdin)["end"]["sum"]
print((s["packets"] - s["lost_packets"]) / s["seconds"])'
}

# microseconds all CPUs were busy so far: wall time minus cpuidle residency
busy_us() {
	python3 -c '
import glob, time
n = len(glob.glob("/sys/devices/system/cpu/cpu[0-9]*/cpuidle"))
idle = sum(int(open(f).read()) for f in glob.glob("/sys/devices/system/cpu/cpu[0-9]*/cpuidle/state*/time"))
print(int(time.clock_gettime(time.CLOCK_MONOTONIC) * 1e6 * n - idle))'
}

# CPU time during a run, per unit of what it reports:
# cpu_per SCALE CMD ARGS... prints busy us * SCALE / (result * SECS)
cpu_per() {
	local scale=$1 b0 b1 v
	shift
	b0=$(busy_us)
	v=$("$@")
	b1=$(busy_us)
	python3 -c "print(($b1 - $b0) * $scale / ($v * $SECS))"
}

if [ "${COST:-0}" = 1 ]; then
	if ! ls /sys/devices/system/cpu/cpu0/cpuidle/state0/time >/dev/null 2>&1; then
		echo "bench: COST=1 needs cpuidle residency (/sys/devices/system/cpu/cpu0/cpuidle)" >&2
		exit 1
	fi
	TCP_RUN="cpu_per 1e-3 tcp_gbps -b ${RATE:-2G}"		# ms per Gbit
	UDP_RUN="cpu_per 1e3 udp_pps -b ${URATE:-20M}"		# ns per packet
else
	TCP_RUN=tcp_gbps UDP_RUN="udp_pps -b 0"
fi

declare -A TCP UDP
for r in $(seq "$ROUNDS"); do
	for m in $MODES; do
		setup "$m" || { echo "bench: cannot set up $m" >&2; exit 1; }
		sleep 0.5
		TCP[$m]+="$($TCP_RUN) "
		UDP[$m]+="$($UDP_RUN) "
		teardown "$m"
	done
	echo "round $r done" >&2
done

args=()
for m in $MODES; do args+=("$m" "${TCP[$m]}" "${UDP[$m]}"); done
python3 - "${COST:-0}" "$ROUNDS" "$SECS" "$(cat /proc/loadavg)" "${args[@]}" <<'PY'
import statistics, sys
cost, rounds, secs, load, rest = sys.argv[1] == "1", sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5:]
modes = {rest[i]: (list(map(float, rest[i + 1].split())), list(map(float, rest[i + 2].split())))
         for i in range(0, len(rest), 3)}
# what each mode adds to: its own cost is the ratio against that
adds_to = {"flows": "empty", "flows-xdp": "flows", "flows-clsact": "flows", "flows-precise": "flows",
           "sockets": "flows", "latency": "sockets", "profile": "flows", "all": "latency",
           "empty-all": "empty", "empty-xdp": "empty"}
adds_to.update({m: "all" for m in modes if m.startswith("alt")})
adds_to.update({m: m[:-4] for m in modes if m.endswith("@alt")})
stats = open("/proc/sys/kernel/bpf_stats_enabled").read().strip()
print(f"veth between two namespaces, {rounds} rounds x {secs} s, medians; "
      f"kernel.bpf_stats_enabled={stats}; load average at the end: {' '.join(load.split()[:3])}")
if cost:
    print("CPU time of both CPUs at a fixed rate (lower is better)")
tcol, ucol, uscale = ("TCP ms/Gbit", "UDP ns/pkt", 1) if cost else ("TCP Gbit/s", "UDP 64B kpps", 1e3)
print(f"{'mode':13} {tcol:>11} {'vs none':>8} {'paired':>7} {'vs base':>8} "
      f"{ucol:>13} {'vs none':>8} {'paired':>7} {'vs base':>8}  base")
def ratios(name, w, b):
    if b not in modes or name == b:
        return "", ""
    mine, theirs = modes[name][w], modes[b][w]
    med = statistics.median(mine) / statistics.median(theirs)
    paired = statistics.median(x / y for x, y in zip(mine, theirs))
    return f"{med:8.1%}", f"{paired:7.1%}"
for name, (t, u) in modes.items():
    b = adds_to.get(name, "")
    (tn, tp), (un, up) = ratios(name, 0, "none"), ratios(name, 1, "none")
    (tb, _), (ub, _) = ratios(name, 0, b), ratios(name, 1, b)
    print(f"{name:13} {statistics.median(t):11.2f} {tn:>8} {tp:>7} {tb:>8} "
          f"{statistics.median(u) / uscale:13.1f} {un:>8} {up:>7} {ub:>8}  {b}")
for name, (t, u) in modes.items():
    print(f"raw {name}: TCP {[round(x, 2) for x in t]} UDP {[round(x) for x in u]}")
PY
