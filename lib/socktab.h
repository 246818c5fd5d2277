/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Reading the socket table; names and RTT percentiles. */
#ifndef NETPROF_SOCKTAB_H
#define NETPROF_SOCKTAB_H

#include <stddef.h>
#include <stdint.h>
#include "sockets.h"

struct sock_entry {
	uint64_t		cookie;
	struct sock_record	r;
};

struct sock_table {
	struct sock_entry	*v;
	size_t			n, cap;
};

int socktab_read(int socks_fd, struct sock_table *st);
/* Add the entries of another socket hash to a table read before. */
int socktab_append(int fd, struct sock_table *st);
/*
 * Add the records of the socks_closed ring (ring_fd) closed less than
 * keep_ns ago (0: every record the ring holds). 0 or -errno; -EPROTO if
 * the pinned ring was made by another version of netprof.
 */
int socktab_append_closed(int ring_fd, uint64_t keep_ns, struct sock_table *st);
/* netprofd's --keep-ended, from its pinned info map (its default if absent). */
uint64_t socktab_keep_ns(const char *pin_dir);
void socktab_free(struct sock_table *st);

const char *tcp_state_name(unsigned int state);	/* "ESTAB", "SYN-SENT", ... */
int tcp_state_parse(const char *name);		/* -1 if unknown */
const char *sock_end_name(unsigned int end);	/* "fin", "rst-sent", ... */
const char *sock_role_name(unsigned int role);
const char *owner_source_name(unsigned int src);
/*
 * RTT percentile (0 < p <= 1) from the log2 histogram, in µs: the
 * geometric middle of the bucket holding it (so within a factor of
 * sqrt(2) of the true value). 0 without samples.
 */
double rtt_percentile(const struct sock_record *r, double p);
double hist_percentile(const uint32_t *hist, double p);	/* the same over a merged histogram */
/* any log2 histogram of n buckets, in its own unit (the bucket's geometric middle) */
double hist_percentile_n(const uint32_t *hist, int n, double p);
/*
 * A cgroup id's path: from netprofd's cgroup_names map (names_fd, may be
 * -1; it keeps names of cgroups that are gone), else from the hierarchy.
 */
const char *cgroup_name_lookup(int names_fd, uint64_t id, char *buf, size_t len);
/* A socket's owner as "curl[123] /cgroup/path" ("-" for an unknown cgroup); buf. */
char *sock_owner_text(int names_fd, const struct sock_record *s, char *buf, size_t len);

/* Owners of the two ends of TCP flows, by namespace and 4-tuple. */
struct sock_index;
struct sock_index *sock_index__new(const struct sock_table *st);
/* The socket at local (laddr, lport) talking to (raddr, rport) in netns, or NULL. */
const struct sock_record *sock_index__find(const struct sock_index *ix, uint32_t netns_ino,
					   const uint8_t *laddr, uint16_t lport,
					   const uint8_t *raddr, uint16_t rport);
void sock_index__free(struct sock_index *ix);

/* Merge histograms (for --hist over several sockets). */
void rtt_hist_add(uint32_t *dst, const struct sock_record *r);

/* The socket as a flow key (local = a), for tcpdump filters. */
struct flow_key;
void sock_flow_key(const struct sock_record *r, struct flow_key *k);

#endif
