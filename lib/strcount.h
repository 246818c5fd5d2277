/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Counts by string: folded stacks, function names. Open addressing. */
#ifndef NETPROF_STRCOUNT_H
#define NETPROF_STRCOUNT_H

#include <stddef.h>
#include <stdint.h>

struct strcount_entry {
	char		*key;
	uint64_t	count;
	void		*data;	/* the caller's, set once by strcount_add's first call */
};

struct strcount {
	struct strcount_entry	*v;	/* cap slots; key NULL = empty */
	size_t			n, cap;
	int			sorted;	/* v is sorted, not hashed, until the next add */
};

/*
 * Add n to key's count; the entry, or NULL without memory. The key is
 * copied once and stays at that address until strcount_free.
 */
struct strcount_entry *strcount_add(struct strcount *sc, const char *key, size_t len, uint64_t n);
/* The entries (n of them), sorted by count, largest first; valid until the next add
 * (which hashes the table again). */
struct strcount_entry *strcount_sorted(struct strcount *sc);
void strcount_free(struct strcount *sc, void (*free_data)(void *));

#endif
