// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * flow.bpf.c - the flow datapath: XDP ingress, TC ingress and TC egress.
 *
 * Every IP packet is parsed to a 5-tuple and counted into the per-CPU flow
 * table (maps/flow.h). A packet is counted once per interface:
 *  - xdp_ingress counts it and marks it in the XDP metadata area;
 *  - tc_ingress counts only unmarked packets (no XDP program, or XDP could
 *    not mark), and stamps tc_ingress_ts_ns on the flow either way;
 *  - tc_egress counts what leaves.
 * xdp_ingress counts a CPU's busy flow in the flow cache, which a BPF timer
 * folds into the table (maps/flow.h, struct flow_cache); xdp_ingress_direct
 * is the same without the cache, for generic XDP.
 * Nothing is dropped silently: packets that cannot be recorded are counted
 * in the stats map by reason.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include "flow.h"
#include "lib/parse.bpf.h"
#include "lib/counter.bpf.h"

/*
 * Observers pass every packet on to the next filter: TC_ACT_OK would end
 * classification and hide packets from the user's own tc filters (and
 * netprof capture's) at later priorities.
 */
#define TC_ACT_UNSPEC_	(-1)
#define EEXIST_		17
#define CLOCK_MONOTONIC_	1

/* Set by netprofd before load: one program instance per network namespace. */
const volatile __u32 netns_ino = 0;
/*
 * Clocks. Reading the precise clock costs about 25 ns per packet in a VM,
 * a third of the hot path (docs/PERFORMANCE.md). Flow bookkeeping (first
 * and last seen, each hook's latest packet) uses the coarse clock: the same
 * CLOCK_MONOTONIC, advanced every tick (4 ms at HZ=250). The sampled XDP
 * and TC ingress times of one packet, taken once per flow per XDP_SAMPLE_NS,
 * always use the precise clock: that pair is for timing.
 * netprofd --precise-clock makes every timestamp precise.
 */
const volatile __u8 precise_clock = 0;
/*
 * The flow cache folds itself on a timer (maps/flow.h). BPF_PROG_TEST_RUN
 * runs XDP in process context, where the timer's softirq could interrupt
 * it: netprof replay and the tests turn the timer off and end each burst
 * with flow_cache_flush instead.
 */
const volatile __u8 cache_timer = 1;
/*
 * netprof replay: a frame from a capture may be cut by the capture's
 * snaplen or come with another link header (rewrapped as Ethernet by
 * lib/pcapfile.c); replay sets the length the capture records, as tshark
 * counts it, in replay_wire_len before each test run, and that is counted
 * instead of the frame's. 0 in netprofd: the verifier drops the branch.
 */
const volatile __u8 replay = 0;
__u32 replay_wire_len = 0;

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, FLOWS_DEFAULT_MAX);	/* resized at load time */
	__type(key, struct flow_key);
	__type(value, struct flow_counters);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} flows SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, FLOWS_DEFAULT_MAX);	/* resized at load time */
	__type(key, struct flow_ended_key);
	__type(value, struct flow_record);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} flows_ended SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, FRAGS_MAX);
	__type(key, struct frag_key);
	__type(value, struct frag_ports);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} frags SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, STAT_MAX);
	__type(key, __u32);
	__type(value, __u64);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} stats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, struct iface_key);
	__type(value, struct iface_info);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} ifaces SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct daemon_info);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} daemon SEC(".maps");

/* indexed by CPU; resized to the CPUs at load time (CPUs beyond: no cache) */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, FLOW_CACHE_CPUS);
	__type(key, __u32);
	__type(value, struct flow_cache);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} flow_cache SEC(".maps");

enum hook {
	HOOK_XDP,
	HOOK_TC_INGRESS,
	HOOK_TC_EGRESS,
};

static __always_inline void stat_add(__u32 idx, __u64 n)
{
	percpu_add(&stats, idx, n);
}

static __always_inline void count_parse_error(int err)
{
	if (err == PARSE_NOT_IP)
		stat_add(STAT_NON_IP, 1);
	else if (err == PARSE_EXT_LIMIT)
		stat_add(STAT_IPV6_EXT_LIMIT, 1);
	else
		stat_add(STAT_TRUNCATED, 1);
}

/*
 * Later fragments carry no ports: take them from the first fragment of the
 * same datagram, which stored them in the frags map.
 */
static __always_inline void frag_ports(struct pkt_info *pi)
{
	struct frag_key fk = {};
	struct frag_ports *fp, val;

	__builtin_memcpy(fk.saddr, pi->saddr, 16);
	__builtin_memcpy(fk.daddr, pi->daddr, 16);
	fk.id = pi->frag_id;
	fk.proto = pi->proto;
	fk.family = pi->family;

	if (pi->frag == FRAG_FIRST) {
		val.sport = pi->sport;
		val.dport = pi->dport;
		bpf_map_update_elem(&frags, &fk, &val, BPF_ANY);
		return;
	}
	fp = bpf_map_lookup_elem(&frags, &fk);
	if (fp) {
		pi->sport = fp->sport;
		pi->dport = fp->dport;
	} else if (pi->proto == IPPROTO_TCP_ || pi->proto == IPPROTO_UDP_) {
		stat_add(STAT_FRAG_NO_PORTS, 1);
	}
}

/* Order the endpoints (address, then port); returns the packet's flow_dir. */
static __always_inline __u8 flow_key_fill(struct flow_key *k, const struct pkt_info *pi)
{
	const __u32 *s = (const __u32 *)pi->saddr, *d = (const __u32 *)pi->daddr;
	int i, cmp = 0;

#pragma unroll
	for (i = 0; i < 4; i++) {
		if (cmp == 0 && s[i] != d[i])
			cmp = bpf_ntohl(s[i]) < bpf_ntohl(d[i]) ? -1 : 1;
	}
	if (cmp == 0 && pi->sport != pi->dport)
		cmp = bpf_ntohs(pi->sport) < bpf_ntohs(pi->dport) ? -1 : 1;

	k->proto = pi->proto;
	k->family = pi->family;
	k->netns_ino = netns_ino;
	if (cmp <= 0) {
		__builtin_memcpy(k->addr_a, pi->saddr, 16);
		__builtin_memcpy(k->addr_b, pi->daddr, 16);
		k->port_a = pi->sport;
		k->port_b = pi->dport;
		return FLOW_DIR_AB;
	}
	__builtin_memcpy(k->addr_a, pi->daddr, 16);
	__builtin_memcpy(k->addr_b, pi->saddr, 16);
	k->port_a = pi->dport;
	k->port_b = pi->sport;
	return FLOW_DIR_BA;
}

/*
 * Stamp the hook's time. xdp_ts: the XDP time of a packet tc_ingress saw
 * sampled (0 otherwise). Returns 1 when xdp_ingress should sample this
 * packet: the first of the flow on this CPU, then one per XDP_SAMPLE_NS.
 */
static __always_inline int stamp(struct flow_counters *fc, enum hook hook, __u64 now,
				 __u64 xdp_ts)
{
	if (hook == HOOK_XDP) {
		fc->xdp_ts_ns = now;
		if (now - fc->xdp_sampled_ns >= XDP_SAMPLE_NS) {
			fc->xdp_sampled_ns = now;
			return 1;
		}
	} else if (hook == HOOK_TC_INGRESS) {
		/* a sampled packet's pair is always precise (see precise_clock) */
		fc->tc_ingress_ts_ns = xdp_ts && !precise_clock ? bpf_ktime_get_ns() : now;
		fc->tc_ingress_xdp_ts_ns = xdp_ts;
	} else {
		fc->tc_egress_ts_ns = now;
	}
	return 0;
}

/*
 * Add a packet to one direction. The branch on dir is deliberate: with an
 * index, clang turns &init.tcp_flags[dir] on the aligned stack into
 * "ptr | dir", which the verifier rejects (bitwise op on a pointer).
 */
#define TCP_SYN_	0x02
#define TCP_ACK_	0x10

static __always_inline void count_dir(struct flow_counters *fc, __u8 dir, __u64 pkts,
				      __u64 bytes, __u8 flags, enum hook hook)
{
	/* the interface's side of each direction (IPFIX ingress/egressInterface) */
	fc->hook_dirs |= hook == HOOK_TC_EGRESS ? FLOW_SEEN_OUT(dir) : FLOW_SEEN_IN(dir);
	/* a SYN without ACK names the TCP client */
	if ((flags & (TCP_SYN_ | TCP_ACK_)) == TCP_SYN_)
		fc->syn_dir = dir + 1;
	if (dir == FLOW_DIR_AB) {
		fc->packets[0] += pkts;
		fc->bytes[0] += bytes;
		fc->tcp_flags[0] |= flags;
	} else {
		fc->packets[1] += pkts;
		fc->bytes[1] += bytes;
		fc->tcp_flags[1] |= flags;
	}
}

/* The packet's flow key (ports of later fragments from the first); its flow_dir. */
static __always_inline __u8 flow_key_of(struct pkt_info *pi, __u32 ifindex, struct flow_key *key)
{
	__u8 dir;

	if (pi->frag != FRAG_NONE)
		frag_ports(pi);
	dir = flow_key_fill(key, pi);
	key->ifindex = ifindex;
	return dir;
}

/* flow_account's verdicts */
enum {
	FLOW_NOT_COUNTED = -1,	/* table full, or nothing to stamp */
	FLOW_COUNTED = 0,
	FLOW_SAMPLED = 1,	/* counted; xdp_ingress should sample this packet */
};

/* A CPU's first packet of a flow: its copy of the per-CPU value starts zeroed. */
static __always_inline void first_on_cpu(struct flow_counters *fc, __u8 dir, __u64 now)
{
	if (!fc->first_seen_ns) {
		fc->first_seen_ns = now;
		fc->first_dir = dir;
	}
}

/*
 * Insert a new flow whose first counts (pkts, bytes) init holds, first and
 * last seen at now. Returns NULL when it went in (*inserted = 1, counted in
 * packets_counted) or when the table is full (counted as lost); else the
 * entry another CPU inserted first, for the caller to count into.
 */
static __always_inline struct flow_counters *flow_insert(struct flow_key *key,
							 struct flow_counters *init,
							 __u8 dir, __u64 now, __u64 pkts,
							 __u64 bytes, int *inserted)
{
	struct flow_counters *fc;
	long err;

	init->first_seen_ns = now;
	init->last_seen_ns = now;
	init->first_dir = dir;
	init->inserted = 1;
	err = bpf_map_update_elem(&flows, key, init, BPF_NOEXIST);
	if (!err) {
		stat_add(STAT_PACKETS, pkts);
		*inserted = 1;
		return NULL;
	}
	fc = err == -EEXIST_ ? bpf_map_lookup_elem(&flows, key) : NULL;
	if (!fc) {
		stat_add(STAT_FLOW_FULL_PACKETS, pkts);
		stat_add(STAT_FLOW_FULL_BYTES, bytes);
	}
	return fc;
}

/*
 * Count one packet (pkts wire packets, bytes wire bytes) into its flow, or
 * only stamp the hook time when count is 0 (tc_ingress on a packet XDP
 * counted and sampled; xdp_ts is its XDP time). *nowp: the time the flow
 * was stamped with.
 */
static __always_inline int flow_account(struct flow_key *key, __u8 dir, __u8 flags,
					__u64 pkts, __u64 bytes, enum hook hook,
					int count, __u64 xdp_ts, __u64 *nowp)
{
	struct flow_counters *fc;
	int sample, inserted = 0;
	__u64 now;

	/* the coarse clock is 5.11's: before it, every time is precise */
	if (precise_clock || !bpf_core_enum_value_exists(enum bpf_func_id, BPF_FUNC_ktime_get_coarse_ns))
		now = bpf_ktime_get_ns();
	else
		now = bpf_ktime_get_coarse_ns();

	*nowp = now;
	fc = bpf_map_lookup_elem(&flows, key);
	if (!fc) {
		struct flow_counters init = {};

		if (!count)
			return FLOW_NOT_COUNTED;	/* nothing to stamp: the flow is gone */
		count_dir(&init, dir, pkts, bytes, flags, hook);
		sample = stamp(&init, hook, now, xdp_ts);
		fc = flow_insert(key, &init, dir, now, pkts, bytes, &inserted);
		if (!fc)
			return inserted ? sample : FLOW_NOT_COUNTED;
		/* another CPU inserted it first: count into the existing entry */
	}

	sample = stamp(fc, hook, now, xdp_ts);
	if (!count)
		return FLOW_COUNTED;
	first_on_cpu(fc, dir, now);
	fc->last_seen_ns = now;
	count_dir(fc, dir, pkts, bytes, flags, hook);
	stat_add(STAT_PACKETS, pkts);
	return sample;
}

/*
 * The parsers as global functions, each verified once on its own:
 *  - parse_l3_*: IPv4/IPv6 + L4 at an l3off the verifier knows nothing of,
 *    so it is checked once rather than once per L2 path (VLAN depth x MPLS
 *    depth x pseudowire), which exceeded the verifier's budget;
 *  - parse_*: the whole frame. Loading data/data_end from ctx here, after
 *    any bpf_skb_pull_data in the caller, also keeps clang from reusing a
 *    ctx field address the verifier rejects ("modified ctx ptr").
 * Global functions must NULL-check their pointer arguments.
 */
__noinline int parse_l3_xdp(struct xdp_md *ctx, __u32 l3off, int l3proto, struct pkt_info *pi)
{
	if (!pi)
		return PARSE_TRUNCATED;
	return parse_l3((void *)(long)ctx->data, (void *)(long)ctx->data_end, l3off, l3proto, pi);
}

__noinline int parse_l3_skb(struct __sk_buff *skb, __u32 l3off, int l3proto, struct pkt_info *pi)
{
	if (!pi)
		return PARSE_TRUNCATED;
	return parse_l3((void *)(long)skb->data, (void *)(long)skb->data_end, l3off, l3proto, pi);
}

__noinline int parse_xdp(struct xdp_md *ctx, struct pkt_info *pi)
{
	__u32 l3off = 0;
	int proto;

	if (!pi)
		return PARSE_TRUNCATED;
	proto = parse_l2((void *)(long)ctx->data, (void *)(long)ctx->data_end, &l3off);
	if (proto < 0)
		return proto;
	return parse_l3_xdp(ctx, l3off, proto, pi);
}

__noinline int parse_skb(struct __sk_buff *skb, struct pkt_info *pi)
{
	__u32 l3off = 0;
	int proto;

	if (!pi)
		return PARSE_TRUNCATED;
	proto = parse_l2((void *)(long)skb->data, (void *)(long)skb->data_end, &l3off);
	if (proto < 0)
		return proto;
	return parse_l3_skb(skb, l3off, proto, pi);
}

/*
 * The same for kernels whose global functions take the context and scalars
 * only (5.10: "Arg#1 type PTR ... is not supported yet", until 5.12): the
 * parsers leave their result in a per-CPU scratch instead of the caller's
 * stack. Only the *_compat programs below use them, so only those programs
 * carry them; netprofd loads those where the others are refused.
 */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct pkt_info);
} pi_scratch SEC(".maps");

static __always_inline struct pkt_info *pi_scratch_get(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&pi_scratch, &zero);
}

__noinline int parse_l3_xdp_compat(struct xdp_md *ctx, __u32 l3off, int l3proto)
{
	struct pkt_info *pi = pi_scratch_get();

	if (!pi)
		return PARSE_TRUNCATED;
	return parse_l3((void *)(long)ctx->data, (void *)(long)ctx->data_end, l3off, l3proto, pi);
}

__noinline int parse_l3_skb_compat(struct __sk_buff *skb, __u32 l3off, int l3proto)
{
	struct pkt_info *pi = pi_scratch_get();

	if (!pi)
		return PARSE_TRUNCATED;
	return parse_l3((void *)(long)skb->data, (void *)(long)skb->data_end, l3off, l3proto, pi);
}

__noinline int parse_xdp_compat(struct xdp_md *ctx)
{
	__u32 l3off = 0;
	int proto;

	proto = parse_l2((void *)(long)ctx->data, (void *)(long)ctx->data_end, &l3off);
	if (proto < 0)
		return proto;
	return parse_l3_xdp_compat(ctx, l3off, proto);
}

__noinline int parse_skb_compat(struct __sk_buff *skb)
{
	__u32 l3off = 0;
	int proto;

	proto = parse_l2((void *)(long)skb->data, (void *)(long)skb->data_end, &l3off);
	if (proto < 0)
		return proto;
	return parse_l3_skb_compat(skb, l3off, proto);
}

/* Parse into *pi, through the scratch when compat. */
static __always_inline int parse_frame(void *ctx, struct pkt_info *pi, const int xdp,
				       const int compat)
{
	struct pkt_info *s;
	int err;

	if (!compat)
		return xdp ? parse_xdp(ctx, pi) : parse_skb(ctx, pi);
	s = pi_scratch_get();
	if (!s)
		return PARSE_TRUNCATED;
	__builtin_memset(s, 0, sizeof(*s));
	err = xdp ? parse_xdp_compat(ctx) : parse_skb_compat(ctx);
	__builtin_memcpy(pi, s, sizeof(*pi));
	return err;
}

/* Is the cache primed with this key? Six 8-byte compares, no hashing. */
static __always_inline int cache_holds(const struct flow_cache *c, const struct flow_key *key)
{
	const __u64 *a = (const __u64 *)&c->key, *b = (const __u64 *)key;
	__u64 diff = 0;
	int i;

	if (!c->primed)
		return 0;
#pragma unroll
	for (i = 0; i < (int)(sizeof(*key) / 8); i++)
		diff |= a[i] ^ b[i];
	return !diff;
}

static __always_inline void cache_count(struct flow_cache *c, __u8 dir, __u64 bytes, __u8 flags)
{
	c->hook_dirs |= FLOW_SEEN_IN(dir);
	if (dir == FLOW_DIR_AB) {
		c->packets[0]++;
		c->bytes[0] += bytes;
		c->tcp_flags[0] |= flags;
	} else {
		c->packets[1]++;
		c->bytes[1] += bytes;
		c->tcp_flags[1] |= flags;
	}
}

/* Add the cache's counts to a flow's (this CPU's copy, or a new entry). */
static __always_inline void cache_add(struct flow_counters *fc, const struct flow_cache *c)
{
	fc->packets[0] += c->packets[0];
	fc->packets[1] += c->packets[1];
	fc->bytes[0] += c->bytes[0];
	fc->bytes[1] += c->bytes[1];
	fc->tcp_flags[0] |= c->tcp_flags[0];
	fc->tcp_flags[1] |= c->tcp_flags[1];
	fc->hook_dirs |= c->hook_dirs;
}

/*
 * Add what the cache holds to its flow and unprime it, so that the next
 * frame takes the full path again (its sampling, a fresh last_seen_ns).
 */
static __always_inline void cache_fold(struct flow_cache *c)
{
	struct flow_counters *fc;
	__u8 dir = c->packets[0] ? FLOW_DIR_AB : FLOW_DIR_BA;
	__u64 n = c->packets[0] + c->packets[1];
	int counted = 0;

	if (!c->primed)
		return;
	c->primed = 0;
	if (!n)
		return;
	fc = bpf_map_lookup_elem(&flows, &c->key);
	if (!fc) {
		/* the daemon ended the flow meanwhile: it starts again */
		struct flow_counters init = {};

		cache_add(&init, c);
		init.xdp_ts_ns = c->seen_ns;
		fc = flow_insert(&c->key, &init, dir, c->seen_ns, n,
				 c->bytes[0] + c->bytes[1], &counted);
		if (!fc)
			goto out;
	}
	first_on_cpu(fc, dir, c->seen_ns);
	if (fc->last_seen_ns < c->seen_ns)
		fc->last_seen_ns = c->seen_ns;
	cache_add(fc, c);
	stat_add(STAT_PACKETS, n);
	counted = 1;
out:
	if (counted)
		stat_add(STAT_XDP_CACHED, n);
	c->packets[0] = c->packets[1] = 0;
	c->bytes[0] = c->bytes[1] = 0;
	c->tcp_flags[0] = c->tcp_flags[1] = 0;
	c->hook_dirs = 0;
}

/* The CPU's timer, FLOW_CACHE_NS after it was started, on that CPU, in softirq. */
static int cache_timer_fired(void *map, __u32 *cpu, struct flow_cache *c)
{
	cache_fold(c);
	c->armed = 0;
	return 0;
}

/*
 * Prime the cache with this frame's flow (just counted in the table) unless
 * it holds another flow's counts, and make sure the CPU's timer runs: it
 * folds what the cache holds when traffic stops. While traffic flows the
 * cache is folded every FLOW_CACHE_BATCH frames by xdp_ingress itself, and
 * the timer fires once per FLOW_CACHE_NS (each one a softirq on a CPU that
 * may be saturated by NET_RX: rare on purpose). The timer may have been set
 * up by an earlier daemon's program: init then says EBUSY, and
 * set_callback moves it to ours. No timer, no cache.
 */
static __always_inline void cache_prime(struct flow_cache *c, const struct flow_key *key,
					__u64 now)
{
	if (c->packets[0] | c->packets[1])
		return;
	if (!c->armed && cache_timer) {
		bpf_timer_init(&c->timer, &flow_cache, CLOCK_MONOTONIC_);
		if (bpf_timer_set_callback(&c->timer, cache_timer_fired) ||
		    bpf_timer_start(&c->timer, FLOW_CACHE_NS, BPF_F_TIMER_CPU_PIN))
			return;
		c->armed = 1;
	}
	__builtin_memcpy(&c->key, key, sizeof(*key));
	c->seen_ns = now;
	c->primed = 1;
}

/*
 * Mark the frame for tc_ingress: a frame we cannot mark is left for
 * tc_ingress to count. A frame that already carries our mark (this program
 * run twice on one frame, as BPF_PROG_TEST_RUN's repeat does) is not marked
 * again. Returns 0 when marked.
 */
static __always_inline int xdp_mark(struct xdp_md *ctx)
{
	void *data, *meta;

	meta = (void *)(long)ctx->data_meta;
	data = (void *)(long)ctx->data;
	if (meta + sizeof(__u32) <= data && *(__u32 *)meta == NETPROF_XDP_MARK)
		return 0;
	if (bpf_xdp_adjust_meta(ctx, -(int)sizeof(__u32))) {
		stat_add(STAT_XDP_META_FAIL, 1);
		return -1;
	}
	meta = (void *)(long)ctx->data_meta;
	data = (void *)(long)ctx->data;
	if (meta + sizeof(__u32) > data) {
		/* cannot happen after a successful adjust; keeps the verifier happy */
		stat_add(STAT_XDP_META_FAIL, 1);
		return -1;
	}
	*(__u32 *)meta = NETPROF_XDP_MARK;
	return 0;
}

/*
 * cached: count through the CPU's flow cache (struct flow_cache in
 * maps/flow.h), for XDP that softirqs cannot interrupt. The precise clock
 * stamps every packet, so it leaves the cache out.
 */
static __always_inline int xdp_handle(struct xdp_md *ctx, const int cached, const int compat)
{
	struct flow_key key __attribute__((aligned(8))) = {};
	struct xdp_sample_meta *sm;
	struct flow_cache *c = NULL;
	struct pkt_info pi = {};
	__u64 now, bytes;
	__u32 cpu;
	int err, ret;
	__u8 dir;

	if (xdp_mark(ctx))
		return XDP_PASS;
	err = parse_frame(ctx, &pi, 1, compat);
	if (err) {
		count_parse_error(err);
		return XDP_PASS;
	}
	dir = flow_key_of(&pi, ctx->ingress_ifindex, &key);
	/* bpf_xdp_get_buff_len: whole frame, including multi-buffer frags (5.18+) */
	if (replay)
		bytes = replay_wire_len;
	else if (bpf_core_enum_value_exists(enum bpf_func_id, BPF_FUNC_xdp_get_buff_len))
		bytes = bpf_xdp_get_buff_len(ctx);
	else
		bytes = (long)ctx->data_end - (long)ctx->data;

	if (cached && !precise_clock) {
		cpu = bpf_get_smp_processor_id();
		c = bpf_map_lookup_elem(&flow_cache, &cpu);
		/* a SYN names the client (syn_dir): the full path records it */
		if (c && !(pi.tcp_flags & TCP_SYN_) && cache_holds(c, &key)) {
			cache_count(c, dir, bytes, pi.tcp_flags);
			if (c->packets[0] + c->packets[1] >= FLOW_CACHE_BATCH)
				cache_fold(c);
			return XDP_PASS;
		}
	}

	ret = flow_account(&key, dir, pi.tcp_flags, 1, bytes, HOOK_XDP, 1, 0, &now);
	if (c && ret != FLOW_NOT_COUNTED)
		cache_prime(c, &key, now);
	if (ret != FLOW_SAMPLED)
		return XDP_PASS;

	/* sampled: carry our time to tc_ingress in a longer metadata area */
	if (bpf_xdp_adjust_meta(ctx, -(int)(sizeof(struct xdp_sample_meta) - sizeof(__u32))))
		return XDP_PASS;	/* stays plainly marked: counted, not timed */
	sm = (void *)(long)ctx->data_meta;
	if ((void *)(sm + 1) > (void *)(long)ctx->data)
		return XDP_PASS;
	sm->mark = NETPROF_XDP_SAMPLE;
	sm->pad = 0;
	sm->xdp_ts_ns = precise_clock ? now : bpf_ktime_get_ns();
	return XDP_PASS;
}

/* Native XDP: runs in the driver's NAPI poll, in softirq. */
SEC("xdp")
int xdp_ingress(struct xdp_md *ctx)
{
	return xdp_handle(ctx, 1, 0);
}

/*
 * Every frame straight into the flow table: for generic XDP, which may run
 * where a softirq (the cache's timer) can interrupt it.
 */
SEC("xdp")
int xdp_ingress_direct(struct xdp_md *ctx)
{
	return xdp_handle(ctx, 0, 0);
}

/*
 * Fold this CPU's cache now: for BPF_PROG_TEST_RUN users (cache_timer 0),
 * at the end of each burst, run on any frame. Never attached. An XDP
 * program because tracing programs may not use maps with timers.
 */
SEC("xdp")
int flow_cache_flush(struct xdp_md *ctx)
{
	__u32 cpu = bpf_get_smp_processor_id();
	struct flow_cache *c = bpf_map_lookup_elem(&flow_cache, &cpu);

	if (c)
		cache_fold(c);
	return XDP_PASS;
}

/*
 * Can this kernel pin a timer to its CPU (BPF_F_TIMER_CPU_PIN, 6.7 and
 * later)? Without that the flow cache never primes (cache_prime) and every
 * frame goes to the flow table: netprofd runs this once through
 * BPF_PROG_TEST_RUN and says so in netprof status. Never attached.
 */
struct probe_timer {
	struct bpf_timer timer;
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct probe_timer);
} timer_probe SEC(".maps");

int timer_pin_err;

static int timer_probe_fired(void *map, __u32 *key, struct probe_timer *t)
{
	return 0;
}

SEC("xdp")
int timer_pin_probe(struct xdp_md *ctx)
{
	__u32 zero = 0;
	struct probe_timer *t = bpf_map_lookup_elem(&timer_probe, &zero);

	if (!t)
		return XDP_PASS;
	bpf_timer_init(&t->timer, &timer_probe, CLOCK_MONOTONIC_);
	timer_pin_err = bpf_timer_set_callback(&t->timer, timer_probe_fired);
	if (!timer_pin_err)
		timer_pin_err = bpf_timer_start(&t->timer, 1000000000, BPF_F_TIMER_CPU_PIN);
	bpf_timer_cancel(&t->timer);
	return XDP_PASS;
}

/* Headers TC needs in the linear part of the skb. */
#define TC_PULL_LEN	128

static __always_inline int tc_handle(struct __sk_buff *skb, enum hook hook, const int compat)
{
	struct flow_key key = {};
	struct pkt_info pi = {};
	void *data, *data_end;
	__u64 pkts, bytes;
	__u64 xdp_ts = 0, now;
	__u32 want;
	int count = 1, err;
	__u8 dir;

	if (hook == HOOK_TC_INGRESS) {
		struct xdp_sample_meta *sm = (void *)(long)skb->data_meta;

		data = (void *)(long)skb->data;
		if ((void *)sm + sizeof(__u32) <= data) {
			/* counted by xdp_ingress: nothing to do unless sampled */
			if (sm->mark == NETPROF_XDP_MARK)
				return TC_ACT_UNSPEC_;
			if (sm->mark == NETPROF_XDP_SAMPLE && (void *)(sm + 1) <= data) {
				count = 0;
				xdp_ts = sm->xdp_ts_ns;
			}
		}
	}

	/*
	 * Headers may sit in paged data: pull the first TC_PULL_LEN bytes
	 * only when they are not linear (pulling can unclone the skb).
	 */
	want = skb->len < TC_PULL_LEN ? skb->len : TC_PULL_LEN;
	data = (void *)(long)skb->data;
	data_end = (void *)(long)skb->data_end;
	if (data + want > data_end && bpf_skb_pull_data(skb, want)) {
		if (count)
			stat_add(STAT_TC_PULL_FAIL, 1);
		return TC_ACT_UNSPEC_;
	}
	err = parse_frame(skb, &pi, 0, compat);
	if (err) {
		if (count)
			count_parse_error(err);
		return TC_ACT_UNSPEC_;
	}

	pkts = skb->gso_segs > 1 ? skb->gso_segs : 1;
	bytes = skb->len;
	if (pkts > 1) {
		/* every segment after the first repeats the L2-L4 headers */
		bytes += (pkts - 1) * (__u64)pi.hdr_len;
	}
	dir = flow_key_of(&pi, skb->ifindex, &key);
	flow_account(&key, dir, pi.tcp_flags, pkts, bytes, hook, count, xdp_ts, &now);
	return TC_ACT_UNSPEC_;
}

SEC("tc")
int tc_ingress(struct __sk_buff *skb)
{
	return tc_handle(skb, HOOK_TC_INGRESS, 0);
}

SEC("tc")
int tc_egress(struct __sk_buff *skb)
{
	return tc_handle(skb, HOOK_TC_EGRESS, 0);
}

/*
 * Where the programs above are refused (5.10): parsers through the scratch
 * (parse_frame), and no flow cache, whose timer callback such a kernel
 * does not know ("number of funcs in func_info doesn't match").
 */
SEC("?xdp")
int xdp_ingress_compat(struct xdp_md *ctx)
{
	return xdp_handle(ctx, 0, 1);
}

SEC("?tc")
int tc_ingress_compat(struct __sk_buff *skb)
{
	return tc_handle(skb, HOOK_TC_INGRESS, 1);
}

SEC("?tc")
int tc_egress_compat(struct __sk_buff *skb)
{
	return tc_handle(skb, HOOK_TC_EGRESS, 1);
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
