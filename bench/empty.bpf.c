// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Baselines for the benchmarks: the cost of a hook with nothing in it. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

SEC("xdp")
int xdp_empty(struct xdp_md *ctx)
{
	return XDP_PASS;
}

SEC("tc")
int tc_empty(struct __sk_buff *skb)
{
	return -1;	/* TC_ACT_UNSPEC, as netprof's observers */
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
