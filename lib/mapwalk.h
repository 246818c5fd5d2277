/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Reading a whole hash map in batches, the one way every reader does it. */
#ifndef NETPROF_MAPWALK_H
#define NETPROF_MAPWALK_H

#include <stddef.h>
#include <linux/types.h>

/* Called per batch: n keys and n values, laid out as the kernel copies them. */
typedef int (*map_batch_fn)(void *ctx, const void *keys, const void *vals, __u32 n);

/*
 * Walk a hash map with BPF_MAP_LOOKUP_BATCH: two syscalls per batch rather
 * than per entry. val_size is one entry's value as copied out (for a
 * per-CPU map: the value rounded up to 8 bytes, times the possible CPUs).
 * A bucket larger than the batch (ENOSPC) grows the batch; nothing is
 * skipped. Returns 0, fn's first non-zero return, or -errno.
 */
int map_walk_batch(int fd, size_t key_size, size_t val_size, map_batch_fn fn, void *ctx);

/* A map's max_entries (0 if its info cannot be read). */
__u32 map_max_entries(int fd);

#endif
