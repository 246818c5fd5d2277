/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
#ifndef NETPROF_STATS_H
#define NETPROF_STATS_H

#include <stdint.h>
#include "flow.h"

/* snake_case name of an enum np_stat value (for JSON and text). */
const char *np_stat_name(unsigned int idx);
/* Sum the n slots of a PERCPU_ARRAY of __u64 over CPUs into out[n]. 0 or -errno. */
int percpu_array_sum(int fd, uint64_t *out, unsigned int n);
/* Sum the per-CPU stats map into out[STAT_MAX]. 0 or -errno. */
int np_stats_read(int stats_fd, uint64_t out[STAT_MAX]);

#endif
