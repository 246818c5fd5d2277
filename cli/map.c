// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * netprof map: the service dependency map (lib/svcmap.c) as a table of
 * edges, JSON, Graphviz dot, or an SVG rendered by dot.
 */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/wait.h>
#include "grow.h"
#include "cli.h"
#include "flow.h"
#include "format.h"
#include "json.h"
#include "log.h"
#include "pins.h"
#include "socktab.h"
#include "svcmap.h"

static const char map_usage[] =
"Usage: netprof map [OPTIONS] [MATCH...]\n"
"Which services call which: one edge per client -> server pair, with\n"
"connections, failures, bytes each way, RTT and retransmits.\n"
"MATCH keeps edges with an end whose name contains it, or with that address.\n"
"\n"
"  -s, --sort KEY   conns|bytes|failed|rtt (default conns)\n"
"  -n, --limit N    show the first N edges\n"
"      --since DUR  only edges active in the last DUR (e.g. 5m, 30s)\n"
"      --dot        Graphviz dot on stdout\n"
"      --svg FILE   render the graph to FILE with Graphviz dot\n"
"  -j, --json       JSON\n"
"  -h, --help       this text\n";

enum msort { MS_CONNS, MS_BYTES, MS_FAILED, MS_RTT };
enum mout { MO_TABLE, MO_DOT, MO_SVG };

struct map_opts {
	enum msort	sort;
	enum mout	out;
	long		limit;
	uint64_t	since_ns;
	const char	*svg;
	char		**match;
	int		nmatch;
};

static const struct option map_long[] = {
	{ "sort", required_argument, NULL, 's' },
	{ "limit", required_argument, NULL, 'n' },
	{ "since", required_argument, NULL, 'S' },
	{ "dot", no_argument, NULL, 'D' },
	{ "svg", required_argument, NULL, 'G' },
	{ "json", no_argument, NULL, 'j' },
	{ "help", no_argument, NULL, 'h' },
	{}
};

static const struct svc_map *g_map;
static enum msort g_msort;

static double edge_key(const struct svc_edge *e)
{
	switch (g_msort) {
	case MS_BYTES: return (double)e->bytes_c2s + e->bytes_s2c;
	case MS_FAILED: return svc_edge_failed(e);
	case MS_RTT: return hist_percentile(e->rtt_hist, 0.99);
	default: return e->conns;
	}
}

static int cmp_edges(const void *pa, const void *pb)
{
	const struct svc_edge *a = pa, *b = pb;
	double ka = edge_key(a), kb = edge_key(b);
	int c;

	if (ka != kb)
		return ka > kb ? -1 : 1;	/* largest first */
	c = strcmp(g_map->nodes[a->client].name, g_map->nodes[b->client].name);
	return c ? c : strcmp(g_map->nodes[a->server].name, g_map->nodes[b->server].name);
}

static int node_matches(const struct svc_node *n, const char *m)
{
	uint8_t a[16];
	unsigned int i;

	if (strstr(n->name, m))
		return 1;
	if (parse_addr(m, a))
		return 0;
	for (i = 0; i < n->naddrs; i++)
		if (!memcmp(n->addrs[i], a, 16))
			return 1;
	return 0;
}

static int selected(const struct map_opts *o, const struct svc_map *m, const struct svc_edge *e,
		    uint64_t now)
{
	int i;

	/* a window reaching back before boot holds every edge */
	if (o->since_ns && now > o->since_ns && e->last_ns < now - o->since_ns)
		return 0;
	for (i = 0; i < o->nmatch; i++)
		if (!node_matches(&m->nodes[e->client], o->match[i]) &&
		    !node_matches(&m->nodes[e->server], o->match[i]))
			return 0;
	return 1;
}

static const char *kind_name(enum svc_kind k)
{
	return k == SVC_CGROUP ? "cgroup" : k == SVC_COMMAND ? "command" : "remote";
}

static char *fmt_us(char *buf, size_t len, double us)
{
	if (!us)
		snprintf(buf, len, "-");
	else
		fmt_duration(buf, len, (uint64_t)(us * 1000));
	return buf;
}

/* the tail of a long name: the end of a cgroup path says the most */
static const char *tail(const char *s, int width, char *buf, size_t len)
{
	int n = strlen(s);

	if (n <= width)
		return s;
	snprintf(buf, len, "…%s", s + n - width + 1);
	return buf;
}

static void print_table(const struct svc_map *m, const struct svc_edge *e, size_t n)
{
	char b[8][64];
	size_t i;

	printf("%-21s %-21s %6s %4s %4s %8s %8s %13s %5s\n", "CLIENT", "SERVER", "CONNS", "OPEN",
	       "FAIL", "BYTES>", "<BYTES", "RTT p50/p99", "RETR");
	for (i = 0; i < n; i++) {
		char rtt[140];

		snprintf(rtt, sizeof(rtt), "%s/%s",
			 fmt_us(b[4], sizeof(b[4]), hist_percentile(e[i].rtt_hist, 0.5)),
			 fmt_us(b[5], sizeof(b[5]), hist_percentile(e[i].rtt_hist, 0.99)));
		printf("%-21s %-21s %6s %4s %4s %8s %8s %13s %5s\n",
		       tail(m->nodes[e[i].client].name, 21, b[0], sizeof(b[0])),
		       tail(m->nodes[e[i].server].name, 21, b[1], sizeof(b[1])),
		       fmt_count(b[2], sizeof(b[2]), e[i].conns),
		       fmt_count(b[3], sizeof(b[3]), e[i].open),
		       fmt_count(b[6], sizeof(b[6]), svc_edge_failed(&e[i])),
		       fmt_bytes(b[7], sizeof(b[7]), e[i].bytes_c2s),
		       fmt_bytes(b[4], sizeof(b[4]), e[i].bytes_s2c), rtt,
		       fmt_count(b[5], sizeof(b[5]), e[i].retrans));
	}
	if (!n)
		printf("(no edges yet: nothing followed has connected)\n");
}

static void json_node(struct json_writer *jw, const struct svc_node *n)
{
	char a[64];
	unsigned int i;

	jw_object_start(jw, NULL);
	jw_str(jw, "name", n->name);
	jw_str(jw, "kind", kind_name(n->kind));
	jw_array_start(jw, "ports");
	for (i = 0; i < n->nports; i++)
		jw_u64(jw, NULL, n->ports[i]);
	jw_array_end(jw);
	jw_array_start(jw, "addresses");
	for (i = 0; i < n->naddrs; i++)
		jw_str(jw, NULL, fmt_addr(a, sizeof(a), n->addrs[i],
					  addr_is_v4(n->addrs[i]) ? FLOW_FAMILY_IPV4 : FLOW_FAMILY_IPV6));
	jw_array_end(jw);
	jw_array_start(jw, "commands");
	for (i = 0; i < n->ncomms; i++) {
		char c[17];

		memcpy(c, n->comms[i], 16);
		c[16] = 0;
		jw_str(jw, NULL, c);
	}
	jw_array_end(jw);
	jw_object_end(jw);
}

static void print_json(const struct svc_map *m, const struct svc_edge *e, size_t n, uint64_t now)
{
	struct json_writer *jw = jw_new(stdout, 0);
	size_t i;
	int b;

	jw_object_start(jw, NULL);
	jw_u64(jw, "now_ns", now);
	jw_array_start(jw, "nodes");
	for (i = 0; i < m->nnodes; i++)
		json_node(jw, &m->nodes[i]);
	jw_array_end(jw);
	jw_array_start(jw, "edges");
	for (i = 0; i < n; i++) {
		jw_object_start(jw, NULL);
		jw_str(jw, "client", m->nodes[e[i].client].name);
		jw_str(jw, "server", m->nodes[e[i].server].name);
		jw_u64(jw, "connections", e[i].conns);
		jw_u64(jw, "open", e[i].open);
		jw_u64(jw, "failed", svc_edge_failed(&e[i]));
		jw_u64(jw, "refused", e[i].ended[SOCK_END_REFUSED]);
		jw_u64(jw, "reset", e[i].ended[SOCK_END_RST_SENT] + e[i].ended[SOCK_END_RST_RECV]);
		jw_u64(jw, "timed_out", e[i].ended[SOCK_END_TIMEOUT]);
		jw_u64(jw, "bytes_client_to_server", e[i].bytes_c2s);
		jw_u64(jw, "bytes_server_to_client", e[i].bytes_s2c);
		jw_u64(jw, "rtt_samples", e[i].rtt_samples);
		jw_u64(jw, "rtt_sum_us", e[i].rtt_sum_us);
		jw_array_start(jw, "rtt_hist");
		for (b = 0; b < RTT_HIST_BUCKETS; b++)
			jw_u64(jw, NULL, e[i].rtt_hist[b]);
		jw_array_end(jw);
		jw_double(jw, "rtt_p50_us", hist_percentile(e[i].rtt_hist, 0.5));
		jw_double(jw, "rtt_p90_us", hist_percentile(e[i].rtt_hist, 0.9));
		jw_double(jw, "rtt_p99_us", hist_percentile(e[i].rtt_hist, 0.99));
		jw_u64(jw, "retransmits", e[i].retrans);
		jw_u64(jw, "first_seen_ns", e[i].first_ns);
		jw_u64(jw, "last_seen_ns", e[i].last_ns);
		jw_object_end(jw);
	}
	jw_array_end(jw);
	jw_object_end(jw);
	jw_free(jw);
}

/* a dot string: quotes and backslashes escaped */
static void dot_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			fputc('\\', f);
		fputc(*s, f);
	}
	fputc('"', f);
}

static void print_dot(FILE *f, const struct svc_map *m, const struct svc_edge *e, size_t n)
{
	double maxb = 1;
	size_t i;
	char b1[32], b2[32];
	char *used = calloc(m->nnodes ? m->nnodes : 1, 1);

	for (i = 0; i < n; i++) {
		maxb = fmax(maxb, (double)e[i].bytes_c2s + e[i].bytes_s2c);
		if (used) {
			used[e[i].client] = 1;
			used[e[i].server] = 1;
		}
	}
	fprintf(f, "digraph netprof {\n\trankdir=LR;\n\tnode [shape=box, fontname=\"sans\"];\n"
		   "\tedge [fontname=\"sans\", fontsize=10];\n");
	for (i = 0; i < m->nnodes; i++) {
		const struct svc_node *nd = &m->nodes[i];
		char label[SVC_NAME_LEN + 64];
		int len = snprintf(label, sizeof(label), "%s", nd->name);
		unsigned int p;

		if (used && !used[i])
			continue;
		for (p = 0; p < nd->nports && len < (int)sizeof(label) - 8; p++)
			len += snprintf(label + len, sizeof(label) - len, "%s%u", p ? "," : "\n:", nd->ports[p]);
		fprintf(f, "\tn%zu [label=", i);
		dot_str(f, label);
		fprintf(f, "%s];\n", nd->kind == SVC_REMOTE ? ", style=dashed" : "");
	}
	for (i = 0; i < n; i++) {
		double w = 1 + 5 * log1p((double)e[i].bytes_c2s + e[i].bytes_s2c) / log1p(maxb);
		uint64_t failed = svc_edge_failed(&e[i]);

		fprintf(f, "\tn%u -> n%u [penwidth=%.2f, label=\"%s conns%s%s%s\\n%s\"%s];\n",
			e[i].client, e[i].server, w, fmt_count(b1, sizeof(b1), e[i].conns),
			failed ? ", " : "", failed ? fmt_count(b2, sizeof(b2), failed) : "",
			failed ? " failed" : "",
			fmt_bytes(b2, sizeof(b2), e[i].bytes_c2s + e[i].bytes_s2c),
			failed ? ", color=red" : "");
	}
	fprintf(f, "}\n");
	free(used);
}

/* dot in PATH? */
static int have_dot(void)
{
	const char *path = getenv("PATH");
	char buf[4096], *dir, *save = NULL, *copy;
	int found = 0;

	copy = strdup(path && *path ? path : "/usr/bin:/bin");
	for (dir = copy ? strtok_r(copy, ":", &save) : NULL; dir && !found;
	     dir = strtok_r(NULL, ":", &save)) {
		snprintf(buf, sizeof(buf), "%s/dot", dir);
		found = access(buf, X_OK) == 0;
	}
	free(copy);
	return found;
}

static int write_svg(const char *file, const struct svc_map *m, const struct svc_edge *e, size_t n)
{
	char *cmd;
	FILE *p;
	int st;

	if (asprintf(&cmd, "dot -Tsvg -o '%s'", file) < 0)
		return -ENOMEM;
	if (strchr(file, '\'')) {
		free(cmd);
		pr_err("--svg '%s': a file name without quotes, please", file);
		return -EINVAL;
	}
	p = popen(cmd, "w");
	free(cmd);
	if (!p) {
		pr_err("cannot run dot: %s", strerror(errno));
		return -errno;
	}
	print_dot(p, m, e, n);
	st = pclose(p);
	if (st == -1 || !WIFEXITED(st) || WEXITSTATUS(st)) {
		pr_err("dot could not write '%s' (exit status %d): check the directory exists and is writable",
		       file, WIFEXITED(st) ? WEXITSTATUS(st) : -1);
		return -EIO;
	}
	return 0;
}

int do_map(int argc, char **argv)
{
	struct map_opts o = {};
	int agg_fd = -1, socks_fd = -1, names_fd = -1, opt, err = 1;
	struct svc_map m = {};
	struct svc_edge *sel;
	uint64_t v, now;
	size_t i, n = 0;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "s:n:jh", map_long, NULL)) != -1) {
		switch (opt) {
		case 's':
			if (!strcmp(optarg, "conns"))
				o.sort = MS_CONNS;
			else if (!strcmp(optarg, "bytes"))
				o.sort = MS_BYTES;
			else if (!strcmp(optarg, "failed"))
				o.sort = MS_FAILED;
			else if (!strcmp(optarg, "rtt"))
				o.sort = MS_RTT;
			else {
				pr_err("--sort '%s': use conns, bytes, failed or rtt", optarg);
				return 2;
			}
			break;
		case 'n':
			if (parse_u64(optarg, &v)) {
				pr_err("-n '%s': give a number of edges", optarg);
				return 2;
			}
			o.limit = v;
			break;
		case 'S':
			if (parse_duration(optarg, &o.since_ns) || !o.since_ns) {
				pr_err("--since '%s': give a duration, e.g. 30s, 5m, 2h", optarg);
				return 2;
			}
			break;
		case 'D':
			o.out = MO_DOT;
			break;
		case 'G':
			o.out = MO_SVG;
			o.svg = optarg;
			break;
		case 'j':
			g.json = log_json_errors = 1;
			break;
		case 'h':
			fputs(map_usage, stdout);
			return 0;
		default:
			fprintf(stderr, "Try 'netprof map --help'.\n");
			return 2;
		}
	}
	if (g.json && o.out != MO_TABLE) {
		pr_err("--json, --dot and --svg are different outputs: choose one");
		return 2;
	}
	if (o.out == MO_SVG && !have_dot()) {
		pr_err("--svg needs Graphviz 'dot', which is not installed: apt-get install graphviz, or use --dot and render elsewhere");
		return 1;
	}
	o.match = argv + optind;
	o.nmatch = argc - optind;

	agg_fd = pins_open_map(g.pin_dir, CONN_AGG_MAP, 0);
	if (agg_fd < 0)
		goto out;
	socks_fd = pins_open_map(g.pin_dir, SOCKS_MAP, 1);
	names_fd = pins_open_map(g.pin_dir, CGROUP_NAMES_MAP, 1);
	now = now_mono_ns();
	err = svcmap_build(agg_fd, socks_fd, names_fd, now, &m);
	if (err) {
		pr_err("cannot read the service map: %s", strerror(-err));
		err = 1;
		goto out;
	}
	sel = m.edges;
	for (i = 0; i < m.nedges; i++)
		if (selected(&o, &m, &m.edges[i], now))
			sel[n++] = m.edges[i];
	g_map = &m;
	g_msort = o.sort;
	sort_n(sel, n, sizeof(*sel), cmp_edges);
	if (o.limit && (size_t)o.limit < n)
		n = o.limit;
	err = 0;
	if (g.json)
		print_json(&m, sel, n, now);
	else if (o.out == MO_DOT)
		print_dot(stdout, &m, sel, n);
	else if (o.out == MO_SVG)
		err = write_svg(o.svg, &m, sel, n) ? 1 : 0;
	else
		print_table(&m, sel, n);
out:
	svcmap_free(&m);
	if (agg_fd >= 0)
		close(agg_fd);
	if (socks_fd >= 0)
		close(socks_fd);
	if (names_fd >= 0)
		close(names_fd);
	return err;
}
