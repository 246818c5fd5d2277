/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * A tcpdump expression, compiled by libpcap to classic BPF, translated to
 * an eBPF TC program that sends the packets it accepts to a perf event
 * array with bpf_perf_event_output (the packet bytes appended by the
 * kernel), so filtering happens in the kernel as it does for tcpdump.
 */
#ifndef NETPROF_CBPF_H
#define NETPROF_CBPF_H

#include <stddef.h>
#include <stdint.h>

/* What each captured packet carries before its bytes. */
struct capture_meta {
	uint64_t	ts_ns;		/* bpf_ktime_get_ns() at the hook */
	uint32_t	ifindex;
	uint32_t	len;		/* the packet's length (skb->len) */
	uint32_t	dir;		/* 0 ingress, 1 egress */
	uint32_t	pad;
};

struct bpf_insn;

/*
 * Compile expr (tcpdump syntax, for Ethernet frames of at most snaplen
 * bytes) and translate it into eBPF (malloc'ed *out, *n instructions) for
 * TC ingress (dir 0) or egress (dir 1), sending to perf_map_fd. Every path
 * passes the packet on (TC_ACT_UNSPEC). 0, or -EINVAL with err saying why
 * (the expression does not compile, or an instruction is not supported).
 */
int cbpf_compile_tc(const char *expr, int snaplen, int perf_map_fd, uint32_t dir,
		    struct bpf_insn **out, size_t *n, char *err, size_t errlen);

#endif
