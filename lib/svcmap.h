/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The service dependency map: nodes (services) and edges (client -> server)
 * built from the pinned conn_agg sums of ended connections and the open
 * socket table. The rules are in docs/map.md.
 */
#ifndef NETPROF_SVCMAP_H
#define NETPROF_SVCMAP_H

#include <stddef.h>
#include <stdint.h>
#include "sockets.h"

#define SVC_NAME_LEN	160
#define SVC_MAX_PORTS	16
#define SVC_MAX_ADDRS	8
#define SVC_MAX_COMMS	8

enum svc_kind {
	SVC_CGROUP,	/* on this host, named by its cgroup */
	SVC_COMMAND,	/* on this host, named by its command */
	SVC_REMOTE,	/* a peer address (a server's with its port) */
};

struct svc_node {
	char		name[SVC_NAME_LEN];
	enum svc_kind	kind;
	/* ports it accepted connections on (local nodes) */
	uint16_t	ports[SVC_MAX_PORTS];
	unsigned int	nports;
	/* this host's addresses it used (IPv4-mapped); the peer's for remote nodes */
	uint8_t		addrs[SVC_MAX_ADDRS][16];
	unsigned int	naddrs;
	char		comms[SVC_MAX_COMMS][16];
	unsigned int	ncomms;
};

struct svc_edge {
	unsigned int	client, server;		/* indexes into svc_map.nodes */
	uint64_t	conns;			/* opened: ended + open */
	uint64_t	open;
	uint64_t	ended[SOCK_END_MAX];	/* by enum sock_end */
	uint64_t	bytes_c2s, bytes_s2c;
	uint64_t	retrans;		/* both ends' retransmitted segments, where seen */
	uint64_t	first_ns, last_ns;	/* CLOCK_MONOTONIC; last is now while open */
	uint32_t	rtt_samples;
	uint32_t	rtt_hist[RTT_HIST_BUCKETS];
	uint64_t	rtt_sum_us;
};

struct svc_map {
	struct svc_node	*nodes;
	size_t		nnodes;
	struct svc_edge	*edges;
	size_t		nedges;
};

/*
 * Build the map. agg_fd: conn_agg; socks_fd: open sockets (may be -1);
 * names_fd: cgroup_names (may be -1). 0 or -errno.
 */
int svcmap_build(int agg_fd, int socks_fd, int names_fd, uint64_t now, struct svc_map *m);
void svcmap_free(struct svc_map *m);

uint64_t svc_edge_failed(const struct svc_edge *e);	/* refused + reset + timed out */
/*
 * The service a local socket belongs to, as the map names it: its cgroup
 * when that names a service, else its command (comm16: up to 16 bytes).
 */
enum svc_kind svc_local_name(int names_fd, uint64_t cgroup_id, const char *comm16, char *buf,
			     size_t len);

#endif
