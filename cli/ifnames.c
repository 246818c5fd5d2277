// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Interface and namespace names, from the ifaces map netprofd keeps. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include "cli.h"
#include "flow.h"
#include "pins.h"

struct iface_names {
	struct iface_key	*keys;
	struct iface_info	*info;
	size_t			n;
};

struct iface_names *iface_names__load(const char *pin_dir)
{
	struct iface_key key, next, *prev = NULL;
	struct iface_names *n = calloc(1, sizeof(*n));
	int fd;

	if (!n)
		return NULL;
	fd = pins_open_map(pin_dir, IFACES_MAP, 1);
	while (fd >= 0 && bpf_map_get_next_key(fd, prev, &next) == 0) {
		struct iface_key *k = realloc(n->keys, (n->n + 1) * sizeof(*k));
		struct iface_info *v = realloc(n->info, (n->n + 1) * sizeof(*v));

		if (k)
			n->keys = k;
		if (v)
			n->info = v;
		if (!k || !v)
			break;
		key = next;
		prev = &key;
		if (bpf_map_lookup_elem(fd, &key, &n->info[n->n]))
			continue;
		n->keys[n->n++] = key;
	}
	if (fd >= 0)
		close(fd);
	return n;
}

const char *iface_names__name(const struct iface_names *n, uint32_t netns_ino, uint32_t ifindex,
			      const char **netns)
{
	size_t i;

	for (i = 0; n && i < n->n; i++) {
		if (n->keys[i].netns_ino == netns_ino && n->keys[i].ifindex == ifindex) {
			if (netns)
				*netns = n->info[i].netns;
			return n->info[i].name;
		}
	}
	if (netns)
		*netns = NULL;
	return NULL;
}

void iface_names__free(struct iface_names *n)
{
	if (!n)
		return;
	free(n->keys);
	free(n->info);
	free(n);
}
