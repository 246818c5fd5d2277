/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * tcpdump-style filters over flows: the expression is compiled by libpcap
 * and run on a synthetic packet built from the flow key, once per direction.
 * A flow matches if a packet of it in either direction would match, so
 * 'port 80' and 'src host 10.0.0.1' mean what they mean to tcpdump.
 */
#ifndef NETPROF_FILTER_H
#define NETPROF_FILTER_H

#include <stddef.h>
#include "flow.h"

struct flow_filter;

/* What the records filtered know beyond addresses, ports and protocol. */
#define FILTER_TCP_FLAGS	1	/* flows: the TCP flags seen per direction */

/*
 * NULL with a message in err when the expression does not compile, or asks
 * what the records cannot answer (packet length, MAC addresses, TTL, ICMP
 * type, TCP flags without FILTER_TCP_FLAGS...).
 */
struct flow_filter *flow_filter__new(const char *expr, unsigned int knows, char *err,
				     size_t errlen);
int flow_filter__match(const struct flow_filter *f, const struct flow_key *k);
/*
 * With the TCP flags seen per flow_dir (tcp_flags[FLOW_DIR_AB] from addr_a):
 * 'tcp[tcpflags] & tcp-rst != 0' matches a flow that sent a RST either way.
 */
int flow_filter__match_flags(const struct flow_filter *f, const struct flow_key *k,
			     const uint8_t tcp_flags[2]);
void flow_filter__free(struct flow_filter *f);
/* Join argv[0..argc) with spaces (tcpdump style). Caller frees. */
char *filter_join_args(int argc, char **argv);

#endif
