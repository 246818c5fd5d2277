#!/bin/bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#
# What netprof costs connection churn: short connections on loopback
# (bench/churn.c) in a namespace of its own, its processes in a cgroup of
# their own, side by side in one run, against no netprof at all:
#   none      no netprof
#   flows     netprofd counting flows on the bench namespace's lo, nothing else
#   sockets   socket tracking of that cgroup alone (sockops, I/O
#             tracepoints; its flow programs on another namespace)
#   latency   sockets + the latency stages (flows elsewhere)
#   profile   the CPU profiler alone at 99 Hz (flows elsewhere)
#   all       netprofd with its defaults, following the bench namespace
#   alt       (diagnostic) sockets, with the netprofd binary in ALT_NETPROFD
#             (another build: A/B in one run, e.g. before and after a change)
# Modes interleaved round by round; medians, ratios against none (of the
# medians, and the median of per-round ratios).
#
# Usage: [MODES="none sockets"] [ALT_NETPROFD=path] bench/churn.sh [ROUNDS] [SECONDS]

. "$(dirname "$0")/../tests/netns/lib.sh"
ROUNDS=${1:-5}
SECS=${2:-3}
MODES=${MODES:-"none flows sockets latency profile all"}

mount_bpffs
ip netns add "$P-b" && ip netns add "$P-idle" || exit 1
ip -n "$P-b" link set lo up
ip netns exec "$P-b" sysctl -qw net.ipv4.ip_local_port_range="1024 65000"
test_cgroup || exit 1

setup() {
	local idle=(--netns "$P-idle")
	case $1 in
	flows) start_netprofd "$WORK/d.log" --netns "$P-b" --no-sockets --no-profile ;;
	sockets) start_netprofd "$WORK/d.log" "${idle[@]}" --no-latency --no-profile ;;
	latency) start_netprofd "$WORK/d.log" "${idle[@]}" --no-profile ;;
	profile) start_netprofd "$WORK/d.log" "${idle[@]}" --no-sockets ;;
	alt) NETPROFD=$ALT_NETPROFD start_netprofd "$WORK/d.log" "${idle[@]}" --no-latency --no-profile ;;
	all) start_netprofd "$WORK/d.log" --netns "$P-b" ;;
	esac
}

declare -A R
for r in $(seq "$ROUNDS"); do
	for m in $MODES; do
		setup "$m" || exit 1
		R[$m]+="$(in_cg "$P-b" "$ROOT/.output/bench/churn" 7777 "$SECS") "
		# a fresh socket table each round: closed sockets are kept for
		# minutes, and a full table would measure the failing-insert path
		[ "$m" = none ] || { stop_netprofd; "$NETPROFD" --remove -p "$PIN" >/dev/null 2>&1; }
		sleep 1		# let the server side's TIME_WAIT sockets age a little
	done
	echo "round $r done" >&2
done
args=()
for m in $MODES; do args+=("$m" "${R[$m]}"); done
python3 - "$ROUNDS" "$SECS" "$(cat /proc/loadavg)" "${args[@]}" <<'PY'
import statistics, sys
rounds, secs, load, rest = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
runs = {rest[i]: list(map(float, rest[i + 1].split())) for i in range(0, len(rest), 2)}
stats = open("/proc/sys/kernel/bpf_stats_enabled").read().strip()
print(f"loopback connection churn, {rounds} rounds x {secs} s, medians; "
      f"kernel.bpf_stats_enabled={stats}; load average at the end: {' '.join(load.split()[:3])}")
print(f"{'mode':8} {'conn/s':>9} {'vs none':>8} {'paired':>7}")
base = runs.get("none")
for m, v in runs.items():
    med = statistics.median(v)
    if base and m != "none":
        # each round runs every mode back to back: the median of per-round
        # ratios cancels the machine's slower and faster minutes
        paired = statistics.median(x / b for x, b in zip(v, base))
        print(f"{m:8} {med:9.0f} {med / statistics.median(base):8.1%} {paired:7.1%}")
    else:
        print(f"{m:8} {med:9.0f}")
for m, v in runs.items():
    print(f"raw {m}: {[round(x) for x in v]}")
PY
