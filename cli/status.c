// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * netprof status: is netprofd running, what is attached where, how full the
 * maps are, and every counter of something that could not be recorded.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "cli.h"
#include "captab.h"
#include "flowtab.h"
#include "format.h"
#include "json.h"
#include "mapwalk.h"
#include "log.h"
#include "pins.h"
#include "stats.h"
#include "sockets.h"
#include "latency.h"
#include "socktab.h"
#include "profile.h"

static const char status_usage[] =
"Usage: netprof status [-j]\n"
"Daemon state, attached interfaces, map fill levels, overflow and error counters.\n"
"\n"
"  -j, --json   JSON\n"
"  -h, --help   this text\n";

/* {"entries": N, "max_entries": M} */
static void json_fill(struct json_writer *jw, const char *name, long entries, uint32_t max)
{
	jw_object_start(jw, name);
	jw_u64(jw, "entries", entries);
	jw_u64(jw, "max_entries", max);
	jw_object_end(jw);
}

static int read_sysctl_int(const char *path)
{
	FILE *f = fopen(path, "r");
	int v = -1;

	if (f) {
		if (fscanf(f, "%d", &v) != 1)
			v = -1;
		fclose(f);
	}
	return v;
}

/*
 * Every counter of what could not be recorded: the datapath's (then the
 * ended flows the daemon dropped), the socket tracker's and the latency
 * stages' where they run (lib/stats.h).
 */
static void show_counters(struct json_writer *jw, const struct daemon_info *info)
{
	uint64_t v[64];
	unsigned int s, i;
	int fd;

	if (jw)
		jw_object_start(jw, "counters");
	for (s = 0; s < np_n_stat_sets; s++) {
		const struct stat_set *set = &np_stat_sets[s];

		/* the datapath's is always pinned; the others are optional (--no-sockets...) */
		fd = pins_open_map(g.pin_dir, set->map, 1);
		if (fd < 0 || set->n > 64 || percpu_array_sum(fd, v, set->n))
			goto next;
		for (i = 0; i < set->n; i++) {
			if (jw)
				jw_u64(jw, set->rows[i].name, v[i]);
			else
				printf("  %-28s %llu\n", set->rows[i].name, (unsigned long long)v[i]);
		}
next:
		if (fd >= 0)
			close(fd);
		/* then the daemon's: what left the flow tables, with what it carried */
		for (i = 0; s == 0 && i < info_gone_n; i++) {
			uint64_t n = info_counter_get(info, &info_gone_rows[i]);

			if (jw)
				jw_u64(jw, info_gone_rows[i].name, n);
			else
				printf("  %-28s %llu\n", info_gone_rows[i].name, (unsigned long long)n);
		}
	}
	if (jw)
		jw_object_end(jw);
}

/* The profiler: samples taken, lost, map fill, its own CPU. Absent: says so. */
static void show_profiler(struct json_writer *jw, uint64_t now)
{
	int stats_fd = pins_open_map(g.pin_dir, PROF_STATS_MAP, 1);
	int daemon_fd = pins_open_map(g.pin_dir, PROF_DAEMON_MAP, 1);
	struct prof_daemon_stats d = {};
	uint64_t s[PSTAT_MAX] = {};
	int running, bpf_stats = read_sysctl_int("/proc/sys/kernel/bpf_stats_enabled");
	__u32 zero = 0;
	char b1[32], b2[32], b3[32];
	unsigned int i;

	if (stats_fd < 0 || daemon_fd < 0 || bpf_map_lookup_elem(daemon_fd, &zero, &d) ||
	    percpu_array_sum(stats_fd, s, PSTAT_MAX)) {
		if (jw)
			jw_null(jw, "profiler");
		else
			printf("profiler:   never ran on these pins (netprofd --no-profile)\n");
		goto out;
	}
	running = netprofd_alive(d.pid);
	if (jw) {
		jw_object_start(jw, "profiler");
		jw_bool(jw, "running", running);
		jw_u64(jw, "hz", d.hz);
		jw_u64(jw, "window_ns", d.window_ns);
		for (i = 0; i < PSTAT_MAX; i++)
			jw_u64(jw, prof_stat_rows[i].name, s[i]);
		json_fill(jw, "map", d.counts_peak, d.counts_max);
		jw_u64(jw, "drains", d.drains);
		jw_u64(jw, "last_drain_ago_ns", d.last_drain_ns ? now - d.last_drain_ns : 0);
		jw_u64(jw, "sideband_lost", d.sideband_lost);
		jw_u64(jw, "frames_truncated", d.frames_truncated);
		jw_u64(jw, "procs_from_proc", d.procs_from_proc);
		jw_u64(jw, "drain_cpu_ns", d.drain_cpu_ns);
		if (bpf_stats == 1)
			jw_u64(jw, "bpf_cpu_ns", d.bpf_run_ns);
		else
			jw_null(jw, "bpf_cpu_ns");
		jw_u64(jw, "journal_bytes", d.journal_bytes);
		jw_object_end(jw);
	} else {
		printf("profiler:   %s, %u Hz, %llu samples, %llu lost (count map full), map peak %llu of %llu per drain\n",
		       running ? "running" : "stopped", d.hz, (unsigned long long)s[PSTAT_SAMPLES],
		       (unsigned long long)s[PSTAT_COUNTS_FULL], (unsigned long long)d.counts_peak,
		       (unsigned long long)d.counts_max);
		printf("            %.0f%% while serving a connection; own CPU: drains %s, BPF %s; last drain %s ago\n",
		       s[PSTAT_SAMPLES] ? 100.0 * s[PSTAT_CONN] / s[PSTAT_SAMPLES] : 0.0,
		       fmt_duration(b1, sizeof(b1), d.drain_cpu_ns),
		       bpf_stats == 1 ? fmt_duration(b2, sizeof(b2), d.bpf_run_ns) :
		       "unknown (sysctl kernel.bpf_stats_enabled=1 measures it)",
		       fmt_duration(b3, sizeof(b3), d.last_drain_ns ? now - d.last_drain_ns : 0));
		printf("            %llu samples of other processes left out (--profile-pid/-cgroup/-comm)\n",
		       (unsigned long long)s[PSTAT_FILTERED]);
		printf("            stack errors kernel %llu user %llu, thread table full %llu, side-band records lost %llu,\n"
		       "            user stacks cut at non-code %llu, processes read late from /proc %llu\n",
		       (unsigned long long)s[PSTAT_KSTACK_ERR], (unsigned long long)s[PSTAT_USTACK_ERR],
		       (unsigned long long)s[PSTAT_THREADS_FULL], (unsigned long long)d.sideband_lost,
		       (unsigned long long)d.frames_truncated, (unsigned long long)d.procs_from_proc);
	}
out:
	if (stats_fd >= 0)
		close(stats_fd);
	if (daemon_fd >= 0)
		close(daemon_fd);
}

/* What runs on this kernel, capability by capability (maps/caps.h). */
static void show_caps(struct json_writer *jw)
{
	struct np_cap_info caps[NP_CAP_MAX] = {};
	unsigned int i;
	int err;

	err = caps_read(g.pin_dir, caps);
	if (err) {
		const char *why = err == -EINVAL ? "pins of another layout: run 'netprofd --remove'" :
				  "not recorded (netprofd has not started on these pins)";

		if (jw)
			jw_null(jw, "capabilities");
		else
			printf("capabilities: %s\n", why);
		return;
	}
	if (jw)
		jw_object_start(jw, "capabilities");
	else
		printf("capabilities:\n");
	for (i = 0; i < NP_CAP_MAX; i++) {
		if (jw) {
			jw_object_start(jw, np_cap_name(i));
			jw_str(jw, "state", np_cap_state_name(caps[i].state));
			jw_str(jw, "why", caps[i].why);
			jw_object_end(jw);
		} else {
			printf("  %-10s %-12s %s\n", np_cap_name(i), np_cap_state_name(caps[i].state),
			       caps[i].why);
		}
	}
	if (jw)
		jw_object_end(jw);
}

int do_status(int argc, char **argv)
{
	int flows_fd = -1, ended_fd = -1, stats_fd = -1, daemon_fd = -1, ifaces_fd = -1, err = 1;
	struct iface_key key, next, *prev = NULL;
	struct daemon_info info = {};
	struct json_writer *jw = NULL;
	uint64_t stats[STAT_MAX], now = now_mono_ns();
	long live, ended;
	uint32_t max_live, max_ended, zero = 0;
	int running, socks_fd = -1, sstats_fd = -1, closed_fd = -1;
	long nsocks = -1, nclosed = 0;
	uint32_t max_socks = 0;
	uint64_t sstats[SSTAT_MAX] = {};
	char b1[32], b2[32], b3[64];
	unsigned int i;

	for (i = 1; i < (unsigned int)argc; i++) {
		if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			fputs(status_usage, stdout);
			return 0;
		} else if (!strcmp(argv[i], "-j") || !strcmp(argv[i], "--json")) {
			g.json = log_json_errors = 1;
		} else {
			pr_err("unexpected argument '%s': see 'netprof status --help'", argv[i]);
			return 2;
		}
	}

	if ((flows_fd = pins_open_map(g.pin_dir, FLOWS_MAP, 0)) < 0 ||
	    (ended_fd = pins_open_map(g.pin_dir, FLOWS_ENDED_MAP, 0)) < 0 ||
	    (stats_fd = pins_open_map(g.pin_dir, STATS_MAP, 0)) < 0 ||
	    (daemon_fd = pins_open_map(g.pin_dir, DAEMON_MAP, 0)) < 0 ||
	    (ifaces_fd = pins_open_map(g.pin_dir, IFACES_MAP, 0)) < 0)
		goto out;
	if (bpf_map_lookup_elem(daemon_fd, &zero, &info))
		memset(&info, 0, sizeof(info));
	if (np_stats_read(stats_fd, stats)) {
		pr_err("cannot read the stats map: %s", strerror(errno));
		goto out;
	}
	running = netprofd_alive(info.pid);
	/* socket tracking is optional (netprofd --no-sockets) */
	socks_fd = pins_open_map(g.pin_dir, SOCKS_MAP, 1);
	sstats_fd = pins_open_map(g.pin_dir, SOCK_STATS_MAP, 1);
	closed_fd = pins_open_map(g.pin_dir, SOCKS_CLOSED_MAP, 1);
	if (socks_fd >= 0) {
		nsocks = map_count_entries(socks_fd);
		max_socks = map_max_entries(socks_fd);
	}
	if (closed_fd >= 0) {
		struct sock_table st = {};

		/* closed records still shown: those younger than --keep-ended */
		if (socktab_append_closed(closed_fd, info.keep_ended_ns ? info.keep_ended_ns :
					  NETPROF_KEEP_ENDED_DEFAULT_NS, &st) == 0)
			nclosed = st.n;
		socktab_free(&st);
	}
	if (sstats_fd >= 0)
		percpu_array_sum(sstats_fd, sstats, SSTAT_MAX);
	live = map_count_entries(flows_fd);
	ended = map_count_entries(ended_fd);
	max_live = map_max_entries(flows_fd);
	max_ended = map_max_entries(ended_fd);

	if (g.json) {
		jw = jw_new(stdout, 0);
		jw_object_start(jw, NULL);
		jw_object_start(jw, "daemon");
		jw_bool(jw, "running", running);
		jw_u64(jw, "pid", running ? info.pid : 0);
		jw_u64(jw, "uptime_ns", running ? now - info.started_ns : 0);
		jw_u64(jw, "last_sweep_ago_ns", info.last_sweep_ns ? now - info.last_sweep_ns : 0);
		jw_u64(jw, "idle_timeout_ns", info.idle_timeout_ns);
		jw_u64(jw, "keep_ended_ns", info.keep_ended_ns);
		jw_u64(jw, "flows_expired", info.flows_expired);
		jw_u64(jw, "ended_dropped", info.ended_dropped);
		jw_object_end(jw);
		jw_str(jw, "pin_dir", g.pin_dir);
		show_caps(jw);
		jw_object_start(jw, "maps");
		json_fill(jw, "flows", live, max_live);
		json_fill(jw, "flows_ended", ended, max_ended);
		if (nsocks >= 0) {
			json_fill(jw, "sockets", nsocks, max_socks);
			json_fill(jw, "sockets_closed", nclosed, closed_fd >= 0 ? map_max_entries(closed_fd) : 0);
		}
		jw_object_end(jw);
		jw_array_start(jw, "interfaces");
	} else {
		if (running)
			printf("netprofd:   running (pid %u, up %s, last sweep %s ago)\n", info.pid,
			       fmt_duration(b1, sizeof(b1), now - info.started_ns),
			       fmt_duration(b2, sizeof(b2), info.last_sweep_ns ? now - info.last_sweep_ns : 0));
		else
			printf("netprofd:   not running (the maps below are what it left pinned)\n");
		printf("pins:       %s\n", g.pin_dir);
		show_caps(NULL);
		printf("flows:      %ld live of %u (%.1f%%), %ld ended of %u kept %s, %llu expired so far\n",
		       live, max_live, max_live ? 100.0 * live / max_live : 0, ended, max_ended,
		       fmt_duration(b3, sizeof(b3), info.keep_ended_ns),
		       (unsigned long long)info.flows_expired);
		if (nsocks >= 0)
			printf("sockets:    %ld open of %u (%.1f%%), %ld closed kept (%llu closed so far)\n",
			       nsocks, max_socks, max_socks ? 100.0 * nsocks / max_socks : 0, nclosed,
			       (unsigned long long)sstats[SSTAT_CLOSED]);
		else
			printf("sockets:    not tracked (netprofd --no-sockets)\n");
		printf("interfaces:\n  %-16s %-20s %7s  %-36s %s\n", "IFACE", "NETNS", "IFINDEX", "HOOKS",
		       "WHY");
	}
	while (bpf_map_get_next_key(ifaces_fd, prev, &next) == 0) {
		struct iface_info ii;

		key = next;
		prev = &key;
		if (bpf_map_lookup_elem(ifaces_fd, &key, &ii))
			continue;
		fmt_iface_hooks(b3, sizeof(b3), ii.attach);
		if (jw) {
			jw_object_start(jw, NULL);
			jw_str(jw, "ifname", ii.name);
			jw_str(jw, "netns", ii.netns);
			jw_u64(jw, "netns_ino", key.netns_ino);
			jw_u64(jw, "ifindex", key.ifindex);
			jw_bool(jw, "xdp_native", !!(ii.attach & IFACE_XDP_NATIVE));
			jw_bool(jw, "xdp_generic", !!(ii.attach & IFACE_XDP_GENERIC));
			jw_bool(jw, "tc_ingress", !!(ii.attach & IFACE_TC_INGRESS));
			jw_bool(jw, "tc_egress", !!(ii.attach & IFACE_TC_EGRESS));
			jw_bool(jw, "tcx", !!(ii.attach & IFACE_TCX));
			jw_str(jw, "hooks", b3);
			jw_str(jw, "why", iface_why_str(ii.why));
			jw_object_end(jw);
		} else {
			printf("  %-16s %-20s %7u  %-36s %s\n", ii.name, ii.netns[0] ? ii.netns : "(own)",
			       key.ifindex, b3, iface_why_str(ii.why));
		}
	}
	if (jw) {
		jw_array_end(jw);
		show_profiler(jw, now);
		show_counters(jw, &info);
		jw_object_end(jw);
		jw_free(jw);
	} else {
		show_profiler(NULL, now);
		printf("counters (what could not be recorded is counted here):\n");
		show_counters(NULL, &info);
	}
	err = 0;
out:
	if (flows_fd >= 0) close(flows_fd);
	if (ended_fd >= 0) close(ended_fd);
	if (stats_fd >= 0) close(stats_fd);
	if (daemon_fd >= 0) close(daemon_fd);
	if (ifaces_fd >= 0) close(ifaces_fd);
	if (socks_fd >= 0) close(socks_fd);
	if (sstats_fd >= 0) close(sstats_fd);
	if (closed_fd >= 0) close(closed_fd);
	return err;
}
