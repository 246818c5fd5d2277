/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Packet parsers shared by the XDP and TC programs.
 *
 * Each parser takes a cursor, checks bounds before every read, advances the
 * cursor past its header and returns the next protocol, or a negative
 * PARSE_* value. They work on direct packet pointers, so the same code runs
 * in XDP (xdp_md->data) and TC (__sk_buff->data).
 */
#ifndef NETPROF_PARSE_BPF_H
#define NETPROF_PARSE_BPF_H

#include <bpf/bpf_endian.h>
#include "addr.bpf.h"

#define ETH_P_IP_	0x0800
#define ETH_P_IPV6_	0x86DD
#define ETH_P_8021Q_	0x8100
#define ETH_P_8021AD_	0x88A8
#define ETH_P_MPLS_UC_	0x8847
#define ETH_P_MPLS_MC_	0x8848
/* not an ethertype: an Ethernet pseudowire under MPLS (RFC 4448) */
#define PROTO_PW_ETH_	0x10000

#include "proto.bpf.h"

/* VLAN tags we peel: 802.1ad outer + 802.1Q inner is the QinQ case. */
#define VLAN_MAX_DEPTH		2
/* IPv6 extension headers we walk before giving up (bounded loop). */
#define IPV6_EXT_MAX		8
/* MPLS labels we pop looking for the bottom of the stack. */
#define MPLS_MAX_LABELS		4

enum parse_err {
	PARSE_TRUNCATED = -1,	/* a header runs past the end of the frame */
	PARSE_NOT_IP    = -2,	/* not IPv4/IPv6 */
	PARSE_EXT_LIMIT = -3,	/* IPv6 extension chain longer than IPV6_EXT_MAX */
};

struct cursor {
	void	*pos;
	void	*end;
};

/* What a parse learns about one packet, in packet (not canonical) order. */
struct pkt_info {
	__u8	saddr[16];
	__u8	daddr[16];
	__be16	sport;
	__be16	dport;
	__u32	frag_id;
	__u16	hdr_len;	/* L2+L3+L4 header bytes, for GSO wire byte counts */
	__u8	proto;
	__u8	family;
	__u8	tcp_flags;
	__u8	frag;		/* enum pkt_frag */
	__u8	pad[2];
};

enum pkt_frag {
	FRAG_NONE = 0,
	FRAG_FIRST,		/* offset 0, more fragments follow: has ports */
	FRAG_LATER,		/* offset > 0: no L4 header here */
};

struct vlan_hdr_ {
	__be16	tci;
	__be16	proto;
};

static __always_inline int parse_eth(struct cursor *c)
{
	struct ethhdr *eth = c->pos;
	struct vlan_hdr_ *vh;
	__be16 proto;
	int i;

	if ((void *)(eth + 1) > c->end)
		return PARSE_TRUNCATED;
	proto = eth->h_proto;
	c->pos = eth + 1;

#pragma unroll
	for (i = 0; i < VLAN_MAX_DEPTH; i++) {
		if (proto != bpf_htons(ETH_P_8021Q_) && proto != bpf_htons(ETH_P_8021AD_))
			break;
		vh = c->pos;
		if ((void *)(vh + 1) > c->end)
			return PARSE_TRUNCATED;
		proto = vh->proto;
		c->pos = vh + 1;
	}
	return bpf_ntohs(proto);
}

/*
 * MPLS label stack: pop to the bottom-of-stack label, then tell the payload
 * by its first nibble (4: IPv4, 6: IPv6, 0: a pseudowire control word
 * followed by an Ethernet frame). MPLS carries no payload type, so this is
 * the same guess every MPLS-aware dissector makes.
 */
static __always_inline int parse_mpls(struct cursor *c)
{
	__be32 *label;
	__u8 *first;
	int i;

#pragma unroll
	for (i = 0; i < MPLS_MAX_LABELS; i++) {
		label = c->pos;
		if ((void *)(label + 1) > c->end)
			return PARSE_TRUNCATED;
		c->pos = label + 1;
		if (bpf_ntohl(*label) & 0x100)	/* bottom of stack */
			break;
	}
	if (i == MPLS_MAX_LABELS)
		return PARSE_NOT_IP;
	first = c->pos;
	if ((void *)(first + 1) > c->end)
		return PARSE_TRUNCATED;
	switch (*first >> 4) {
	case 4:
		return ETH_P_IP_;
	case 6:
		return ETH_P_IPV6_;
	case 0:
		return PROTO_PW_ETH_;
	default:
		return PARSE_NOT_IP;
	}
}

static __always_inline int parse_ipv4(struct cursor *c, struct pkt_info *pi)
{
	struct iphdr *iph = c->pos;
	__u32 ihl;
	__u16 frag_off;

	if ((void *)(iph + 1) > c->end)
		return PARSE_TRUNCATED;
	ihl = iph->ihl * 4;
	if (ihl < sizeof(*iph))
		return PARSE_TRUNCATED;
	/* options: skip them, but only if they are really there */
	if (c->pos + ihl > c->end)
		return PARSE_TRUNCATED;

	pi->family = FLOW_FAMILY_IPV4;
	pi->proto = iph->protocol;
	ipv4_mapped(pi->saddr, iph->saddr);
	ipv4_mapped(pi->daddr, iph->daddr);

	frag_off = bpf_ntohs(iph->frag_off);
	if (frag_off & 0x1fff) {
		pi->frag = FRAG_LATER;
		pi->frag_id = bpf_ntohs(iph->id);
	} else if (frag_off & 0x2000) {
		pi->frag = FRAG_FIRST;
		pi->frag_id = bpf_ntohs(iph->id);
	}
	c->pos += ihl;
	return iph->protocol;
}

struct ipv6_opt_hdr_ {
	__u8	nexthdr;
	__u8	hdrlen;
};

struct frag_hdr_ {
	__u8	nexthdr;
	__u8	reserved;
	__be16	frag_off;
	__be32	identification;
};

static __always_inline int parse_ipv6(struct cursor *c, struct pkt_info *pi)
{
	struct ipv6hdr *ip6 = c->pos;
	struct ipv6_opt_hdr_ *opt;
	struct frag_hdr_ *fh;
	__u8 nexthdr;
	__u16 off;
	int i;

	if ((void *)(ip6 + 1) > c->end)
		return PARSE_TRUNCATED;
	pi->family = FLOW_FAMILY_IPV6;
	__builtin_memcpy(pi->saddr, &ip6->saddr, 16);
	__builtin_memcpy(pi->daddr, &ip6->daddr, 16);
	nexthdr = ip6->nexthdr;
	c->pos = ip6 + 1;

	for (i = 0; i < IPV6_EXT_MAX; i++) {
		switch (nexthdr) {
		case IPPROTO_HOPOPTS_:
		case IPPROTO_ROUTING_:
		case IPPROTO_DSTOPTS_:
			opt = c->pos;
			if ((void *)(opt + 1) > c->end)
				return PARSE_TRUNCATED;
			nexthdr = opt->nexthdr;
			c->pos += (opt->hdrlen + 1) * 8;
			break;
		case IPPROTO_AH_:
			opt = c->pos;
			if ((void *)(opt + 1) > c->end)
				return PARSE_TRUNCATED;
			nexthdr = opt->nexthdr;
			c->pos += (opt->hdrlen + 2) * 4;
			break;
		case IPPROTO_FRAGMENT_:
			fh = c->pos;
			if ((void *)(fh + 1) > c->end)
				return PARSE_TRUNCATED;
			nexthdr = fh->nexthdr;
			off = bpf_ntohs(fh->frag_off);
			pi->frag_id = bpf_ntohl(fh->identification);
			if (off & 0xfff8)
				pi->frag = FRAG_LATER;
			else if (off & 1)
				pi->frag = FRAG_FIRST;
			c->pos = fh + 1;
			break;
		default:
			pi->proto = nexthdr;
			return nexthdr;
		}
	}
	/* the walk ended on an extension header: do not guess past it */
	pi->proto = nexthdr;
	return PARSE_EXT_LIMIT;
}

/* Ports and flags; absent for later fragments and for other protocols. */
static __always_inline int parse_l4(struct cursor *c, struct pkt_info *pi)
{
	if (pi->frag == FRAG_LATER)
		return 0;

	switch (pi->proto) {
	case IPPROTO_TCP_: {
		struct tcphdr *th = c->pos;

		if ((void *)(th + 1) > c->end)
			return PARSE_TRUNCATED;
		pi->sport = th->source;
		pi->dport = th->dest;
		/* byte 13 of the TCP header: CWR ECE URG ACK PSH RST SYN FIN */
		pi->tcp_flags = ((__u8 *)th)[13];
		c->pos += th->doff * 4;
		break;
	}
	case IPPROTO_UDP_: {
		struct udphdr *uh = c->pos;

		if ((void *)(uh + 1) > c->end)
			return PARSE_TRUNCATED;
		pi->sport = uh->source;
		pi->dport = uh->dest;
		c->pos = uh + 1;
		break;
	}
	default:
		/* ICMP, ICMPv6 and the rest: the flow is the address pair */
		break;
	}
	return 0;
}

/* Deepest L3 offset parse_l2 can return: 2 VLAN tags, 4 labels, PW + 2 tags. */
#define L2_MAX_LEN	96

/*
 * Ethernet, VLAN/QinQ, MPLS and an Ethernet pseudowire under MPLS: returns
 * the L3 ethertype (ETH_P_IP_ or ETH_P_IPV6_, or another ethertype) and
 * sets *l3off, or a PARSE_* error.
 */
static __always_inline int parse_l2(void *data, void *data_end, __u32 *l3off)
{
	struct cursor c = { .pos = data, .end = data_end };
	int proto;

	proto = parse_eth(&c);
	if (proto == ETH_P_MPLS_UC_ || proto == ETH_P_MPLS_MC_) {
		proto = parse_mpls(&c);
		if (proto == PROTO_PW_ETH_) {
			c.pos += 4;	/* control word; parse_eth checks the bound */
			proto = parse_eth(&c);
		}
	}
	if (proto < 0)
		return proto;
	if (proto != ETH_P_IP_ && proto != ETH_P_IPV6_)
		return PARSE_NOT_IP;
	*l3off = c.pos - data;
	return proto;
}

/*
 * IPv4/IPv6 and the transport header at data + l3off. Returns 0 or a
 * PARSE_* error. Called from a global function (flow.bpf.c) so that the
 * verifier checks it once for any l3off, instead of once for every L2 path
 * (VLAN depth x MPLS depth x pseudowire), which exceeded its budget.
 */
static __always_inline int parse_l3(void *data, void *data_end, __u32 l3off, int l3proto,
				    struct pkt_info *pi)
{
	struct cursor c = { .end = data_end };
	int err;

	if (l3off > L2_MAX_LEN)
		return PARSE_TRUNCATED;
	c.pos = data + l3off;
	if (l3proto == ETH_P_IP_)
		err = parse_ipv4(&c, pi);
	else
		err = parse_ipv6(&c, pi);
	if (err < 0)
		return err;
	err = parse_l4(&c, pi);
	if (err < 0)
		return err;
	pi->hdr_len = c.pos - data;
	return 0;
}

#endif /* NETPROF_PARSE_BPF_H */
