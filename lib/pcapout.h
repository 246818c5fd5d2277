/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Writing captures: pcap through libpcap's pcap_dump (nanosecond
 * timestamps), or pcapng written here (libpcap 1.10 cannot write it) with
 * one interface block per interface and per-packet comments and
 * direction flags.
 */
#ifndef NETPROF_PCAPOUT_H
#define NETPROF_PCAPOUT_H

#include <stdint.h>
#include <stddef.h>

struct pcap_out;

/* path "-": stdout. NULL with err set on failure. */
struct pcap_out *pcap_out__open(const char *path, int pcapng, uint32_t snaplen, unsigned int mode,
				char *err,
				size_t errlen);
/* An interface (pcapng: an IDB); returns its id for write. */
int pcap_out__add_iface(struct pcap_out *o, const char *name, const char *descr);
/*
 * One Ethernet frame: ts_ns wall clock, caplen bytes of a len-byte frame,
 * dir 0 inbound 1 outbound, comment (pcapng only; NULL: none). 0 or -errno.
 */
int pcap_out__write(struct pcap_out *o, int iface, uint64_t ts_ns, const void *data,
		    uint32_t caplen, uint32_t len, int dir, const char *comment);
/* Flush and close; 0 or -errno (a full disk shows here). */
int pcap_out__close(struct pcap_out *o);

#endif
