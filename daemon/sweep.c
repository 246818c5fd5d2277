// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The sweep: move finished flows out of the live table into flows_ended,
 * where `netprof flows` still sees them for --keep-ended, and prune that.
 *
 * A flow is finished when it was idle for --idle-timeout, or, for TCP, when
 * it saw RST or FIN in both directions and then stayed quiet for
 * --closed-timeout (the last ACK of the close comes after the FINs).
 *
 * The move uses BPF_MAP_LOOKUP_AND_DELETE_ELEM, which copies and deletes
 * under the bucket lock, so a packet arriving later creates a new entry
 * rather than being lost; only an update racing the delete by microseconds
 * on a flow idle for seconds could be lost (docs/flows.md).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "flowtab.h"
#include "mapwalk.h"
#include "format.h"
#include "log.h"
#include "netprofd.h"
#include "module.h"

#define ENOTSUPP_ 524	/* the kernel's, for operations a map type lacks */
#define TCP_FIN 0x01
#define TCP_RST 0x04

static int flow_end_reason(const struct flow_entry *e, uint64_t now, const struct np_daemon *d)
{
	const struct flow_record *r = &e->rec;
	uint64_t idle = now > r->last_seen_ns ? now - r->last_seen_ns : 0;

	if (e->key.proto == 6) {
		int rst = (r->tcp_flags[0] | r->tcp_flags[1]) & TCP_RST;
		int fin = (r->tcp_flags[0] & TCP_FIN) && (r->tcp_flags[1] & TCP_FIN);

		if ((rst || fin) && idle >= d->closed_timeout_ns)
			return rst ? FLOW_END_RST : FLOW_END_FIN;
	}
	if (idle >= d->idle_timeout_ns)
		return FLOW_END_IDLE;
	return FLOW_END_NONE;
}

/*
 * Ended flows older than --keep-ended go. Under churn the table holds
 * hundreds of thousands of them, so it is read and pruned in batches (two
 * syscalls per record per second cost about 3% of a core at 2,000 new
 * connections a second: bench/mesh.sh), and at most every 10 s.
 */
#define PRUNE_EVERY_NS	(10ULL * 1000000000ULL)

struct prune_ctx {
	struct np_daemon	*d;
	uint64_t		now;
};

static int prune_batch(void *ctx, const void *keys, const void *vals, __u32 n)
{
	struct prune_ctx *c = ctx;
	const struct flow_ended_key *k = keys;
	const struct flow_record *r = vals;
	struct flow_ended_key *old = malloc(n * sizeof(*old));
	__u32 i, nold = 0;
	LIBBPF_OPTS(bpf_map_batch_opts, opts);

	if (!old)
		return -ENOMEM;
	for (i = 0; i < n; i++)
		if (c->now - r[i].ended_ns >= c->d->keep_ended_ns)
			old[nold++] = k[i];
	/* counted only as far as deleted: a failed delete leaves them for the next walk */
	if (nold && !bpf_map_delete_batch(c->d->ended_fd, old, &nold, &opts)) {
		for (i = 0; i < n; i++) {
			if (c->now - r[i].ended_ns < c->d->keep_ended_ns)
				continue;
			c->d->info.ended_pruned++;
			c->d->info.ended_pruned_packets += r[i].packets[0] + r[i].packets[1];
			c->d->info.ended_pruned_bytes += r[i].bytes[0] + r[i].bytes[1];
		}
	}
	free(old);
	return 0;
}

static void prune_ended(struct np_daemon *d, uint64_t now)
{
	static uint64_t last;
	struct prune_ctx c = { d, now };
	int err;

	if (last && now - last < PRUNE_EVERY_NS && now - last < d->keep_ended_ns)
		return;
	last = now;
	err = map_walk_batch(d->ended_fd, sizeof(struct flow_ended_key), sizeof(struct flow_record),
			     prune_batch, &c);
	if (err)
		pr_warn("sweep: cannot prune ended flows: %s\n", strerror(-err));
}

/*
 * Take a flow out of the live table with its counts. Hash maps have
 * lookup-and-delete from 5.14; before, it is a read and then a delete, and a
 * packet counted between the two is lost (said once in the flows
 * capability; an ended flow has been quiet for --closed-timeout or
 * --idle-timeout, so there is rarely one).
 */
static int take_flow(struct np_daemon *d, const struct flow_key *key,
		     struct flow_counters *scratch)
{
	static int two_steps;

	if (!two_steps) {
		if (!bpf_map_lookup_and_delete_elem(d->flows_fd, key, scratch))
			return 0;
		if (errno != EINVAL && errno != ENOTSUPP_ && errno != EOPNOTSUPP)
			return -errno;
		two_steps = 1;
		cap_note(d, NP_CAP_FLOWS, "ended flows are read, then deleted (no lookup-and-delete "
			 "for hash maps before 5.14): a packet between the two is lost");
	}
	if (bpf_map_lookup_elem(d->flows_fd, key, scratch) || bpf_map_delete_elem(d->flows_fd, key))
		return -errno;
	return 0;
}

static int move_to_ended(struct np_daemon *d, const struct flow_key *key, int reason,
			 uint64_t now, struct flow_counters *scratch, int ncpu)
{
	struct flow_ended_key ek = { .flow = *key };
	const struct np_module *m;
	struct flow_record rec;
	unsigned int i;
	int err;

	err = take_flow(d, key, scratch);
	if (err)
		return err;
	flow_counters_sum(scratch, ncpu, &rec);
	rec.ended_ns = now;
	rec.end_reason = reason;
	ek.first_seen_ns = rec.first_seen_ns;
	d->info.flows_expired++;
	for_each_module(i, m)
		if (m->flow_ended)
			m->flow_ended(d, key, &rec);
	if (bpf_map_update_elem(d->ended_fd, &ek, &rec, BPF_ANY)) {
		/* counted with what it carried, shown by `netprof status`: never a silent loss */
		d->info.ended_dropped++;
		d->info.ended_dropped_packets += rec.packets[0] + rec.packets[1];
		d->info.ended_dropped_bytes += rec.bytes[0] + rec.bytes[1];
	}
	return 0;	/* out of the live table: ended, kept or counted as dropped */
}

int sweep(struct np_daemon *d)
{
	int ncpu = libbpf_num_possible_cpus();
	struct flow_table ft = {};
	struct flow_counters *scratch;
	uint64_t now = now_mono_ns();
	const struct np_module *m;
	size_t i;
	int err, reason, moved = 0;

	scratch = calloc(ncpu, sizeof(*scratch));
	if (!scratch)
		return -ENOMEM;
	prune_ended(d, now);
	err = flowtab_read_live(d->flows_fd, &ft);
	if (err) {
		pr_warn("sweep: cannot read the flow table: %s\n", strerror(-err));
		goto out;
	}
	for (i = 0; i < ft.n; i++) {
		reason = flow_end_reason(&ft.v[i], now, d);
		if (reason == FLOW_END_NONE)
			continue;
		if (move_to_ended(d, &ft.v[i].key, reason, now, scratch, ncpu))
			continue;	/* still live (or gone already): nothing ended here */
		moved++;
		ft.v[i].rec.ended_ns = now;	/* no longer live, for the modules' sweep */
	}
	if (moved)
		pr_debug("sweep: %d of %zu flows ended\n", moved, ft.n);
	for_each_module(i, m)
		if (m->sweep)
			m->sweep(d, &ft, now);
out:
	d->info.last_sweep_ns = now;
	daemon_info_write(d);
	flowtab_free(&ft);
	free(scratch);
	return err;
}

void daemon_info_write(struct np_daemon *d)
{
	__u32 zero = 0;

	if (d->daemon_fd >= 0 && bpf_map_update_elem(d->daemon_fd, &zero, &d->info, BPF_ANY))
		pr_warn("cannot update the daemon map: %s\n", strerror(errno));
}
