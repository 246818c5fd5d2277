// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * svcmap.c - the service dependency map from the kernel's per-endpoint-pair
 * sums (conn_agg) and the open sockets.
 *
 * Every TCP socket on this host that netprof follows is one "half" of a
 * connection: its owner, its address, the peer's address, the server's
 * port. A client half becomes an edge from its service to the server: the
 * local service whose server halves have that address and port, else the
 * remote endpoint. A server half whose client is not a client half here
 * becomes an edge from the remote address. A connection between two local
 * services is counted once, from its client half; the server half adds its
 * retransmits and RTT samples. docs/map.md has the rules.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "svcmap.h"
#include "socktab.h"
#include "format.h"
#include "flow.h"
#include "mapwalk.h"
#include "grow.h"

struct half {
	struct conn_agg_key	k;
	struct conn_agg		a;
	uint64_t		open;
	unsigned int		node;
	int			covered;	/* a server half counted from its client half */
};

struct halves {
	struct half	*v;
	size_t		n, cap;
};

static struct half *halves_add(struct halves *h)
{
	if (ARRAY_GROW(h->v, h->cap, h->n + 1, 256))
		return NULL;
	memset(&h->v[h->n], 0, sizeof(h->v[0]));
	return &h->v[h->n++];
}

static void agg_sum(struct conn_agg *dst, const struct conn_agg *src)
{
	int i;

	for (i = 0; i < SOCK_END_MAX; i++)
		dst->ended[i] += src->ended[i];
	dst->bytes_acked += src->bytes_acked;
	dst->bytes_received += src->bytes_received;
	dst->total_retrans += src->total_retrans;
	if (src->first_ns && (!dst->first_ns || src->first_ns < dst->first_ns))
		dst->first_ns = src->first_ns;
	if (src->last_ns > dst->last_ns)
		dst->last_ns = src->last_ns;
	dst->rtt_samples += src->rtt_samples;
	dst->rtt_sum_us += src->rtt_sum_us;
	for (i = 0; i < RTT_HIST_BUCKETS; i++)
		dst->rtt_hist[i] += src->rtt_hist[i];
}

struct agg_ctx {
	struct halves	*h;
	int		ncpu;
};

static int add_agg(void *ctx, const void *keys, const void *vals, __u32 n)
{
	struct agg_ctx *c = ctx;
	const struct conn_agg_key *k = keys;
	const struct conn_agg *v = vals;
	struct half *x;
	__u32 i;
	int cpu;

	for (i = 0; i < n; i++) {
		x = halves_add(c->h);
		if (!x)
			return -ENOMEM;
		x->k = k[i];
		for (cpu = 0; cpu < c->ncpu; cpu++)
			agg_sum(&x->a, &v[(size_t)i * c->ncpu + cpu]);
	}
	return 0;
}

/* conn_agg: a per-CPU hash, summed over the CPUs */
static int read_agg(int fd, struct halves *h)
{
	struct agg_ctx c = { h, libbpf_num_possible_cpus() };

	if (c.ncpu <= 0)
		return c.ncpu ? c.ncpu : -EINVAL;
	return map_walk_batch(fd, sizeof(struct conn_agg_key),
			      (size_t)c.ncpu * sizeof(struct conn_agg), add_agg, &c);
}

/* the open sockets, as halves with what they carry so far */
static int read_open(int fd, uint64_t now, struct halves *h)
{
	struct sock_table st;
	struct half *x;
	size_t i;
	int err;

	err = socktab_read(fd, &st);
	for (i = 0; !err && i < st.n; i++) {
		const struct sock_record *r = &st.v[i].r;

		if (r->closed_ns)
			continue;	/* closing right now: conn_agg has it */
		x = halves_add(h);
		if (!x) {
			err = -ENOMEM;
			break;
		}
		conn_agg_key_of(r, &x->k);	/* halves_add zeroed it */
		x->open = 1;
		x->a.bytes_acked = sock_payload_sent(r);
		x->a.bytes_received = sock_payload_received(r);
		x->a.total_retrans = r->total_retrans;
		x->a.first_ns = r->connect_ns;
		x->a.last_ns = now;
		x->a.rtt_samples = r->rtt_samples;
		x->a.rtt_sum_us = r->rtt_sum_us;
		memcpy(x->a.rtt_hist, r->rtt_hist, sizeof(x->a.rtt_hist));
	}
	socktab_free(&st);
	return err;
}

static int cmp_key(const void *a, const void *b)
{
	return memcmp(&((const struct half *)a)->k, &((const struct half *)b)->k,
		      sizeof(struct conn_agg_key));
}

/* one half per key: open sockets merged into their pair's sums */
static void merge_halves(struct halves *h)
{
	size_t i, n = 0;

	sort_n(h->v, h->n, sizeof(*h->v), cmp_key);
	for (i = 0; i < h->n; i++) {
		if (n && !memcmp(&h->v[n - 1].k, &h->v[i].k, sizeof(h->v[i].k))) {
			agg_sum(&h->v[n - 1].a, &h->v[i].a);
			h->v[n - 1].open += h->v[i].open;
		} else {
			h->v[n++] = h->v[i];
		}
	}
	h->n = n;
}

/*
 * A cgroup names a service unless it is shared by unrelated processes:
 * the root, init.scope, login sessions and a user's own service manager.
 */
static int cgroup_is_service(const char *path)
{
	const char *base = strrchr(path, '/');
	size_t n;

	base = base ? base + 1 : path;
	n = strlen(base);
	if (!*base || !strcmp(base, "init.scope") || strstr(path, "/user@"))
		return 0;
	if (!strncmp(base, "session-", 8) && n > 6 && !strcmp(base + n - 6, ".scope"))
		return 0;
	return 1;
}

/* node names: a small open-addressing table */
struct node_tab {
	struct svc_map	*m;
	size_t		cap_nodes;
	unsigned int	*slots;		/* node index + 1, 0: empty */
	size_t		nslots;
};

static uint64_t hash_str(const char *s)
{
	uint64_t h = 1469598103934665603ULL;

	while (*s)
		h = (h ^ (unsigned char)*s++) * 1099511628211ULL;
	return h;
}

static int node_find_or_add(struct node_tab *t, const char *name, enum svc_kind kind,
			    unsigned int *idx)
{
	size_t i;

	if (t->m->nnodes * 2 >= t->nslots) {
		size_t ns = t->nslots ? t->nslots * 2 : 256, j;
		unsigned int *s = calloc(ns, sizeof(*s));

		if (!s)
			return -ENOMEM;
		for (j = 0; j < t->m->nnodes; j++) {
			i = hash_str(t->m->nodes[j].name) & (ns - 1);
			while (s[i])
				i = (i + 1) & (ns - 1);
			s[i] = j + 1;
		}
		free(t->slots);
		t->slots = s;
		t->nslots = ns;
	}
	for (i = hash_str(name) & (t->nslots - 1); t->slots[i]; i = (i + 1) & (t->nslots - 1)) {
		if (!strcmp(t->m->nodes[t->slots[i] - 1].name, name)) {
			*idx = t->slots[i] - 1;
			return 0;
		}
	}
	if (ARRAY_GROW(t->m->nodes, t->cap_nodes, t->m->nnodes + 1, 64))
		return -ENOMEM;
	*idx = t->m->nnodes++;
	memset(&t->m->nodes[*idx], 0, sizeof(struct svc_node));
	snprintf(t->m->nodes[*idx].name, SVC_NAME_LEN, "%s", name);
	t->m->nodes[*idx].kind = kind;
	t->slots[i] = *idx + 1;
	return 0;
}

static void node_add_port(struct svc_node *n, uint16_t port)
{
	unsigned int i;

	for (i = 0; i < n->nports; i++)
		if (n->ports[i] == port)
			return;
	if (n->nports < SVC_MAX_PORTS)
		n->ports[n->nports++] = port;
}

static void node_add_addr(struct svc_node *n, const uint8_t *addr)
{
	unsigned int i;

	for (i = 0; i < n->naddrs; i++)
		if (!memcmp(n->addrs[i], addr, 16))
			return;
	if (n->naddrs < SVC_MAX_ADDRS)
		memcpy(n->addrs[n->naddrs++], addr, 16);
}

static void node_add_comm(struct svc_node *n, const char *comm)
{
	unsigned int i;

	for (i = 0; i < n->ncomms; i++)
		if (!strncmp(n->comms[i], comm, 16))
			return;
	if (n->ncomms < SVC_MAX_COMMS)
		memcpy(n->comms[n->ncomms++], comm, 16);
}

enum svc_kind svc_local_name(int names_fd, uint64_t cgroup_id, const char *comm16, char *buf,
			     size_t len)
{
	char path[SVC_NAME_LEN];
	const char *p = cgroup_name_lookup(names_fd, cgroup_id, path, sizeof(path));

	if (p && cgroup_is_service(p)) {
		snprintf(buf, len, "%s", p);
		return SVC_CGROUP;
	}
	snprintf(buf, len, "%.16s", comm16[0] ? comm16 : "?");
	return SVC_COMMAND;
}

static int local_node(struct node_tab *t, int names_fd, const struct conn_agg_key *k,
		      unsigned int *idx)
{
	char name[SVC_NAME_LEN];
	enum svc_kind kind = svc_local_name(names_fd, k->cgroup_id, k->comm, name, sizeof(name));
	struct svc_node *n;
	int err;

	err = node_find_or_add(t, name, kind, idx);
	if (err)
		return err;
	n = &t->m->nodes[*idx];
	node_add_comm(n, k->comm);
	node_add_addr(n, k->laddr);
	if (k->role == ROLE_SERVER)
		node_add_port(n, k->port);
	return 0;
}

static int remote_node(struct node_tab *t, const uint8_t *addr, int with_port, uint16_t port,
		       unsigned int *idx)
{
	char name[64];
	int err;

	fmt_endpoint(name, sizeof(name), addr, port, addr_is_v4(addr) ? FLOW_FAMILY_IPV4 : FLOW_FAMILY_IPV6,
		     with_port);
	err = node_find_or_add(t, name, SVC_REMOTE, idx);
	if (!err) {
		node_add_addr(&t->m->nodes[*idx], addr);
		if (with_port)
			node_add_port(&t->m->nodes[*idx], port);
	}
	return err;
}

/* server halves ordered by (laddr, port, raddr) to find a client's server */
static int cmp_server(const void *pa, const void *pb)
{
	const struct half *a = *(const struct half *const *)pa, *b = *(const struct half *const *)pb;
	int c = memcmp(a->k.laddr, b->k.laddr, 16);

	if (c)
		return c;
	if (a->k.port != b->k.port)
		return a->k.port < b->k.port ? -1 : 1;
	return memcmp(a->k.raddr, b->k.raddr, 16);
}

/* first server half with this laddr and port (and raddr unless NULL), or -1 */
static long find_server(struct half **srv, size_t n, const uint8_t *laddr, uint16_t port,
			const uint8_t *raddr)
{
	size_t lo = 0, hi = n, mid;
	struct half key;
	int c;

	memcpy(key.k.laddr, laddr, 16);
	key.k.port = port;
	memset(key.k.raddr, 0, 16);
	if (raddr)
		memcpy(key.k.raddr, raddr, 16);
	while (lo < hi) {	/* lower bound */
		const struct half *kp = &key;

		mid = (lo + hi) / 2;
		c = cmp_server(&srv[mid], &kp);
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == n || memcmp(srv[lo]->k.laddr, laddr, 16) || srv[lo]->k.port != port ||
	    (raddr && memcmp(srv[lo]->k.raddr, raddr, 16)))
		return -1;
	return lo;
}

/* contributions to edges, merged by (client, server) */
struct contrib {
	unsigned int	client, server;
	const struct half *h;
	int		server_side;	/* h is the server's half */
	int		counts;		/* 0: only retransmits and RTT (the other half counts) */
};

static int cmp_contrib(const void *pa, const void *pb)
{
	const struct contrib *a = pa, *b = pb;

	if (a->client != b->client)
		return a->client < b->client ? -1 : 1;
	return a->server < b->server ? -1 : a->server > b->server;
}

static void edge_add(struct svc_edge *e, const struct contrib *c)
{
	const struct conn_agg *a = &c->h->a;
	int i;

	e->retrans += a->total_retrans;
	e->rtt_samples += a->rtt_samples;
	e->rtt_sum_us += a->rtt_sum_us;
	for (i = 0; i < RTT_HIST_BUCKETS; i++)
		e->rtt_hist[i] += a->rtt_hist[i];
	if (!c->counts)
		return;
	for (i = 0; i < SOCK_END_MAX; i++) {
		e->ended[i] += a->ended[i];
		e->conns += a->ended[i];
	}
	e->conns += c->h->open;
	e->open += c->h->open;
	e->bytes_c2s += c->server_side ? a->bytes_received : a->bytes_acked;
	e->bytes_s2c += c->server_side ? a->bytes_acked : a->bytes_received;
	if (a->first_ns && (!e->first_ns || a->first_ns < e->first_ns))
		e->first_ns = a->first_ns;
	if (a->last_ns > e->last_ns)
		e->last_ns = a->last_ns;
}

uint64_t svc_edge_failed(const struct svc_edge *e)
{
	return e->ended[SOCK_END_REFUSED] + e->ended[SOCK_END_RST_SENT] +
	       e->ended[SOCK_END_RST_RECV] + e->ended[SOCK_END_TIMEOUT];
}

int svcmap_build(int agg_fd, int socks_fd, int names_fd, uint64_t now, struct svc_map *m)
{
	struct node_tab t = { .m = m };
	struct halves h = {};
	struct half **srv = NULL;
	struct contrib *cv = NULL;
	size_t i, j, nsrv = 0, nc = 0;
	int err;

	memset(m, 0, sizeof(*m));
	err = read_agg(agg_fd, &h);
	if (!err && socks_fd >= 0)
		err = read_open(socks_fd, now, &h);
	if (err)
		goto out;
	merge_halves(&h);

	srv = calloc(h.n ? h.n : 1, sizeof(*srv));
	cv = calloc(h.n ? h.n * 2 : 1, sizeof(*cv));
	if (!srv || !cv) {
		err = -ENOMEM;
		goto out;
	}
	for (i = 0; i < h.n; i++) {
		err = local_node(&t, names_fd, &h.v[i].k, &h.v[i].node);
		if (err)
			goto out;
		if (h.v[i].k.role == ROLE_SERVER)
			srv[nsrv++] = &h.v[i];
	}
	sort_n(srv, nsrv, sizeof(*srv), cmp_server);

	/* client halves: to the local service at that address and port, else the endpoint */
	for (i = 0; i < h.n; i++) {
		struct half *c = &h.v[i];
		unsigned int server;
		long s;

		if (c->k.role == ROLE_SERVER)
			continue;
		s = find_server(srv, nsrv, c->k.raddr, c->k.port, c->k.laddr);
		if (s >= 0) {
			server = srv[s]->node;
			/* the server halves of these connections: their retransmits and RTT only */
			for (j = s; j < nsrv && !cmp_server(&srv[j], &srv[s]); j++) {
				if (!srv[j]->covered)
					cv[nc++] = (struct contrib){ c->node, server, srv[j], 1, 0 };
				srv[j]->covered = 1;
			}
		} else if ((s = find_server(srv, nsrv, c->k.raddr, c->k.port, NULL)) >= 0) {
			server = srv[s]->node;	/* its server sockets are not followed from here */
		} else if ((err = remote_node(&t, c->k.raddr, 1, c->k.port, &server))) {
			goto out;
		}
		cv[nc++] = (struct contrib){ c->node, server, c, 0, 1 };
	}
	/* server halves whose clients are not on this host (or not followed) */
	for (i = 0; i < nsrv; i++) {
		unsigned int client;

		if (srv[i]->covered)
			continue;
		err = remote_node(&t, srv[i]->k.raddr, 0, 0, &client);
		if (err)
			goto out;
		cv[nc++] = (struct contrib){ client, srv[i]->node, srv[i], 1, 1 };
	}

	sort_n(cv, nc, sizeof(*cv), cmp_contrib);
	m->edges = calloc(nc ? nc : 1, sizeof(*m->edges));
	if (!m->edges) {
		err = -ENOMEM;
		goto out;
	}
	for (i = 0; i < nc; i++) {
		if (!m->nedges || cmp_contrib(&cv[i], &cv[i - 1])) {
			m->edges[m->nedges].client = cv[i].client;
			m->edges[m->nedges].server = cv[i].server;
			m->nedges++;
		}
		edge_add(&m->edges[m->nedges - 1], &cv[i]);
	}
out:
	free(t.slots);
	free(srv);
	free(cv);
	free(h.v);
	if (err)
		svcmap_free(m);
	return err;
}

void svcmap_free(struct svc_map *m)
{
	free(m->nodes);
	free(m->edges);
	memset(m, 0, sizeof(*m));
}
