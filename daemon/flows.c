// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The flow core as a module (module.h): the namespaces netprofd follows,
 * the flow programs loaded in each (attach.c) and pinned, every interface
 * followed over rtnetlink (rtnl.c), and the sweep (sweep.c) on each tick.
 * It is the first row of the table: loaded before the early modules start
 * (the exporters read its tables) and stopped after every other module.
 */
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <string.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/inotify.h>
#include <libmnl/libmnl.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "flow.skel.h"
#include "format.h"
#include "grow.h"
#include "log.h"
#include "pins.h"
#include "netprofd.h"
#include "module.h"

static int set_interface(struct np_daemon *d, const char *arg)
{
	if (strlen(arg) >= IF_NAMESIZE) {
		pr_err("interface name '%s' is too long (at most %d characters)", arg, IF_NAMESIZE - 1);
		return -EINVAL;
	}
	if (ARRAY_GROW(d->ifnames, d->cap_ifnames, d->n_ifnames + 1, 4)) {
		pr_err("out of memory");
		return -ENOMEM;
	}
	d->ifnames[d->n_ifnames++] = (char *)arg;
	return 0;
}

static int set_netns(struct np_daemon *d, const char *arg)
{
	/* '' or a path would mean the host's own namespace, or any file */
	if (netns_name_check(arg)) {
		pr_err("--netns '%s': give a namespace's name as 'ip netns list' shows it (not empty, no '/', under 64 characters)",
		       arg);
		return -EINVAL;
	}
	if (ARRAY_GROW(d->netns_names, d->cap_netns, d->n_netns + 1, 4)) {
		pr_err("out of memory");
		return -ENOMEM;
	}
	d->netns_names[d->n_netns++] = (char *)arg;
	return 0;
}

static int set_max_flows(struct np_daemon *d, const char *arg)
{
	uint64_t v;

	if (opt_number("max-flows", arg, 16, 1U << 26, &v))
		return -EINVAL;
	d->max_flows = v;
	return 0;
}

static int set_idle(struct np_daemon *d, const char *arg)
{
	return opt_duration("idle-timeout", arg, 100 * MS_, 30 * 86400 * S_, &d->idle_timeout_ns);
}

static int set_closed(struct np_daemon *d, const char *arg)
{
	return opt_duration("closed-timeout", arg, 10 * MS_, 3600 * S_, &d->closed_timeout_ns);
}

static int set_xdp(struct np_daemon *d, const char *arg)
{
	static const struct { const char *name; enum xdp_mode mode; } modes[] = {
		{ "auto", XDP_MODE_AUTO }, { "native", XDP_MODE_NATIVE_ONLY },
		{ "generic", XDP_MODE_GENERIC_ONLY }, { "off", XDP_MODE_OFF },
	};
	size_t i;

	for (i = 0; i < sizeof(modes) / sizeof(modes[0]); i++)
		if (!strcmp(arg, modes[i].name)) {
			d->xdp_mode = modes[i].mode;
			return 0;
		}
	pr_err("--xdp '%s': use auto, native, generic or off", arg);
	return -EINVAL;
}

static int set_tc(struct np_daemon *d, const char *arg)
{
	if (!strcmp(arg, "auto"))
		d->tcx = -1;
	else if (!strcmp(arg, "tcx"))
		d->tcx = 2;
	else if (!strcmp(arg, "clsact"))
		d->tcx = 0;
	else {
		pr_err("--tc '%s': use auto, tcx or clsact", arg);
		return -EINVAL;
	}
	return 0;
}

static const struct np_option flows_options[] = {
	{ "interface", 'i', "IF", "attach to IF only (repeatable; default: every interface)",
	  set_interface },
	{ "netns", 'n', "NAME", "follow the interfaces of network namespace NAME\n"
	  "(repeatable; without it: netprofd's own namespace)", set_netns },
	{ "max-flows", 'm', "N", "flow table size (default 65536; fixed once pinned)", set_max_flows },
	{ "idle-timeout", 0, "DUR", "end flows idle this long (default 30s)", set_idle },
	{ "closed-timeout", 0, "DUR", "end closed TCP flows quiet this long (default 2s)", set_closed },
	{ "xdp", 0, "MODE", "where ingress counts: auto (per interface: XDP only on a\n"
	  "device with native XDP that keeps its offloads), native,\n"
	  "generic (XDP everywhere) or off (TC only)", set_xdp },
	{ "tc", 0, "HOOK", "TC hooks as auto (tcx links where the kernel has them,\n"
	  "6.6+), tcx or clsact (filters)", set_tc },
	OPT_FLAG("precise-clock", "every timestamp from the precise clock (default:\n"
		 "flow times advance per tick, timing samples precise)", precise_clock),
	{}
};

/* Another live netprofd on the same pins would attach twice: refuse. */
static int check_not_running(struct np_daemon *d)
{
	struct daemon_info info;
	__u32 zero = 0;

	if (bpf_map_lookup_elem(d->daemon_fd, &zero, &info) || info.pid == (__u32)getpid() ||
	    !netprofd_alive(info.pid))
		return 0;
	pr_err("netprofd (pid %u) already runs on %s: stop it first, or use another --pin-dir",
	       info.pid, d->pin_dir);
	return -EBUSY;
}

static int open_shared_maps(struct np_daemon *d, struct flow_bpf *skel)
{
	__u32 zero = 0;

	/* our own copies: the namespace whose skeleton they came from may go first */
	d->flows_fd = dup(bpf_map__fd(skel->maps.flows));
	d->ended_fd = dup(bpf_map__fd(skel->maps.flows_ended));
	d->ifaces_fd = dup(bpf_map__fd(skel->maps.ifaces));
	d->daemon_fd = dup(bpf_map__fd(skel->maps.daemon));
	if (d->flows_fd < 0 || d->ended_fd < 0 || d->ifaces_fd < 0 || d->daemon_fd < 0)
		return -errno;
	if (check_not_running(d))
		return -EBUSY;
	/* a restarted daemon continues the counters of the one before */
	if (bpf_map_lookup_elem(d->daemon_fd, &zero, &d->info))
		memset(&d->info, 0, sizeof(d->info));
	d->info.pid = getpid();
	d->info.version = NETPROF_VERSION;
	d->info.started_ns = now_mono_ns();
	d->info.idle_timeout_ns = d->idle_timeout_ns;
	d->info.keep_ended_ns = d->keep_ended_ns;
	d->info.max_flows = d->max_flows;
	d->info.ifaces = 0;
	daemon_info_write(d);
	return 0;
}

/* Open every namespace first: a typo fails before anything is attached. */
/* A --interface found in no followed namespace: said in one line. */
static int iface_missing(const struct np_daemon *d, const char *name)
{
	pr_err("interface '%s' not found%s: check 'ip link'%s", name,
	       d->n_netns ? " in the given namespaces" : "",
	       d->n_netns ? " inside them (ip netns exec NS ip link)" : "");
	return -ENODEV;
}

/* Whether interface name exists in namespace ns (its fd; -1: netprofd's own). */
static int iface_exists(const struct np_netns *ns, const char *name)
{
	int self, found;

	if (ns->fd < 0)
		return if_nametoindex(name) != 0;
	self = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	if (self < 0 || setns(ns->fd, CLONE_NEWNET)) {
		if (self >= 0)
			close(self);
		return 1;	/* cannot tell here: start, which dumps the links, will */
	}
	found = if_nametoindex(name) != 0;
	if (setns(self, CLONE_NEWNET))
		pr_warn("cannot return to netprofd's own namespace: %s\n", strerror(errno));
	close(self);
	return found;
}

static int flows_check(struct np_daemon *d)
{
	struct np_netns *ns, **tail = &d->netns;
	int i, err, found;

	for (i = 0; i < (d->n_netns ? d->n_netns : 1); i++) {
		err = netns__open(d, d->n_netns ? d->netns_names[i] : NULL, &ns);
		if (err)
			return err;
		*tail = ns;
		tail = &ns->next;
	}
	/* before anything loads: a wrong name is one line, not a start undone */
	for (i = 0; i < d->n_ifnames; i++) {
		for (found = 0, ns = d->netns; ns && !found; ns = ns->next)
			found = iface_exists(ns, d->ifnames[i]);
		if (!found) {
			return iface_missing(d, d->ifnames[i]);
		}
	}
	return 0;
}

/* The flow programs in every namespace, their maps pinned (once: shared). */
static int flows_load(struct np_daemon *d)
{
	struct np_netns *ns;
	int err;

	for (ns = d->netns; ns; ns = ns->next) {
		err = netns__load(d, ns);
		if (err)
			return err;
		if (ns == d->netns) {
			err = open_shared_maps(d, ns->skel);
			if (err)
				return err;
		}
	}
	return 0;
}

/*
 * `ip netns del NAME` removes /run/netns/NAME; the namespace itself lives on
 * while anything holds it, and netprofd does (its fd, its rtnetlink
 * socket, the programs on its interfaces): a deleted namespace would keep
 * answering. It is let go as soon as its name goes: programs off, fds
 * closed. Its flows stay in the tables and end as idle ones do.
 */
#define NETNS_RUN_DIR	"/run/netns"
static int netns_watch = -1;
static char netns_watch_ev;	/* epoll's data.ptr for it */

static void netns_release(struct np_daemon *d, const char *name)
{
	struct np_netns **pp, *ns;

	for (pp = &d->netns; (ns = *pp); pp = &ns->next) {
		if (!ns->name[0] || strcmp(ns->name, name))
			continue;
		*pp = ns->next;
		if (ns->nl)
			epoll_ctl(d->epfd, EPOLL_CTL_DEL, mnl_socket_get_fd(ns->nl), NULL);
		pr_info("netns %s was deleted: its programs are off and netprofd lets it go\n", name);
		netns__free(d, ns, IFACE_DETACH);
		daemon_info_write(d);
		return;
	}
}

static void netns_watch_read(struct np_daemon *d)
{
	char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
	const struct inotify_event *ev;
	ssize_t n;
	char *p;

	while ((n = read(netns_watch, buf, sizeof(buf))) > 0)
		for (p = buf; p < buf + n; p += sizeof(*ev) + ev->len) {
			ev = (const struct inotify_event *)p;
			if (ev->len && (ev->mask & IN_DELETE))
				netns_release(d, ev->name);
		}
}

/* Follow every namespace's interfaces: the programs go on them now. */
static int flows_start(struct np_daemon *d)
{
	struct epoll_event ev = { .events = EPOLLIN };
	struct np_netns *ns;
	int i, err;

	for (ns = d->netns; ns; ns = ns->next) {
		err = rtnl__open(d, ns);
		if (!err)
			err = rtnl__dump_links(d, ns);
		if (err) {
			pr_err("rtnetlink in netns %s: %s", ns->name[0] ? ns->name : "(own)", strerror(-err));
			return err;
		}
		ev.data.ptr = ns;
		if (epoll_ctl(d->epfd, EPOLL_CTL_ADD, mnl_socket_get_fd(ns->nl), &ev))
			return -errno;
	}
	if (d->n_netns) {
		netns_watch = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
		ev.data.ptr = &netns_watch_ev;
		if (netns_watch < 0 || inotify_add_watch(netns_watch, NETNS_RUN_DIR, IN_DELETE) < 0 ||
		    epoll_ctl(d->epfd, EPOLL_CTL_ADD, netns_watch, &ev))
			pr_warn("cannot watch %s (%s): a deleted namespace stays followed until netprofd stops\n",
				NETNS_RUN_DIR, strerror(errno));
	}
	for (i = 0; i < d->n_ifnames; i++) {
		int found = 0;

		for (ns = d->netns; ns; ns = ns->next)
			for (struct np_iface *ifc = ns->ifaces; ifc; ifc = ifc->next)
				found |= !strcmp(ifc->name, d->ifnames[i]);
		if (!found) {
			return iface_missing(d, d->ifnames[i]);
		}
	}
	return 0;
}

static void flows_quiesce(struct np_daemon *d)
{
	struct np_netns *ns;

	if (d->keep)
		return;	/* the programs stay, and count on for the next netprofd */
	for (ns = d->netns; ns; ns = ns->next)
		while (ns->ifaces)
			iface__detach(d, ns, ns->ifaces, IFACE_DETACH);
}

static void flows_stop(struct np_daemon *d)
{
	struct np_netns *ns;

	if (netns_watch >= 0)
		close(netns_watch);
	netns_watch = -1;

	while (d->netns) {
		ns = d->netns;
		d->netns = ns->next;
		netns__free(d, ns, d->keep ? IFACE_KEEP : IFACE_DETACH);
	}
}

/* rtnetlink news of a namespace we follow */
static int flows_event(struct np_daemon *d, void *ptr, uint32_t events)
{
	struct np_netns *ns;

	if (ptr == &netns_watch_ev) {
		netns_watch_read(d);
		return 1;
	}
	for (ns = d->netns; ns; ns = ns->next)
		if (ns == ptr) {
			rtnl__process(d, ns);
			return 1;
		}
	return 0;
}

static void flows_tick(struct np_daemon *d, uint64_t now)
{
	sweep(d);
}

const struct np_module flows_module = {
	.name = "flows",
	.cap = NP_CAP_FLOWS,
	.options = flows_options,
	.check = flows_check,
	.load = flows_load,
	.start = flows_start,
	.quiesce = flows_quiesce,
	.stop = flows_stop,
	.event = flows_event,
	.tick = flows_tick,
};
