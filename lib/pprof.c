// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#include "pprof.h"
#include "strcount.h"
#include "grow.h"

/* A growing byte buffer for protobuf encoding. */
struct pbuf {
	uint8_t	*v;
	size_t	n, cap;
	int	oom;
};

static void pb_put(struct pbuf *b, const void *p, size_t n)
{
	if (b->oom)
		return;
	if (ARRAY_GROW(b->v, b->cap, b->n + n, 4096)) {
		b->oom = 1;
		return;
	}
	memcpy(b->v + b->n, p, n);
	b->n += n;
}

static void pb_varint(struct pbuf *b, uint64_t v)
{
	uint8_t tmp[10];
	size_t n = 0;

	do {
		tmp[n++] = (v & 0x7f) | (v > 0x7f ? 0x80 : 0);
		v >>= 7;
	} while (v);
	pb_put(b, tmp, n);
}

/* field with wire type 0 (varint) or 2 (length-delimited) */
static void pb_uint(struct pbuf *b, int field, uint64_t v)
{
	pb_varint(b, (uint64_t)field << 3);
	pb_varint(b, v);
}

static void pb_bytes(struct pbuf *b, int field, const void *p, size_t n)
{
	pb_varint(b, (uint64_t)field << 3 | 2);
	pb_varint(b, n);
	pb_put(b, p, n);
}

struct pprof {
	struct strcount	strings;	/* data: index + 1 */
	const char	**strv;
	size_t		nstr, capstr;
	struct strcount	funcs;		/* frame name -> data: id */
	size_t		nfuncs;
	struct pbuf	samples;	/* encoded Sample fields of the Profile */
	uint64_t	period_ns, time_ns, duration_ns;
	int		oom;
};

static uint64_t str_id(struct pprof *p, const char *s)
{
	struct strcount_entry *e = strcount_add(&p->strings, s, strlen(s), 0);

	if (!e) {
		p->oom = 1;
		return 0;
	}
	if (!e->data) {
		if (ARRAY_GROW(p->strv, p->capstr, p->nstr + 1, 256)) {
			p->oom = 1;
			return 0;
		}
		p->strv[p->nstr] = e->key;
		e->data = (void *)(uintptr_t)++p->nstr;
	}
	return (uintptr_t)e->data - 1;
}

static uint64_t func_id(struct pprof *p, const char *name)
{
	struct strcount_entry *e = strcount_add(&p->funcs, name, strlen(name), 0);

	if (!e) {
		p->oom = 1;
		return 0;
	}
	if (!e->data) {
		e->data = (void *)(uintptr_t)++p->nfuncs;
		str_id(p, name);
	}
	return (uintptr_t)e->data;
}

struct pprof *pprof__new(uint64_t period_ns, uint64_t time_ns, uint64_t duration_ns)
{
	struct pprof *p = calloc(1, sizeof(*p));

	if (!p)
		return NULL;
	p->period_ns = period_ns;
	p->time_ns = time_ns;
	p->duration_ns = duration_ns;
	str_id(p, "");		/* string 0 is always "" */
	return p;
}

int pprof__add(struct pprof *p, const char *const *frames, size_t nframes, uint64_t count,
	       const struct pprof_label *labels, size_t nlabels)
{
	struct pbuf s = {}, ids = {}, vals = {}, l = {};
	size_t i;

	for (i = 0; i < nframes; i++)		/* location ids: leaf first */
		pb_varint(&ids, func_id(p, frames[i]));
	pb_bytes(&s, 1, ids.v, ids.n);
	pb_varint(&vals, count);
	pb_varint(&vals, count * p->period_ns);
	pb_bytes(&s, 2, vals.v, vals.n);
	for (i = 0; i < nlabels; i++) {
		l.n = 0;
		pb_uint(&l, 1, str_id(p, labels[i].key));
		if (labels[i].str) {
			pb_uint(&l, 2, str_id(p, labels[i].str));
		} else {
			pb_uint(&l, 3, (uint64_t)labels[i].num);
			if (labels[i].unit)
				pb_uint(&l, 4, str_id(p, labels[i].unit));
		}
		pb_bytes(&s, 3, l.v, l.n);
	}
	pb_bytes(&p->samples, 2, s.v, s.n);
	if (s.oom || ids.oom || vals.oom || l.oom || p->samples.oom)
		p->oom = 1;
	free(s.v);
	free(ids.v);
	free(vals.v);
	free(l.v);
	return p->oom ? -ENOMEM : 0;
}

static void value_type(struct pprof *p, struct pbuf *out, int field, const char *type,
		       const char *unit)
{
	struct pbuf vt = {};

	pb_uint(&vt, 1, str_id(p, type));
	pb_uint(&vt, 2, str_id(p, unit));
	pb_bytes(out, field, vt.v, vt.n);
	free(vt.v);
}

int pprof__write(struct pprof *p, const char *path)
{
	struct pbuf out = {}, m = {}, line = {};
	struct strcount_entry *e;
	size_t i;
	gzFile gz;
	int err = 0;

	value_type(p, &out, 1, "samples", "count");
	value_type(p, &out, 1, "cpu", "nanoseconds");
	pb_put(&out, p->samples.v, p->samples.n);
	/* one location per function (same id), then the functions */
	for (i = 0; i < p->funcs.cap; i++) {
		e = &p->funcs.v[i];
		if (!e->key)
			continue;
		line.n = 0;
		pb_uint(&line, 1, (uintptr_t)e->data);
		m.n = 0;
		pb_uint(&m, 1, (uintptr_t)e->data);
		pb_bytes(&m, 4, line.v, line.n);
		pb_bytes(&out, 4, m.v, m.n);
	}
	for (i = 0; i < p->funcs.cap; i++) {
		e = &p->funcs.v[i];
		if (!e->key)
			continue;
		m.n = 0;
		pb_uint(&m, 1, (uintptr_t)e->data);
		pb_uint(&m, 2, str_id(p, e->key));
		pb_uint(&m, 3, str_id(p, e->key));
		pb_bytes(&out, 5, m.v, m.n);
	}
	value_type(p, &out, 11, "cpu", "nanoseconds");	/* before the string table: ids */
	for (i = 0; i < p->nstr; i++)
		pb_bytes(&out, 6, p->strv[i], strlen(p->strv[i]));
	pb_uint(&out, 9, p->time_ns);
	pb_uint(&out, 10, p->duration_ns);
	pb_uint(&out, 12, p->period_ns);
	if (out.oom || m.oom || line.oom || p->oom) {
		err = -ENOMEM;
		goto out;
	}
	gz = gzopen(path, "wb");
	if (!gz) {
		err = errno ? -errno : -EIO;
		goto out;
	}
	if (gzwrite(gz, out.v, out.n) != (int)out.n)
		err = -EIO;
	if (gzclose(gz) != Z_OK && !err)
		err = -EIO;
out:
	free(out.v);
	free(m.v);
	free(line.v);
	return err;
}

void pprof__free(struct pprof *p)
{
	if (!p)
		return;
	strcount_free(&p->strings, NULL);
	strcount_free(&p->funcs, NULL);
	free(p->strv);
	free(p->samples.v);
	free(p);
}
