// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <pcap/pcap.h>
#include "filter.h"

struct flow_filter {
	struct bpf_program prog;
};

/*
 * What a flow record can answer, checked on libpcap's program before use:
 * the synthetic packet holds the key's addresses, ports and protocol (and,
 * with FILTER_TCP_FLAGS, the TCP flags seen in each direction); any other
 * byte is made up, so an expression that reads one would answer with made-up
 * data: it is refused, naming the part.
 *
 * libpcap's programs only jump forward, so one pass in order carries to
 * each instruction what may be known there: which network layer (after a
 * test of the EtherType) and which transport protocol (after a test of the
 * protocol byte), and whether A holds either of those two fields.
 */
enum { L3_V4 = 1, L3_V6 = 2, L3_NONIP = 4 };
enum { L4_TCP = 1, L4_UDP = 2, L4_SCTP = 4, L4_OTHER = 8, L4_ANY = 15 };
enum { A_OTHER, A_ETHERTYPE, A_PROTO };

struct insn_state {
	uint8_t	reached, l3, l4, a;
};

static uint8_t l3_bit(uint32_t ethertype)
{
	return ethertype == 0x0800 ? L3_V4 : ethertype == 0x86dd ? L3_V6 : L3_NONIP;
}

static uint8_t l4_bit(uint32_t proto)
{
	return proto == 6 ? L4_TCP : proto == 17 ? L4_UDP : proto == 132 ? L4_SCTP : L4_OTHER;
}

static void reach(struct insn_state *to, const struct insn_state *from, uint8_t l3, uint8_t l4,
		  uint8_t a)
{
	if (!to->reached) {
		*to = (struct insn_state){ 1, l3, l4, a };
		return;
	}
	to->l3 |= l3;
	to->l4 |= l4;
	if (to->a != a)
		to->a = A_OTHER;
	(void)from;
}

/* a load of size bytes at off (from the frame, or from the IPv4 transport header if ind) */
static const char *load_ok(const struct insn_state *st, int ind, uint32_t off, uint32_t size,
			   unsigned int knows)
{
	uint32_t end = off + size;
	int ports = !(st->l4 & ~(L4_TCP | L4_UDP | L4_SCTP));
	int flags = st->l4 == L4_TCP && (knows & FILTER_TCP_FLAGS);

	if (ind) {	/* X = the IPv4 header's length: off is from the frame plus X */
		if (off >= 14 && end <= 18 && ports)
			return NULL;
		if (off == 27 && size == 1 && st->l4 == L4_TCP)
			return flags ? NULL : "TCP flags (netprof flows answers them; these records keep none)";
		return "transport header bytes other than ports (icmp type, tcp[4:4], tcp flags...)";
	}
	if (off < 12)
		return "Ethernet addresses (ether host, ether broadcast, ether multicast...)";
	if (off >= 12 && end <= 14)
		return NULL;
	if (st->l3 == L3_NONIP)
		return NULL;		/* ARP and the like: no flow gets here */
	if (st->l3 == L3_V4) {
		if ((off == 14 && size == 1) || (off == 20 && size == 2) ||
		    (off == 23 && size == 1) || (off >= 26 && end <= 34))
			return NULL;
		return "IPv4 header fields other than addresses and protocol (ttl, tos, length, id...)";
	}
	if (st->l3 == L3_V6) {
		if ((off == 14 && size == 1) || (off == 20 && size == 1) || (off >= 22 && end <= 54))
			return NULL;
		if (off >= 54 && end <= 58 && ports)
			return NULL;
		if (off == 54 && size == 1 && st->l4 == L4_OTHER)
			return NULL;	/* a fragment header's next header: flows have none */
		if (off == 67 && size == 1 && st->l4 == L4_TCP)
			return flags ? NULL : "TCP flags (netprof flows answers them; these records keep none)";
		if (off >= 54)
			return "transport header bytes other than ports (icmp6 type, tcp[4:4]...)";
		return "IPv6 header fields other than addresses and next header (hop limit, class, length...)";
	}
	return "packet bytes before the network layer is known";
}

static const char *unanswerable(const struct bpf_program *p, unsigned int knows, char *buf,
				size_t len)
{
	struct insn_state *st = calloc(p->bf_len + 1, sizeof(*st));
	const char *why = NULL;
	int ip_accept = 0, any_accept = 0;
	u_int i;

	if (!st)
		return strerror(ENOMEM);
	st[0] = (struct insn_state){ 1, L3_V4 | L3_V6 | L3_NONIP, L4_ANY, A_OTHER };
	for (i = 0; i < p->bf_len && !why; i++) {
		const struct bpf_insn *c = &p->bf_insns[i];
		struct insn_state s = st[i];
		uint32_t size = BPF_SIZE(c->code) == BPF_W ? 4 : BPF_SIZE(c->code) == BPF_H ? 2 : 1;
		uint8_t a = A_OTHER;

		if (!s.reached)
			continue;
		switch (BPF_CLASS(c->code)) {
		case BPF_LD:
		case BPF_LDX:
			if (BPF_MODE(c->code) == BPF_LEN) {
				why = "packet length (len, greater, less)";
				break;
			}
			if (BPF_MODE(c->code) == BPF_MSH) {
				why = load_ok(&s, 0, c->k, 1, knows);
			} else if (BPF_MODE(c->code) == BPF_ABS || BPF_MODE(c->code) == BPF_IND) {
				why = load_ok(&s, BPF_MODE(c->code) == BPF_IND, c->k, size, knows);
				if (BPF_MODE(c->code) == BPF_ABS && c->k == 12 && size == 2)
					a = A_ETHERTYPE;
				else if (BPF_MODE(c->code) == BPF_ABS && size == 1 &&
					 ((c->k == 23 && s.l3 == L3_V4) || (c->k == 20 && s.l3 == L3_V6)))
					a = A_PROTO;
			}
			if (BPF_CLASS(c->code) == BPF_LDX)
				a = s.a;	/* A unchanged */
			reach(&st[i + 1], &s, s.l3, s.l4, a);
			break;
		case BPF_ST: case BPF_STX: case BPF_MISC:
			a = BPF_CLASS(c->code) == BPF_MISC && BPF_MISCOP(c->code) == BPF_TXA ? A_OTHER : s.a;
			reach(&st[i + 1], &s, s.l3, s.l4, a);
			break;
		case BPF_ALU:
			reach(&st[i + 1], &s, s.l3, s.l4, A_OTHER);
			break;
		case BPF_RET:
			if (BPF_RVAL(c->code) != BPF_K || c->k) {
				any_accept = 1;
				ip_accept |= !!(s.l3 & (L3_V4 | L3_V6));
			}
			break;
		case BPF_JMP: {
			u_int t = i + 1 + c->jt, f = i + 1 + c->jf;
			uint8_t tl3 = s.l3, fl3 = s.l3, tl4 = s.l4, fl4 = s.l4;

			if (BPF_OP(c->code) == BPF_JA) {
				if (i + 1 + c->k <= p->bf_len)
					reach(&st[i + 1 + c->k], &s, s.l3, s.l4, s.a);
				break;
			}
			if (s.a == A_ETHERTYPE && BPF_SRC(c->code) == BPF_K) {
				if (BPF_OP(c->code) != BPF_JEQ) {
					why = "802.3 lengths and LLC (llc, ether proto below 1536): flows are recorded by IP";
					break;
				}
				if (l3_bit(c->k) == L3_NONIP && c->k != 0x0806 && c->k != 0x8035) {
					snprintf(buf, len, "link-layer type 0x%04x (vlan, mpls, pppoe...): "
						 "flows are recorded by IP, under the interface they cross", c->k);
					why = buf;
					break;
				}
				tl3 &= l3_bit(c->k);
				if (l3_bit(c->k) != L3_NONIP)
					fl3 &= ~l3_bit(c->k);
			} else if (s.a == A_PROTO && BPF_SRC(c->code) == BPF_K && BPF_OP(c->code) == BPF_JEQ) {
				tl4 &= l4_bit(c->k);
				if (l4_bit(c->k) != L4_OTHER)
					fl4 &= ~l4_bit(c->k);
			}
			if (t <= p->bf_len && tl3 && tl4)
				reach(&st[t], &s, tl3, tl4, s.a);
			if (f <= p->bf_len && fl3 && fl4)
				reach(&st[f], &s, fl3, fl4, s.a);
			break;
		}
		}
	}
	free(st);
	if (!why && any_accept && !ip_accept)
		why = "non-IP packets (arp, rarp...): flows are IP";
	return why;
}

struct flow_filter *flow_filter__new(const char *expr, unsigned int knows, char *err, size_t errlen)
{
	char buf[160];
	const char *why;
	struct flow_filter *f;
	pcap_t *p;

	p = pcap_open_dead(DLT_EN10MB, 65535);
	if (!p) {
		snprintf(err, errlen, "libpcap: cannot open a dead handle");
		return NULL;
	}
	f = calloc(1, sizeof(*f));
	if (!f) {
		snprintf(err, errlen, "%s", strerror(ENOMEM));
		pcap_close(p);
		return NULL;
	}
	if (pcap_compile(p, &f->prog, expr, 1, PCAP_NETMASK_UNKNOWN)) {
		snprintf(err, errlen, "%s", pcap_geterr(p));
		free(f);
		pcap_close(p);
		return NULL;
	}
	pcap_close(p);
	why = unanswerable(&f->prog, knows, buf, sizeof(buf));
	if (why) {
		snprintf(err, errlen, "a flow record cannot answer %s; filter on addresses, ports "
			 "and protocol%s", why, knows & FILTER_TCP_FLAGS ? ", TCP flags" : "");
		flow_filter__free(f);
		return NULL;
	}
	return f;
}

void flow_filter__free(struct flow_filter *f)
{
	if (!f)
		return;
	pcap_freecode(&f->prog);
	free(f);
}

/* Ethernet + IPv4/IPv6 + TCP/UDP (or a bare IP payload) for one direction. */
static size_t synth_packet(unsigned char *pkt, const struct flow_key *k, int reverse,
			   uint8_t tcp_flags)
{
	const uint8_t *src = reverse ? k->addr_b : k->addr_a;
	const uint8_t *dst = reverse ? k->addr_a : k->addr_b;
	uint16_t sport = reverse ? k->port_b : k->port_a;
	uint16_t dport = reverse ? k->port_a : k->port_b;
	size_t off = 14, l4;

	memset(pkt, 0, 128);
	if (k->family == FLOW_FAMILY_IPV4) {
		pkt[12] = 0x08, pkt[13] = 0x00;
		pkt[off] = 0x45;
		pkt[off + 3] = 60;		/* total length */
		pkt[off + 8] = 64;		/* ttl */
		pkt[off + 9] = k->proto;
		memcpy(pkt + off + 12, src + 12, 4);
		memcpy(pkt + off + 16, dst + 12, 4);
		l4 = off + 20;
	} else {
		pkt[12] = 0x86, pkt[13] = 0xdd;
		pkt[off] = 0x60;
		pkt[off + 5] = 40;		/* payload length */
		pkt[off + 6] = k->proto;
		pkt[off + 7] = 64;
		memcpy(pkt + off + 8, src, 16);
		memcpy(pkt + off + 24, dst, 16);
		l4 = off + 40;
	}
	/* ports are already in network order in the key */
	memcpy(pkt + l4, &sport, 2);
	memcpy(pkt + l4 + 2, &dport, 2);
	if (k->proto == 6) {
		pkt[l4 + 12] = 0x50;		/* data offset 5 */
		pkt[l4 + 13] = tcp_flags;	/* seen in this direction, ORed */
	}
	return l4 + 20;
}

int flow_filter__match_flags(const struct flow_filter *f, const struct flow_key *k,
			     const uint8_t tcp_flags[2])
{
	unsigned char pkt[128];
	struct pcap_pkthdr h = {};
	int rev;

	if (!f)
		return 1;
	for (rev = 0; rev < 2; rev++) {
		h.caplen = h.len = synth_packet(pkt, k, rev, tcp_flags ? tcp_flags[rev] : 0);
		if (pcap_offline_filter(&f->prog, &h, pkt))
			return 1;
	}
	return 0;
}

int flow_filter__match(const struct flow_filter *f, const struct flow_key *k)
{
	return flow_filter__match_flags(f, k, NULL);
}

char *filter_join_args(int argc, char **argv)
{
	size_t len = 1;
	char *s;
	int i;

	if (argc <= 0)
		return NULL;
	for (i = 0; i < argc; i++)
		len += strlen(argv[i]) + 1;
	s = calloc(1, len);
	if (!s)
		return NULL;
	for (i = 0; i < argc; i++) {
		if (i)
			strcat(s, " ");
		strcat(s, argv[i]);
	}
	return s;
}
