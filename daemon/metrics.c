// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * netprofd --metrics ADDR:PORT: the Prometheus text exposition format
 * (version 0.0.4) over a small HTTP/1.x server in netprofd's epoll loop.
 *
 * Every scrape reads the pinned maps, as the CLI does: the service map
 * (lib/svcmap.c, the same edges as `netprof map`), the flow tables for
 * per-interface totals, the statistics maps, and netprofd's own CPU and
 * memory. Counters only go up while netprofd runs: per-interface totals
 * are the live flows plus what the sweep moved out of the live table since
 * netprofd started (metrics__flow_ended), both read on this one thread.
 *
 * Labels stay bounded: services by name; remote clients, whose addresses
 * grow with the Internet, are one "remote" service unless --metrics-peers.
 * docs/metrics.md lists every metric.
 *
 * The endpoint is what tells monitoring the host is up, and any local user
 * can connect to it, so no client may hold it: MAX_CONNS connections at
 * once, each with a deadline for its request (REQ_DEADLINE_NS) and one for
 * its answer (RESP_DEADLINE_NS), checked by the module's own timer; a new
 * connection when all are taken replaces the oldest one still sending its
 * request (a scraper sends its request at once; a client that holds a
 * connection open without asking loses it). Requests are bounded
 * (REQ_MAX), read as bytes (a NUL in one is a bad request, not the end of
 * it), and every connection dropped is counted (netprof_http_dropped_total).
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <fcntl.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/timerfd.h>
#include <sys/socket.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "flowtab.h"
#include "format.h"
#include "latency.h"
#include "log.h"
#include "mapwalk.h"
#include "pins.h"
#include "profile.h"
#include "sockets.h"
#include "socktab.h"
#include "stats.h"
#include "svcmap.h"
#include "netprofd.h"
#include "module.h"
#include "promtext.h"
#include "captab.h"
#include "grow.h"
#include "httpreq.h"

#define MAX_CONNS		256
#define REQ_MAX			4096
#define REQ_DEADLINE_NS		(2ULL * 1000000000ULL)	/* accept to the request's end */
#define RESP_DEADLINE_NS	(10ULL * 1000000000ULL)	/* request to the answer's last byte */
#define TIMER_NS		(250ULL * 1000000ULL)	/* how often deadlines are checked */

struct mconn {
	int		fd;		/* -1: free */
	char		*req;		/* REQ_MAX bytes while reading */
	size_t		req_len;
	char		*resp;		/* set: answering */
	size_t		resp_len, resp_off;
	uint64_t	deadline_ns;
	uint64_t	opened_ns;	/* accepted: the oldest request is replaced first */
};

/* why connections were dropped before their answer was out */
enum { DROP_REPLACED, DROP_REQ_DEADLINE, DROP_RESP_DEADLINE, DROP_MAX };
static const char *const drop_reason[DROP_MAX] = { "replaced", "request_deadline",
						   "answer_deadline" };

/* What the sweep moved out of the live table, per interface. */
struct iface_total {
	uint32_t	netns_ino, ifindex;
	char		name[16];
	char		netns[32];
	uint64_t	packets, bytes;
};

struct metrics {
	int			lfd;
	int			tfd;		/* deadlines; armed while connections are open */
	int			nconns;
	struct mconn		c[MAX_CONNS];
	uint64_t		dropped[DROP_MAX];
	struct iface_total	*ended;
	size_t			nended, cap;
	uint64_t		scrapes;
	double			start_time;	/* process_start_time_seconds */
};

/* When this process started, in seconds since the epoch (/proc). */
static double process_start_time(void)
{
	unsigned long long start = 0;
	double btime = 0;
	char line[256];
	FILE *p;

	if ((p = fopen("/proc/stat", "r"))) {
		while (fgets(line, sizeof(line), p))
			if (sscanf(line, "btime %lf", &btime) == 1)
				break;
		fclose(p);
	}
	if ((p = fopen("/proc/self/stat", "r"))) {
		/* field 22 is starttime; comm (field 2) may hold spaces: skip past ')' */
		if (fgets(line, sizeof(line), p)) {
			char *s = strrchr(line, ')');

			if (s)
				sscanf(s + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %*u %*u %*d "
					      "%*d %*d %*d %*d %*d %llu", &start);
		}
		fclose(p);
	}
	return btime + (double)start / sysconf(_SC_CLK_TCK);
}

static int metrics__start(struct np_daemon *d)
{
	struct epoll_event ev = { .events = EPOLLIN };
	const struct sockaddr_storage *ss = &d->metrics_ss;
	struct metrics *m;
	int one = 1, zero = 0, i;

	if (!d->metrics_addr)
		return 0;
	m = calloc(1, sizeof(*m));
	if (!m)
		return -ENOMEM;
	for (i = 0; i < MAX_CONNS; i++)
		m->c[i].fd = -1;
	m->start_time = process_start_time();
	m->lfd = socket(ss->ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (m->lfd < 0)
		goto err;
	setsockopt(m->lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (ss->ss_family == AF_INET6)	/* "[::]:PORT" and ":PORT" serve IPv4 too */
		setsockopt(m->lfd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero));
	if (bind(m->lfd, (const struct sockaddr *)ss, d->metrics_sslen) || listen(m->lfd, 128))
		goto err;
	ev.data.ptr = &m->lfd;
	if (epoll_ctl(d->epfd, EPOLL_CTL_ADD, m->lfd, &ev))
		goto err;
	m->tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	ev.data.ptr = &m->tfd;
	if (m->tfd < 0 || epoll_ctl(d->epfd, EPOLL_CTL_ADD, m->tfd, &ev))
		goto err;
	d->metrics = m;
	pr_info("metrics: serving Prometheus text on http://%s/metrics\n", d->metrics_addr);
	return 0;
err:
	i = -errno;
	if (m->lfd >= 0)
		close(m->lfd);
	if (m->tfd > 0)
		close(m->tfd);
	free(m);
	return i;
}

/* The deadline timer ticks while a connection is open. */
static void timer_arm(struct metrics *m, int on)
{
	struct itimerspec its = {};

	if (on) {
		its.it_value.tv_nsec = TIMER_NS;
		its.it_interval.tv_nsec = TIMER_NS;
	}
	timerfd_settime(m->tfd, 0, &its, NULL);
}

static void conn_close(struct np_daemon *d, struct mconn *c)
{
	struct metrics *m = d->metrics;

	epoll_ctl(d->epfd, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	free(c->req);
	free(c->resp);
	c->fd = -1;
	c->req = c->resp = NULL;
	c->req_len = c->resp_len = c->resp_off = 0;
	if (--m->nconns == 0)
		timer_arm(m, 0);
}

static void metrics__stop(struct np_daemon *d)
{
	struct metrics *m = d->metrics;
	int i;

	if (!m)
		return;
	for (i = 0; i < MAX_CONNS; i++)
		if (m->c[i].fd >= 0)
			conn_close(d, &m->c[i]);
	close(m->lfd);
	close(m->tfd);
	free(m->ended);
	free(m);
	d->metrics = NULL;
}

/* ---- per-interface totals ---- */

static struct iface_total *iface_find(struct iface_total *v, size_t n, uint32_t netns_ino,
				      uint32_t ifindex)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (v[i].netns_ino == netns_ino && v[i].ifindex == ifindex)
			return &v[i];
	return NULL;
}

static struct iface_total *iface_total(struct metrics *m, uint32_t netns_ino, uint32_t ifindex)
{
	struct iface_total *t = iface_find(m->ended, m->nended, netns_ino, ifindex);

	if (t)
		return t;
	if (ARRAY_GROW(m->ended, m->cap, m->nended + 1, 16))
		return NULL;
	t = &m->ended[m->nended++];
	memset(t, 0, sizeof(*t));
	t->netns_ino = netns_ino;
	t->ifindex = ifindex;
	return t;
}

/* Name an interface from netprofd's ifaces map; keeps the old name if gone. */
static void iface_name(struct np_daemon *d, struct iface_total *t)
{
	struct iface_key k = { .netns_ino = t->netns_ino, .ifindex = t->ifindex };
	struct iface_info ii;

	if (bpf_map_lookup_elem(d->ifaces_fd, &k, &ii) == 0) {
		memcpy(t->name, ii.name, sizeof(t->name));
		t->name[sizeof(t->name) - 1] = 0;
		memcpy(t->netns, ii.netns, sizeof(t->netns));
		t->netns[sizeof(t->netns) - 1] = 0;
	} else if (!t->name[0]) {
		snprintf(t->name, sizeof(t->name), "if%u", t->ifindex);
	}
}

static void metrics__flow_ended(struct np_daemon *d, const struct flow_key *k,
			 const struct flow_record *r)
{
	struct iface_total *t;

	if (!d->metrics || !(t = iface_total(d->metrics, k->netns_ino, k->ifindex)))
		return;
	if (!t->name[0])
		iface_name(d, t);
	t->packets += r->packets[0] + r->packets[1];
	t->bytes += r->bytes[0] + r->bytes[1];
}

/* ---- exposition ---- */

/* An edge as exported: its labels, its sums. */
struct medge {
	const char		*client, *server;
	struct svc_edge		e;
};

static int cmp_medge(const void *pa, const void *pb)
{
	const struct medge *a = pa, *b = pb;
	int c = strcmp(a->client, b->client);

	return c ? c : strcmp(a->server, b->server);
}

static void edge_merge(struct svc_edge *dst, const struct svc_edge *src)
{
	int i;

	dst->conns += src->conns;
	dst->open += src->open;
	for (i = 0; i < SOCK_END_MAX; i++)
		dst->ended[i] += src->ended[i];
	dst->bytes_c2s += src->bytes_c2s;
	dst->bytes_s2c += src->bytes_s2c;
	dst->retrans += src->retrans;
	dst->rtt_samples += src->rtt_samples;
	dst->rtt_sum_us += src->rtt_sum_us;
	for (i = 0; i < RTT_HIST_BUCKETS; i++)
		dst->rtt_hist[i] += src->rtt_hist[i];
}

/* {client="..",server=".."[,extra]} */
static void edge_labels(FILE *f, const struct medge *x, const char *extra)
{
	fputs("{client=\"", f);
	prom_label_value(f, x->client);
	fputs("\",server=\"", f);
	prom_label_value(f, x->server);
	fprintf(f, "\"%s%s}", extra ? "," : "", extra ? extra : "");
}

static void edge_sample(FILE *f, const char *name, const struct medge *x, const char *extra,
			uint64_t v)
{
	fputs(name, f);
	edge_labels(f, x, extra);
	fprintf(f, " %llu\n", (unsigned long long)v);
}

static void write_edges(struct np_daemon *d, FILE *f)
{
	struct svc_map sm = {};
	struct medge *v = NULL;
	size_t i, n = 0;
	int b;

	if (d->conn_agg_fd < 0)		/* --no-sockets: no service map */
		return;
	if (svcmap_build(d->conn_agg_fd, d->socks_fd, d->cgroup_names_fd, now_mono_ns(), &sm))
		goto out;
	v = calloc(sm.nedges ? sm.nedges : 1, sizeof(*v));
	if (!v)
		goto out;
	for (i = 0; i < sm.nedges; i++) {
		const struct svc_node *c = &sm.nodes[sm.edges[i].client];

		v[i].client = c->kind == SVC_REMOTE && !d->metrics_peers ? "remote" : c->name;
		v[i].server = sm.nodes[sm.edges[i].server].name;
		v[i].e = sm.edges[i];
	}
	sort_n(v, sm.nedges, sizeof(*v), cmp_medge);
	for (i = 0; i < sm.nedges; i++) {
		if (n && !cmp_medge(&v[n - 1], &v[i]))
			edge_merge(&v[n - 1].e, &v[i].e);
		else
			v[n++] = v[i];
	}

	prom_family(f, "netprof_edge_connections_total", "counter",
	       "TCP connections opened from client to server service (ended + open).");
	for (i = 0; i < n; i++)
		edge_sample(f, "netprof_edge_connections_total", &v[i], NULL, v[i].e.conns);
	prom_family(f, "netprof_edge_open_connections", "gauge", "TCP connections open now.");
	for (i = 0; i < n; i++)
		edge_sample(f, "netprof_edge_open_connections", &v[i], NULL, v[i].e.open);
	prom_family(f, "netprof_edge_failed_connections_total", "counter",
	       "Connections that failed: refused, reset (sent or received) or timed out.");
	for (i = 0; i < n; i++) {
		const uint64_t *end = v[i].e.ended;

		edge_sample(f, "netprof_edge_failed_connections_total", &v[i], "reason=\"refused\"",
			    end[SOCK_END_REFUSED]);
		edge_sample(f, "netprof_edge_failed_connections_total", &v[i], "reason=\"reset\"",
			    end[SOCK_END_RST_SENT] + end[SOCK_END_RST_RECV]);
		edge_sample(f, "netprof_edge_failed_connections_total", &v[i], "reason=\"timeout\"",
			    end[SOCK_END_TIMEOUT]);
	}
	prom_family(f, "netprof_edge_bytes_total", "counter",
	       "TCP payload bytes, acknowledged (client to server) or received (server to client).");
	for (i = 0; i < n; i++) {
		edge_sample(f, "netprof_edge_bytes_total", &v[i], "direction=\"client_to_server\"",
			    v[i].e.bytes_c2s);
		edge_sample(f, "netprof_edge_bytes_total", &v[i], "direction=\"server_to_client\"",
			    v[i].e.bytes_s2c);
	}
	prom_family(f, "netprof_edge_retransmitted_segments_total", "counter",
	       "TCP segments retransmitted by either end, where that end is followed.");
	for (i = 0; i < n; i++)
		edge_sample(f, "netprof_edge_retransmitted_segments_total", &v[i], NULL, v[i].e.retrans);
	prom_family(f, "netprof_edge_rtt_seconds", "histogram",
	       "TCP RTT samples of both ends (the kernel's per-ACK measurement), in seconds.");
	for (i = 0; i < n; i++) {
		uint64_t cum = 0;
		char le[32];

		/* bucket b holds [2^b, 2^(b+1)) µs (bucket 0: below 2 µs) */
		for (b = 0; b < RTT_HIST_BUCKETS; b++) {
			cum += v[i].e.rtt_hist[b];
			snprintf(le, sizeof(le), "le=\"%.6g\"", (double)(2ULL << b) / 1e6);
			edge_sample(f, "netprof_edge_rtt_seconds_bucket", &v[i], le, cum);
		}
		edge_sample(f, "netprof_edge_rtt_seconds_bucket", &v[i], "le=\"+Inf\"", v[i].e.rtt_samples);
		fputs("netprof_edge_rtt_seconds_sum", f);
		edge_labels(f, &v[i], NULL);
		fprintf(f, " %.9g\n", v[i].e.rtt_sum_us / 1e6);
		edge_sample(f, "netprof_edge_rtt_seconds_count", &v[i], NULL, v[i].e.rtt_samples);
	}
out:
	free(v);
	svcmap_free(&sm);
}

static void iface_series(FILE *f, const char *name, const char *help,
			 const struct iface_total *t, size_t n, int bytes)
{
	size_t i;

	prom_family(f, name, "counter", help);
	for (i = 0; i < n; i++) {
		fprintf(f, "%s{netns=\"", name);
		prom_label_value(f, t[i].netns);
		fputs("\",interface=\"", f);
		prom_label_value(f, t[i].name);
		fprintf(f, "\"} %llu\n", (unsigned long long)(bytes ? t[i].bytes : t[i].packets));
	}
}

/* What the sweep retired plus the live flows (ft), per interface. */
static void write_interfaces(struct np_daemon *d, FILE *f, const struct flow_table *ft)
{
	struct metrics *m = d->metrics;
	struct iface_total *cur;
	size_t i, n = m->nended;

	cur = calloc(n + ft->n + 1, sizeof(*cur));
	if (!cur)
		return;
	if (n)	/* m->ended is NULL until the first */
		memcpy(cur, m->ended, n * sizeof(*cur));
	for (i = 0; i < ft->n; i++) {
		const struct flow_entry *e = &ft->v[i];
		struct iface_total *t = iface_find(cur, n, e->key.netns_ino, e->key.ifindex);

		if (!t) {
			t = &cur[n++];
			t->netns_ino = e->key.netns_ino;
			t->ifindex = e->key.ifindex;
			iface_name(d, t);
		}
		t->packets += e->rec.packets[0] + e->rec.packets[1];
		t->bytes += e->rec.bytes[0] + e->rec.bytes[1];
	}
	iface_series(f, "netprof_interface_packets_total",
		     "IP packets counted into flows on the interface, both directions.", cur, n, 0);
	iface_series(f, "netprof_interface_bytes_total",
		     "Bytes of those packets (wire length), both directions.", cur, n, 1);
	free(cur);
}

static void map_fill(FILE *f, const char *map, long entries, uint32_t max)
{
	fprintf(f, "netprof_map_entries{map=\"%s\"} %ld\n", map, entries);
	fprintf(f, "netprof_map_max_entries{map=\"%s\"} %u\n", map, max);
}

/* A PERCPU_ARRAY of counters, one metric per named slot. */
/* The kernel side's counters (lib/stats.h): netprof_NAME_total each. */
static void stat_counters(FILE *f, const char *pin_dir, const struct stat_set *set)
{
	int fd = pins_open_map(pin_dir, set->map, 1);
	uint64_t v[64] = {};
	char metric[96];
	unsigned int i;

	if (fd < 0 || set->n > 64 || percpu_array_sum(fd, v, set->n))
		goto out;
	for (i = 0; i < set->n; i++) {
		snprintf(metric, sizeof(metric), "netprof_%s_total", set->rows[i].name);
		prom_write(f, metric, "counter", set->rows[i].help, v[i]);
	}
out:
	if (fd >= 0)
		close(fd);
}

static void write_process(struct metrics *m, FILE *f)
{
	long pages_total = 0, pages_rss = 0, page = sysconf(_SC_PAGESIZE);
	struct rusage ru;
	struct rlimit rl;
	struct dirent *de;
	FILE *p;
	DIR *dir;
	int fds = 0;

	getrusage(RUSAGE_SELF, &ru);
	prom_write(f, "process_cpu_seconds_total", "counter", "netprofd's user and system CPU time.",
	       ru.ru_utime.tv_sec + ru.ru_stime.tv_sec +
	       (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6);
	if ((p = fopen("/proc/self/statm", "r"))) {
		if (fscanf(p, "%ld %ld", &pages_total, &pages_rss) != 2)
			pages_total = pages_rss = 0;
		fclose(p);
	}
	prom_write(f, "process_resident_memory_bytes", "gauge", "netprofd's resident memory.",
	       (double)pages_rss * page);
	prom_write(f, "process_virtual_memory_bytes", "gauge", "netprofd's virtual memory.",
	       (double)pages_total * page);
	prom_write(f, "process_start_time_seconds", "gauge", "When netprofd started, since the epoch.",
	       m->start_time);
	if ((dir = opendir("/proc/self/fd"))) {
		while ((de = readdir(dir)))
			fds += de->d_name[0] != '.';
		closedir(dir);
		fds--;		/* the directory's own */
	}
	prom_write(f, "process_open_fds", "gauge", "netprofd's open file descriptors.", fds);
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0)
		prom_write(f, "process_max_fds", "gauge", "netprofd's file descriptor limit.",
		       (double)rl.rlim_cur);
}

/* One series per capability, its state as a label: which numbers this host can give. */
static void write_caps(struct np_daemon *d, FILE *f)
{
	unsigned int i;

	prom_family(f, "netprof_capability", "gauge",
	       "1 for each capability's state on this kernel (active, degraded, off, unavailable; netprof status says why).");
	for (i = 0; i < NP_CAP_MAX; i++)
		fprintf(f, "netprof_capability{capability=\"%s\",state=\"%s\"} 1\n", np_cap_name(i),
			np_cap_state_name(d->caps[i].state));
}

/* Where each followed interface counts ingress, and why (netprof status's WHY). */
static void write_hooks(struct np_daemon *d, FILE *f)
{
	struct np_netns *ns;
	struct np_iface *i;
	char hooks[96];

	prom_family(f, "netprof_interface_hooks", "gauge",
		    "1 for each followed interface: its hooks and why ingress counts there.");
	for (ns = d->netns; ns; ns = ns->next)
		for (i = ns->ifaces; i; i = i->next) {
			fputs("netprof_interface_hooks{netns=\"", f);
			prom_label_value(f, ns->name);
			fputs("\",interface=\"", f);
			prom_label_value(f, i->name);
			fputs("\",hooks=\"", f);
			prom_label_value(f, fmt_iface_hooks(hooks, sizeof(hooks), i->attach));
			fputs("\",why=\"", f);
			prom_label_value(f, iface_why_str(i->why));
			fputs("\"} 1\n", f);
		}
}

static void write_health(struct np_daemon *d, FILE *f, long live_flows)
{
	const struct np_module *mod;
	unsigned int i;

	write_caps(d, f);
	write_hooks(d, f);
	prom_family(f, "netprof_map_entries", "gauge", "Entries in netprof's BPF maps.");
	prom_family(f, "netprof_map_max_entries", "gauge", "Their capacity.");
	map_fill(f, "flows", live_flows, map_max_entries(d->flows_fd));
	map_fill(f, "flows_ended", map_count_entries(d->ended_fd), map_max_entries(d->ended_fd));
	if (d->socks_fd >= 0)
		map_fill(f, "sockets", map_count_entries(d->socks_fd), map_max_entries(d->socks_fd));
	if (d->conn_agg_fd >= 0)
		map_fill(f, "conn_agg", map_count_entries(d->conn_agg_fd),
			 map_max_entries(d->conn_agg_fd));
	prom_write(f, "netprof_interfaces_attached", "gauge", "Interfaces netprofd's programs are on.",
	       d->info.ifaces);
	prom_write(f, "netprof_flows_expired_total", "counter",
	       "Flows moved from the live table to the ended table.", d->info.flows_expired);
	for (i = 0; i < info_gone_n; i++)
		prom_write(f, info_gone_rows[i].metric, "counter", info_gone_rows[i].help,
			   info_counter_get(&d->info, &info_gone_rows[i]));
	for (i = 0; i < np_n_stat_sets; i++)
		stat_counters(f, d->pin_dir, &np_stat_sets[i]);
	for_each_module(i, mod)
		if (mod->metrics)
			mod->metrics(d, f);
	prom_write(f, "netprof_scrapes_total", "counter", "Scrapes served, this one included.",
	       d->metrics->scrapes);
	prom_family(f, "netprof_http_dropped_total", "counter",
		    "Connections to this endpoint closed before their answer was out, by reason.");
	for (i = 0; i < DROP_MAX; i++)
		fprintf(f, "netprof_http_dropped_total{reason=\"%s\"} %llu\n", drop_reason[i],
			(unsigned long long)d->metrics->dropped[i]);
	write_process(d->metrics, f);
}

static char *render(struct np_daemon *d, size_t *len)
{
	struct flow_table live = {};
	char *buf = NULL;
	FILE *f = open_memstream(&buf, len);
	int err;

	if (!f)
		return NULL;
	d->metrics->scrapes++;
	prom_family(f, "netprof_build_info", "gauge", "Always 1; netprof's version as a label.");
	fprintf(f, "netprof_build_info{version=\"%d\"} 1\n", NETPROF_VERSION);
	write_edges(d, f);
	err = flowtab_read_live(d->flows_fd, &live);
	if (!err)
		write_interfaces(d, f, &live);
	write_health(d, f, err ? map_count_entries(d->flows_fd) : (long)live.n);
	flowtab_free(&live);
	if (fclose(f)) {
		free(buf);
		return NULL;
	}
	return buf;
}

/* ---- HTTP ---- */

static void respond(struct np_daemon *d, struct mconn *c, const char *status, const char *type,
		    char *body, size_t body_len)
{
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);

	if (f) {
		fprintf(f, "HTTP/1.1 %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
			   "Connection: close\r\n\r\n", status, type, body_len);
		if (body_len)
			fwrite(body, 1, body_len, f);
		fclose(f);
	}
	free(body);
	free(c->req);
	c->req = NULL;
	c->resp = out;
	c->resp_len = out ? len : 0;
	c->resp_off = 0;
	c->deadline_ns = now_mono_ns() + RESP_DEADLINE_NS;
	if (!out) {
		conn_close(d, c);
		return;
	}
	{
		struct epoll_event ev = { .events = EPOLLOUT, .data.ptr = c };

		epoll_ctl(d->epfd, EPOLL_CTL_MOD, c->fd, &ev);
	}
}

static void handle_request(struct np_daemon *d, struct mconn *c, enum http_verdict v, int head)
{
	size_t len;
	char *body;

	switch (v) {
	case HTTP_METRICS:
		body = render(d, &len);
		if (!body) {
			respond(d, c, "500 Internal Server Error", "text/plain", strdup("out of memory\n"), 14);
			return;
		}
		respond(d, c, "200 OK", "text/plain; version=0.0.4; charset=utf-8", body, head ? 0 : len);
		return;
	case HTTP_INDEX:
		body = strdup("<html><body><a href=\"/metrics\">netprofd metrics</a></body></html>\n");
		respond(d, c, "200 OK", "text/html", body, body ? strlen(body) : 0);
		return;
	case HTTP_NOT_FOUND:
		respond(d, c, "404 Not Found", "text/plain", strdup("not found: try /metrics\n"), 24);
		return;
	case HTTP_METHOD:
		respond(d, c, "405 Method Not Allowed", "text/plain", strdup("GET only\n"), 9);
		return;
	default:
		respond(d, c, "400 Bad Request", "text/plain", strdup("bad request\n"), 12);
		return;
	}
}

static void conn_read(struct np_daemon *d, struct mconn *c)
{
	ssize_t n = read(c->fd, c->req + c->req_len, REQ_MAX - 1 - c->req_len);
	enum http_verdict v;
	int head;

	if (n <= 0) {
		if (n == 0 || (errno != EAGAIN && errno != EINTR))
			conn_close(d, c);
		return;
	}
	c->req_len += n;
	v = http_request(c->req, c->req_len, &head);
	if (v != HTTP_INCOMPLETE)
		handle_request(d, c, v, head);
	else if (c->req_len == REQ_MAX - 1)
		respond(d, c, "431 Request Header Fields Too Large", "text/plain", NULL, 0);
}

static void conn_write(struct np_daemon *d, struct mconn *c)
{
	ssize_t n = write(c->fd, c->resp + c->resp_off, c->resp_len - c->resp_off);

	if (n < 0) {
		if (errno != EAGAIN && errno != EINTR)
			conn_close(d, c);
		return;
	}
	c->resp_off += n;
	if (c->resp_off == c->resp_len)
		conn_close(d, c);
}

/*
 * A slot for a new connection: a free one, else the oldest connection still
 * sending its request (else the oldest of all), closed and counted.
 */
static struct mconn *conn_slot(struct np_daemon *d)
{
	struct metrics *m = d->metrics;
	struct mconn *old = NULL, *c;

	for (c = m->c; c < m->c + MAX_CONNS; c++) {
		if (c->fd < 0)
			return c;
		if (!old || (!c->resp && old->resp) ||
		    (!c->resp == !old->resp && c->opened_ns < old->opened_ns))
			old = c;
	}
	m->dropped[DROP_REPLACED]++;
	conn_close(d, old);
	return old;
}

static void accept_conns(struct np_daemon *d)
{
	struct metrics *m = d->metrics;
	struct mconn *c;
	int fd;

	while ((fd = accept4(m->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0) {
		struct epoll_event ev = { .events = EPOLLIN };

		c = conn_slot(d);
		c->req = malloc(REQ_MAX);
		ev.data.ptr = c;
		if (!c->req || epoll_ctl(d->epfd, EPOLL_CTL_ADD, fd, &ev)) {
			free(c->req);
			c->req = NULL;
			close(fd);
			continue;
		}
		c->fd = fd;
		c->opened_ns = now_mono_ns();
		c->deadline_ns = c->opened_ns + REQ_DEADLINE_NS;
		if (m->nconns++ == 0)
			timer_arm(m, 1);
	}
}

/* The deadline timer: close connections past theirs. */
static void expire_conns(struct np_daemon *d)
{
	struct metrics *m = d->metrics;
	uint64_t ticks, now = now_mono_ns();
	int i;

	if (read(m->tfd, &ticks, sizeof(ticks)) < 0 && errno != EAGAIN)
		return;
	for (i = 0; i < MAX_CONNS; i++) {
		struct mconn *c = &m->c[i];

		if (c->fd < 0 || now < c->deadline_ns)
			continue;
		m->dropped[c->resp ? DROP_RESP_DEADLINE : DROP_REQ_DEADLINE]++;
		conn_close(d, c);
	}
}

static int metrics__event(struct np_daemon *d, void *ptr, uint32_t events)
{
	struct metrics *m = d->metrics;
	struct mconn *c = ptr;

	if (!m)
		return 0;
	if (ptr == &m->lfd) {
		accept_conns(d);
		return 1;
	}
	if (ptr == &m->tfd) {
		expire_conns(d);
		return 1;
	}
	if (c < m->c || c >= m->c + MAX_CONNS)
		return 0;
	if (c->fd < 0)
		return 1;
	if (events & (EPOLLERR | EPOLLHUP))
		conn_close(d, c);
	else if (c->resp)
		conn_write(d, c);
	else
		conn_read(d, c);
	return 1;
}

static const char *metrics_off(const struct np_daemon *d)
{
	return d->metrics_addr ? NULL : "no --metrics";
}

static int metrics_start(struct np_daemon *d)
{
	int err = metrics__start(d);

	if (err)
		pr_err("--metrics %s: cannot listen: %s (is the port taken? try another)",
		       d->metrics_addr, strerror(-err));
	else if (d->metrics_addr)
		cap_set(d, NP_CAP_METRICS, NP_CAP_ACTIVE, "");
	return err;
}

static int set_metrics(struct np_daemon *d, const char *arg)
{
	if (parse_host_port(arg, "127.0.0.1", 1, &d->metrics_ss, &d->metrics_sslen)) {
		pr_err("--metrics '%s': give PORT, ADDR:PORT or [IPV6]:PORT with a numeric address (e.g. 127.0.0.1:9464)",
		       arg);
		return -EINVAL;
	}
	d->metrics_addr = arg;
	return 0;
}

static const struct np_option metrics_options[] = {
	{ "metrics", 0, "ADDR:PORT", "serve Prometheus metrics on http://ADDR:PORT/metrics\n"
	  "(PORT alone: 127.0.0.1; :PORT: every address)", set_metrics },
	OPT_FLAG("metrics-peers", "label remote clients by address (default: \"remote\")", metrics_peers),
	{}
};

const struct np_module metrics_module = {
	.name = "metrics",
	.cap = NP_CAP_METRICS,
	.options = metrics_options,
	.early = 1,
	.off = metrics_off,
	.start = metrics_start,
	.stop = metrics__stop,
	.flow_ended = metrics__flow_ended,
	.event = metrics__event,
};
