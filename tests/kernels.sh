#!/bin/bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# The kernel matrix: boot the Debian kernels of tests/kernels/kernels.list in
# qemu and run netprof's tests inside each, on this machine's own root
# filesystem (shared read-only over 9p, a tmpfs overlay on top: every write
# in the guest is thrown away). ../shared/RIG.md has the facts this rests
# on: TCG only (no usable KVM), the generic flavour (the cloud one has no
# 9p), the modules the initramfs needs.
#
#   tests/kernels.sh [--suites LIST] [--kernels NAMES] [--out DIR] [--doc FILE]
#
# LIST: probe (every program tried alone: netprofd --probe, then the
# daemon's default start and what it says runs), unit (BPF_PROG_TEST_RUN),
# quick (socket owners on both ends, 1,000 short connections, in
# namespaces), smoke (flows against a capture, socket owners, the service
# map, the profiler's hot functions by connection), replay (netprof replay
# of five captures against tshark), full (every suite of tests/run.sh),
# netns:FILE:TEST+TEST (those tests of tests/netns/FILE, to look at one;
# netns:FILE: all of them),
# replay-all (replay of every shared capture).
# Default: probe,unit,quick. NAMES: from tests/kernels/kernels.list, and host.
# The host kernel is the matrix's last row, run here directly. Each suite's
# "N passed, N failed, N skipped" is summed; the closing line is the total.
# --doc FILE rewrites the tables in FILE (docs/kernels.md) from this run.
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
CACHE=${NETPROF_KERNEL_CACHE:-/var/cache/netprof/kernels}
SUITES=probe,unit,quick
KERNELS=
OUT=
DOC=
TIMEOUT=${NETPROF_KERNEL_TIMEOUT:-900}

while [ $# -gt 0 ]; do
	case $1 in
	--suites) SUITES=$2; shift 2 ;;
	--kernels) KERNELS=$2; shift 2 ;;
	--out) OUT=$2; shift 2 ;;
	--doc) DOC=$2; shift 2 ;;
	-h|--help) sed -n '3,20p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	*) echo "kernels.sh: unknown argument '$1': see tests/kernels.sh --help" >&2; exit 2 ;;
	esac
done
if [ "$(id -u)" != 0 ]; then
	echo "kernels.sh: qemu's 9p share of / and the tests need root: run as root" >&2
	exit 1
fi
[ -x "$ROOT/.output/netprofd" ] || { echo "kernels.sh: build first (make all)" >&2; exit 1; }
OUT=${OUT:-$(mktemp -d /tmp/netprof-kernels.XXXXXX)}
mkdir -p "$OUT" "$CACHE"

log() { printf 'kernels: %s\n' "$*" >&2; }

# apt_private SUITE: apt options for a private copy of that suite's lists
# (the host's own sources and lists are never touched).
apt_private() {
	local base=${1%-security} dir=$CACHE/apt-${1%-security}
	mkdir -p "$dir/lists/partial" "$dir/cache/archives/partial"
	if [ ! -s "$dir/sources.list" ]; then
		printf 'deb http://deb.debian.org/debian %s main\n' "$base" >"$dir/sources.list"
		printf 'deb http://deb.debian.org/debian-security %s-security main\n' "$base" >>"$dir/sources.list"
	fi
	echo "-o Dir::Etc::sourcelist=$dir/sources.list -o Dir::Etc::sourceparts=/nonexistent" \
		"-o Dir::State::Lists=$dir/lists -o Dir::Cache=$dir/cache -o APT::Sandbox::User=root"
}

# fetch NAME SUITE PACKAGE: the kernel's tree under $CACHE/k/KVER; prints KVER.
fetch() {
	local name=$1 suite=$2 meta=$3 opts pkg kver deb dir
	opts=$(apt_private "$suite")
	# a day-old list is fresh enough; a fresh machine fetches it once
	if [ -z "$(find "$CACHE/apt-${suite%-security}/lists" -name '*Packages*' -mtime -1 2>/dev/null | head -1)" ]; then
		# shellcheck disable=SC2086
		apt-get $opts update -qq >/dev/null 2>&1 || { log "$name: apt-get update failed"; return 1; }
	fi
	# shellcheck disable=SC2086
	pkg=$(apt-cache $opts depends "$meta" 2>/dev/null | awk '/Depends: linux-image-[0-9]/ { print $2; exit }')
	[ -n "$pkg" ] || { log "$name: $meta has no linux-image dependency in $suite"; return 1; }
	kver=${pkg#linux-image-}
	dir=$CACHE/k/$kver
	if [ ! -e "$dir/boot/vmlinuz-$kver" ]; then
		log "$name: downloading $pkg"
		mkdir -p "$CACHE/debs" && rm -rf "$dir"
		# shellcheck disable=SC2086
		(cd "$CACHE/debs" && apt-get $opts download "$pkg" >/dev/null 2>&1) ||
			{ log "$name: cannot download $pkg"; return 1; }
		deb=$(ls "$CACHE/debs/${pkg}_"*.deb | tail -1)
		mkdir -p "$dir" && dpkg-deb -x "$deb" "$dir" && rm -f "$deb" || return 1
		depmod -b "$dir" "$kver" || return 1
	fi
	echo "$kver"
}

# initramfs KVER: busybox, the modules for virtio 9p and overlayfs, and init.
initramfs() {
	local kver=$1 kroot=$CACHE/k/$1 img=$CACHE/k/$1/initrd.img tmp m
	[ -s "$img" ] && [ "$img" -nt "$ROOT/tests/kernels/init" ] && { echo "$img"; return 0; }
	tmp=$(mktemp -d)
	mkdir -p "$tmp/bin" "$tmp/mods" "$tmp/proc" "$tmp/sys" "$tmp/dev"
	cp /bin/busybox "$tmp/bin/busybox" || { rm -rf "$tmp"; return 1; }
	: >"$tmp/modules"
	for m in $(modprobe -d "$kroot" -S "$kver" --show-depends -a virtio_pci 9pnet_virtio 9p overlay 2>/dev/null |
		   awk '$1 == "insmod" { print $2 }'); do
		local b
		b=$(basename "$m")
		grep -qx "${b%.xz}" "$tmp/modules" && continue
		case $m in
		*.xz) xz -dc "$m" >"$tmp/mods/${b%.xz}" ;;
		*) cp "$m" "$tmp/mods/$b" ;;
		esac
		echo "${b%.xz}" >>"$tmp/modules"
	done
	cp "$ROOT/tests/kernels/init" "$tmp/init" && chmod 755 "$tmp/init"
	(cd "$tmp" && find . | cpio -o -H newc 2>/dev/null | gzip -1) >"$img.new" && mv "$img.new" "$img"
	rm -rf "$tmp"
	echo "$img"
}

# boot KVER OUTDIR: run tests/kernels/guest.sh in the guest; its results land in OUTDIR.
boot() {
	local kver=$1 out=$2 img
	img=$(initramfs "$kver") || { log "$kver: no initramfs"; return 1; }
	mkdir -p "$out"
	timeout "$TIMEOUT" qemu-system-x86_64 -accel tcg,thread=multi -cpu max -M q35 -smp 2 -m 4G \
		-nographic -no-reboot -nodefaults -serial stdio \
		-kernel "$CACHE/k/$kver/boot/vmlinuz-$kver" -initrd "$img" \
		-append "console=ttyS0 panic=-1 quiet loglevel=3 NP_ROOT=$ROOT NP_OUT=$out NP_SUITES=$SUITES NP_KROOT=$CACHE/k/$kver" \
		-virtfs local,id=root,path=/,mount_tag=/dev/root,security_model=none,readonly=on,multidevs=remap \
		-virtfs local,id=out,path="$out",mount_tag=npout,security_model=none,multidevs=remap \
		</dev/null >"$out/console.log" 2>&1
	local rc=$?
	[ $rc = 124 ] && log "$kver: timed out after $TIMEOUT s"
	return $rc
}

# the host kernel: the same guest script, run here (no qemu)
host_run() {
	local out=$1
	mkdir -p "$out"
	NP_ROOT=$ROOT NP_OUT=$out NP_SUITES=$SUITES NP_HOST=1 bash "$ROOT/tests/kernels/guest.sh" \
		</dev/null >"$out/console.log" 2>&1
}

command -v qemu-system-x86_64 >/dev/null && [ -x /bin/busybox ] && command -v depmod >/dev/null ||
	{ echo "kernels.sh: needs qemu-system-x86, busybox-static and kmod: run 'make deps'" >&2; exit 1; }

passed=0 failed=0 skipped=0
rows=()
start=$(date +%s)
while read -r name suite meta; do
	case $name in ''|'#'*) continue ;; esac
	[ -n "$KERNELS" ] && ! echo ",$KERNELS," | grep -q ",$name," && continue
	t0=$(date +%s)
	if ! kver=$(fetch "$name" "$suite" "$meta"); then
		echo "FAIL kernel $name: could not be fetched"
		failed=$((failed + 1))
		continue
	fi
	boot "$kver" "$OUT/$kver"
	rows+=("$name $kver")
done <"$ROOT/tests/kernels/kernels.list"
if [ -z "$KERNELS" ] || echo ",$KERNELS," | grep -q ",host,"; then
	host_run "$OUT/host-$(uname -r)"
	rows+=("host host-$(uname -r)")
fi

# results: each suite wrote DIR/SUITE.log ending in "N passed, N failed[, N skipped]"
for row in "${rows[@]}"; do
	name=${row%% *}
	kdir=$OUT/${row#* }
	for s in ${SUITES//,/ }; do
		s=${s//:/-}	# netns:FILE:TESTS logs as netns-FILE-TESTS
		line=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$kdir/$s.log" 2>/dev/null | tail -1)
		if [ -z "$line" ]; then
			echo "FAIL $name $s: no result (the guest did not finish; $kdir/console.log)"
			tail -5 "$kdir/console.log" 2>/dev/null | sed 's/^/    /'
			failed=$((failed + 1))
			continue
		fi
		p=${line%% passed*}
		f=${line#*passed, }; f=${f%% failed*}
		k=0
		case $line in *skipped*) k=${line#*failed, }; k=${k%% skipped*} ;; esac
		passed=$((passed + p)); failed=$((failed + f)); skipped=$((skipped + k))
		echo "$name $s: $line"
		grep -E '^(FAIL|skip) ' "$kdir/$s.log" | sed 's/^/    /'
	done
done
if [ -n "$DOC" ]; then
	args=()
	for row in "${rows[@]}"; do args+=("${row%% *}=$OUT/${row#* }"); done
	python3 "$ROOT/tests/kernels/table.py" "$DOC" "${args[@]}" || failed=$((failed + 1))
fi
echo "kernel matrix: $(( $(date +%s) - start )) s; results in $OUT"
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" = 0 ]
