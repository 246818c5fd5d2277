/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* A small streaming JSON writer (in the spirit of bpftool's json_writer). */
#ifndef NETPROF_JSON_H
#define NETPROF_JSON_H

#include <stdio.h>
#include <stdint.h>

struct json_writer;

struct json_writer *jw_new(FILE *f, int pretty);
void jw_free(struct json_writer *jw);
/* name: the member name inside an object, NULL inside an array or at top level */
void jw_object_start(struct json_writer *jw, const char *name);
void jw_object_end(struct json_writer *jw);
void jw_array_start(struct json_writer *jw, const char *name);
void jw_array_end(struct json_writer *jw);
/* name may be NULL inside arrays */
void jw_key(struct json_writer *jw, const char *name);
void jw_str(struct json_writer *jw, const char *name, const char *val);
void jw_u64(struct json_writer *jw, const char *name, uint64_t val);
void jw_i64(struct json_writer *jw, const char *name, int64_t val);
void jw_double(struct json_writer *jw, const char *name, double val);
void jw_bool(struct json_writer *jw, const char *name, int val);
void jw_null(struct json_writer *jw, const char *name);

#endif
