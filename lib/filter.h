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

/* NULL with a message in err when the expression does not compile. */
struct flow_filter *flow_filter__new(const char *expr, char *err, size_t errlen);
int flow_filter__match(const struct flow_filter *f, const struct flow_key *k);
void flow_filter__free(struct flow_filter *f);
/* Join argv[0..argc) with spaces (tcpdump style). Caller frees. */
char *filter_join_args(int argc, char **argv);

#endif
