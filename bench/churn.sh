#!/bin/bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#
# Connection churn on loopback (bench/churn.c) in a namespace of its own,
# its processes in a cgroup of their own, side by side in one run:
#   none      no netprof
#   sockets   netprofd tracking that cgroup (sockops, I/O tracepoints),
#             without the latency stages; its flow programs on another namespace
#   all       netprofd following the bench namespace too (flows on its lo),
#             latency stages included
#   alt       (diagnostic) sockets, with the netprofd binary in ALT_NETPROFD
#             (another build: A/B in one run, e.g. before and after a change)
# Modes interleaved round by round; medians, ratios against none.
#
# Usage: [MODES="none sockets"] [ALT_NETPROFD=path] bench/churn.sh [ROUNDS] [SECONDS]

. "$(dirname "$0")/../tests/netns/lib.sh"
ROUNDS=${1:-5}
SECS=${2:-3}
MODES=${MODES:-"none sockets all"}

mount_bpffs
ip netns add "$P-b" && ip netns add "$P-idle" || exit 1
ip -n "$P-b" link set lo up
ip netns exec "$P-b" sysctl -qw net.ipv4.ip_local_port_range="1024 65000"
test_cgroup || exit 1

setup() {
	case $1 in
	sockets) start_netprofd "$WORK/d.log" --netns "$P-idle" --no-latency --no-profile ;;
	alt) NETPROFD=$ALT_NETPROFD start_netprofd "$WORK/d.log" --netns "$P-idle" --no-latency --no-profile ;;
	all) start_netprofd "$WORK/d.log" --netns "$P-b" --no-profile ;;
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
python3 - "$ROUNDS" "$SECS" "${R[none]}" "${R[sockets]}" "${R[all]}" "${R[alt]}" <<'PY'
import statistics, sys
rounds, secs = sys.argv[1], sys.argv[2]
runs = {m: list(map(float, sys.argv[3 + i].split())) for i, m in enumerate(("none", "sockets", "all", "alt"))}
runs = {m: v for m, v in runs.items() if v}
base = statistics.median(runs["none"])
print(f"loopback connection churn, {rounds} rounds x {secs} s, medians")
print(f"{'mode':8} {'conn/s':>9} {'vs none':>8}")
for m, v in runs.items():
    print(f"{m:8} {statistics.median(v):9.0f} {statistics.median(v) / base:8.1%}")
# each round runs every mode back to back: the median of per-round ratios
# cancels the machine's slower and faster minutes
for m, v in runs.items():
    if m != "none":
        paired = statistics.median(x / b for x, b in zip(v, runs["none"]))
        print(f"{m}: median of per-round ratios {paired:.1%}")
for m, v in runs.items():
    print(f"raw {m}: {[round(x) for x in v]}")
PY
