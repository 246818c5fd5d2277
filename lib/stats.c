// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "stats.h"

static const char *const np_stat_names[STAT_MAX] = {
	[STAT_PACKETS]		 = "packets_counted",
	[STAT_FLOW_FULL_PACKETS] = "flow_table_full_packets",
	[STAT_FLOW_FULL_BYTES]	 = "flow_table_full_bytes",
	[STAT_NON_IP]		 = "non_ip_frames",
	[STAT_TRUNCATED]	 = "truncated_frames",
	[STAT_FRAG_NO_PORTS]	 = "fragments_without_ports",
	[STAT_IPV6_EXT_LIMIT]	 = "ipv6_ext_chain_too_long",
	[STAT_XDP_META_FAIL]	 = "xdp_mark_failed",
	[STAT_TC_PULL_FAIL]	 = "tc_pull_failed",
	[STAT_XDP_CACHED]	 = "xdp_cached_packets",
};

const char *np_stat_name(unsigned int idx)
{
	return idx < STAT_MAX && np_stat_names[idx] ? np_stat_names[idx] : "unknown";
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
