// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * netprofd: load, attach and pin netprof's BPF programs, follow interfaces,
 * sweep finished flows. Runs in the foreground; one epoll loop serves the
 * signals, the sweep timer and one rtnetlink socket per namespace.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <fcntl.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <linux/capability.h>
#include <libmnl/libmnl.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "flow.skel.h"
#include "profile.h"
#include "cgroup.h"
#include "format.h"
#include "grow.h"
#include "log.h"
#include "pins.h"
#include "netprofd.h"
#include "module.h"
#include "progload.h"

#ifndef CAP_PERFMON
#define CAP_PERFMON 38
#endif
#ifndef CAP_BPF
#define CAP_BPF 39
#endif

static const char usage_text[] =
"Usage: netprofd [OPTIONS]\n"
"Load netprof's BPF programs, attach them to interfaces, pin the maps that\n"
"`netprof` reads, and keep following interfaces as they come and go.\n"
"\n"
"  -i, --interface IF       attach to IF only (repeatable; default: every interface)\n"
"  -n, --netns NAME         follow the interfaces of network namespace NAME\n"
"                           (repeatable; without it: netprofd's own namespace)\n"
"  -p, --pin-dir DIR        bpffs directory for pins (default " NETPROF_PIN_DIR ")\n"
"  -m, --max-flows N        flow table size (default 65536; fixed once pinned)\n"
"  -c, --cgroup PATH        track TCP sockets of this cgroup v2 and below\n"
"                           (default: the whole hierarchy)\n"
"      --max-sockets N      socket table size (default 65536; fixed once pinned)\n"
"      --no-sockets         flows only: no socket tracking (and no latency stages)\n"
"      --no-latency         no per-stage latency of TCP connections\n"
"      --rtt-from-start     per-ACK RTT samples from a connection's first ACK\n"
"                           (default: from the first pass after its handshake;\n"
"                           costs about 5% of loopback connection churn)\n"
"      --no-profile         no CPU profiler\n"
"      --profile-hz N       CPU samples per second on each CPU (default 99)\n"
"      --profile-window DUR a sample belongs to the socket its thread last sent\n"
"                           or received on this recently (default 100ms)\n"
"      --profile-pid PID    profile only this process\n"
"      --profile-cgroup PATH profile only this cgroup v2 and below\n"
"      --profile-comm NAME  profile only threads with this command name\n"
"      --debug-dir DIR      separate debug files (default /usr/lib/debug)\n"
"      --metrics ADDR:PORT  serve Prometheus metrics on http://ADDR:PORT/metrics\n"
"                           (PORT alone: 127.0.0.1; :PORT: every address)\n"
"      --metrics-peers      label remote clients by address (default: \"remote\")\n"
"      --ipfix HOST:PORT    export flows as IPFIX over UDP to a collector\n"
"      --ipfix-active DUR   export long flows this often (default 60s; ended\n"
"                           flows go at once, after --idle-timeout for idle ones)\n"
"      --ipfix-templates DUR resend the templates this often (default 60s)\n"
"      --idle-timeout DUR   end flows idle this long (default 30s)\n"
"      --closed-timeout DUR end closed TCP flows quiet this long (default 2s)\n"
"      --keep-ended DUR     keep ended flows and closed sockets visible this long\n"
"                           (default 5m)\n"
"      --sweep-interval DUR how often to sweep (default 1s)\n"
"      --xdp MODE           auto|native|generic|off (default auto)\n"
"      --precise-clock      every timestamp from the precise clock (default:\n"
"                           flow times advance per tick, timing samples precise)\n"
"  -k, --keep               on exit leave programs attached and pinned\n"
"      --remove             detach what the pins describe, remove them, exit\n"
"      --probe              try every BPF program on this kernel, say which load\n"
"                           and why the others are refused, exit\n"
"      --without-prog P,... leave out these BPF programs as if this kernel\n"
"                           refused them (their fallbacks load instead)\n"
"  -v, --verbose            more logs (twice: libbpf's too)\n"
"  -h, --help               this text\n"
"\n"
"Durations take s, ms, m or h suffixes. SIGINT/SIGTERM detach cleanly\n"
"(the maps stay pinned, so `netprof flows` still reads them).\n";

enum {
	OPT_IDLE = 256, OPT_CLOSED, OPT_KEEP_ENDED, OPT_SWEEP, OPT_XDP, OPT_REMOVE, OPT_PRECISE,
	OPT_MAX_SOCKETS, OPT_NO_SOCKETS, OPT_RTT_START, OPT_NO_LATENCY,
	OPT_NO_PROFILE, OPT_PROFILE_HZ, OPT_PROFILE_WINDOW, OPT_DEBUG_DIR,
	OPT_PROFILE_PID, OPT_PROFILE_CGROUP, OPT_PROFILE_COMM, OPT_METRICS, OPT_METRICS_PEERS,
	OPT_IPFIX, OPT_IPFIX_ACTIVE, OPT_IPFIX_TEMPLATES, OPT_PROBE, OPT_WITHOUT_PROG,
};

static const struct option long_opts[] = {
	{ "interface",      required_argument, NULL, 'i' },
	{ "netns",          required_argument, NULL, 'n' },
	{ "pin-dir",        required_argument, NULL, 'p' },
	{ "max-flows",      required_argument, NULL, 'm' },
	{ "cgroup",         required_argument, NULL, 'c' },
	{ "max-sockets",    required_argument, NULL, OPT_MAX_SOCKETS },
	{ "no-sockets",     no_argument,       NULL, OPT_NO_SOCKETS },
	{ "rtt-from-start", no_argument,       NULL, OPT_RTT_START },
	{ "no-latency",     no_argument,       NULL, OPT_NO_LATENCY },
	{ "no-profile",     no_argument,       NULL, OPT_NO_PROFILE },
	{ "profile-hz",     required_argument, NULL, OPT_PROFILE_HZ },
	{ "profile-window", required_argument, NULL, OPT_PROFILE_WINDOW },
	{ "debug-dir",      required_argument, NULL, OPT_DEBUG_DIR },
	{ "profile-pid",    required_argument, NULL, OPT_PROFILE_PID },
	{ "profile-cgroup", required_argument, NULL, OPT_PROFILE_CGROUP },
	{ "profile-comm",   required_argument, NULL, OPT_PROFILE_COMM },
	{ "metrics",        required_argument, NULL, OPT_METRICS },
	{ "metrics-peers",  no_argument,       NULL, OPT_METRICS_PEERS },
	{ "ipfix",          required_argument, NULL, OPT_IPFIX },
	{ "ipfix-active",   required_argument, NULL, OPT_IPFIX_ACTIVE },
	{ "ipfix-templates", required_argument, NULL, OPT_IPFIX_TEMPLATES },
	{ "idle-timeout",   required_argument, NULL, OPT_IDLE },
	{ "closed-timeout", required_argument, NULL, OPT_CLOSED },
	{ "keep-ended",     required_argument, NULL, OPT_KEEP_ENDED },
	{ "sweep-interval", required_argument, NULL, OPT_SWEEP },
	{ "xdp",            required_argument, NULL, OPT_XDP },
	{ "precise-clock",  no_argument,       NULL, OPT_PRECISE },
	{ "keep",           no_argument,       NULL, 'k' },
	{ "remove",         no_argument,       NULL, OPT_REMOVE },
	{ "probe",          no_argument,       NULL, OPT_PROBE },
	{ "without-prog",   required_argument, NULL, OPT_WITHOUT_PROG },
	{ "verbose",        no_argument,       NULL, 'v' },
	{ "help",           no_argument,       NULL, 'h' },
	{}
};

static int parse_dur_opt(const char *name, const char *arg, uint64_t *ns)
{
	if (parse_duration(arg, ns) || *ns == 0) {
		pr_err("--%s '%s' is not a duration: use e.g. 30s, 500ms, 5m", name, arg);
		return -EINVAL;
	}
	return 0;
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
	};
	char missing[128] = "";
	unsigned int i;

	if (syscall(SYS_capget, &hdr, data))
		return 0;	/* cannot tell: let the kernel say no later */
	for (i = 0; i < sizeof(caps) / sizeof(caps[0]); i++) {
		int c = caps[i].cap;
		int have = data[c / 32].effective & (1U << (c % 32));

		/* CAP_SYS_ADMIN: setns into --netns and mounting bpffs */
		if (c == CAP_SYS_ADMIN && !need_netns && !pins_is_bpffs("/sys/fs/bpf"))
			continue;
		if (!have) {
			strcat(missing, missing[0] ? ", " : "");
			strcat(missing, caps[i].name);
		}
	}
	if (missing[0]) {
		pr_err("missing capabilities %s: run as root, or grant them (e.g. setcap %s+ep netprofd; docs/install.md)",
		       missing, "cap_bpf,cap_net_admin,cap_perfmon,cap_sys_admin,cap_dac_read_search,cap_syslog");
		return -EPERM;
	}
	return 0;
}

static int prepare_pin_dir(struct np_daemon *d)
{
	char links[512];
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
	if (mkdir(d->pin_dir, 0700) && errno != EEXIST) {
		err = -errno;
		pr_err("cannot create pin directory %s: %s", d->pin_dir, strerror(-err));
		return err;
	}
	err = pins_is_bpffs(d->pin_dir);
	if (err) {
		pr_err("%s is not on a bpffs: pick a --pin-dir under /sys/fs/bpf", d->pin_dir);
		return err;
	}
	if (pins_path(links, sizeof(links), d->pin_dir, NETPROF_PIN_LINKS) ||
	    (mkdir(links, 0700) && errno != EEXIST)) {
		pr_err("cannot create %s: %s", links, strerror(errno));
		return -errno;
	}
	return 0;
}

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

	d->flows_fd = bpf_map__fd(skel->maps.flows);
	d->ended_fd = bpf_map__fd(skel->maps.flows_ended);
	d->ifaces_fd = bpf_map__fd(skel->maps.ifaces);
	d->daemon_fd = bpf_map__fd(skel->maps.daemon);
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

static int epoll_add(int epfd, int fd, void *ptr)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = ptr };

	return epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) ? -errno : 0;
}

/* Capabilities turned off by options; the others are set as their modules start. */
static void caps_off(struct np_daemon *d)
{
	const struct np_module *m;
	unsigned int mi;

	for_each_module(mi, m)
		if (m->off(d))
			cap_set(d, m->cap, NP_CAP_OFF, m->off(d));
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
		if (m->early != early || m->off(d))
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
	struct np_netns *ns;
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
	for (ns = d->netns; ns; ns = ns->next) {
		err = epoll_add(d->epfd, mnl_socket_get_fd(ns->nl), ns);
		if (err)
			goto out;
	}
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

				if (read(tfd, &ticks, sizeof(ticks)) > 0) {
					sweep(d);
					for_each_module(mi, m)
						if (m->tick)
							m->tick(d, now_mono_ns());
				}
			} else if (!module_event(d, p, evs[i].events)) {
				rtnl__process(d, p);
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
		.host_netns_fd = -1, .epfd = -1, .cgroup_fd = -1, .socks_fd = -1, .socks_closed_fd = -1, .conn_agg_fd = -1,
		.cgroup_names_fd = -1,
		.prof_hz = PROF_DEFAULT_HZ, .prof_window_ns = PROF_DEFAULT_WINDOW_NS,
		.prof_cgroup_fd = -1,
		.ipfix_active_ns = 60ULL * 1000000000, .ipfix_templates_ns = 60ULL * 1000000000,
		.caps_fd = -1,
	};
	const char *pin_dir = NULL;
	char **netns_names = NULL;
	size_t cap_ifnames = 0, cap_netns = 0;
	int n_netns = 0, opt, verbose = 0, remove = 0, probe = 0, err, i;
	struct np_netns *ns, **tail = &d.netns;
	const struct np_module *m;
	unsigned int mi;
	uint64_t v;

	log_init("netprofd", LOG_INFO);
	while ((opt = getopt_long(argc, argv, "i:n:p:m:c:kvh", long_opts, NULL)) != -1) {
		switch (opt) {
		case 'i':
			if (strlen(optarg) >= IF_NAMESIZE) {
				pr_err("interface name '%s' is too long (at most %d characters)", optarg,
				       IF_NAMESIZE - 1);
				return 2;
			}
			if (ARRAY_GROW(d.ifnames, cap_ifnames, d.n_ifnames + 1, 4)) {
				pr_err("out of memory");
				return 1;
			}
			d.ifnames[d.n_ifnames++] = optarg;
			break;
		case 'n':
			if (ARRAY_GROW(netns_names, cap_netns, n_netns + 1, 4)) {
				pr_err("out of memory");
				return 1;
			}
			netns_names[n_netns++] = optarg;
			break;
		case 'p':
			pin_dir = optarg;
			break;
		case 'm':
			if (parse_u64(optarg, &v) || v < 16 || v > (1U << 26)) {
				pr_err("--max-flows '%s': give a number from 16 to 67108864", optarg);
				return 2;
			}
			d.max_flows = v;
			break;
		case 'c':
			d.cgroup_arg = optarg;
			break;
		case OPT_MAX_SOCKETS:
			if (parse_u64(optarg, &v) || v < 16 || v > (1U << 24)) {
				pr_err("--max-sockets '%s': give a number from 16 to 16777216", optarg);
				return 2;
			}
			d.max_sockets = v;
			break;
		case OPT_NO_SOCKETS:
			d.no_sockets = 1;
			break;
		case OPT_RTT_START:
			d.rtt_from_start = 1;
			break;
		case OPT_NO_LATENCY:
			d.no_latency = 1;
			break;
		case OPT_NO_PROFILE:
			d.no_profile = 1;
			break;
		case OPT_PROFILE_HZ:
			if (parse_u64(optarg, &v) || v < 1 || v > 10000) {
				pr_err("--profile-hz '%s': give a number from 1 to 10000", optarg);
				return 2;
			}
			d.prof_hz = v;
			d.prof_asked = 1;
			break;
		case OPT_PROFILE_WINDOW:
			if (parse_dur_opt("profile-window", optarg, &d.prof_window_ns))
				return 2;
			d.prof_asked = 1;
			break;
		case OPT_DEBUG_DIR:
			d.debug_dir = optarg;
			break;
		case OPT_PROFILE_PID:
			if (parse_u64(optarg, &v) || !v || v > 0x7fffffff) {
				pr_err("--profile-pid '%s': give a process id", optarg);
				return 2;
			}
			d.prof_pid = v;
			d.prof_asked = 1;
			break;
		case OPT_PROFILE_CGROUP:
			d.prof_cgroup = optarg;
			d.prof_asked = 1;
			break;
		case OPT_PROFILE_COMM:
			if (!*optarg || strlen(optarg) > 15) {
				pr_err("--profile-comm '%s': give a command name of 1 to 15 characters (as in /proc/PID/comm)",
				       optarg);
				return 2;
			}
			d.prof_comm = optarg;
			d.prof_asked = 1;
			break;
		case OPT_METRICS:
			if (parse_host_port(optarg, "127.0.0.1", 1, &d.metrics_ss, &d.metrics_sslen)) {
				pr_err("--metrics '%s': give PORT, ADDR:PORT or [IPV6]:PORT with a numeric address (e.g. 127.0.0.1:9464)",
				       optarg);
				return 2;
			}
			d.metrics_addr = optarg;
			break;
		case OPT_IPFIX:
			if (parse_host_port(optarg, NULL, 0, &d.ipfix_ss, &d.ipfix_sslen)) {
				pr_err("--ipfix '%s': give HOST:PORT or [IPV6]:PORT of the collector (e.g. 127.0.0.1:4739)",
				       optarg);
				return 2;
			}
			d.ipfix_addr = optarg;
			break;
		case OPT_IPFIX_ACTIVE:
			if (parse_dur_opt("ipfix-active", optarg, &d.ipfix_active_ns))
				return 2;
			break;
		case OPT_IPFIX_TEMPLATES:
			if (parse_dur_opt("ipfix-templates", optarg, &d.ipfix_templates_ns))
				return 2;
			break;
		case OPT_METRICS_PEERS:
			d.metrics_peers = 1;
			break;
		case OPT_IDLE:
			if (parse_dur_opt("idle-timeout", optarg, &d.idle_timeout_ns))
				return 2;
			break;
		case OPT_CLOSED:
			if (parse_dur_opt("closed-timeout", optarg, &d.closed_timeout_ns))
				return 2;
			break;
		case OPT_KEEP_ENDED:
			if (parse_dur_opt("keep-ended", optarg, &d.keep_ended_ns))
				return 2;
			break;
		case OPT_SWEEP:
			if (parse_dur_opt("sweep-interval", optarg, &d.sweep_interval_ns))
				return 2;
			break;
		case OPT_XDP:
			if (!strcmp(optarg, "auto"))
				d.xdp_mode = XDP_MODE_AUTO;
			else if (!strcmp(optarg, "native"))
				d.xdp_mode = XDP_MODE_NATIVE_ONLY;
			else if (!strcmp(optarg, "generic"))
				d.xdp_mode = XDP_MODE_GENERIC_ONLY;
			else if (!strcmp(optarg, "off"))
				d.xdp_mode = XDP_MODE_OFF;
			else {
				pr_err("--xdp '%s': use auto, native, generic or off", optarg);
				return 2;
			}
			break;
		case 'k':
			d.keep = 1;
			break;
		case OPT_PRECISE:
			d.precise_clock = 1;
			break;
		case OPT_REMOVE:
			remove = 1;
			break;
		case OPT_PROBE:
			probe = 1;
			break;
		case OPT_WITHOUT_PROG:
			d.without = optarg;
			break;
		case 'v':
			verbose++;
			break;
		case 'h':
			fputs(usage_text, stdout);
			return 0;
		default:
			fprintf(stderr, "Try 'netprofd --help'.\n");
			return 2;
		}
	}
	if (optind < argc) {
		pr_err("unexpected argument '%s': see 'netprofd --help'", argv[optind]);
		return 2;
	}
	log_init("netprofd", LOG_INFO + verbose);
	log_setup_libbpf();
	d.pin_dir = pins_dir(pin_dir);

	if (check_caps(n_netns > 0))
		return 1;
	d.host_netns_fd = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	if (d.host_netns_fd < 0) {
		pr_err("cannot open /proc/self/ns/net: %s", strerror(errno));
		return 1;
	}
	if (remove)
		return remove_pinned(&d) ? 1 : 0;
	if (probe)
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
	for_each_module(mi, m)
		if (!m->off(&d) && m->check && m->check(&d))
			return 1;

	/* Open every namespace first: a typo fails before anything is attached. */
	for (i = 0; i < (n_netns ? n_netns : 1); i++) {
		err = netns__open(&d, n_netns ? netns_names[i] : NULL, &ns);
		if (err)
			goto cleanup;
		*tail = ns;
		tail = &ns->next;
	}
	for (ns = d.netns; ns; ns = ns->next) {
		err = netns__load(&d, ns);
		if (err)
			goto cleanup;
		if (ns == d.netns) {
			err = open_shared_maps(&d, ns->skel);
			if (err)
				goto cleanup;
		}
	}
	d.epfd = epoll_create1(EPOLL_CLOEXEC);
	if (d.epfd < 0) {
		err = -errno;
		goto cleanup;
	}
	err = start_modules(&d, 1);
	if (err)
		goto cleanup;
	for (ns = d.netns; ns; ns = ns->next) {
		err = rtnl__open(&d, ns);
		if (!err)
			err = rtnl__dump_links(&d, ns);
		if (err) {
			pr_err("rtnetlink in netns %s: %s", ns->name[0] ? ns->name : "(own)", strerror(-err));
			goto cleanup;
		}
	}
	for (i = 0; i < d.n_ifnames; i++) {
		int found = 0;

		for (ns = d.netns; ns; ns = ns->next)
			for (struct np_iface *ifc = ns->ifaces; ifc; ifc = ifc->next)
				found |= !strcmp(ifc->name, d.ifnames[i]);
		if (!found) {
			pr_err("interface '%s' not found%s: check 'ip link'%s", d.ifnames[i],
			       n_netns ? " in the given namespaces" : "",
			       n_netns ? " inside them (ip netns exec NS ip link)" : "");
			err = -ENODEV;
			goto cleanup;
		}
	}
	/*
	 * last: a mistake above must not leave programs on a cgroup. A module
	 * this kernel cannot give is named in its capability, and the rest runs.
	 */
	err = start_modules(&d, 0);
	if (err)
		goto cleanup;
	daemon_info_write(&d);
	err = run(&d);
cleanup:
	/* first the record (its map fd goes with the first namespace's skeleton) */
	if (d.daemon_fd >= 0) {
		d.info.pid = 0;
		if (!d.keep)
			d.info.ifaces = 0;
		daemon_info_write(&d);
	}
	/* in reverse: ipfix exports the live flows' last records first */
	for (mi = np_n_modules; mi-- > 0;)
		np_modules[mi]->stop(&d);
	while (d.netns) {
		ns = d.netns;
		d.netns = ns->next;
		netns__free(&d, ns, d.keep ? IFACE_KEEP : IFACE_DETACH);
	}
	if (d.epfd >= 0)
		close(d.epfd);
	close(d.host_netns_fd);
	free(d.ifnames);
	free(netns_names);
	return err ? 1 : 0;
}
