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

struct flow_filter *flow_filter__new(const char *expr, char *err, size_t errlen)
{
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
static size_t synth_packet(unsigned char *pkt, const struct flow_key *k, int reverse)
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
	if (k->proto == 6)
		pkt[l4 + 12] = 0x50;		/* data offset 5 */
	return l4 + 20;
}

int flow_filter__match(const struct flow_filter *f, const struct flow_key *k)
{
	unsigned char pkt[128];
	struct pcap_pkthdr h = {};
	int rev;

	if (!f)
		return 1;
	for (rev = 0; rev < 2; rev++) {
		h.caplen = h.len = synth_packet(pkt, k, rev);
		if (pcap_offline_filter(&f->prog, &h, pkt))
			return 1;
	}
	return 0;
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
