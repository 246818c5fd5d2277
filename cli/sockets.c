// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * netprof sockets: TCP sockets of the followed cgroup, like `ss -ti` but
 * with the owning process and cgroup on both ends of a connection, RTT
 * percentiles from the in-kernel histogram, and closed sockets kept for a
 * while. Two text lines per socket (as ss -ti), one JSON object.
 */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <bpf/bpf.h>
#include "grow.h"
#include "cli.h"
#include "filter.h"
#include "flow.h"
#include "format.h"
#include "json.h"
#include "log.h"
#include "pins.h"
#include "socktab.h"
#include "cgroup.h"

static const char sockets_usage[] =
"Usage: netprof sockets [OPTIONS] [FILTER]\n"
"TCP sockets with their process, cgroup, RTT, retransmits and bytes.\n"
"FILTER is a tcpdump expression over the socket's addresses and ports.\n"
"\n"
"  -s, --sort KEY       age|rtt|retrans|bytes (default age: oldest first)\n"
"  -n, --limit N        show the first N\n"
"  -p, --pid PID        only sockets owned by process PID\n"
"  -c, --cgroup PATH    only sockets of this cgroup (and below)\n"
"  -S, --state STATE    open, closed, or a TCP state (ESTAB, SYN-SENT, ...)\n"
"  -w, --watch SECONDS  refresh every SECONDS\n"
"  -H, --hist           RTT histogram of the selected sockets, as bars\n"
"  -j, --json           JSON\n"
"  -h, --help           this text\n";

enum ssort { SS_AGE, SS_RTT, SS_RETRANS, SS_BYTES };

struct sockets_opts {
	enum ssort		sort;
	long			limit;
	long			pid;
	const char		*cgroup;
	int			state;		/* -1 any, -2 open, else a TCP state */
	uint64_t		watch_ns;
	int			hist;
	struct flow_filter	*filter;
};

struct cgroup_cache {
	int	fd;		/* pinned cgroup_names map, -1 if none */
};

static const char *cgroup_name(const struct cgroup_cache *c, uint64_t id, char *buf, size_t len)
{
	return cgroup_name_lookup(c->fd, id, buf, len);
}

static enum ssort g_ssort;

static int cmp_socks(const void *pa, const void *pb)
{
	const struct sock_record *a = &((const struct sock_entry *)pa)->r;
	const struct sock_record *b = &((const struct sock_entry *)pb)->r;
	double x = 0, y = 0;

	switch (g_ssort) {
	case SS_AGE:
		x = -(double)a->connect_ns, y = -(double)b->connect_ns;
		break;
	case SS_RTT:
		x = a->srtt_us, y = b->srtt_us;
		break;
	case SS_RETRANS:
		x = a->total_retrans, y = b->total_retrans;
		break;
	case SS_BYTES:
		x = (double)a->bytes_acked + a->bytes_received;
		y = (double)b->bytes_acked + b->bytes_received;
		break;
	}
	return x < y ? 1 : x > y ? -1 : 0;
}

static char *fmt_us(char *buf, size_t len, double us)
{
	return fmt_duration(buf, len, (uint64_t)(us * 1000));
}

static void print_sock(struct json_writer *jw, const struct sock_entry *e, uint64_t now,
		       const struct cgroup_cache *cc)
{
	const struct sock_record *r = &e->r;
	char la[64], ra[64], proc[48], cg[256], b1[32], b2[32], b3[32], b4[32], b5[32], b6[32];
	char b7[32];
	const char *cgp = cgroup_name(cc, r->owner.cgroup_id, cg, sizeof(cg));
	uint64_t end = r->closed_ns ? r->closed_ns : now;
	/* a socket found by the start-up scan has no known start */
	uint64_t age = r->connect_ns && end > r->connect_ns ? end - r->connect_ns : 0;
	const char *state = r->closed_ns ? sock_end_name(r->end_reason) : tcp_state_name(r->state);
	char comm[17];

	memcpy(comm, r->owner.comm, 16);
	comm[16] = '\0';
	if (r->owner.tgid)
		snprintf(proc, sizeof(proc), "%s[%u]", comm, r->owner.tgid);
	else
		snprintf(proc, sizeof(proc), "-");

	if (!jw) {
		fmt_endpoint(la, sizeof(la), r->laddr, r->lport, r->family, 1);
		fmt_endpoint(ra, sizeof(ra), r->raddr, r->rport, r->family, 1);
		printf("%-12s %-22s %-22s %-6s %-18s %s\n", state, la, ra,
		       sock_role_name(r->role), proc, cgp ? cgp : "-");
		printf("\trtt %s/%s p50 %s p99 %s retrans %u sent %s recv %s age %s%s\n",
		       fmt_us(b1, sizeof(b1), r->srtt_us), fmt_us(b2, sizeof(b2), r->min_rtt_us),
		       r->rtt_samples ? fmt_us(b3, sizeof(b3), rtt_percentile(r, 0.5)) : "-",
		       r->rtt_samples ? fmt_us(b4, sizeof(b4), rtt_percentile(r, 0.99)) : "-",
		       sock_retrans(r), fmt_bytes(b5, sizeof(b5), r->bytes_acked),
		       fmt_bytes(b6, sizeof(b6), r->bytes_received),
		       age ? fmt_duration(b7, sizeof(b7), age) : "-", r->closed_ns ? " closed" : "");
		return;
	}
	jw_object_start(jw, NULL);
	jw_u64(jw, "cookie", e->cookie);
	jw_str(jw, "state", r->closed_ns ? "CLOSED" : tcp_state_name(r->state));
	jw_str(jw, "end_reason", r->closed_ns ? sock_end_name(r->end_reason) : "");
	jw_str(jw, "role", sock_role_name(r->role));
	jw_u64(jw, "family", r->family);
	jw_str(jw, "local", fmt_addr(la, sizeof(la), r->laddr, r->family));
	jw_u64(jw, "local_port", r->lport);
	jw_str(jw, "remote", fmt_addr(ra, sizeof(ra), r->raddr, r->family));
	jw_u64(jw, "remote_port", r->rport);
	jw_u64(jw, "netns_ino", r->netns_ino);
	jw_u64(jw, "pid", r->owner.tgid);
	jw_str(jw, "comm", comm);
	jw_u64(jw, "uid", r->owner.uid);
	jw_u64(jw, "cgroup_id", r->owner.cgroup_id);
	if (cgp)
		jw_str(jw, "cgroup", cgp);
	else
		jw_null(jw, "cgroup");
	jw_str(jw, "owner_source", owner_source_name(r->owner.source));
	jw_u64(jw, "srtt_us", r->srtt_us);
	jw_u64(jw, "min_rtt_us", r->min_rtt_us);
	jw_double(jw, "rtt_p50_us", rtt_percentile(r, 0.5));
	jw_double(jw, "rtt_p90_us", rtt_percentile(r, 0.9));
	jw_double(jw, "rtt_p99_us", rtt_percentile(r, 0.99));
	jw_u64(jw, "rtt_samples", r->rtt_samples);
	jw_u64(jw, "rtt_sum_us", r->rtt_sum_us);
	jw_array_start(jw, "rtt_hist");
	for (int i = 0; i < RTT_HIST_BUCKETS; i++)
		jw_u64(jw, NULL, r->rtt_hist[i]);
	jw_array_end(jw);
	jw_u64(jw, "total_retrans", sock_retrans(r));
	jw_u64(jw, "bytes_acked", r->bytes_acked);
	jw_u64(jw, "bytes_received", r->bytes_received);
	jw_u64(jw, "payload_sent", sock_payload_sent(r));
	jw_u64(jw, "payload_received", sock_payload_received(r));
	jw_u64(jw, "segs_in", r->segs_in);
	jw_u64(jw, "segs_out", r->segs_out);
	jw_u64(jw, "connect_ns", r->connect_ns);
	jw_u64(jw, "established_ns", r->established_ns);
	jw_u64(jw, "closed_ns", r->closed_ns);
	jw_u64(jw, "age_ns", age);
	jw_bool(jw, "existed_before_netprofd", !!(r->flags & SOCK_F_SCANNED));
	jw_object_end(jw);
}

/* bcc-style bars: one row per non-empty bucket range */
static void print_hist(struct json_writer *jw, const uint32_t *h, size_t nsocks)
{
	uint64_t total = 0, max = 0;
	int i, lo = -1, hi = -1;

	for (i = 0; i < RTT_HIST_BUCKETS; i++) {
		total += h[i];
		if (h[i] > max)
			max = h[i];
		if (h[i] && lo < 0)
			lo = i;
		if (h[i])
			hi = i;
	}
	if (jw) {
		jw_object_start(jw, NULL);
		jw_u64(jw, "sockets", nsocks);
		jw_u64(jw, "samples", total);
		jw_array_start(jw, "buckets");
		for (i = 0; i < RTT_HIST_BUCKETS; i++) {
			jw_object_start(jw, NULL);
			jw_u64(jw, "low_us", i ? 1ULL << i : 0);
			jw_u64(jw, "high_us", 2ULL << i);
			jw_u64(jw, "count", h[i]);
			jw_object_end(jw);
		}
		jw_array_end(jw);
		jw_object_end(jw);
		return;
	}
	printf("RTT of %zu socket%s, %llu samples\n", nsocks, nsocks == 1 ? "" : "s",
	       (unsigned long long)total);
	if (!total)
		return;
	printf("%23s : %-8s %s\n", "µs", "count", "distribution");	/* µ takes 2 bytes */
	for (i = lo; i <= hi; i++) {
		char bar[41];
		int w = max ? (int)((h[i] * 40 + max - 1) / max) : 0;

		memset(bar, '*', w);
		memset(bar + w, ' ', 40 - w);
		bar[40] = '\0';
		printf("%10llu -> %-9llu : %-8u |%s|\n", i ? 1ULL << i : 0ULL,
		       (2ULL << i) - 1, h[i], bar);
	}
}

static int selected(const struct sockets_opts *o, const struct sock_record *r,
		    const struct cgroup_cache *cc)
{
	struct flow_key k;
	char cg[256];
	const char *p;

	if (o->pid >= 0 && r->owner.tgid != (uint32_t)o->pid)
		return 0;
	if (o->state == -2 && r->closed_ns)
		return 0;
	if (o->state >= 0 && (r->closed_ns ? 7 : r->state) != o->state)
		return 0;
	if (o->cgroup) {
		p = cgroup_name(cc, r->owner.cgroup_id, cg, sizeof(cg));
		if (!cgroup_path_under(p, o->cgroup))
			return 0;
	}
	sock_flow_key(r, &k);
	return flow_filter__match(o->filter, &k);
}

static int show(const struct sockets_opts *o, int socks_fd, int closed_fd, uint64_t keep_ns,
		const struct cgroup_cache *cc)
{
	struct sock_table st;
	struct json_writer *jw = NULL;
	uint64_t now = now_mono_ns();
	uint32_t hist[RTT_HIST_BUCKETS] = {};
	size_t i, n = 0, shown;
	int err;

	err = socktab_read(socks_fd, &st);
	if (!err && closed_fd >= 0 && o->state != -2)
		err = socktab_append_closed(closed_fd, keep_ns, &st);
	if (err) {
		if (err == -EPROTO)
			pr_err("the pinned closed-socket ring was made by another netprof version: run 'netprofd --remove' and restart netprofd");
		else
			pr_err("cannot read the socket table: %s", strerror(-err));
		return err;
	}
	for (i = 0; i < st.n; i++)
		if (selected(o, &st.v[i].r, cc))
			st.v[n++] = st.v[i];
	g_ssort = o->sort;
	sort_n(st.v, n, sizeof(*st.v), cmp_socks);
	shown = o->limit && (size_t)o->limit < n ? (size_t)o->limit : n;
	if (g.json)
		jw = jw_new(stdout, 0);
	if (o->hist) {
		for (i = 0; i < shown; i++)
			rtt_hist_add(hist, &st.v[i].r);
		print_hist(jw, hist, shown);
	} else {
		if (jw) {
			jw_object_start(jw, NULL);
			jw_u64(jw, "now_ns", now);
			jw_u64(jw, "total", n);
			jw_array_start(jw, "sockets");
		} else {
			printf("%-12s %-22s %-22s %-6s %-18s %s\n", "STATE", "LOCAL", "REMOTE", "ROLE",
			       "PROCESS", "CGROUP");
		}
		for (i = 0; i < shown; i++)
			print_sock(jw, &st.v[i], now, cc);
		if (jw) {
			jw_array_end(jw);
			jw_object_end(jw);
		} else if (shown < n) {
			printf("(%zu of %zu sockets)\n", shown, n);
		}
	}
	jw_free(jw);
	fflush(stdout);
	socktab_free(&st);
	return 0;
}

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	stop = 1;
}

static const struct option sockets_long[] = {
	{ "sort",   required_argument, NULL, 's' },
	{ "limit",  required_argument, NULL, 'n' },
	{ "pid",    required_argument, NULL, 'p' },
	{ "cgroup", required_argument, NULL, 'c' },
	{ "state",  required_argument, NULL, 'S' },
	{ "watch",  required_argument, NULL, 'w' },
	{ "hist",   no_argument,       NULL, 'H' },
	{ "json",   no_argument,       NULL, 'j' },
	{ "help",   no_argument,       NULL, 'h' },
	{}
};

int do_sockets(int argc, char **argv)
{
	struct sockets_opts o = { .pid = -1, .state = -1 };
	struct cgroup_cache cc = { .fd = -1 };
	char *expr = NULL, errbuf[512];
	int fd = -1, closed_fd = -1, opt, err = 1;
	uint64_t keep_ns;
	uint64_t v;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "s:n:p:c:S:w:Hjh", sockets_long, NULL)) != -1) {
		switch (opt) {
		case 's':
			if (!strcmp(optarg, "age"))
				o.sort = SS_AGE;
			else if (!strcmp(optarg, "rtt"))
				o.sort = SS_RTT;
			else if (!strcmp(optarg, "retrans"))
				o.sort = SS_RETRANS;
			else if (!strcmp(optarg, "bytes"))
				o.sort = SS_BYTES;
			else {
				pr_err("--sort '%s': use age, rtt, retrans or bytes", optarg);
				return 2;
			}
			break;
		case 'n':
			if (parse_u64(optarg, &v)) {
				pr_err("-n '%s': give a number of sockets", optarg);
				return 2;
			}
			o.limit = v;
			break;
		case 'p':
			if (parse_u64(optarg, &v) || v > 0x7fffffff) {
				pr_err("--pid '%s': give a process id", optarg);
				return 2;
			}
			o.pid = v;
			break;
		case 'c':
			o.cgroup = optarg;
			break;
		case 'S':
			if (!strcmp(optarg, "open"))
				o.state = -2;
			else if ((o.state = tcp_state_parse(optarg)) < 0) {
				pr_err("--state '%s': use open, closed, or a TCP state (ESTAB, SYN-SENT, FIN-WAIT-1, ...)",
				       optarg);
				return 2;
			}
			break;
		case 'w':
			if (parse_duration(optarg, &o.watch_ns) || o.watch_ns < 100000000ULL) {
				pr_err("--watch '%s': give seconds, at least 0.1", optarg);
				return 2;
			}
			break;
		case 'H':
			o.hist = 1;
			break;
		case 'j':
			g.json = log_json_errors = 1;
			break;
		case 'h':
			fputs(sockets_usage, stdout);
			return 0;
		default:
			fprintf(stderr, "Try 'netprof sockets --help'.\n");
			return 2;
		}
	}
	if (optind < argc) {
		expr = filter_join_args(argc - optind, argv + optind);
		o.filter = expr ? flow_filter__new(expr, 0, errbuf, sizeof(errbuf)) : NULL;
		if (!o.filter) {
			pr_err("bad filter '%s': %s (tcpdump syntax, e.g. 'port 443')", expr ? expr : "",
			       expr ? errbuf : strerror(ENOMEM));
			goto out;
		}
	}
	fd = pins_open_map(g.pin_dir, SOCKS_MAP, 0);
	if (fd < 0)
		goto out;
	closed_fd = pins_open_map(g.pin_dir, SOCKS_CLOSED_MAP, 1);
	keep_ns = socktab_keep_ns(g.pin_dir);
	cc.fd = pins_open_map(g.pin_dir, CGROUP_NAMES_MAP, 1);
	if (!o.watch_ns) {
		err = show(&o, fd, closed_fd, keep_ns, &cc) ? 1 : 0;
		goto out;
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	while (!stop) {
		struct timespec ts = { o.watch_ns / 1000000000ULL, o.watch_ns % 1000000000ULL };

		if (!g.json && isatty(STDOUT_FILENO))
			printf("\033[H\033[2J");
		if (show(&o, fd, closed_fd, keep_ns, &cc))
			goto out;
		nanosleep(&ts, NULL);
	}
	err = 0;
out:
	free(expr);
	flow_filter__free(o.filter);
	if (fd >= 0)
		close(fd);
	if (closed_fd >= 0)
		close(closed_fd);
	if (cc.fd >= 0)
		close(cc.fd);
	return err;
}
