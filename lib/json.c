// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <stdlib.h>
#include <string.h>
#include <inttypes.h>
#include "json.h"

#define JW_MAX_DEPTH 32

struct json_writer {
	FILE	*f;
	int	pretty;
	int	depth;
	int	count[JW_MAX_DEPTH];	/* members written at each depth */
};

struct json_writer *jw_new(FILE *f, int pretty)
{
	struct json_writer *jw = calloc(1, sizeof(*jw));

	if (jw) {
		jw->f = f;
		jw->pretty = pretty;
	}
	return jw;
}

void jw_free(struct json_writer *jw)
{
	if (!jw)
		return;
	if (jw->depth == 0)
		fputc('\n', jw->f);
	free(jw);
}

static void jw_indent(struct json_writer *jw)
{
	int i;

	if (!jw->pretty)
		return;
	fputc('\n', jw->f);
	for (i = 0; i < jw->depth; i++)
		fputs("  ", jw->f);
}

static void jw_sep(struct json_writer *jw)
{
	if (jw->depth > 0 && jw->count[jw->depth]++)
		fputc(',', jw->f);
	if (jw->depth > 0)
		jw_indent(jw);
}

static void jw_escaped(struct json_writer *jw, const char *s)
{
	fputc('"', jw->f);
	for (; *s; s++) {
		unsigned char c = *s;

		switch (c) {
		case '"': fputs("\\\"", jw->f); break;
		case '\\': fputs("\\\\", jw->f); break;
		case '\n': fputs("\\n", jw->f); break;
		case '\t': fputs("\\t", jw->f); break;
		case '\r': fputs("\\r", jw->f); break;
		default:
			if (c < 0x20)
				fprintf(jw->f, "\\u%04x", c);
			else
				fputc(c, jw->f);
		}
	}
	fputc('"', jw->f);
}

void jw_key(struct json_writer *jw, const char *name)
{
	jw_sep(jw);
	if (name) {
		jw_escaped(jw, name);
		fputs(jw->pretty ? ": " : ":", jw->f);
	}
}

static void jw_open(struct json_writer *jw, char c)
{
	fputc(c, jw->f);
	if (jw->depth < JW_MAX_DEPTH - 1)
		jw->depth++;
	jw->count[jw->depth] = 0;
}

static void jw_close(struct json_writer *jw, char c)
{
	int had = jw->count[jw->depth];

	if (jw->depth > 0)
		jw->depth--;
	if (had)
		jw_indent(jw);
	fputc(c, jw->f);
}

void jw_object_start(struct json_writer *jw, const char *name)
{
	if (jw->depth > 0)
		jw_key(jw, name);
	jw_open(jw, '{');
}

void jw_object_end(struct json_writer *jw) { jw_close(jw, '}'); }
void jw_array_start(struct json_writer *jw, const char *name)
{
	if (jw->depth > 0)
		jw_key(jw, name);
	jw_open(jw, '[');
}
void jw_array_end(struct json_writer *jw) { jw_close(jw, ']'); }

void jw_str(struct json_writer *jw, const char *name, const char *val)
{
	jw_key(jw, name);
	jw_escaped(jw, val ? val : "");
}

void jw_u64(struct json_writer *jw, const char *name, uint64_t val)
{
	jw_key(jw, name);
	fprintf(jw->f, "%" PRIu64, val);
}

void jw_i64(struct json_writer *jw, const char *name, int64_t val)
{
	jw_key(jw, name);
	fprintf(jw->f, "%" PRId64, val);
}

void jw_double(struct json_writer *jw, const char *name, double val)
{
	jw_key(jw, name);
	fprintf(jw->f, "%.6g", val);
}

void jw_bool(struct json_writer *jw, const char *name, int val)
{
	jw_key(jw, name);
	fputs(val ? "true" : "false", jw->f);
}

void jw_null(struct json_writer *jw, const char *name)
{
	jw_key(jw, name);
	fputs("null", jw->f);
}
