// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * profile.bpf.c - CPU samples, counted in the kernel by whole stack, and
 * the connection each thread serves (maps/profile.h says how).
 *
 *  perf_event               one PERF_COUNT_SW_CPU_CLOCK event per CPU
 *  tp_btf sock_{send,recv}_length
 *                           the socket this thread last worked on
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>
#include "flow.h"
#include "lib/proto.bpf.h"
#include "profile.h"
#include "lib/counter.bpf.h"
#include "lib/addr.bpf.h"

#define IPPROTO_UDP_	17
#define PF_KTHREAD_	0x00200000

const volatile __u64 conn_window_ns = PROF_DEFAULT_WINDOW_NS;
/* netprofd --profile-pid / --profile-cgroup / --profile-comm (0 / off: any) */
const volatile __u32 filter_tgid;
const volatile bool filter_cgroup;
const volatile bool filter_comm_on;
const volatile char filter_comm[16];

/* --profile-cgroup: the cgroup, for bpf_current_task_under_cgroup */
struct {
	__uint(type, BPF_MAP_TYPE_CGROUP_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} prof_cgroup SEC(".maps");

/* which count map the program writes: netprofd flips it to drain the other */
volatile __u32 active_set;

struct counts_map {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, PROF_COUNTS_DEFAULT_MAX);	/* resized at load time */
	__type(key, struct prof_key);
	__type(value, __u64);
};
struct counts_map prof_counts0 SEC(".maps");
struct counts_map prof_counts1 SEC(".maps");

/*
 * Before 5.11 (hash keys of at most 512 bytes): counts by stack hash and the
 * stacks beside them, for profile_sample_hashed. netprofd makes these maps
 * only where that program loads, and prof_counts0/1 only where
 * profile_sample does (daemon/profile.c: prof_map_owners).
 */
struct hcounts_map {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, PROF_COUNTS_DEFAULT_MAX);	/* resized at load time */
	__type(key, struct prof_hkey);
	__type(value, __u64);
};
struct hcounts_map prof_hcounts0 SEC(".maps");
struct hcounts_map prof_hcounts1 SEC(".maps");

struct stacks_map {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 2 * PROF_COUNTS_DEFAULT_MAX);	/* resized at load time */
	__type(key, __u64);
	__type(value, struct prof_stack);
};
struct stacks_map prof_stacks0 SEC(".maps");
struct stacks_map prof_stacks1 SEC(".maps");

/* the key is 1.6 kB: built here, not on the 512-byte stack */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct prof_key);
} prof_scratch SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, __u32);			/* thread id */
	__type(value, struct prof_thread);
} prof_threads SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, __u64);			/* socket cookie */
	__type(value, struct prof_conn);
} prof_conns SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, PSTAT_MAX);
	__type(key, __u32);
	__type(value, __u64);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} prof_stats SEC(".maps");

/* written by netprofd only; pinned for `netprof status` */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct prof_daemon_stats);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} prof_daemon SEC(".maps");

static __always_inline void pstat_add(__u32 idx)
{
	percpu_add(&prof_stats, idx, 1);
}

static __always_inline int count(void *counts, const void *k)
{
	__u64 one = 1, *v;

	v = bpf_map_lookup_elem(counts, k);
	if (v) {
		__sync_fetch_and_add(v, 1);
		return 0;
	}
	/* another CPU may insert the same key between lookup and update */
	if (!bpf_map_update_elem(counts, k, &one, BPF_NOEXIST))
		return 0;
	v = bpf_map_lookup_elem(counts, k);
	if (v) {
		__sync_fetch_and_add(v, 1);
		return 0;
	}
	return -1;
}

/*
 * The sample in the per-CPU scratch key: who, the connection, both stacks.
 * NULL when it is not one to count (filtered, or no scratch: counted).
 */
static __always_inline struct prof_key *sample_key(struct bpf_perf_event_data *ctx)
{
	__u64 id = bpf_get_current_pid_tgid();
	unsigned int task_flags;
	struct prof_thread *t;
	struct prof_key *k;
	__u32 zero = 0, samples = PSTAT_SAMPLES;
	__u64 *v;
	long n;

	/*
	 * Counted before active_set is read, with a locked add (a full
	 * barrier): netprofd's flip waits until every sample counted here
	 * before it flipped is counted as done (PSTAT_RECORDED/COUNTS_FULL).
	 */
	v = bpf_map_lookup_elem(&prof_stats, &samples);
	if (v)
		__sync_fetch_and_add(v, 1);
	if ((filter_tgid && (id >> 32) != filter_tgid) ||
	    (filter_cgroup && bpf_current_task_under_cgroup(&prof_cgroup, 0) != 1)) {
		pstat_add(PSTAT_FILTERED);
		return NULL;
	}
	k = bpf_map_lookup_elem(&prof_scratch, &zero);
	if (!k) {
		pstat_add(PSTAT_COUNTS_FULL);
		return NULL;
	}
	k->w.tgid = id >> 32;
	k->w.tid = (__u32)id;
	k->w.cgroup_id = bpf_get_current_cgroup_id();
	bpf_get_current_comm(k->w.comm, sizeof(k->w.comm));
	if (filter_comm_on) {
		int i;

		for (i = 0; i < 16; i++) {
			if (k->w.comm[i] != filter_comm[i]) {
				pstat_add(PSTAT_FILTERED);
				return NULL;
			}
			if (!k->w.comm[i])
				break;
		}
	}
	k->uid = (__u32)bpf_get_current_uid_gid();
	k->w.cookie = 0;
	if (k->w.tid) {
		t = bpf_map_lookup_elem(&prof_threads, &k->w.tid);
		if (t && bpf_ktime_get_ns() - t->ts_ns <= conn_window_ns) {
			k->w.cookie = t->cookie;
			pstat_add(PSTAT_CONN);
		}
	}

	/* bpf_get_stack zeroes the buffer past what it wrote: keys compare whole */
	n = bpf_get_stack(ctx, k->kstack, sizeof(k->kstack), 0);
	if (n < 0) {
		pstat_add(PSTAT_KSTACK_ERR);
		n = 0;
		__builtin_memset(k->kstack, 0, sizeof(k->kstack));
	}
	k->nk = n / 8;
	n = 0;
	/* bpf_get_current_task_btf is 5.11's: before it, a CO-RE read */
	if (bpf_core_enum_value_exists(enum bpf_func_id, BPF_FUNC_get_current_task_btf))
		task_flags = bpf_get_current_task_btf()->flags;
	else
		task_flags = BPF_CORE_READ((struct task_struct *)bpf_get_current_task(), flags);
	if (k->w.tgid && !(task_flags & PF_KTHREAD_)) {
		n = bpf_get_stack(ctx, k->ustack, sizeof(k->ustack), BPF_F_USER_STACK);
		if (n < 0) {
			pstat_add(PSTAT_USTACK_ERR);
			n = 0;
		}
	}
	if (n == 0)
		__builtin_memset(k->ustack, 0, sizeof(k->ustack));
	k->nu = n / 8;
	return k;
}

SEC("perf_event")
int profile_sample(struct bpf_perf_event_data *ctx)
{
	struct prof_key *k = sample_key(ctx);
	int err;

	if (!k)
		return 0;
	err = active_set ? count(&prof_counts1, k) : count(&prof_counts0, k);
	pstat_add(err ? PSTAT_COUNTS_FULL : PSTAT_RECORDED);
	return 0;	/* 0: perf writes no sample record of its own */
}

/* 64-bit hash of n frames: a multiply-xorshift mix of each, chained */
static __always_inline __u64 stack_hash(const __u64 *ip, __u32 n)
{
	__u64 h = 0x9e3779b97f4a7c15ULL ^ n, x;
	__u32 i;

	for (i = 0; i < PROF_USTACK_MAX; i++) {
		if (i >= n)
			break;
		x = ip[i];
		x ^= x >> 33;
		x *= 0xff51afd7ed558ccdULL;
		x ^= x >> 33;
		h = (h ^ x) * 0xc4ceb9fe1a85ec53ULL;
	}
	h ^= h >> 31;
	return h ? h : 1;	/* 0 means "no stack" */
}

/* Keep a stack under its hash; 0 if kept (or already there). */
static __always_inline int stack_keep(void *stacks, __u64 hash, const void *ip)
{
	if (!bpf_map_update_elem(stacks, &hash, ip, BPF_NOEXIST))
		return 0;
	return bpf_map_lookup_elem(stacks, &hash) ? 0 : -1;
}

/* profile_sample where hash keys may not exceed 512 bytes (before 5.11) */
SEC("?perf_event")
int profile_sample_hashed(struct bpf_perf_event_data *ctx)
{
	struct prof_key *k = sample_key(ctx);
	struct prof_hkey h;
	__u32 set = active_set;
	void *stacks = set ? (void *)&prof_stacks1 : (void *)&prof_stacks0;
	int err = 0;

	if (!k)
		return 0;
	__builtin_memcpy(&h.w, &k->w, sizeof(h.w));
	h.nk = k->nk;
	h.nu = k->nu;
	h.uid = k->uid;
	h.khash = h.nk ? stack_hash(k->kstack, h.nk) : 0;
	h.uhash = h.nu ? stack_hash(k->ustack, h.nu) : 0;
	/* the kernel stack's value reads on into ustack: frames past nk do not count */
	if (h.khash)
		err = stack_keep(stacks, h.khash, k->kstack);
	if (!err && h.uhash)
		err = stack_keep(stacks, h.uhash, k->ustack);
	if (!err)
		err = set ? count(&prof_hcounts1, &h) : count(&prof_hcounts0, &h);
	pstat_add(err ? PSTAT_COUNTS_FULL : PSTAT_RECORDED);
	return 0;
}

/*
 * Remember the socket this thread works on (and the socket's addresses).
 * by_helper: the cookie from bpf_get_socket_cookie (made if the socket has
 * none yet); else the one the socket has, if any (before 5.12 tracing
 * programs may not call that helper: only sockets whose cookie sock_ops or
 * someone else made are named).
 */
static __always_inline int thread_io(struct sock *sk, bool by_helper)
{
	struct prof_thread *t, nt = {};
	struct prof_conn c = {};
	__u32 tid;
	__u16 family;
	__u64 cookie;

	if (!sk)
		return 0;
	family = sk->__sk_common.skc_family;
	if ((family != NP_AF_INET && family != NP_AF_INET6) ||
	    (sk->sk_protocol != IPPROTO_TCP_ && sk->sk_protocol != IPPROTO_UDP_))
		return 0;
	if (by_helper)
		cookie = bpf_get_socket_cookie(sk);
	else
		cookie = BPF_CORE_READ(sk, __sk_common.skc_cookie.counter);
	if (!cookie)
		return 0;
	tid = (__u32)bpf_get_current_pid_tgid();
	t = bpf_map_lookup_elem(&prof_threads, &tid);
	if (t) {
		__u64 last = t->cookie;

		t->cookie = cookie;
		t->ts_ns = bpf_ktime_get_ns();
		if (last == cookie)
			return 0;	/* the same socket: its addresses are recorded */
	} else {
		nt.cookie = cookie;
		nt.ts_ns = bpf_ktime_get_ns();
		if (bpf_map_update_elem(&prof_threads, &tid, &nt, BPF_ANY))
			pstat_add(PSTAT_THREADS_FULL);
	}
	if (bpf_map_lookup_elem(&prof_conns, &cookie))
		return 0;
	sock_addr(c.laddr, family, sk->__sk_common.skc_rcv_saddr,
		  sk->__sk_common.skc_v6_rcv_saddr.in6_u.u6_addr32);
	sock_addr(c.raddr, family, sk->__sk_common.skc_daddr,
		  sk->__sk_common.skc_v6_daddr.in6_u.u6_addr32);
	c.lport = sk->__sk_common.skc_num;
	c.rport = bpf_ntohs(sk->__sk_common.skc_dport);
	/* an IPv6 socket talking IPv4 (::ffff:a.b.c.d) is IPv4, as flows key it */
	c.family = family == NP_AF_INET || is_ipv4_mapped(c.raddr) ?
		   FLOW_FAMILY_IPV4 : FLOW_FAMILY_IPV6;
	c.proto = sk->sk_protocol;
	c.netns_ino = sk->__sk_common.skc_net.net->ns.inum;
	bpf_map_update_elem(&prof_conns, &cookie, &c, BPF_NOEXIST);
	return 0;
}

SEC("tp_btf/sock_send_length")
int BPF_PROG(prof_send, struct sock *sk, int ret, int flags)
{
	return thread_io(sk, true);
}

SEC("tp_btf/sock_recv_length")
int BPF_PROG(prof_recv, struct sock *sk, int ret, int flags)
{
	return thread_io(sk, true);
}

/* where those tracepoints are missing (before 6.3): TCP's sendmsg and recvmsg */
SEC("?fentry/tcp_sendmsg")
int BPF_PROG(prof_send_fentry, struct sock *sk)
{
	return thread_io(sk, true);
}

SEC("?fentry/tcp_recvmsg")
int BPF_PROG(prof_recv_fentry, struct sock *sk)
{
	return thread_io(sk, true);
}

/* and where tracing programs may not call bpf_get_socket_cookie (before 5.12) */
SEC("?fentry/tcp_sendmsg")
int BPF_PROG(prof_send_fentry_skc, struct sock *sk)
{
	return thread_io(sk, false);
}

SEC("?fentry/tcp_recvmsg")
int BPF_PROG(prof_recv_fentry_skc, struct sock *sk)
{
	return thread_io(sk, false);
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
