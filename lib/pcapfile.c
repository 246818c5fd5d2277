// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Captures of any link type netprof understands, rewrapped as Ethernet for
 * the datapath's parser: Ethernet as is; Linux cooked (SLL, SLL2), BSD
 * loopback (NULL/LOOP) and raw IP get a 14-byte Ethernet header in place of
 * their own. The bytes counted are the capture's own (pcapfile__next's
 * wire_len), not the rewrapped frame's.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pcap/pcap.h>
#include "pcapfile.h"

#define ETH_HLEN_ 14
#define DLT_IPV4_ 228
#define DLT_IPV6_ 229

struct pcapfile {
	pcap_t	*p;
	int	dlt;
};

static int dlt_supported(int dlt)
{
	return dlt == DLT_EN10MB || dlt == DLT_LINUX_SLL || dlt == DLT_LINUX_SLL2 ||
	       dlt == DLT_NULL || dlt == DLT_LOOP || dlt == DLT_RAW || dlt == DLT_IPV4_ ||
	       dlt == DLT_IPV6_;
}

struct pcapfile *pcapfile__open(const char *path, char *err, size_t errlen)
{
	char ebuf[PCAP_ERRBUF_SIZE];
	struct pcapfile *pf;
	pcap_t *p;
	int dlt;

	p = pcap_open_offline(path, ebuf);
	if (!p) {
		snprintf(err, errlen, "cannot read capture %s: %s", path, ebuf);
		return NULL;
	}
	dlt = pcap_datalink(p);
	if (!dlt_supported(dlt)) {
		snprintf(err, errlen,
			 "%s: link type %s is not supported (Ethernet, Linux cooked, loopback or raw IP)",
			 path, pcap_datalink_val_to_name(dlt) ? pcap_datalink_val_to_name(dlt) : "?");
		pcap_close(p);
		return NULL;
	}
	pf = calloc(1, sizeof(*pf));
	if (!pf) {
		snprintf(err, errlen, "out of memory");
		pcap_close(p);
		return NULL;
	}
	pf->p = p;
	pf->dlt = dlt;
	return pf;
}

/* Ethertype for an address family in a BSD loopback header (either byte order). */
static int null_af_to_ethertype(uint32_t af)
{
	uint32_t sw = __builtin_bswap32(af);

	if (af == 2 || sw == 2)
		return 0x0800;
	if (af == 24 || af == 28 || af == 30 || sw == 24 || sw == 28 || sw == 30)
		return 0x86dd;
	return 0;
}

static int to_ethernet(int dlt, const uint8_t *p, uint32_t caplen, uint8_t *out)
{
	uint32_t hdr, af;
	int proto;

	switch (dlt) {
	case DLT_EN10MB:
		memcpy(out, p, caplen);
		return caplen;
	case DLT_LINUX_SLL:
		hdr = 16;
		proto = caplen >= hdr ? (p[14] << 8 | p[15]) : 0;
		break;
	case DLT_LINUX_SLL2:
		hdr = 20;
		proto = caplen >= hdr ? (p[0] << 8 | p[1]) : 0;
		break;
	case DLT_NULL:
	case DLT_LOOP:
		hdr = 4;
		af = 0;
		if (caplen >= hdr)
			memcpy(&af, p, 4);
		proto = null_af_to_ethertype(af);
		break;
	default:	/* raw IP */
		hdr = 0;
		proto = caplen && (p[0] >> 4) == 6 ? 0x86dd : 0x0800;
		break;
	}
	if (caplen < hdr)
		caplen = hdr;	/* a stub: an empty frame the datapath counts as non-IP */
	memset(out, 0, 12);
	out[12] = proto >> 8;
	out[13] = proto & 0xff;
	memcpy(out + ETH_HLEN_, p + hdr, caplen - hdr);
	return caplen - hdr + ETH_HLEN_;
}

int pcapfile__next(struct pcapfile *pf, uint8_t *out, uint32_t *wire_len, char *err,
		   size_t errlen)
{
	struct pcap_pkthdr *h;
	const uint8_t *data;
	uint32_t caplen;
	int ret;

	ret = pcap_next_ex(pf->p, &h, &data);
	if (ret == PCAP_ERROR_BREAK)
		return 0;
	if (ret != 1) {
		snprintf(err, errlen, "corrupt capture: %s", pcap_geterr(pf->p));
		return -1;
	}
	caplen = h->caplen > PCAPFILE_SNAP_MAX ? PCAPFILE_SNAP_MAX : h->caplen;
	*wire_len = h->len > h->caplen ? h->len : h->caplen;
	ret = to_ethernet(pf->dlt, data, caplen, out);
	if (ret < ETH_HLEN_) {
		memset(out, 0, ETH_HLEN_);
		ret = ETH_HLEN_;
	}
	return ret;
}

void pcapfile__close(struct pcapfile *pf)
{
	if (!pf)
		return;
	pcap_close(pf->p);
	free(pf);
}
