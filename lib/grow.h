/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
#ifndef NETPROF_GROW_H
#define NETPROF_GROW_H

#include <stddef.h>
#include <stdlib.h>

/*
 * Room for need elements of elem bytes in the array *v of capacity *cap
 * (both updated), the capacity doubling from first. 0, or -ENOMEM with *v
 * and *cap unchanged. The same helper libbpf keeps to itself
 * (libbpf_ensure_mem); in a file of its own so the void ** never aliases
 * a caller's typed pointer inside one translation unit.
 */
int array_grow(void *v, size_t *cap, size_t need, size_t elem, size_t first);

/* array_grow for an array and capacity variable: ARRAY_GROW(t->v, t->cap, t->n + 1, 64) */
#define ARRAY_GROW(arr, cap, need, first) \
	array_grow(&(arr), &(cap), (need), sizeof(*(arr)), (first))

/*
 * qsort for arrays that may be empty: qsort's base must not be NULL even
 * for no elements (C11 7.22.5; UBSan says so), and an empty table's is.
 */
static inline void sort_n(void *base, size_t n, size_t size,
			  int (*cmp)(const void *, const void *))
{
	if (n > 1)
		qsort(base, n, size, cmp);
}

#endif
