/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Addresses as netprof's maps hold them: 16 bytes, IPv4 as ::ffff:a.b.c.d
 * (maps/flow.h). Shared by the packet parsers, socket tracking and the
 * profiler, so a flow, a socket and a profiled connection key alike.
 */
#ifndef NETPROF_ADDR_BPF_H
#define NETPROF_ADDR_BPF_H

#include <bpf/bpf_endian.h>

#define NP_AF_INET	2
#define NP_AF_INET6	10

static __always_inline void ipv4_mapped(__u8 *dst, __be32 addr)
{
	__u32 *d = (__u32 *)dst;

	d[0] = 0;
	d[1] = 0;
	d[2] = bpf_htonl(0xffff);
	d[3] = addr;
}

/* A socket's address: v4 for AF_INET, else the four words of v6. */
static __always_inline void sock_addr(__u8 *dst, __u32 family, __be32 v4, const __u32 *v6)
{
	__u32 *d = (__u32 *)dst;

	if (family == NP_AF_INET) {
		ipv4_mapped(dst, v4);
	} else {
		d[0] = v6[0];
		d[1] = v6[1];
		d[2] = v6[2];
		d[3] = v6[3];
	}
}

/* An IPv4 address in IPv6 form (an IPv6 socket talking IPv4). */
static __always_inline int is_ipv4_mapped(const __u8 *a)
{
	const __u32 *w = (const __u32 *)a;

	return !w[0] && !w[1] && w[2] == bpf_htonl(0xffff);
}

#endif
