// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "stats.h"
#include "sockets.h"
#include "latency.h"
#include "profile.h"

#define STAT_ROW(e, name, help)	[e] = { name, help },
static const struct stat_desc flow_rows[STAT_MAX] = { NP_FLOW_STATS(STAT_ROW) };
static const struct stat_desc sock_rows[SSTAT_MAX] = { NP_SOCK_STATS(STAT_ROW) };
static const struct stat_desc lat_rows[LSTAT_MAX] = { NP_LAT_STATS(STAT_ROW) };

const struct stat_set np_stat_sets[] = {
	{ STATS_MAP, STAT_MAX, flow_rows },
	{ SOCK_STATS_MAP, SSTAT_MAX, sock_rows },
	{ LAT_STATS_MAP, LSTAT_MAX, lat_rows },
};
const unsigned int np_n_stat_sets = sizeof(np_stat_sets) / sizeof(np_stat_sets[0]);

#define PROF_ROW(e, name, metric, help)	[e] = { name, metric, help },
const struct prof_stat_desc prof_stat_rows[PSTAT_MAX] = { NP_PROF_STATS(PROF_ROW) };

#define INFO_ROW(name, metric, help, field) \
	{ name, metric, help, offsetof(struct daemon_info, field) }
const struct info_counter info_gone_rows[] = {
	INFO_ROW("ended_flows_dropped", "netprof_flows_ended_dropped_total",
		 "Ended flows lost because the ended table was full.", ended_dropped),
	INFO_ROW("ended_flows_dropped_packets", "netprof_flows_ended_dropped_packets_total",
		 "Packets of the ended flows lost to a full ended table.", ended_dropped_packets),
	INFO_ROW("ended_flows_dropped_bytes", "netprof_flows_ended_dropped_bytes_total",
		 "Bytes of the ended flows lost to a full ended table.", ended_dropped_bytes),
	INFO_ROW("ended_flows_pruned", "netprof_flows_ended_pruned_total",
		 "Ended flows removed after --keep-ended.", ended_pruned),
	INFO_ROW("ended_flows_pruned_packets", "netprof_flows_ended_pruned_packets_total",
		 "Packets of the ended flows removed after --keep-ended.", ended_pruned_packets),
	INFO_ROW("ended_flows_pruned_bytes", "netprof_flows_ended_pruned_bytes_total",
		 "Bytes of the ended flows removed after --keep-ended.", ended_pruned_bytes),
};
const unsigned int info_gone_n = sizeof(info_gone_rows) / sizeof(info_gone_rows[0]);

uint64_t info_counter_get(const struct daemon_info *info, const struct info_counter *r)
{
	uint64_t v;

	memcpy(&v, (const char *)info + r->off, sizeof(v));
	return v;
}

const char *np_stat_name(unsigned int idx)
{
	return idx < STAT_MAX ? flow_rows[idx].name : "unknown";
}

int percpu_array_sum(int fd, uint64_t *out, unsigned int n)
{
	int ncpu = libbpf_num_possible_cpus(), c, err = 0;
	__u64 *vals;
	__u32 i;

	if (ncpu <= 0)
		return -EINVAL;
	vals = calloc(ncpu, sizeof(*vals));
	if (!vals)
		return -ENOMEM;
	memset(out, 0, n * sizeof(*out));
	for (i = 0; i < n; i++) {
		if (bpf_map_lookup_elem(fd, &i, vals)) {
			err = -errno;
			break;
		}
		for (c = 0; c < ncpu; c++)
			out[i] += vals[c];
	}
	free(vals);
	return err;
}

int np_stats_read(int fd, uint64_t out[STAT_MAX])
{
	return percpu_array_sum(fd, out, STAT_MAX);
}
