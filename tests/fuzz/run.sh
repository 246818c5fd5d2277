#!/bin/bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#
# make fuzz: each libFuzzer harness for SECONDS from its corpus, which
# starts from tests/fuzz/seeds/NAME (plus, for captures, ../shared/pcaps and,
# for ELF files, a binary of the tests); the corpora grow in OUTPUT/fuzz.
# One line per harness: executions, corpus size, coverage; crashes are
# kept as OUTPUT/fuzz/crash-* (and the run fails).
#
# Usage: tests/fuzz/run.sh OUTPUT SECONDS NAME...
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
OUT=$1 SECS=$2
shift 2
PCAPS=${NETPROF_PCAPS:-$ROOT/../shared/pcaps}
failed=0
for name in "$@"; do
	corpus=$OUT/fuzz/corpus-$name
	mkdir -p "$corpus"
	[ -d "$ROOT/tests/fuzz/seeds/$name" ] && cp -n "$ROOT/tests/fuzz/seeds/$name"/* "$corpus"/ 2>/dev/null
	case $name in
	pcapfile) cp -n "$PCAPS"/*.pcap* "$corpus"/ 2>/dev/null ;;
	syms) cp -n "$OUT/tests/hotwork" "$corpus"/ ;;
	esac
	log=$OUT/fuzz/$name.log
	"$OUT/fuzz/fuzz_$name" -max_total_time="$SECS" -rss_limit_mb=2048 -max_len=65536 \
		-artifact_prefix="$OUT/fuzz/crash-$name-" -print_final_stats=1 "$corpus" >"$log" 2>&1
	rc=$?
	runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
	cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1)
	if [ "$rc" = 0 ]; then
		echo "ok   fuzz $name: $runs runs in ${SECS} s, $(ls "$corpus" | wc -l) inputs in the corpus, $cov"
	else
		echo "FAIL fuzz $name (exit $rc): $(grep -m1 -E 'ERROR|runtime error' "$log")"
		ls "$OUT"/fuzz/crash-"$name"-* 2>/dev/null | sed 's/^/  /'
		failed=$((failed + 1))
	fi
done
exit $((failed > 0))
