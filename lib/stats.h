/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The kernel side's counters: per-CPU arrays of __u64, one per part, each
 * described once by its row list in maps/ (NP_FLOW_STATS, NP_SOCK_STATS,
 * NP_LAT_STATS, NP_PROF_STATS). `netprof status` and the metrics endpoint
 * name them from the tables here.
 */
#ifndef NETPROF_STATS_H
#define NETPROF_STATS_H

#include <stddef.h>
#include <stdint.h>
#include "flow.h"

struct stat_desc {
	const char *name;	/* snake_case: status's key, metric netprof_NAME_total */
	const char *help;
};

/* One pinned counter map and its rows. */
struct stat_set {
	const char *map;
	unsigned int n;
	const struct stat_desc *rows;
};

/* The datapath's, the socket tracker's and the latency stages' counters, in that order. */
extern const struct stat_set np_stat_sets[];
extern const unsigned int np_n_stat_sets;

/* The profiler's: status's key is name, the metric netprof_profiler_METRIC_total. */
struct prof_stat_desc {
	const char *name;
	const char *metric;
	const char *help;
};
extern const struct prof_stat_desc prof_stat_rows[];

/*
 * The daemon's own counters of what left the flow tables (struct
 * daemon_info): status's name, the metric's, its help, where it is.
 */
struct info_counter {
	const char *name;
	const char *metric;
	const char *help;
	size_t off;		/* offsetof(struct daemon_info, ...) */
};
extern const struct info_counter info_gone_rows[];
extern const unsigned int info_gone_n;
/* The counter of row r in info. */
uint64_t info_counter_get(const struct daemon_info *info, const struct info_counter *r);

/* snake_case name of an enum np_stat value (for JSON and text). */
const char *np_stat_name(unsigned int idx);
/* Sum the n slots of a PERCPU_ARRAY of __u64 over CPUs into out[n]. 0 or -errno. */
int percpu_array_sum(int fd, uint64_t *out, unsigned int n);
/* Sum the per-CPU stats map into out[STAT_MAX]. 0 or -errno. */
int np_stats_read(int stats_fd, uint64_t out[STAT_MAX]);

#endif
