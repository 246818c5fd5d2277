#!/bin/bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# The load test of the kernel matrix: every BPF program netprof may use,
# tried alone on this kernel (netprofd --probe). A program that loads
# passes; one refused that netprofd can do without (it loads an
# alternative, or names the degradation, or names the capability
# unavailable here) is a skip, with the verifier's or libbpf's reason; one
# refused that netprofd cannot run without is a failure. Then netprofd must start with
# its defaults, and says which capabilities run (status.json).
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
OUT=${NP_OUT:-.}
"$ROOT/.output/netprofd" --probe >"$OUT/probe.txt" 2>"$OUT/probe.err"
rc=$?
cat "$OUT/probe.txt"
if [ ! -s "$OUT/probe.txt" ]; then
	echo "FAIL netprofd --probe printed nothing (exit $rc): $(head -3 "$OUT/probe.err")"
	echo "0 passed, 1 failed"
	exit 1
fi
# netprofd's default start, on a namespace and cgroup of its own: what it
# says it runs here (netprof status --json), for the capability table
caps() {
	local cg ns=npk$$ pin=/sys/fs/bpf/netprof-kprobe-$$ pid i rc=1
	cg=$(awk '$9 == "cgroup2" { print $5; exit }' /proc/self/mountinfo)/netprof-kprobe-$$
	mkdir -p "$cg" && ip netns add "$ns" || return 1
	"$ROOT/.output/netprofd" -p "$pin" --cgroup "$cg" --netns "$ns" >"$OUT/netprofd.log" 2>&1 &
	pid=$!
	for i in $(seq 200); do
		grep -q 'running (pid' "$OUT/netprofd.log" && break
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	if grep -q 'running (pid' "$OUT/netprofd.log"; then
		NETPROF_PIN_DIR=$pin "$ROOT/.output/netprof" status --json >"$OUT/status.json" && rc=0
	fi
	kill -INT "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	"$ROOT/.output/netprofd" --remove -p "$pin" >/dev/null 2>&1
	rm -rf "$pin" "/run/netprof$pin"
	ip netns del "$ns"
	rmdir "$cg"
	return $rc
}
if caps; then
	python3 -c '
import json, sys
for n, c in json.load(open(sys.argv[1]))["capabilities"].items():
    print("capability", n + ":", c["state"], c["why"])' "$OUT/status.json"
	start_ok=1
else
	echo "FAIL netprofd did not start with its defaults:"
	tail -5 "$OUT/netprofd.log"
	start_ok=0
fi
awk -v start_ok=$start_ok '
	$3 == "loads" { p++; next }
	$3 == "optional" || $3 == "unavailable" { s++; print "skip " $1 "/" $2 ": " $3 ": " substr($0, index($0, $4)); next }
	{ f++; print "FAIL " $1 "/" $2 ": " substr($0, index($0, $4)) }
	END { p += start_ok; f += !start_ok; printf "%d passed, %d failed, %d skipped\n", p, f, s }' "$OUT/probe.txt"
