/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Reading the flow maps from user space: sum the per-CPU copies, merge. */
#ifndef NETPROF_FLOWTAB_H
#define NETPROF_FLOWTAB_H

#include <stddef.h>
#include "flow.h"

struct flow_entry {
	struct flow_key		key;
	struct flow_record	rec;	/* summed over CPUs; rec.ended_ns != 0 if ended */
};

struct flow_table {
	struct flow_entry	*v;
	size_t			n;
	size_t			cap;
};

/* Sum ncpu per-CPU copies of a flow (maps/flow.h says how each field combines). */
void flow_counters_sum(const struct flow_counters *percpu, int ncpu, struct flow_record *out);
/* Append every live flow of a pinned PERCPU_HASH flows map. 0 or -errno. */
int flowtab_read_live(int flows_fd, struct flow_table *ft);
/* Append every ended flow of a flows_ended map. 0 or -errno. */
int flowtab_read_ended(int ended_fd, struct flow_table *ft);
void flowtab_free(struct flow_table *ft);
/* Number of entries in a hash map (walks keys). */
long map_count_entries(int fd);

const char *flow_end_name(unsigned int reason);
/* Which endpoint spoke first: 0 if a, 1 if b. */
static inline int flow_initiator(const struct flow_record *r) { return r->first_dir; }

#endif
