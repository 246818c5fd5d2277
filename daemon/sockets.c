// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The socket programs: sockops on one cgroup v2 (the root of the hierarchy
 * unless --cgroup), plus kernel-wide tracepoints that only act on sockets
 * sockops gave a record (a cookie in socks). Every link is pinned under
 * links/: cgroup links are updated in place by a restarted daemon (sockops
 * callbacks never stop), tracepoint links are replaced.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sched.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "sockets.skel.h"
#include "latency.skel.h"
#include "sockets.h"
#include "latency.h"
#include "socktab.h"
#include "mapwalk.h"
#include "cgroup.h"
#include "format.h"
#include "log.h"
#include "pins.h"
#include "netprofd.h"
#include "grow.h"
#include "progload.h"
#include "module.h"

static int sockets__scan(struct np_daemon *d);

static int link_pin_path(struct np_daemon *d, const char *name, char *buf, size_t len)
{
	int n = snprintf(buf, len, "%s/%s/%s", d->pin_dir, NETPROF_PIN_LINKS, name);

	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

/*
 * Pin a new link and let go of our reference: the pin keeps it attached.
 * Destroying an fd-based link closes the fd; it detaches only when no pin
 * is left (bpf_link__disconnect would keep the fd open until exit, and
 * removing the pin would then not detach).
 */
static int pin_link(struct bpf_link *link, const char *path)
{
	int err;

	if (!link)
		return -errno;
	err = bpf_link__pin(link, path);
	bpf_link__destroy(link);
	return err;
}

/* cgroup programs: update a pinned link in place, or attach and pin one. */
static int attach_cgroup_prog(struct np_daemon *d, struct bpf_program *prog, const char *name,
			      int *adopted)
{
	char path[512];
	int fd, err;

	err = link_pin_path(d, name, path, sizeof(path));
	if (err)
		return err;
	fd = bpf_obj_get(path);
	if (fd >= 0) {
		err = bpf_link_update(fd, bpf_program__fd(prog), NULL) ? -errno : 0;
		close(fd);
		if (!err) {
			*adopted = 1;
			return 0;
		}
		pr_debug("stale link %s: %s\n", path, strerror(-err));
		unlink(path);
	}
	return pin_link(bpf_program__attach_cgroup(prog, d->cgroup_fd), path);
}

/* Detach the link pinned under this name, if any, and remove the pin. */
static void unpin_link(struct np_daemon *d, const char *name)
{
	char path[512];
	int fd;

	if (link_pin_path(d, name, path, sizeof(path)))
		return;
	fd = bpf_obj_get(path);
	if (fd >= 0) {
		bpf_link_detach(fd);
		close(fd);
	}
	unlink(path);
}

/* tracepoints: a raw_tp link cannot be updated, so the new one replaces it. */
static int attach_trace_prog(struct np_daemon *d, struct bpf_program *prog, const char *name)
{
	char path[512];
	int err;

	err = link_pin_path(d, name, path, sizeof(path));
	if (err)
		return err;
	unpin_link(d, name);
	return pin_link(bpf_program__attach_trace(prog), path);
}

/* A program of a skeleton and the name its link is pinned under. */
struct prog_link {
	const char *pin;
	size_t prog_off;	/* offsetof the program in the skeleton */
	int cgroup;		/* on the followed cgroup; else a tracepoint */
};

#define N_LINKS(a) (sizeof(a) / sizeof((a)[0]))

/* the close first: a record made by sockops must never miss its end */
static const struct prog_link sock_links[] = {
	{ "tp_sock_set_state", offsetof(struct sockets_bpf, progs.sock_set_state), 0 },
	{ "tp_sock_set_state_compat", offsetof(struct sockets_bpf, progs.sock_set_state_compat), 0 },
	{ "sockops", offsetof(struct sockets_bpf, progs.sockops_tcp), 1 },
	{ "tp_sock_send", offsetof(struct sockets_bpf, progs.sock_send), 0 },
	{ "tp_sock_recv", offsetof(struct sockets_bpf, progs.sock_recv), 0 },
	{ "fentry_sock_send", offsetof(struct sockets_bpf, progs.sock_send_fentry), 0 },
	{ "fentry_sock_recv", offsetof(struct sockets_bpf, progs.sock_recv_fentry), 0 },
	{ "tp_tcp_send_reset", offsetof(struct sockets_bpf, progs.tcp_send_reset), 0 },
	{ "tp_tcp_receive_reset", offsetof(struct sockets_bpf, progs.tcp_receive_reset), 0 },
};

/* Attach and pin every program of a table; an error says which failed. */
static int attach_links(struct np_daemon *d, void *skel, const struct prog_link *l, size_t n,
			int *adopted)
{
	size_t i;
	int err;

	for (i = 0; i < n; i++) {
		struct bpf_program *prog = *(struct bpf_program **)((char *)skel + l[i].prog_off);

		/* left out on this kernel (progload.h): no link, and none of an older daemon */
		if (!bpf_program__autoload(prog)) {
			unpin_link(d, l[i].pin);
			continue;
		}
		err = l[i].cgroup ? attach_cgroup_prog(d, prog, l[i].pin, adopted)
				  : attach_trace_prog(d, prog, l[i].pin);
		if (err) {
			pr_err("cannot attach %s (cgroup %s): %s", l[i].pin, d->cgroup_path,
			       strerror(-err));
			return err;
		}
	}
	return 0;
}

/* Before anything is attached: the cgroup must exist. */
static int sockets_check(struct np_daemon *d)
{
	int err;

	if (d->no_sockets)
		return 0;
	err = cgroup_resolve(d->cgroup_arg, d->cgroup_path, sizeof(d->cgroup_path));
	if (err == -ENODEV) {
		pr_err("cgroup v2 is not mounted: mount it (mount -t cgroup2 none /sys/fs/cgroup) or run with --no-sockets");
		return err;
	}
	if (err) {
		pr_err("cgroup '%s' not found in the cgroup v2 hierarchy (%s): give a path below its mount, e.g. --cgroup system.slice",
		       d->cgroup_arg ? d->cgroup_arg : "/", strerror(-err));
		return err;
	}
	d->cgroup_fd = open(d->cgroup_path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (d->cgroup_fd < 0) {
		err = -errno;
		pr_err("cannot open cgroup %s: %s", d->cgroup_path, strerror(-err));
		return err;
	}
	return 0;
}

/* Programs some kernels refuse (docs/kernels.md), and what stands in. */
static const struct prog_opt sock_opts[] = {
	{ "sock_set_state", "sock_set_state_compat", "closes are not recorded", 1 },
	{ "sock_send", "sock_send_fentry", "owners do not follow sends" },
	{ "sock_recv", "sock_recv_fentry", "owners do not follow receives" },
	{ "tcp_send_reset", NULL, "resets sent are not told apart" },
	{ "tcp_receive_reset", NULL, "resets received are not told apart" },
	{ "scan_owners", NULL, "sockets from before netprofd have no owner" },
	/* 5.10's iter/tcp may not make a socket's cookie */
	{ "scan_tcp", "scan_tcp_skc",
	  "open connections' counters are read only at their callbacks and close; sockets from before netprofd are not recorded",
	  0, 0, "sockets from before netprofd are not recorded; per-ACK RTT from each connection's start (as --rtt-from-start)" },
	{ "rtt_arm_probe", NULL, "per-ACK RTT from each connection's start (as --rtt-from-start)", 0, 1 },
};

const struct np_object sockets_object = {
	"sockets", sockets_bpf__elf_bytes, sock_opts, N_LINKS(sock_opts),
};

static void *sockets_open(struct np_daemon *d, void *arg, const struct prog_plan *plan)
{
	LIBBPF_OPTS(bpf_object_open_opts, opts, .pin_root_path = d->pin_dir);
	struct sockets_bpf *skel;

	skel = sockets_bpf__open_opts(&opts);
	if (!skel)
		return NULL;
	if (d->max_sockets) {
		bpf_map__set_max_entries(skel->maps.socks, d->max_sockets);
		bpf_map__set_max_entries(skel->maps.socks_closed, d->max_sockets);
		skel->rodata->closed_slots = d->max_sockets;
	}
	skel->rodata->keep_ended_ns = d->keep_ended_ns;
	skel->rodata->nr_cpus = libbpf_num_possible_cpus() > 0 ? libbpf_num_possible_cpus() : 1;
	/* for the start-up scan: which cgroup, and how deep it sits */
	skel->rodata->target_cgroup_id = cgroup_id_of(d->cgroup_path);
	skel->rodata->target_level = cgroup_level(d->cgroup_path);
	object_apply(&sockets_object, plan, skel->obj);
	return skel;
}

SKEL_OPS(sockets, sockets_open);

static int run_iter(struct bpf_program *prog);

/*
 * Can the pass turn a connection's RTT callback on (rtt_arm_probe in
 * bpf/sockets.bpf.c)? A socket pair of netprofd's own on loopback, before
 * anything is attached: the probe sets the flag on the connecting end.
 * Where it cannot, or the probe cannot run, callbacks start with each
 * connection, without a budget.
 */
static int rtt_arm_works(struct sockets_bpf *skel)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(a);
	int l = -1, c = -1, s = -1, ok = 0;

	if (!bpf_program__autoload(skel->progs.rtt_arm_probe) ||
	    !bpf_program__autoload(skel->progs.scan_tcp))
		return 0;
	l = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	c = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (l < 0 || c < 0 || bind(l, (struct sockaddr *)&a, sizeof(a)) || listen(l, 1) ||
	    getsockname(l, (struct sockaddr *)&a, &len) || connect(c, (struct sockaddr *)&a, sizeof(a)))
		goto out;
	s = accept4(l, NULL, NULL, SOCK_CLOEXEC);
	len = sizeof(a);
	if (s < 0 || getsockname(c, (struct sockaddr *)&a, &len))
		goto out;
	skel->bss->probe_port = ntohs(a.sin_port);
	skel->bss->probe_err = 1;
	ok = run_iter(skel->progs.rtt_arm_probe) == 0 && skel->bss->probe_err == 0;
	if (!ok)
		pr_debug("rtt_arm_probe: %d\n", skel->bss->probe_err);
out:
	if (s >= 0)
		close(s);
	if (c >= 0)
		close(c);
	if (l >= 0)
		close(l);
	return ok;
}

static void rtt_arm(struct np_daemon *d, struct sockets_bpf *skel)
{
	int works = rtt_arm_works(skel);

	skel->bss->rtt_from_start = d->rtt_from_start || !works;
	/* a budget per pass only where the pass can turn the callback on again */
	skel->bss->rtt_per_pass = works ? SOCK_RTT_PER_PASS : 0;
	if (!works && bpf_program__autoload(skel->progs.scan_tcp))
		cap_note(d, NP_CAP_SOCKETS,
			 "per-ACK RTT from each connection's start, as --rtt-from-start (the pass cannot turn RTT callbacks on here)");
}

static int sockets_start(struct np_daemon *d)
{
	struct sockets_bpf *skel;
	int err, adopted = 0;

	if (d->no_sockets)
		return 0;
	skel = object_load(d, &sockets_object, &sockets_ops, NULL, NP_CAP_SOCKETS, NULL);
	if (!skel)
		return -errno;	/* ENOTSUP: this kernel cannot follow sockets; the rest runs */
	d->sockets = skel;
	d->socks_fd = bpf_map__fd(skel->maps.socks);
	d->conn_agg_fd = bpf_map__fd(skel->maps.conn_agg);
	d->socks_closed_fd = bpf_map__fd(skel->maps.socks_closed);
	d->cgroup_names_fd = bpf_map__fd(skel->maps.cgroup_names);

	rtt_arm(d, skel);
	err = attach_links(d, skel, sock_links, N_LINKS(sock_links), &adopted);
	if (err)
		return err;
	pr_info("%s TCP socket tracking on cgroup %s\n", adopted ? "adopted" : "attached",
		d->cgroup_path);
	if (bpf_program__autoload(skel->progs.scan_owners) && bpf_program__autoload(skel->progs.scan_tcp))
		sockets__scan(d);
	return 0;
}

static const struct prog_link lat_links[] = {
	{ "tp_lat_rx_netif", offsetof(struct latency_bpf, progs.lat_rx_netif) },
	{ "tp_lat_rx_tcp", offsetof(struct latency_bpf, progs.lat_rx_tcp) },
	{ "tp_lat_rx_read", offsetof(struct latency_bpf, progs.lat_rx_read) },
	{ "fexit_lat_rx_read", offsetof(struct latency_bpf, progs.lat_rx_read_fexit) },
	{ "tp_lat_tx_write", offsetof(struct latency_bpf, progs.lat_tx_write) },
	{ "fentry_lat_tx_write", offsetof(struct latency_bpf, progs.lat_tx_write_fentry) },
	{ "tp_lat_tx_queue", offsetof(struct latency_bpf, progs.lat_tx_queue) },
	{ "tp_lat_tx_start", offsetof(struct latency_bpf, progs.lat_tx_start) },
	{ "tp_lat_tx_done", offsetof(struct latency_bpf, progs.lat_tx_done) },
	{ "tp_lat_close", offsetof(struct latency_bpf, progs.lat_close) },
};

static const struct prog_opt lat_opts[] = {
	{ "lat_rx_read", "lat_rx_read_fexit", "no rx_sockq stage (time in the receive queue)" },
	{ "lat_tx_write", "lat_tx_write_fentry", "no tx_write stage (time from write to transmit)" },
};

const struct np_object latency_object = {
	"latency", latency_bpf__elf_bytes, lat_opts, N_LINKS(lat_opts),
};

static void *latency_open(struct np_daemon *d, void *arg, const struct prog_plan *plan)
{
	LIBBPF_OPTS(bpf_object_open_opts, opts, .pin_root_path = d->pin_dir);
	struct latency_bpf *skel;

	skel = latency_bpf__open_opts(&opts);
	if (!skel)
		return NULL;
	if (d->max_sockets)
		bpf_map__set_max_entries(skel->maps.socks, d->max_sockets);
	object_apply(&latency_object, plan, skel->obj);
	return skel;
}

SKEL_OPS(latency, latency_open);

/*
 * The latency stages (bpf/latency.bpf.c): tracepoints only, sharing the
 * socket table through its pin, so they time exactly the followed sockets.
 */
static int latency_start(struct np_daemon *d)
{
	struct latency_bpf *skel;

	if (d->no_sockets || d->no_latency)
		return 0;
	if (!d->sockets) {
		/* its programs time the sockets the socket programs follow */
		cap_set(d, NP_CAP_LATENCY, NP_CAP_UNAVAILABLE, "needs sockets");
		return -ENOTSUP;
	}

	skel = object_load(d, &latency_object, &latency_ops, NULL, NP_CAP_LATENCY, NULL);
	if (!skel)
		return errno == ENOTSUP ? 0 : -errno;
	d->latency = skel;
	return attach_links(d, skel, lat_links, N_LINKS(lat_links), NULL);
}


/* Run an iterator program to its end (it writes nothing: it fills maps). */
static int run_iter(struct bpf_program *prog)
{
	struct bpf_link *link = bpf_program__attach_iter(prog, NULL);
	char buf[256];
	int fd, err = 0;

	if (!link)
		return -errno;
	fd = bpf_iter_create(bpf_link__fd(link));
	if (fd < 0) {
		err = -errno;
		goto out;
	}
	while (read(fd, buf, sizeof(buf)) > 0)
		;
	close(fd);
out:
	bpf_link__destroy(link);
	return err;
}

/*
 * Sockets that existed before netprofd: owners from the processes that hold
 * them (iter/task_file), then, in each namespace those processes live in,
 * records and sockops callbacks for their connections (iter/tcp). A
 * scanned connection is a server's if a listener has its local port.
 */
static int sockets__scan(struct np_daemon *d)
{
	struct sockets_bpf *skel = d->sockets;
	int netns_fd = bpf_map__fd(skel->maps.scan_netns);
	int listen_fd = bpf_map__fd(skel->maps.listen_ports);
	__u32 ino, next, *prev = NULL, pid;
	__u64 key, knext, *kprev = NULL;
	struct sock_record r;
	char path[64];
	int err, nsfd, found = 0;

	err = run_iter(skel->progs.scan_owners);
	if (err) {
		pr_warn("cannot scan processes for existing sockets: %s\n", strerror(-err));
		return err;
	}
	while (bpf_map_get_next_key(netns_fd, prev, &next) == 0) {
		ino = next;
		prev = &ino;
		if (bpf_map_lookup_elem(netns_fd, &ino, &pid))
			continue;
		snprintf(path, sizeof(path), "/proc/%u/ns/net", pid);
		nsfd = open(path, O_RDONLY | O_CLOEXEC);
		if (nsfd < 0)
			continue;	/* that process is gone */
		/* iter/tcp walks the namespace current when the iterator is made */
		if (setns(nsfd, CLONE_NEWNET) == 0) {
			err = run_iter(skel->progs.scan_tcp);
			if (err)
				pr_warn("cannot scan TCP sockets in netns %u: %s\n", ino, strerror(-err));
			netns_leave(d);
		}
		close(nsfd);
	}
	while (bpf_map_get_next_key(d->socks_fd, kprev, &knext) == 0) {
		key = knext;
		kprev = &key;
		if (bpf_map_lookup_elem(d->socks_fd, &key, &r) || !(r.flags & SOCK_F_SCANNED) ||
		    r.role != ROLE_UNKNOWN)
			continue;
		struct { __u32 netns_ino; __u16 port; __u16 pad; } lk = { r.netns_ino, r.lport, 0 };
		__u8 one;

		r.role = bpf_map_lookup_elem(listen_fd, &lk, &one) == 0 ? ROLE_SERVER : ROLE_CLIENT;
		bpf_map_update_elem(d->socks_fd, &key, &r, BPF_EXIST);
		found++;
	}
	if (found)
		pr_info("found %d TCP connections that existed before netprofd\n", found);
	return 0;
}

/* On exit: take the programs off unless --keep. The maps stay pinned. */
static void latency_stop(struct np_daemon *d)
{
	unsigned int i;

	for (i = 0; !d->keep && d->latency && i < N_LINKS(lat_links); i++)
		unpin_link(d, lat_links[i].pin);
	latency_bpf__destroy(d->latency);
	d->latency = NULL;
}

static void sockets_stop(struct np_daemon *d)
{
	unsigned int i;

	if (!d->sockets)
		return;
	for (i = 0; !d->keep && i < N_LINKS(sock_links); i++)
		unpin_link(d, sock_links[i].pin);
	sockets_bpf__destroy(d->sockets);
	d->sockets = NULL;
	if (d->cgroup_fd >= 0)
		close(d->cgroup_fd);
}

/* cgroup ids already named in cgroup_names: the sweep resolves each once */
static uint64_t *named_ids;
static size_t n_named, cap_named;

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static int id_named(uint64_t id)
{
	return n_named && bsearch(&id, named_ids, n_named, sizeof(*named_ids), cmp_u64);
}

static void name_cgroup(struct np_daemon *d, uint64_t id, uint64_t now)
{
	struct cgroup_name cn;

	if (!id || id_named(id))
		return;
	if (bpf_map_lookup_elem(d->cgroup_names_fd, &id, &cn)) {
		memset(&cn, 0, sizeof(cn));
		if (cgroup_path_of(id, cn.path, sizeof(cn.path)))
			return;		/* gone before we saw it: try no more this sweep */
		cn.seen_ns = now;
		bpf_map_update_elem(d->cgroup_names_fd, &id, &cn, BPF_ANY);
	}
	if (ARRAY_GROW(named_ids, cap_named, n_named + 1, 64))
		return;
	named_ids[n_named++] = id;
	sort_n(named_ids, n_named, sizeof(*named_ids), cmp_u64);
}

/*
 * Owners' cgroup ids get a path in cgroup_names while the cgroup exists, so
 * `netprof sockets` can name the cgroup of a container that is gone. Every
 * 10 s: new cgroups get their name within 10 s (the CLI looks up any it
 * does not find in cgroup_names), and naming is not free under churn.
 */
#define SOCK_SWEEP_NS (10ULL * 1000000000ULL)

/*
 * Name the cgroups of sockets closed since the last pass (short-lived ones
 * are never seen open). The ring needs no expiry: readers skip records
 * older than --keep-ended, and new ones overwrite the oldest.
 */
static void sweep_closed(struct np_daemon *d, uint64_t now)
{
	struct sock_table st = {};
	size_t i;

	if (socktab_append_closed(d->socks_closed_fd, now - d->last_closed_sweep_ns + 1, &st))
		return;
	for (i = 0; i < st.n; i++)
		name_cgroup(d, st.v[i].r.owner.cgroup_id, now);
	socktab_free(&st);
	d->last_closed_sweep_ns = now;
}

/*
 * The pass, on a sweep, in each namespace with an open connection that
 * nothing refreshed for half a sweep interval: scan_tcp (bpf/sockets.bpf.c)
 * turns the per-ACK RTT callback on for connections still without it (they
 * start without it) and refreshes the state and counters of every open
 * connection from its tcp_sock, so a connection whose callbacks are quiet
 * (a receiver; state changes have no callback) is never more than about
 * a sweep and a half stale. Younger connections wait for the next sweep:
 * under churn (connections of microseconds, every sweep finds a few open)
 * the pass would otherwise walk every socket of the namespace, time-wait
 * ones included, every second. A namespace is entered through a process of
 * an owner.
 *
 * One read of the open table per sweep finds those namespaces and, when
 * due, names the owners' cgroups. Under connection churn the table holds
 * tens of thousands of records, so it is read in batches (map_walk_batch):
 * one syscall per record per sweep cost a measurable share of a CPU
 * (docs/PERFORMANCE.md).
 */
struct open_ctx {
	struct np_daemon	*d;
	uint64_t		now;
	uint64_t		due;	/* records updated before this need the pass */
	int			name;	/* name the owners' cgroups too */
	struct { __u32 ino, tgid; } ns[64];
	int			n;
};

static int open_batch(void *ctx, const void *keys, const void *vals, __u32 n)
{
	struct open_ctx *c = ctx;
	const struct sock_record *r = vals;
	__u32 i;
	int j;

	for (i = 0; i < n; i++) {
		if (c->name)
			name_cgroup(c->d, r[i].owner.cgroup_id, c->now);
		if (!r[i].owner.tgid || r[i].updated_ns > c->due)
			continue;
		for (j = 0; j < c->n && c->ns[j].ino != r[i].netns_ino; j++)
			;
		if (j == c->n && c->n < (int)(sizeof(c->ns) / sizeof(c->ns[0]))) {
			c->ns[j].ino = r[i].netns_ino;
			c->ns[j].tgid = r[i].owner.tgid;
			c->n++;
		}
	}
	return 0;
}

/* The pass's program: scan_tcp, or where that is refused scan_tcp_skc; NULL: none. */
static struct bpf_program *pass_prog(struct sockets_bpf *skel)
{
	if (bpf_program__autoload(skel->progs.scan_tcp))
		return skel->progs.scan_tcp;
	if (bpf_program__autoload(skel->progs.scan_tcp_skc))
		return skel->progs.scan_tcp_skc;
	return NULL;
}

static void socket_pass(struct np_daemon *d, const struct open_ctx *c)
{
	struct bpf_program *prog = pass_prog(d->sockets);
	char path[64];
	struct stat st;
	int i, fd, err;

	for (i = 0; prog && i < c->n; i++) {
		pr_debug("socket pass: netns %u via pid %u\n", c->ns[i].ino, c->ns[i].tgid);
		snprintf(path, sizeof(path), "/proc/%u/ns/net", c->ns[i].tgid);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			continue;	/* the owner is gone; the next pass may find another */
		if (fstat(fd, &st) == 0 && st.st_ino == c->ns[i].ino && setns(fd, CLONE_NEWNET) == 0) {
			err = run_iter(prog);
			if (err)
				pr_debug("socket pass in netns %u: %s\n", c->ns[i].ino, strerror(-err));
			netns_leave(d);
		}
		close(fd);
	}
}

static void sockets_sweep(struct np_daemon *d, const struct flow_table *live, uint64_t now)
{
	static uint64_t last;

	struct open_ctx c = { .d = d, .now = now, .due = now - d->sweep_interval_ns / 2 };
	int err;

	if (!d->sockets)
		return;
	c.name = !last || now - last >= SOCK_SWEEP_NS;
	err = map_walk_batch(d->socks_fd, sizeof(__u64), sizeof(struct sock_record),
			     open_batch, &c);
	if (err) {
		pr_warn("sweep: cannot read the socket table: %s\n", strerror(-err));
		return;
	}
	socket_pass(d, &c);
	if (c.name) {
		last = now;
		sweep_closed(d, now);
	}
}

static const char *sockets_off(const struct np_daemon *d)
{
	return d->no_sockets ? "--no-sockets" : NULL;
}

static const char *latency_off(const struct np_daemon *d)
{
	return d->no_sockets ? "--no-sockets" : d->no_latency ? "--no-latency" : NULL;
}

static int set_max_sockets(struct np_daemon *d, const char *arg)
{
	uint64_t v;

	if (opt_number("max-sockets", arg, 16, 1U << 24, &v))
		return -EINVAL;
	d->max_sockets = v;
	return 0;
}

static const struct np_option sockets_options[] = {
	OPT_STR("cgroup", 'c', "PATH", "track TCP sockets of this cgroup v2 and below\n"
		"(default: the whole hierarchy)", cgroup_arg),
	{ "max-sockets", 0, "N", "socket table size (default 65536; fixed once pinned)",
	  set_max_sockets },
	OPT_FLAG("no-sockets", "flows only: no socket tracking (and no latency stages)", no_sockets),
	OPT_FLAG("rtt-from-start", "per-ACK RTT samples from a connection's first ACK\n"
		 "(default: from the first pass after its handshake;\n"
		 "costs about 5% of loopback connection churn)", rtt_from_start),
	{}
};

const struct np_module sockets_module = {
	.name = "sockets",
	.cap = NP_CAP_SOCKETS,
	.options = sockets_options,
	.off = sockets_off,
	.check = sockets_check,
	.start = sockets_start,
	.stop = sockets_stop,
	.sweep = sockets_sweep,
};

static const struct np_option latency_options[] = {
	OPT_FLAG("no-latency", "no per-stage latency of TCP connections", no_latency),
	{}
};

const struct np_module latency_module = {
	.name = "latency",
	.cap = NP_CAP_LATENCY,
	.options = latency_options,
	.off = latency_off,
	.start = latency_start,
	.stop = latency_stop,
};
