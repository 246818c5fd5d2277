/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * A capability or exporter of netprofd behind one interface. main checks
 * and starts the modules in table order (daemon/modules.c) after the flow
 * core (namespaces, interfaces) is up, and stops them in reverse; the sweep,
 * the metrics endpoint and the event loop call each one's hooks. A new
 * capability or exporter is one file with its module and one row. Every
 * hook may be NULL, and is called whether the module runs or not: each
 * knows its own state (NULL skeleton, no socket...).
 */
#ifndef NETPROF_MODULE_H
#define NETPROF_MODULE_H

#include <stdint.h>
#include <stdio.h>
#include "flow.h"

struct np_daemon;
struct flow_table;

struct np_module {
	const char *name;
	int cap;	/* its row in the capability table (maps/caps.h) */
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
	/*
	 * 0; -ENOTSUP: this kernel cannot give it (its capability says why)
	 * and the daemon goes on without it; another error stops the daemon
	 * (said in one line)
	 */
	int (*start)(struct np_daemon *d);
	void (*stop)(struct np_daemon *d);
	/* each sweep, with the live table it read (flows it moved: ended_ns set) */
	void (*sweep)(struct np_daemon *d, const struct flow_table *live, uint64_t now);
	/* after each sweep: drains, time-outs */
	void (*tick)(struct np_daemon *d, uint64_t now);
	/* the sweep moved a flow out of the live table */
	void (*flow_ended)(struct np_daemon *d, const struct flow_key *k,
			   const struct flow_record *r);
	/* its samples on the metrics endpoint */
	void (*metrics)(struct np_daemon *d, FILE *f);
	/* an epoll event: 1 if data.ptr was its own */
	int (*event)(struct np_daemon *d, void *ptr, uint32_t events);
};

extern const struct np_module sockets_module, latency_module, profile_module,
	metrics_module, ipfix_module;

/* modules.c: the table, in start order */
extern const struct np_module *const np_modules[];
extern const unsigned int np_n_modules;

#define for_each_module(i, m) \
	for ((i) = 0; (i) < np_n_modules && ((m) = np_modules[(i)]); (i)++)

#endif
