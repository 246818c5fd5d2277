# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# bash completion for netprof and netprofd. Options come from the
# programs' own --help, so completion never disagrees with them.

_netprof_opts() {
	"$@" --help 2>/dev/null | grep -oE -- '(^|[ ,])--?[a-zA-Z][a-zA-Z0-9-]*' |
		sed 's/^[ ,]*//' | sort -u
}

# the argument an option takes: interfaces, namespaces, files, or nothing
_netprof_arg() {
	local prev=$1 ns=$2
	case $prev in
	-i|--interface)
		if [ -n "$ns" ]; then
			COMPREPLY=($(compgen -W "$(ip -n "$ns" -o link show 2>/dev/null | awk -F': ' '{print $2}' | cut -d@ -f1)" -- "$cur"))
		else
			COMPREPLY=($(compgen -W "$(ls /sys/class/net 2>/dev/null)" -- "$cur"))
		fi
		return 0 ;;
	-n|--netns)
		COMPREPLY=($(compgen -W "$(ip netns list 2>/dev/null | awk '{print $1}')" -- "$cur"))
		return 0 ;;
	-w|--write|--svg|--pprof|--debug-dir|-p|--pin-dir|-c|--cgroup)
		COMPREPLY=($(compgen -f -- "$cur"))
		return 0 ;;
	-s|--sort)
		COMPREPLY=($(compgen -W "bytes packets rate age conns failed rtt cpu retrans" -- "$cur"))
		return 0 ;;
	--xdp)
		COMPREPLY=($(compgen -W "auto native generic off" -- "$cur"))
		return 0 ;;
	--tc)
		COMPREPLY=($(compgen -W "auto tcx clsact" -- "$cur"))
		return 0 ;;
	-F|--format)
		COMPREPLY=($(compgen -W "pcap pcapng" -- "$cur"))
		return 0 ;;
	esac
	return 1
}

_netprof() {
	local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]} cmd= ns= i
	for ((i = 1; i < COMP_CWORD; i++)); do
		case ${COMP_WORDS[i]} in
		--netns) ns=${COMP_WORDS[i+1]} ;;
		--pin-dir) ((i++)) ;;
		-*) ;;
		*) [ -z "$cmd" ] && cmd=${COMP_WORDS[i]} ;;
		esac
	done
	_netprof_arg "$prev" "$ns" && return
	if [ -z "$cmd" ]; then
		if [[ $cur == -* ]]; then
			COMPREPLY=($(compgen -W "$(_netprof_opts "${COMP_WORDS[0]}")" -- "$cur"))
		else
			COMPREPLY=($(compgen -W "$("${COMP_WORDS[0]}" --help 2>/dev/null |
				awk '/^Commands:/ {c = 1; next} c && /^  [a-z]/ {print $1} c && !/^  / {c = 0}')" -- "$cur"))
		fi
	elif [[ $cur == -* ]]; then
		COMPREPLY=($(compgen -W "$(_netprof_opts "${COMP_WORDS[0]}" "$cmd")" -- "$cur"))
	elif [ "$cmd" = replay ]; then
		COMPREPLY=($(compgen -f -- "$cur"))
	fi
}

_netprofd() {
	local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]} ns= i
	for ((i = 1; i < COMP_CWORD; i++)); do
		[ "${COMP_WORDS[i]}" = --netns ] && ns=${COMP_WORDS[i+1]}
	done
	_netprof_arg "$prev" "$ns" && return
	COMPREPLY=($(compgen -W "$(_netprof_opts "${COMP_WORDS[0]}")" -- "$cur"))
}

complete -F _netprof netprof
complete -F _netprofd netprofd
