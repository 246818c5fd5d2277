#!/bin/bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# The short netns test of the kernel matrix: netprofd's default start,
# flows against a capture, socket owners on both ends, the service map,
# the profiler's hot functions by connection.
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
p=0 f=0 k=0
run() {
	local out line
	out=$("$@" 2>&1)
	echo "$out"
	line=$(echo "$out" | grep -E '^[0-9]+ passed, [0-9]+ failed' | tail -1)
	[ -n "$line" ] || { f=$((f + 1)); return; }
	p=$((p + ${line%% passed*}))
	line=${line#*passed, }
	f=$((f + ${line%% failed*}))
	case $line in *skipped*) line=${line#*failed, }; k=$((k + ${line%% skipped*})) ;; esac
}
run env TESTS=test_flows_match_captures bash "$ROOT/tests/netns/test_flows.sh"
run env TESTS=test_pid_attribution bash "$ROOT/tests/netns/test_sockets.sh"
run env TESTS=test_three_tiers bash "$ROOT/tests/netns/test_map.sh"
run env TESTS=test_hot_functions_by_connection bash "$ROOT/tests/netns/test_profile.sh"
echo "$p passed, $f failed, $k skipped"
[ "$f" = 0 ]
