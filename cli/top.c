// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * netprof top: per process and per connection, the CPU the profiler saw
 * beside the bytes per second, RTT and retransmits the socket table has,
 * refreshed like top. CPU comes from the profile journal (samples drained
 * between two refreshes, over the time between those drains); traffic from
 * the open sockets' counters (their change between two refreshes).
 */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include "cli.h"
#include "format.h"
#include "json.h"
#include "log.h"
#include "pins.h"
#include "profile.h"
#include "profjournal.h"
#include "sockets.h"
#include "socktab.h"
#include "grow.h"

static const char top_usage[] =
"Usage: netprof top [OPTIONS]\n"
"Per process and per connection: CPU (from the profiler) beside bytes/s,\n"
"RTT and retransmits (from the socket table), refreshed like top.\n"
"\n"
"  -d, --interval DUR  refresh every DUR (default 2s)\n"
"  -c, --count N       N refreshes, then exit (default: until Ctrl-C; 1 with --json)\n"
"  -s, --sort KEY      cpu (default), bytes, rtt or retrans\n"
"  -p, --pid PID       only this process\n"
"  -n, --limit N       rows per table (default 15)\n"
"  -j, --json          JSON, one document per refresh\n"
"  -h, --help          this text\n"
"\n"
"On a terminal, keys re-sort at once: c cpu, b bytes, r rtt, t retrans; q quits.\n"
"CPU%% is of one CPU (200%% = two CPUs busy). A connection's CPU is what its\n"
"threads spent while serving it (netprof profile --by-conn). Traffic is TCP\n"
"payload, for the connections of the cgroup netprofd follows.\n";

enum top_sort { TS_CPU, TS_BYTES, TS_RTT, TS_RETRANS };

/* ---- keys on a terminal: raw input while top runs, restored at exit ---- */

static struct termios tty_saved;
static int tty_raw;

static void tty_restore(void)
{
	if (tty_raw)
		tcsetattr(STDIN_FILENO, TCSANOW, &tty_saved);
	tty_raw = 0;
}

static void on_stop_signal(int sig)
{
	tty_restore();
	signal(sig, SIG_DFL);
	raise(sig);
}

static void tty_keys_on(void)
{
	struct termios t;

	if (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO) || tcgetattr(STDIN_FILENO, &tty_saved))
		return;
	t = tty_saved;
	t.c_lflag &= ~(ICANON | ECHO);
	t.c_cc[VMIN] = 0;
	t.c_cc[VTIME] = 0;
	if (tcsetattr(STDIN_FILENO, TCSANOW, &t))
		return;
	tty_raw = 1;
	atexit(tty_restore);
	signal(SIGINT, on_stop_signal);
	signal(SIGTERM, on_stop_signal);
}

/*
 * Wait for the interval, or less when a key changes the sort (1: refresh
 * now) or quits (-1).
 */
static int wait_keys(uint64_t ns, enum top_sort *key)
{
	uint64_t end = now_mono_ns() + ns;
	struct pollfd p = { .fd = STDIN_FILENO, .events = POLLIN };
	char ch;

	if (!tty_raw) {
		usleep(ns / 1000);
		return 0;
	}
	for (;;) {
		uint64_t now = now_mono_ns();

		if (now >= end)
			return 0;
		if (poll(&p, 1, (end - now) / 1000000 + 1) <= 0 || read(STDIN_FILENO, &ch, 1) != 1)
			continue;
		switch (ch) {
		case 'c': *key = TS_CPU; return 1;
		case 'b': *key = TS_BYTES; return 1;
		case 'r': *key = TS_RTT; return 1;
		case 't': *key = TS_RETRANS; return 1;
		case 'q': return -1;
		}
	}
}

struct row {
	uint64_t	cookie;		/* 0 for process rows */
	uint32_t	tgid;
	char		comm[17];
	char		conn[160];
	uint64_t	samples;
	uint64_t	tx, rx;		/* bytes in the interval */
	uint32_t	retrans;	/* segments in the interval */
	uint32_t	srtt_us;
	uint32_t	conns;
	double		cpu, tx_rate, rx_rate;
};

struct rows {
	struct row	*v;
	size_t		n, cap;
};

struct prev_sock {
	uint64_t	cookie, tx, rx;
	uint32_t	retrans;
};

struct top_ctx {
	long		pid;
	struct rows	procs, conns;
};

static struct row *row_get(struct rows *r, uint32_t tgid, uint64_t cookie)
{
	size_t i;

	for (i = 0; i < r->n; i++)
		if (r->v[i].tgid == tgid && r->v[i].cookie == cookie)
			return &r->v[i];
	if (ARRAY_GROW(r->v, r->cap, r->n + 1, 64))
		return NULL;
	memset(&r->v[r->n], 0, sizeof(r->v[0]));
	r->v[r->n].tgid = tgid;
	r->v[r->n].cookie = cookie;
	return &r->v[r->n++];
}

static int on_sample(void *ctx, const struct prof_sample *s)
{
	struct top_ctx *c = ctx;
	struct row *r;

	if (c->pid >= 0 && s->tgid != (uint32_t)c->pid)
		return 0;
	if (!s->tgid)
		return 0;	/* idle */
	r = row_get(&c->procs, s->tgid, 0);
	if (!r)
		return -ENOMEM;
	r->samples += s->count;
	snprintf(r->comm, sizeof(r->comm), "%s", s->comm);
	if (!s->cookie)
		return 0;
	r = row_get(&c->conns, s->tgid, s->cookie);
	if (!r)
		return -ENOMEM;
	r->samples += s->count;
	snprintf(r->comm, sizeof(r->comm), "%s", s->comm);
	if (s->proto)
		snprintf(r->conn, sizeof(r->conn), "%s %s %s", s->proto == 6 ? "tcp" : "udp", s->local,
			 s->remote);
	return 0;
}

static enum top_sort sort_key;

static double sort_val(const struct row *r)
{
	switch (sort_key) {
	case TS_BYTES: return r->tx_rate + r->rx_rate;
	case TS_RTT: return r->srtt_us;
	case TS_RETRANS: return r->retrans;
	default: return r->cpu;
	}
}

static int row_cmp(const void *a, const void *b)
{
	double x = sort_val(a), y = sort_val(b);

	return x < y ? 1 : x > y ? -1 : 0;
}

/*
 * Traffic of open sockets since the last refresh, into connection and
 * process rows; c NULL: only remember the counters.
 */
static void add_traffic(struct top_ctx *c, const struct sock_table *st, struct prev_sock **prev,
			size_t *nprev)
{
	struct prev_sock *next = calloc(st->n + 1, sizeof(*next));
	size_t i, j;

	for (i = 0; next && i < st->n; i++) {
		const struct sock_record *r = &st->v[i].r;
		uint64_t cookie = st->v[i].cookie, tx = sock_payload_sent(r), rx = sock_payload_received(r);
		struct prev_sock *p = NULL;
		struct row *cr, *pr;
		char l[64], rm[64];

		next[i] = (struct prev_sock){ cookie, tx, rx, sock_retrans(r) };
		if (!c || (c->pid >= 0 && r->owner.tgid != (uint32_t)c->pid))
			continue;
		for (j = 0; j < *nprev; j++)
			if ((*prev)[j].cookie == cookie) {
				p = &(*prev)[j];
				break;
			}
		if (!p || !r->owner.tgid)
			continue;	/* new since the last refresh: from the next one on */
		cr = row_get(&c->conns, r->owner.tgid, cookie);
		pr = row_get(&c->procs, r->owner.tgid, 0);
		if (!cr || !pr)
			continue;
		if (!cr->conn[0]) {
			fmt_endpoint(l, sizeof(l), r->laddr, r->lport, r->family, 1);
			fmt_endpoint(rm, sizeof(rm), r->raddr, r->rport, r->family, 1);
			snprintf(cr->conn, sizeof(cr->conn), "tcp %s %s", l, rm);
		}
		if (!cr->comm[0])
			snprintf(cr->comm, sizeof(cr->comm), "%s", r->owner.comm);
		if (!pr->comm[0])
			snprintf(pr->comm, sizeof(pr->comm), "%s", r->owner.comm);
		cr->tx = tx - p->tx;
		cr->rx = rx - p->rx;
		cr->retrans = sock_retrans(r) - p->retrans;
		cr->srtt_us = r->srtt_us;
		pr->tx += cr->tx;
		pr->rx += cr->rx;
		pr->retrans += cr->retrans;
		pr->conns++;
		if (r->srtt_us > pr->srtt_us)
			pr->srtt_us = r->srtt_us;	/* the process's worst */
	}
	free(*prev);
	*prev = next;
	*nprev = next ? st->n : 0;
}

static void finish(struct rows *r, double cpu_secs, double hz, double secs)
{
	size_t i;

	for (i = 0; i < r->n; i++) {
		r->v[i].cpu = cpu_secs > 0 && hz > 0 ? 100.0 * r->v[i].samples / (hz * cpu_secs) : 0;
		r->v[i].tx_rate = secs > 0 ? r->v[i].tx / secs : 0;
		r->v[i].rx_rate = secs > 0 ? r->v[i].rx / secs : 0;
	}
	sort_n(r->v, r->n, sizeof(*r->v), row_cmp);
}

static void print_rows(struct json_writer *jw, const char *name, const struct rows *r, long limit,
		       int conns)
{
	char b1[32], b2[32], b3[32];
	size_t i;

	if (jw) {
		jw_array_start(jw, name);
		for (i = 0; i < r->n; i++) {
			const struct row *x = &r->v[i];

			jw_object_start(jw, NULL);
			jw_u64(jw, "pid", x->tgid);
			jw_str(jw, "comm", x->comm);
			if (conns) {
				jw_u64(jw, "cookie", x->cookie);
				jw_str(jw, "connection", x->conn[0] ? x->conn : "?");
			} else {
				jw_u64(jw, "connections", x->conns);
			}
			jw_u64(jw, "samples", x->samples);
			jw_double(jw, "cpu_percent", x->cpu);
			jw_double(jw, "tx_bytes_per_sec", x->tx_rate);
			jw_double(jw, "rx_bytes_per_sec", x->rx_rate);
			jw_u64(jw, "srtt_us", x->srtt_us);
			jw_u64(jw, "retrans", x->retrans);
			jw_object_end(jw);
		}
		jw_array_end(jw);
		return;
	}
	if (conns)
		printf("\n%7s %-15s %6s %12s %12s %9s %7s  %s\n", "PID", "COMM", "CPU%", "TX", "RX", "SRTT",
		       "RETRANS", "CONNECTION");
	else
		printf("%7s %-15s %6s %12s %12s %9s %7s  %s\n", "PID", "COMM", "CPU%", "TX", "RX",
		       "SRTT(max)", "RETRANS", "CONNS");
	for (i = 0; i < r->n && (limit <= 0 || (long)i < limit); i++) {
		const struct row *x = &r->v[i];

		printf("%7u %-15s %5.1f%% %12s %12s %9s %7u  ", x->tgid, x->comm, x->cpu,
		       fmt_rate(b1, sizeof(b1), x->tx_rate), fmt_rate(b2, sizeof(b2), x->rx_rate),
		       x->srtt_us ? fmt_duration(b3, sizeof(b3), x->srtt_us * 1000ULL) : "-", x->retrans);
		if (conns)
			printf("%s\n", x->conn[0] ? x->conn : "?");
		else
			printf("%u\n", x->conns);
	}
}

/*
 * Until the daemon's next drain (it drains every sweep, right after the
 * socket pass): *drain becomes its time. Two seconds at most; a daemon
 * that stopped draining leaves the last one. 0, or -1 on a journal that
 * cannot be read.
 */
static int wait_drain(const char *journal, uint64_t *drain)
{
	uint64_t last, d;
	int i;

	if (prof_journal_last_drain(journal, &last))
		return -1;
	for (i = 0, d = last; i < 100 && d <= last; i++) {
		usleep(20000);
		if (prof_journal_last_drain(journal, &d))
			return -1;
	}
	*drain = d;
	return 0;
}

int do_top(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "interval", required_argument, NULL, 'd' },
		{ "count",    required_argument, NULL, 'c' },
		{ "sort",     required_argument, NULL, 's' },
		{ "pid",      required_argument, NULL, 'p' },
		{ "limit",    required_argument, NULL, 'n' },
		{ "json",     no_argument,       NULL, 'j' },
		{ "help",     no_argument,       NULL, 'h' },
		{}
	};
	uint64_t interval = 2000000000ULL, v, prev_drain, t_prev;
	long count = -1, limit = 15, pid = -1, iter;
	struct prev_sock *prev = NULL;
	struct prof_daemon_stats st;
	struct prof_journal_info info;
	char journal[512];
	size_t nprev = 0;
	int opt, daemon_fd, socks_fd, err = 0;
	__u32 zero = 0;

	while ((opt = getopt_long(argc, argv, "d:c:s:p:n:jh", opts, NULL)) != -1) {
		switch (opt) {
		case 'd':
			if (parse_duration(optarg, &interval) || interval < 100000000ULL) {
				pr_err("--interval '%s': give a duration of at least 100ms, e.g. 2s", optarg);
				return 2;
			}
			break;
		case 'c':
		case 'n':
		case 'p':
			if (parse_u64(optarg, &v) || (opt == 'c' && !v)) {
				pr_err("-%c '%s': give a number", opt, optarg);
				return 2;
			}
			*(opt == 'c' ? &count : opt == 'n' ? &limit : &pid) = v;
			break;
		case 's':
			if (!strcmp(optarg, "cpu")) sort_key = TS_CPU;
			else if (!strcmp(optarg, "bytes")) sort_key = TS_BYTES;
			else if (!strcmp(optarg, "rtt")) sort_key = TS_RTT;
			else if (!strcmp(optarg, "retrans")) sort_key = TS_RETRANS;
			else {
				pr_err("--sort '%s': use cpu, bytes, rtt or retrans", optarg);
				return 2;
			}
			break;
		case 'j':
			g.json = log_json_errors = 1;
			break;
		case 'h':
			printf(top_usage);
			return 0;
		default:
			fprintf(stderr, "Try 'netprof top --help'.\n");
			return 2;
		}
	}
	if (optind < argc) {
		pr_err("unexpected argument '%s': see 'netprof top --help'", argv[optind]);
		return 2;
	}
	if (count < 0 && g.json)
		count = 1;
	if (profiler_state(&st))
		return 1;
	if (!netprofd_alive(st.pid)) {
		pr_err("no netprofd is profiling on %s: start netprofd (without --no-profile)", g.pin_dir);
		return 1;
	}
	daemon_fd = pins_open_map(g.pin_dir, PROF_DAEMON_MAP, 0);
	if (daemon_fd < 0)
		return 1;
	socks_fd = pins_open_map(g.pin_dir, SOCKS_MAP, 1);	/* none with --no-sockets: CPU only */
	pins_state_path(journal, sizeof(journal), g.pin_dir, PROF_JOURNAL);
	if (prof_journal_last_drain(journal, &prev_drain)) {
		pr_err("no profile journal at %s: is netprofd profiling on these pins?", journal);
		return 1;
	}
	/*
	 * Socket counters are as of netprofd's last pass (a sweep, then the
	 * drain): read them just after a drain, and take their rates over the
	 * time between drains, so both ends of an interval are equally fresh
	 * (between passes they were seen to lag by up to a second: a 3 s rate
	 * 35% high).
	 */
	if (wait_drain(journal, &prev_drain))
		return 1;
	t_prev = now_mono_ns();
	if (socks_fd >= 0) {	/* the counters the first refresh's rates start from */
		struct sock_table stab = {};

		if (!socktab_read(socks_fd, &stab))
			add_traffic(NULL, &stab, &prev, &nprev);
		socktab_free(&stab);
	}
	if (!g.json && count != 1)
		tty_keys_on();
	for (iter = 0; count < 0 || iter < count; iter++) {
		struct top_ctx c = { .pid = pid };
		struct json_writer *jw = NULL;
		uint64_t now, drain;
		double secs;
		int k;

		k = wait_keys(interval, &sort_key);
		if (k < 0)
			break;
		/* the next drain: CPU over the time between drains, traffic as of it */
		if (wait_drain(journal, &drain)) {
			err = 1;
			break;
		}
		if (drain > prev_drain)
			err = prof_journal_read(journal, prev_drain, drain, on_sample, &c, &info);
		now = now_mono_ns();
		secs = drain > prev_drain ? (drain - prev_drain) / 1e9 : (now - t_prev) / 1e9;
		if (socks_fd >= 0) {
			struct sock_table stab = {};

			if (!socktab_read(socks_fd, &stab))
				add_traffic(&c, &stab, &prev, &nprev);
			socktab_free(&stab);
		}
		bpf_map_lookup_elem(daemon_fd, &zero, &st);
		finish(&c.procs, (drain - prev_drain) / 1e9, st.hz, secs);
		finish(&c.conns, (drain - prev_drain) / 1e9, st.hz, secs);
		if (g.json) {
			jw = jw_new(stdout, 0);
			jw_object_start(jw, NULL);
			jw_u64(jw, "interval_ns", (uint64_t)(secs * 1e9));
			jw_u64(jw, "cpu_interval_ns", drain - prev_drain);
			jw_u64(jw, "hz", st.hz);
		} else {
			if (count != 1)
				printf("\033[H\033[2J");
			printf("netprof top: CPU over %.1f s at %u Hz, traffic over %.1f s; sorted by %s\n\n",
			       (drain - prev_drain) / 1e9, st.hz, secs,
			       (const char *[]){ "cpu", "bytes", "rtt", "retrans" }[sort_key]);
		}
		print_rows(jw, "processes", &c.procs, limit, 0);
		print_rows(jw, "connections", &c.conns, limit, 1);
		if (jw) {
			jw_object_end(jw);
			jw_free(jw);
			printf("\n");
		}
		fflush(stdout);
		free(c.procs.v);
		free(c.conns.v);
		prev_drain = drain;
		t_prev = now;
		if (!netprofd_alive(st.pid)) {
			pr_err("netprofd (pid %u) stopped", st.pid);
			err = 1;
			break;
		}
	}
	free(prev);
	close(daemon_fd);
	if (socks_fd >= 0)
		close(socks_fd);
	return err ? 1 : 0;
}
