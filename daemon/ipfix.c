// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * netprofd --ipfix HOST:PORT: flows as IPFIX (RFC 7011) over UDP.
 *
 * A netprof flow is bidirectional; IPFIX records here are not: each flow
 * gives one record per direction that carried packets, with the IANA
 * information elements of templates 256 (IPv4) and 257 (IPv6) below.
 * Records carry deltas: an active flow is exported every --ipfix-active
 * (flowEndReason 2), an ended one when the sweep moves it out of the live
 * table (1 idle, 3 FIN/RST), every live flow when netprofd stops (4).
 * The deltas of one flow's records add up to its counters in `netprof
 * flows`.
 *
 * One observation domain per network namespace (its inode number), so that
 * ingressInterface/egressInterface (ifindex) mean one interface; each has
 * its own sequence number. Templates are sent first and again every
 * --ipfix-templates (UDP loses them; collectors restart).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <sys/socket.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "flowtab.h"
#include "format.h"
#include "log.h"
#include "netprofd.h"
#include "module.h"
#include "promtext.h"

#define IPFIX_VERSION		10
#define IPFIX_MTU		1400	/* fits a 1500-byte path with room for tunnels */
#define TPL_V4			256
#define TPL_V6			257
#define SET_TEMPLATE		2

/* IANA IPFIX information elements */
enum {
	IE_OCTET_DELTA = 1, IE_PACKET_DELTA = 2, IE_PROTOCOL = 4, IE_TCP_FLAGS = 6,
	IE_SRC_PORT = 7, IE_SRC_V4 = 8, IE_INGRESS_IF = 10, IE_DST_PORT = 11,
	IE_DST_V4 = 12, IE_EGRESS_IF = 14, IE_SRC_V6 = 27, IE_DST_V6 = 28,
	IE_FLOW_END_REASON = 136, IE_START_MS = 152, IE_END_MS = 153,
};

enum { END_IDLE = 1, END_ACTIVE = 2, END_OF_FLOW = 3, END_FORCED = 4 };
#define SEED	0	/* walk_live: take the counters as exported, send nothing */

struct ie { uint16_t id, len; };

#define ADDR_IES(v4, n)	{ (v4) ? IE_SRC_V4 : IE_SRC_V6, n }, { (v4) ? IE_DST_V4 : IE_DST_V6, n }
#define COMMON_IES \
	{ IE_SRC_PORT, 2 }, { IE_DST_PORT, 2 }, { IE_PROTOCOL, 1 }, { IE_TCP_FLAGS, 2 }, \
	{ IE_INGRESS_IF, 4 }, { IE_EGRESS_IF, 4 }, { IE_PACKET_DELTA, 8 }, { IE_OCTET_DELTA, 8 }, \
	{ IE_START_MS, 8 }, { IE_END_MS, 8 }, { IE_FLOW_END_REASON, 1 }

static const struct ie tpl_v4[] = { ADDR_IES(1, 4), COMMON_IES };
static const struct ie tpl_v6[] = { ADDR_IES(0, 16), COMMON_IES };
#define NIES	(sizeof(tpl_v4) / sizeof(tpl_v4[0]))
#define REC_LEN(alen)	(2 * (alen) + 2 + 2 + 1 + 2 + 4 + 4 + 8 + 8 + 8 + 8 + 1)

/* What was exported of a flow so far. */
struct sent {
	struct sent		*next;
	struct flow_ended_key	k;	/* flow + first seen: a reused 5-tuple is another flow */
	uint64_t		packets[2], bytes[2];
	uint64_t		last_export_ns;
	int			seen;	/* in the last walk of the live table */
};

/* One observation domain: a namespace. */
struct domain {
	struct domain	*next;
	uint32_t	id;
	uint32_t	seq;		/* data records sent before this message */
	uint8_t		buf[IPFIX_MTU];
	size_t		len;		/* 0: empty message */
	size_t		set_off;	/* the open data set's header, 0: none */
	uint16_t	set_id;
	uint32_t	nrec;		/* data records in this message */
	uint64_t	tpl_sent_ns;	/* 0: never */
};

#define SENT_BUCKETS	4096

struct ipfix {
	int		fd;
	struct domain	*domains;
	struct sent	*sent[SENT_BUCKETS];
	int64_t		mono_to_real_ns;
	uint64_t	records, messages, send_errors;
	const char	*dest;
};

static uint32_t sent_hash(const struct flow_ended_key *k)
{
	const uint8_t *p = (const uint8_t *)k;
	uint32_t h = 2166136261u;
	size_t i;

	for (i = 0; i < sizeof(*k); i++)
		h = (h ^ p[i]) * 16777619u;
	return h % SENT_BUCKETS;
}

static struct sent **sent_find(struct ipfix *x, const struct flow_ended_key *k)
{
	struct sent **pp;

	for (pp = &x->sent[sent_hash(k)]; *pp; pp = &(*pp)->next)
		if (!memcmp(&(*pp)->k, k, sizeof(*k)))
			return pp;
	return pp;
}

static void walk_live(struct np_daemon *d, const struct flow_table *ft, uint64_t now, int reason);

static int ipfix__start(struct np_daemon *d)
{
	struct timespec mono, real;
	struct flow_table ft = {};
	struct ipfix *x;

	if (!d->ipfix_addr)
		return 0;
	x = calloc(1, sizeof(*x));
	if (!x)
		return -ENOMEM;
	x->fd = socket(d->ipfix_ss.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (x->fd < 0 || connect(x->fd, (struct sockaddr *)&d->ipfix_ss, d->ipfix_sslen)) {
		int err = -errno;

		if (x->fd >= 0)
			close(x->fd);
		free(x);
		return err;
	}
	clock_gettime(CLOCK_MONOTONIC, &mono);
	clock_gettime(CLOCK_REALTIME, &real);
	x->mono_to_real_ns = (real.tv_sec - mono.tv_sec) * 1000000000LL + real.tv_nsec - mono.tv_nsec;
	x->dest = d->ipfix_addr;
	d->ipfix = x;
	/*
	 * Flows already in a pinned table were counted before this daemon
	 * exported (a previous netprofd exported them up to its exit): only
	 * what they count from now on is exported.
	 */
	if (flowtab_read_live(d->flows_fd, &ft) == 0)
		walk_live(d, &ft, now_mono_ns(), SEED);
	flowtab_free(&ft);
	pr_info("ipfix: exporting flows to %s (active timeout %s)\n", d->ipfix_addr,
		fmt_duration((char[32]){}, 32, d->ipfix_active_ns));
	return 0;
}

static void put16(uint8_t *p, uint16_t v) { v = htons(v); memcpy(p, &v, 2); }
static void put32(uint8_t *p, uint32_t v) { v = htonl(v); memcpy(p, &v, 4); }
static void put64(uint8_t *p, uint64_t v) { put32(p, v >> 32); put32(p + 4, (uint32_t)v); }

static void close_set(struct domain *m)
{
	if (m->set_off) {
		put16(m->buf + m->set_off + 2, m->len - m->set_off);
		m->set_off = 0;
	}
}

static void flush(struct ipfix *x, struct domain *m)
{
	if (!m->len)
		return;
	close_set(m);
	put16(m->buf, IPFIX_VERSION);
	put16(m->buf + 2, m->len);
	put32(m->buf + 4, time(NULL));
	put32(m->buf + 8, m->seq);
	put32(m->buf + 12, m->id);
	if (send(x->fd, m->buf, m->len, 0) != (ssize_t)m->len) {
		/* counted (metrics, the log at exit); a collector that is down is not fatal */
		if (x->send_errors++ % 1000 == 0)
			pr_warn("ipfix: cannot send to %s: %s (%llu messages lost so far)\n",
				x->dest, strerror(errno), (unsigned long long)x->send_errors);
	} else {
		x->messages++;
	}
	m->seq += m->nrec;
	m->nrec = 0;
	m->len = 0;
}

static void open_set(struct ipfix *x, struct domain *m, uint16_t id, size_t need)
{
	int same = m->set_off && m->set_id == id;

	if (m->len && m->len + need + (same ? 0 : 4) > IPFIX_MTU) {
		flush(x, m);
		same = 0;
	}
	if (!m->len)
		m->len = 16;	/* the message header, written at flush */
	if (same)
		return;
	close_set(m);
	m->set_off = m->len;
	m->set_id = id;
	put16(m->buf + m->len, id);
	m->len += 4;
}

static void put_template(struct domain *m, uint16_t id, const struct ie *ies)
{
	size_t i;

	put16(m->buf + m->len, id);
	put16(m->buf + m->len + 2, NIES);
	m->len += 4;
	for (i = 0; i < NIES; i++) {
		put16(m->buf + m->len, ies[i].id);
		put16(m->buf + m->len + 2, ies[i].len);
		m->len += 4;
	}
}

static void send_templates(struct ipfix *x, struct domain *m, uint64_t now)
{
	open_set(x, m, SET_TEMPLATE, 2 * (4 + 4 * NIES));
	put_template(m, TPL_V4, tpl_v4);
	put_template(m, TPL_V6, tpl_v6);
	close_set(m);
	m->tpl_sent_ns = now;
}

static struct domain *domain_get(struct np_daemon *d, uint32_t id, uint64_t now)
{
	struct ipfix *x = d->ipfix;
	struct domain *m;

	for (m = x->domains; m; m = m->next)
		if (m->id == id)
			break;
	if (!m) {
		m = calloc(1, sizeof(*m));
		if (!m)
			return NULL;
		m->id = id;
		m->next = x->domains;
		x->domains = m;
	}
	if (!m->tpl_sent_ns || now - m->tpl_sent_ns >= d->ipfix_templates_ns)
		send_templates(x, m, now);
	return m;
}

static uint64_t mono_to_ms(struct ipfix *x, uint64_t ns)
{
	return ((int64_t)ns + x->mono_to_real_ns) / 1000000;
}

/* One direction's record: dir 0 is a -> b. */
static void put_record(struct np_daemon *d, struct domain *m, const struct flow_key *k,
		       const struct flow_record *r, int dir, uint64_t pkts, uint64_t bytes,
		       uint64_t start_ns, uint64_t end_ns, int reason)
{
	struct ipfix *x = d->ipfix;
	int v4 = k->family == FLOW_FAMILY_IPV4;
	size_t alen = v4 ? 4 : 16;
	const uint8_t *src = dir ? k->addr_b : k->addr_a, *dst = dir ? k->addr_a : k->addr_b;
	uint8_t *p;

	open_set(x, m, v4 ? TPL_V4 : TPL_V6, REC_LEN(alen));
	p = m->buf + m->len;
	memcpy(p, src + 16 - alen, alen);
	memcpy(p + alen, dst + 16 - alen, alen);
	p += 2 * alen;
	memcpy(p, dir ? &k->port_b : &k->port_a, 2);	/* network order already */
	memcpy(p + 2, dir ? &k->port_a : &k->port_b, 2);
	p[4] = k->proto;
	put16(p + 5, r->tcp_flags[dir]);
	put32(p + 7, r->hook_dirs & FLOW_SEEN_IN(dir) ? k->ifindex : 0);
	put32(p + 11, r->hook_dirs & FLOW_SEEN_OUT(dir) ? k->ifindex : 0);
	put64(p + 15, pkts);
	put64(p + 23, bytes);
	put64(p + 31, mono_to_ms(x, start_ns));
	put64(p + 39, mono_to_ms(x, end_ns));
	p[47] = reason;
	m->len += REC_LEN(alen);
	m->nrec++;
	x->records++;
}

/*
 * Export what a flow counted since its last export. first: whether this
 * is the flow's first record (its start is the flow's first packet, else
 * the previous export).
 */
static void export_flow(struct np_daemon *d, const struct flow_key *k, const struct flow_record *r,
			struct sent *s, int reason, uint64_t now)
{
	uint64_t start = s->last_export_ns ? s->last_export_ns : r->first_seen_ns;
	uint64_t end = reason == END_ACTIVE || reason == END_FORCED ? now : r->last_seen_ns;
	struct domain *m = domain_get(d, k->netns_ino, now);
	int dir;

	if (!m)
		return;
	if (end < start)
		end = start;
	for (dir = 0; dir < 2; dir++) {
		uint64_t pk = r->packets[dir] - s->packets[dir], by = r->bytes[dir] - s->bytes[dir];

		/*
		 * Each direction that ever carried a packet ends with a record
		 * saying how it ended (RFC 5102 flowEndReason), even when its
		 * packets went out before in active-timeout records: then one of
		 * no packets.
		 */
		if (!pk && (reason == END_ACTIVE || !r->packets[dir]))
			continue;
		put_record(d, m, k, r, dir, pk, by, start, end, reason);
		s->packets[dir] = r->packets[dir];
		s->bytes[dir] = r->bytes[dir];
	}
	s->last_export_ns = now;
}

static struct sent *sent_get(struct ipfix *x, const struct flow_key *k, uint64_t first_seen)
{
	struct flow_ended_key ek = { .flow = *k, .first_seen_ns = first_seen };
	struct sent **pp = sent_find(x, &ek);

	if (!*pp) {
		*pp = calloc(1, sizeof(**pp));
		if (*pp)
			(*pp)->k = ek;
	}
	return *pp;
}

/* The sweep moved a flow out of the live table. */
static void ipfix__flow_ended(struct np_daemon *d, const struct flow_key *k, const struct flow_record *r)
{
	struct ipfix *x = d->ipfix;
	struct flow_ended_key ek = { .flow = *k, .first_seen_ns = r->first_seen_ns };
	struct sent **pp, *s, fresh = {};

	if (!x)
		return;
	pp = sent_find(x, &ek);
	s = *pp ? *pp : &fresh;
	export_flow(d, k, r, s, r->end_reason == FLOW_END_IDLE ? END_IDLE : END_OF_FLOW,
		    now_mono_ns());
	if (*pp) {
		*pp = s->next;
		free(s);
	}
}

static void flush_all(struct ipfix *x)
{
	struct domain *m;

	for (m = x->domains; m; m = m->next)
		flush(x, m);
}

/*
 * The live table (ft; entries with ended_ns set left it this sweep): flows
 * whose last export is --ipfix-active old get a record (reason
 * END_ACTIVE), every flow does (END_FORCED), or none and their counters
 * count as exported (SEED). State of flows that left the table without
 * us (--remove, a restart) is dropped.
 */
static void walk_live(struct np_daemon *d, const struct flow_table *ft, uint64_t now, int reason)
{
	struct ipfix *x = d->ipfix;
	struct sent **pp, *s;
	size_t i;

	for (i = 0; i < ft->n; i++) {
		const struct flow_entry *e = &ft->v[i];
		uint64_t since;

		if (e->rec.ended_ns || !(s = sent_get(x, &e->key, e->rec.first_seen_ns)))
			continue;
		s->seen = 1;
		if (reason == SEED) {
			memcpy(s->packets, e->rec.packets, sizeof(s->packets));
			memcpy(s->bytes, e->rec.bytes, sizeof(s->bytes));
			s->last_export_ns = now;
			continue;
		}
		since = s->last_export_ns ? s->last_export_ns : e->rec.first_seen_ns;
		if (reason == END_FORCED || now - since >= d->ipfix_active_ns)
			export_flow(d, &e->key, &e->rec, s, reason, now);
	}
	for (i = 0; i < SENT_BUCKETS; i++)
		for (pp = &x->sent[i]; (s = *pp);) {
			if (!s->seen) {
				*pp = s->next;
				free(s);
				continue;
			}
			s->seen = 0;
			pp = &s->next;
		}
}

/* After the sweep, with the live table it read. */
static void ipfix__sweep(struct np_daemon *d, const struct flow_table *live, uint64_t now)
{
	struct ipfix *x = d->ipfix;
	struct domain *m;

	if (!x)
		return;
	walk_live(d, live, now, END_ACTIVE);
	/* template refresh also for domains with nothing to say */
	for (m = x->domains; m; m = m->next)
		if (now - m->tpl_sent_ns >= d->ipfix_templates_ns)
			send_templates(x, m, now);
	flush_all(x);
}

static void ipfix__stop(struct np_daemon *d)
{
	struct ipfix *x = d->ipfix;
	struct flow_table ft = {};
	struct domain *m;
	struct sent *s;
	size_t i;

	if (!x)
		return;
	/* what the live flows counted last */
	if (flowtab_read_live(d->flows_fd, &ft) == 0)
		walk_live(d, &ft, now_mono_ns(), END_FORCED);
	flowtab_free(&ft);
	flush_all(x);
	pr_info("ipfix: %llu records in %llu messages, %llu messages not sent\n",
		(unsigned long long)x->records, (unsigned long long)x->messages,
		(unsigned long long)x->send_errors);
	while ((m = x->domains)) {
		x->domains = m->next;
		free(m);
	}
	for (i = 0; i < SENT_BUCKETS; i++)
		while ((s = x->sent[i])) {
			x->sent[i] = s->next;
			free(s);
		}
	close(x->fd);
	free(x);
	d->ipfix = NULL;
}

static void ipfix__metrics(struct np_daemon *d, FILE *f)
{
	struct ipfix *x = d->ipfix;

	if (!x)
		return;
	prom_write(f, "netprof_ipfix_records_total", "counter", "IPFIX data records exported.",
		      x->records);
	prom_write(f, "netprof_ipfix_messages_total", "counter", "IPFIX messages sent.",
		      x->messages);
	prom_write(f, "netprof_ipfix_send_errors_total", "counter",
		      "IPFIX messages the socket refused (collector down?).", x->send_errors);
}

static const char *ipfix_off(const struct np_daemon *d)
{
	return d->ipfix_addr ? NULL : "no --ipfix";
}

static int ipfix_start(struct np_daemon *d)
{
	int err = ipfix__start(d);

	if (err)
		pr_err("--ipfix %s: %s", d->ipfix_addr, strerror(-err));
	else if (d->ipfix_addr)
		cap_set(d, NP_CAP_IPFIX, NP_CAP_ACTIVE, "");
	return err;
}

static int set_ipfix(struct np_daemon *d, const char *arg)
{
	if (parse_host_port(arg, NULL, 0, &d->ipfix_ss, &d->ipfix_sslen)) {
		pr_err("--ipfix '%s': give HOST:PORT or [IPV6]:PORT of the collector (e.g. 127.0.0.1:4739)",
		       arg);
		return -EINVAL;
	}
	d->ipfix_addr = arg;
	return 0;
}

static int set_active(struct np_daemon *d, const char *arg)
{
	return opt_duration("ipfix-active", arg, 1 * S_, 86400 * S_, &d->ipfix_active_ns);
}

static int set_templates(struct np_daemon *d, const char *arg)
{
	return opt_duration("ipfix-templates", arg, 1 * S_, 86400 * S_, &d->ipfix_templates_ns);
}

static const struct np_option ipfix_options[] = {
	{ "ipfix", 0, "HOST:PORT", "export flows as IPFIX over UDP to a collector", set_ipfix },
	{ "ipfix-active", 0, "DUR", "export long flows this often (default 60s; ended\n"
	  "flows go at once, after --idle-timeout for idle ones)", set_active },
	{ "ipfix-templates", 0, "DUR", "resend the templates this often (default 60s)", set_templates },
	{}
};

const struct np_module ipfix_module = {
	.name = "ipfix",
	.cap = NP_CAP_IPFIX,
	.options = ipfix_options,
	.early = 1,
	.off = ipfix_off,
	.start = ipfix_start,
	.stop = ipfix__stop,
	.sweep = ipfix__sweep,
	.flow_ended = ipfix__flow_ended,
	.metrics = ipfix__metrics,
};
