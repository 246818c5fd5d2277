// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "grow.h"
#include "strcount.h"

static uint64_t hash(const char *s, size_t len)
{
	uint64_t h = 0xcbf29ce484222325ULL;	/* FNV-1a */
	size_t i;

	for (i = 0; i < len; i++)
		h = (h ^ (unsigned char)s[i]) * 0x100000001b3ULL;
	return h;
}

/* A table twice the size (or the same size: after sorting, to re-hash). */
static int grow(struct strcount *sc, int same)
{
	size_t cap = sc->cap ? sc->cap * (same ? 1 : 2) : 256, i, j;
	struct strcount_entry *v = calloc(cap, sizeof(*v));

	if (!v)
		return -ENOMEM;
	for (i = 0; i < sc->cap; i++) {
		if (!sc->v[i].key)
			continue;
		j = hash(sc->v[i].key, strlen(sc->v[i].key)) & (cap - 1);
		while (v[j].key)
			j = (j + 1) & (cap - 1);
		v[j] = sc->v[i];
	}
	free(sc->v);
	sc->v = v;
	sc->cap = cap;
	sc->sorted = 0;
	return 0;
}

struct strcount_entry *strcount_add(struct strcount *sc, const char *key, size_t len, uint64_t n)
{
	size_t j;

	if (sc->sorted && grow(sc, 1))
		return NULL;
	if ((sc->n + 1) * 2 > sc->cap && grow(sc, 0))
		return NULL;
	j = hash(key, len) & (sc->cap - 1);
	for (; sc->v[j].key; j = (j + 1) & (sc->cap - 1))
		if (!strncmp(sc->v[j].key, key, len) && !sc->v[j].key[len]) {
			sc->v[j].count += n;
			return &sc->v[j];
		}
	sc->v[j].key = strndup(key, len);
	if (!sc->v[j].key)
		return NULL;
	sc->v[j].count = n;
	sc->n++;
	return &sc->v[j];
}

static int by_count(const void *a, const void *b)
{
	const struct strcount_entry *x = a, *y = b;

	if (x->count != y->count)
		return x->count > y->count ? -1 : 1;
	return strcmp(x->key, y->key);
}

struct strcount_entry *strcount_sorted(struct strcount *sc)
{
	size_t i, j = 0;

	/* compact the used slots to the front: the table is rebuilt on the next add */
	for (i = 0; i < sc->cap; i++)
		if (sc->v[i].key)
			sc->v[j++] = sc->v[i];
	for (i = j; i < sc->cap; i++)
		sc->v[i] = (struct strcount_entry){};
	sort_n(sc->v, j, sizeof(*sc->v), by_count);
	sc->sorted = 1;
	return sc->v;
}

void strcount_free(struct strcount *sc, void (*free_data)(void *))
{
	size_t i;

	for (i = 0; i < sc->cap; i++) {
		free(sc->v[i].key);
		if (free_data && sc->v[i].data)
			free_data(sc->v[i].data);
	}
	free(sc->v);
	memset(sc, 0, sizeof(*sc));
}
