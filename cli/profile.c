// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * netprof profile: CPU profile from netprofd's sampler, as a table of hot
 * functions, folded stacks, a flame graph SVG or JSON; by connection or
 * peer service on request. The daemon symbolizes while processes live and
 * appends to its journal (docs/profile.md); this reads the journal.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <bpf/bpf.h>
#include "grow.h"
#include "cli.h"
#include "cgroup.h"
#include "filter.h"
#include "flamegraph.h"
#include "format.h"
#include "json.h"
#include "log.h"
#include "pins.h"
#include "profile.h"
#include "pprof.h"
#include "profjournal.h"
#include "sockets.h"
#include "socktab.h"
#include "strcount.h"
#include "svcmap.h"

static const char profile_usage[] =
"Usage: netprof profile [OPTIONS] [FILTER]\n"
"CPU profile of this host from netprofd's sampler (perf_event, every CPU):\n"
"the hottest functions, folded stacks, a flame graph or JSON, and which\n"
"connection each sample's thread was serving.\n"
"\n"
"  -d, --duration DUR  profile the next DUR (default 10s)\n"
"      --last DUR      the past DUR, from the journal, without waiting\n"
"  -p, --pid PID       only this process\n"
"      --tid TID       only this thread\n"
"      --comm NAME     only threads with this command name\n"
"  -c, --cgroup PATH   only this cgroup v2 and below\n"
"      --by-conn       the connection served as the root frame\n"
"      --by-peer       the peer service served as the root frame\n"
"      --by-edge       the service-map edge served (client -> server, as\n"
"                      netprof map names them) as the root frame\n"
"      --folded        folded stacks (comm;frame;...;leaf count), for flamegraph.pl\n"
"      --svg FILE      write a flame graph SVG (click zooms, hover shows shares)\n"
"      --pprof FILE    write a gzipped pprof profile (cpu/nanoseconds; labels\n"
"                      comm, pid, tid, connection, peer) for go tool pprof\n"
"  -n, --limit N       rows in the table (default 25)\n"
"  -j, --json          JSON: every stack with its process, thread and connection\n"
"  -h, --help          this text\n"
"\n"
"FILTER is a tcpdump expression on the connection (e.g. 'port 8080'): only\n"
"samples of threads serving a matching connection are kept.\n"
"Kernel frames end in _[k]. Connection: the socket the thread last sent or\n"
"received on, if within netprofd's --profile-window.\n";

enum prof_out { OUT_TABLE, OUT_FOLDED, OUT_SVG, OUT_JSON, OUT_PPROF };
enum prof_root { ROOT_NONE, ROOT_CONN, ROOT_PEER, ROOT_EDGE };

struct profile_opts {
	uint64_t		duration_ns, last_ns;
	long			pid, tid, limit;
	const char		*comm;
	char			cgroup[4096];	/* below the cgroup2 mount, "" = any */
	enum prof_out		out;
	enum prof_root		root;
	const char		*svg;
	const char		*pprof;
	struct flow_filter	*filter;
};

struct profile_ctx {
	const struct profile_opts *o;
	int			names_fd;
	struct strcount		stacks;		/* root;...;leaf -> samples */
	struct strcount		threads;	/* JSON: tgid tid comm cookie conn... stack */
	uint64_t		samples, conn_samples;
	/* --by-edge: the socket table (open and closed), by cookie */
	struct sock_table	socks;
	struct sock_index	*ix;
	uint32_t		netns[64];	/* namespaces the table has sockets in */
	unsigned int		nnetns;
	struct strcount		edges;		/* cookie -> "[edge ...]" (data) */
};

static int by_cookie(const void *a, const void *b)
{
	const struct sock_entry *x = a, *y = b;

	return x->cookie < y->cookie ? -1 : x->cookie > y->cookie;
}

static int edges_load(struct profile_ctx *c)
{
	int fd = pins_open_map(g.pin_dir, SOCKS_MAP, 1), cfd;

	if (fd < 0)
		return 0;	/* --no-sockets: edges from addresses alone */
	socktab_read(fd, &c->socks);
	close(fd);
	cfd = pins_open_map(g.pin_dir, SOCKS_CLOSED_MAP, 1);
	if (cfd >= 0) {
		socktab_append_closed(cfd, 0, &c->socks);
		close(cfd);
	}
	sort_n(c->socks.v, c->socks.n, sizeof(*c->socks.v), by_cookie);
	c->ix = sock_index__new(&c->socks);
	for (size_t i = 0; i < c->socks.n; i++) {
		unsigned int j;

		for (j = 0; j < c->nnetns && c->netns[j] != c->socks.v[i].r.netns_ino; j++)
			;
		if (j == c->nnetns && c->nnetns < 64)
			c->netns[c->nnetns++] = c->socks.v[i].r.netns_ino;
	}
	return 0;
}

/* The other end of r on this host: in r's namespace, else in any other (veth pairs). */
static const struct sock_record *peer_of(const struct profile_ctx *c, const struct sock_record *r)
{
	const struct sock_record *p;
	unsigned int i;

	p = sock_index__find(c->ix, r->netns_ino, r->raddr, r->rport, r->laddr, r->lport);
	for (i = 0; !p && i < c->nnetns; i++)
		if (c->netns[i] != r->netns_ino)
			p = sock_index__find(c->ix, c->netns[i], r->raddr, r->rport, r->laddr, r->lport);
	return p;
}

/*
 * "[edge client -> server]": both ends named as `netprof map` names them.
 * The socket's record gives its owner and role; the peer is the socket at
 * the other end on this host, else its address (with the port when it is
 * the server). Without a record (UDP, or long gone): the sample's own
 * process, and the lower port taken as the server's.
 */
static const char *edge_label(struct profile_ctx *c, const struct prof_sample *s)
{
	char key[24], me[SVC_NAME_LEN], peer[SVC_NAME_LEN], label[2 * SVC_NAME_LEN + 16];
	const struct sock_record *r = NULL, *pr = NULL;
	struct sock_entry want = { .cookie = s->cookie }, *e;
	struct strcount_entry *ce;
	int client;

	snprintf(key, sizeof(key), "%llu", (unsigned long long)s->cookie);
	ce = strcount_add(&c->edges, key, strlen(key), 0);
	if (ce && ce->data)
		return ce->data;
	e = c->socks.n ? bsearch(&want, c->socks.v, c->socks.n, sizeof(want), by_cookie) : NULL;
	if (e) {
		r = &e->r;
		pr = peer_of(c, r);
		svc_local_name(c->names_fd, r->owner.cgroup_id, r->owner.comm, me, sizeof(me));
		client = r->role == ROLE_CLIENT;
	} else {
		svc_local_name(c->names_fd, s->cgroup_id, s->comm, me, sizeof(me));
		client = s->lport > s->rport;
	}
	if (pr)
		svc_local_name(c->names_fd, pr->owner.cgroup_id, pr->owner.comm, peer, sizeof(peer));
	else if (s->proto)
		fmt_endpoint(peer, sizeof(peer), s->raddr, s->rport, s->family, client);
	else
		snprintf(peer, sizeof(peer), "?");
	snprintf(label, sizeof(label), "[edge %s -> %s]", client ? me : peer, client ? peer : me);
	if (ce)
		ce->data = strdup(label);
	return ce && ce->data ? ce->data : "[edge ?]";
}

static const char *conn_label(const struct prof_sample *s, char *buf, size_t len)
{
	if (!s->cookie)
		return "[no connection]";
	if (!s->proto) {
		snprintf(buf, len, "[socket %llu]", (unsigned long long)s->cookie);
		return buf;
	}
	snprintf(buf, len, "[%s %s %s]", s->proto == 6 ? "tcp" : "udp", s->local, s->remote);
	return buf;
}

static int keep(struct profile_ctx *c, const struct prof_sample *s)
{
	const struct profile_opts *o = c->o;
	struct flow_key k = {};

	if (o->pid >= 0 && s->tgid != (uint32_t)o->pid)
		return 0;
	if (o->tid >= 0 && s->tid != (uint32_t)o->tid)
		return 0;
	if (o->comm && strcmp(o->comm, s->comm))
		return 0;
	if (o->cgroup[0]) {
		char buf[4096];

		if (!cgroup_path_under(cgroup_name_lookup(c->names_fd, s->cgroup_id, buf, sizeof(buf)),
				       o->cgroup))
			return 0;
	}
	if (o->filter) {
		if (!s->has_conn)
			return 0;
		memcpy(k.addr_a, s->laddr, 16);
		memcpy(k.addr_b, s->raddr, 16);
		k.port_a = htons(s->lport);
		k.port_b = htons(s->rport);
		k.proto = s->proto;
		k.family = s->family;
		k.netns_ino = s->netns_ino;
		if (!flow_filter__match(o->filter, &k))
			return 0;
	}
	return 1;
}

static int on_sample(void *ctx, const struct prof_sample *s)
{
	struct profile_ctx *c = ctx;
	char key[8192], label[256];
	const char *root = NULL;
	int n;

	if (!keep(c, s))
		return 0;
	c->samples += s->count;
	if (s->cookie)
		c->conn_samples += s->count;
	if (c->o->root == ROOT_CONN)
		root = conn_label(s, label, sizeof(label));
	else if (c->o->root == ROOT_PEER)
		root = !s->cookie ? "[no connection]" :
		       (snprintf(label, sizeof(label), "[peer %s]", s->proto ? s->peer : "?"), label);
	else if (c->o->root == ROOT_EDGE)
		root = !s->cookie ? "[no connection]" : edge_label(c, s);
	n = snprintf(key, sizeof(key), "%s%s%s", root ? root : "", root ? ";" : "", s->stack);
	if (n < 0 || (size_t)n >= sizeof(key))
		n = sizeof(key) - 1;
	if (!strcount_add(&c->stacks, key, n, s->count))
		return -ENOMEM;
	if (c->o->out == OUT_JSON || c->o->out == OUT_PPROF) {
		n = snprintf(key, sizeof(key), "%u\t%u\t%llu\t%s\t%llu\t%s\t%s\t%s\t%s\t%s",
			     s->tgid, s->tid, (unsigned long long)s->cgroup_id, s->comm,
			     (unsigned long long)s->cookie, s->proto ? (s->proto == 6 ? "tcp" : "udp") : "-",
			     s->local, s->remote, s->peer, s->stack);
		if (n < 0 || (size_t)n >= sizeof(key))
			n = sizeof(key) - 1;
		if (!strcount_add(&c->threads, key, n, s->count))
			return -ENOMEM;
	}
	return 0;
}

/* Per function: samples with it as the leaf (self) and anywhere (total). */
static void function_shares(struct strcount *stacks, struct strcount *self, struct strcount *total,
			    int skip_root)
{
	struct strcount seen = {};
	size_t i;

	for (i = 0; i < stacks->cap; i++) {
		const struct strcount_entry *e = &stacks->v[i];
		const char *p, *leaf = NULL;
		int depth = 0;

		if (!e->key)
			continue;
		/* frame 0 is the command (and with --by-* frame 0 is the root label) */
		for (p = e->key; *p; depth++) {
			const char *end = strchr(p, ';');
			size_t len = end ? (size_t)(end - p) : strlen(p);

			if (depth > skip_root) {
				struct strcount_entry *s = strcount_add(&seen, p, len, 1);

				if (s && s->count == 1)	/* once per stack: recursion counts once */
					strcount_add(total, p, len, e->count);
				leaf = p;
			}
			p += len + (end ? 1 : 0);
		}
		if (leaf)
			strcount_add(self, leaf, strcspn(leaf, ";"), e->count);
		strcount_free(&seen, NULL);
	}
}

static void print_table(struct profile_ctx *c, double secs)
{
	struct strcount self = {}, total = {};
	struct strcount_entry *t;
	size_t i;

	function_shares(&c->stacks, &self, &total, c->o->root != ROOT_NONE);
	printf("%llu samples in %.1f s, %.0f%% while serving a connection\n",
	       (unsigned long long)c->samples, secs,
	       c->samples ? 100.0 * c->conn_samples / c->samples : 0.0);
	if (c->o->root != ROOT_NONE) {
		struct strcount roots = {};

		for (i = 0; i < c->stacks.cap; i++)
			if (c->stacks.v[i].key)
				strcount_add(&roots, c->stacks.v[i].key, strcspn(c->stacks.v[i].key, ";"),
					     c->stacks.v[i].count);
		t = strcount_sorted(&roots);
		printf("\n %7s %8s  %s\n", "CPU%", "SAMPLES", c->o->root == ROOT_CONN ? "CONNECTION" :
		       c->o->root == ROOT_PEER ? "PEER" : "EDGE");
		for (i = 0; i < roots.n && (c->o->limit <= 0 || (long)i < c->o->limit); i++)
			printf(" %6.1f%% %8llu  %s\n", 100.0 * t[i].count / c->samples,
			       (unsigned long long)t[i].count, t[i].key);
		strcount_free(&roots, NULL);
	}
	t = strcount_sorted(&total);
	printf("\n %7s %7s %8s  %s\n", "TOTAL%", "SELF%", "SAMPLES", "FUNCTION");
	for (i = 0; i < total.n && (c->o->limit <= 0 || (long)i < c->o->limit); i++) {
		struct strcount_entry *s = strcount_add(&self, t[i].key, strlen(t[i].key), 0);

		printf(" %6.1f%% %6.1f%% %8llu  %s\n", 100.0 * t[i].count / c->samples,
		       s ? 100.0 * s->count / c->samples : 0.0, (unsigned long long)t[i].count, t[i].key);
	}
	strcount_free(&self, NULL);
	strcount_free(&total, NULL);
}

static void print_json(struct profile_ctx *c, uint64_t from, uint64_t to,
		       const struct prof_journal_info *info)
{
	struct json_writer *jw = jw_new(stdout, 1);
	struct strcount_entry *t = strcount_sorted(&c->threads);
	struct strcount self = {}, total = {};
	size_t i;

	jw_object_start(jw, NULL);
	jw_u64(jw, "from_ns", from);
	jw_u64(jw, "to_ns", to);
	jw_u64(jw, "drains", info->drains);
	jw_u64(jw, "samples", c->samples);
	jw_u64(jw, "connection_samples", c->conn_samples);
	function_shares(&c->stacks, &self, &total, c->o->root != ROOT_NONE);
	jw_array_start(jw, "functions");
	{
		struct strcount_entry *f = strcount_sorted(&total);

		for (i = 0; i < total.n; i++) {
			struct strcount_entry *s = strcount_add(&self, f[i].key, strlen(f[i].key), 0);

			jw_object_start(jw, NULL);
			jw_str(jw, "name", f[i].key);
			jw_u64(jw, "total", f[i].count);
			jw_u64(jw, "self", s ? s->count : 0);
			jw_object_end(jw);
		}
	}
	jw_array_end(jw);
	jw_array_start(jw, "stacks");
	for (i = 0; i < c->threads.n; i++) {
		char *f[10], *save = NULL, *p, cg[4096];
		const char *cgp;
		int n = 0;

		for (p = strtok_r(t[i].key, "\t", &save); p && n < 10; p = strtok_r(NULL, "\t", &save))
			f[n++] = p;
		if (n != 10)
			continue;
		jw_object_start(jw, NULL);
		jw_u64(jw, "count", t[i].count);
		jw_u64(jw, "pid", strtoul(f[0], NULL, 10));
		jw_u64(jw, "tid", strtoul(f[1], NULL, 10));
		jw_str(jw, "comm", f[3]);
		jw_u64(jw, "cgroup_id", strtoull(f[2], NULL, 10));
		cgp = cgroup_name_lookup(c->names_fd, strtoull(f[2], NULL, 10), cg, sizeof(cg));
		if (cgp)
			jw_str(jw, "cgroup", cgp);
		else
			jw_null(jw, "cgroup");
		if (strcmp(f[5], "-")) {
			jw_object_start(jw, "connection");
			jw_u64(jw, "cookie", strtoull(f[4], NULL, 10));
			jw_str(jw, "proto", f[5]);
			jw_str(jw, "local", f[6]);
			jw_str(jw, "remote", f[7]);
			jw_str(jw, "peer", f[8]);
			jw_object_end(jw);
		} else {
			jw_null(jw, "connection");
		}
		jw_array_start(jw, "frames");	/* root first, as folded */
		for (p = strtok_r(f[9], ";", &save); p; p = strtok_r(NULL, ";", &save))
			jw_str(jw, NULL, p);
		jw_array_end(jw);
		jw_object_end(jw);
	}
	jw_array_end(jw);
	jw_object_end(jw);
	jw_free(jw);
	strcount_free(&self, NULL);
	strcount_free(&total, NULL);
}

/* f: opened before profiling, so a bad path fails at once */
static int write_svg(struct profile_ctx *c, FILE *f, double secs)
{
	struct strcount_entry *t = strcount_sorted(&c->stacks);
	struct flame *fl = flame__new();
	char title[256];
	size_t i;
	int err = 0;

	if (!fl) {
		fclose(f);
		return -ENOMEM;
	}
	for (i = 0; i < c->stacks.n && !err; i++)
		err = flame__add(fl, t[i].key, t[i].count);
	snprintf(title, sizeof(title), "netprof CPU profile: %llu samples in %.1f s%s",
		 (unsigned long long)c->samples, secs,
		 c->o->root == ROOT_CONN ? ", by connection" : c->o->root == ROOT_PEER ? ", by peer" :
		 c->o->root == ROOT_EDGE ? ", by service-map edge" : "");
	if (!err)
		err = flame__write_svg(fl, f, title, "samples");
	if (fclose(f) && !err)
		err = -errno;
	flame__free(fl);
	if (err)
		pr_err("writing %s: %s", c->o->svg, strerror(-err));
	else if (!g.json)
		fprintf(stderr, "netprof: wrote %s (%llu samples)\n", c->o->svg,
			(unsigned long long)c->samples);
	return err;
}

/* The profiler's stats on these pins, or a one-line error (cli.h). */
/*
 * pprof: one sample per (thread, connection, stack), the process and the
 * connection as labels rather than frames (pprof's -tagfocus, -tags).
 */
static int write_pprof(struct profile_ctx *c, uint32_t hz, uint64_t from, uint64_t to)
{
	struct strcount_entry *t = strcount_sorted(&c->threads);
	struct pprof *pp = pprof__new(1000000000ULL / (hz ? hz : PROF_DEFAULT_HZ),
				      (uint64_t)time(NULL) * 1000000000ULL - (to - from), to - from);
	const char *frames[PROF_KSTACK_MAX + PROF_USTACK_MAX + 2];
	int err = pp ? 0 : -ENOMEM;
	size_t i;

	for (i = 0; !err && i < c->threads.n; i++) {
		char *f[10], *save = NULL, *line = strdup(t[i].key), *fr, conn[256];
		struct pprof_label l[5];
		size_t nl = 0, nf = 0, j;
		int k;

		if (!line) {
			err = -ENOMEM;
			break;
		}
		f[0] = strtok_r(line, "\t", &save);
		for (k = 1; k < 10; k++)
			f[k] = strtok_r(NULL, k == 9 ? "" : "\t", &save);
		if (!f[9]) {
			free(line);
			continue;
		}
		/* tgid tid cgroup comm cookie proto local remote peer stack(root first) */
		for (fr = strtok_r(f[9], ";", &save); fr && nf < sizeof(frames) / sizeof(frames[0]);
		     fr = strtok_r(NULL, ";", &save))
			frames[nf++] = fr;
		if (nf > 1) {		/* the command is a label, not a frame */
			memmove(frames, frames + 1, --nf * sizeof(frames[0]));
		}
		for (j = 0; j < nf / 2; j++) {	/* leaf first */
			const char *x = frames[j];

			frames[j] = frames[nf - 1 - j];
			frames[nf - 1 - j] = x;
		}
		l[nl++] = (struct pprof_label){ .key = "comm", .str = f[3] };
		l[nl++] = (struct pprof_label){ .key = "pid", .num = strtoll(f[0], NULL, 10) };
		l[nl++] = (struct pprof_label){ .key = "tid", .num = strtoll(f[1], NULL, 10) };
		if (strcmp(f[4], "0")) {
			snprintf(conn, sizeof(conn), "%s %s -> %s", f[5], f[6], f[7]);
			l[nl++] = (struct pprof_label){ .key = "connection", .str = conn };
			l[nl++] = (struct pprof_label){ .key = "peer", .str = f[8] };
		}
		err = pprof__add(pp, frames, nf, t[i].count, l, nl);
		free(line);
	}
	if (!err)
		err = pprof__write(pp, c->o->pprof);
	pprof__free(pp);
	if (err)
		pr_err("writing %s: %s", c->o->pprof, strerror(-err));
	else
		fprintf(stderr, "netprof: wrote %s (%llu samples)\n", c->o->pprof,
			(unsigned long long)c->samples);
	return err;
}

int profiler_state(struct prof_daemon_stats *st)
{
	__u32 zero = 0;
	int fd = pins_open_map(g.pin_dir, PROF_DAEMON_MAP, 1);

	if (fd < 0 || bpf_map_lookup_elem(fd, &zero, st)) {
		int dfd;

		if (fd >= 0)
			close(fd);
		/* no pins at all: say that (and how to fix it) instead */
		dfd = pins_open_map(g.pin_dir, DAEMON_MAP, 0);
		if (dfd >= 0) {
			close(dfd);
			pr_err("the profiler has never run on %s: start netprofd without --no-profile",
			       g.pin_dir);
		}
		return -ENOENT;
	}
	close(fd);
	return 0;
}

static int parse_args(int argc, char **argv, struct profile_opts *o)
{
	enum { O_LAST = 256, O_TID, O_COMM, O_BYCONN, O_BYPEER, O_BYEDGE, O_FOLDED, O_SVG, O_PPROF };
	static const struct option opts[] = {
		{ "duration", required_argument, NULL, 'd' },
		{ "last",     required_argument, NULL, O_LAST },
		{ "pid",      required_argument, NULL, 'p' },
		{ "tid",      required_argument, NULL, O_TID },
		{ "comm",     required_argument, NULL, O_COMM },
		{ "cgroup",   required_argument, NULL, 'c' },
		{ "by-conn",  no_argument,       NULL, O_BYCONN },
		{ "by-peer",  no_argument,       NULL, O_BYPEER },
		{ "by-edge",  no_argument,       NULL, O_BYEDGE },
		{ "folded",   no_argument,       NULL, O_FOLDED },
		{ "svg",      required_argument, NULL, O_SVG },
		{ "pprof",    required_argument, NULL, O_PPROF },
		{ "limit",    required_argument, NULL, 'n' },
		{ "json",     no_argument,       NULL, 'j' },
		{ "help",     no_argument,       NULL, 'h' },
		{}
	};
	char dir[4096], mnt[4096], err[256], *expr;
	uint64_t v;
	int opt, outs = 0;

	while ((opt = getopt_long(argc, argv, "d:p:c:n:jh", opts, NULL)) != -1) {
		switch (opt) {
		case 'd':
		case O_LAST:
			if (parse_duration(optarg, &v) || !v) {
				pr_err("--%s '%s' is not a duration: use e.g. 10s, 500ms, 2m",
				       opt == 'd' ? "duration" : "last", optarg);
				return 2;
			}
			*(opt == 'd' ? &o->duration_ns : &o->last_ns) = v;
			break;
		case 'p':
		case O_TID:
			if (parse_u64(optarg, &v) || v > 0x7fffffff) {
				pr_err("--%s '%s': give a process or thread id", opt == 'p' ? "pid" : "tid",
				       optarg);
				return 2;
			}
			*(opt == 'p' ? &o->pid : &o->tid) = v;
			break;
		case O_COMM:
			o->comm = optarg;
			break;
		case 'c':
			if (cgroup_resolve(optarg, dir, sizeof(dir)) || cgroup2_mount(mnt, sizeof(mnt))) {
				pr_err("--cgroup '%s': no such cgroup v2 (give a path below the cgroup2 mount, e.g. /system.slice)",
				       optarg);
				return 2;
			}
			snprintf(o->cgroup, sizeof(o->cgroup), "%s", dir[strlen(mnt)] ? dir + strlen(mnt) : "/");
			break;
		case O_BYCONN:
			o->root = ROOT_CONN;
			break;
		case O_BYPEER:
			o->root = ROOT_PEER;
			break;
		case O_BYEDGE:
			o->root = ROOT_EDGE;
			break;
		case O_FOLDED:
			o->out = OUT_FOLDED;
			outs++;
			break;
		case O_PPROF:
			o->out = OUT_PPROF;
			o->pprof = optarg;
			outs++;
			break;
		case O_SVG:
			o->out = OUT_SVG;
			o->svg = optarg;
			outs++;
			break;
		case 'j':
			g.json = 1;
			break;
		case 'n':
			if (parse_u64(optarg, &v)) {
				pr_err("--limit '%s': give a number of rows", optarg);
				return 2;
			}
			o->limit = v;
			break;
		case 'h':
			fputs(profile_usage, stdout);
			exit(0);
		default:
			fprintf(stderr, "Try 'netprof profile --help'.\n");
			return 2;
		}
	}
	if (g.json) {
		o->out = OUT_JSON;
		outs++;
	}
	if (outs > 1) {
		pr_err("--folded, --svg, --pprof and --json each choose the output: give one");
		return 2;
	}
	if (o->duration_ns && o->last_ns) {
		pr_err("--duration profiles from now, --last looks back: give one");
		return 2;
	}
	if (optind < argc) {
		expr = filter_join_args(argc - optind, argv + optind);
		o->filter = expr ? flow_filter__new(expr, 0, err, sizeof(err)) : NULL;
		if (!o->filter) {
			pr_err("bad filter '%s': %s (tcpdump syntax, e.g. 'port 8080')", expr ? expr : "",
			       err);
			free(expr);
			return 2;
		}
		free(expr);
	}
	return 0;
}

int do_profile(int argc, char **argv)
{
	struct profile_opts o = { .pid = -1, .tid = -1, .limit = 25 };
	struct profile_ctx c = { .o = &o, .names_fd = -1 };
	struct prof_journal_info info;
	struct prof_daemon_stats st;
	uint64_t from, to, deadline;
	char journal[512];
	FILE *svg = NULL;
	int err;

	err = parse_args(argc, argv, &o);
	if (err)
		return err;
	if (profiler_state(&st))
		return 1;
	if (o.svg || o.pprof) {
		/* fail now, not after the profile; leave no file behind on errors */
		const char *file = o.svg ? o.svg : o.pprof;
		int existed = !access(file, F_OK);

		svg = fopen(file, "a");
		if (!svg) {
			pr_err("cannot write %s: %s", file, strerror(errno));
			return 1;
		}
		fclose(svg);
		svg = NULL;
		if (!existed)
			unlink(file);
	}
	if (pins_state_path(journal, sizeof(journal), g.pin_dir, PROF_JOURNAL)) {
		pr_err("pin directory path %s is too long", g.pin_dir);
		return 2;
	}
	if (o.last_ns) {
		to = now_mono_ns();
		from = to > o.last_ns ? to - o.last_ns : 0;
	} else {
		if (!st.pid || !netprofd_alive(st.pid)) {
			pr_err("no netprofd is profiling on %s: start netprofd (without --no-profile), or use --last DUR for what was recorded",
			       g.pin_dir);
			return 1;
		}
		from = now_mono_ns();
		to = from + (o.duration_ns ? o.duration_ns : 10000000000ULL);
		if (!g.json && o.out != OUT_FOLDED)
			fprintf(stderr, "netprof: profiling for %.1f s ...\n", (to - from) / 1e9);
		while (now_mono_ns() < to)
			usleep((to - now_mono_ns()) / 1000 + 1);
		/* the daemon drains once per sweep: wait for the drain that covers `to` */
		deadline = to + 10000000000ULL;
		for (;;) {
			uint64_t drain;

			err = prof_journal_last_drain(journal, &drain);
			if (!err && drain >= to) {
				/* samples drained in (from, to + one drain] */
				to = drain;
				break;
			}
			if (now_mono_ns() > deadline || !netprofd_alive(st.pid)) {
				pr_err("netprofd stopped draining samples (last drain %s ago): check that it runs",
				       drain ? "long" : "never");
				return 1;
			}
			usleep(100000);
		}
	}
	c.names_fd = pins_open_map(g.pin_dir, CGROUP_NAMES_MAP, 1);
	if (o.root == ROOT_EDGE)
		edges_load(&c);
	err = prof_journal_read(journal, from, to, on_sample, &c, &info);
	if (err == -ENOENT) {
		pr_err("no profile journal at %s: start netprofd (without --no-profile) on these pins",
		       journal);
		return 1;
	}
	if (err) {
		pr_err("reading %s: %s", journal, strerror(-err));
		return 1;
	}
	if (info.bad_lines)
		fprintf(stderr, "netprof: %llu lines of %s are not in the journal's format: skipped\n",
			(unsigned long long)info.bad_lines, journal);
	if (!c.samples)
		fprintf(stderr, "netprof: no samples matched%s\n",
			info.samples ? " the selection" : " (is netprofd profiling? see netprof status)");
	switch (o.out) {
	case OUT_FOLDED: {
		struct strcount_entry *t = strcount_sorted(&c.stacks);

		for (size_t i = 0; i < c.stacks.n; i++)
			printf("%s %llu\n", t[i].key, (unsigned long long)t[i].count);
		break;
	}
	case OUT_SVG:
		svg = fopen(o.svg, "w");
		if (!svg) {
			pr_err("cannot write %s: %s", o.svg, strerror(errno));
			err = 1;
			break;
		}
		err = write_svg(&c, svg, (to - from) / 1e9);
		svg = NULL;
		break;
	case OUT_JSON:
		print_json(&c, from, to, &info);
		break;
	case OUT_PPROF:
		err = write_pprof(&c, st.hz, from, to);
		break;
	case OUT_TABLE:
		print_table(&c, (to - from) / 1e9);
		break;
	}
	if (svg)
		fclose(svg);
	strcount_free(&c.stacks, NULL);
	strcount_free(&c.threads, NULL);
	strcount_free(&c.edges, free);
	sock_index__free(c.ix);
	socktab_free(&c.socks);
	flow_filter__free(o.filter);
	if (c.names_fd >= 0)
		close(c.names_fd);
	return err ? 1 : 0;
}
