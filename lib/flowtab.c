// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "flowtab.h"

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
	struct flow_entry *v;
	size_t cap;

	if (ft->n + more <= ft->cap)
		return 0;
	cap = ft->cap ? ft->cap : 1024;
	while (cap < ft->n + more)
		cap *= 2;
	v = realloc(ft->v, cap * sizeof(*v));
	if (!v)
		return -ENOMEM;
	ft->v = v;
	ft->cap = cap;
	return 0;
}

void flowtab_free(struct flow_table *ft)
{
	if (!ft)
		return;
	free(ft->v);
	memset(ft, 0, sizeof(*ft));
}

/*
 * Batch lookups walk the hash table bucket by bucket, so one call may need
 * room for more entries than asked; ENOSPC means "grow the batch".
 */
#define BATCH 4096

int flowtab_read_live(int fd, struct flow_table *ft)
{
	int ncpu = libbpf_num_possible_cpus();
	struct flow_counters *vals = NULL;
	struct flow_key *keys = NULL;
	__u32 batch = BATCH, count, in = 0, out = 0, i;
	int err = 0, first = 1;
	LIBBPF_OPTS(bpf_map_batch_opts, opts);

	if (ncpu <= 0)
		return ncpu ? ncpu : -EINVAL;
	for (;;) {
		keys = realloc(keys, (size_t)batch * sizeof(*keys));
		vals = realloc(vals, (size_t)batch * ncpu * sizeof(*vals));
		if (!keys || !vals) {
			err = -ENOMEM;
			goto out;
		}
		count = batch;
		err = bpf_map_lookup_batch(fd, first ? NULL : &in, &out, keys, vals, &count, &opts);
		if (err)
			err = -errno;
		if (err && err != -ENOENT) {
			if (err == -ENOSPC && count == 0) {
				batch *= 2;
				err = 0;
				continue;
			}
			goto out;
		}
		if (ft_reserve(ft, count)) {
			err = -ENOMEM;
			goto out;
		}
		for (i = 0; i < count; i++) {
			struct flow_entry *e = &ft->v[ft->n++];

			e->key = keys[i];
			flow_counters_sum(&vals[(size_t)i * ncpu], ncpu, &e->rec);
		}
		if (err == -ENOENT) {
			err = 0;
			break;
		}
		in = out;
		first = 0;
	}
out:
	free(keys);
	free(vals);
	return err;
}

int flowtab_read_ended(int fd, struct flow_table *ft)
{
	struct flow_ended_key key, next;
	struct flow_record rec;
	void *prev = NULL;
	int err;

	while (bpf_map_get_next_key(fd, prev, &next) == 0) {
		key = next;
		prev = &key;
		if (bpf_map_lookup_elem(fd, &key, &rec))
			continue;	/* pruned between the two calls */
		err = ft_reserve(ft, 1);
		if (err)
			return err;
		ft->v[ft->n].key = key.flow;
		ft->v[ft->n].rec = rec;
		ft->n++;
	}
	return errno == ENOENT ? 0 : -errno;
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
