# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# Helpers for the namespace rigs. Source it; each test script then defines
# test_* functions and calls run_tests. Everything a test creates carries the
# run's prefix ($P) and is removed by cleanup on exit, pass or fail:
# namespaces, pins under $PIN, servers and captures stopped by pid.

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
NETPROF=${NETPROF:-$ROOT/.output/netprof}
NETPROFD=${NETPROFD:-$ROOT/.output/netprofd}
# How much slower than this machine the one under test runs: 4 in the kernel
# matrix's guests (qemu without KVM, tests/kernels/guest.sh). Tests that time
# the world (how long a load runs, a bound in milliseconds) scale by it;
# what they compare with ground truth does not change.
SLOW=${NP_SLOW:-1}
P=np$$x				# namespace prefix for this run
PIN=/sys/fs/bpf/netprof-test-$$
WORK=$(mktemp -d /tmp/netprof-test.XXXXXX)
PIDS=()				# background processes to stop
CGROOT=$(awk '$9 == "cgroup2" { print $5; exit }' /proc/self/mountinfo)
CG=$CGROOT/netprof-test-$$	# test processes run here; netprofd follows it, never the root
PASSED=0
FAILED=0
SKIPPED=0
export NETPROF_PIN_DIR=$PIN

# (every step may fail harmlessly: a server already gone, and so on)
cleanup() {
	local pid ns
	set +e
	for pid in "${PIDS[@]}"; do
		kill "$pid" 2>/dev/null
	done
	for pid in "${PIDS[@]}"; do
		wait "$pid" 2>/dev/null
	done
	PIDS=()
	for ns in $(ip netns list 2>/dev/null | awk '{print $1}' | grep "^$P"); do
		ip netns pids "$ns" 2>/dev/null | xargs -r kill 2>/dev/null
		ip netns del "$ns" 2>/dev/null
	done
	if [ -d "$PIN" ]; then
		"$NETPROFD" --remove -p "$PIN" >/dev/null 2>&1
		rm -rf "$PIN"
		rm -rf "/run/netprof$PIN"	# the profile journal that goes with the pins
	fi
	if [ -d "$CG" ]; then
		# the test cgroup and those below it (CGSUB), deepest first
		for ns in $(find "$CG" -depth -type d); do
			xargs -r kill -9 <"$ns/cgroup.procs" 2>/dev/null
			for pid in 1 2 3 4 5 6 7 8 9 10; do rmdir "$ns" 2>/dev/null && break; sleep 0.1; done
		done
	fi
	return 0
}

cleanup_all() {
	local rc=$?
	cleanup
	rm -rf "$WORK"
	exit "$rc"
}
trap cleanup_all EXIT
trap 'exit 130' INT TERM

mount_bpffs() {
	grep -q ' /sys/fs/bpf bpf ' /proc/mounts || mount -t bpf bpf /sys/fs/bpf
}

fail() {
	echo "  $*" >&2
	return 1
}

# hooks NS DEV: what the kernel has attached to DEV, as JSON:
# {"xdp": N, "clsact_ingress": N, "clsact_egress": N (netprof's filters),
#  "tcx_ingress": N, "tcx_egress": N (any program; -1 before tcx, 6.6)}
hooks() {
	local ns=$1 dev=$2
	python3 - "$(ip -n "$ns" -j -d link show "$dev")" \
		"$(ip netns exec "$ns" tc filter show dev "$dev" ingress 2>/dev/null | grep -c 'handle 0x6e70')" \
		"$(ip netns exec "$ns" tc filter show dev "$dev" egress 2>/dev/null | grep -c 'handle 0x6e70')" \
		"$(ip netns exec "$ns" python3 "$ROOT/tests/lib/tcx_query.py" "$dev")" <<'PY'
import json, sys
link = json.loads(sys.argv[1])[0]
tcx = json.loads(sys.argv[4])
x = link.get("xdp", {})
n = 1 if x.get("prog") or x.get("attached") else 0
print(json.dumps({"xdp": n, "clsact_ingress": int(sys.argv[2]), "clsact_egress": int(sys.argv[3]),
                  "tcx_ingress": len(tcx["ingress"]) if tcx["tcx"] else -1,
                  "tcx_egress": len(tcx["egress"]) if tcx["tcx"] else -1}))
PY
}

# veth_pair NS1 IF1 ADDR1 NS2 IF2 ADDR2 [V6_1 V6_2]: a link with static
# neighbours (no ARP/ND traffic to muddy exact counts) and offloads off, so
# a capture sees the wire packets netprof counts.
veth_pair() {
	local ns1=$1 if1=$2 a1=$3 ns2=$4 if2=$5 a2=$6 v61=$7 v62=$8 mac1 mac2 ns
	for ns in "$ns1" "$ns2"; do
		ip netns list | grep -qw "$ns" && continue
		ip netns add "$ns"
		# interfaces moved in take these: no router solicitations
		ip netns exec "$ns" sysctl -qw net.ipv6.conf.default.router_solicitations=0 2>/dev/null
	done
	ip link add "$P-t1" type veth peer name "$P-t2"
	ip link set "$P-t1" netns "$ns1" name "$if1"
	ip link set "$P-t2" netns "$ns2" name "$if2"
	ip -n "$ns1" addr add "$a1/24" dev "$if1"
	ip -n "$ns2" addr add "$a2/24" dev "$if2"
	if [ -n "$v61" ]; then
		ip -n "$ns1" addr add "$v61/64" dev "$if1" nodad
		ip -n "$ns2" addr add "$v62/64" dev "$if2" nodad
	fi
	ip -n "$ns1" link set lo up
	ip -n "$ns2" link set lo up
	ip -n "$ns1" link set "$if1" up
	ip -n "$ns2" link set "$if2" up
	ip netns exec "$ns1" ethtool -K "$if1" tso off gso off gro off >/dev/null 2>&1
	ip netns exec "$ns2" ethtool -K "$if2" tso off gso off gro off >/dev/null 2>&1
	mac1=$(ip -n "$ns1" -br link show "$if1" | awk '{print $3}')
	mac2=$(ip -n "$ns2" -br link show "$if2" | awk '{print $3}')
	ip -n "$ns1" neigh replace "$a2" lladdr "$mac2" dev "$if1" nud permanent
	ip -n "$ns2" neigh replace "$a1" lladdr "$mac1" dev "$if2" nud permanent
	if [ -n "$v61" ]; then
		ip -n "$ns1" neigh replace "$v62" lladdr "$mac2" dev "$if1" nud permanent
		ip -n "$ns2" neigh replace "$v61" lladdr "$mac1" dev "$if2" nud permanent
	fi
	# no router solicitations or other chatter from the kernel
	ip netns exec "$ns1" sysctl -qw net.ipv6.conf.all.router_solicitations=0 2>/dev/null
	ip netns exec "$ns2" sysctl -qw net.ipv6.conf.all.router_solicitations=0 2>/dev/null
}

# delay_rig NET: a known delay on the path, 10 ms each way, added by a
# userspace bridge in a router namespace (tests/unit/delaybridge.c; no
# netem here):
#   netns $P-c cli NET.1 -- rc [$P-r: delaybridge 10 ms] rs -- srv NET.2 netns $P-s
delay_rig() {
	local net=$1 m1 m2 ns
	for ns in c r s; do ip netns add "$P-$ns" || return 1; done
	ip link add "$P-a" type veth peer name "$P-b" && ip link add "$P-d" type veth peer name "$P-e" || return 1
	ip link set "$P-a" netns "$P-c" name cli && ip link set "$P-b" netns "$P-r" name rc
	ip link set "$P-d" netns "$P-r" name rs && ip link set "$P-e" netns "$P-s" name srv
	ip -n "$P-c" addr add "$net.1/24" dev cli
	ip -n "$P-s" addr add "$net.2/24" dev srv
	for ns in c r s; do ip -n "$P-$ns" link set lo up; done
	ip -n "$P-c" link set cli up && ip -n "$P-s" link set srv up
	ip -n "$P-r" link set rc up promisc on && ip -n "$P-r" link set rs up promisc on
	# frames cross a packet socket: checksums must be complete, segments real
	ip netns exec "$P-c" ethtool -K cli tx off tso off gso off gro off >/dev/null 2>&1
	ip netns exec "$P-s" ethtool -K srv tx off tso off gso off gro off >/dev/null 2>&1
	m1=$(ip -n "$P-c" -br link show cli | awk '{print $3}')
	m2=$(ip -n "$P-s" -br link show srv | awk '{print $3}')
	ip -n "$P-c" neigh replace "$net.2" lladdr "$m2" dev cli nud permanent
	ip -n "$P-s" neigh replace "$net.1" lladdr "$m1" dev srv nud permanent
	start_bg "$P-r" "$ROOT/.output/tests/delaybridge" rc rs 10
}

# The test cgroup, created on first use; with CGSUB=NAME, the cgroup NAME
# below it (one per service in the service-map rig).
test_cgroup() {
	[ -n "$CGROOT" ] || { fail "cgroup v2 is not mounted"; return 1; }
	mkdir -p "$CG${CGSUB:+/$CGSUB}"
}

# wait_log FILE PATTERN PID WHAT: until PATTERN is in FILE (5 s at most);
# if PID dies or time runs out, FILE goes to stderr and WHAT did not start.
wait_log() {
	local i
	for i in $(seq 100); do
		grep -q "$2" "$1" && return 0
		kill -0 "$3" 2>/dev/null || break
		sleep 0.05
	done
	cat "$1" >&2
	fail "$4 did not start"
}

# start_netprofd LOGFILE ARGS...: start in the background, wait until it runs.
# Socket tracking follows the test cgroup unless ARGS say otherwise.
start_netprofd() {
	local log=$1 extra=()
	shift
	case " $* " in
	*" --cgroup "*|*" --no-sockets "*) ;;
	*) test_cgroup || return 1; extra=(--cgroup "$CG") ;;
	esac
	# NETPROFD_WITHOUT=P,...: the fallbacks of these programs, as on kernels that refuse them
	[ -z "${NETPROFD_WITHOUT:-}" ] || extra+=(--without-prog "$NETPROFD_WITHOUT")
	# emptied first: a log an earlier netprofd wrote says "running" already,
	# and the wait below could read it before the redirect empties it
	: >"$log"
	"$NETPROFD" -p "$PIN" "${extra[@]}" "$@" >"$log" 2>&1 &
	NETPROFD_PID=$!
	PIDS+=("$NETPROFD_PID")
	wait_log "$log" 'running (pid' "$NETPROFD_PID" netprofd
}

# wait_sweep: until netprofd has begun and finished a sweep after this call
# (open sockets' counters are as of the last sweep's pass at most).
wait_sweep() {
	local t0 t ago i
	t0=$(date +%s%N)
	for i in $(seq 50); do
		sleep 0.1
		t=$(date +%s%N)
		ago=$("$NETPROF" status --json 2>/dev/null |
			python3 -c 'import json, sys; print(json.load(sys.stdin)["daemon"]["last_sweep_ago_ns"])') || continue
		# 0: no sweep yet
		[ "$ago" -gt 0 ] && [ $((t - t0)) -gt "$ago" ] && return 0
	done
	fail "netprofd did not sweep in 5 s"
}

# skip REASON: this test cannot run here (the kernel lacks what it needs):
# counted as skipped with the reason, never as passed
skip() {
	echo "  skip: $*"
	exit 77
}

# need_cap NAME [LOSS...]: skip unless the running netprofd has capability
# NAME active on this kernel, or degraded without any of the LOSSes the
# test depends on (words of what `netprof status` says is lost)
need_cap() {
	local c=$1 line state why loss
	shift
	line=$("$NETPROF" status --json 2>/dev/null | python3 -c '
import json, sys
c = (json.load(sys.stdin).get("capabilities") or {}).get(sys.argv[1]) or {}
print(c.get("state", "unknown"), c.get("why", ""))' "$c")
	state=${line%% *}
	why=${line#* }
	case $state in
	active) return 0 ;;
	degraded)
		for loss in "$@"; do
			case $why in *"$loss"*) skip "$c degraded on $(uname -r): $why" ;; esac
		done
		return 0 ;;
	esac
	skip "$c $state on $(uname -r): $why"
}

stop_netprofd() {
	kill -INT "$NETPROFD_PID" 2>/dev/null
	wait "$NETPROFD_PID" 2>/dev/null
}

# start_capture NS IF FILE: tcpdump in the namespace, returns once it listens.
start_capture() {
	local ns=$1 ifc=$2 file=$3
	ip netns exec "$ns" tcpdump -i "$ifc" -B 65536 --immediate-mode -U -n -w "$file" \
		2>"$file.log" &
	CAPTURE_PID=$!
	PIDS+=("$CAPTURE_PID")
	wait_log "$file.log" 'listening on' "$CAPTURE_PID" "tcpdump on $ifc"
}

stop_capture() {
	local pid=${1:-$CAPTURE_PID}
	sleep 0.3
	kill -INT "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
}

# in_cg NS CMD...: run CMD in namespace NS inside the test cgroup (the pid
# stays CMD's: sh joins the cgroup, then execs). nsenter, not ip netns
# exec: only the network namespace changes, so bpffs pins stay visible.
in_cg() {
	local ns=$1
	shift
	test_cgroup || return 1
	sh -c 'echo $$ >"$0/cgroup.procs" && ns=$1 && shift && exec nsenter --net="/var/run/netns/$ns" "$@"' \
		"$CG${CGSUB:+/$CGSUB}" "$ns" "$@"
}

# in_cg_bg NS CMD...: in_cg in the background; LAST_PID is CMD's own pid
# (the subshell execs sh, which execs nsenter, which execs CMD).
in_cg_bg() {
	local ns=$1
	shift
	test_cgroup || return 1
	( exec sh -c 'echo $$ >"$0/cgroup.procs" && ns=$1 && shift && exec nsenter --net="/var/run/netns/$ns" "$@"' \
		"$CG${CGSUB:+/$CGSUB}" "$ns" "$@" ) &
	LAST_PID=$!
}

# start_bg NS CMD...: a server in the namespace and the test cgroup,
# stopped by pid at cleanup; LAST_PID is its pid.
start_bg() {
	in_cg_bg "$@" >"$WORK/bg.$RANDOM.log" 2>&1
	PIDS+=("$LAST_PID")
}

# wait_port NS PORT: until a TCP listener is there.
wait_port() {
	local i
	for i in $(seq 100); do
		ip netns exec "$1" ss -Htln "sport = :$2" | grep -q . && return 0
		sleep 0.05
	done
	fail "nothing listens on port $2 in $1"
}

run_tests() {
	local t
	mount_bpffs
	for t in "$@"; do
		# each test in a subshell with its own cleanup: a failing test
		# leaves nothing behind for the next one
		( set -o pipefail; trap cleanup EXIT; "$t" )
		case $? in
		0) echo "ok   $t"; PASSED=$((PASSED + 1)) ;;
		77) echo "skip $t"; SKIPPED=$((SKIPPED + 1)) ;;
		*) echo "FAIL $t"; FAILED=$((FAILED + 1)) ;;
		esac
		cleanup
	done
	echo "$PASSED passed, $FAILED failed, $SKIPPED skipped"
	[ "$FAILED" = 0 ]
}
