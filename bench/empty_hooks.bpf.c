// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Baselines for the benchmarks: empty programs on every tracepoint and the
 * sock_ops hook that netprof's socket tracking and latency stages use
 * (bpf/sockets.bpf.c, bpf/latency.bpf.c), attached by bench/empty_hooks.c.
 * Keep the list in step with theirs.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

#define EMPTY_TP(name)					\
	SEC("tp_btf/" #name)				\
	int empty_##name(void *ctx) { return 0; }

EMPTY_TP(sock_send_length)
EMPTY_TP(sock_recv_length)
EMPTY_TP(tcp_send_reset)
EMPTY_TP(tcp_receive_reset)
EMPTY_TP(netif_receive_skb)
EMPTY_TP(tcp_probe)
EMPTY_TP(tcp_sendmsg_locked)
EMPTY_TP(net_dev_queue)
EMPTY_TP(net_dev_start_xmit)
EMPTY_TP(net_dev_xmit)
EMPTY_TP(inet_sock_set_state)

/* sockets.bpf.c and latency.bpf.c each attach one here */
SEC("tp_btf/sock_recv_length")
int empty_sock_recv_length2(void *ctx) { return 0; }

SEC("sockops")
int empty_sockops(struct bpf_sock_ops *ctx)
{
	return 1;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
