// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/libbpf.h>
#include "grow.h"
#include "log.h"
#include "progprobe.h"

/* libbpf's messages while captured; the tail is kept past CAPTURE_MAX */
#define CAPTURE_MAX	(4u << 20)

static char *cap_buf;
static size_t cap_len, cap_size;
static libbpf_print_fn_t cap_prev;
static int capturing;

static int capture_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	size_t len;
	va_list aq;
	int n;

	if (level == LIBBPF_DEBUG)
		return 0;
	/* one call can carry a whole verifier log: measure it first */
	va_copy(aq, ap);
	n = vsnprintf(NULL, 0, fmt, aq);
	va_end(aq);
	if (n <= 0)
		return 0;
	len = n;
	if (len + 1 > CAPTURE_MAX)
		return 0;
	if (cap_len + len + 1 > CAPTURE_MAX) {
		/* the end of a verifier log says why: keep the second half */
		size_t keep = cap_len / 2;

		memmove(cap_buf, cap_buf + cap_len - keep, keep);
		cap_len = keep;
	}
	if (array_grow(&cap_buf, &cap_size, cap_len + len + 1, 1, 4096))
		return 0;
	vsnprintf(cap_buf + cap_len, len + 1, fmt, ap);
	cap_len += len;
	return n;
}

void prog_capture_begin(void)
{
	cap_len = 0;
	if (cap_buf)
		cap_buf[0] = '\0';
	if (!capturing)
		cap_prev = libbpf_set_print(capture_print);
	capturing = 1;
}

const char *prog_capture_end(void)
{
	if (capturing)
		libbpf_set_print(cap_prev);
	capturing = 0;
	/* -vv shows what was captured */
	if (cap_len && log_level > LOG_DEBUG)
		fputs(cap_buf, stderr);
	return cap_buf ? cap_buf : "";
}

/* Copy the line [s, e) into why, without libbpf's "libbpf: prog 'x': " prefix. */
static void why_copy(const char *s, const char *e, char *why, size_t len)
{
	const char *p;
	size_t n;

	if (!strncmp(s, "libbpf: ", 8))
		s += 8;
	if (!strncmp(s, "prog '", 6) && (p = strstr(s, "': ")) && p < e)
		s = p + 3;
	n = e - s;
	if (n >= len)
		n = len - 1;
	memcpy(why, s, n);
	why[n] = '\0';
}

/* The line before end (exclusive) that says why, walking back over statistics. */
static int verifier_last_word(const char *begin, const char *end, char *why, size_t len)
{
	static const char *const skip[] = {
		"processed ", "verification time", "stack depth", "mark_read", "-- END", "; ",
	};
	const char *e = end, *s;
	unsigned int i;

	while (e > begin) {
		while (e > begin && (e[-1] == '\n' || e[-1] == ' '))
			e--;
		s = e;
		while (s > begin && s[-1] != '\n')
			s--;
		if (s == e)
			break;
		for (i = 0; i < sizeof(skip) / sizeof(skip[0]); i++)
			if (!strncmp(s, skip[i], strlen(skip[i])))
				break;
		if (i == sizeof(skip) / sizeof(skip[0])) {
			why_copy(s, e, why, len);
			return 0;
		}
		e = s;
	}
	return -ENOENT;
}

void prog_why(const char *log, char *why, size_t len)
{
	const char *b, *e, *s;

	why[0] = '\0';
	/* a verifier log: its last word */
	b = strstr(log, "-- BEGIN PROG LOAD LOG --");
	if (b && (e = strstr(b, "-- END PROG LOAD LOG --")) &&
	    !verifier_last_word(b, e, why, len))
		return;
	/* libbpf on a missing hook or helper: "failed to find kernel BTF type ID of 'x'" */
	s = strstr(log, "failed to find kernel BTF type ID of");
	if (!s)
		s = strstr(log, "failed to find BTF for");
	/* the kernel's errno without a log: "BPF program load failed: Operation not permitted" */
	if (!s)
		s = strstr(log, "BPF program load failed:");
	if (s) {
		while (s > log && s[-1] != '\n')
			s--;
		e = strchr(s, '\n');
		why_copy(s, e ? e : s + strlen(s), why, len);
		return;
	}
	/* else libbpf's first line that says what failed (a map it could not make...) */
	for (s = log; *s; s = e + 1) {
		e = strchr(s, '\n');
		if (!e)
			e = s + strlen(s);
		if ((memmem(s, e - s, "failed", 6) || memmem(s, e - s, "rror", 4)) &&
		    !memmem(s, e - s, "failed to load object", 21)) {
			why_copy(s, e, why, len);
			return;
		}
		if (!*e)
			break;
	}
	e = log + strlen(log);
	if (verifier_last_word(log, e, why, len))
		snprintf(why, len, "refused (no reason given)");
}

struct bpf_object *prog_open_quiet(const void *elf, size_t sz, const char *pin_root)
{
	LIBBPF_OPTS(bpf_object_open_opts, opts, .object_name = "np_probe",
		    .pin_root_path = pin_root);
	struct bpf_object *obj;
	int err;

	prog_capture_begin();
	obj = bpf_object__open_mem(elf, sz, &opts);
	err = errno;
	prog_capture_end();
	errno = err;
	return obj;
}

void prog_maps_apply(struct bpf_object *obj, const struct prog_map_owner *owners, size_t n)
{
	struct bpf_program *p;
	struct bpf_map *m;
	size_t i;

	for (i = 0; i < n; i++) {
		m = bpf_object__find_map_by_name(obj, owners[i].map);
		p = bpf_object__find_program_by_name(obj, owners[i].prog);
		if (m)
			bpf_map__set_autocreate(m, p && bpf_program__autoload(p));
	}
}

int prog_try(const void *elf, size_t sz, const struct prog_map_owner *owners, size_t n_owners,
	     const char *prog, char *why, size_t len)
{
	struct bpf_program *p, *want = NULL;
	struct bpf_object *obj;
	struct bpf_map *m;
	const char *log;
	int err;

	why[0] = '\0';
	obj = prog_open_quiet(elf, sz, NULL);
	if (!obj) {
		err = -errno;
		snprintf(why, len, "cannot open the object: %s", strerror(-err));
		return err;
	}
	bpf_object__for_each_program(p, obj) {
		int mine = !strcmp(bpf_program__name(p), prog);

		bpf_program__set_autoload(p, mine);
		if (mine)
			want = p;
	}
	bpf_object__for_each_map(m, obj) {
		enum bpf_map_type t = bpf_map__type(m);

		/* libbpf pins by name under /sys/fs/bpf unless told otherwise */
		bpf_map__set_pin_path(m, NULL);
		if ((t == BPF_MAP_TYPE_HASH || t == BPF_MAP_TYPE_LRU_HASH ||
		     t == BPF_MAP_TYPE_PERCPU_HASH || t == BPF_MAP_TYPE_LRU_PERCPU_HASH) &&
		    bpf_map__max_entries(m) > 64)
			bpf_map__set_max_entries(m, 64);
	}
	prog_maps_apply(obj, owners, n_owners);
	if (!want) {
		bpf_object__close(obj);
		snprintf(why, len, "no program '%s' in this object", prog);
		return -ENOENT;
	}
	prog_capture_begin();
	err = bpf_object__load(obj);
	log = prog_capture_end();
	if (err)
		prog_why(log, why, len);
	bpf_object__close(obj);
	return err;
}

int prog_try_all(const void *elf, size_t sz, const struct prog_map_owner *owners, size_t n_owners,
		 struct prog_verdict **out, size_t *n)
{
	struct prog_verdict *v = NULL;
	struct bpf_program *p;
	struct bpf_object *obj;
	size_t cap = 0, i, cnt = 0;
	int err = 0;

	obj = prog_open_quiet(elf, sz, NULL);
	if (!obj)
		return -errno;
	bpf_object__for_each_program(p, obj) {
		if (ARRAY_GROW(v, cap, cnt + 1, 16)) {
			err = -ENOMEM;
			break;
		}
		memset(&v[cnt], 0, sizeof(v[cnt]));
		snprintf(v[cnt].prog, sizeof(v[cnt].prog), "%s", bpf_program__name(p));
		cnt++;
	}
	bpf_object__close(obj);
	if (err) {
		free(v);
		return err;
	}
	for (i = 0; i < cnt; i++)
		v[i].err = prog_try(elf, sz, owners, n_owners, v[i].prog, v[i].why,
				    sizeof(v[i].why));
	*out = v;
	*n = cnt;
	return 0;
}
