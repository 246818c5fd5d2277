// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * latency.bpf.c - where the time goes inside this host, per TCP connection
 * of the followed cgroup, stage by stage (maps/latency.h, docs/latency.md):
 *
 *  receive  netif_receive_skb --rx_stack--> tcp_probe --rx_sockq--> read covers it
 *  send     write begins --tx_sockq--> net_dev_queue --tx_qdisc--> net_dev_start_xmit
 *                                        --tx_driver--> net_dev_xmit
 *
 * Per-packet state is bounded and needs no cleanup: a packet between two
 * hooks of one call chain is remembered in a per-CPU slot (overwritten by
 * the next packet), a packet given to a queueing qdisc in an LRU hash keyed
 * by socket and end sequence (one the qdisc drops ages out), and bytes
 * waiting in a socket as sequence-number marks in the connection's own
 * record, which goes away with the connection.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>
#include "flow.h"
#include "sockets.h"
#include "latency.h"
#include "lib/log2.bpf.h"
#include "lib/counter.bpf.h"
#include "lib/sock.bpf.h"

#define TCP_CLOSE_	7
#define TCP_TIME_WAIT_	6
#define TCP_NEW_SYN_RECV_ 12
#define RX_SLOTS	8	/* GRO hands up to 8 packets at once (gro_normal_batch) */
#define RX_SLOT_MAX_NS	1000000000ULL

/* shared with sockets.bpf.c through the pins */
#include "lib/socks.bpf.h"

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, SOCK_LAT_DEFAULT_MAX);
	__type(key, __u64);			/* socket cookie */
	__type(value, struct sock_lat);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} sock_lat SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, EDGE_LAT_DEFAULT_MAX);
	__type(key, struct conn_agg_key);
	__type(value, struct edge_lat);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} edge_lat SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, LSTAT_MAX);
	__type(key, __u32);
	__type(value, __u64);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} lat_stats SEC(".maps");

/* all zeroes: the initial value of new entries (too large for the stack) */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct sock_lat);
} lat_zero SEC(".maps");

struct lat_cpu {
	struct { __u64 skb, head, ns; } rx[RX_SLOTS];	/* the last netif_receive_skb calls */
	__u32	rx_next;
	__u32	rx_pending;			/* rx[] slots in use */
	__u64	win;				/* budget window: the jiffy */
	__u32	rx_budget, mark_budget, tx_budget; /* left in this window */
	__u64	q_skb, q_dev, q_ns, q_cookie;	/* net_dev_queue, noqueue devices */
	__u64	x_skb, x_qns, x_ns, x_cookie;	/* net_dev_start_xmit */
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct lat_cpu);
} lat_cpu SEC(".maps");

struct held_key {
	__u64	cookie;
	__u32	end;		/* end sequence: the packet's last segment has it too */
	__u32	pad;
};

/*
 * Packets a qdisc holds, with the time they were queued; LRU: one the qdisc
 * drops ages out.
 */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 8192);
	__type(key, struct held_key);
	__type(value, __u64);
} qdisc_held SEC(".maps");

static __always_inline void lstat_add(__u32 i)
{
	percpu_add(&lat_stats, i, 1);
}

static __always_inline struct lat_cpu *this_cpu(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&lat_cpu, &zero);
}

static __always_inline void lat_add(struct lat_hist *h, __u64 ns)
{
	__u32 b = log2_bucket(ns, LAT_BUCKETS - 1);

	h->sum_ns += ns;
	h->count++;
	if (b < LAT_BUCKETS)
		h->hist[b]++;
}

/* the newest mark, or NULL */
static __always_inline struct lat_mark *ring_last(struct lat_ring *r)
{
	return r->n ? &r->m[(r->head + r->n - 1) & (LAT_RING - 1)] : NULL;
}

/*
 * A new mark at time ns (0: now, the clock read only when there is room);
 * -1 when the ring is full (counted: that sample is skipped).
 */
static __always_inline int ring_push(struct lat_ring *r, __u32 seq, __u64 ns)
{
	struct lat_mark *m;

	if (r->n >= LAT_RING) {
		lstat_add(LSTAT_RING_FULL);
		return -1;
	}
	m = &r->m[(r->head + r->n) & (LAT_RING - 1)];
	m->seq = seq;
	m->ns = ns ? ns : bpf_ktime_get_ns();
	r->n++;
	return 0;
}

/*
 * Every mark before sequence upto has crossed the stage's end: sample it
 * into h. *now is the time, read here (and kept) if still 0 and needed.
 */
static __always_inline void ring_pop(struct lat_ring *r, __u32 upto, struct lat_hist *h,
				     __u64 *now)
{
	struct lat_mark *m;
	__u32 k;

	for (k = 0; k < LAT_RING && r->n; k++) {
		m = &r->m[r->head & (LAT_RING - 1)];
		if ((__s32)(m->seq - upto) >= 0)
			break;
		if (!*now)
			*now = bpf_ktime_get_ns();
		lat_add(h, *now - m->ns);
		r->head = (r->head + 1) & (LAT_RING - 1);
		r->n--;
	}
}

static __always_inline void owner_key(struct sock_lat *l, __u32 tgid)
{
	l->owner_tgid = tgid;
	l->key.cgroup_id = bpf_get_current_cgroup_id();
	bpf_get_current_comm(l->key.comm, sizeof(l->key.comm));
}

/*
 * The connection's latency record; with create, made from its socket record
 * (so only connections sockets.bpf.c follows are timed).
 */
static __always_inline struct sock_lat *lat_of(const struct sock *sk, int create)
{
	__u64 cookie = tcp_cookie(sk);
	struct sock_record *r;
	struct sock_lat *l;
	__u32 zero = 0;
	void *init;

	if (!cookie)
		return NULL;	/* a socket sockops never saw */
	l = bpf_map_lookup_elem(&sock_lat, &cookie);
	if (l || !create)
		return l;
	r = bpf_map_lookup_elem(&socks, &cookie);
	init = bpf_map_lookup_elem(&lat_zero, &zero);
	if (!r || !init)
		return NULL;
	if (bpf_map_update_elem(&sock_lat, &cookie, init, BPF_NOEXIST) == -7 /* E2BIG */) {
		lstat_add(LSTAT_TABLE_FULL);
		return NULL;
	}
	l = bpf_map_lookup_elem(&sock_lat, &cookie);
	if (!l)
		return NULL;
	conn_agg_key_of(r, &l->key);	/* new entries are zeroed */
	l->owner_tgid = r->owner.tgid;
	return l;
}

/* In process context: the process doing I/O owns the connection (as io_owner). */
static __always_inline void lat_owner(struct sock_lat *l)
{
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;

	if (l->owner_tgid != tgid)
		owner_key(l, tgid);
}

/* ---- receive ---- */

/* A new budget window: LAT_RX_BUDGET packets and marks, LAT_TX_BUDGET sent packets. */
static __always_inline void budget_refill(struct lat_cpu *c)
{
	/* tracing programs may not read the coarse clock; jiffies they may */
	__u64 w = bpf_jiffies64();

	if (c->win != w) {
		c->win = w;
		c->rx_budget = LAT_RX_BUDGET;
		c->mark_budget = LAT_RX_BUDGET;
		c->tx_budget = LAT_TX_BUDGET;
	}
}

#define TCPHDR_FIN_	0x01
#define ETH_P_IP_	0x0800
#define ETH_P_IPV6_	0x86DD

SEC("tp_btf/netif_receive_skb")
int BPF_PROG(lat_rx_netif, struct sk_buff *skb)
{
	struct lat_cpu *c = this_cpu();
	unsigned char *nh;
	__u8 proto = 0;
	__u32 i;

	if (!c)
		return 0;
	budget_refill(c);
	if (!c->rx_budget) {
		lstat_add(LSTAT_RX_UNSAMPLED);
		return 0;
	}
	c->rx_budget--;
	/* only TCP reaches tcp_probe: other packets would hold a slot for nothing */
	nh = skb->head + skb->network_header;
	if (skb->protocol == bpf_htons(ETH_P_IP_))
		bpf_probe_read_kernel(&proto, 1, nh + 9);
	else if (skb->protocol == bpf_htons(ETH_P_IPV6_))
		bpf_probe_read_kernel(&proto, 1, nh + 6);
	if (proto != IPPROTO_TCP_)
		return 0;
	i = c->rx_next++ & (RX_SLOTS - 1);
	if (!c->rx[i].skb)
		c->rx_pending++;
	c->rx[i].skb = (__u64)skb;
	c->rx[i].head = (__u64)skb->head;
	c->rx[i].ns = bpf_ktime_get_ns();
	return 0;
}

/* tcp_rcv_established(), for every segment of an established connection */
SEC("tp_btf/tcp_probe")
int BPF_PROG(lat_rx_tcp, struct sock *sk, const struct sk_buff *skb)
{
	struct lat_cpu *c = this_cpu();
	struct tcp_skb_cb *cb = (void *)skb->cb;
	__u32 i, seq = cb->seq, end = cb->end_seq;
	__u64 now, t = 0, head = (__u64)skb->head;
	struct lat_mark *last;
	struct sock_lat *l;
	int mark = 0, hit = -1;

	if (!c)
		return 0;
	/*
	 * end_seq counts a FIN, which no read returns: the data ends before
	 * it (a FIN's own mark would be popped only where a read of 0 bytes,
	 * at the end of the stream, pops marks: the fexit fallback)
	 */
	if (cb->tcp_flags & TCPHDR_FIN_)
		end--;
	if (end != seq) {
		budget_refill(c);
		if (c->mark_budget)
			mark = 1;
		else
			lstat_add(LSTAT_MARK_UNSAMPLED);
	}
	if (!mark && !c->rx_pending)
		return 0;
	/*
	 * This packet's slot, if netif_receive_skb took one on this CPU;
	 * found before any lookup: under load the slots often hold packets
	 * whose tcp_probe runs elsewhere (from the backlog, on the reader's
	 * CPU), and a miss must stay as cheap as the empty case. The slot
	 * goes whether or not the socket is followed.
	 */
	for (i = 0; i < RX_SLOTS; i++) {
		if (c->rx[i].skb == (__u64)skb && c->rx[i].head == head) {
			t = c->rx[i].ns;
			c->rx[i].skb = 0;
			c->rx_pending--;
			hit = i;
			break;
		}
	}
	if (hit < 0 && !mark)
		return 0;
	now = bpf_ktime_get_ns();
	/*
	 * Slots are only ever overwritten, so one may be left from a packet
	 * long gone whose skb (and buffer) were reused for one that came in on
	 * another CPU: a second is too old. Old slots are let go here, so
	 * rx_pending drops back to zero once traffic stops.
	 */
	for (i = 0; i < RX_SLOTS && c->rx_pending; i++) {
		if (c->rx[i].skb && now - c->rx[i].ns >= RX_SLOT_MAX_NS) {
			c->rx[i].skb = 0;
			c->rx_pending--;
		}
	}
	l = lat_of(sk, mark);
	if (!l)
		return 0;
	if (hit >= 0 && now - t < RX_SLOT_MAX_NS)
		lat_add(&l->st[LAT_RX_STACK], now - t);
	if (!mark)
		return 0;	/* no data, or past the budget */
	last = ring_last(&l->rx);
	if (last && (__s32)(end - last->seq) <= 0)
		return 0;	/* a retransmission of data already marked */
	if (!ring_push(&l->rx, end, now))
		c->mark_budget--;
	return 0;
}

/* After recvmsg: every mark the application's reads have now passed. */
static __always_inline int rx_read(struct sock *sk)
{
	struct sock_lat *l;
	struct tcp_sock *tp;
	__u64 now = 0;

	tp = bpf_skc_to_tcp_sock(sk);
	if (!tp)
		return 0;
	l = lat_of(sk, 0);
	if (!l)
		return 0;
	lat_owner(l);
	/* marks at or before copied_seq: the application has read them */
	ring_pop(&l->rx, tp->copied_seq + 1, &l->st[LAT_RX_SOCKQ], &now);
	return 0;
}

SEC("tp_btf/sock_recv_length")
int BPF_PROG(lat_rx_read, struct sock *sk, int ret, int flags)
{
	/* every recvmsg on the host: UDP and unix sockets leave before any lookup */
	if (ret <= 0 || !sk)
		return 0;
	return rx_read(sk);
}

/*
 * Before 6.3 (no sock_recv_length): after TCP's recvmsg. Its arguments
 * changed between kernels, so the return value's place is not known and
 * not read: a read that took nothing pops nothing.
 */
SEC("?fexit/tcp_recvmsg")
int BPF_PROG(lat_rx_read_fexit, struct sock *sk)
{
	return rx_read(sk);
}

/* ---- send ---- */

/* A write begins at write_seq. */
static __always_inline int tx_write(const struct sock *sk)
{
	struct tcp_sock *tp = bpf_skc_to_tcp_sock((void *)sk);
	struct lat_mark *last;
	struct sock_lat *l;
	__u32 seq;

	if (!tp)
		return 0;
	l = lat_of(sk, 1);
	if (!l)
		return 0;
	lat_owner(l);
	seq = tp->write_seq;
	last = ring_last(&l->tx);
	if (last && last->seq == seq)
		return 0;	/* the same write's next chunk */
	ring_push(&l->tx, seq, 0);
	return 0;
}

/* tcp_sendmsg_locked(), before each chunk it copies (the tracepoint is 6.14's) */
SEC("tp_btf/tcp_sendmsg_locked")
int BPF_PROG(lat_tx_write, const struct sock *sk, const struct msghdr *msg,
	     const struct sk_buff *skb, int size_goal)
{
	return tx_write(sk);
}

/* Kernels without it: once at the start of each tcp_sendmsg_locked() call. */
SEC("?fentry/tcp_sendmsg_locked")
int BPF_PROG(lat_tx_write_fentry, const struct sock *sk)
{
	return tx_write(sk);
}

/*
 * The followed connection an outgoing skb belongs to, and the sequence range
 * [*seq, *end) it carries; 0 if none. skb->sk is RCU-protected, which helpers
 * refuse: it is read as plain memory. A followed socket has its cookie since
 * sockops asked for it.
 */
static __always_inline __u64 tx_seg(const struct sk_buff *skb, __u32 *seq, __u32 *end)
{
	/* skb and what it points to are BTF pointers here: plain loads, no helpers */
	struct sock *sk = skb->sk;
	unsigned char *head;
	__u32 th_off;
	__u8 state;
	/* the TCP header from its sequence number to its data offset */
	struct { __be32 seq, ack; __u8 doff; } th;

	if (!sk)
		return 0;
	state = sk->__sk_common.skc_state;
	if (state == TCP_TIME_WAIT_ || state == TCP_NEW_SYN_RECV_ ||
	    sk->sk_protocol != IPPROTO_TCP_)
		return 0;
	head = skb->head;
	th_off = skb->transport_header;
	if (bpf_probe_read_kernel(&th, 9, head + th_off + 4))
		return 0;
	*seq = bpf_ntohl(th.seq);
	*end = *seq + skb->len - (th_off - (__u32)(skb->data - head)) - (th.doff >> 4) * 4;
	return sk->__sk_common.skc_cookie.counter;
}

/* __dev_queue_xmit(), after TC egress, before the qdisc */
SEC("tp_btf/net_dev_queue")
int BPF_PROG(lat_tx_queue, struct sk_buff *skb)
{
	struct lat_cpu *c;
	struct sock_lat *l;
	__u32 seq, end;
	__u64 now = 0, cookie;

	cookie = tx_seg(skb, &seq, &end);
	if (!cookie)
		return 0;
	l = bpf_map_lookup_elem(&sock_lat, &cookie);
	c = this_cpu();
	if (!l || !c)
		return 0;
	/* the segment [seq, end): the write marks it carries leave TCP now */
	ring_pop(&l->tx, end, &l->st[LAT_TX_SOCKQ], &now);
	/* past the budget: no tx_qdisc or tx_driver sample, no clock read */
	budget_refill(c);
	if (!c->tx_budget) {
		c->q_skb = 0;
		lstat_add(LSTAT_TX_UNSAMPLED);
		return 0;
	}
	c->tx_budget--;
	if (!now)
		now = bpf_ktime_get_ns();
	if (skb->dev->qdisc->enqueue) {
		/*
		 * A queueing qdisc (not noqueue): the packet leaves later, on
		 * any CPU, after other packets, perhaps cut into segments (GSO
		 * done in software after the qdisc, or tbf's own): remember it
		 * by connection and end sequence, which its last segment keeps.
		 */
		struct held_key key = { .cookie = cookie, .end = end };

		bpf_map_update_elem(&qdisc_held, &key, &now, BPF_ANY);
		return 0;
	}
	c->q_skb = (__u64)skb;
	c->q_dev = (__u64)skb->dev;
	c->q_ns = now;
	c->q_cookie = cookie;
	return 0;
}

SEC("tp_btf/net_dev_start_xmit")
int BPF_PROG(lat_tx_start, const struct sk_buff *skb, const struct net_device *dev)
{
	struct lat_cpu *c = this_cpu();
	struct held_key key = {};
	__u32 seq, end;
	__u64 *ns;

	if (!c)
		return 0;
	if (c->q_skb && (c->q_skb == (__u64)skb || c->q_dev == (__u64)dev)) {
		/*
		 * Straight through a device without a queue (noqueue): nothing
		 * transmits on this CPU between net_dev_queue and here, so
		 * this is the packet, or its first segment when GSO cut it
		 * up on the way (validate_xmit_skb).
		 */
		c->x_qns = c->q_ns;
		c->x_cookie = c->q_cookie;
		c->q_skb = 0;
		goto start;
	}
	/* every segment of every packet: leave at once on noqueue devices */
	if (!dev->qdisc->enqueue)
		return 0;
	key.cookie = tx_seg(skb, &seq, &end);
	if (!key.cookie)
		return 0;
	key.end = end;
	ns = bpf_map_lookup_elem(&qdisc_held, &key);
	if (!ns)
		return 0;
	c->x_qns = *ns;
	c->x_cookie = key.cookie;
	bpf_map_delete_elem(&qdisc_held, &key);
start:
	c->x_skb = (__u64)skb;
	c->x_ns = bpf_ktime_get_ns();
	return 0;
}

SEC("tp_btf/net_dev_xmit")
int BPF_PROG(lat_tx_done, struct sk_buff *skb, int rc, struct net_device *dev, unsigned int len)
{
	struct lat_cpu *c = this_cpu();
	struct sock_lat *l;
	__u64 now;

	if (!c || c->x_skb != (__u64)skb)
		return 0;
	c->x_skb = 0;
	l = bpf_map_lookup_elem(&sock_lat, &c->x_cookie);
	if (!l)
		return 0;
	now = bpf_ktime_get_ns();
	lat_add(&l->st[LAT_TX_QDISC], c->x_ns - c->x_qns);
	lat_add(&l->st[LAT_TX_DRIVER], now - c->x_ns);
	return 0;
}

/* ---- a connection ends: fold it into its edge ---- */

SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(lat_close, const struct sock *sk, const int oldstate, const int newstate)
{
	struct edge_lat *e;
	struct sock_lat *l;
	__u32 s, b, zero = 0;
	__u64 cookie;
	void *init;

	if (newstate != TCP_CLOSE_)
		return 0;
	cookie = tcp_cookie(sk);
	if (!cookie)
		return 0;
	l = bpf_map_lookup_elem(&sock_lat, &cookie);
	if (!l)
		return 0;
	e = bpf_map_lookup_elem(&edge_lat, &l->key);
	if (!e) {
		init = bpf_map_lookup_elem(&lat_zero, &zero);
		if (init && bpf_map_update_elem(&edge_lat, &l->key, init, BPF_NOEXIST) == -7)
			lstat_add(LSTAT_EDGE_FULL);
		e = bpf_map_lookup_elem(&edge_lat, &l->key);
	}
	if (e) {
		for (s = 0; s < LAT_STAGES; s++) {
			if (!l->st[s].count)
				continue;
			__sync_fetch_and_add(&e->st[s].sum_ns, l->st[s].sum_ns);
			__sync_fetch_and_add(&e->st[s].count, l->st[s].count);
			for (b = 0; b < LAT_BUCKETS; b++)
				if (l->st[s].hist[b])
					__sync_fetch_and_add(&e->st[s].hist[b], l->st[s].hist[b]);
		}
	}
	bpf_map_delete_elem(&sock_lat, &cookie);
	return 0;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
