// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * netprof latency: where TCP connections' time goes on this host, stage by
 * stage (maps/latency.h, docs/latency.md), per open connection or per
 * service-map edge end, with the network's RTT beside the host stages.
 */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "cli.h"
#include "filter.h"
#include "flow.h"
#include "format.h"
#include "json.h"
#include "latency.h"
#include "log.h"
#include "mapwalk.h"
#include "pins.h"
#include "socktab.h"
#include "grow.h"

static const char lat_usage[] =
"Usage: netprof latency [OPTIONS] [FILTER]\n"
"Where TCP connections' time goes on this host: per stage p50/p90/p99 and\n"
"its share of a packet's time, with the network's RTT beside them.\n"
"FILTER: tcpdump syntax on connections (e.g. 'port 6379').\n"
"\n"
"  -e, --edges        per service-map edge end (closed connections included)\n"
"                     instead of per open connection\n"
"      --hist STAGE   one stage's histogram, as bars, over the selected rows\n"
"                     (rx_stack rx_sockq tx_sockq tx_qdisc tx_driver)\n"
"  -n, --limit N      show the first N rows (slowest total first)\n"
"  -j, --json         JSON\n"
"  -h, --help         this text\n"
"\n"
"Stages: rx_stack  netif_receive_skb -> TCP receive\n"
"        rx_sockq  TCP receive -> the application's read\n"
"        tx_sockq  the application's write -> net_dev_queue\n"
"        tx_qdisc  net_dev_queue -> net_dev_start_xmit\n"
"        tx_driver net_dev_start_xmit -> net_dev_xmit\n"
"        network   the connection's RTT (sockops)\n";

static const char *const stage_names[LAT_STAGES] = {
	"rx_stack", "rx_sockq", "tx_sockq", "tx_qdisc", "tx_driver",
};
static const char stage_mark[LAT_STAGES + 1] = { 'k', 'q', 'w', 'd', 'x', 'n' };

/* one row: an open connection, or an edge end with its closed connections */
struct lat_row {
	struct conn_agg_key	key;
	struct lat_hist		st[LAT_STAGES];
	uint32_t		rtt_hist[RTT_HIST_BUCKETS];
	const struct sock_record *r;	/* the connection (per-connection rows) */
	uint64_t		conns;
	double			mean[LAT_STAGES + 1];	/* ns; [LAT_STAGES]: network */
	double			total;
};

struct rows {
	struct lat_row	*v;
	size_t		n, cap;
};

static struct lat_row *row_add(struct rows *t)
{
	if (ARRAY_GROW(t->v, t->cap, t->n + 1, 64))
		return NULL;
	memset(&t->v[t->n], 0, sizeof(t->v[0]));
	return &t->v[t->n++];
}

static double lat_percentile(const struct lat_hist *h, double p)
{
	return hist_percentile_n(h->hist, LAT_BUCKETS, p);	/* ns */
}

static void hist_merge(struct lat_hist *dst, const struct lat_hist *src)
{
	int s, b;

	for (s = 0; s < LAT_STAGES; s++) {
		dst[s].sum_ns += src[s].sum_ns;
		dst[s].count += src[s].count;
		for (b = 0; b < LAT_BUCKETS; b++)
			dst[s].hist[b] += src[s].hist[b];
	}
}

/* mean of a µs log2 RTT histogram, from bucket middles, in ns */
static double rtt_mean_ns(const uint32_t *h)
{
	double sum = 0, n = 0;
	int i;

	for (i = 0; i < RTT_HIST_BUCKETS; i++) {
		sum += h[i] * (i ? ldexp(M_SQRT2, i) : 1);
		n += h[i];
	}
	return n ? sum / n * 1000 : 0;
}

static void row_finish(struct lat_row *w)
{
	int s;

	w->total = 0;
	for (s = 0; s < LAT_STAGES; s++) {
		w->mean[s] = w->st[s].count ? (double)w->st[s].sum_ns / w->st[s].count : 0;
		w->total += w->mean[s];
	}
	w->mean[LAT_STAGES] = w->r && w->r->srtt_us ? w->r->srtt_us * 1000.0 : rtt_mean_ns(w->rtt_hist);
	w->total += w->mean[LAT_STAGES];
}

struct lat_entry {
	uint64_t	cookie;
	struct sock_lat	l;
};

struct lat_read {
	struct lat_entry *v;
	size_t		n, cap;
};

static int add_lat(void *ctx, const void *keys, const void *vals, __u32 n)
{
	struct lat_read *t = ctx;
	__u32 i;

	if (ARRAY_GROW(t->v, t->cap, t->n + n, 256))
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		t->v[t->n].cookie = ((const __u64 *)keys)[i];
		t->v[t->n].l = ((const struct sock_lat *)vals)[i];
		t->n++;
	}
	return 0;
}

static int cmp_cookie(const void *a, const void *b)
{
	uint64_t x = ((const struct sock_entry *)a)->cookie, y = ((const struct sock_entry *)b)->cookie;

	return x < y ? -1 : x > y;
}

static int cmp_key(const void *a, const void *b)
{
	return memcmp(&((const struct lat_row *)a)->key, &((const struct lat_row *)b)->key,
		      sizeof(struct conn_agg_key));
}

static int cmp_total(const void *a, const void *b)
{
	double x = ((const struct lat_row *)a)->total, y = ((const struct lat_row *)b)->total;

	return x > y ? -1 : x < y;
}

/* the socket's 5-tuple as a flow key, for the filter */
static int key_matches(const struct flow_filter *f, const struct conn_agg_key *k)
{
	struct sock_record r = {};

	if (!f)
		return 1;
	memcpy(r.laddr, k->laddr, 16);
	memcpy(r.raddr, k->raddr, 16);
	r.family = addr_is_v4(k->laddr) ? FLOW_FAMILY_IPV4 : FLOW_FAMILY_IPV6;
	if (k->role == ROLE_SERVER)
		r.lport = k->port;
	else
		r.rport = k->port;
	struct flow_key fk;

	sock_flow_key(&r, &fk);
	return flow_filter__match(f, &fk);
}

struct edge_read {
	struct rows	*rows;
	const struct flow_filter *f;
};

static int add_edge(void *ctx, const void *keys, const void *vals, __u32 n)
{
	struct edge_read *c = ctx;
	__u32 i;

	for (i = 0; i < n; i++) {
		const struct conn_agg_key *k = &((const struct conn_agg_key *)keys)[i];
		struct lat_row *w;

		if (!key_matches(c->f, k))
			continue;
		w = row_add(c->rows);
		if (!w)
			return -ENOMEM;
		w->key = *k;
		hist_merge(w->st, ((const struct edge_lat *)vals)[i].st);
	}
	return 0;
}

/* conn_agg is per-CPU: sum each key's RTT histogram into its row */
static void add_agg_rtt(int agg_fd, struct rows *t)
{
	int ncpu = libbpf_num_possible_cpus();
	struct conn_agg *v;
	size_t i;
	int c, b;

	if (agg_fd < 0 || ncpu <= 0 || !(v = calloc(ncpu, sizeof(*v))))
		return;
	for (i = 0; i < t->n; i++) {
		if (bpf_map_lookup_elem(agg_fd, &t->v[i].key, v))
			continue;
		for (c = 0; c < ncpu; c++) {
			for (b = 0; b < SOCK_END_MAX; b++)
				t->v[i].conns += v[c].ended[b];
			for (b = 0; b < RTT_HIST_BUCKETS; b++)
				t->v[i].rtt_hist[b] += v[c].rtt_hist[b];
		}
	}
	free(v);
}

/* rows with equal keys into one (open connections of the same edge end) */
static void merge_rows(struct rows *t)
{
	size_t i, o = 0;
	int b;

	sort_n(t->v, t->n, sizeof(t->v[0]), cmp_key);
	for (i = 0; i < t->n; i++) {
		if (o && !memcmp(&t->v[o - 1].key, &t->v[i].key, sizeof(t->v[i].key))) {
			hist_merge(t->v[o - 1].st, t->v[i].st);
			for (b = 0; b < RTT_HIST_BUCKETS; b++)
				t->v[o - 1].rtt_hist[b] += t->v[i].rtt_hist[b];
			t->v[o - 1].conns += t->v[i].conns;
			continue;
		}
		t->v[o++] = t->v[i];
	}
	t->n = o;
}

static void fmt_ns(char *buf, size_t len, double ns)
{
	if (!ns)
		snprintf(buf, len, "-");
	else
		fmt_duration(buf, len, (uint64_t)ns);
}

static void row_label(const struct lat_row *w, int names_fd, char *buf, size_t len)
{
	char a[64], c[17], cg[256];
	const struct conn_agg_key *k = &w->key;
	int fam = addr_is_v4(k->raddr) ? FLOW_FAMILY_IPV4 : FLOW_FAMILY_IPV6;
	const char *who;

	memcpy(c, k->comm, 16);
	c[16] = 0;
	who = cgroup_name_lookup(names_fd, k->cgroup_id, cg, sizeof(cg));
	if (!who || !*who || !strcmp(who, "/"))
		who = c;
	fmt_addr(a, sizeof(a), k->raddr, fam);
	if (w->r)
		snprintf(buf, len, "%s[%u] %u->%s:%u", c, w->r->owner.tgid, w->r->lport, a, w->r->rport);
	else if (k->role == ROLE_SERVER)
		snprintf(buf, len, "%s <- %s (:%u)", who, a, k->port);
	else
		snprintf(buf, len, "%s -> %s:%u", who, a, k->port);
}

static void bar(const struct lat_row *w, char *out, int width)
{
	int s, i, n, used = 0;

	for (s = 0; s <= LAT_STAGES && w->total > 0; s++) {
		n = (int)lround(w->mean[s] / w->total * width);
		for (i = 0; i < n && used < width; i++)
			out[used++] = stage_mark[s];
	}
	while (used < width)
		out[used++] = '.';
	out[used] = 0;
}

static void print_table(const struct rows *t, long limit, int names_fd)
{
	char label[256], p[3][32], bbuf[64];
	size_t i;
	int s;

	printf("bar: k rx_stack  q rx_sockq  w tx_sockq  d tx_qdisc  x tx_driver  n network\n");
	for (i = 0; i < t->n && (!limit || (long)i < limit); i++) {
		const struct lat_row *w = &t->v[i];

		row_label(w, names_fd, label, sizeof(label));
		bar(w, bbuf, 40);
		printf("%s\n  [%s]\n", label, bbuf);
		printf("  %-9s %8s %8s %8s %6s %9s\n", "STAGE", "p50", "p90", "p99", "SHARE", "SAMPLES");
		for (s = 0; s < LAT_STAGES; s++) {
			if (!w->st[s].count)
				continue;
			fmt_ns(p[0], sizeof(p[0]), lat_percentile(&w->st[s], 0.5));
			fmt_ns(p[1], sizeof(p[1]), lat_percentile(&w->st[s], 0.9));
			fmt_ns(p[2], sizeof(p[2]), lat_percentile(&w->st[s], 0.99));
			printf("  %-9s %8s %8s %8s %5.1f%% %9llu\n", stage_names[s], p[0], p[1], p[2],
			       w->total ? 100 * w->mean[s] / w->total : 0,
			       (unsigned long long)w->st[s].count);
		}
		if (w->mean[LAT_STAGES]) {
			fmt_ns(p[0], sizeof(p[0]), w->r ? w->r->srtt_us * 1000.0
						      : hist_percentile(w->rtt_hist, 0.5) * 1000);
			printf("  %-9s %8s %8s %8s %5.1f%% %9s\n", "network", p[0], "", "",
			       100 * w->mean[LAT_STAGES] / w->total, w->r ? "srtt" : "rtt p50");
		}
	}
	if (!t->n)
		printf("(nothing timed yet: no followed TCP connection has carried data)\n");
}

static void print_json(const struct rows *t, long limit, int names_fd, int edges)
{
	struct json_writer *jw = jw_new(stdout, 0);
	char label[256], a[64], c[17];
	size_t i;
	int s;

	jw_object_start(jw, NULL);
	jw_array_start(jw, edges ? "edges" : "connections");
	for (i = 0; i < t->n && (!limit || (long)i < limit); i++) {
		const struct lat_row *w = &t->v[i];

		row_label(w, names_fd, label, sizeof(label));
		jw_object_start(jw, NULL);
		jw_str(jw, "name", label);
		memcpy(c, w->key.comm, 16);
		c[16] = 0;
		jw_str(jw, "command", c);
		jw_str(jw, "role", sock_role_name(w->key.role));
		jw_str(jw, "peer", fmt_addr(a, sizeof(a), w->key.raddr,
					    addr_is_v4(w->key.raddr) ? FLOW_FAMILY_IPV4 : FLOW_FAMILY_IPV6));
		jw_u64(jw, "port", w->key.port);
		if (w->r) {
			jw_u64(jw, "pid", w->r->owner.tgid);
			jw_u64(jw, "local_port", w->r->lport);
			jw_u64(jw, "remote_port", w->r->rport);
		} else {
			jw_u64(jw, "closed_connections", w->conns);
		}
		jw_object_start(jw, "stages");
		for (s = 0; s < LAT_STAGES; s++) {
			jw_object_start(jw, stage_names[s]);
			jw_u64(jw, "samples", w->st[s].count);
			jw_double(jw, "mean_ns", w->mean[s]);
			jw_double(jw, "p50_ns", lat_percentile(&w->st[s], 0.5));
			jw_double(jw, "p90_ns", lat_percentile(&w->st[s], 0.9));
			jw_double(jw, "p99_ns", lat_percentile(&w->st[s], 0.99));
			jw_double(jw, "share", w->total ? w->mean[s] / w->total : 0);
			jw_object_end(jw);
		}
		jw_object_end(jw);
		jw_object_start(jw, "network");
		jw_double(jw, "mean_ns", w->mean[LAT_STAGES]);
		jw_double(jw, "share", w->total ? w->mean[LAT_STAGES] / w->total : 0);
		jw_object_end(jw);
		jw_object_end(jw);
	}
	jw_array_end(jw);
	jw_object_end(jw);
	jw_free(jw);
}

static void print_hist(const struct rows *t, int stage, int json)
{
	struct lat_hist h = {};
	uint64_t max = 0;
	size_t i;
	int b, lo = -1, hi = -1;
	char x[32], y[32];

	for (i = 0; i < t->n; i++) {
		h.count += t->v[i].st[stage].count;
		h.sum_ns += t->v[i].st[stage].sum_ns;
		for (b = 0; b < LAT_BUCKETS; b++)
			h.hist[b] += t->v[i].st[stage].hist[b];
	}
	for (b = 0; b < LAT_BUCKETS; b++) {
		if (h.hist[b] > max)
			max = h.hist[b];
		if (h.hist[b] && lo < 0)
			lo = b;
		if (h.hist[b])
			hi = b;
	}
	if (json) {
		struct json_writer *jw = jw_new(stdout, 0);

		jw_object_start(jw, NULL);
		jw_str(jw, "stage", stage_names[stage]);
		jw_u64(jw, "rows", t->n);
		jw_u64(jw, "samples", h.count);
		jw_array_start(jw, "buckets");
		for (b = 0; b < LAT_BUCKETS; b++) {
			jw_object_start(jw, NULL);
			jw_u64(jw, "low_ns", b ? 1ULL << b : 0);
			jw_u64(jw, "high_ns", 2ULL << b);
			jw_u64(jw, "count", h.hist[b]);
			jw_object_end(jw);
		}
		jw_array_end(jw);
		jw_object_end(jw);
		jw_free(jw);
		return;
	}
	printf("%s over %zu row%s, %llu samples\n", stage_names[stage], t->n, t->n == 1 ? "" : "s",
	       (unsigned long long)h.count);
	for (b = lo; lo >= 0 && b <= hi; b++) {
		int n = max ? (int)(h.hist[b] * 50 / max) : 0;

		fmt_ns(x, sizeof(x), b ? (double)(1ULL << b) : 1);
		fmt_ns(y, sizeof(y), (double)(2ULL << b));
		printf("%8s - %-8s %9u |%.*s\n", x, y, h.hist[b], n,
		       "##################################################");
	}
}

int do_latency(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "edges", no_argument, NULL, 'e' },
		{ "hist", required_argument, NULL, 'H' },
		{ "limit", required_argument, NULL, 'n' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{}
	};
	struct flow_filter *f = NULL;
	struct sock_table st = {};
	struct lat_read lr = {};
	struct rows t = {};
	int opt, edges = 0, hist = -1, json = g.json, s, err = 1;
	int lat_fd = -1, edge_fd = -1, socks_fd = -1, agg_fd = -1, names_fd = -1;
	long limit = 0;
	char errbuf[256], *expr;
	size_t i;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "eH:n:jh", opts, NULL)) != -1) {
		switch (opt) {
		case 'e':
			edges = 1;
			break;
		case 'H':
			for (s = 0; s < LAT_STAGES && strcmp(optarg, stage_names[s]); s++)
				;
			if (s == LAT_STAGES) {
				pr_err("--hist '%s': not a stage; use rx_stack, rx_sockq, tx_sockq, tx_qdisc or tx_driver",
				       optarg);
				return 2;
			}
			hist = s;
			break;
		case 'n': {
			char *end;

			limit = strtol(optarg, &end, 10);
			if (*end || limit <= 0) {
				pr_err("--limit '%s': give a positive number", optarg);
				return 2;
			}
			break;
		}
		case 'j':
			json = 1;
			break;
		case 'h':
			fputs(lat_usage, stdout);
			return 0;
		default:
			fprintf(stderr, "Try 'netprof latency --help'.\n");
			return 2;
		}
	}
	if (optind < argc) {
		expr = filter_join_args(argc - optind, argv + optind);
		f = expr ? flow_filter__new(expr, 0, errbuf, sizeof(errbuf)) : NULL;
		if (!f) {
			pr_err("bad filter '%s': %s (tcpdump syntax, e.g. 'port 443')", expr ? expr : "",
			       errbuf);
			free(expr);
			return 2;
		}
		free(expr);
	}
	lat_fd = pins_open_map(g.pin_dir, SOCK_LAT_MAP, 0);
	if (lat_fd < 0)
		goto out;	/* pins_open_map said why */
	socks_fd = pins_open_map(g.pin_dir, SOCKS_MAP, 0);
	names_fd = pins_open_map(g.pin_dir, CGROUP_NAMES_MAP, 1);
	if (socks_fd < 0)
		goto out;
	if (map_walk_batch(lat_fd, sizeof(__u64), sizeof(struct sock_lat), add_lat, &lr) ||
	    socktab_read(socks_fd, &st)) {
		pr_err("cannot read the pinned latency and socket tables: %s", strerror(errno));
		goto out;
	}
	sort_n(st.v, st.n, sizeof(st.v[0]), cmp_cookie);
	for (i = 0; i < lr.n; i++) {
		struct sock_entry key = { .cookie = lr.v[i].cookie }, *e;
		struct lat_row *w;
		struct flow_key fk;

		e = bsearch(&key, st.v, st.n, sizeof(st.v[0]), cmp_cookie);
		if (!e)
			continue;	/* closing right now */
		sock_flow_key(&e->r, &fk);
		if (f && !flow_filter__match(f, &fk))
			continue;
		w = row_add(&t);
		if (!w)
			goto out;
		w->key = lr.v[i].l.key;
		memcpy(w->st, lr.v[i].l.st, sizeof(w->st));
		memcpy(w->rtt_hist, e->r.rtt_hist, sizeof(w->rtt_hist));
		w->r = edges ? NULL : &e->r;
	}
	if (edges) {
		struct edge_read c = { &t, f };

		edge_fd = pins_open_map(g.pin_dir, EDGE_LAT_MAP, 0);
		agg_fd = pins_open_map(g.pin_dir, CONN_AGG_MAP, 1);
		if (edge_fd < 0)
			goto out;
		if (map_walk_batch(edge_fd, sizeof(struct conn_agg_key), sizeof(struct edge_lat),
				   add_edge, &c)) {
			pr_err("cannot read the pinned edge latency table: %s", strerror(errno));
			goto out;
		}
		merge_rows(&t);
		add_agg_rtt(agg_fd, &t);
	}
	for (i = 0; i < t.n; i++)
		row_finish(&t.v[i]);
	sort_n(t.v, t.n, sizeof(t.v[0]), cmp_total);
	if (hist >= 0)
		print_hist(&t, hist, json);
	else if (json)
		print_json(&t, limit, names_fd, edges);
	else
		print_table(&t, limit, names_fd);
	err = 0;
out:
	flow_filter__free(f);
	socktab_free(&st);
	free(lr.v);
	free(t.v);
	if (lat_fd >= 0)
		close(lat_fd);
	if (edge_fd >= 0)
		close(edge_fd);
	if (socks_fd >= 0)
		close(socks_fd);
	if (agg_fd >= 0)
		close(agg_fd);
	if (names_fd >= 0)
		close(names_fd);
	return err;
}
