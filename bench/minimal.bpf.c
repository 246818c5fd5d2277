// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * A minimal 5-tuple counter, the yardstick for netprof's flow programs in
 * bench/prog_cost.c: Ethernet, IPv4 or IPv6 (no options, extension headers,
 * VLANs or fragments), TCP/UDP ports, then packets and bytes added to a
 * per-CPU hash entry, inserted on a miss. What any flow exporter does at
 * the least; netprof does more (both directions in one entry, flags,
 * timestamps, sampling, everything it cannot record counted).
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#define ETH_P_IP	0x0800
#define ETH_P_IPV6	0x86DD

struct min_key {
	__u8	src[16];
	__u8	dst[16];
	__u16	sport;
	__u16	dport;
	__u8	proto;
	__u8	pad[3];
};

struct min_counters {
	__u64	packets;
	__u64	bytes;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, 65536);
	__type(key, struct min_key);
	__type(value, struct min_counters);
} minimal_flows SEC(".maps");

static __always_inline int count(void *data, void *end, __u64 len)
{
	struct ethhdr *eth = data;
	struct min_key k = {};
	struct min_counters *c, init = { 1, len };
	void *l4;

	if ((void *)(eth + 1) > end)
		return 0;
	if (eth->h_proto == bpf_htons(ETH_P_IP)) {
		struct iphdr *ip = (void *)(eth + 1);

		if ((void *)(ip + 1) > end)
			return 0;
		__builtin_memcpy(k.src, &ip->saddr, 4);
		__builtin_memcpy(k.dst, &ip->daddr, 4);
		k.proto = ip->protocol;
		l4 = ip + 1;
	} else if (eth->h_proto == bpf_htons(ETH_P_IPV6)) {
		struct ipv6hdr *ip6 = (void *)(eth + 1);

		if ((void *)(ip6 + 1) > end)
			return 0;
		__builtin_memcpy(k.src, &ip6->saddr, 16);
		__builtin_memcpy(k.dst, &ip6->daddr, 16);
		k.proto = ip6->nexthdr;
		l4 = ip6 + 1;
	} else {
		return 0;
	}
	if (k.proto == IPPROTO_TCP || k.proto == IPPROTO_UDP) {
		__u16 *ports = l4;

		if ((void *)(ports + 2) > end)
			return 0;
		k.sport = ports[0];
		k.dport = ports[1];
	}
	c = bpf_map_lookup_elem(&minimal_flows, &k);
	if (c) {
		c->packets++;
		c->bytes += len;
	} else {
		bpf_map_update_elem(&minimal_flows, &k, &init, BPF_NOEXIST);
	}
	return 0;
}

SEC("tc")
int tc_minimal(struct __sk_buff *skb)
{
	count((void *)(long)skb->data, (void *)(long)skb->data_end, skb->len);
	return -1;	/* TC_ACT_UNSPEC */
}

SEC("xdp")
int xdp_minimal(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;

	count(data, end, end - data);
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
