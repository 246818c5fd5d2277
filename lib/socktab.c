// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>
#include <sys/mman.h>
#include <bpf/bpf.h>
#include "socktab.h"
#include "cgroup.h"
#include "flow.h"
#include "pins.h"
#include "mapwalk.h"
#include "grow.h"

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

int socktab_read(int fd, struct sock_table *st)
{
	memset(st, 0, sizeof(*st));
	return socktab_append(fd, st);
}

static int table_reserve(struct sock_table *st, size_t more)
{
	return ARRAY_GROW(st->v, st->cap, st->n + more, 256);
}

static int add_socks(void *ctx, const void *keys, const void *vals, __u32 n)
{
	struct sock_table *st = ctx;
	const __u64 *k = keys;
	const struct sock_record *r = vals;
	__u32 i;

	if (table_reserve(st, n))
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		st->v[st->n].cookie = k[i];
		st->v[st->n].r = r[i];
		st->n++;
	}
	return 0;
}

int socktab_append(int fd, struct sock_table *st)
{
	return map_walk_batch(fd, sizeof(__u64), sizeof(struct sock_record), add_socks, st);
}

int socktab_append_closed(int fd, uint64_t keep_ns, struct sock_table *st)
{
	struct bpf_map_info info = {};
	__u32 len = sizeof(info), i;
	const struct sock_closed *ring;
	struct timespec ts;
	size_t size;
	uint64_t now;
	int err = 0;

	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		return -errno;
	if (info.type != BPF_MAP_TYPE_ARRAY || info.value_size != sizeof(*ring))
		return -EPROTO;
	size = (size_t)info.max_entries * sizeof(*ring);
	ring = mmap(NULL, size, PROT_READ, MAP_SHARED, fd, 0);
	if (ring == MAP_FAILED)
		return -errno;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	now = ts.tv_sec * 1000000000ULL + ts.tv_nsec;
	for (i = 0; i < info.max_entries; i++) {
		const struct sock_closed *c = &ring[i];

		/* seq 0: empty, or being written right now */
		if (!__atomic_load_n(&c->seq, __ATOMIC_ACQUIRE))
			continue;
		if (keep_ns && now > c->r.closed_ns && now - c->r.closed_ns >= keep_ns)
			continue;
		err = table_reserve(st, 1);
		if (err)
			break;
		st->v[st->n].cookie = c->cookie;
		memcpy(&st->v[st->n].r, &c->r, sizeof(c->r));
		st->n++;
	}
	munmap((void *)ring, size);
	return err;
}

uint64_t socktab_keep_ns(const char *pin_dir)
{
	struct daemon_info info = {};
	__u32 zero = 0;
	int fd = pins_open_map(pin_dir, DAEMON_MAP, 1);

	if (fd >= 0) {
		if (bpf_map_lookup_elem(fd, &zero, &info))
			info.keep_ended_ns = 0;
		close(fd);
	}
	return info.keep_ended_ns ? info.keep_ended_ns : NETPROF_KEEP_ENDED_DEFAULT_NS;
}

void socktab_free(struct sock_table *st)
{
	free(st->v);
	memset(st, 0, sizeof(*st));
}

double rtt_percentile(const struct sock_record *r, double p)
{
	return hist_percentile(r->rtt_hist, p);
}

double hist_percentile_n(const uint32_t *hist, int n, double p)
{
	uint64_t total = 0, seen = 0;
	int i;

	for (i = 0; i < n; i++)
		total += hist[i];
	if (!total)
		return 0;
	for (i = 0; i < n; i++) {
		seen += hist[i];
		if (seen >= p * total)
			break;
	}
	/* bucket i holds [2^i, 2^(i+1)); bucket 0 also holds 0 and 1 */
	return i ? ldexp(M_SQRT2, i) : 1;
}

double hist_percentile(const uint32_t *hist, double p)
{
	return hist_percentile_n(hist, RTT_HIST_BUCKETS, p);
}

void rtt_hist_add(uint32_t *dst, const struct sock_record *r)
{
	int i;

	for (i = 0; i < RTT_HIST_BUCKETS; i++)
		dst[i] += r->rtt_hist[i];
}

const char *cgroup_name_lookup(int names_fd, uint64_t id, char *buf, size_t len)
{
	struct cgroup_name cn;

	if (!id)
		return NULL;
	if (names_fd >= 0 && bpf_map_lookup_elem(names_fd, &id, &cn) == 0) {
		snprintf(buf, len, "%s", cn.path);
		return buf;
	}
	return cgroup_path_of(id, buf, len) == 0 ? buf : NULL;
}

struct sock_index {
	const struct sock_record	**v;
	size_t				n;
};

static int cmp_tuple(const struct sock_record *a, const struct sock_record *b)
{
	int c;

	if (a->netns_ino != b->netns_ino)
		return a->netns_ino < b->netns_ino ? -1 : 1;
	if (a->lport != b->lport)
		return a->lport < b->lport ? -1 : 1;
	if (a->rport != b->rport)
		return a->rport < b->rport ? -1 : 1;
	c = memcmp(a->laddr, b->laddr, 16);
	return c ? c : memcmp(a->raddr, b->raddr, 16);
}

static int cmp_index(const void *pa, const void *pb)
{
	const struct sock_record *a = *(const struct sock_record *const *)pa;
	const struct sock_record *b = *(const struct sock_record *const *)pb;
	int c = cmp_tuple(a, b);

	/* the same 4-tuple reused: the latest connection last */
	if (c)
		return c;
	return a->connect_ns < b->connect_ns ? -1 : a->connect_ns > b->connect_ns;
}

struct sock_index *sock_index__new(const struct sock_table *st)
{
	struct sock_index *ix = calloc(1, sizeof(*ix));
	size_t i;

	if (!ix)
		return NULL;
	ix->v = malloc((st->n ? st->n : 1) * sizeof(*ix->v));
	if (!ix->v) {
		free(ix);
		return NULL;
	}
	for (i = 0; i < st->n; i++)
		ix->v[ix->n++] = &st->v[i].r;
	sort_n(ix->v, ix->n, sizeof(*ix->v), cmp_index);
	return ix;
}

const struct sock_record *sock_index__find(const struct sock_index *ix, uint32_t netns_ino,
					   const uint8_t *laddr, uint16_t lport,
					   const uint8_t *raddr, uint16_t rport)
{
	struct sock_record key;
	size_t lo = 0, hi, mid;

	if (!ix || !ix->n)
		return NULL;
	memset(&key, 0, sizeof(key));
	key.netns_ino = netns_ino;
	memcpy(key.laddr, laddr, 16);
	memcpy(key.raddr, raddr, 16);
	key.lport = lport;
	key.rport = rport;
	/* the last entry with this tuple: upper bound, then one back */
	hi = ix->n;
	while (lo < hi) {
		mid = (lo + hi) / 2;
		if (cmp_tuple(ix->v[mid], &key) <= 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == 0 || cmp_tuple(ix->v[lo - 1], &key))
		return NULL;
	return ix->v[lo - 1];
}

void sock_index__free(struct sock_index *ix)
{
	if (!ix)
		return;
	free(ix->v);
	free(ix);
}

void sock_flow_key(const struct sock_record *r, struct flow_key *k)
{
	memset(k, 0, sizeof(*k));
	memcpy(k->addr_a, r->laddr, 16);
	memcpy(k->addr_b, r->raddr, 16);
	k->port_a = htons(r->lport);
	k->port_b = htons(r->rport);
	k->proto = 6;
	k->family = r->family;
}

char *sock_owner_text(int names_fd, const struct sock_record *s, char *buf, size_t len)
{
	char cg[256], comm[17];
	const char *p = cgroup_name_lookup(names_fd, s->owner.cgroup_id, cg, sizeof(cg));

	memcpy(comm, s->owner.comm, 16);
	comm[16] = '\0';
	snprintf(buf, len, "%s[%u] %s", comm, s->owner.tgid, p ? p : "-");
	return buf;
}
