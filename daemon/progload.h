/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Loading a BPF object on a kernel that may refuse some of its programs.
 *
 * Each object names its optional programs: what loads instead where one is
 * refused (an alternative declared SEC("?...") so it does not load by
 * default), and what is lost without either. netprofd loads the object as
 * it is first, quietly; only when that fails are its programs tried one by
 * one (lib/progprobe.h), the refused optional ones left out, their
 * alternatives loaded, and the object loaded again. A refused program that
 * is not optional makes the capability unavailable, with the reason.
 */
#ifndef NETPROF_PROGLOAD_H
#define NETPROF_PROGLOAD_H

#include <stddef.h>
#include "caps.h"
#include "progprobe.h"

struct bpf_object;

struct prog_opt {
	const char *prog;	/* a program some kernels refuse */
	const char *alt;	/* loaded where prog is refused (SEC("?...")), or NULL; an
				   alt may have an entry of its own, for where it is refused too */
	const char *loses;	/* what is lost without either, in a few words */
	int needed;		/* one of the two must load, or the capability is unavailable */
	int speed_only;		/* without it the capability is slower, not less: not a degradation */
	const char *alt_costs;	/* what is lost with alt instead of prog, or NULL: nothing */
};

/* One of netprofd's BPF objects: its ELF bytes and its optional programs. */
struct np_object {
	const char *name;
	const void *(*elf)(size_t *sz);
	const struct prog_opt *opts;
	size_t n_opts;
	int needed;	/* netprofd cannot run without it (else its capability is unavailable) */
	const struct prog_map_owner *owners;	/* maps made only where their program loads */
	size_t n_owners;
};

extern const struct np_object flow_object, sockets_object, latency_object, profile_object;
/* all of them (modules.c) */
extern const struct np_object *const np_objects[];
extern const unsigned int np_n_objects;

#define PROG_OPTS_MAX	16

/* What this kernel takes of an object: filled by object_plan. */
struct prog_plan {
	int	probed;				/* programs were tried one by one */
	int	lost;				/* something is lost, not only replaced */
	int	refused[PROG_OPTS_MAX];		/* opts[i].prog is left out */
	int	use_alt[PROG_OPTS_MAX];		/* and opts[i].alt loads instead */
	char	why[NP_CAP_WHY_LEN];		/* what is lost or replaced, and why */
};

/*
 * Try the object's programs one by one; those named in without (a
 * comma-separated list, or NULL) count as refused. 0: the plan leaves out
 * only optional programs (plan->why says what that costs); -ENOTSUP: a
 * program it cannot do without is refused (plan->why names it and why);
 * -EAGAIN: every program loads alone, so the failure was not the kernel's.
 */
int object_plan(const struct np_object *o, const char *without, struct prog_plan *plan);

/* 0 if every name in the comma-separated list is a program of some object, else -ENOENT with *bad set. */
int objects_have_progs(const char *list, char *bad, size_t len);

/*
 * Apply a plan (NULL: none, every program as declared) to a freshly opened
 * copy of the object, before its load; the owned maps follow their programs.
 */
void object_apply(const struct np_object *o, const struct prog_plan *plan, struct bpf_object *obj);

struct np_daemon;

/* How a module opens (and configures, and applies a plan to) and loads its skeleton. */
struct skel_ops {
	void *(*open)(struct np_daemon *d, void *arg, const struct prog_plan *plan);
	int (*load)(void *skel);
	void (*destroy)(void *skel);
};

/* NAME_ops for skeleton NAME (NAME_bpf__load, NAME_bpf__destroy) opened by open_fn. */
#define SKEL_OPS(name, open_fn)							\
	static int name##_skel_load(void *s) { return name##_bpf__load(s); }		\
	static void name##_skel_destroy(void *s) { name##_bpf__destroy(s); }		\
	static const struct skel_ops name##_ops = { open_fn, name##_skel_load, name##_skel_destroy }

/*
 * Open, configure and load a module's skeleton, leaving out what this
 * kernel refuses (see above), and set the capability's state: active,
 * degraded (what is lost and why) or unavailable (cap -1: leave the table
 * as it is). NULL with errno set
 * when nothing loaded: ENOTSUP when the kernel refuses a program the
 * capability needs (already said); else the load failed for another
 * reason, said in one line (pins of another layout, memory...). plan:
 * NULL, or the caller's, kept for its next load of the same object (one
 * per namespace): the kernel's refusals are then tried for once.
 */
void *object_load(struct np_daemon *d, const struct np_object *o, const struct skel_ops *ops,
		  void *arg, int cap, struct prog_plan *plan);

/* Does the plan (NULL: none) leave prog out? */
int object_refuses(const struct np_object *o, const struct prog_plan *plan, const char *prog);

/* The optional program entry for prog, or NULL if it is required. */
const struct prog_opt *object_opt(const struct np_object *o, const char *prog);

#endif
