/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* netprofd's state: namespaces it follows, interfaces it attached to. */
#ifndef NETPROF_NETPROFD_H
#define NETPROF_NETPROFD_H

#include <net/if.h>
#include <sys/socket.h>
#include <stdint.h>
#include <stdio.h>
#include "flow.h"
#include "caps.h"
#include "progload.h"

struct flow_bpf;
struct sockets_bpf;
struct latency_bpf;
struct profiler;
struct metrics;
struct ipfix;
struct mnl_socket;

#define NETPROF_VERSION 1

enum xdp_mode {
	XDP_MODE_AUTO = 0,	/* per interface: native XDP where it costs less than TC (attach.c) */
	XDP_MODE_NATIVE_ONLY,
	XDP_MODE_GENERIC_ONLY,
	XDP_MODE_OFF,		/* TC only */
};

struct np_iface {
	struct np_iface	*next;
	int		ifindex;
	char		name[IF_NAMESIZE];
	uint32_t	attach;		/* enum iface_attach bits */
	uint32_t	why;		/* enum iface_why: where ingress counts, and why */
	int		xdp_link_fd;	/* -1 when no XDP link */
};

/* An interface as rtnetlink describes it. */
struct np_link {
	int		ifindex;
	const char	*name;
	char		kind[16];	/* IFLA_INFO_KIND ("veth", "bridge", ...); "" for a device */
	int		loopback;
	int		link_local;	/* IFLA_LINK in this namespace (a veth's peer): its ifindex, or 0 */
};

struct np_netns {
	struct np_netns		*next;
	char			name[32];	/* "" = netprofd's own namespace */
	int			fd;		/* open /var/run/netns/NAME or /proc/self/ns/net */
	uint32_t		ino;
	struct flow_bpf		*skel;		/* programs loaded for this namespace */
	struct mnl_socket	*nl;		/* rtnetlink socket bound in this namespace */
	unsigned int		nl_seq;
	struct np_iface		*ifaces;
};

struct np_daemon {
	const char	*pin_dir;
	const char	*pin_arg;	/* -p, NULL: the default (lib/pins.h) */
	const char	*without;	/* --without-prog: programs left out, comma-separated */
	int		remove;		/* --remove: only that */
	int		probe;		/* --probe: only that */
	int		verbose;
	char		**ifnames;	/* -i; NULL: every interface */
	int		n_ifnames;
	size_t		cap_ifnames;
	char		**netns_names;	/* -n; none: netprofd's own namespace */
	int		n_netns;
	size_t		cap_netns;
	int		keep;
	int		made_pin_dir;	/* this start created --pin-dir: a failed start removes it */
	int		precise_clock;
	enum xdp_mode	xdp_mode;
	int		tcx;		/* TC hooks as tcx links: -1 not tried yet (--tc auto), 0 clsact
					 * (--tc clsact, or a kernel before 6.6), 1 yes, 2 --tc tcx */
	uint32_t	max_flows;
	uint64_t	idle_timeout_ns;
	uint64_t	closed_timeout_ns;
	uint64_t	keep_ended_ns;
	uint64_t	sweep_interval_ns;

	int		host_netns_fd;
	struct np_netns	*netns;
	int		epfd;

	/* pinned maps, shared by every namespace's programs */
	struct prog_plan flow_plan;	/* what this kernel takes of the flow object (progload.h) */
	int		flows_fd;
	int		ended_fd;
	int		ifaces_fd;
	int		daemon_fd;
	struct daemon_info info;

	/* TCP sockets (sockets.c) */
	int		no_sockets;
	const char	*cgroup_arg;	/* --cgroup, NULL: the hierarchy's root */
	char		cgroup_path[4096];
	int		cgroup_fd;
	uint32_t	max_sockets;
	int		rtt_from_start;	/* per-ACK RTT callback on every connection at once */
	struct sockets_bpf *sockets;
	int		no_latency;	/* --no-latency: no stage timing */
	struct latency_bpf *latency;
	int		socks_fd;
	int		socks_closed_fd;
	int		conn_agg_fd;	/* the service map's sums, -1 with --no-sockets */
	uint64_t	last_closed_sweep_ns;	/* closed records named up to here */
	int		cgroup_names_fd;

	/* CPU profiler (profile.c) */
	int		no_profile;
	int		prof_asked;	/* a --profile-* option: its failure stops netprofd */
	uint32_t	prof_hz;
	uint64_t	prof_window_ns;
	const char	*debug_dir;	/* separate debug files; NULL: /usr/lib/debug */
	uint32_t	prof_pid;	/* --profile-pid, 0: any */
	const char	*prof_comm;	/* --profile-comm, NULL: any */
	const char	*prof_cgroup;	/* --profile-cgroup, NULL: any */
	int		prof_cgroup_fd;	/* its directory, -1 */
	struct profiler	*prof;

	/* Prometheus endpoint (metrics.c) */
	const char	*metrics_addr;	/* --metrics, NULL: none */
	struct sockaddr_storage metrics_ss;	/* parsed */
	unsigned int	metrics_sslen;
	int		metrics_peers;	/* --metrics-peers: remote clients by address */
	struct metrics	*metrics;

	/* IPFIX export (ipfix.c) */
	const char	*ipfix_addr;	/* --ipfix, NULL: none */
	struct sockaddr_storage ipfix_ss;	/* resolved */
	unsigned int	ipfix_sslen;
	uint64_t	ipfix_active_ns;
	uint64_t	ipfix_templates_ns;
	struct ipfix	*ipfix;

	/* what runs on this kernel (caps.c), pinned for `netprof status` */
	struct np_cap_info caps[NP_CAP_MAX];
	int		caps_fd;
};

/* caps.c */
void cap_set(struct np_daemon *d, int cap, int state, const char *why);
void cap_note(struct np_daemon *d, int cap, const char *note);
/*
 * What this kernel changed (a program in place of another, a capability
 * degraded or unavailable), said on stderr once netprofd runs: a start that
 * fails says only why it failed, in one line.
 */
void cap_say_later(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void cap_say_now(void);
int caps_open(struct np_daemon *d);
void caps_write(struct np_daemon *d);

/* attach.c */
enum iface_forget {
	IFACE_DETACH,	/* take our programs off, drop pins */
	IFACE_GONE,	/* the interface disappeared: drop pins */
	IFACE_KEEP,	/* --keep: leave everything for the next daemon */
};

int netns__open(struct np_daemon *d, const char *name, struct np_netns **out);
int netns__load(struct np_daemon *d, struct np_netns *ns);
void netns__free(struct np_daemon *d, struct np_netns *ns, enum iface_forget how);
int iface__attach(struct np_daemon *d, struct np_netns *ns, const struct np_link *l);
void iface__detach(struct np_daemon *d, struct np_netns *ns, struct np_iface *ifc,
		   enum iface_forget how);
struct np_iface *iface__find(struct np_netns *ns, int ifindex);
void iface__rename(struct np_daemon *d, struct np_netns *ns, struct np_iface *ifc,
		   const char *name);
int iface__wanted(const struct np_daemon *d, const char *name);
int netns_enter(struct np_daemon *d, struct np_netns *ns);
void netns_leave(struct np_daemon *d);
/* netprofd --remove: detach everything the pins describe, remove the pins. */
int remove_pinned(struct np_daemon *d);

/* ethtool.c: a device's active offload features (`ethtool -k`), in its namespace */
#define DEV_FEATURE_WORDS 4
struct dev_features {
	unsigned int	words;
	__u32		active[DEV_FEATURE_WORDS];
};

int dev_features_get(const char *ifname, struct dev_features *f);
/* The features on before and off after, named in buf ("a, b"); returns how many. */
int dev_features_lost(const char *ifname, const struct dev_features *before,
		      const struct dev_features *after, char *buf, size_t len);

/* rtnl.c */
int rtnl__open(struct np_daemon *d, struct np_netns *ns);
int rtnl__dump_links(struct np_daemon *d, struct np_netns *ns);
int rtnl__process(struct np_daemon *d, struct np_netns *ns);


/* profile.c, metrics.c, ipfix.c: their modules (module.h) */

/* probe.c: every program tried alone, a line each; the number refused */
int probe_print(FILE *f);

/* sweep.c */
int sweep(struct np_daemon *d);
void daemon_info_write(struct np_daemon *d);

#endif
