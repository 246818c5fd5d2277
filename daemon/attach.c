// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Namespaces and attachments.
 *
 * netprofd stays in its own namespaces (so bpffs, cgroups and tracefs stay
 * visible) and enters a followed network namespace only around the calls
 * that resolve an ifindex there: XDP link creation, TC netlink requests.
 * Each namespace gets its own instance of the flow programs, loaded with
 * netns_ino set, all sharing the same pinned maps.
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <dirent.h>
#include <sys/stat.h>
#include <linux/if_link.h>
#include <libmnl/libmnl.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "flow.skel.h"
#include "sockets.h"
#include "latency.h"
#include "log.h"
#include "pins.h"
#include "profile.h"
#include "format.h"
#include "netprofd.h"
#include "progload.h"
#include "progprobe.h"

int netns_enter(struct np_daemon *d, struct np_netns *ns)
{
	if (!ns->name[0])
		return 0;
	if (setns(ns->fd, CLONE_NEWNET))
		return -errno;
	return 0;
}

void netns_leave(struct np_daemon *d)
{
	if (setns(d->host_netns_fd, CLONE_NEWNET))
		pr_warn("cannot return to netprofd's network namespace: %s\n", strerror(errno));
}

int netns__open(struct np_daemon *d, const char *name, struct np_netns **out)
{
	struct np_netns *ns;
	char path[300];
	struct stat st;
	int err;

	ns = calloc(1, sizeof(*ns));
	if (!ns)
		return -ENOMEM;
	ns->fd = -1;
	if (name && *name) {
		if (strlen(name) >= sizeof(ns->name)) {
			pr_err("network namespace name '%s' is too long (at most %zu characters)",
			       name, sizeof(ns->name) - 1);
			err = -ENAMETOOLONG;
			goto err;
		}
		snprintf(ns->name, sizeof(ns->name), "%s", name);
		snprintf(path, sizeof(path), "/var/run/netns/%s", name);
	} else {
		snprintf(path, sizeof(path), "/proc/self/ns/net");
	}
	ns->fd = open(path, O_RDONLY | O_CLOEXEC);
	if (ns->fd < 0) {
		err = -errno;
		if (err == -ENOENT)
			pr_err("network namespace '%s' not found: create it with 'ip netns add %s' or see 'ip netns list'",
			       name, name);
		else
			pr_err("cannot open network namespace %s: %s", path, strerror(-err));
		goto err;
	}
	if (fstat(ns->fd, &st)) {
		err = -errno;
		goto err;
	}
	ns->ino = st.st_ino;
	*out = ns;
	return 0;
err:
	if (ns->fd >= 0)
		close(ns->fd);
	free(ns);
	return err;
}

/* Resolve the pinned flow table's size so this load reuses it. */
static int pinned_max_entries(struct np_daemon *d, const char *name, uint32_t *max)
{
	struct bpf_map_info info = {};
	__u32 len = sizeof(info);
	int fd, err;

	fd = pins_open_map(d->pin_dir, name, 1);
	if (fd < 0)
		return fd;
	err = bpf_obj_get_info_by_fd(fd, &info, &len);
	close(fd);
	if (err)
		return -errno;
	*max = info.max_entries;
	return 0;
}

/* Does the XDP flow cache run here? (timer_pin_probe in bpf/flow.bpf.c) */
static int flow_cache_works(struct flow_bpf *skel)
{
	unsigned char frame[64] = {};
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = frame, .data_size_in = sizeof(frame), .repeat = 1);

	if (!bpf_program__autoload(skel->progs.timer_pin_probe) ||
	    bpf_prog_test_run_opts(bpf_program__fd(skel->progs.timer_pin_probe), &o))
		return 0;
	return skel->bss->timer_pin_err == 0;
}

/*
 * Where a kernel refuses the flow programs (5.10: pointer arguments of
 * global functions, timer callbacks), their *_compat versions count the
 * same without the XDP flow cache (bpf/flow.bpf.c).
 */
static const struct prog_opt flow_opts[] = {
	{ "xdp_ingress", "xdp_ingress_compat", "no XDP counting", 1 },
	{ "xdp_ingress_direct", "xdp_ingress_compat", "no generic XDP counting", 1 },
	{ "tc_ingress", "tc_ingress_compat", "no TC ingress counting", 1 },
	{ "tc_egress", "tc_egress_compat", "no TC egress counting", 1 },
	{ "timer_pin_probe", NULL, "no XDP flow cache", 0, 1 },
};

const struct np_object flow_object = {
	"flow", flow_bpf__elf_bytes, flow_opts, sizeof(flow_opts) / sizeof(flow_opts[0]), 1,
};

static void *flow_open(struct np_daemon *d, void *arg, const struct prog_plan *plan)
{
	LIBBPF_OPTS(bpf_object_open_opts, opts, .pin_root_path = d->pin_dir);
	struct np_netns *ns = arg;
	struct flow_bpf *skel;
	int ncpu;

	skel = flow_bpf__open_opts(&opts);
	if (!skel)
		return NULL;
	skel->rodata->netns_ino = ns->ino;
	skel->rodata->precise_clock = d->precise_clock;
	bpf_map__set_max_entries(skel->maps.flows, d->max_flows);
	bpf_map__set_max_entries(skel->maps.flows_ended, d->max_flows);
	ncpu = libbpf_num_possible_cpus();
	if (ncpu > 0)
		bpf_map__set_max_entries(skel->maps.flow_cache, ncpu);
	object_apply(&flow_object, plan, skel->obj);
	return skel;
}

SKEL_OPS(flow, flow_open);

/* The program, or its alternative where this kernel refused it (progload.h). */
static struct bpf_program *loaded(struct bpf_program *prog, struct bpf_program *alt)
{
	return bpf_program__autoload(prog) ? prog : alt;
}

int netns__load(struct np_daemon *d, struct np_netns *ns)
{
	struct flow_bpf *skel;
	uint32_t pinned = 0;

	if (pinned_max_entries(d, FLOWS_MAP, &pinned) == 0) {
		if (d->max_flows && d->max_flows != pinned) {
			pr_err("the pinned flow table at %s/%s holds %u flows, not %u: drop --max-flows, or run 'netprofd --remove' first",
			       d->pin_dir, FLOWS_MAP, pinned, d->max_flows);
			return -EINVAL;
		}
		d->max_flows = pinned;
	} else if (!d->max_flows) {
		d->max_flows = FLOWS_DEFAULT_MAX;
	}
	/* the first namespace's load says what runs: the others load the same */
	skel = object_load(d, &flow_object, &flow_ops, ns, ns == d->netns ? NP_CAP_FLOWS : -1,
			   &d->flow_plan);
	if (!skel) {
		if (errno == ENOTSUP)
			pr_err("this kernel refuses netprof's flow programs: %s (docs/kernels.md lists the kernels that run them)",
			       d->caps[NP_CAP_FLOWS].why);
		return -errno;
	}
	ns->skel = skel;
	if (ns == d->netns && !flow_cache_works(skel))
		cap_note(d, NP_CAP_FLOWS,
			 "no XDP flow cache (it needs a BPF timer pinned to a CPU, 6.7+): every frame updates the flow table");
	return 0;
}

int iface__wanted(const struct np_daemon *d, const char *name)
{
	int i;

	if (!d->ifnames)
		return 1;
	for (i = 0; i < d->n_ifnames; i++)
		if (!strcmp(d->ifnames[i], name))
			return 1;
	return 0;
}

struct np_iface *iface__find(struct np_netns *ns, int ifindex)
{
	struct np_iface *i;

	for (i = ns->ifaces; i; i = i->next)
		if (i->ifindex == ifindex)
			return i;
	return NULL;
}

/* links/xdp-INO-IFINDEX, links/tcx-in-INO-IFINDEX, links/tcx-eg-INO-IFINDEX */
static int link_pin_path(struct np_daemon *d, struct np_netns *ns, const char *what, int ifindex,
			 char *buf, size_t len)
{
	int n = snprintf(buf, len, "%s/%s/%s-%u-%d", d->pin_dir, NETPROF_PIN_LINKS, what,
			 ns->ino, ifindex);

	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

static int xdp_link_pin_path(struct np_daemon *d, struct np_netns *ns, int ifindex,
			     char *buf, size_t len)
{
	return link_pin_path(d, ns, "xdp", ifindex, buf, len);
}

static const char *tcx_pin_name(enum bpf_tc_attach_point where)
{
	return where == BPF_TC_INGRESS ? "tcx-in" : "tcx-eg";
}

/* Detach the link pinned at path, if it is one, and remove the pin: 1 if there was one. */
static int link_unpin(const char *path)
{
	int fd = bpf_obj_get(path);

	if (fd < 0)
		return 0;
	bpf_link_detach(fd);
	close(fd);
	unlink(path);
	return 1;
}

/*
 * xdp_ingress counts through the flow cache, whose timer must not interrupt
 * it: native XDP runs in softirq (NAPI) or with softirqs off (tun).
 * Generic XDP may run where softirqs can: xdp_ingress_direct.
 */
static int xdp_prog_fd(struct np_netns *ns, int native)
{
	struct flow_bpf *s = ns->skel;

	return bpf_program__fd(native ? loaded(s->progs.xdp_ingress, s->progs.xdp_ingress_compat)
				      : loaded(s->progs.xdp_ingress_direct, s->progs.xdp_ingress_compat));
}

/*
 * XDP through a pinned bpf_link: the programs outlive the daemon (--keep),
 * and a restarted daemon swaps its new program into the same link instead
 * of attaching a second time. native: the driver's mode, else generic.
 * Called inside the namespace.
 */
static int attach_xdp(struct np_daemon *d, struct np_netns *ns, struct np_iface *ifc, int want_native,
		      int *adopted)
{
	LIBBPF_OPTS(bpf_link_create_opts, lopts);
	LIBBPF_OPTS(bpf_xdp_query_opts, q);
	char path[512];
	int fd, err, native;

	err = xdp_link_pin_path(d, ns, ifc->ifindex, path, sizeof(path));
	if (err)
		return err;

	fd = bpf_obj_get(path);
	if (fd >= 0) {
		/* the link keeps its mode: the program must suit it */
		native = bpf_xdp_query(ifc->ifindex, 0, &q) == 0 &&
			 q.attach_mode != XDP_ATTACHED_SKB;
		if (bpf_link_update(fd, xdp_prog_fd(ns, native), NULL) == 0) {
			*adopted = 1;
			goto attached;
		}
		/* the device behind that link went away: start over */
		pr_debug("stale XDP link %s: %s\n", path, strerror(errno));
		close(fd);
		unlink(path);
	}

	native = want_native;
	lopts.flags = native ? XDP_FLAGS_DRV_MODE : XDP_FLAGS_SKB_MODE;
	fd = bpf_link_create(xdp_prog_fd(ns, native), ifc->ifindex, BPF_XDP, &lopts);
	if (fd < 0)
		return -errno;
	if (bpf_obj_pin(fd, path)) {
		err = -errno;
		pr_warn("cannot pin XDP link at %s: %s\n", path, strerror(-err));
		close(fd);
		return err;
	}
attached:
	ifc->xdp_link_fd = fd;
	ifc->attach |= native ? IFACE_XDP_NATIVE : IFACE_XDP_GENERIC;
	return 0;
}

static struct bpf_program *tc_prog(struct np_netns *ns, enum bpf_tc_attach_point where)
{
	struct flow_bpf *s = ns->skel;

	return where == BPF_TC_INGRESS ? loaded(s->progs.tc_ingress, s->progs.tc_ingress_compat)
				       : loaded(s->progs.tc_egress, s->progs.tc_egress_compat);
}

/*
 * Our filter on the clsact qdisc, if there is one (the qdisc stays: others
 * may use it): 1 if there was one.
 */
static int tc_detach_one(int ifindex, enum bpf_tc_attach_point where)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex, .attach_point = where);
	LIBBPF_OPTS(bpf_tc_opts, opts, .handle = NP_TC_HANDLE, .priority = NP_TC_PRIO);

	return bpf_tc_detach(&hook, &opts) == 0;
}

/* A filter on the clsact qdisc (before tcx links, 6.6). */
static int attach_clsact(struct np_netns *ns, struct np_iface *ifc, enum bpf_tc_attach_point where,
			 int *adopted)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifc->ifindex, .attach_point = where);
	LIBBPF_OPTS(bpf_tc_opts, q, .handle = NP_TC_HANDLE, .priority = NP_TC_PRIO);
	LIBBPF_OPTS(bpf_tc_opts, opts, .handle = NP_TC_HANDLE, .priority = NP_TC_PRIO,
		    .flags = BPF_TC_F_REPLACE);
	int err;

	err = bpf_tc_hook_create(&hook);
	if (err && err != -EEXIST)
		return err;
	if (bpf_tc_query(&hook, &q) == 0)
		*adopted = 1;
	opts.prog_fd = bpf_program__fd(tc_prog(ns, where));
	/* REPLACE creates the filter, or swaps the program of ours atomically */
	return bpf_tc_attach(&hook, &opts);
}

/*
 * A tcx link (6.6+; libbpf 1.1 has no API for it, bpf_link_create does it),
 * pinned like the XDP link and updated in place by a restarted daemon. tcx
 * skips the clsact qdisc and the classifier around the program: the hook
 * itself costs less (docs/PERFORMANCE.md). Our programs return TCX_NEXT
 * (TC_ACT_UNSPEC): whatever runs after them still runs.
 */
#define NP_BPF_TCX_INGRESS	46	/* enum bpf_attach_type, 6.6 */
#define NP_BPF_TCX_EGRESS	47

static int attach_tcx(struct np_daemon *d, struct np_netns *ns, struct np_iface *ifc,
		      enum bpf_tc_attach_point where, int *adopted)
{
	int prog_fd = bpf_program__fd(tc_prog(ns, where)), fd, err;
	char path[512];

	err = link_pin_path(d, ns, tcx_pin_name(where), ifc->ifindex, path, sizeof(path));
	if (err)
		return err;
	fd = bpf_obj_get(path);
	if (fd >= 0) {
		err = bpf_link_update(fd, prog_fd, NULL) ? -errno : 0;
		close(fd);
		if (!err) {
			*adopted = 1;
			return 0;
		}
		/* the device behind that link went away: start over */
		unlink(path);
	}
	fd = bpf_link_create(prog_fd, ifc->ifindex,
			     where == BPF_TC_INGRESS ? NP_BPF_TCX_INGRESS : NP_BPF_TCX_EGRESS, NULL);
	if (fd < 0)
		return -errno;
	err = bpf_obj_pin(fd, path) ? -errno : 0;
	if (err)
		pr_warn("cannot pin tcx link at %s: %s\n", path, strerror(-err));
	/* the pin holds it; without one, the link goes with the fd */
	close(fd);
	return err;
}

/*
 * One TC hook: a tcx link where the kernel has them (the first attach
 * tells: EINVAL is a kernel that does not know the attach type), else a
 * clsact filter. What an earlier daemon left on the other kind of hook is
 * removed once ours counts, so no packet is counted twice or missed.
 */
static int attach_tc(struct np_daemon *d, struct np_netns *ns, struct np_iface *ifc,
		     enum bpf_tc_attach_point where, int *adopted)
{
	char path[512];
	int err;

	if (d->tcx != 0) {
		err = attach_tcx(d, ns, ifc, where, adopted);
		if (!err) {
			if (d->tcx < 0)
				d->tcx = 1;
			ifc->attach |= IFACE_TCX;
			/* an earlier daemon's filter: ours now counts instead */
			*adopted |= tc_detach_one(ifc->ifindex, where);
			return 0;
		}
		if (d->tcx == 2) {
			pr_warn("%s: tcx link refused (%s), and --tc tcx asked for it\n", ifc->name,
				strerror(-err));
			return err;
		}
		if (d->tcx < 0 && err == -EINVAL) {
			d->tcx = 0;
			pr_info("this kernel has no tcx links (6.6+): TC programs attach as clsact filters\n");
		} else {
			pr_warn("%s: tcx link refused (%s); attaching a clsact filter\n", ifc->name,
				strerror(-err));
		}
	}
	err = attach_clsact(ns, ifc, where, adopted);
	if (!err && !link_pin_path(d, ns, tcx_pin_name(where), ifc->ifindex, path, sizeof(path)))
		*adopted |= link_unpin(path);
	return err;
}

static void iface_info_publish(struct np_daemon *d, struct np_netns *ns, struct np_iface *ifc)
{
	struct iface_key k = { .netns_ino = ns->ino, .ifindex = ifc->ifindex };
	struct iface_info v = {};

	snprintf(v.name, sizeof(v.name), "%s", ifc->name);
	snprintf(v.netns, sizeof(v.netns), "%s", ns->name);
	v.attach = ifc->attach;
	v.why = ifc->why;
	v.attached_ns = now_mono_ns();
	if (bpf_map_update_elem(d->ifaces_fd, &k, &v, BPF_ANY))
		pr_warn("cannot record %s in the ifaces map: %s\n", ifc->name, strerror(errno));
}

static const char *ns_label(const struct np_netns *ns);

void iface__rename(struct np_daemon *d, struct np_netns *ns, struct np_iface *ifc,
		   const char *name)
{
	pr_info("%s (netns %s) is now %s\n", ifc->name, ns_label(ns), name);
	snprintf(ifc->name, sizeof(ifc->name), "%s", name);
	iface_info_publish(d, ns, ifc);
}

static const char *ns_label(const struct np_netns *ns)
{
	return ns->name[0] ? ns->name : "(own)";
}

/* Take our XDP link off an interface, if an earlier daemon left one: 1 if so. */
static int xdp_unpin(struct np_daemon *d, struct np_netns *ns, struct np_iface *ifc)
{
	char path[512];

	return !xdp_link_pin_path(d, ns, ifc->ifindex, path, sizeof(path)) && link_unpin(path);
}

/*
 * Where ingress is counted on this interface (issue 20). --xdp auto: at
 * XDP only on a device whose driver runs it natively and keeps its
 * offloads; at TC everywhere else. XDP on a veth turns off its peer's
 * segmentation offloads (TSO, USO, GSO lists: TCP between two namespaces
 * ran at 43% of its speed without netprof); loopback has only generic XDP,
 * and on other virtual devices XDP
 * costs more than TC for the same count. TC ingress is attached first and
 * counts whatever XDP does not mark, so the choice never loses a packet.
 * Called inside the namespace.
 */
static void place_ingress(struct np_daemon *d, struct np_netns *ns, struct np_iface *ifc,
			  const struct np_link *l, int *adopted)
{
	char lost[256], peer[IF_NAMESIZE], *watch = ifc->name;
	struct dev_features before, after;
	int err, xdp_adopted = 0, have_before;

	if (d->xdp_mode == XDP_MODE_OFF) {
		ifc->why = IFACE_WHY_ASKED;
		*adopted |= xdp_unpin(d, ns, ifc);
		return;
	}
	if (d->xdp_mode == XDP_MODE_AUTO) {
		ifc->why = l->loopback ? IFACE_WHY_LOOPBACK :
			   !strcmp(l->kind, "veth") ? IFACE_WHY_VETH :
			   l->kind[0] ? IFACE_WHY_VIRTUAL : IFACE_WHY_NATIVE;
		if (ifc->why != IFACE_WHY_NATIVE) {
			*adopted |= xdp_unpin(d, ns, ifc);
			return;
		}
	} else {
		ifc->why = IFACE_WHY_ASKED;
	}

	/* XDP on a veth changes its peer: watch the peer where we can see it */
	if (!strcmp(l->kind, "veth") && l->link_local && if_indextoname(l->link_local, peer))
		watch = peer;
	have_before = dev_features_get(watch, &before) == 0;
	err = attach_xdp(d, ns, ifc, d->xdp_mode != XDP_MODE_GENERIC_ONLY, &xdp_adopted);
	if (err) {
		if (d->xdp_mode == XDP_MODE_AUTO && err == -EOPNOTSUPP) {
			ifc->why = IFACE_WHY_NO_NATIVE;
			return;
		}
		ifc->why = IFACE_WHY_XDP_FAILED;
		pr_warn("%s (netns %s): XDP not attached (%s); counting ingress at TC\n",
			ifc->name, ns_label(ns), strerror(-err));
		return;
	}
	*adopted |= xdp_adopted;
	/* an adopted link was there before: nothing to compare with */
	if (xdp_adopted || !have_before || dev_features_get(watch, &after) ||
	    !dev_features_lost(watch, &before, &after, lost, sizeof(lost))) {
		if (!strcmp(l->kind, "veth"))
			pr_warn("%s (netns %s): XDP on a veth turns off its peer's segmentation offloads (TSO): TCP through it may run at half its speed (--xdp auto counts at TC here)\n",
				ifc->name, ns_label(ns));
		return;
	}
	if (d->xdp_mode != XDP_MODE_AUTO) {
		pr_warn("%s (netns %s): attaching XDP turned off %s on %s: TCP through it may run at half its speed (--xdp auto counts at TC where XDP changes offloads)\n",
			ifc->name, ns_label(ns), lost, watch);
		return;
	}
	pr_info("%s (netns %s): native XDP turned off %s: counting ingress at TC instead\n",
		ifc->name, ns_label(ns), lost);
	bpf_link_detach(ifc->xdp_link_fd);
	close(ifc->xdp_link_fd);
	ifc->xdp_link_fd = -1;
	xdp_unpin(d, ns, ifc);
	ifc->attach &= ~(IFACE_XDP_NATIVE | IFACE_XDP_GENERIC);
	ifc->why = IFACE_WHY_OFFLOADS;
}

int iface__attach(struct np_daemon *d, struct np_netns *ns, const struct np_link *l)
{
	struct np_iface *ifc;
	char hooks[96];
	int err, adopted = 0;

	if (iface__find(ns, l->ifindex))
		return 0;
	ifc = calloc(1, sizeof(*ifc));
	if (!ifc)
		return -ENOMEM;
	ifc->ifindex = l->ifindex;
	ifc->xdp_link_fd = -1;
	snprintf(ifc->name, sizeof(ifc->name), "%s", l->name);

	err = netns_enter(d, ns);
	if (err) {
		pr_warn("cannot enter network namespace %s: %s\n", ns->name, strerror(-err));
		free(ifc);
		return err;
	}
	/* TC first: ingress is counted there until XDP marks what it counted */
	err = attach_tc(d, ns, ifc, BPF_TC_INGRESS, &adopted);
	if (!err)
		ifc->attach |= IFACE_TC_INGRESS;
	else
		pr_warn("%s (netns %s): TC ingress not attached: %s\n", l->name, ns_label(ns), strerror(-err));
	err = attach_tc(d, ns, ifc, BPF_TC_EGRESS, &adopted);
	if (!err)
		ifc->attach |= IFACE_TC_EGRESS;
	else
		pr_warn("%s (netns %s): TC egress not attached: %s\n", l->name, ns_label(ns), strerror(-err));
	place_ingress(d, ns, ifc, l, &adopted);
	netns_leave(d);

	if (!(ifc->attach & ~IFACE_TCX)) {
		free(ifc);
		return -ENODEV;
	}
	ifc->next = ns->ifaces;
	ns->ifaces = ifc;
	iface_info_publish(d, ns, ifc);
	d->info.ifaces++;
	pr_info("%s %s (netns %s, ifindex %d): %s (%s)\n", adopted ? "adopted" : "attached",
		l->name, ns_label(ns), l->ifindex, fmt_iface_hooks(hooks, sizeof(hooks), ifc->attach),
		iface_why_str(ifc->why));
	return 0;
}

/*
 * Forget an interface:
 *  IFACE_DETACH: take our programs off it and drop its pins (clean exit);
 *  IFACE_GONE:   it disappeared; drop its pins and its ifaces entry;
 *  IFACE_KEEP:   --keep: leave programs, pins and entry for the next daemon.
 */
void iface__detach(struct np_daemon *d, struct np_netns *ns, struct np_iface *ifc,
		   enum iface_forget how)
{
	struct iface_key k = { .netns_ino = ns->ino, .ifindex = ifc->ifindex };
	struct np_iface **pp;
	char path[512];

	if (how == IFACE_DETACH) {
		if (!(ifc->attach & IFACE_TCX) && !netns_enter(d, ns)) {
			tc_detach_one(ifc->ifindex, BPF_TC_INGRESS);
			tc_detach_one(ifc->ifindex, BPF_TC_EGRESS);
			netns_leave(d);
		}
		if (ifc->xdp_link_fd >= 0)
			bpf_link_detach(ifc->xdp_link_fd);
	}
	if (how != IFACE_KEEP) {
		static const char *const links[] = { "xdp", "tcx-in", "tcx-eg" };

		/* the tcx links are held by their pins alone: unpinning detaches them */
		for (size_t i = 0; i < sizeof(links) / sizeof(links[0]); i++)
			if (!link_pin_path(d, ns, links[i], ifc->ifindex, path, sizeof(path)))
				how == IFACE_DETACH ? link_unpin(path) : (void)unlink(path);
		bpf_map_delete_elem(d->ifaces_fd, &k);
	}
	if (ifc->xdp_link_fd >= 0)
		close(ifc->xdp_link_fd);
	for (pp = &ns->ifaces; *pp; pp = &(*pp)->next) {
		if (*pp == ifc) {
			*pp = ifc->next;
			break;
		}
	}
	d->info.ifaces--;
	free(ifc);
}

void netns__free(struct np_daemon *d, struct np_netns *ns, enum iface_forget how)
{
	if (!ns)
		return;
	while (ns->ifaces)
		iface__detach(d, ns, ns->ifaces, how);
	if (ns->nl)
		mnl_socket_close(ns->nl);
	flow_bpf__destroy(ns->skel);
	if (ns->fd >= 0)
		close(ns->fd);
	free(ns);
}

/*
 * netprofd --remove: undo what a daemon left behind (--keep, or a crash).
 * The ifaces map says where our programs are; the pins go last.
 */
/* Unlink path if it is a pinned BPF object: never another kind of file. */
static void unpin(const char *path)
{
	int fd = bpf_obj_get(path);

	if (fd < 0)
		return;
	close(fd);
	unlink(path);
}

/* Remove the pins of the maps an object pins (LIBBPF_PIN_BY_NAME) under pin_dir. */
static void unpin_maps(const struct np_object *o, const char *pin_dir)
{
	struct bpf_object *obj;
	struct bpf_map *m;
	const void *elf;
	size_t sz;

	elf = o->elf(&sz);
	obj = prog_open_quiet(elf, sz, pin_dir);
	if (!obj)
		return;
	bpf_object__for_each_map(m, obj)
		if (bpf_map__pin_path(m))
			unpin(bpf_map__pin_path(m));
	bpf_object__close(obj);
}

int remove_pinned(struct np_daemon *d)
{
	struct iface_key key, next, *prev = NULL;
	struct iface_info info;
	char path[512];
	struct dirent *de;
	unsigned int i;
	int fd, nsfd;
	DIR *dir;

	/* only pins: a directory elsewhere holds files netprof did not make */
	if (access(d->pin_dir, F_OK) && errno == ENOENT) {
		pr_info("nothing pinned in %s\n", d->pin_dir);
		return 0;
	}
	if (pins_is_bpffs(d->pin_dir)) {
		pr_err("%s is not on a bpffs: netprofd --remove removes netprof's pins only, give the --pin-dir netprofd ran with",
		       d->pin_dir);
		return -EINVAL;
	}
	fd = pins_open_map(d->pin_dir, IFACES_MAP, 1);
	while (fd >= 0 && bpf_map_get_next_key(fd, prev, &next) == 0) {
		key = next;
		prev = &key;
		if (bpf_map_lookup_elem(fd, &key, &info))
			continue;
		nsfd = -1;
		if (info.netns[0]) {
			/* the pinned map is data anyone with the pins could have written */
			if (netns_name_check(info.netns))
				continue;
			snprintf(path, sizeof(path), "/var/run/netns/%s", info.netns);
			nsfd = open(path, O_RDONLY | O_CLOEXEC);
			if (nsfd < 0 || setns(nsfd, CLONE_NEWNET)) {
				pr_info("netns %s is gone; nothing to detach there\n", info.netns);
				if (nsfd >= 0)
					close(nsfd);
				continue;
			}
		}
		tc_detach_one(key.ifindex, BPF_TC_INGRESS);
		tc_detach_one(key.ifindex, BPF_TC_EGRESS);
		if (nsfd >= 0) {
			close(nsfd);
			netns_leave(d);
		}
		pr_info("detached TC from %s (netns %s)\n", info.name, info.netns[0] ? info.netns : "(own)");
	}
	if (fd >= 0)
		close(fd);

	/* removing the last reference to an XDP link detaches it */
	snprintf(path, sizeof(path), "%s/%s", d->pin_dir, NETPROF_PIN_LINKS);
	dir = opendir(path);
	while (dir && (de = readdir(dir))) {
		char p[800];

		if (de->d_name[0] == '.')
			continue;
		snprintf(p, sizeof(p), "%s/%s", path, de->d_name);
		fd = bpf_obj_get(p);
		if (fd < 0)
			continue;	/* not a pin: not ours to remove */
		bpf_link_detach(fd);
		close(fd);
		unlink(p);
	}
	if (dir)
		closedir(dir);
	rmdir(path);
	/* the maps the objects pin, as their own BTF says: no list to keep in step */
	for (i = 0; i < np_n_objects; i++)
		unpin_maps(np_objects[i], d->pin_dir);
	if (!pins_path(path, sizeof(path), d->pin_dir, NP_CAPS_MAP))
		unpin(path);
	/* the profile journal that goes with these pins */
	if (!pins_state_path(path, sizeof(path), d->pin_dir, PROF_JOURNAL)) {
		char old[520];

		unlink(path);
		snprintf(old, sizeof(old), "%s.1", path);
		unlink(old);
		/* and its directories, up to NETPROF_STATE_ROOT, while empty */
		if (!pins_state_path(path, sizeof(path), d->pin_dir, NULL)) {
			char *slash;

			while (strlen(path) >= strlen(NETPROF_STATE_ROOT) && !rmdir(path) &&
			       (slash = strrchr(path, '/')))
				*slash = '\0';
		}
	}
	if (rmdir(d->pin_dir) && errno != ENOENT) {
		pr_err("cannot remove %s: %s", d->pin_dir, strerror(errno));
		return -errno;
	}
	pr_info("removed %s\n", d->pin_dir);
	return 0;
}
