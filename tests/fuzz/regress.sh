#!/bin/bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#
# make check: every fuzz harness, built with ASan and UBSan (no recovery),
# once over its seeds (tests/fuzz/seeds/NAME; captures: ../shared/pcaps;
# ELF files: binaries of the build): what fuzzing found once stays fixed,
# and the library's code under the sanitizers stays clean on real input.
#
# Usage: tests/fuzz/regress.sh OUTPUT
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
OUT=$1
PCAPS=${NETPROF_PCAPS:-$ROOT/../shared/pcaps}
passed=0 failed=0
for bin in "$OUT"/fuzz/regress_*; do
	name=${bin##*regress_}
	case $name in
	pcapfile) inputs=("$PCAPS") ;;
	syms) inputs=("$OUT/tests/hotwork" "$OUT/netprof" "$OUT/tests/test_datapath") ;;
	*) inputs=() ;;
	esac
	[ -d "$ROOT/tests/fuzz/seeds/$name" ] && inputs+=("$ROOT/tests/fuzz/seeds/$name")
	if out=$("$bin" "${inputs[@]}" 2>&1); then
		echo "ok   fuzz seeds $name: ${out##*: }"
		passed=$((passed + 1))
	else
		echo "FAIL fuzz seeds $name:"
		echo "$out" | grep -m5 -E 'ERROR|runtime error|SUMMARY' | sed 's/^/  /'
		failed=$((failed + 1))
	fi
done
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
