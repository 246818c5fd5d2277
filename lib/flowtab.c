// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "flowtab.h"
#include "mapwalk.h"
#include "grow.h"

static const char *const flow_end_names[FLOW_END_MAX] = {
	[FLOW_END_NONE] = "live",
	[FLOW_END_IDLE] = "idle",
	[FLOW_END_FIN]  = "fin",
	[FLOW_END_RST]  = "rst",
};

const char *flow_end_name(unsigned int reason)
{
	return reason < FLOW_END_MAX && flow_end_names[reason] ? flow_end_names[reason] : "?";
}

#define MAX3(a, b) ((a) > (b) ? (a) : (b))

void flow_counters_sum(const struct flow_counters *percpu, int ncpu, struct flow_record *out)
{
	int i, d, syn_dir = 0, inserted_dir = -1;

	memset(out, 0, sizeof(*out));
	for (i = 0; i < ncpu; i++) {
		const struct flow_counters *c = &percpu[i];

		for (d = 0; d < 2; d++) {
			out->packets[d] += c->packets[d];
			out->bytes[d] += c->bytes[d];
			out->tcp_flags[d] |= c->tcp_flags[d];
		}
		out->hook_dirs |= c->hook_dirs;
		if (c->first_seen_ns && (!out->first_seen_ns || c->first_seen_ns < out->first_seen_ns)) {
			out->first_seen_ns = c->first_seen_ns;
			out->first_dir = c->first_dir;
		}
		if (c->syn_dir)
			syn_dir = c->syn_dir;
		if (c->inserted)
			inserted_dir = c->first_dir;
		out->last_seen_ns = MAX3(out->last_seen_ns, c->last_seen_ns);
		out->xdp_ts_ns = MAX3(out->xdp_ts_ns, c->xdp_ts_ns);
		if (c->tc_ingress_ts_ns > out->tc_ingress_ts_ns) {
			/* the pair belongs to one packet: take both from one CPU */
			out->tc_ingress_ts_ns = c->tc_ingress_ts_ns;
			out->tc_ingress_xdp_ts_ns = c->tc_ingress_xdp_ts_ns;
		}
		out->tc_egress_ts_ns = MAX3(out->tc_egress_ts_ns, c->tc_egress_ts_ns);
	}
	/* who started it: the TCP client, else the first packet's sender */
	if (syn_dir)
		out->first_dir = syn_dir - 1;
	else if (inserted_dir >= 0)
		out->first_dir = inserted_dir;
}

static int ft_reserve(struct flow_table *ft, size_t more)
{
	return ARRAY_GROW(ft->v, ft->cap, ft->n + more, 1024);
}

void flowtab_free(struct flow_table *ft)
{
	if (!ft)
		return;
	free(ft->v);
	memset(ft, 0, sizeof(*ft));
}

struct live_ctx {
	struct flow_table	*ft;
	int			ncpu;
};

static int add_live(void *ctx, const void *keys, const void *vals, __u32 n)
{
	struct live_ctx *c = ctx;
	const struct flow_key *k = keys;
	const struct flow_counters *v = vals;
	__u32 i;

	if (ft_reserve(c->ft, n))
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		struct flow_entry *e = &c->ft->v[c->ft->n++];

		e->key = k[i];
		flow_counters_sum(&v[(size_t)i * c->ncpu], c->ncpu, &e->rec);
	}
	return 0;
}

int flowtab_read_live(int fd, struct flow_table *ft)
{
	struct live_ctx c = { ft, libbpf_num_possible_cpus() };

	if (c.ncpu <= 0)
		return c.ncpu ? c.ncpu : -EINVAL;
	return map_walk_batch(fd, sizeof(struct flow_key),
			      (size_t)c.ncpu * sizeof(struct flow_counters), add_live, &c);
}

static int add_ended(void *ctx, const void *keys, const void *vals, __u32 n)
{
	struct flow_table *ft = ctx;
	const struct flow_ended_key *k = keys;
	const struct flow_record *v = vals;
	__u32 i;

	if (ft_reserve(ft, n))
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		ft->v[ft->n].key = k[i].flow;
		ft->v[ft->n].rec = v[i];
		ft->n++;
	}
	return 0;
}

int flowtab_read_ended(int fd, struct flow_table *ft)
{
	return map_walk_batch(fd, sizeof(struct flow_ended_key), sizeof(struct flow_record),
			      add_ended, ft);
}

long map_count_entries(int fd)
{
	char key[256], next[256];
	void *prev = NULL;
	long n = 0;

	while (bpf_map_get_next_key(fd, prev, next) == 0) {
		memcpy(key, next, sizeof(key));
		prev = key;
		n++;
	}
	return n;
}
