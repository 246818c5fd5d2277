#!/bin/bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#
# The profiler's own cost against perf's, on the same busy machine, side by
# side in one run: every CPU busy (one hotwork burner per CPU, built with
# frame pointers), 99 Hz on all CPUs for SECS seconds, then the report.
#
#   netprof  netprofd --no-sockets --netns (an empty namespace): the profiler
#            for SECS, then `netprof profile --last SECS --folded`.
#            CPU: netprofd's user+system time over the window (all of it,
#            sweeps included), the report's, and profile_sample's own run
#            time in the kernel (kernel.bpf_stats_enabled=1 for the run).
#            Memory: netprofd's peak resident set (VmHWM).
#   perf     `perf record -F 99 -a -g -- sleep SECS`, then `perf script`.
#            CPU: both processes' user+system time (rusage of the children).
#            Memory: the larger of the two peak resident sets. perf's
#            in-kernel sampling cost (its NMI-time stack copies) is not in
#            these figures; netprof's BPF program time is in its own.
#
# Usage: bench/profile_vs_perf.sh [ROUNDS] [SECS]     (default 3 rounds x 30 s)
. "$(dirname "$0")/../tests/netns/lib.sh"

ROUNDS=${1:-3}
SECS=${2:-30}
NCPU=$(nproc)
BURN_MS=$(( (SECS + 10) * 1000 ))
OLD_STATS=$(cat /proc/sys/kernel/bpf_stats_enabled)
trap 'echo "$OLD_STATS" >/proc/sys/kernel/bpf_stats_enabled; cleanup_all' EXIT

# CPU seconds (user+system) and peak RSS (kB) of a finished command, via rusage
RUSAGE='import resource, subprocess, sys
rc = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL).returncode
r = resource.getrusage(resource.RUSAGE_CHILDREN)
print(f"{r.ru_utime + r.ru_stime:.4f} {r.ru_maxrss}")
sys.exit(rc)'

proc_cpu() {	# user+system seconds of a live pid
	awk -v hz="$(getconf CLK_TCK)" '{ printf "%.4f\n", ($14 + $15) / hz }' "/proc/$1/stat"
}

burners() {
	local i
	BURN=()
	for i in $(seq "$NCPU"); do
		"$ROOT/.output/tests/hotwork" burn "$BURN_MS" >/dev/null &
		BURN+=($!)
		PIDS+=($!)
	done
}

echo 1 >/proc/sys/kernel/bpf_stats_enabled
for r in $(seq "$ROUNDS"); do
	# netprof
	burners
	ip netns list | grep -q "^$P-e\b" || ip netns add "$P-e" || exit 1
	start_netprofd "$WORK/d.log" --no-sockets --netns "$P-e" || exit 1
	c0=$(proc_cpu "$NETPROFD_PID")
	sleep "$SECS"
	c1=$(proc_cpu "$NETPROFD_PID")
	rep=$(python3 -c "$RUSAGE" "$NETPROF" profile --last "${SECS}s" --folded)
	bpf=$("$NETPROF" status --json | python3 -c 'import json, sys; p = json.load(sys.stdin)["profiler"]; print(p["bpf_cpu_ns"] / 1e9, p["samples"], p["lost"])')
	hwm=$(awk '/VmHWM/ { print $2 }' "/proc/$NETPROFD_PID/status")
	stop_netprofd
	"$NETPROFD" --remove -p "$PIN" >/dev/null 2>&1
	kill "${BURN[@]}" 2>/dev/null; wait "${BURN[@]}" 2>/dev/null
	echo "netprof $c0 $c1 $rep $bpf $hwm" >>"$WORK/results"

	# perf
	burners
	rec=$(python3 -c "$RUSAGE" perf record -q -F 99 -a -g -o "$WORK/perf.data" -- sleep "$SECS" 2>/dev/null)
	scr=$(python3 -c "$RUSAGE" perf script -i "$WORK/perf.data")
	samples=$(perf report -i "$WORK/perf.data" --stdio -n --sort comm 2>/dev/null | awk '/^# Samples/ { print $3; exit }')
	kill "${BURN[@]}" 2>/dev/null; wait "${BURN[@]}" 2>/dev/null
	rm -f "$WORK/perf.data"
	echo "perf $rec $scr $samples" >>"$WORK/results"
	echo "round $r done" >&2
done

python3 - "$WORK/results" "$SECS" "$NCPU" <<'PY'
import statistics, sys
secs, ncpu = float(sys.argv[2]), int(sys.argv[3])
np_cpu, np_rss, pf_cpu, pf_rss, np_detail = [], [], [], [], []
for line in open(sys.argv[1]):
    f = line.split()
    if f[0] == "netprof":
        c0, c1, rep_cpu, rep_rss, bpf, samples, lost, hwm = map(float, f[1:9])
        np_cpu.append((c1 - c0) + rep_cpu + bpf)
        np_rss.append(max(hwm, rep_rss))
        np_detail.append((c1 - c0, rep_cpu, bpf, samples, lost))
    else:
        rec_cpu, rec_rss, scr_cpu, scr_rss = map(float, f[1:5])
        pf_cpu.append(rec_cpu + scr_cpu)
        pf_rss.append(max(rec_rss, scr_rss))
m = statistics.median
print(f"profiler cost, 99 Hz on {ncpu} CPUs for {secs:.0f} s with every CPU busy, {len(np_cpu)} rounds, medians")
print(f"{'':10} {'CPU s':>8} {'% of 1 CPU':>11} {'peak RSS MiB':>13}")
print(f"{'netprof':10} {m(np_cpu):8.3f} {100 * m(np_cpu) / secs:10.2f}% {m(np_rss) / 1024:13.1f}")
print(f"{'perf':10} {m(pf_cpu):8.3f} {100 * m(pf_cpu) / secs:10.2f}% {m(pf_rss) / 1024:13.1f}")
print(f"netprof / perf CPU: {m(np_cpu) / m(pf_cpu):.2f} (target <= 0.5); "
      f"paired: {m([a / b for a, b in zip(np_cpu, pf_cpu)]):.2f}")
d = [m(x) for x in zip(*np_detail)]
print(f"netprof detail (medians): netprofd {d[0]:.3f} s, report {d[1]:.3f} s, BPF {d[2]:.3f} s; "
      f"{d[3]:.0f} samples, {d[4]:.0f} lost")
PY
