// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The flow datapath under BPF_PROG_TEST_RUN: crafted frames (IPv4 with
 * options, IPv6 extension chains, VLAN, QinQ, fragments, truncated and
 * garbage frames) through xdp_ingress, tc_ingress and tc_egress, checking
 * the verdict and what landed in the flow table and the stats map.
 * The expected values come from the frames built here (their lengths,
 * addresses and ports), not from the program.
 */
#include <arpa/inet.h>
#include <sched.h>
#include <stdint.h>
#include <stdlib.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/pkt_cls.h>
#include "flow.skel.h"
#include "flowtab.h"
#include "stats.h"
#include "test.h"

static struct flow_bpf *skel;
static int compat;	/* the kernel refused the programs below: their *_compat versions run */
#define XDP_CACHED	(compat ? skel->progs.xdp_ingress_compat : skel->progs.xdp_ingress)
#define XDP_DIRECT	(compat ? skel->progs.xdp_ingress_compat : skel->progs.xdp_ingress_direct)
#define TC_INGRESS	(compat ? skel->progs.tc_ingress_compat : skel->progs.tc_ingress)
#define TC_EGRESS	(compat ? skel->progs.tc_egress_compat : skel->progs.tc_egress)

/* ---- frame builder ---- */

struct frame {
	uint8_t	b[1600];
	size_t	len;
};

static void put(struct frame *f, const void *p, size_t n)
{
	memcpy(f->b + f->len, p, n);
	f->len += n;
}

static void put8(struct frame *f, uint8_t v) { put(f, &v, 1); }
static void put16(struct frame *f, uint16_t v) { v = htons(v); put(f, &v, 2); }
static void put32(struct frame *f, uint32_t v) { v = htonl(v); put(f, &v, 4); }

static void eth(struct frame *f, const uint16_t *tags, int ntags, uint16_t proto)
{
	static const uint8_t mac[12] = { 2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2 };
	int i;

	f->len = 0;
	put(f, mac, 12);
	for (i = 0; i < ntags; i++) {
		put16(f, tags[i]);
		put16(f, 100 + i);	/* TCI */
	}
	put16(f, proto);
}

/* IPv4 header; optlen bytes of NOP options; frag_off in host order */
static void ipv4(struct frame *f, const char *src, const char *dst, uint8_t proto,
		 int optlen, uint16_t id, uint16_t frag_off, uint16_t payload)
{
	uint32_t s, d;

	inet_pton(AF_INET, src, &s);
	inet_pton(AF_INET, dst, &d);
	put8(f, 0x40 | (5 + optlen / 4));
	put8(f, 0);
	put16(f, 20 + optlen + payload);
	put16(f, id);
	put16(f, frag_off);
	put8(f, 64);
	put8(f, proto);
	put16(f, 0);
	put(f, &s, 4);
	put(f, &d, 4);
	while (optlen-- > 0)
		put8(f, 1);	/* NOP */
}

static void ipv6(struct frame *f, const char *src, const char *dst, uint8_t nexthdr, uint16_t plen)
{
	uint8_t s[16], d[16];

	inet_pton(AF_INET6, src, s);
	inet_pton(AF_INET6, dst, d);
	put32(f, 0x60000000);
	put16(f, plen);
	put8(f, nexthdr);
	put8(f, 64);
	put(f, s, 16);
	put(f, d, 16);
}

/* generic 8-byte IPv6 option header (HBH, DSTOPTS, ROUTING) */
static void ip6opt(struct frame *f, uint8_t nexthdr)
{
	static const uint8_t pad[6] = { 1, 4, 0, 0, 0, 0 };	/* PadN */

	put8(f, nexthdr);
	put8(f, 0);
	put(f, pad, 6);
}

static void ip6frag(struct frame *f, uint8_t nexthdr, uint16_t offset8, int more, uint32_t id)
{
	put8(f, nexthdr);
	put8(f, 0);
	put16(f, (offset8 << 3) | (more ? 1 : 0));
	put32(f, id);
}

static void tcp(struct frame *f, uint16_t sport, uint16_t dport, uint8_t flags)
{
	put16(f, sport);
	put16(f, dport);
	put32(f, 1);
	put32(f, 0);
	put8(f, 5 << 4);
	put8(f, flags);
	put16(f, 65535);
	put32(f, 0);
}

static void udp(struct frame *f, uint16_t sport, uint16_t dport, uint16_t payload)
{
	put16(f, sport);
	put16(f, dport);
	put16(f, 8 + payload);
	put16(f, 0);
}

static void payload(struct frame *f, size_t n)
{
	memset(f->b + f->len, 0xab, n);
	f->len += n;
}

/* ---- running programs ---- */

/* one frame through an XDP program (xdp_ingress counts through the cache) */
static int run_xdp_prog(struct bpf_program *p, struct frame *f, int *verdict)
{
	/* with a ctx, test_run wants data_end to be the frame length */
	struct xdp_md ctx = { .ingress_ifindex = 1, .data_end = f->len };
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = f->b, .data_size_in = f->len,
		    .ctx_in = &ctx, .ctx_size_in = sizeof(ctx), .repeat = 1);
	static int no_ctx;
	int err;

	/*
	 * An XDP context in a test run is 5.12's: before it, none, and the
	 * frame arrives on the namespace's lo, ifindex 1 as well
	 */
	if (no_ctx) {
		o.ctx_in = NULL;
		o.ctx_size_in = 0;
	}
	err = bpf_prog_test_run_opts(bpf_program__fd(p), &o);
	if (err && errno == EINVAL && !no_ctx) {
		no_ctx = 1;
		return run_xdp_prog(p, f, verdict);
	}

	*verdict = o.retval;
	return err;
}

/*
 * Fold the CPU's flow cache, as its timer does in netprofd (off here: see
 * cache_timer). main() keeps the test on one CPU, so this sees the cache
 * the XDP runs before it filled.
 */
static int fold_cache(void)
{
	static const __u8 frame[14];	/* any frame: XDP test runs need one */
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = frame, .data_size_in = sizeof(frame));

	return bpf_prog_test_run_opts(bpf_program__fd(skel->progs.flow_cache_flush), &o);
}

/* a frame, and the cache folded after it */
static int run_xdp(struct frame *f, int *verdict)
{
	int err = run_xdp_prog(XDP_CACHED, f, verdict);

	return err ? err : fold_cache();
}

static int run_tc(struct bpf_program *p, struct frame *f, int gso_segs, int *verdict)
{
	struct __sk_buff ctx = { .ifindex = 1, .gso_segs = gso_segs };
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = f->b, .data_size_in = f->len,
		    .ctx_in = &ctx, .ctx_size_in = sizeof(ctx), .repeat = 1);
	int err = bpf_prog_test_run_opts(bpf_program__fd(p), &o);

	*verdict = o.retval;
	return err;
}

static void reset_maps(void)
{
	int fds[] = { bpf_map__fd(skel->maps.flows), bpf_map__fd(skel->maps.frags) };
	char key[64], next[64];
	static uint64_t zero[256];	/* a per-CPU stat on 256 CPUs; a flow_cache entry */
	unsigned int i;
	__u32 s;

	for (i = 0; i < 2; i++)
		while (bpf_map_get_next_key(fds[i], NULL, next) == 0) {
			memcpy(key, next, sizeof(key));
			bpf_map_delete_elem(fds[i], key);
		}
	for (s = 0; s < STAT_MAX; s++)
		bpf_map_update_elem(bpf_map__fd(skel->maps.stats), &s, zero, BPF_ANY);
	/* an unfolded burst of the test before: drop it */
	for (s = 0; s < bpf_map__max_entries(skel->maps.flow_cache); s++)
		bpf_map_update_elem(bpf_map__fd(skel->maps.flow_cache), &s, zero, BPF_ANY);
}

static struct flow_table read_flows(void)
{
	struct flow_table ft = {};

	flowtab_read_live(bpf_map__fd(skel->maps.flows), &ft);
	return ft;
}

static uint64_t stat(enum np_stat s)
{
	uint64_t v[STAT_MAX];

	if (np_stats_read(bpf_map__fd(skel->maps.stats), v))
		return ~0ULL;
	return v[s];
}

static uint16_t port_of(const struct flow_key *k, const char *addr, int v6)
{
	uint8_t a[16] = {};

	if (v6) {
		inet_pton(AF_INET6, addr, a);
	} else {
		a[10] = a[11] = 0xff;
		inet_pton(AF_INET, addr, a + 12);
	}
	if (!memcmp(k->addr_a, a, 16))
		return ntohs(k->port_a);
	if (!memcmp(k->addr_b, a, 16))
		return ntohs(k->port_b);
	return 0xffff;
}

/* ---- tests ---- */

static void test_ipv4_tcp_both_directions(void)
{
	struct frame f;
	struct flow_table ft;
	size_t len1, len2;
	int v;

	reset_maps();
	eth(&f, NULL, 0, 0x0800);
	ipv4(&f, "10.0.0.2", "10.0.0.1", 6, 0, 1, 0, 20 + 10);
	tcp(&f, 40000, 80, 0x02);
	payload(&f, 10);
	len1 = f.len;
	if (!ASSERT_OK(run_xdp(&f, &v), "run xdp") || !ASSERT_EQ(v, XDP_PASS, "verdict"))
		return;
	eth(&f, NULL, 0, 0x0800);
	ipv4(&f, "10.0.0.1", "10.0.0.2", 6, 0, 2, 0, 20);
	tcp(&f, 80, 40000, 0x12);
	len2 = f.len;
	if (!ASSERT_OK(run_tc(TC_EGRESS, &f, 0, &v), "run tc") ||
	    !ASSERT_EQ(v, TC_ACT_UNSPEC, "verdict"))
		return;

	ft = read_flows();
	if (!ASSERT_EQ(ft.n, 1, "one flow for both directions"))
		goto out;
	{
		struct flow_entry *e = &ft.v[0];
		int s = e->rec.first_dir;	/* index of the initiator's direction */

		ASSERT_EQ(e->key.proto, 6, "proto");
		ASSERT_EQ(e->key.family, FLOW_FAMILY_IPV4, "family");
		ASSERT_EQ(port_of(&e->key, "10.0.0.2", 0), 40000, "client port");
		ASSERT_EQ(port_of(&e->key, "10.0.0.1", 0), 80, "server port");
		ASSERT_EQ(e->rec.packets[s], 1, "initiator packets");
		ASSERT_EQ(e->rec.bytes[s], len1, "initiator bytes = frame length");
		ASSERT_EQ(e->rec.packets[!s], 1, "responder packets");
		ASSERT_EQ(e->rec.bytes[!s], len2, "responder bytes");
		ASSERT_EQ(e->rec.tcp_flags[s], 0x02, "SYN");
		ASSERT_EQ(e->rec.tcp_flags[!s], 0x12, "SYN-ACK");
		ASSERT_TRUE(e->rec.xdp_ts_ns && e->rec.tc_egress_ts_ns, "hook timestamps");
		ASSERT_EQ(e->key.ifindex, 1, "ifindex");
	}
out:
	flowtab_free(&ft);
}

/* The TCP client is the source even when the server's packet is seen first. */
static void test_syn_names_the_client(void)
{
	struct frame f;
	struct flow_table ft;
	int v;

	reset_maps();
	eth(&f, NULL, 0, 0x0800);
	ipv4(&f, "10.0.9.1", "10.0.9.2", 6, 0, 1, 0, 20);
	tcp(&f, 443, 50000, 0x12);	/* SYN-ACK from the server first */
	ASSERT_OK(run_tc(TC_INGRESS, &f, 0, &v), "syn-ack");
	eth(&f, NULL, 0, 0x0800);
	ipv4(&f, "10.0.9.2", "10.0.9.1", 6, 0, 2, 0, 20);
	tcp(&f, 50000, 443, 0x02);	/* then the client's SYN (a retransmission) */
	ASSERT_OK(run_tc(TC_EGRESS, &f, 0, &v), "syn");
	ft = read_flows();
	if (ASSERT_EQ(ft.n, 1, "one flow")) {
		const struct flow_key *k = &ft.v[0].key;
		int s = ft.v[0].rec.first_dir;
		const uint8_t *src = s ? k->addr_b : k->addr_a;

		ASSERT_EQ(src[15], 2, "source is the SYN's sender, 10.0.9.2");
		ASSERT_EQ(ntohs(s ? k->port_b : k->port_a), 50000, "source port");
	}
	flowtab_free(&ft);
}

static void test_ipv4_options(void)
{
	struct frame f;
	struct flow_table ft;
	int v;

	reset_maps();
	eth(&f, NULL, 0, 0x0800);
	ipv4(&f, "192.168.1.1", "192.168.1.2", 17, 12, 7, 0, 8 + 4);
	udp(&f, 5353, 53, 4);
	payload(&f, 4);
	ASSERT_OK(run_tc(TC_INGRESS, &f, 0, &v), "run");
	ft = read_flows();
	if (ASSERT_EQ(ft.n, 1, "flows")) {
		ASSERT_EQ(port_of(&ft.v[0].key, "192.168.1.1", 0), 5353, "sport past options");
		ASSERT_EQ(port_of(&ft.v[0].key, "192.168.1.2", 0), 53, "dport past options");
		ASSERT_EQ(ft.v[0].rec.bytes[0] + ft.v[0].rec.bytes[1], f.len, "bytes");
	}
	flowtab_free(&ft);
}

static void test_icmp_and_other_protocols(void)
{
	struct frame f;
	struct flow_table ft;
	size_t i;
	int v, seen = 0;

	reset_maps();
	eth(&f, NULL, 0, 0x0800);
	ipv4(&f, "10.1.0.1", "10.1.0.2", 1, 0, 3, 0, 8);
	put32(&f, 0x08000000);	/* echo request: type 8 */
	put32(&f, 0x12340001);
	ASSERT_OK(run_xdp(&f, &v), "icmp");
	eth(&f, NULL, 0, 0x0800);
	ipv4(&f, "10.1.0.1", "10.1.0.2", 47, 0, 4, 0, 4);	/* GRE */
	put32(&f, 0x00000800);
	ASSERT_OK(run_xdp(&f, &v), "gre");
	ft = read_flows();
	ASSERT_EQ(ft.n, 2, "two flows");
	for (i = 0; i < ft.n; i++) {
		ASSERT_EQ(ft.v[i].key.port_a | ft.v[i].key.port_b, 0, "no ports");
		seen |= ft.v[i].key.proto == 1 ? 1 : ft.v[i].key.proto == 47 ? 2 : 0;
	}
	ASSERT_EQ(seen, 3, "icmp and gre flows");
	flowtab_free(&ft);
}

static void test_ipv6_extension_chain(void)
{
	struct frame f;
	struct flow_table ft;
	int v;

	reset_maps();
	eth(&f, NULL, 0, 0x86dd);
	/* HBH -> DSTOPTS -> ROUTING -> AH -> TCP */
	ipv6(&f, "2001:db8::1", "2001:db8::2", 0, 8 * 3 + 12 + 20);
	ip6opt(&f, 60);
	ip6opt(&f, 43);
	ip6opt(&f, 51);
	put8(&f, 6);		/* AH: next header */
	put8(&f, 1);		/* length: (1 + 2) * 4 = 12 bytes */
	put16(&f, 0);
	put32(&f, 0x100);	/* SPI */
	put32(&f, 1);		/* sequence */
	tcp(&f, 443, 50000, 0x18);
	ASSERT_OK(run_tc(TC_INGRESS, &f, 0, &v), "run");
	ft = read_flows();
	if (ASSERT_EQ(ft.n, 1, "flows")) {
		ASSERT_EQ(ft.v[0].key.proto, 6, "TCP after the chain");
		ASSERT_EQ(ft.v[0].key.family, FLOW_FAMILY_IPV6, "family");
		ASSERT_EQ(port_of(&ft.v[0].key, "2001:db8::1", 1), 443, "sport");
		ASSERT_EQ(port_of(&ft.v[0].key, "2001:db8::2", 1), 50000, "dport");
		ASSERT_EQ(ft.v[0].rec.tcp_flags[0] | ft.v[0].rec.tcp_flags[1], 0x18, "flags");
	}
	flowtab_free(&ft);
}

static void test_ipv6_chain_too_long(void)
{
	struct frame f;
	struct flow_table ft;
	int v, i;

	reset_maps();
	eth(&f, NULL, 0, 0x86dd);
	ipv6(&f, "2001:db8::1", "2001:db8::2", 60, 8 * 10 + 8);
	for (i = 0; i < 10; i++)
		ip6opt(&f, i < 9 ? 60 : 17);
	udp(&f, 1, 2, 0);
	ASSERT_OK(run_tc(TC_INGRESS, &f, 0, &v), "run");
	ASSERT_EQ(v, TC_ACT_UNSPEC, "packet passes on");
	ft = read_flows();
	ASSERT_EQ(ft.n, 0, "no guessed flow");
	ASSERT_EQ(stat(STAT_IPV6_EXT_LIMIT), 1, "counted as too long");
	flowtab_free(&ft);
}

static void test_vlan_and_qinq(void)
{
	static const uint16_t q[] = { 0x8100 }, qinq[] = { 0x88a8, 0x8100 };
	struct frame f;
	struct flow_table ft;
	int v;

	reset_maps();
	eth(&f, q, 1, 0x0800);
	ipv4(&f, "10.2.0.1", "10.2.0.2", 17, 0, 1, 0, 8);
	udp(&f, 1000, 2000, 0);
	ASSERT_OK(run_xdp(&f, &v), "802.1Q");
	eth(&f, qinq, 2, 0x86dd);
	ipv6(&f, "2001:db8::a", "2001:db8::b", 17, 8);
	udp(&f, 3000, 4000, 0);
	ASSERT_OK(run_xdp(&f, &v), "QinQ");
	ft = read_flows();
	if (ASSERT_EQ(ft.n, 2, "both tagged frames parsed")) {
		size_t i;
		int ok = 0;

		for (i = 0; i < 2; i++) {
			if (port_of(&ft.v[i].key, "10.2.0.1", 0) == 1000)
				ok |= 1;
			if (port_of(&ft.v[i].key, "2001:db8::b", 1) == 4000)
				ok |= 2;
		}
		ASSERT_EQ(ok, 3, "ports under one and two tags");
	}
	ASSERT_EQ(stat(STAT_NON_IP), 0, "no frame taken for non-IP");
	flowtab_free(&ft);
}

static void test_mpls(void)
{
	static const uint16_t q[] = { 0x8100 };
	struct frame f;
	struct flow_table ft;
	size_t i;
	int v, ok = 0;

	reset_maps();
	/* two labels, then IPv4 */
	eth(&f, NULL, 0, 0x8847);
	put32(&f, (100 << 12) | 64);
	put32(&f, (200 << 12) | 0x100 | 64);
	ipv4(&f, "10.8.0.1", "10.8.0.2", 17, 0, 1, 0, 8);
	udp(&f, 1111, 2222, 0);
	ASSERT_OK(run_xdp(&f, &v), "mpls ip");
	/* one label, pseudowire control word, Ethernet + VLAN, IPv6 */
	eth(&f, NULL, 0, 0x8847);
	put32(&f, (300 << 12) | 0x100 | 64);
	put32(&f, 0);
	{
		struct frame inner;

		eth(&inner, q, 1, 0x86dd);
		put(&f, inner.b, inner.len);
	}
	ipv6(&f, "2001:db8::c", "2001:db8::d", 6, 20);
	tcp(&f, 3333, 4444, 0x02);
	ASSERT_OK(run_xdp(&f, &v), "mpls pw");
	/* bottom of stack never comes */
	eth(&f, NULL, 0, 0x8847);
	for (i = 0; i < 5; i++)
		put32(&f, (400 << 12) | 64);
	payload(&f, 20);
	ASSERT_OK(run_xdp(&f, &v), "deep stack");

	ft = read_flows();
	ASSERT_EQ(ft.n, 2, "two flows under MPLS");
	for (i = 0; i < ft.n; i++) {
		if (port_of(&ft.v[i].key, "10.8.0.2", 0) == 2222)
			ok |= 1;
		if (port_of(&ft.v[i].key, "2001:db8::d", 1) == 4444)
			ok |= 2;
	}
	ASSERT_EQ(ok, 3, "IPv4 under labels, IPv6 under a pseudowire");
	ASSERT_EQ(stat(STAT_NON_IP), 1, "label stack too deep is counted");
	flowtab_free(&ft);
}

static void test_ipv4_fragments(void)
{
	struct frame f;
	struct flow_table ft;
	size_t total = 0;
	int v;

	reset_maps();
	/* first fragment: offset 0, MF, carries the UDP header */
	eth(&f, NULL, 0, 0x0800);
	ipv4(&f, "10.3.0.1", "10.3.0.2", 17, 0, 0x4242, 0x2000, 8 + 32);
	udp(&f, 7000, 8000, 100);
	payload(&f, 32);
	total += f.len;
	ASSERT_OK(run_xdp(&f, &v), "first");
	/* later fragment: offset 40 bytes (5 units); the payload looks like ports but is not */
	eth(&f, NULL, 0, 0x0800);
	ipv4(&f, "10.3.0.1", "10.3.0.2", 17, 0, 0x4242, 5, 68);
	payload(&f, 68);
	total += f.len;
	ASSERT_OK(run_xdp(&f, &v), "later");
	/* a later fragment of a datagram whose first fragment we never saw */
	eth(&f, NULL, 0, 0x0800);
	ipv4(&f, "10.3.0.1", "10.3.0.2", 17, 0, 0x9999, 5, 20);
	payload(&f, 20);
	ASSERT_OK(run_xdp(&f, &v), "orphan");

	ft = read_flows();
	if (ASSERT_EQ(ft.n, 2, "datagram flow + portless orphan flow")) {
		size_t i;

		for (i = 0; i < ft.n; i++) {
			struct flow_entry *e = &ft.v[i];
			uint64_t p = e->rec.packets[0] + e->rec.packets[1];
			uint64_t b = e->rec.bytes[0] + e->rec.bytes[1];

			if (e->key.port_a) {
				ASSERT_EQ(port_of(&e->key, "10.3.0.1", 0), 7000, "sport from first");
				ASSERT_EQ(p, 2, "both fragments in the datagram's flow");
				ASSERT_EQ(b, total, "their bytes");
			} else {
				ASSERT_EQ(p, 1, "orphan counted without ports");
			}
		}
	}
	ASSERT_EQ(stat(STAT_FRAG_NO_PORTS), 1, "orphan counted in stats");
	flowtab_free(&ft);
}

static void test_ipv6_fragments(void)
{
	struct frame f;
	struct flow_table ft;
	int v;

	reset_maps();
	eth(&f, NULL, 0, 0x86dd);
	ipv6(&f, "2001:db8::1", "2001:db8::2", 44, 8 + 8 + 16);
	ip6frag(&f, 17, 0, 1, 77);
	udp(&f, 5000, 6000, 64);
	payload(&f, 16);
	ASSERT_OK(run_tc(TC_INGRESS, &f, 0, &v), "first");
	eth(&f, NULL, 0, 0x86dd);
	ipv6(&f, "2001:db8::1", "2001:db8::2", 0, 8 + 8 + 48);	/* HBH before the fragment header */
	ip6opt(&f, 44);
	ip6frag(&f, 17, 3, 0, 77);
	payload(&f, 48);
	ASSERT_OK(run_tc(TC_INGRESS, &f, 0, &v), "later");
	ft = read_flows();
	if (ASSERT_EQ(ft.n, 1, "one flow")) {
		ASSERT_EQ(port_of(&ft.v[0].key, "2001:db8::2", 1), 6000, "dport");
		ASSERT_EQ(ft.v[0].rec.packets[0] + ft.v[0].rec.packets[1], 2, "both fragments");
	}
	flowtab_free(&ft);
}

static void test_truncated_and_garbage(void)
{
	struct frame f;
	struct flow_table ft;
	int v, i;

	reset_maps();
	/* IPv4 header cut short */
	eth(&f, NULL, 0, 0x0800);
	ipv4(&f, "10.4.0.1", "10.4.0.2", 6, 0, 1, 0, 20);
	f.len -= 8;
	ASSERT_OK(run_xdp(&f, &v), "short ip");
	ASSERT_EQ(v, XDP_PASS, "passes");
	/* IHL claims options that are not there */
	eth(&f, NULL, 0, 0x0800);
	ipv4(&f, "10.4.0.1", "10.4.0.2", 6, 0, 1, 0, 0);
	f.b[14] = 0x4f;
	ASSERT_OK(run_tc(TC_INGRESS, &f, 0, &v), "bad ihl");
	/* TCP header cut short */
	eth(&f, NULL, 0, 0x0800);
	ipv4(&f, "10.4.0.1", "10.4.0.2", 6, 0, 1, 0, 20);
	tcp(&f, 1, 2, 0);
	f.len -= 10;
	ASSERT_OK(run_tc(TC_INGRESS, &f, 0, &v), "short tcp");
	/* ARP and random bytes */
	eth(&f, NULL, 0, 0x0806);
	payload(&f, 28);
	ASSERT_OK(run_xdp(&f, &v), "arp");
	srand(1);
	for (i = 0; i < 64; i++)
		f.b[i] = rand();
	f.b[12] = 0x12, f.b[13] = 0x34;
	f.len = 64;
	ASSERT_OK(run_xdp(&f, &v), "garbage");

	ft = read_flows();
	ASSERT_EQ(ft.n, 0, "nothing recorded as a flow");
	ASSERT_EQ(stat(STAT_TRUNCATED), 3, "three truncated");
	ASSERT_EQ(stat(STAT_NON_IP), 2, "two non-IP");
	ASSERT_EQ(stat(STAT_PACKETS), 0, "no packets counted");
	flowtab_free(&ft);
}

static void test_gso_counts_wire_packets(void)
{
	struct frame f;
	struct flow_table ft;
	int v;
	size_t hdr = 14 + 20 + 20;

	reset_maps();
	eth(&f, NULL, 0, 0x0800);
	ipv4(&f, "10.5.0.1", "10.5.0.2", 6, 0, 1, 0, 20 + 3000);
	tcp(&f, 5001, 40000, 0x10);
	payload(&f, 1000);	/* the test frame is shorter; gso_segs says 3 */
	ASSERT_OK(run_tc(TC_EGRESS, &f, 3, &v), "run");
	ft = read_flows();
	if (ASSERT_EQ(ft.n, 1, "flows")) {
		ASSERT_EQ(ft.v[0].rec.packets[0] + ft.v[0].rec.packets[1], 3, "3 wire packets");
		ASSERT_EQ(ft.v[0].rec.bytes[0] + ft.v[0].rec.bytes[1], f.len + 2 * hdr,
			  "headers of segments 2 and 3 added");
	}
	flowtab_free(&ft);
}

static void test_xdp_marks_for_tc(void)
{
	struct frame f;
	uint8_t out[1700];
	struct xdp_md ctx = { .ingress_ifindex = 1 };
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_out = out, .data_size_out = sizeof(out),
		    .ctx_in = &ctx, .ctx_size_in = sizeof(ctx), .ctx_out = &ctx,
		    .ctx_size_out = sizeof(ctx), .repeat = 1);
	struct xdp_sample_meta sm;
	uint32_t mark;
	int fd = bpf_program__fd(XDP_CACHED);

	reset_maps();
	eth(&f, NULL, 0, 0x0800);
	ipv4(&f, "10.6.0.1", "10.6.0.2", 17, 0, 1, 0, 8);
	udp(&f, 1, 2, 0);
	o.data_in = f.b;
	o.data_size_in = f.len;
	ctx.data_end = f.len;
	if (bpf_prog_test_run_opts(fd, &o) && errno == EINVAL) {
		/* the metadata comes out of a test run with a context: 5.12's */
		TEST_SKIP("XDP test runs take no context on this kernel (before 5.12)");
		return;
	}
	/* data_out starts at data_meta. A flow's first packet is sampled. */
	ASSERT_EQ(o.data_size_out, f.len + sizeof(sm), "sample meta + frame");
	memcpy(&sm, out, sizeof(sm));
	ASSERT_EQ(sm.mark, NETPROF_XDP_SAMPLE, "sampled mark");
	ASSERT_TRUE(sm.xdp_ts_ns > 0, "XDP time carried to tc_ingress");

	/* the next packet of the flow, within XDP_SAMPLE_NS: plainly marked */
	memset(&ctx, 0, sizeof(ctx));
	ctx.ingress_ifindex = 1;
	ctx.data_end = f.len;
	o.data_size_out = sizeof(out);
	if (!ASSERT_OK(bpf_prog_test_run_opts(fd, &o), "run 2"))
		return;
	ASSERT_EQ(o.data_size_out, f.len + 4, "mark + frame");
	memcpy(&mark, out, 4);
	ASSERT_EQ(mark, NETPROF_XDP_MARK, "counted mark");
}

static void test_table_full_is_counted(void)
{
	struct frame f;
	int v, i, n = (int)bpf_map__max_entries(skel->maps.flows) + 5;

	reset_maps();
	for (i = 0; i < n; i++) {
		eth(&f, NULL, 0, 0x0800);
		ipv4(&f, "10.7.0.1", "10.7.0.2", 17, 0, 1, 0, 8);
		udp(&f, 10000 + i, 53, 0);
		run_xdp(&f, &v);
	}
	ASSERT_EQ(stat(STAT_FLOW_FULL_PACKETS), 5, "packets over the limit counted");
	ASSERT_EQ(stat(STAT_FLOW_FULL_BYTES), 5 * f.len, "their bytes");
	ASSERT_EQ(stat(STAT_PACKETS), n - 5, "the rest recorded");
}

/*
 * A burst of interleaved flows through xdp_ingress, then the fold: the
 * flow table must hold what the frames add up to, exactly as when every
 * frame goes straight in (xdp_ingress_direct), and the cache must have
 * taken the frames the policy in maps/flow.h gives it: the first frame
 * primes it, later frames of that flow are cached, a SYN and other flows
 * take the full path and do not take it over while it holds counts.
 */
struct burst_frame {
	int	flow;		/* sport 1000 + flow, 10.8.0.1 -> 10.8.0.2:80 */
	uint8_t	tcp_flags;
	int	payload;
};

static const struct burst_frame burst_frames[] = {
	{ 0, 0x18, 100 }, { 0, 0x18, 200 }, { 0, 0x10, 0 }, { 0, 0x18, 1400 },
	{ 1, 0x18, 10 },				/* another flow: full path */
	{ 0, 0x18, 300 }, { 0, 0x11, 0 },		/* back to the cached one; FIN */
	{ 2, 0x02, 0 }, { 2, 0x10, 0 }, { 2, 0x18, 5 },	/* SYN, then data */
};
#define BURST_FRAMES	(int)(sizeof(burst_frames) / sizeof(burst_frames[0]))
#define BURST_CACHED	5	/* frames 1-3, 5, 6 */

static void burst_frame_build(struct frame *f, const struct burst_frame *p)
{
	eth(f, NULL, 0, 0x0800);
	ipv4(f, "10.8.0.1", "10.8.0.2", 6, 0, 1, 0, 20 + p->payload);
	tcp(f, 1000 + p->flow, 80, p->tcp_flags);
	payload(f, p->payload);
}

static int run_burst(struct bpf_program *p)
{
	struct frame f;
	int i, v;

	for (i = 0; i < BURST_FRAMES; i++) {
		burst_frame_build(&f, &burst_frames[i]);
		if (run_xdp_prog(p, &f, &v))
			return -1;
	}
	return 0;
}

static void check_burst_flows(const char *how)
{
	struct flow_table ft = read_flows();
	uint64_t pkts[3] = {}, bytes[3] = {};
	uint8_t flags[3] = {};
	struct frame f;
	size_t i, j;

	for (i = 0; i < BURST_FRAMES; i++) {
		burst_frame_build(&f, &burst_frames[i]);
		pkts[burst_frames[i].flow]++;
		bytes[burst_frames[i].flow] += f.len;
		flags[burst_frames[i].flow] |= burst_frames[i].tcp_flags;
	}
	if (!ASSERT_EQ(ft.n, 3, how))
		goto out;
	for (i = 0; i < ft.n; i++) {
		struct flow_entry *e = &ft.v[i];
		int s = e->rec.first_dir;

		j = port_of(&e->key, "10.8.0.1", 0) - 1000;
		if (!ASSERT_TRUE(j < 3, "a flow of the burst"))
			continue;
		ASSERT_EQ(e->rec.packets[s], pkts[j], how);
		ASSERT_EQ(e->rec.packets[!s], 0, "one direction");
		ASSERT_EQ(e->rec.bytes[s], bytes[j], how);
		ASSERT_EQ(e->rec.tcp_flags[s], flags[j], "flags ORed");
		ASSERT_EQ(e->rec.hook_dirs, FLOW_SEEN_IN(s), "seen arriving");
		ASSERT_TRUE(e->rec.first_seen_ns && e->rec.last_seen_ns >= e->rec.first_seen_ns,
			    "first and last seen");
	}
	ASSERT_EQ(stat(STAT_PACKETS), BURST_FRAMES, "packets_counted");
out:
	flowtab_free(&ft);
}

static void test_cache_burst(void)
{
	struct flow_table ft;

	if (compat) {
		TEST_SKIP("no flow cache on this kernel (no BPF timer callbacks)");
		return;
	}
	reset_maps();
	if (!ASSERT_OK(run_burst(XDP_DIRECT), "direct"))
		return;
	check_burst_flows("direct: frames add up");
	ASSERT_EQ(stat(STAT_XDP_CACHED), 0, "direct: nothing cached");

	reset_maps();
	if (!ASSERT_OK(run_burst(XDP_CACHED), "cached"))
		return;
	/* until the fold the table trails by the cached frames */
	ft = read_flows();
	{
		uint64_t n = 0;
		size_t i;

		for (i = 0; i < ft.n; i++)
			n += ft.v[i].rec.packets[0] + ft.v[i].rec.packets[1];
		ASSERT_EQ(n, BURST_FRAMES - BURST_CACHED, "uncached frames in the table");
	}
	flowtab_free(&ft);
	if (!ASSERT_OK(fold_cache(), "fold"))
		return;
	check_burst_flows("cached: frames add up");
	ASSERT_EQ(stat(STAT_XDP_CACHED), BURST_CACHED, "frames counted through the cache");

	/* the fold unprimed the cache: nothing left over */
	if (!ASSERT_OK(fold_cache(), "fold again"))
		return;
	ASSERT_EQ(stat(STAT_PACKETS), BURST_FRAMES, "a second fold adds nothing");
}

/*
 * A long burst of one flow: every FLOW_CACHE_BATCH cached frames are added
 * to the table by xdp_ingress itself, the rest wait for the fold.
 */
static void test_cache_batch(void)
{
	const int n = FLOW_CACHE_BATCH + 6;
	struct flow_table ft;
	struct frame f;
	int i, v;

	if (compat) {
		TEST_SKIP("no flow cache on this kernel (no BPF timer callbacks)");
		return;
	}
	reset_maps();
	eth(&f, NULL, 0, 0x0800);
	ipv4(&f, "10.9.0.1", "10.9.0.2", 17, 0, 1, 0, 8 + 100);
	udp(&f, 5000, 53, 100);
	payload(&f, 100);
	for (i = 0; i < n; i++)
		if (!ASSERT_OK(run_xdp_prog(XDP_CACHED, &f, &v), "run"))
			return;
	/* 1 full path, a batch, 1 full path again, 4 waiting in the cache */
	ft = read_flows();
	if (ASSERT_EQ(ft.n, 1, "one flow"))
		ASSERT_EQ(ft.v[0].rec.packets[0] + ft.v[0].rec.packets[1],
			  FLOW_CACHE_BATCH + 2, "a full batch folded without the timer");
	flowtab_free(&ft);
	ASSERT_OK(fold_cache(), "fold");
	ft = read_flows();
	if (ASSERT_EQ(ft.n, 1, "one flow")) {
		ASSERT_EQ(ft.v[0].rec.packets[0] + ft.v[0].rec.packets[1], n, "all frames");
		ASSERT_EQ(ft.v[0].rec.bytes[0] + ft.v[0].rec.bytes[1], (uint64_t)n * f.len,
			  "all bytes");
	}
	flowtab_free(&ft);
	ASSERT_EQ(stat(STAT_XDP_CACHED), n - 2, "frames counted through the cache");
}

/*
 * Where the kernel refuses the programs netprofd loads first (5.10), the
 * tests run their *_compat versions, as netprofd does (daemon/attach.c),
 * and the flow cache's tests are skipped: those kernels have no cache.
 */
static const char *const compat_progs[][2] = {
	{ "xdp_ingress", "xdp_ingress_compat" },
	{ "xdp_ingress_direct", "xdp_ingress_compat" },
	{ "tc_ingress", "tc_ingress_compat" },
	{ "tc_egress", "tc_egress_compat" },
	{ "timer_pin_probe", NULL },
};

static int load_as(int with_compat)
{
	struct bpf_program *p;
	struct bpf_map *m;
	size_t i;

	skel = flow_bpf__open();
	if (!ASSERT_OK_PTR(skel, "open"))
		return -1;
	for (i = 0; with_compat && i < sizeof(compat_progs) / sizeof(compat_progs[0]); i++) {
		if ((p = bpf_object__find_program_by_name(skel->obj, compat_progs[i][0])))
			bpf_program__set_autoload(p, false);
		if (compat_progs[i][1] &&
		    (p = bpf_object__find_program_by_name(skel->obj, compat_progs[i][1])))
			bpf_program__set_autoload(p, true);
	}
	/* private maps: never touch a running netprofd's pins */
	bpf_object__for_each_map(m, skel->obj)
		bpf_map__set_pin_path(m, NULL);
	bpf_map__set_max_entries(skel->maps.flows, 64);
	skel->rodata->netns_ino = 1;
	skel->rodata->cache_timer = 0;	/* folded by fold_cache */
	return flow_bpf__load(skel);
}

static int load(void)
{
	/* NETPROF_TEST_COMPAT=1: the compat programs on any kernel (make check runs both) */
	if (getenv("NETPROF_TEST_COMPAT")) {
		compat = 1;
		return load_as(1);
	}
	if (!load_as(0))
		return 0;
	flow_bpf__destroy(skel);
	compat = 1;
	fprintf(stderr, "  this kernel refuses the flow programs: testing their *_compat versions\n");
	return load_as(1);
}

int main(void)
{
	cpu_set_t one;

	/* per-CPU maps: every run on the same CPU (see fold_cache) */
	CPU_ZERO(&one);
	CPU_SET(sched_getcpu(), &one);
	if (sched_setaffinity(0, sizeof(one), &one)) {
		perror("sched_setaffinity");
		return 1;
	}
	test_cur = "load";
	if (load()) {
		fprintf(stderr, "cannot load the flow programs (root needed)\n");
		printf("0 passed, 1 failed, 0 skipped\n");
		return 1;
	}
	RUN_TEST(test_ipv4_tcp_both_directions);
	RUN_TEST(test_syn_names_the_client);
	RUN_TEST(test_ipv4_options);
	RUN_TEST(test_icmp_and_other_protocols);
	RUN_TEST(test_ipv6_extension_chain);
	RUN_TEST(test_ipv6_chain_too_long);
	RUN_TEST(test_vlan_and_qinq);
	RUN_TEST(test_mpls);
	RUN_TEST(test_ipv4_fragments);
	RUN_TEST(test_ipv6_fragments);
	RUN_TEST(test_truncated_and_garbage);
	RUN_TEST(test_gso_counts_wire_packets);
	RUN_TEST(test_xdp_marks_for_tc);
	RUN_TEST(test_table_full_is_counted);
	RUN_TEST(test_cache_burst);
	RUN_TEST(test_cache_batch);
	flow_bpf__destroy(skel);
	return TEST_SUMMARY();
}
