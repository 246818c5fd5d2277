// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * sockets.bpf.c - TCP sockets: who owns them, RTT, retransmits, state.
 *
 *  sockops              listen() stores the listening process by port
 *                       (listen_owners) for the sockets it will accept;
 *                       connect() names the client; connect / established / RTT /
 *                       retransmit callbacks -> the socks map, keyed by
 *                       socket cookie
 *  tp_btf inet_sock_set_state
 *                       the close: record moved to the socks_closed ring
 *  tp_btf sock_{send,recv}_length
 *                       the process doing I/O takes over the socket
 *  tp_btf tcp_{send,receive}_reset
 *                       who reset a connection
 * maps/sockets.h says what each field means and where the owner comes from.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>
#include "flow.h"
#include "sockets.h"
#include "lib/log2.bpf.h"
#include "lib/counter.bpf.h"
#include "lib/sock.bpf.h"
#include "lib/addr.bpf.h"

#define TCP_ESTABLISHED_ 1
#define TCP_SYN_SENT_	2
#define TCP_SYN_RECV_	3
#define TCP_CLOSE_	7
#define TCP_LISTEN_	10
/*
 * A connection starts with the retransmit callback only; the per-ACK RTT
 * callback is turned on once it has outlived a daemon pass (scan_tcp below),
 * or at once with rtt_from_start. Every RTT callback costs a kernel
 * dispatch: on a churn-heavy host five per short connection were a third of
 * netprof's cost (docs/PERFORMANCE.md). Short connections still give one
 * sample each, their handshake RTT. No state callback either: the close
 * comes from the inet_sock_set_state tracepoint (sock_set_state below),
 * which costs nothing for the other state changes, and the state of an open
 * connection is refreshed by the pass.
 */
#define SOCK_CB_FLAGS	BPF_SOCK_OPS_RETRANS_CB_FLAG
#define SOCK_CB_FLAGS_RTT (SOCK_CB_FLAGS | BPF_SOCK_OPS_RTT_CB_FLAG)

/* set by netprofd after its probe (rtt_arm_probe), before anything is attached */
volatile bool rtt_from_start;

/*
 * RTT callbacks per connection between two passes; the callback that uses
 * up the budget turns itself off, and the next pass turns it on again. A
 * bulk transfer acknowledged 100,000 times a second paid a sock_ops
 * dispatch per ACK (issue 20: socket tracking cost 10 to 15% of veth TCP
 * throughput); now it gives its histogram the first rtt_per_pass samples
 * of each pass interval. 0: no limit (where the pass cannot turn the
 * callback on again: kernels without bpf_setsockopt in iter/tcp).
 */
volatile __u32 rtt_per_pass;

/* The callback is on: give it this pass's budget. */
static __always_inline void rtt_cb_on(struct sock_record *r)
{
	r->flags = (r->flags & ~SOCK_F_RTT_LEFT_MASK) | SOCK_F_RTT_CB |
		   ((rtt_per_pass & 0xff) << SOCK_F_RTT_LEFT_SHIFT);
}

struct listen_key {
	__u32	netns_ino;
	__u16	port;
	__u16	pad;
};

/*
 * Who listens on a port: an accepted socket starts with this owner, and the
 * process that then reads or writes it takes over (io_owner). A map lookup
 * at establishment, not an sk_storage cloned into every accepted socket: the
 * clone's allocation and its RCU-deferred free cost about 3% of loopback
 * connection churn (docs/PERFORMANCE.md). Listeners sharing a port in one
 * namespace (SO_REUSEPORT) share the entry until I/O names the right one.
 */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, struct listen_key);
	__type(value, struct sock_owner);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} listen_owners SEC(".maps");

#include "lib/socks.bpf.h"

/* closed sockets: a ring (maps/sockets.h); readers mmap it */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, SOCKS_DEFAULT_MAX);	/* resized at load time */
	__type(key, __u32);
	__type(value, struct sock_closed);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} socks_closed SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);			/* slots written since the pins were made */
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} socks_closed_head SEC(".maps");

/* sock_set_state_compat's position in each CPU's share of socks_closed */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} socks_closed_pos SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, SSTAT_MAX);
	__type(key, __u32);
	__type(value, __u64);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} sock_stats SEC(".maps");

/* ended connections summed per endpoint pair (maps/sockets.h) */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, CONN_AGG_DEFAULT_MAX);	/* resized at load time */
	__type(key, struct conn_agg_key);
	__type(value, struct conn_agg);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} conn_agg SEC(".maps");

/* netprofd keeps it: cgroup id -> path (read by the CLI) */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__type(key, __u64);
	__type(value, struct cgroup_name);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} cgroup_names SEC(".maps");

/*
 * Load a ctx field and keep clang from merging it with another field's load
 * into one load from a computed address (the verifier rejects "modified ctx
 * ptr"): the empty asm makes the loaded value opaque.
 */
#define CTX_LOAD(field) ({ __u32 ___v = (field); asm volatile("" : "+r"(___v)); ___v; })

/* The followed cgroup, for the start-up scan: its id and depth. */
const volatile __u64 target_cgroup_id = 0;
const volatile __u32 target_level = 0;
/* socks_closed's size, and how long netprofd keeps closed records visible */
const volatile __u32 closed_slots = SOCKS_DEFAULT_MAX;
const volatile __u32 nr_cpus = 1;	/* possible CPUs: the compat ring's shares */
const volatile __u64 keep_ended_ns = NETPROF_KEEP_ENDED_DEFAULT_NS;

/* Start-up scan scratch (not pinned): a process per network namespace to
 * enter for iter/tcp, and the listening ports seen there. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, __u32);			/* netns inode */
	__type(value, __u32);			/* a pid living there */
} scan_netns SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__type(key, struct listen_key);
	__type(value, __u8);
} listen_ports SEC(".maps");

/*
 * Owners found by scan_owners, by socket inode, for scan_tcp to take. Not
 * sk_storage: since "bpf: Fix verifier assumptions about socket->sk"
 * (6.18.y and others) socket->sk read in iter/task_file is untrusted and no
 * helper takes it; iter/tcp's socket is trusted, and both walks can name a
 * socket by its inode. Created empty (not preallocated): used at start-up.
 */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, SCAN_OWNERS_MAX);
	__type(key, __u64);			/* socket inode (ss's ino) */
	__type(value, struct sock_owner);
} scan_owners_by_ino SEC(".maps");

/* io_owner's memory, per CPU: the last socket checked and its process */
struct io_seen {
	__u64	cookie;
	__u32	tgid;
	__u32	pad;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct io_seen);
} io_seen SEC(".maps");

/*
 * The process that opens a socket (listen(), connect()), named by the state
 * tracepoint in its context for the sockops callback that follows on the
 * same CPU: sock_ops programs may not read the current task on kernels
 * before 6.18 (6.1: no bpf_get_current_pid_tgid; 6.12: no
 * bpf_get_current_uid_gid), and this way no kernel needs them there.
 */
struct open_owner {
	__u64	sk;		/* the socket's address: the callback checks it is the same */
	struct sock_owner o;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct open_owner);
} open_owner SEC(".maps");

static __always_inline void io_seen_set(__u64 cookie, __u32 tgid)
{
	__u32 zero = 0;
	struct io_seen *seen = bpf_map_lookup_elem(&io_seen, &zero);

	if (seen) {
		seen->cookie = cookie;
		seen->tgid = tgid;
	}
}

static __always_inline void sstat_add(__u32 idx)
{
	percpu_add(&sock_stats, idx, 1);
}

static __always_inline void owner_from_current(struct sock_owner *o, __u32 source)
{
	o->tgid = bpf_get_current_pid_tgid() >> 32;
	o->uid = (__u32)bpf_get_current_uid_gid();
	o->cgroup_id = bpf_get_current_cgroup_id();
	bpf_get_current_comm(o->comm, sizeof(o->comm));
	o->source = source;
}

/* The tcp_sock of a sockops callback (NULL for a request socket). */
static __always_inline struct tcp_sock *ops_tcp_sock(struct bpf_sock_ops *skops)
{
	struct bpf_sock *sk = skops->sk;

	return sk ? bpf_skc_to_tcp_sock(sk) : NULL;
}

/* In listen() or connect(): note who opens the socket (open_owner). */
static __always_inline void open_owner_note(const struct sock *sk)
{
	__u32 zero = 0;
	struct open_owner *oo = bpf_map_lookup_elem(&open_owner, &zero);

	if (!oo)
		return;
	oo->sk = (__u64)sk;
	owner_from_current(&oo->o, OWNER_CREATE);
}

/*
 * In the sockops callback of that listen() or connect(): take the owner the
 * tracepoint noted, if it was this socket's (the task may have moved to
 * another CPU in between: then the first I/O names the owner).
 */
static __always_inline int open_owner_take(const struct tcp_sock *tp, struct sock_owner *o)
{
	__u32 zero = 0;
	struct open_owner *oo = bpf_map_lookup_elem(&open_owner, &zero);

	if (!oo || !tp || oo->sk != (__u64)tp)
		return -1;	/* counted by the caller, once the socket is recorded */
	*o = oo->o;
	oo->sk = 0;
	return 0;
}

/* the inode of the socket's network namespace, as flows key it */
static __always_inline __u32 tp_netns_ino(const struct tcp_sock *tp)
{
	/* a trusted pointer: plain loads, not a probe-read helper per step */
	return tp ? tp->inet_conn.icsk_inet.sk.__sk_common.skc_net.net->ns.inum : 0;
}

/* A record's counters, read from the socket itself. */
static __always_inline void counters_from_tp(struct sock_record *r, const struct tcp_sock *tp,
					     __u64 now)
{
	r->srtt_us = tp->srtt_us >> 3;
	r->min_rtt_us = tp->rtt_min.s[0].v;
	r->total_retrans = tp->total_retrans;
	r->bytes_acked = tp->bytes_acked;
	r->bytes_received = tp->bytes_received;
	r->segs_in = tp->segs_in;
	r->segs_out = tp->segs_out;
	r->updated_ns = now;
}

static __always_inline void rtt_sample(struct sock_record *r, __u32 us)
{
	__u32 b = log2_bucket(us, RTT_HIST_BUCKETS - 1);

	if (b < RTT_HIST_BUCKETS)
		r->rtt_hist[b]++;
	r->rtt_samples++;
	r->rtt_sum_us += us;
}

/* Established: the handshake's RTT (SYN -> SYN-ACK, or SYN-ACK -> ACK) is the first sample. */
static __always_inline void record_established(struct sock_record *r, struct bpf_sock_ops *skops,
					       __u64 now)
{
	r->established_ns = now;
	r->state = TCP_ESTABLISHED_;
	if (rtt_from_start)
		rtt_cb_on(r);
	r->srtt_us = CTX_LOAD(skops->srtt_us) >> 3;
	r->min_rtt_us = CTX_LOAD(skops->rtt_min);
	if (r->srtt_us)
		rtt_sample(r, r->srtt_us);
}

/*
 * A new record for this socket, complete before it is inserted (one hash
 * operation: under churn each costs a cache miss or two). The owner: the
 * current process for an active open (TCP_CONNECT_CB runs in connect()),
 * else the process listening on its port (listen_owners).
 */
/*
 * count_full: a full table counts this socket (0: its connect() already
 * did, and this is the retry at its establishment). Each socket counts
 * once, under the reason that is true: not recorded (socket_table_full),
 * or recorded without its owner (sockets_without_owner).
 */
static __always_inline void record_create(struct bpf_sock_ops *skops, __u64 cookie, __u8 role,
					  __u64 now, int owner_is_current, int established,
					  int count_full)
{
	struct tcp_sock *tp = ops_tcp_sock(skops);
	struct sock_record init = {}, *r;
	struct sock_owner *o = NULL;
	__u32 rv6[4], lv6[4], family, l4, r4;
	int no_owner = 0;
	long err;

	/*
	 * Read every address field unconditionally, then choose among the
	 * values: choosing among the fields makes clang compute a ctx address
	 * in a register, which the verifier rejects ("modified ctx ptr").
	 */
	family = CTX_LOAD(skops->family);
	l4 = CTX_LOAD(skops->local_ip4);
	r4 = CTX_LOAD(skops->remote_ip4);
	lv6[0] = CTX_LOAD(skops->local_ip6[0]);
	lv6[1] = CTX_LOAD(skops->local_ip6[1]);
	lv6[2] = CTX_LOAD(skops->local_ip6[2]);
	lv6[3] = CTX_LOAD(skops->local_ip6[3]);
	rv6[0] = CTX_LOAD(skops->remote_ip6[0]);
	rv6[1] = CTX_LOAD(skops->remote_ip6[1]);
	rv6[2] = CTX_LOAD(skops->remote_ip6[2]);
	rv6[3] = CTX_LOAD(skops->remote_ip6[3]);
	init.family = family == NP_AF_INET ? FLOW_FAMILY_IPV4 : FLOW_FAMILY_IPV6;
	sock_addr(init.laddr, family, l4, lv6);
	sock_addr(init.raddr, family, r4, rv6);
	init.lport = skops->local_port;			/* host order already */
	/* the kernel loads skc_dport and shifts it up 16 bits on little endian */
	init.rport = (__u16)bpf_ntohl(skops->remote_port);
	init.role = role;
	init.netns_ino = tp_netns_ino(tp);
	init.connect_ns = now;
	if (owner_is_current) {
		if (!open_owner_take(tp, &init.owner))
			io_seen_set(cookie, init.owner.tgid);
		else
			no_owner = 1;
	} else {
		struct listen_key lk = { .netns_ino = init.netns_ino, .port = init.lport };

		o = bpf_map_lookup_elem(&listen_owners, &lk);
		if (o)
			init.owner = *o;
		else
			no_owner = 1;
	}
	if (tp)
		counters_from_tp(&init, tp, now);
	if (established)
		record_established(&init, skops, now);
	else
		init.state = TCP_SYN_SENT_;
	err = bpf_map_update_elem(&socks, &cookie, &init, BPF_NOEXIST);
	if (err == -17 /* EEXIST: the start-up scan made it */) {
		r = bpf_map_lookup_elem(&socks, &cookie);
		if (r && established)
			record_established(r, skops, now);
	} else if (err) {
		if (count_full)
			sstat_add(SSTAT_TABLE_FULL);
	} else if (no_owner) {
		sstat_add(SSTAT_NO_OWNER);
	}
}

#define SEND_SHUTDOWN_	2
#define SOCK_DONE_BIT	1	/* enum sock_flags: SOCK_DONE, set when the peer's FIN arrives */

/* At close: which FINs the kernel's byte counters include (maps/sockets.h). */
static __always_inline void fin_flags(struct sock_record *r, const struct tcp_sock *tp)
{
	const struct sock *sk = &tp->inet_conn.icsk_inet.sk;

	/* close() queues the FIN with write_seq + 1; all acknowledged: snd_una there */
	if ((sk->sk_shutdown & SEND_SHUTDOWN_) && tp->snd_una == tp->write_seq &&
	    !(r->flags & SOCK_F_RST_SENT))
		r->flags |= SOCK_F_FIN_ACKED;
	if (sk->__sk_common.skc_flags & (1UL << SOCK_DONE_BIT))
		r->flags |= SOCK_F_PEER_FIN;
}

/*
 * How it ended, from the state it closed from: every state after
 * FIN_WAIT1 or CLOSE_WAIT means a FIN was sent or received (none leads
 * back to ESTABLISHED).
 */
static __always_inline void end_reason(struct sock_record *r, __u32 old_state)
{
	if (old_state != TCP_ESTABLISHED_ && old_state != TCP_SYN_SENT_ &&
	    old_state != TCP_SYN_RECV_)
		r->flags |= SOCK_F_FIN;
	if (r->end_reason)
		return;
	if (old_state == TCP_SYN_SENT_)
		r->end_reason = r->flags & SOCK_F_RST_RECV ? SOCK_END_REFUSED : SOCK_END_TIMEOUT;
	else if (r->flags & SOCK_F_RST_RECV)
		r->end_reason = SOCK_END_RST_RECV;
	else if (r->flags & SOCK_F_RST_SENT)
		r->end_reason = SOCK_END_RST_SENT;
	else if (r->flags & SOCK_F_FIN)
		r->end_reason = SOCK_END_FIN;
	else
		r->end_reason = SOCK_END_TIMEOUT;	/* closed straight from ESTABLISHED: RTO or keepalive */
}

/* Add an ended connection to its endpoint pair's sums. */
static __always_inline void agg_closed(const struct sock_record *r)
{
	struct conn_agg_key k = {};
	struct conn_agg *a;
	__u32 i;

	conn_agg_key_of(r, &k);
	a = bpf_map_lookup_elem(&conn_agg, &k);
	if (!a) {
		struct conn_agg init = { .first_ns = r->connect_ns };

		/* E2BIG: full; EEXIST: another CPU's first (per-CPU values: ours is 0) */
		if (bpf_map_update_elem(&conn_agg, &k, &init, BPF_NOEXIST) == -7) {
			sstat_add(SSTAT_AGG_FULL);
			return;
		}
		a = bpf_map_lookup_elem(&conn_agg, &k);
		if (!a)
			return;
	}
	if (r->end_reason < SOCK_END_MAX)
		a->ended[r->end_reason]++;
	a->bytes_acked += sock_payload_sent(r);
	a->bytes_received += sock_payload_received(r);
	a->total_retrans += r->total_retrans;
	if (!a->first_ns || r->connect_ns < a->first_ns)
		a->first_ns = r->connect_ns;
	a->last_ns = r->closed_ns;
	a->rtt_samples += r->rtt_samples;
	a->rtt_sum_us += r->rtt_sum_us;
	for (i = 0; i < RTT_HIST_BUCKETS; i++)
		a->rtt_hist[i] += r->rtt_hist[i];
}

/*
 * Copy a closed socket's record into the next slot of the ring. Slots are
 * taken with an atomic add, so the two ends of a connection closing on two
 * CPUs never share one; seq is written last (readers skip a slot at 0).
 */
static __always_inline void record_closed(__u64 cookie, const struct sock_record *r, __u64 now,
					  const int compat)
{
	__u32 zero = 0, slot;
	struct sock_closed *c;
	__u64 *head, pos;

	if (!compat) {
		head = bpf_map_lookup_elem(&socks_closed_head, &zero);
		if (!head)
			return;
		pos = __sync_fetch_and_add(head, 1);
		slot = pos % closed_slots;
	} else {
		/*
		 * No fetching atomics before 5.12: each CPU fills a share of
		 * the ring of its own (tracepoints run with preemption off).
		 */
		__u32 share = closed_slots / nr_cpus;

		head = bpf_map_lookup_elem(&socks_closed_pos, &zero);
		if (!head || !share)
			return;
		pos = (*head)++;
		slot = bpf_get_smp_processor_id() * share + pos % share;
	}
	c = bpf_map_lookup_elem(&socks_closed, &slot);
	if (!c)
		return;
	if (c->seq && now - c->r.closed_ns < keep_ended_ns) {
		sstat_add(SSTAT_CLOSED_DROPPED);
		percpu_add(&sock_stats, SSTAT_CLOSED_DROPPED_BYTES,
			   sock_payload_sent(&c->r) + sock_payload_received(&c->r));
	}
	c->seq = 0;
	c->cookie = cookie;
	__builtin_memcpy(&c->r, r, sizeof(*r));
	c->seq = pos + 1;
	sstat_add(SSTAT_CLOSED);
}

/*
 * Callbacks come often (several per connection on both ends, every RTT
 * sample once enabled), so each case does only its own work: the precise
 * clock (25 ns in a VM) is read only where a time is stored, and the full
 * counter refresh happens when a connection starts (and at its close, in
 * sock_set_state).
 */
SEC("sockops")
int sockops_tcp(struct bpf_sock_ops *skops)
{
	struct sock_record *r;
	__u32 op = skops->op;
	__u64 cookie, now;
	int connect_seen;

	if (skops->family != NP_AF_INET && skops->family != NP_AF_INET6)
		return 1;

	switch (op) {
	case BPF_SOCK_OPS_TCP_LISTEN_CB: {
		/* after the port is bound (the state tracepoint may come before) */
		struct tcp_sock *tp = ops_tcp_sock(skops);
		struct listen_key lk = { .netns_ino = tp_netns_ino(tp), .port = skops->local_port };
		struct sock_owner lo;

		if (!open_owner_take(tp, &lo))
			bpf_map_update_elem(&listen_owners, &lk, &lo, BPF_ANY);
		return 1;
	}
	case BPF_SOCK_OPS_TCP_CONNECT_CB:
		bpf_sock_ops_cb_flags_set(skops, rtt_from_start ? SOCK_CB_FLAGS_RTT : SOCK_CB_FLAGS);
		cookie = bpf_get_socket_cookie(skops);
		record_create(skops, cookie, ROLE_CLIENT, bpf_ktime_get_ns(), 1, 0, 1);
		return 1;
	case BPF_SOCK_OPS_ACTIVE_ESTABLISHED_CB:
	case BPF_SOCK_OPS_PASSIVE_ESTABLISHED_CB:
		/* our flags already on: its connect() was seen (and, not found below, counted) */
		connect_seen = skops->bpf_sock_ops_cb_flags & SOCK_CB_FLAGS;
		bpf_sock_ops_cb_flags_set(skops, rtt_from_start ? SOCK_CB_FLAGS_RTT : SOCK_CB_FLAGS);
		cookie = bpf_get_socket_cookie(skops);
		now = bpf_ktime_get_ns();
		if (op == BPF_SOCK_OPS_ACTIVE_ESTABLISHED_CB) {
			r = bpf_map_lookup_elem(&socks, &cookie);
			if (r) {
				record_established(r, skops, now);
				return 1;
			}
		}
		/* accepted, or a connect() from before netprofd */
		record_create(skops, cookie, op == BPF_SOCK_OPS_ACTIVE_ESTABLISHED_CB ?
			      ROLE_CLIENT : ROLE_SERVER, now, 0, 1, !connect_seen);
		return 1;
	case BPF_SOCK_OPS_RTT_CB: {
		/*
		 * args[0]: this RTT sample in µs (mrtt), args[1] the srtt the
		 * kernel passes with it (6.4 and later). Before, the callback
		 * has no arguments (both 0): the sample is the smoothed RTT as
		 * of this ACK, the closest the kernel gives (docs/sockets.md).
		 */
		__u32 sample = skops->args[0];

		if (!sample && !skops->args[1])
			sample = skops->srtt_us >> 3;

		cookie = bpf_get_socket_cookie(skops);
		r = bpf_map_lookup_elem(&socks, &cookie);
		if (!r)
			return 1;
		if (sample)
			rtt_sample(r, sample);
		r->srtt_us = skops->srtt_us >> 3;
		r->min_rtt_us = skops->rtt_min;
		r->bytes_acked = skops->bytes_acked;
		r->bytes_received = skops->bytes_received;
		if (rtt_per_pass) {
			__u32 left = (r->flags & SOCK_F_RTT_LEFT_MASK) >> SOCK_F_RTT_LEFT_SHIFT;

			if (left > 1) {
				r->flags -= 1U << SOCK_F_RTT_LEFT_SHIFT;
			} else {
				/* this pass's samples taken: quiet until the next */
				bpf_sock_ops_cb_flags_set(skops, skops->bpf_sock_ops_cb_flags &
							  ~BPF_SOCK_OPS_RTT_CB_FLAG);
				r->flags &= ~(SOCK_F_RTT_CB | SOCK_F_RTT_LEFT_MASK);
			}
		}
		return 1;
	}
	case BPF_SOCK_OPS_RETRANS_CB:
		/* args: first byte's sequence, segments, tcp_transmit_skb()'s result */
		cookie = bpf_get_socket_cookie(skops);
		r = bpf_map_lookup_elem(&socks, &cookie);
		if (r && skops->args[2] == 0)
			r->retrans_cb += skops->args[1];
		return 1;
	}
	return 1;
}

/*
 * The close, from the tracepoint every TCP state change passes (all sockets
 * of the host: the cookie tells ours). TCP_CLOSE is set after the socket
 * left the hash tables, with its counters final: the record is completed
 * from the tcp_sock and moved to the closed ring. Whether FINs were
 * exchanged shows in the state it closes from (end_reason).
 */
static __always_inline int set_state(const struct sock *sk, int oldstate, int newstate,
				     const int compat)
{
	struct sock_record *r;
	struct tcp_sock *tp;
	__u64 cookie, now;

	/* listen() and connect() run in the opening process (open_owner) */
	if (newstate == TCP_LISTEN_ || newstate == TCP_SYN_SENT_) {
		open_owner_note(sk);
		return 0;
	}
	if (newstate != TCP_CLOSE_)
		return 0;
	cookie = tcp_cookie(sk);
	if (!cookie)
		return 0;
	r = bpf_map_lookup_elem(&socks, &cookie);
	if (!r)
		return 0;	/* not a connection of the followed cgroup */
	tp = bpf_skc_to_tcp_sock((void *)sk);
	if (!tp)
		return 0;
	now = bpf_ktime_get_ns();
	counters_from_tp(r, tp, now);
	r->state = TCP_CLOSE_;
	r->closed_ns = now;
	end_reason(r, oldstate);
	fin_flags(r, tp);
	/* the open table holds open sockets only: move it */
	record_closed(cookie, r, now, compat);
	agg_closed(r);
	bpf_map_delete_elem(&socks, &cookie);
	return 0;
}

SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(sock_set_state, const struct sock *sk, int oldstate, int newstate)
{
	return set_state(sk, oldstate, newstate, 0);
}

/* Kernels without fetching atomics (5.10): closed records by CPU shares. */
SEC("?tp_btf/inet_sock_set_state")
int BPF_PROG(sock_set_state_compat, const struct sock *sk, int oldstate, int newstate)
{
	return set_state(sk, oldstate, newstate, 1);
}

/*
 * The process doing I/O on a socket becomes its owner (nginx: the worker).
 * Each CPU remembers the last socket and process it checked (or that
 * connect() named): a process doing I/O again on the same socket costs no
 * lookup in socks, whose records are usually cold in this CPU's cache
 * (under churn the lookup was most of netprof's per-call cost). Another
 * socket or process on this CPU makes the next check a full one.
 */
static __always_inline int io_owner(struct sock *sk)
{
	struct sock_record *r;
	struct io_seen *seen;
	__u32 tgid, zero = 0;
	__u64 cookie;

	/* every send and receive of the host: UDP and unix sockets leave first */
	cookie = tcp_cookie(sk);
	if (!cookie)
		return 0;
	tgid = bpf_get_current_pid_tgid() >> 32;
	seen = bpf_map_lookup_elem(&io_seen, &zero);
	if (!seen)
		return 0;
	if (seen->cookie == cookie && seen->tgid == tgid)
		return 0;
	seen->cookie = cookie;
	seen->tgid = tgid;
	r = bpf_map_lookup_elem(&socks, &cookie);
	if (!r)
		return 0;	/* not a connection of the followed cgroup */
	if (r->owner.tgid != tgid)
		owner_from_current(&r->owner, OWNER_IO);
	return 0;
}

SEC("tp_btf/sock_send_length")
int BPF_PROG(sock_send, struct sock *sk, int ret, int flags)
{
	return io_owner(sk);
}

SEC("tp_btf/sock_recv_length")
int BPF_PROG(sock_recv, struct sock *sk, int ret, int flags)
{
	return io_owner(sk);
}

/*
 * Kernels without those tracepoints (before 6.3: 6.1, 5.10) but with
 * fentry (Debian's have it; a kernel without kprobes has not): the same at
 * the start of TCP's own sendmsg and recvmsg (netprofd loads these only
 * where the tracepoints are refused).
 */
SEC("?fentry/tcp_sendmsg")
int BPF_PROG(sock_send_fentry, struct sock *sk)
{
	return io_owner(sk);
}

SEC("?fentry/tcp_recvmsg")
int BPF_PROG(sock_recv_fentry, struct sock *sk)
{
	return io_owner(sk);
}

static __always_inline void mark_reset(const struct sock *sk, __u32 flag)
{
	struct sock_record *r;
	__u64 cookie;

	cookie = tcp_cookie(sk);
	if (!cookie)
		return;
	r = bpf_map_lookup_elem(&socks, &cookie);
	if (r)
		r->flags |= flag;
}

SEC("tp_btf/tcp_send_reset")
int BPF_PROG(tcp_send_reset, const struct sock *sk, const struct sk_buff *skb, int reason)
{
	mark_reset(sk, SOCK_F_RST_SENT);
	return 0;
}

SEC("tp_btf/tcp_receive_reset")
int BPF_PROG(tcp_receive_reset, struct sock *sk)
{
	mark_reset(sk, SOCK_F_RST_RECV);
	return 0;
}

/* ---- start-up scan: sockets that existed before netprofd ---- */

#define TCP_TIME_WAIT_	6
#define TCP_NEW_SYN_RECV_ 12
#define SOL_TCP_	6

/* struct cgroup before 6.1 (CO-RE: matched by name against the kernel's) */
struct cgroup___old {
	__u64 ancestor_ids[0];
} __attribute__((preserve_access_index));

/* Is the task in the followed cgroup or below it? */
static __always_inline int task_in_target(struct task_struct *task)
{
	struct cgroup *cg = BPF_CORE_READ(task, cgroups, dfl_cgrp), *anc = NULL;
	int level;

	if (!cg)
		return 0;
	level = BPF_CORE_READ(cg, level);
	if (level < (int)target_level)
		return 0;
	/* cgroup->ancestors[target_level]: a flexible array, read by offset */
	if (bpf_core_field_exists(struct cgroup, ancestors)) {
		if (bpf_probe_read_kernel(&anc, sizeof(anc), (void *)cg +
					  bpf_core_field_offset(struct cgroup, ancestors) +
					  target_level * sizeof(void *)))
			return 0;
		return anc && BPF_CORE_READ(anc, kn, id) == target_cgroup_id;
	} else {
		/* before 6.1: the ancestors' ids, cgroup->ancestor_ids[level] */
		__u64 id = 0;

		if (bpf_probe_read_kernel(&id, sizeof(id), (void *)cg +
					  bpf_core_field_offset(struct cgroup___old, ancestor_ids) +
					  target_level * sizeof(__u64)))
			return 0;
		return id == target_cgroup_id;
	}
}

static __always_inline void owner_of_task(struct sock_owner *o, struct task_struct *task)
{
	o->tgid = task->tgid;
	o->uid = BPF_CORE_READ(task, cred, uid.val);
	o->cgroup_id = BPF_CORE_READ(task, cgroups, dfl_cgrp, kn, id);
	bpf_probe_read_kernel_str(o->comm, sizeof(o->comm), task->comm);
	o->source = OWNER_SCAN;
}

#define S_IFMT_		00170000
#define S_IFSOCK_	0140000

/*
 * Every socket file of every process in the followed cgroup: note the
 * owners of its TCP sockets by inode for scan_tcp (listeners go straight
 * into listen_owners, for the connections they accept from now on), and a
 * process per namespace for iter/tcp. Plain CO-RE reads throughout: the
 * socket pointers here are untrusted on current kernels, and a socket's
 * file is told by its inode's mode (as bpf_sock_from_file does by f_op).
 */
SEC("iter/task_file")
int scan_owners(struct bpf_iter__task_file *ctx)
{
	struct task_struct *task = ctx->task;
	struct file *file = ctx->file;
	struct sock_owner o = {};
	struct socket *sock;
	struct sock *sk;
	__u32 netns, pid;
	__u16 family, mode;
	__u64 ino;

	if (!task || !file)
		return 0;
	mode = BPF_CORE_READ(file, f_inode, i_mode);
	if ((mode & S_IFMT_) != S_IFSOCK_)
		return 0;
	sock = BPF_CORE_READ(file, private_data);
	sk = BPF_CORE_READ(sock, sk);
	if (!sk || BPF_CORE_READ(sk, sk_protocol) != IPPROTO_TCP_)
		return 0;
	family = BPF_CORE_READ(sk, __sk_common.skc_family);
	if ((family != NP_AF_INET && family != NP_AF_INET6) || !task_in_target(task))
		return 0;
	pid = task->tgid;
	netns = BPF_CORE_READ(sk, __sk_common.skc_net.net, ns.inum);
	owner_of_task(&o, task);
	if (BPF_CORE_READ(sk, __sk_common.skc_state) == TCP_LISTEN_) {
		struct listen_key lk = { .netns_ino = netns,
					 .port = BPF_CORE_READ(sk, __sk_common.skc_num) };

		bpf_map_update_elem(&listen_owners, &lk, &o, BPF_NOEXIST);
		return 0;
	}
	/* a socket shared by several processes (fork) keeps the first found */
	ino = BPF_CORE_READ(file, f_inode, i_ino);
	if (bpf_map_update_elem(&scan_owners_by_ino, &ino, &o, BPF_NOEXIST) == -7 /* E2BIG */)
		sstat_add(SSTAT_SCAN_OWNERS_FULL);
	bpf_map_update_elem(&scan_netns, &netns, &pid, BPF_NOEXIST);
	return 0;
}

/* The pass turns a connection's RTT callback on, where the kernel lets it (rtt_arm_probe); 0 when it did. */
static __always_inline int rtt_cb_arm(struct tcp_sock *tp)
{
	int flags = SOCK_CB_FLAGS_RTT;

	return bpf_setsockopt(tp, SOL_TCP_, TCP_BPF_SOCK_OPS_CB_FLAGS, &flags, sizeof(flags));
}

/*
 * Every TCP socket of one namespace (the one netprofd entered): record
 * listeners' ports; for connections with an owner but no record, make the
 * record from the socket itself; turn on the sockops callbacks, RTT included,
 * for every followed connection. netprofd runs it at start-up and then on
 * each pass for namespaces with connections whose RTT callback is still off.
 */
/*
 * helpers: the socket's cookie from bpf_get_socket_cookie (made for a
 * socket from before netprofd), the RTT callback turned on by
 * bpf_setsockopt. Without (before 5.12 iter/tcp may call neither): the
 * cookie the socket has, if any, so only sockets whose cookie sock_ops
 * made (netprofd saw them open) are refreshed, and their RTT callback is
 * on from the start (netprofd sets rtt_from_start there).
 */
static __always_inline int scan_tcp_one(struct bpf_iter__tcp *ctx, bool helpers)
{
	struct sock_common *skc = ctx->sk_common;
	struct sock_record init = {}, *rec;
	struct listen_key lk = {};
	struct sock_owner *o;
	struct tcp_sock *tp;
	__u8 one = 1, state;
	__u64 cookie, sk_ino;
	__u32 ino;

	if (!skc)
		return 0;
	state = skc->skc_state;
	ino = BPF_CORE_READ(skc, skc_net.net, ns.inum);
	if (state == TCP_LISTEN_) {
		lk.netns_ino = ino;
		lk.port = skc->skc_num;
		bpf_map_update_elem(&listen_ports, &lk, &one, BPF_ANY);
		return 0;
	}
	if (state == TCP_TIME_WAIT_ || state == TCP_NEW_SYN_RECV_ || state == TCP_CLOSE_)
		return 0;
	tp = bpf_skc_to_tcp_sock(skc);
	if (!tp)
		return 0;
	if (helpers)
		cookie = bpf_get_socket_cookie(tp);
	else
		cookie = tp->inet_conn.icsk_inet.sk.__sk_common.skc_cookie.counter;
	if (!cookie)
		return 0;
	rec = bpf_map_lookup_elem(&socks, &cookie);
	if (rec) {
		/* a connection that outlived a pass: per-ACK RTT samples from now on */
		/* on already: a new budget for the next interval */
		if (helpers && ((rec->flags & SOCK_F_RTT_CB) || !rtt_cb_arm(tp)))
			rtt_cb_on(rec);
		/* and its state and counters as of now (no callback follows either) */
		rec->state = state;
		counters_from_tp(rec, tp, bpf_ktime_get_ns());
		return 0;
	}
	/* the inode scan_owners named the socket by (SOCK_INODE) */
	sk_ino = BPF_CORE_READ(tp, inet_conn.icsk_inet.sk.sk_socket, file, f_inode, i_ino);
	o = bpf_map_lookup_elem(&scan_owners_by_ino, &sk_ino);
	if (!o || !helpers)
		return 0;	/* not a socket of the followed cgroup */

	sock_addr(init.laddr, skc->skc_family, skc->skc_rcv_saddr,
		  skc->skc_v6_rcv_saddr.in6_u.u6_addr32);
	sock_addr(init.raddr, skc->skc_family, skc->skc_daddr, skc->skc_v6_daddr.in6_u.u6_addr32);
	init.family = skc->skc_family == NP_AF_INET ? FLOW_FAMILY_IPV4 : FLOW_FAMILY_IPV6;
	init.lport = skc->skc_num;
	init.rport = bpf_ntohs(skc->skc_dport);
	/* iter/tcp walks the listeners first: a socket on a listening port was accepted */
	lk.netns_ino = ino;
	lk.port = init.lport;
	init.role = bpf_map_lookup_elem(&listen_ports, &lk) ? ROLE_SERVER : ROLE_CLIENT;
	init.state = state;
	init.netns_ino = ino;
	init.flags = SOCK_F_SCANNED;
	init.owner = *o;
	counters_from_tp(&init, tp, bpf_ktime_get_ns());
	if (!rtt_cb_arm(tp))
		rtt_cb_on(&init);
	if (bpf_map_update_elem(&socks, &cookie, &init, BPF_NOEXIST) == -7 /* E2BIG */)
		sstat_add(SSTAT_TABLE_FULL);
	else
		bpf_map_delete_elem(&scan_owners_by_ino, &sk_ino);
	return 0;
}

SEC("iter/tcp")
int scan_tcp(struct bpf_iter__tcp *ctx)
{
	return scan_tcp_one(ctx, true);
}

SEC("?iter/tcp")
int scan_tcp_skc(struct bpf_iter__tcp *ctx)
{
	return scan_tcp_one(ctx, false);
}

/*
 * Can the pass turn the RTT callback on? bpf_setsockopt takes
 * TCP_BPF_SOCK_OPS_CB_FLAGS outside sock_ops only on newer kernels (6.1
 * refuses it at run time, so the program loads and the call fails).
 * netprofd connects a socket pair of its own on loopback, sets probe_port
 * to the connecting end's port, runs this, and reads probe_err: where it is
 * not 0, RTT callbacks start with each connection (rtt_from_start).
 */
__u16 probe_port;
int probe_err;	/* netprofd sets it to 1 before each run */

SEC("?iter/tcp")
int rtt_arm_probe(struct bpf_iter__tcp *ctx)
{
	struct sock_common *skc = ctx->sk_common;
	struct tcp_sock *tp;

	if (!skc || skc->skc_num != probe_port || skc->skc_state != TCP_ESTABLISHED_)
		return 0;
	tp = bpf_skc_to_tcp_sock(skc);
	if (tp)
		probe_err = rtt_cb_arm(tp);
	return 0;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
