/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * maps/caps.h - what netprofd runs on this kernel, capability by capability:
 * written by netprofd into a pinned array (NP_CAPS_MAP, one row per
 * capability), read by `netprof status` and the metrics endpoint, so a
 * script can tell which numbers it can trust on this host. The list is
 * the one table of capabilities: the CLI, the metrics and docs/kernels.md
 * name them from it.
 */
#ifndef NETPROF_MAPS_CAPS_H
#define NETPROF_MAPS_CAPS_H

#ifndef __BPF__
#include <linux/types.h>
#endif

#define NP_CAPS_MAP	"caps"

/* X(enum, name): one row per capability, in the order status lists them */
#define NP_CAPS(X)				\
	X(NP_CAP_FLOWS,   "flows")		\
	X(NP_CAP_SOCKETS, "sockets")		\
	X(NP_CAP_LATENCY, "latency")		\
	X(NP_CAP_PROFILE, "profile")		\
	X(NP_CAP_METRICS, "metrics")		\
	X(NP_CAP_IPFIX,   "ipfix")

#define NP_CAP_ENUM(e, name) e,
enum np_cap { NP_CAPS(NP_CAP_ENUM) NP_CAP_MAX };
#undef NP_CAP_ENUM

enum np_cap_state {
	NP_CAP_UNKNOWN = 0,	/* not written: a netprofd from before capabilities */
	NP_CAP_ACTIVE,		/* everything it offers works here */
	NP_CAP_DEGRADED,	/* runs, without what `why` names */
	NP_CAP_OFF,		/* turned off by an option */
	NP_CAP_UNAVAILABLE,	/* this kernel cannot give it: `why` says what it refused */
};

#define NP_CAP_WHY_LEN	504

struct np_cap_info {
	__u32	state;			/* enum np_cap_state */
	__u32	pad;
	char	why[NP_CAP_WHY_LEN];	/* degraded/unavailable: "what is missing: why; ..." */
};

#ifndef __BPF__
_Static_assert(sizeof(struct np_cap_info) == 512, "np_cap_info layout");
#endif

#endif /* NETPROF_MAPS_CAPS_H */
