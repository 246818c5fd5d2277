/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Reading netprofd's profile journal (docs/profile.md): tab-separated
 * lines, one per sampled (thread, connection, stack) per drain:
 *
 *   S time count tgid tid cgroup_id comm cookie proto local remote netns peer stack
 *   D time samples entries        (a drain: every sample up to time is written)
 *
 * stack is folded, root first: comm;user frames;kernel frames_[k].
 * proto, local, remote, netns and peer are "-" without a connection, "?"
 * for a connection whose addresses were no longer known.
 */
#ifndef NETPROF_PROFJOURNAL_H
#define NETPROF_PROFJOURNAL_H

#include <stdint.h>

struct prof_sample {
	uint64_t	time, count;
	uint32_t	tgid, tid;
	uint64_t	cgroup_id;
	const char	*comm;
	uint64_t	cookie;		/* 0: no connection */
	int		has_conn;	/* the addresses below are known */
	uint8_t		proto, family;
	uint8_t		laddr[16], raddr[16];
	uint16_t	lport, rport;
	uint32_t	netns_ino;
	const char	*local, *remote, *peer;	/* as written: "10.0.0.1:80" */
	const char	*stack;
};

typedef int (*prof_sample_fn)(void *ctx, const struct prof_sample *s);

struct prof_journal_info {
	uint64_t	last_drain_ns;			/* 0: none in the files */
	uint64_t	drains, samples;		/* in [from, to] */
	uint64_t	bad_lines;			/* not in the format: skipped */
};

/*
 * Call fn for every sample drained in (from_ns, to_ns] (CLOCK_MONOTONIC),
 * from the rotated journal and then the current one. 0, fn's non-zero
 * return, -ENOENT when there is no journal.
 */
int prof_journal_read(const char *path, uint64_t from_ns, uint64_t to_ns, prof_sample_fn fn,
		      void *ctx, struct prof_journal_info *info);

/*
 * The time of the last drain in the current journal (0: none yet), read
 * from its tail only. 0 or -errno (-ENOENT: no journal).
 */
int prof_journal_last_drain(const char *path, uint64_t *drain_ns);

#endif
