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

int object_refuses(const struct np_object *o, const struct prog_plan *plan, const char *prog)
{
	size_t i;

	for (i = 0; plan && i < o->n_opts && i < PROG_OPTS_MAX; i++)
		if (plan->refused[i] && !strcmp(o->opts[i].prog, prog))
			return 1;
	return 0;
}

/* Append "; text" (or text) to why, as room allows, unless it says so already. */
static void why_add(char *why, size_t len, const char *fmt, const char *a, const char *b)
{
	size_t n = strlen(why);
	char text[NP_CAP_WHY_LEN];

	snprintf(text, sizeof(text), fmt, a, b);
	if (strstr(why, text))
		return;

	if (n && n + 2 < len) {
		strcpy(why + n, "; ");
		n += 2;
	}
	if (n < len)
		snprintf(why + n, len - n, "%s", text);
}

/* Is name one of the comma-separated list? */
static int listed(const char *list, const char *name)
{
	size_t n = strlen(name);
	const char *s;

	for (s = list; s && *s; s += strcspn(s, ",")) {
		s += *s == ',';
		if (!strncmp(s, name, n) && (s[n] == ',' || !s[n]))
			return 1;
	}
	return 0;
}

/* prog_try, or refused as --without-prog asks */
static int try_prog(const struct np_object *o, const char *without, const void *elf, size_t sz,
		    const char *prog, char *why, size_t len)
{
	if (listed(without, prog)) {
		snprintf(why, len, "left out by --without-prog");
		return -EPERM;
	}
	return prog_try(elf, sz, o->owners, o->n_owners, prog, why, len);
}

int objects_have_progs(const char *list, char *bad, size_t len)
{
	const char *s, *e;
	size_t i, sz;
	int found;

	for (s = list; s && *s; s = *e ? e + 1 : e) {
		e = s + strcspn(s, ",");
		snprintf(bad, len, "%.*s", (int)(e - s), s);
		found = 0;
		for (i = 0; i < np_n_objects && !found; i++) {
			const void *elf = np_objects[i]->elf(&sz);
			struct bpf_object *obj = prog_open_quiet(elf, sz, NULL);

			if (!obj)
				return -errno;
			found = bad[0] && bpf_object__find_program_by_name(obj, bad) != NULL;
			bpf_object__close(obj);
		}
		if (!found)
			return -ENOENT;
	}
	return 0;
}

/* The entry whose prog is name (not its alt), or NULL. */
static const struct prog_opt *opt_of(const struct np_object *o, const char *name)
{
	size_t i;

	for (i = 0; i < o->n_opts; i++)
		if (!strcmp(o->opts[i].prog, name))
			return &o->opts[i];
	return NULL;
}

/*
 * name (opt's prog) is refused: find what stands in for it, following
 * alternatives that have entries of their own. Returns the entry whose alt
 * loads, or NULL; every entry on the way is marked refused.
 */
static const struct prog_opt *stand_in(const struct np_object *o, const char *without,
				       const void *elf, size_t sz, const struct prog_opt *opt,
				       struct prog_plan *plan, char *why, size_t len)
{
	const struct prog_opt *cur = opt;
	char this_why[PROG_WHY_LEN];
	size_t hops;

	for (hops = 0; cur && cur->alt && hops < o->n_opts; hops++) {
		plan->refused[cur - o->opts] = 1;
		if (!try_prog(o, without, elf, sz, cur->alt, this_why, sizeof(this_why))) {
			plan->use_alt[cur - o->opts] = 1;
			return cur;
		}
		snprintf(why, len, "%s", this_why);	/* the last refusal's */
		cur = opt_of(o, cur->alt);
	}
	if (cur)
		plan->refused[cur - o->opts] = 1;
	return NULL;
}

int object_plan(const struct np_object *o, const char *without, struct prog_plan *plan)
{
	char why[PROG_WHY_LEN], alt_why[PROG_WHY_LEN];
	const struct prog_opt *opt, *used;
	const void *elf;
	struct bpf_object *obj;
	struct bpf_program *p;
	int required_refused = 0, any = 0;
	size_t sz;

	memset(plan, 0, sizeof(*plan));
	plan->probed = 1;
	elf = o->elf(&sz);
	obj = prog_open_quiet(elf, sz, NULL);
	if (!obj)
		return -errno;
	bpf_object__for_each_program(p, obj) {
		const char *name = bpf_program__name(p);

		if (!bpf_program__autoload(p))
			continue;	/* an alternative: tried below if needed */
		if (!try_prog(o, without, elf, sz, name, why, sizeof(why)))
			continue;
		any = 1;
		opt = opt_of(o, name);
		if (opt) {
			alt_why[0] = '\0';
			used = stand_in(o, without, elf, sz, opt, plan, alt_why, sizeof(alt_why));
			if (used) {
				if (required_refused)
					continue;
				why_add(plan->why, sizeof(plan->why), "%s instead of %s", used->alt, name);
				if (used->alt_costs) {
					/* the nearer stand-in's refusal says why it costs */
					plan->lost = 1;
					why_add(plan->why, sizeof(plan->why), "%s: %s", used->alt_costs,
						used == opt ? why : alt_why);
				}
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

	/* first every refused program out, then the stand-ins in (one may be both) */
	for (i = 0; plan && i < o->n_opts && i < PROG_OPTS_MAX; i++)
		if (plan->refused[i] && (p = bpf_object__find_program_by_name(obj, o->opts[i].prog)))
			bpf_program__set_autoload(p, false);
	for (i = 0; plan && i < o->n_opts && i < PROG_OPTS_MAX; i++)
		if (plan->use_alt[i] && (p = bpf_object__find_program_by_name(obj, o->opts[i].alt)))
			bpf_program__set_autoload(p, true);
	prog_maps_apply(obj, o->owners, o->n_owners);
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
	char why[PROG_WHY_LEN] = "";
	struct prog_plan own;
	void *skel;
	int err = 0, perr;

	if (!plan) {
		memset(&own, 0, sizeof(own));
		plan = &own;
	}
	if (!plan->probed && !d->without) {
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
	}
	if (!plan->probed) {
		/* err is 0 here when the object was not tried whole (--without-prog) */
		perr = object_plan(o, d->without, plan);
		if (perr == -ENOTSUP) {
			cap_set(d, cap, NP_CAP_UNAVAILABLE, plan->why);
			if (cap >= 0)
				cap_say_later("%s: unavailable on this kernel: %s\n", np_cap_name(cap),
					      plan->why);
			errno = ENOTSUP;
			return NULL;
		}
		if (perr && err) {
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
		cap_say_later("%s: degraded on this kernel: %s\n", np_cap_name(cap), plan->why);
	else if (plan->why[0])
		cap_say_later("%s: on this kernel %s\n", np_cap_name(cap), plan->why);
	return skel;
}
