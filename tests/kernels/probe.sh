#!/bin/bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# The load test of the kernel matrix: every BPF program netprof may use,
# tried alone on this kernel (netprofd --probe). A program that loads
# passes; one refused that netprofd can do without (it names the
# degradation) is a skip, with the verifier's or libbpf's reason; one
# refused that netprofd needs is a failure.
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
awk '
	$3 == "loads" { p++; next }
	$3 == "optional" { s++; print "skip " $1 "/" $2 ": " substr($0, index($0, $4)); next }
	{ f++; print "FAIL " $1 "/" $2 ": " substr($0, index($0, $4)) }
	END { printf "%d passed, %d failed, %d skipped\n", p, f, s }' "$OUT/probe.txt"
