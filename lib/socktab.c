// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <bpf/bpf.h>
#include "socktab.h"

static const char *const state_names[] = {
	[0] = "?", [1] = "ESTAB", [2] = "SYN-SENT", [3] = "SYN-RECV", [4] = "FIN-WAIT-1",
	[5] = "FIN-WAIT-2", [6] = "TIME-WAIT", [7] = "CLOSED", [8] = "CLOSE-WAIT",
	[9] = "LAST-ACK", [10] = "LISTEN", [11] = "CLOSING", [12] = "NEW-SYN-RECV",
};

const char *tcp_state_name(unsigned int s)
{
	return s < sizeof(state_names) / sizeof(state_names[0]) ? state_names[s] : "?";
}

int tcp_state_parse(const char *name)
{
	unsigned int i;

	for (i = 1; i < sizeof(state_names) / sizeof(state_names[0]); i++)
		if (!strcasecmp(name, state_names[i]))
			return i;
	if (!strcasecmp(name, "established"))
		return 1;
	if (!strcasecmp(name, "closed"))
		return 7;
	return -1;
}

static const char *const end_names[SOCK_END_MAX] = {
	[SOCK_END_NONE] = "", [SOCK_END_FIN] = "fin", [SOCK_END_RST_SENT] = "rst-sent",
	[SOCK_END_RST_RECV] = "rst-received", [SOCK_END_REFUSED] = "refused",
	[SOCK_END_TIMEOUT] = "timeout",
};

const char *sock_end_name(unsigned int e)
{
	return e < SOCK_END_MAX ? end_names[e] : "?";
}

const char *sock_role_name(unsigned int r)
{
	return r == ROLE_CLIENT ? "client" : r == ROLE_SERVER ? "server" : "unknown";
}

const char *owner_source_name(unsigned int s)
{
	switch (s) {
	case OWNER_CREATE: return "create";
	case OWNER_IO: return "io";
	case OWNER_SCAN: return "scan";
	default: return "none";
	}
}

static const char *const sstat_names[SSTAT_MAX] = {
	[SSTAT_TABLE_FULL] = "socket_table_full",
	[SSTAT_NO_OWNER] = "sockets_without_owner",
	[SSTAT_OWNER_STORAGE_FAIL] = "owner_storage_failed",
};

const char *sock_stat_name(unsigned int idx)
{
	return idx < SSTAT_MAX ? sstat_names[idx] : "unknown";
}

int socktab_read(int fd, struct sock_table *st)
{
	__u64 key, next, *prev = NULL;
	struct sock_entry *v;
	size_t cap = 0;

	memset(st, 0, sizeof(*st));
	while (bpf_map_get_next_key(fd, prev, &next) == 0) {
		key = next;
		prev = &key;
		if (st->n == cap) {
			cap = cap ? cap * 2 : 256;
			v = realloc(st->v, cap * sizeof(*v));
			if (!v)
				return -ENOMEM;
			st->v = v;
		}
		if (bpf_map_lookup_elem(fd, &key, &st->v[st->n].r))
			continue;	/* deleted by the sweep meanwhile */
		st->v[st->n++].cookie = key;
	}
	return errno == ENOENT ? 0 : -errno;
}

void socktab_free(struct sock_table *st)
{
	free(st->v);
	memset(st, 0, sizeof(*st));
}

double rtt_percentile(const struct sock_record *r, double p)
{
	uint64_t total = 0, seen = 0;
	double v;
	int i;

	for (i = 0; i < RTT_HIST_BUCKETS; i++)
		total += r->rtt_hist[i];
	if (!total)
		return 0;
	for (i = 0; i < RTT_HIST_BUCKETS; i++) {
		seen += r->rtt_hist[i];
		if (seen >= p * total)
			break;
	}
	/* bucket i holds [2^i, 2^(i+1)) µs; bucket 0 also holds 0 and 1 */
	v = i ? ldexp(M_SQRT2, i) : 1;
	return v;
}

void rtt_hist_add(uint32_t *dst, const struct sock_record *r)
{
	int i;

	for (i = 0; i < RTT_HIST_BUCKETS; i++)
		dst[i] += r->rtt_hist[i];
}
