#!/bin/bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# Inside a kernel of the matrix (PID 1 after tests/kernels/init), or on the
# host for its own row (NP_HOST=1): mount what the tests need, run the
# suites NP_SUITES names, each into NP_OUT/SUITE.log, then power off.
set -u
cd "$NP_ROOT" || exit 1
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export NETPROF_PCAPS=${NETPROF_PCAPS:-$NP_ROOT/../shared/pcaps}

if [ -z "${NP_HOST:-}" ]; then
	# emulated (TCG): the tests stretch what they time (tests/netns/lib.sh SLOW)
	export NP_SLOW=4
	mount -t proc proc /proc
	mount -t sysfs sysfs /sys
	mountpoint -q /dev || mount -t devtmpfs dev /dev
	mkdir -p /dev/pts /dev/shm && mount -t devpts devpts /dev/pts && mount -t tmpfs tmpfs /dev/shm
	mount -t tmpfs tmpfs /run && mkdir -p /run/netns /var/run
	# /tmp stays the overlay's: the results share may live below it
	mount -t bpf bpf /sys/fs/bpf
	mount -t tracefs tracefs /sys/kernel/tracing 2>/dev/null
	mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null
	mount -t cgroup2 cgroup2 /sys/fs/cgroup
	# the kernel's own modules (veth, sch_ingress, cls_bpf...), for modprobe
	kver=$(uname -r)
	mkdir -p "/lib/modules/$kver" && mount --bind "$NP_KROOT/lib/modules/$kver" "/lib/modules/$kver"
	ip link set lo up
	hostname "np-${kver%%+*}"
	sysctl -qw kernel.panic_on_oops=1
	ulimit -l unlimited	# 5.10 charges BPF maps to RLIMIT_MEMLOCK
fi

{
	echo "kernel: $(uname -r)"
	echo "btf: $(test -r /sys/kernel/btf/vmlinux && echo yes || echo no)"
} >"$NP_OUT/kernel.txt"

# suite NAME CMD...: CMD's output into NAME.log (its last line is the count)
suite() {
	local name=$1
	shift
	echo "== $name ($(date +%T))"
	timeout "${SUITE_TIMEOUT:-1200}" "$@" >"$NP_OUT/$name.log" 2>&1
	tail -1 "$NP_OUT/$name.log"
}

for s in ${NP_SUITES//,/ }; do
	case $s in
	probe) suite probe bash tests/kernels/probe.sh ;;
	unit) suite unit ./.output/tests/test_datapath ;;
	quick) suite quick env TESTS="test_pid_attribution test_short_connections" bash tests/netns/test_sockets.sh ;;
	smoke) suite smoke bash tests/kernels/smoke.sh ;;
	# netprof replay on this kernel's programs (5.10: the compat ones), against
	# tshark: captures of IPv6 fragments, fragmented DNS, a 6in4 tunnel, TCP
	# (frames under 3.5 KB: longer ones need 5.18's multi-buffer test runs)
	replay) suite replay python3 tests/replay/vs_tshark.py .output/netprof "$NETPROF_PCAPS" \
		pcpp-ipv6-frag.pcap,ndpi-dns_fragmented.pcap,ndpi-6in4tunnel.pcap,tcpdump-ssh.pcap,pcpp-tcp-reassembly.pcap ;;
	# every capture, as make check runs it on the host (frames past a page: skipped before 5.18)
	replay-all) suite replay-all python3 tests/replay/vs_tshark.py .output/netprof "$NETPROF_PCAPS" ;;
	# one file's tests (netns:test_export.sh:test_ipfix+test_capture), or all of them
	netns:*)
		t=${s#netns:}
		tests=
		[ "$t" = "${t%%:*}" ] || tests=$(echo "${t#*:}" | tr + ' ')
		suite "${s//:/-}" env TESTS="$tests" bash "tests/netns/${t%%:*}" ;;
	# every suite of make check but the matrix itself (no qemu in qemu)
	full) SUITE_TIMEOUT=3300 suite full env NETPROF_KERNELS=none bash tests/run.sh ;;
	*) echo "0 passed, 1 failed" >"$NP_OUT/$s.log"; echo "unknown suite $s" ;;
	esac
done
sync
[ -n "${NP_HOST:-}" ] && exit 0
echo o >/proc/sysrq-trigger
sleep 5
exit 0	# PID 1 exits: panic=-1 reboots, qemu -no-reboot stops
