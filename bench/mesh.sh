#!/bin/bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#
# The service map's daemon under load: bench/mesh.c runs N services (each
# in a cgroup and under a command name of its own) on loopback in a bench
# namespace, calling each other at RATE connections per second in total.
# netprofd follows their cgroups (sockets, service map) and the namespace
# (flows on lo). Reported: netprofd's CPU (utime + stime from /proc over
# the run) and its peak resident memory, then what `netprof map` finds
# and how long it takes.
#
# Usage: bench/mesh.sh [N] [RATE] [SECONDS]

. "$(dirname "$0")/../tests/netns/lib.sh"
N=${1:-100}
RATE=${2:-2000}
SECS=${3:-30}

mount_bpffs
ip netns add "$P-m" || exit 1
ip -n "$P-m" link set lo up
test_cgroup || exit 1
for i in $(seq 0 $((N - 1))); do mkdir -p "$CG/svc$i"; done
start_netprofd "$WORK/d.log" ${MESH_FLOWS---netns "$P-m"} || exit 1

ticks() { awk '{ print $14 + $15 }' "/proc/$NETPROFD_PID/stat"; }
hz=$(getconf CLK_TCK)
t0=$(ticks)
s0=$(date +%s.%N)
rate=$(in_cg "$P-m" "$ROOT/.output/bench/mesh" "$CG" "$N" "$RATE" "$SECS")
s1=$(date +%s.%N)
t1=$(ticks)
hwm=$(awk '/VmHWM/ { print $2 }' "/proc/$NETPROFD_PID/status")
m0=$(date +%s%N)
"$NETPROF" map --json >"$WORK/map.json"
m1=$(date +%s%N)
python3 - "$WORK/map.json" "$N" "$rate" "$SECS" "$((t1 - t0))" "$hz" "$s0" "$s1" "$hwm" \
	"$(( (m1 - m0) / 1000000 ))" <<'PY'
import json, sys
m = json.load(open(sys.argv[1]))
n, rate, secs, ticks, hz, s0, s1, hwm, map_ms = sys.argv[2:]
wall = float(s1) - float(s0)
cpu = int(ticks) / int(hz)
edges = m["edges"]
conns = sum(e["connections"] for e in edges)
print(f"{n} services, {rate} connections/s for {secs} s (asked {sys.argv[3]})")
print(f"netprofd CPU: {cpu:.2f} s over {wall:.1f} s = {100 * cpu / wall:.2f}% of one core")
print(f"netprofd peak resident: {int(hwm) / 1024:.1f} MiB")
print(f"netprof map: {len(edges)} edges, {len(m['nodes'])} nodes, {conns} connections, {map_ms} ms")
PY
