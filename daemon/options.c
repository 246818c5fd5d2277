// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * netprofd's command line: the daemon's own options and every module's
 * (module.h), parsed with one getopt_long table built from them, and
 * --help written from the same rows.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "format.h"
#include "log.h"
#include "module.h"
#include "options.h"

#define HELP_COLUMN	27

int opt_duration(const char *name, const char *arg, uint64_t min_ns, uint64_t max_ns, uint64_t *ns)
{
	char a[32], b[32];

	if (parse_duration(arg, ns)) {
		pr_err("--%s '%s' is not a duration: use e.g. 30s, 500ms, 5m", name, arg);
		return -EINVAL;
	}
	if (*ns < min_ns || *ns > max_ns) {
		pr_err("--%s '%s': give a duration from %s to %s", name, arg,
		       fmt_duration(a, sizeof(a), min_ns), fmt_duration(b, sizeof(b), max_ns));
		return -EINVAL;
	}
	return 0;
}

int opt_number(const char *name, const char *arg, uint64_t min, uint64_t max, uint64_t *v)
{
	if (parse_u64(arg, v) || *v < min || *v > max) {
		pr_err("--%s '%s': give a number from %llu to %llu", name, arg,
		       (unsigned long long)min, (unsigned long long)max);
		return -EINVAL;
	}
	return 0;
}

/* "  -c, --cgroup PATH" then the help, its lines aligned */
static void usage_row(FILE *f, const struct np_option *o)
{
	const char *h, *e;
	int n;

	if (o->short_name)
		n = fprintf(f, "  -%c, --%s", o->short_name, o->name);
	else
		n = fprintf(f, "      --%s", o->name);
	if (o->arg)
		n += fprintf(f, " %s", o->arg);
	for (h = o->help; *h; h = *e ? e + 1 : e) {
		e = h + strcspn(h, "\n");
		if (h != o->help)
			n = 0;
		fprintf(f, "%*s%.*s\n", n < HELP_COLUMN - 1 ? HELP_COLUMN - n : 1, "", (int)(e - h), h);
	}
}

static void usage_rows(FILE *f, const struct np_option *o)
{
	for (; o && o->name; o++)
		usage_row(f, o);
}

void options_usage(FILE *f, const struct np_cmdline *c)
{
	const struct np_module *m;
	unsigned int mi;

	fputs(c->intro, f);
	usage_rows(f, c->head);
	for_each_module(mi, m) {
		if (!m->options || !m->options->name)
			continue;
		fprintf(f, "\n%s:\n", m->name);
		usage_rows(f, m->options);
	}
	fputc('\n', f);
	usage_rows(f, c->tail);
	fputs(c->outro, f);
}

/* every option, the daemon's then the modules', in one array: its index is getopt's val - 256 */
static const struct np_option **all_options(const struct np_cmdline *c, size_t *n)
{
	const struct np_option **v = NULL, *o;
	const struct np_option *const *lists[2 + 32];
	const struct np_module *m;
	size_t nl = 0, cnt = 0, i;
	unsigned int mi;

	lists[nl++] = &c->head;
	lists[nl++] = &c->tail;
	for_each_module(mi, m)
		if (nl < sizeof(lists) / sizeof(lists[0]))
			lists[nl++] = &m->options;
	for (i = 0; i < nl; i++)
		for (o = *lists[i]; o && o->name; o++)
			cnt++;
	v = calloc(cnt + 1, sizeof(*v));
	if (!v)
		return NULL;
	cnt = 0;
	for (i = 0; i < nl; i++)
		for (o = *lists[i]; o && o->name; o++)
			v[cnt++] = o;
	*n = cnt;
	return v;
}

int options_parse(struct np_daemon *d, const struct np_cmdline *c, int argc, char **argv)
{
	const struct np_option **all;
	struct option *lo = NULL;
	char shorts[128] = "";
	size_t n = 0, i, sl = 0;
	int opt, err = 0;

	all = all_options(c, &n);
	lo = calloc(n + 1, sizeof(*lo));
	if (!all || !lo) {
		pr_err("out of memory");
		err = -ENOMEM;
		goto out;
	}
	for (i = 0; i < n; i++) {
		lo[i].name = all[i]->name;
		lo[i].has_arg = all[i]->arg ? required_argument : no_argument;
		lo[i].val = 256 + i;
		if (all[i]->short_name && sl + 3 < sizeof(shorts)) {
			shorts[sl++] = all[i]->short_name;
			if (all[i]->arg)
				shorts[sl++] = ':';
			shorts[sl] = '\0';
		}
	}
	while ((opt = getopt_long(argc, argv, shorts, lo, NULL)) != -1) {
		const struct np_option *o = NULL;

		if (opt >= 256 && (size_t)(opt - 256) < n)
			o = all[opt - 256];
		for (i = 0; !o && opt > 0 && opt < 256 && i < n; i++)
			if (all[i]->short_name == opt)
				o = all[i];
		if (!o) {
			fprintf(stderr, "Try 'netprofd --help'.\n");
			err = -EINVAL;
			goto out;
		}
		if (o->set)
			err = o->set(d, optarg);
		else if (o->flag)
			*(int *)((char *)d + o->flag - 1) = 1;
		else if (o->str)
			*(const char **)((char *)d + o->str - 1) = optarg;
		if (err)
			goto out;
	}
	if (optind < argc) {
		pr_err("unexpected argument '%s': see 'netprofd --help'", argv[optind]);
		err = -EINVAL;
	}
out:
	free(all);
	free(lo);
	return err;
}
