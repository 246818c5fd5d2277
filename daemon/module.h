/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * A capability or exporter of netprofd behind one interface: its options,
 * its checks, its start and stop, its part of the sweep, the metrics
 * endpoint and the event loop. main parses the options of every module,
 * checks them all, loads (the flow core: namespaces and its programs),
 * starts the early ones and then the others in table order
 * (daemon/modules.c), and stops them in reverse. A new capability or
 * exporter is one file with its module and one row. Every hook may be
 * NULL, and is called whether the module runs or not: each knows its own
 * state (NULL skeleton, no socket...).
 */
#ifndef NETPROF_MODULE_H
#define NETPROF_MODULE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include "flow.h"

struct np_daemon;
struct flow_table;

/* A command-line option of a module; its --help line comes from here too. */
struct np_option {
	const char *name;	/* --NAME */
	int short_name;		/* -X, or 0 */
	const char *arg;	/* its argument in --help ("N", "DUR"); NULL: a flag */
	const char *help;	/* --help's text; '\n' starts another line */
	/* take it: 0, or -EINVAL once it said in one line what is wrong */
	int (*set)(struct np_daemon *d, const char *arg);
	/* or, without set: an int of struct np_daemon set to 1 (a flag), or a
	   const char * set to the argument; OPT_FLAG / OPT_STR fill these */
	size_t flag, str;	/* offsetof + 1; 0: none */
};

#define OPT_FLAG(name, help, field) \
	{ name, 0, NULL, help, NULL, offsetof(struct np_daemon, field) + 1, 0 }
#define OPT_STR(name, short_name, arg, help, field) \
	{ name, short_name, arg, help, NULL, 0, offsetof(struct np_daemon, field) + 1 }

struct np_module {
	const char *name;
	int cap;	/* its row in the capability table (maps/caps.h) */
	const struct np_option *options;	/* ends with an empty row; NULL: none */
	/*
	 * started before any interface or cgroup gets a program (an exporter
	 * whose address may be taken: a mistake then leaves nothing behind);
	 * the others start last, in table order
	 */
	int early;
	/* turned off by an option: the option ("--no-latency"); else NULL */
	const char *(*off)(const struct np_daemon *d);
	/* before anything is attached, so a mistake fails early: 0 or -errno, said */
	int (*check)(struct np_daemon *d);
	/* after every check: load and pin, attach nothing (the flow core, which
	   the early modules read): 0 or -errno, said */
	int (*load)(struct np_daemon *d);
	/*
	 * 0; -ENOTSUP: this kernel cannot give it (its capability says why)
	 * and the daemon goes on without it; another error stops the daemon
	 * (said in one line)
	 */
	int (*start)(struct np_daemon *d);
	/*
	 * at exit, on every module before any stops: stop taking data in (the
	 * flow core takes its programs off the interfaces, unless --keep), so
	 * that what the exporters send last is all there will be
	 */
	void (*quiesce)(struct np_daemon *d);
	void (*stop)(struct np_daemon *d);
	/* each sweep, with the live table it read (flows it moved: ended_ns set) */
	void (*sweep)(struct np_daemon *d, const struct flow_table *live, uint64_t now);
	/* each sweep timer tick, in table order (the flow core's is the sweep
	   that calls the sweep hooks): drains, time-outs */
	void (*tick)(struct np_daemon *d, uint64_t now);
	/* the sweep moved a flow out of the live table */
	void (*flow_ended)(struct np_daemon *d, const struct flow_key *k,
			   const struct flow_record *r);
	/* its samples on the metrics endpoint */
	void (*metrics)(struct np_daemon *d, FILE *f);
	/* an epoll event: 1 if data.ptr was its own */
	int (*event)(struct np_daemon *d, void *ptr, uint32_t events);
};

extern const struct np_module flows_module, sockets_module, latency_module, profile_module,
	metrics_module, ipfix_module;

/* options.c: what modules' options share */
#define MS_	1000000ULL
#define S_	1000000000ULL
/* one-line errors outside [min, max] */
int opt_duration(const char *name, const char *arg, uint64_t min_ns, uint64_t max_ns, uint64_t *ns);
int opt_number(const char *name, const char *arg, uint64_t min, uint64_t max, uint64_t *v);

/* modules.c: the table, in start order */
extern const struct np_module *const np_modules[];
extern const unsigned int np_n_modules;

#define for_each_module(i, m) \
	for ((i) = 0; (i) < np_n_modules && ((m) = np_modules[(i)]); (i)++)

#endif
