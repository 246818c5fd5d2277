// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * netprofd: load, attach and pin netprof's BPF programs, follow interfaces,
 * sweep finished flows. main parses the options (options.c), checks, loads
 * and starts the modules (module.h, modules.c: the flow core first) and
 * runs in the foreground: one epoll loop serves the signals, the sweep
 * timer, and the modules' events (rtnetlink per namespace, the metrics
 * endpoint...).
 */
#include <ctype.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <fcntl.h>
#include <sys/utsname.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <linux/capability.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "profile.h"
#include "format.h"
#include "log.h"
#include "pins.h"
#include "netprofd.h"
#include "module.h"
#include "options.h"
#include "progload.h"

#ifndef CAP_PERFMON
#define CAP_PERFMON 38
#endif
#ifndef CAP_BPF
#define CAP_BPF 39
#endif

static const char intro[] =
"Usage: netprofd [OPTIONS]\n"
"Load netprof's BPF programs, attach them to interfaces, pin the maps that\n"
"`netprof` reads, and keep following interfaces as they come and go.\n"
"\n";

static const char outro[] =
"\n"
"Durations take s, ms, m or h suffixes. SIGINT/SIGTERM detach cleanly\n"
"(the maps stay pinned, so `netprof flows` still reads them).\n";

static int set_keep_ended(struct np_daemon *d, const char *arg)
{
	return opt_duration("keep-ended", arg, 1 * S_, 30 * 86400 * S_, &d->keep_ended_ns);
}

static int set_sweep(struct np_daemon *d, const char *arg)
{
	return opt_duration("sweep-interval", arg, 10 * MS_, 3600 * S_, &d->sweep_interval_ns);
}

static int set_verbose(struct np_daemon *d, const char *arg)
{
	d->verbose++;
	return 0;
}

static int show_help(struct np_daemon *d, const char *arg);

/* the daemon's own options, around the modules' (module.h) */
static const struct np_option head_options[] = {
	OPT_STR("pin-dir", 'p', "DIR", "bpffs directory for pins (default " NETPROF_PIN_DIR ")", pin_arg),
	{ "keep-ended", 0, "DUR", "keep ended flows and closed sockets visible this long\n"
	  "(default 5m)", set_keep_ended },
	{ "sweep-interval", 0, "DUR", "how often to sweep (default 1s)", set_sweep },
	{}
};

static const struct np_option tail_options[] = {
	{ "keep", 'k', NULL, "on exit leave programs attached and pinned", NULL,
	  offsetof(struct np_daemon, keep) + 1 },
	OPT_FLAG("remove", "detach what the pins describe, remove them, exit", remove),
	OPT_FLAG("probe", "try every BPF program on this kernel, say which load\n"
		 "and why the others are refused, exit", probe),
	OPT_STR("without-prog", 0, "P,...", "leave out these BPF programs as if this kernel\n"
		"refused them (their fallbacks load instead)", without),
	{ "verbose", 'v', NULL, "more logs (twice: libbpf's too)", set_verbose },
	{ "help", 'h', NULL, "this text", show_help },
	{}
};

static const struct np_cmdline cmdline = { intro, head_options, tail_options, outro };

static int show_help(struct np_daemon *d, const char *arg)
{
	options_usage(stdout, &cmdline);
	return 1;
}

/*
 * Whether BPF memory is charged to the cgroup (5.11 on) rather than to
 * RLIMIT_MEMLOCK, which only CAP_SYS_RESOURCE may raise (libbpf raises it
 * where it must).
 */
static int memlock_needed(void)
{
	struct utsname u;
	unsigned int major = 0, minor = 0;

	if (uname(&u) || sscanf(u.release, "%u.%u", &major, &minor) != 2)
		return 0;
	return major < 5 || (major == 5 && minor < 11);
}

/* Name the capabilities that are missing, so the user can grant exactly those. */
static int check_caps(int need_netns)
{
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct data[2] = {};
	static const struct { int cap; const char *name; } caps[] = {
		{ CAP_BPF, "CAP_BPF" },
		{ CAP_NET_ADMIN, "CAP_NET_ADMIN" },
		{ CAP_PERFMON, "CAP_PERFMON" },
		{ CAP_SYS_ADMIN, "CAP_SYS_ADMIN" },
		{ CAP_SYS_RESOURCE, "CAP_SYS_RESOURCE" },
	};
	char missing[128] = "", setcap[128] = "";
	unsigned int i;

	if (syscall(SYS_capget, &hdr, data))
		return 0;	/* cannot tell: let the kernel say no later */
	for (i = 0; i < sizeof(caps) / sizeof(caps[0]); i++) {
		int c = caps[i].cap;
		int have = data[c / 32].effective & (1U << (c % 32));
		char *p;

		/* CAP_SYS_ADMIN: setns into --netns, and mounting bpffs where it is not */
		if (c == CAP_SYS_ADMIN && !need_netns && pins_is_bpffs("/sys/fs/bpf") == 0)
			continue;
		/* CAP_SYS_RESOURCE: RLIMIT_MEMLOCK for BPF maps, before 5.11 */
		if (c == CAP_SYS_RESOURCE && !memlock_needed())
			continue;
		if (!have) {
			strcat(missing, missing[0] ? ", " : "");
			strcat(missing, caps[i].name);
			strcat(setcap, setcap[0] ? "," : "");
			p = setcap + strlen(setcap);
			strcat(setcap, caps[i].name);
			for (; *p; p++)
				*p = tolower((unsigned char)*p);
		}
	}
	if (missing[0]) {
		pr_err("missing capabilities %s: run as root, or grant them (e.g. setcap %s+ep netprofd; docs/install.md)",
		       missing, setcap);
		return -EPERM;
	}
	return 0;
}

static int prepare_pin_dir(struct np_daemon *d)
{
	char links[512];
	struct stat st = {};
	int err;

	if (access("/sys/kernel/btf/vmlinux", R_OK)) {
		pr_err("this kernel has no BTF (/sys/kernel/btf/vmlinux): netprof needs CONFIG_DEBUG_INFO_BTF=y");
		return -ENOTSUP;
	}
	err = pins_mount_bpffs();
	if (err) {
		pr_err("bpffs is not mounted at /sys/fs/bpf and mounting it failed: %s; run 'mount -t bpf bpf /sys/fs/bpf'",
		       strerror(-err));
		return err;
	}
	if (mkdir(d->pin_dir, 0700)) {
		if (errno != EEXIST) {
			err = -errno;
			pr_err("cannot create pin directory %s: %s", d->pin_dir, strerror(-err));
			return err;
		}
	} else {
		d->made_pin_dir = 1;
	}
	err = pins_is_bpffs(d->pin_dir);
	if (err) {
		pr_err("%s is not on a bpffs: pick a --pin-dir under /sys/fs/bpf", d->pin_dir);
		return err;
	}
	/*
	 * /sys/fs/bpf is often world-writable: a directory another user made
	 * there beforehand would let that user remove the pins under us.
	 */
	if (lstat(d->pin_dir, &st) || !S_ISDIR(st.st_mode) || st.st_uid != geteuid() ||
	    (st.st_mode & (S_IWGRP | S_IWOTH))) {
		pr_err("%s is not a directory of netprofd's own user, closed to others (owner uid %u, mode %04o): remove it, or pick another --pin-dir",
		       d->pin_dir, (unsigned int)st.st_uid, (unsigned int)(st.st_mode & 07777));
		return -EPERM;
	}
	err = pins_check_all(d->pin_dir);
	if (err)
		return err;
	if (pins_path(links, sizeof(links), d->pin_dir, NETPROF_PIN_LINKS) ||
	    (mkdir(links, 0700) && errno != EEXIST)) {
		pr_err("cannot create %s: %s", links, strerror(errno));
		return -errno;
	}
	return 0;
}

static int epoll_add(int epfd, int fd, void *ptr)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = ptr };

	return epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) ? -errno : 0;
}

/* The option that turned the module off, or NULL. */
static const char *module_off(const struct np_daemon *d, const struct np_module *m)
{
	return m->off ? m->off(d) : NULL;
}

/* Capabilities turned off by options; the others are set as their modules start. */
static void caps_off(struct np_daemon *d)
{
	const struct np_module *m;
	unsigned int mi;

	for_each_module(mi, m)
		if (module_off(d, m))
			cap_set(d, m->cap, NP_CAP_OFF, module_off(d, m));
}

/* Markers for epoll data.ptr that are not namespaces. */
static char ev_signal, ev_timer;

/*
 * Start the early modules, or the others. A module this kernel cannot give
 * (-ENOTSUP) is named in its capability, and the rest runs.
 */
static int start_modules(struct np_daemon *d, int early)
{
	const struct np_module *m;
	unsigned int mi;
	int err;

	for_each_module(mi, m) {
		if (m->early != early || module_off(d, m) || !m->start)
			continue;
		err = m->start(d);
		if (err && err != -ENOTSUP)
			return err;
	}
	return 0;
}

/* An epoll event a module registered: 1 if one took it. */
static int module_event(struct np_daemon *d, void *p, uint32_t events)
{
	const struct np_module *m;
	unsigned int mi;

	for_each_module(mi, m)
		if (m->event && m->event(d, p, events))
			return 1;
	return 0;
}

static int run(struct np_daemon *d)
{
	const struct np_module *m;
	unsigned int mi;
	struct itimerspec its = {};
	struct epoll_event evs[16];
	sigset_t mask;
	int sigfd, tfd, n, i, err = 0;

	sigemptyset(&mask);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGTERM);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	sigfd = signalfd(-1, &mask, SFD_CLOEXEC);
	tfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC);
	if (sigfd < 0 || tfd < 0)
		return -errno;
	its.it_interval.tv_sec = d->sweep_interval_ns / 1000000000ULL;
	its.it_interval.tv_nsec = d->sweep_interval_ns % 1000000000ULL;
	its.it_value = its.it_interval;
	timerfd_settime(tfd, 0, &its, NULL);

	if ((err = epoll_add(d->epfd, sigfd, &ev_signal)) || (err = epoll_add(d->epfd, tfd, &ev_timer)))
		goto out;
	cap_say_now();
	pr_info("running (pid %d, pins in %s); Ctrl-C stops\n", getpid(), d->pin_dir);

	for (;;) {
		n = epoll_wait(d->epfd, evs, 16, -1);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			err = -errno;
			break;
		}
		for (i = 0; i < n; i++) {
			void *p = evs[i].data.ptr;

			if (p == &ev_signal) {
				struct signalfd_siginfo si;

				if (read(sigfd, &si, sizeof(si)) == sizeof(si))
					pr_info("%s: %s\n", strsignal(si.ssi_signo),
						d->keep ? "leaving programs attached (--keep)" : "detaching");
				goto out;
			} else if (p == &ev_timer) {
				uint64_t ticks;

				/* the flow core's tick is the sweep: first */
				if (read(tfd, &ticks, sizeof(ticks)) > 0)
					for_each_module(mi, m)
						if (m->tick)
							m->tick(d, now_mono_ns());
			} else {
				module_event(d, p, evs[i].events);
			}
		}
	}
out:
	close(sigfd);
	close(tfd);
	return err;
}

int main(int argc, char **argv)
{
	struct np_daemon d = {
		.idle_timeout_ns = 30ULL * 1000000000,
		.closed_timeout_ns = 2ULL * 1000000000,
		.keep_ended_ns = NETPROF_KEEP_ENDED_DEFAULT_NS,
		.sweep_interval_ns = 1000000000ULL,
		.flows_fd = -1, .ended_fd = -1, .ifaces_fd = -1, .daemon_fd = -1,
		.host_netns_fd = -1, .tcx = -1, .epfd = -1, .cgroup_fd = -1, .socks_fd = -1, .socks_closed_fd = -1, .conn_agg_fd = -1,
		.cgroup_names_fd = -1,
		.prof_hz = PROF_DEFAULT_HZ, .prof_window_ns = PROF_DEFAULT_WINDOW_NS,
		.prof_cgroup_fd = -1,
		.ipfix_active_ns = 60ULL * 1000000000, .ipfix_templates_ns = 60ULL * 1000000000,
		.caps_fd = -1,
	};
	const struct np_module *m;
	unsigned int mi;
	int err, started = 0;

	log_init("netprofd", LOG_INFO);
	err = options_parse(&d, &cmdline, argc, argv);
	if (err)
		return err == 1 ? 0 : err == -ENOMEM ? 1 : 2;
	log_init("netprofd", LOG_INFO + d.verbose);
	log_setup_libbpf();
	d.pin_dir = pins_dir(d.pin_arg);

	if (check_caps(d.n_netns > 0))
		return 1;
	d.host_netns_fd = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	if (d.host_netns_fd < 0) {
		pr_err("cannot open /proc/self/ns/net: %s", strerror(errno));
		return 1;
	}
	if (d.remove)
		return remove_pinned(&d) ? 1 : 0;
	if (d.probe)
		return probe_print(stdout) ? 3 : 0;
	if (d.without) {
		char bad[64];

		if (objects_have_progs(d.without, bad, sizeof(bad))) {
			pr_err("--without-prog: '%s' is not one of netprofd's BPF programs (netprofd --probe lists them)",
			       bad);
			return 1;
		}
	}
	if (prepare_pin_dir(&d))
		return 1;
	caps_off(&d);
	err = caps_open(&d);
	if (err) {
		pr_err("cannot pin the capability table in %s: %s", d.pin_dir, strerror(-err));
		return 1;
	}
	/* every check before anything loads; then the flow core loads (pins, attaches nothing) */
	for_each_module(mi, m)
		if (!module_off(&d, m) && m->check && (err = m->check(&d)))
			goto cleanup;
	for_each_module(mi, m)
		if (!module_off(&d, m) && m->load && (err = m->load(&d)))
			goto cleanup;
	d.epfd = epoll_create1(EPOLL_CLOEXEC);
	if (d.epfd < 0) {
		err = -errno;
		goto cleanup;
	}
	/*
	 * The exporters first, before any interface or cgroup gets a program;
	 * then the others in table order, the flow core first: a mistake must
	 * not leave programs on a cgroup. A module this kernel cannot give is
	 * named in its capability, and the rest runs.
	 */
	err = start_modules(&d, 1);
	if (!err)
		err = start_modules(&d, 0);
	if (err)
		goto cleanup;
	daemon_info_write(&d);
	started = 1;
	err = run(&d);
cleanup:
	/* first the record (its map fd goes with the first namespace's skeleton) */
	if (d.daemon_fd >= 0) {
		d.info.pid = 0;
		if (!d.keep)
			d.info.ifaces = 0;
		daemon_info_write(&d);
	}
	/* nothing counts any more (unless --keep); then in reverse: ipfix
	   exports the live flows' last records, the flow core goes last */
	for_each_module(mi, m)
		if (m->quiesce)
			m->quiesce(&d);
	for (mi = np_n_modules; mi-- > 0;)
		if (np_modules[mi]->stop)
			np_modules[mi]->stop(&d);
	if (d.epfd >= 0)
		close(d.epfd);
	/* a start that failed leaves nothing behind in a directory it made */
	if (err && !started && d.made_pin_dir) {
		int level = log_level;

		log_level = LOG_WARN;	/* the error above stays the one line said */
		if (remove_pinned(&d))
			pr_warn("could not remove %s: run netprofd --remove -p %s\n", d.pin_dir, d.pin_dir);
		log_level = level;
	}
	close(d.host_netns_fd);
	free(d.ifnames);
	free(d.netns_names);
	return err ? 1 : 0;
}
