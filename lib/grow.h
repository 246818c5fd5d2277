/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
#ifndef NETPROF_GROW_H
#define NETPROF_GROW_H

#include <stddef.h>

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

#endif
