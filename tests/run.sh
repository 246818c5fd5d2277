#!/bin/bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# `make check`: every test of netprof, as root, on this machine for real.
# Each suite prints "N passed, N failed"; the last line here is their sum.
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
PCAPS=${NETPROF_PCAPS:-$ROOT/../shared/pcaps}
cd "$ROOT"

if [ "$(id -u)" != 0 ]; then
	echo "netprof: the tests load BPF programs and build namespaces: run 'make check' as root" >&2
	exit 1
fi
grep -q ' /sys/fs/bpf bpf ' /proc/mounts || mount -t bpf bpf /sys/fs/bpf

passed=0
failed=0
skipped=0
suite() {
	local name=$1 log line p f
	shift
	log=$(mktemp)
	echo "== $name"
	"$@" 2>&1 | tee "$log"
	line=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$log" | tail -1)
	if [ -z "$line" ]; then
		echo "FAIL $name: no result line (the suite crashed)"
		failed=$((failed + 1))
	else
		p=${line%% passed*}
		f=${line#*passed, }
		f=${f%% failed*}
		k=0
		case $line in *skipped*) k=${line#*failed, }; k=${k%% skipped*} ;; esac
		passed=$((passed + p))
		failed=$((failed + f))
		skipped=$((skipped + k))
	fi
	rm -f "$log"
}

# the library's parsers under ASan and UBSan, over the fuzz harnesses' seeds
suite "fuzz seeds: ASan and UBSan" bash tests/fuzz/regress.sh .output
suite "unit: datapath under BPF_PROG_TEST_RUN" ./.output/tests/test_datapath
# the programs kernels such as 5.10 get instead (bpf/flow.bpf.c *_compat)
suite "unit: the compat datapath" env NETPROF_TEST_COMPAT=1 ./.output/tests/test_datapath
if [ -d "$PCAPS" ]; then
	suite "replay: shared captures vs tshark" python3 tests/replay/vs_tshark.py .output/netprof "$PCAPS"
	suite "unit: capture filters vs libpcap" ./.output/tests/test_capture_filter "$PCAPS"
else
	echo "FAIL replay: captures not found at $PCAPS (set NETPROF_PCAPS)"
	failed=$((failed + 1))
fi
for t in tests/netns/test_*.sh; do
	suite "netns: $(basename "$t" .sh)" bash "$t"
done
# the profiler as kernels before 5.11 run it (stacks by hash: profile.h)
suite "netns: test_profile, hashed stacks" env NETPROFD_WITHOUT=profile_sample \
	TESTS="test_hot_functions_by_connection test_status_counts test_jit_perf_map test_hostile_perf_maps" \
	bash tests/netns/test_profile.sh
# the other kernels users run, in qemu: load test, unit tests, a short rig
# (replay on 5.10 only: the one kernel where it runs the compat program
# and XDP test runs without a context)
if [ "${NETPROF_KERNELS:-}" = none ]; then
	:	# inside a kernel of the matrix (tests/kernels/guest.sh: full), or asked
elif [ -n "${NETPROF_KERNELS:-}" ]; then
	suite "kernels: $NETPROF_KERNELS in qemu" bash tests/kernels.sh --kernels "$NETPROF_KERNELS"
else
	suite "kernels: 5.10 in qemu" bash tests/kernels.sh --kernels 5.10 --suites probe,unit,quick,replay
	suite "kernels: 6.1, 6.12 in qemu" bash tests/kernels.sh --kernels 6.1,6.12
fi
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" = 0 ]
