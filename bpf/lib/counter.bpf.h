/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
#ifndef NETPROF_COUNTER_BPF_H
#define NETPROF_COUNTER_BPF_H

/*
 * Add n to slot idx of a PERCPU_ARRAY of __u64: this CPU's copy, so no
 * atomics; user space sums the copies (lib/stats.c, percpu_array_sum).
 */
static __always_inline void percpu_add(void *map, __u32 idx, __u64 n)
{
	__u64 *v = bpf_map_lookup_elem(map, &idx);

	if (v)
		*v += n;
}

#endif
