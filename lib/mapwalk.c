// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <stdlib.h>
#include <bpf/bpf.h>
#include "mapwalk.h"

/*
 * Batch lookups walk the hash table bucket by bucket, so one call may need
 * room for more entries than asked; ENOSPC with nothing copied means "grow
 * the batch".
 */
#define BATCH 4096

int map_walk_batch(int fd, size_t key_size, size_t val_size, map_batch_fn fn, void *ctx)
{
	__u32 batch = BATCH, count, in = 0, out = 0;
	void *keys = NULL, *vals = NULL, *k, *v;
	int err, first = 1;
	LIBBPF_OPTS(bpf_map_batch_opts, opts);

	for (;;) {
		k = realloc(keys, batch * key_size);
		if (k)
			keys = k;
		v = realloc(vals, batch * val_size);
		if (v)
			vals = v;
		if (!k || !v) {
			err = -ENOMEM;
			break;
		}
		count = batch;
		err = bpf_map_lookup_batch(fd, first ? NULL : &in, &out, keys, vals, &count, &opts);
		err = err ? -errno : 0;
		if (err == -ENOSPC && count == 0) {
			batch *= 2;
			continue;
		}
		if (err && err != -ENOENT)
			break;
		if (count) {
			int rc = fn(ctx, keys, vals, count);

			if (rc) {
				err = rc;
				break;
			}
		}
		if (err == -ENOENT) {	/* that was the last batch */
			err = 0;
			break;
		}
		in = out;
		first = 0;
	}
	free(keys);
	free(vals);
	return err;
}

__u32 map_max_entries(int fd)
{
	struct bpf_map_info info = {};
	__u32 len = sizeof(info);

	return bpf_obj_get_info_by_fd(fd, &info, &len) ? 0 : info.max_entries;
}
