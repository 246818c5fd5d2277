/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * maps/profile.h - the CPU profiler, shared by bpf/profile.bpf.c, netprofd
 * and `netprof status`.
 *
 * One PERF_COUNT_SW_CPU_CLOCK event per CPU runs profile_sample, which adds
 * one to a count keyed by the whole sample: process, thread, cgroup,
 * command, the connection the thread serves, and both stacks (the frames
 * themselves, not stack-map ids: a hash map of full stacks has no bucket
 * collisions, the kernel's stack map loses a stack on every one).
 *
 * Two count maps: the program writes the one active_set names, netprofd
 * flips active_set, waits for programs still running on the old set, reads
 * it and empties it. A sample lands in exactly one drain.
 *
 * The connection: tp_btf sock_{send,recv}_length (process context) record,
 * per thread, the socket it last sent or received on and when (prof_thread);
 * a sample within conn_window_ns of that carries the socket's cookie.
 * prof_conns keeps the socket's addresses by cookie, so UDP sockets and
 * connections closed before the drain are still named.
 */
#ifndef NETPROF_MAPS_PROFILE_H
#define NETPROF_MAPS_PROFILE_H

#ifndef __BPF__
#include <linux/types.h>
#endif

#define PROF_STATS_MAP		"prof_stats"
#define PROF_DAEMON_MAP		"prof_daemon"	/* netprofd's side, struct prof_daemon_stats */
#define PROF_JOURNAL		"profile.log"	/* under the state dir (lib/pins.h) */

#define PROF_KSTACK_MAX		64	/* kernel frames kept */
#define PROF_USTACK_MAX		127	/* user frames kept (perf's default depth) */
#define PROF_DEFAULT_HZ		99
#define PROF_DEFAULT_WINDOW_NS	100000000ULL	/* 100 ms */
#define PROF_COUNTS_DEFAULT_MAX	4096

/* Whose sample: the first part of every count key. */
struct prof_who {
	__u32	tgid;		/* 0: the idle task */
	__u32	tid;
	__u64	cgroup_id;
	__u64	cookie;		/* socket the thread served, 0: none within the window */
	char	comm[16];	/* the thread's */
};

struct prof_key {
	struct prof_who w;
	__u16	nk, nu;		/* frames in kstack, ustack */
	__u32	uid;		/* the thread's user: whose word its /tmp/perf-PID.map is */
	__u64	kstack[PROF_KSTACK_MAX];	/* leaf first; zero past nk */
	__u64	ustack[PROF_USTACK_MAX];
};

/*
 * Before 5.11 a hash map's key may not exceed 512 bytes: there
 * profile_sample_hashed counts by this key instead, the stacks kept once
 * each in prof_stacks0/1 (by the same set) under their 64-bit hash.
 */
struct prof_hkey {
	struct prof_who w;
	__u16	nk, nu;
	__u32	uid;
	__u64	khash;		/* key of the kernel stack in prof_stacks<set>, 0: none */
	__u64	uhash;		/* of the user stack */
};

struct prof_stack {
	__u64	ip[PROF_USTACK_MAX];	/* the first nk (nu) frames count */
};

/* The socket a thread last sent or received on. */
struct prof_thread {
	__u64	cookie;
	__u64	ts_ns;		/* bpf_ktime_get_ns() of that I/O */
};

/* A socket's addresses, from its struct sock (local = this host's end). */
struct prof_conn {
	__u8	laddr[16];	/* IPv4-mapped for IPv4 */
	__u8	raddr[16];
	__u16	lport;		/* host order */
	__u16	rport;
	__u8	family;		/* FLOW_FAMILY_* */
	__u8	proto;		/* IPPROTO_TCP / IPPROTO_UDP */
	__u16	pad;
	__u32	netns_ino;
	__u32	pad2;
};

/*
 * prof_stats: a PERCPU_ARRAY of __u64 by this index. One row each: the
 * index, its key in `netprof status --json`'s "profiler", the metric
 * netprof_profiler_NAME_total, what it counts. Add rows at the end.
 */
#define NP_PROF_STATS(X)											\
	X(PSTAT_SAMPLES,	"samples",		"samples",		"CPU samples taken.")		\
	X(PSTAT_RECORDED,	"recorded",		"recorded_samples",	"Samples counted into a count map.") \
	X(PSTAT_COUNTS_FULL,	"lost",			"lost_samples",		"Samples lost: the count map (or the stack table) was full, or busy.") \
	X(PSTAT_KSTACK_ERR,	"kernel_stack_errors",	"kernel_stack_errors",	"Samples kept without their kernel stack.") \
	X(PSTAT_USTACK_ERR,	"user_stack_errors",	"user_stack_errors",	"Samples kept without their user stack.") \
	X(PSTAT_CONN,		"connection_samples",	"connection_samples",	"Samples taken while the thread served a connection.") \
	X(PSTAT_THREADS_FULL,	"thread_table_full",	"thread_table_full",	"Thread-to-socket records that did not fit.") \
	X(PSTAT_FILTERED,	"filtered",		"filtered_samples",	"Samples of processes left out by --profile-pid/-cgroup/-comm.")

#define NP_PROF_STAT_ENUM(e, key, metric, help)	e,
enum prof_stat {
	NP_PROF_STATS(NP_PROF_STAT_ENUM)
	PSTAT_MAX,
};

/* What netprofd did with the samples (one ARRAY slot, written each drain). */
struct prof_daemon_stats {
	__u32	pid;			/* netprofd that profiles, 0: none */
	__u32	hz;
	__u64	window_ns;
	__u64	counts_max;		/* entries per count map */
	__u64	counts_peak;		/* most entries one drain found */
	__u64	drains;
	__u64	last_drain_ns;
	__u64	drain_cpu_ns;		/* netprofd's CPU time reading and symbolizing */
	__u64	bpf_run_ns;		/* profile_sample's own run time (needs
					   kernel.bpf_stats_enabled; else 0) */
	__u64	bpf_run_cnt;
	__u64	sideband_lost;		/* mmap/fork/exit records perf dropped */
	__u64	frames_truncated;	/* user stacks cut at a frame outside executable code */
	__u64	procs_from_proc;	/* processes read from /proc at a drain, not from records */
	__u64	journal_bytes;		/* written since start */
};

#endif
