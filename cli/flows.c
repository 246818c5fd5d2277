// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * netprof flows: the flow table, live and recently ended, read from the
 * pinned maps. Text and JSON rows come from one function (print_flow).
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include "grow.h"
#include "cli.h"
#include "filter.h"
#include "flowtab.h"
#include "format.h"
#include "json.h"
#include "log.h"
#include "pins.h"
#include "socktab.h"

/* A flow as shown: points into the snapshot's table (rows are sorted, not copied). */
struct row {
	const struct flow_entry	*ep;
	double			rate;		/* bytes/s: lifetime average, or last interval with --watch */
	const char		*ifname;
	const char		*netns;
	const struct sock_record *sock[2];	/* the TCP socket at end a and at end b, if local */
};

/* The socket table, when netprofd tracks sockets: owners for TCP flows. */
struct owners {
	struct sock_table	st;
	struct sock_index	*ix;
	int			names_fd;
};

static struct owners g_owners = { .names_fd = -1 };

static void owners_load(void)
{
	int fd = pins_open_map(g.pin_dir, SOCKS_MAP, 1);

	if (fd < 0)
		return;		/* --no-sockets: flows without owners */
	if (socktab_read(fd, &g_owners.st) == 0) {
		int cfd = pins_open_map(g.pin_dir, SOCKS_CLOSED_MAP, 1);

		if (cfd >= 0) {
			socktab_append_closed(cfd, socktab_keep_ns(g.pin_dir), &g_owners.st);
			close(cfd);
		}
		g_owners.ix = sock_index__new(&g_owners.st);
	}
	close(fd);
	g_owners.names_fd = pins_open_map(g.pin_dir, CGROUP_NAMES_MAP, 1);
}

static void owners_free(void)
{
	sock_index__free(g_owners.ix);
	socktab_free(&g_owners.st);
	if (g_owners.names_fd >= 0)
		close(g_owners.names_fd);
	memset(&g_owners, 0, sizeof(g_owners));
	g_owners.names_fd = -1;
}

static void row_owners(struct row *r)
{
	const struct flow_key *k = &r->ep->key;

	if (k->proto != 6 || !g_owners.ix)
		return;
	r->sock[0] = sock_index__find(g_owners.ix, k->netns_ino, k->addr_a, ntohs(k->port_a),
				      k->addr_b, ntohs(k->port_b));
	r->sock[1] = sock_index__find(g_owners.ix, k->netns_ino, k->addr_b, ntohs(k->port_b),
				      k->addr_a, ntohs(k->port_a));
}

static void json_owner(struct json_writer *jw, const char *name, const struct sock_record *s)
{
	char cg[256], comm[17];
	const char *p;

	if (!s || !s->owner.tgid) {
		jw_null(jw, name);
		return;
	}
	p = cgroup_name_lookup(g_owners.names_fd, s->owner.cgroup_id, cg, sizeof(cg));
	memcpy(comm, s->owner.comm, 16);
	comm[16] = '\0';
	jw_object_start(jw, name);
	jw_u64(jw, "pid", s->owner.tgid);
	jw_str(jw, "comm", comm);
	jw_u64(jw, "cgroup_id", s->owner.cgroup_id);
	if (p)
		jw_str(jw, "cgroup", p);
	else
		jw_null(jw, "cgroup");
	jw_object_end(jw);
}

static const char flows_usage[] =
"Usage: netprof flows [OPTIONS] [FILTER]\n"
"List flows (live and recently ended) from the pinned flow table.\n"
"FILTER is a tcpdump expression, e.g. 'tcp and port 443', 'host 10.0.0.1'.\n"
"\n"
"  -s, --sort KEY       bytes|packets|rate|age (default bytes)\n"
"  -n, --limit N        show the top N flows\n"
"  -w, --watch SECONDS  refresh every SECONDS, RATE over the last interval\n"
"  -i, --interface IF   only flows seen on interface IF\n"
"      --netns NAME     only flows in network namespace NAME\n"
"      --live           only flows still in the live table\n"
"      --wide           do not shorten addresses\n"
"  -j, --json           JSON (one document per refresh with --watch)\n"
"  -h, --help           this text\n";

static const struct option flows_long[] = {
	{ "sort",      required_argument, NULL, 's' },
	{ "limit",     required_argument, NULL, 'n' },
	{ "watch",     required_argument, NULL, 'w' },
	{ "interface", required_argument, NULL, 'i' },
	{ "netns",     required_argument, NULL, 'N' },
	{ "live",      no_argument,       NULL, 'L' },
	{ "wide",      no_argument,       NULL, 'W' },
	{ "json",      no_argument,       NULL, 'j' },
	{ "help",      no_argument,       NULL, 'h' },
	{}
};

static uint64_t rec_bytes(const struct flow_record *r) { return r->bytes[0] + r->bytes[1]; }
static uint64_t rec_packets(const struct flow_record *r) { return r->packets[0] + r->packets[1]; }

static enum sort_key g_sort;

static int cmp_rows(const void *pa, const void *pb)
{
	const struct row *a = pa, *b = pb;
	double x = 0, y = 0;

	switch (g_sort) {
	case SORT_BYTES:
		x = rec_bytes(&a->ep->rec), y = rec_bytes(&b->ep->rec);
		break;
	case SORT_PACKETS:
		x = rec_packets(&a->ep->rec), y = rec_packets(&b->ep->rec);
		break;
	case SORT_RATE:
		x = a->rate, y = b->rate;
		break;
	case SORT_AGE:
		/* oldest first: smallest first_seen */
		x = -(double)a->ep->rec.first_seen_ns, y = -(double)b->ep->rec.first_seen_ns;
		break;
	}
	return x < y ? 1 : x > y ? -1 : 0;
}

static void swap_rows(struct row *a, struct row *b)
{
	struct row t = *a;

	*a = *b;
	*b = t;
}

/* Heap whose root is the kept row that sorts last (the first to give way). */
static void sift_down(struct row *h, size_t n, size_t i)
{
	for (;;) {
		size_t l = 2 * i + 1, r = l + 1, m = i;

		if (l < n && cmp_rows(&h[l], &h[m]) > 0)
			m = l;
		if (r < n && cmp_rows(&h[r], &h[m]) > 0)
			m = r;
		if (m == i)
			return;
		swap_rows(&h[i], &h[m]);
		i = m;
	}
}

/*
 * Put the first `top` rows of the sort order, sorted, at the front:
 * O(n log top) instead of sorting every row (1M flows, -n 20).
 */
static void sort_top(struct row *rows, size_t n, size_t top)
{
	size_t i;

	if (!top || top * 4 >= n) {
		sort_n(rows, n, sizeof(*rows), cmp_rows);
		return;
	}
	for (i = top / 2 + 1; i-- > 0;)
		sift_down(rows, top, i);
	for (i = top; i < n; i++) {
		if (cmp_rows(&rows[i], &rows[0]) < 0) {
			swap_rows(&rows[i], &rows[0]);
			sift_down(rows, top, 0);
		}
	}
	sort_n(rows, top, sizeof(*rows), cmp_rows);
}

/* Shorten s to width with a middle ellipsis so both ends stay readable. */
static const char *fit(char *buf, size_t len, const char *s, int width, int wide)
{
	int n = strlen(s), head;

	if (wide || n <= width)
		return s;
	head = (width - 1) / 2;
	snprintf(buf, len, "%.*s~%s", head, s, s + n - (width - 1 - head));
	return buf;
}

/* Text columns sized to the rows shown; the fixed ones take 54 characters. */
struct widths {
	int	src;
	int	dst;
	int	ifc;
	int	show_netns;	/* rows span more than one namespace */
};

#define TEXT_MAX_WIDTH	99
#define FIXED_COLS	53	/* with the separators */

static void print_header(const struct widths *w)
{
	printf("%-5s %-*s %-*s %-*s %6s %7s %7s %9s %5s %s\n", "PROTO", w->src, "SOURCE",
	       w->dst, "DESTINATION", w->ifc, "IFACE", "PKTS", "BYTES>", "<BYTES", "RATE", "AGE",
	       "STATE");
}

/* "ifname@netns", or "if<index>" for an interface netprofd did not name */
static char *row_iface(const struct row *r, int show_netns, char *buf, size_t len)
{
	if (r->ifname && show_netns && r->netns && *r->netns)
		snprintf(buf, len, "%s@%s", r->ifname, r->netns);
	else if (r->ifname)
		snprintf(buf, len, "%s", r->ifname);
	else
		snprintf(buf, len, "if%u", r->ep->key.ifindex);
	return buf;
}

/* Source and destination text of a row (the initiator is the source). */
static void row_endpoints(const struct row *r, char *src, char *dst, size_t len)
{
	const struct flow_key *k = &r->ep->key;
	int s = r->ep->rec.first_dir == FLOW_DIR_BA, ports = proto_has_ports(k->proto);

	fmt_endpoint(src, len, s ? k->addr_b : k->addr_a, ntohs(s ? k->port_b : k->port_a),
		     k->family, ports);
	fmt_endpoint(dst, len, s ? k->addr_a : k->addr_b, ntohs(s ? k->port_a : k->port_b),
		     k->family, ports);
}

static void size_columns(const struct row *rows, size_t n, int wide, struct widths *w)
{
	char src[64], dst[64], ifn[64];
	size_t i;
	int l;

	w->src = strlen("SOURCE");
	w->dst = strlen("DESTINATION");
	w->ifc = strlen("IFACE");
	w->show_netns = 0;
	for (i = 1; i < n; i++) {
		const char *a = rows[i].netns ? rows[i].netns : "", *b = rows[0].netns ? rows[0].netns : "";

		if (strcmp(a, b) || rows[i].ep->key.netns_ino != rows[0].ep->key.netns_ino)
			w->show_netns = 1;
	}
	for (i = 0; i < n; i++) {
		row_endpoints(&rows[i], src, dst, sizeof(src));
		row_iface(&rows[i], w->show_netns, ifn, sizeof(ifn));
		if ((l = strlen(src)) > w->src)
			w->src = l;
		if ((l = strlen(dst)) > w->dst)
			w->dst = l;
		if ((l = strlen(ifn)) > w->ifc)
			w->ifc = l;
	}
	if (wide)
		return;
	/* too wide for a terminal: shorten addresses first, then interface names */
	while (FIXED_COLS + w->src + w->dst + w->ifc > TEXT_MAX_WIDTH) {
		if (w->src >= w->dst && w->src > 17)
			w->src--;
		else if (w->dst > 17)
			w->dst--;
		else if (w->ifc > 10)
			w->ifc--;
		else
			break;
	}
}

/* One flow, as text or as a JSON object: the same data, one place. */
static void print_flow(struct json_writer *jw, const struct row *r, uint64_t now, int wide,
		       const struct widths *w)
{
	const struct flow_key *k = &r->ep->key;
	const struct flow_record *rec = &r->ep->rec;
	int ports = proto_has_ports(k->proto);
	/* source = the endpoint that sent the first packet */
	int s = rec->first_dir == FLOW_DIR_BA;
	const uint8_t *saddr = s ? k->addr_b : k->addr_a, *daddr = s ? k->addr_a : k->addr_b;
	uint16_t sport = ntohs(s ? k->port_b : k->port_a), dport = ntohs(s ? k->port_a : k->port_b);
	uint64_t fwd_p = rec->packets[s], rev_p = rec->packets[!s];
	uint64_t fwd_b = rec->bytes[s], rev_b = rec->bytes[!s];
	uint64_t end = rec->ended_ns ? rec->last_seen_ns : now;
	uint64_t age = end > rec->first_seen_ns ? end - rec->first_seen_ns : 0;
	const char *state = flow_end_name(rec->end_reason);
	char src[64], dst[64], proto[16], ifn[64], b1[32], b2[32], b3[32], b4[32], b5[32];
	char f1[16], f2[16];

	fmt_proto(proto, sizeof(proto), k->proto);
	row_iface(r, jw ? 0 : w->show_netns, ifn, sizeof(ifn));

	if (!jw) {
		char t1[32], t2[32], t3[16];

		fmt_endpoint(src, sizeof(src), saddr, sport, k->family, ports);
		fmt_endpoint(dst, sizeof(dst), daddr, dport, k->family, ports);
		printf("%-5s %-*s %-*s %-*s %6s %7s %7s %9s %5s %s\n", proto,
		       w->src, fit(t1, sizeof(t1), src, w->src, wide),
		       w->dst, fit(t2, sizeof(t2), dst, w->dst, wide),
		       w->ifc, fit(t3, sizeof(t3), ifn, w->ifc, wide),
		       fmt_count(b1, sizeof(b1), fwd_p + rev_p),
		       fmt_bytes(b2, sizeof(b2), fwd_b), fmt_bytes(b3, sizeof(b3), rev_b),
		       r->rate > 0 ? fmt_rate(b4, sizeof(b4), r->rate) : "-",
		       age ? fmt_duration(b5, sizeof(b5), age) : "-", state);
		/* like ss -p: the processes at the ends that are on this host */
		if ((r->sock[s] && r->sock[s]->owner.tgid) || (r->sock[!s] && r->sock[!s]->owner.tgid)) {
			char o1[300], o2[300];

			printf("\t%s%s%s%s\n",
			       r->sock[s] && r->sock[s]->owner.tgid ? "src " : "",
			       r->sock[s] && r->sock[s]->owner.tgid ? sock_owner_text(g_owners.names_fd, r->sock[s], o1, sizeof(o1)) : "",
			       r->sock[!s] && r->sock[!s]->owner.tgid ? (r->sock[s] && r->sock[s]->owner.tgid ? "  dst " : "dst ") : "",
			       r->sock[!s] && r->sock[!s]->owner.tgid ? sock_owner_text(g_owners.names_fd, r->sock[!s], o2, sizeof(o2)) : "");
		}
		return;
	}
	jw_object_start(jw, NULL);
	jw_str(jw, "proto", proto);
	jw_u64(jw, "ip_proto", k->proto);
	jw_u64(jw, "family", k->family);
	jw_str(jw, "src", fmt_addr(src, sizeof(src), saddr, k->family));
	jw_u64(jw, "src_port", sport);
	jw_str(jw, "dst", fmt_addr(dst, sizeof(dst), daddr, k->family));
	jw_u64(jw, "dst_port", dport);
	jw_u64(jw, "ifindex", k->ifindex);
	if (r->ifname)
		jw_str(jw, "ifname", r->ifname);
	else
		jw_null(jw, "ifname");
	jw_str(jw, "netns", r->netns ? r->netns : "");
	jw_u64(jw, "netns_ino", k->netns_ino);
	jw_u64(jw, "packets", fwd_p + rev_p);
	jw_u64(jw, "bytes", fwd_b + rev_b);
	jw_u64(jw, "packets_fwd", fwd_p);
	jw_u64(jw, "bytes_fwd", fwd_b);
	jw_u64(jw, "packets_rev", rev_p);
	jw_u64(jw, "bytes_rev", rev_b);
	jw_str(jw, "tcp_flags_fwd", fmt_tcp_flags(f1, sizeof(f1), rec->tcp_flags[s]));
	jw_str(jw, "tcp_flags_rev", fmt_tcp_flags(f2, sizeof(f2), rec->tcp_flags[!s]));
	jw_double(jw, "rate_bps", r->rate * 8);
	jw_u64(jw, "first_seen_ns", rec->first_seen_ns);
	jw_u64(jw, "last_seen_ns", rec->last_seen_ns);
	jw_u64(jw, "age_ns", age);
	jw_u64(jw, "idle_ns", now > rec->last_seen_ns ? now - rec->last_seen_ns : 0);
	jw_u64(jw, "xdp_ts_ns", rec->xdp_ts_ns);
	jw_u64(jw, "tc_ingress_ts_ns", rec->tc_ingress_ts_ns);
	jw_u64(jw, "tc_ingress_xdp_ts_ns", rec->tc_ingress_xdp_ts_ns);
	jw_u64(jw, "tc_egress_ts_ns", rec->tc_egress_ts_ns);
	jw_str(jw, "state", state);
	jw_u64(jw, "ended_ns", rec->ended_ns);
	json_owner(jw, "src_process", r->sock[s]);
	json_owner(jw, "dst_process", r->sock[!s]);
	jw_object_end(jw);
}

struct snapshot {
	struct flow_table	ft;		/* what was read */
	struct row		*rows;		/* the flows shown, pointing into ft */
	size_t			n;
	const struct flow_entry	**index;	/* --watch: ft sorted by flow identity */
	uint64_t		taken_ns;
};

static void snapshot_free(struct snapshot *s)
{
	flowtab_free(&s->ft);
	free(s->rows);
	free(s->index);
	memset(s, 0, sizeof(*s));
}

/* A flow's identity across snapshots: its key and when it started. */
static int cmp_identity(const void *pa, const void *pb)
{
	const struct flow_entry *a = *(const struct flow_entry *const *)pa;
	const struct flow_entry *b = *(const struct flow_entry *const *)pb;
	int c = memcmp(&a->key, &b->key, sizeof(a->key));

	if (c)
		return c;
	return a->rec.first_seen_ns < b->rec.first_seen_ns ? -1 :
	       a->rec.first_seen_ns > b->rec.first_seen_ns;
}

static int build_index(struct snapshot *s)
{
	size_t i;

	s->index = malloc((s->ft.n ? s->ft.n : 1) * sizeof(*s->index));
	if (!s->index)
		return -ENOMEM;
	for (i = 0; i < s->ft.n; i++)
		s->index[i] = &s->ft.v[i];
	sort_n(s->index, s->ft.n, sizeof(*s->index), cmp_identity);
	return 0;
}

static const struct flow_entry *find_in(const struct snapshot *s, const struct flow_entry *e)
{
	const struct flow_entry *const *hit;

	if (!s->index)
		return NULL;
	hit = bsearch(&e, s->index, s->ft.n, sizeof(*s->index), cmp_identity);
	return hit ? *hit : NULL;
}

static int take_snapshot(const struct flows_opts *o, struct iface_names *names,
			 int flows_fd, int ended_fd, const struct snapshot *prev,
			 struct snapshot *out)
{
	uint64_t now = now_mono_ns();
	size_t i, n = 0;
	int err;

	memset(out, 0, sizeof(*out));
	err = flowtab_read_live(flows_fd, &out->ft);
	if (!err && !o->live_only)
		err = flowtab_read_ended(ended_fd, &out->ft);
	if (err) {
		pr_err("cannot read the flow table: %s", strerror(-err));
		snapshot_free(out);
		return err;
	}
	out->rows = calloc(out->ft.n ? out->ft.n : 1, sizeof(*out->rows));
	if (!out->rows || (o->watch_ns && build_index(out))) {
		snapshot_free(out);
		return -ENOMEM;
	}
	out->taken_ns = now;
	for (i = 0; i < out->ft.n; i++) {
		const struct flow_entry *e = &out->ft.v[i];
		struct row *r = &out->rows[n];
		const char *ifn, *nsn;

		if (!flow_filter__match_flags(o->filter, &e->key, e->rec.tcp_flags))
			continue;
		ifn = iface_names__name(names, e->key.netns_ino, e->key.ifindex, &nsn);
		if (o->ifname && (!ifn || strcmp(ifn, o->ifname)))
			continue;
		if (o->netns && (!nsn || strcmp(nsn, o->netns)))
			continue;
		r->ep = e;
		r->ifname = ifn;
		r->netns = nsn;
		if (prev) {
			/* --watch: rate over the last interval */
			const struct flow_entry *before = find_in(prev, e);
			double dt = (now - prev->taken_ns) / 1e9;
			uint64_t b0 = before ? rec_bytes(&before->rec) : 0;

			r->rate = dt > 0 ? (rec_bytes(&e->rec) - b0) / dt : 0;
		} else {
			uint64_t end = e->rec.ended_ns ? e->rec.last_seen_ns : now;
			double life = (end - e->rec.first_seen_ns) / 1e9;

			r->rate = life > 0.001 ? rec_bytes(&e->rec) / life : 0;
		}
		n++;
	}
	out->n = n;
	return 0;
}

static void print_snapshot(const struct flows_opts *o, struct snapshot *s)
{
	size_t i, n = s->n;
	struct json_writer *jw = NULL;
	struct widths w = {};

	g_sort = o->sort;
	if (o->limit && (size_t)o->limit < n)
		n = o->limit;
	sort_top(s->rows, s->n, n < s->n ? n : 0);
	if (g.json) {
		jw = jw_new(stdout, 0);
		jw_object_start(jw, NULL);
		jw_u64(jw, "now_ns", s->taken_ns);
		jw_u64(jw, "total", s->n);
		jw_array_start(jw, "flows");
	} else {
		size_columns(s->rows, n, o->wide, &w);
		print_header(&w);
	}
	owners_load();
	for (i = 0; i < n; i++) {
		row_owners(&s->rows[i]);
		print_flow(jw, &s->rows[i], s->taken_ns, o->wide, &w);
	}
	owners_free();
	if (jw) {
		jw_array_end(jw);
		jw_object_end(jw);
		jw_free(jw);
	} else if (n < s->n) {
		printf("(%zu of %zu flows; -n 0 shows all)\n", n, s->n);
	}
	fflush(stdout);
}

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	stop = 1;
}

/*
 * Options shared by `flows` and `replay`. Returns 0 to go on, 1 when help
 * was printed, 2 (usage) or -1 (already reported) on errors.
 */
int flows_parse_args(int argc, char **argv, struct flows_opts *o, const char *usage,
		     int allow_live, int positional)
{
	char *expr, errbuf[512];
	int opt;
	uint64_t v;

	memset(o, 0, sizeof(*o));
	o->sort = SORT_BYTES;
	optind = 1;
	while ((opt = getopt_long(argc, argv, "s:n:w:i:jh", flows_long, NULL)) != -1) {
		if (!allow_live && (opt == 'w' || opt == 'i' || opt == 'N' || opt == 'L')) {
			pr_err("%s does not apply to %s: see '%s --help'", argv[optind - 1], argv[0], argv[0]);
			return 2;
		}
		switch (opt) {
		case 's':
			if (!strcmp(optarg, "bytes"))
				o->sort = SORT_BYTES;
			else if (!strcmp(optarg, "packets"))
				o->sort = SORT_PACKETS;
			else if (!strcmp(optarg, "rate"))
				o->sort = SORT_RATE;
			else if (!strcmp(optarg, "age"))
				o->sort = SORT_AGE;
			else {
				pr_err("--sort '%s': use bytes, packets, rate or age", optarg);
				return 2;
			}
			break;
		case 'n':
			if (parse_u64(optarg, &v)) {
				pr_err("-n '%s': give a number of flows (0 = all)", optarg);
				return 2;
			}
			o->limit = v;
			break;
		case 'w':
			if (parse_duration(optarg, &o->watch_ns) || o->watch_ns < 100000000ULL) {
				pr_err("--watch '%s': give seconds, at least 0.1", optarg);
				return 2;
			}
			break;
		case 'i':
			o->ifname = optarg;
			break;
		case 'N':
			o->netns = optarg;
			break;
		case 'L':
			o->live_only = 1;
			break;
		case 'W':
			o->wide = 1;
			break;
		case 'j':
			g.json = log_json_errors = 1;
			break;
		case 'h':
			fputs(usage, stdout);
			return 1;
		default:
			fprintf(stderr, "Try '%s --help'.\n", argv[0]);
			return 2;
		}
	}
	o->optind = optind;
	if (optind + positional < argc) {
		expr = filter_join_args(argc - optind - positional, argv + optind + positional);
		o->filter = expr ? flow_filter__new(expr, FILTER_TCP_FLAGS, errbuf, sizeof(errbuf)) : NULL;
		if (!o->filter) {
			pr_err("bad filter '%s': %s (tcpdump syntax, e.g. 'tcp and port 80')",
			       expr ? expr : "", expr ? errbuf : strerror(ENOMEM));
			free(expr);
			return -1;
		}
		free(expr);
	}
	return 0;
}

/* One table from map fds (pinned, or replay's private ones). 0 or -errno. */
int flows_show_once(const struct flows_opts *o, struct iface_names *names, int flows_fd,
		    int ended_fd)
{
	struct snapshot cur = {};
	int err;

	err = take_snapshot(o, names, flows_fd, ended_fd, NULL, &cur);
	if (!err)
		print_snapshot(o, &cur);
	snapshot_free(&cur);
	return err;
}

int do_flows(int argc, char **argv)
{
	struct flows_opts o;
	struct snapshot prev = {}, cur = {};
	struct iface_names *names = NULL;
	int flows_fd = -1, ended_fd = -1, err;

	err = flows_parse_args(argc, argv, &o, flows_usage, 1, 0);
	if (err)
		return err == 1 ? 0 : err == 2 ? 2 : 1;
	err = 1;

	flows_fd = pins_open_map(g.pin_dir, FLOWS_MAP, 0);
	if (flows_fd < 0)
		goto out;
	ended_fd = pins_open_map(g.pin_dir, FLOWS_ENDED_MAP, 0);
	if (ended_fd < 0)
		goto out;
	names = iface_names__load(g.pin_dir);

	if (!o.watch_ns) {
		err = flows_show_once(&o, names, flows_fd, ended_fd) ? 1 : 0;
		goto out;
	}

	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	if (take_snapshot(&o, names, flows_fd, ended_fd, NULL, &prev))
		goto out;
	while (!stop) {
		struct timespec ts = { o.watch_ns / 1000000000ULL, o.watch_ns % 1000000000ULL };

		nanosleep(&ts, NULL);
		if (stop)
			break;
		iface_names__free(names);
		names = iface_names__load(g.pin_dir);
		if (take_snapshot(&o, names, flows_fd, ended_fd, &prev, &cur))
			goto out;
		if (!g.json && isatty(STDOUT_FILENO))
			printf("\033[H\033[2J");
		print_snapshot(&o, &cur);
		snapshot_free(&prev);
		prev = cur;
		memset(&cur, 0, sizeof(cur));
	}
	err = 0;
out:
	snapshot_free(&prev);
	snapshot_free(&cur);
	flow_filter__free(o.filter);
	iface_names__free(names);
	if (flows_fd >= 0)
		close(flows_fd);
	if (ended_fd >= 0)
		close(ended_fd);
	return err;
}
