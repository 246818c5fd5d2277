// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <bpf/libbpf.h>
#include "progprobe.h"
#include "log.h"
#include "netprofd.h"
#include "captab.h"
#include "progload.h"

const struct prog_opt *object_opt(const struct np_object *o, const char *prog)
{
	size_t i;

	for (i = 0; i < o->n_opts; i++)
		if (!strcmp(o->opts[i].prog, prog) || (o->opts[i].alt && !strcmp(o->opts[i].alt, prog)))
			return &o->opts[i];
	return NULL;
}

/* Append "; text" (or text) to why, as room allows. */
static void why_add(char *why, size_t len, const char *fmt, const char *a, const char *b)
{
	size_t n = strlen(why);

	if (n && n + 2 < len) {
		strcpy(why + n, "; ");
		n += 2;
	}
	if (n < len)
		snprintf(why + n, len - n, fmt, a, b);
}

int object_plan(const struct np_object *o, struct prog_plan *plan)
{
	char why[PROG_WHY_LEN], alt_why[PROG_WHY_LEN];
	const void *elf;
	struct bpf_object *obj;
	struct bpf_program *p;
	int required_refused = 0, any = 0;
	size_t sz, i;

	memset(plan, 0, sizeof(*plan));
	plan->probed = 1;
	elf = o->elf(&sz);
	obj = prog_open_quiet(elf, sz, NULL);
	if (!obj)
		return -errno;
	bpf_object__for_each_program(p, obj) {
		const char *name = bpf_program__name(p);
		const struct prog_opt *opt;

		if (!bpf_program__autoload(p))
			continue;	/* an alternative: tried below if needed */
		if (!prog_try(elf, sz, name, why, sizeof(why)))
			continue;
		any = 1;
		opt = object_opt(o, name);
		if (opt) {
			i = opt - o->opts;
			plan->refused[i] = 1;
			if (opt->alt && !prog_try(elf, sz, opt->alt, alt_why, sizeof(alt_why))) {
				plan->use_alt[i] = 1;
				if (!required_refused)
					why_add(plan->why, sizeof(plan->why), "%s instead of %s",
						opt->alt, name);
				continue;
			}
			if (opt->speed_only)
				continue;	/* the module says what that costs */
			if (!opt->needed) {
				plan->lost = 1;
				if (!required_refused)
					why_add(plan->why, sizeof(plan->why), "%s: %s", opt->loses, why);
				continue;
			}
		}
		/* what the capability cannot do without: only these are named then */
		if (!required_refused)
			plan->why[0] = '\0';
		required_refused = 1;
		why_add(plan->why, sizeof(plan->why), "%s refused: %s", name, why);
	}
	bpf_object__close(obj);
	if (required_refused)
		return -ENOTSUP;
	return any ? 0 : -EAGAIN;
}

void object_apply(const struct np_object *o, const struct prog_plan *plan, struct bpf_object *obj)
{
	struct bpf_program *p;
	size_t i;

	for (i = 0; i < o->n_opts && i < PROG_OPTS_MAX; i++) {
		if (!plan->refused[i])
			continue;
		p = bpf_object__find_program_by_name(obj, o->opts[i].prog);
		if (p)
			bpf_program__set_autoload(p, false);
		if (plan->use_alt[i] && (p = bpf_object__find_program_by_name(obj, o->opts[i].alt)))
			bpf_program__set_autoload(p, true);
	}
}

/* ops->open, with the error said */
static void *open_said(struct np_daemon *d, const struct np_object *o, const struct skel_ops *ops,
		       void *arg, const struct prog_plan *plan)
{
	void *skel = ops->open(d, arg, plan);
	int err;

	if (!skel) {
		err = errno;
		pr_err("cannot open the %s BPF object: %s", o->name, strerror(err));
		errno = err;
	}
	return skel;
}

void *object_load(struct np_daemon *d, const struct np_object *o, const struct skel_ops *ops,
		  void *arg, int cap, struct prog_plan *plan)
{
	char why[PROG_WHY_LEN];
	struct prog_plan own;
	void *skel;
	int err, perr;

	if (!plan) {
		memset(&own, 0, sizeof(own));
		plan = &own;
	}
	if (!plan->probed) {
		/* as it is first, quietly: on most kernels everything loads */
		skel = open_said(d, o, ops, arg, NULL);
		if (!skel)
			return NULL;
		prog_capture_begin();
		err = ops->load(skel);
		prog_why(prog_capture_end(), why, sizeof(why));
		if (!err) {
			cap_set(d, cap, NP_CAP_ACTIVE, "");
			return skel;
		}
		ops->destroy(skel);
		perr = object_plan(o, plan);
		if (perr == -ENOTSUP) {
			cap_set(d, cap, NP_CAP_UNAVAILABLE, plan->why);
			if (cap >= 0)
				pr_warn("%s: unavailable on this kernel: %s\n", np_cap_name(cap),
					plan->why);
			errno = ENOTSUP;
			return NULL;
		}
		if (perr) {
			/* every program loads alone: the kernel is not the reason */
			pr_err("cannot load the %s BPF programs: %s (%s; run with -vv for libbpf's log; pins of another layout need 'netprofd --remove')",
			       o->name, strerror(-err), why);
			errno = -err;
			return NULL;
		}
	}
	skel = open_said(d, o, ops, arg, plan);
	if (!skel)
		return NULL;
	err = ops->load(skel);
	if (err) {
		pr_err("cannot load the %s BPF programs without those this kernel refuses: %s (run with -vv for libbpf's log)",
		       o->name, strerror(-err));
		ops->destroy(skel);
		errno = -err;
		return NULL;
	}
	cap_set(d, cap, plan->lost ? NP_CAP_DEGRADED : NP_CAP_ACTIVE, plan->why);
	if (cap < 0)
		;	/* said once already */
	else if (plan->lost)
		pr_warn("%s: degraded on this kernel: %s\n", np_cap_name(cap), plan->why);
	else
		pr_info("%s: on this kernel %s\n", np_cap_name(cap), plan->why);
	return skel;
}
