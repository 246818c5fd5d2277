#!/bin/bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#
# `make install`: what it puts where, the man pages against --help against
# the option tables in the code, bash completion, the systemd unit (checked
# by systemd-analyze), and the unit's capability set: netprofd works with
# exactly those capabilities and loses something without each one.
. "$(dirname "$0")/lib.sh"

install_tree() {
	make -s -C "$ROOT" install DESTDIR="$WORK/root" PREFIX=/usr >"$WORK/install.log" 2>&1 ||
		{ cat "$WORK/install.log" >&2; fail "make install failed"; return 1; }
	R=$WORK/root/usr
}

# Every page is there; each command's options are the same in --help, in
# its man page and in the getopt table of its source file.
test_install_and_man_pages() {
	install_tree || return 1
	local f
	for f in sbin/netprofd sbin/netprof share/man/man8/netprofd.8 share/man/man8/netprof.8 \
		share/bash-completion/completions/netprof share/bash-completion/completions/netprofd \
		lib/systemd/system/netprofd.service share/doc/netprof/overview.md \
		share/doc/netprof/capture-command.md; do
		[ -e "$R/$f" ] || { fail "make install did not install $f"; return 1; }
	done
	python3 - "$ROOT" "$R" <<'PY'
import re, subprocess, sys
root, r = sys.argv[1], sys.argv[2]
def run(*a):
    return subprocess.run(a, capture_output=True, text=True).stdout
def opts(text):
    return set(re.findall(r"(?<![\w-])(--[a-z][a-z0-9-]*)", text))
def table(path, name=None):
    src = open(f"{root}/{path}").read()
    tables = re.findall(r"struct option \w+\[\] = \{(.*?)\n\s*\{\s*\}", src, re.S)
    return {"--" + n for t in tables for n in re.findall(r'\{\s*"([a-z0-9-]+)"', t)}
cmds = [l.split()[0] for l in run(f"{r}/sbin/netprof", "--help").split("Commands:")[1]
        .split("\n\n")[0].strip().split("\n")]
assert "capture" in cmds and "replay" in cmds, cmds
sources = {"netprofd": "daemon/main.c", "netprof": "cli/main.c", "flows": "cli/flows.c",
           "sockets": "cli/sockets.c", "map": "cli/map.c", "latency": "cli/latency.c",
           "profile": "cli/profile.c", "top": "cli/top.c", "capture": "cli/capture.c"}
checked = 0
for name in ["netprofd", "netprof"] + cmds:
    if name == "netprofd":
        helptext, page = run(f"{r}/sbin/netprofd", "--help"), "netprofd"
    elif name == "netprof":
        helptext, page = run(f"{r}/sbin/netprof", "--help"), "netprof"
    else:
        helptext, page = run(f"{r}/sbin/netprof", name, "--help"), f"netprof-{name}"
    man = subprocess.run(["man", "-l", f"{r}/share/man/man8/{page}.8"], capture_output=True,
                         text=True, env={"MANWIDTH": "200", "PATH": "/usr/bin:/bin"}).stdout
    man = re.sub(".\b", "", man).replace("\u2010", "-").replace("\u2212", "-")
    h = opts(helptext)
    assert h, f"{name}: --help lists no options"
    m = opts(man)
    assert h == m, f"{page}(8) and --help differ: only in help {h - m}, only in man {m - h}"
    if name in sources:
        code = table(sources[name])
        if name == "netprof":   # global options: main.c's table
            pass
        missing = code - h
        assert not missing, f"{name}: options the code accepts but --help does not list: {missing}"
    checked += 1
print(f"  {checked} pages: options in --help = options in the man page, and every getopt option listed")
PY
}

# bash completion: commands, a command's options, namespaces for --netns.
test_bash_completion() {
	install_tree || return 1
	ip netns add "$P-comp" || return 1
	PATH=$R/sbin:$PATH bash -c '
		. "$1"
		complete_words() { COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); COMPREPLY=(); "_${1}"; echo "${COMPREPLY[*]}"; }
		echo "cmds: $(complete_words netprof ca)"
		echo "opts: $(complete_words netprof capture --sn)"
		echo "ns: $(complete_words netprof capture --netns "${2%?????}")"
		echo "d: $(complete_words netprofd --ipfix-a)"
	' _ "$R/share/bash-completion/completions/netprof" "$P-comp" >"$WORK/comp.txt" 2>&1
	cat "$WORK/comp.txt" | sed 's/^/  /'
	grep -qx "cmds: capture" "$WORK/comp.txt" && grep -qx "opts: --snaplen" "$WORK/comp.txt" &&
	grep -q "^ns: .*$P-comp" "$WORK/comp.txt" && grep -qx "d: --ipfix-active" "$WORK/comp.txt" ||
		{ fail "completion"; return 1; }
}

# The unit: systemd accepts it; netprofd runs with its capability set and
# nothing else (as root, bounding set = the unit's), and each capability
# is needed: without it netprofd refuses to start naming it, or a named
# part stops working (a binary only its owner may read is not symbolized
# without CAP_DAC_READ_SEARCH, kernel symbols without CAP_SYSLOG).
# run_with_caps SET ARGS...: netprofd inside the test namespace (entered
# with nsenter, so it follows that namespace as its own and /sys stays the
# host's), under setpriv with exactly the capabilities SET (a,b,...); a
# process of nobody burns CPU in a binary only nobody can read. Prints
# "runs" (then what it lost) or "refuses: <first line>".
run_with_caps() {
	local set=$1 log=$WORK/d.$RANDOM.log pid out
	shift
	nsenter --net="/run/netns/$P-e" setpriv --bounding-set="-all${set:+,$set}" --inh-caps=-all \
		"$WORK/prefix/sbin/netprofd" -p "$PIN" --cgroup "$CG" "$@" >"$log" 2>&1 &
	pid=$!
	PIDS+=("$pid")
	for i in $(seq $((60 * SLOW))); do
		grep -q "running (pid" "$log" && break
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.05
	done
	if ! grep -q "running (pid" "$log" && kill -0 "$pid" 2>/dev/null; then
		# neither running nor refusing: never wait on it
		kill -INT "$pid"
		wait "$pid"
		out="did not start in $((3 * SLOW)) s: $(tail -1 "$log")"
	elif ! grep -q "running (pid" "$log"; then
		wait "$pid"
		out="refuses: $(head -1 "$log")"
	else
		setpriv --reuid=nobody --regid=nogroup --clear-groups "$WORK/own/hw" burn 400 >/dev/null
		# until a drain has taken hw's samples (named or not; slower under emulation)
		for i in $(seq $((30 * SLOW))); do
			sleep 0.1
			"$NETPROF" --pin-dir "$PIN" profile --last 10s --comm hw --folded >"$log.p" 2>/dev/null
			[ -s "$log.p" ] && [ "$i" -ge 13 ] && break
		done
		kill -INT "$pid"
		wait "$pid"
		out="runs"
		grep -q "hot_parse" "$log.p" || out="$out, hw unnamed"
		grep -q "cannot read kernel symbols" "$log" && out="$out, no kernel symbols"
	fi
	"$ROOT/.output/netprofd" --remove -p "$PIN" >/dev/null 2>&1
	echo "$out"
}

caps_set() {
	local c set=
	for c in "$@"; do
		set="$set${set:+,}+$(echo "${c#CAP_}" | tr A-Z a-z)"
	done
	echo "$set"
}

# The unit as systemd-analyze reads it (verify, and its security score),
# then its capability set measured: netprofd runs with exactly those, and
# without each one refuses naming it or loses what docs/install.md says;
# the two a drop-in may add do what they are for.
test_systemd_unit_capabilities() {
	make -s -C "$ROOT" install PREFIX="$WORK/prefix" >"$WORK/install.log" 2>&1 ||
		{ cat "$WORK/install.log" >&2; fail "make install PREFIX= failed"; return 1; }
	local unit=$WORK/prefix/lib/systemd/system/netprofd.service caps drop c out want
	systemd-analyze verify --man=no "$unit" >"$WORK/verify.txt" 2>&1 ||
		{ cat "$WORK/verify.txt" >&2; fail "systemd-analyze verify"; return 1; }
	systemd-analyze security --offline=true "$unit" 2>/dev/null | tail -1 | sed 's/^→/ /'
	caps=$(sed -n 's/^CapabilityBoundingSet=//p' "$unit")
	[ -n "$caps" ] || { fail "no CapabilityBoundingSet in the unit"; return 1; }
	echo "  unit: $caps"
	ip netns add "$P-e" && ip -n "$P-e" link set lo up || return 1
	test_cgroup || return 1
	# a workload only its owner can read: nobody's binary in a 0700 directory
	mkdir -p "$WORK/own" && cp "$ROOT/.output/tests/hotwork" "$WORK/own/hw" &&
	chmod 500 "$WORK/own/hw" && chmod 700 "$WORK/own" && chown -R nobody "$WORK/own" || return 1
	chmod 755 "$WORK"
	for drop in none $caps; do
		set=()
		for c in $caps; do
			[ "$c" = "$drop" ] || set+=("$c")
		done
		out=$(run_with_caps "$(caps_set "${set[@]}")")
		echo "  without ${drop#CAP_}: $out"
		case $drop in
		none) want="runs, hw unnamed" ;;
		CAP_SYSLOG) want="runs, hw unnamed, no kernel symbols" ;;
		CAP_SYS_RESOURCE)
			# RLIMIT_MEMLOCK: BPF memory is the cgroup's from 5.11 on
			case $(uname -r) in
			[0-4].*|5.[0-9].*|5.10.*) want="refuses: *CAP_SYS_RESOURCE*" ;;
			*) want="runs, hw unnamed" ;;
			esac ;;
		*) want="refuses: *$drop*" ;;
		esac
		# shellcheck disable=SC2254
		case $out in $want) ;; *) cat "$WORK"/d.*.log >&2; fail "without $drop: $out, want $want"; return 1 ;; esac
	done
	out=$(run_with_caps "$(caps_set $caps CAP_DAC_READ_SEARCH)")
	echo "  with DAC_READ_SEARCH added: $out"
	[ "$out" = runs ] || { fail "CAP_DAC_READ_SEARCH does not name nobody's binary: $out"; return 1; }
	out=$(run_with_caps "$(caps_set $caps)" --netns "$P-e")
	echo "  --netns without SYS_ADMIN: $out"
	case $out in "refuses: "*CAP_SYS_ADMIN*) ;; *) fail "--netns without CAP_SYS_ADMIN: $out"; return 1 ;; esac
	out=$(run_with_caps "$(caps_set $caps CAP_SYS_ADMIN)" --netns "$P-e")
	echo "  --netns with SYS_ADMIN added: $out"
	[ "$out" = "runs, hw unnamed" ] || { fail "--netns with CAP_SYS_ADMIN: $out"; return 1; }
}

run_tests ${TESTS:-test_install_and_man_pages test_bash_completion test_systemd_unit_capabilities}
