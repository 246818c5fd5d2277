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
 * Nothing is dropped silently: packets that cannot be recorded are counted
 * in the stats map by reason.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
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

/*
 * Count one packet (pkts wire packets, bytes wire bytes) into its flow, or
 * only stamp the hook time when count is 0 (tc_ingress on a packet XDP
 * counted and sampled; xdp_ts is its XDP time). Returns stamp()'s verdict.
 */
static __always_inline int flow_account(struct pkt_info *pi, __u32 ifindex,
					__u64 pkts, __u64 bytes, enum hook hook,
					int count, __u64 xdp_ts, __u64 *nowp)
{
	struct flow_key key = {};
	struct flow_counters *fc;
	int sample;
	__u64 now = precise_clock ? bpf_ktime_get_ns() : bpf_ktime_get_coarse_ns();

	*nowp = now;	/* the time the flow was stamped with */
	__u8 dir;
	long err;

	if (pi->frag != FRAG_NONE)
		frag_ports(pi);
	dir = flow_key_fill(&key, pi);
	key.ifindex = ifindex;

	fc = bpf_map_lookup_elem(&flows, &key);
	if (!fc) {
		struct flow_counters init = {};

		if (!count)
			return 0;	/* nothing to stamp: the flow is gone */
		count_dir(&init, dir, pkts, bytes, pi->tcp_flags, hook);
		init.first_seen_ns = now;
		init.last_seen_ns = now;
		init.first_dir = dir;
		init.inserted = 1;
		sample = stamp(&init, hook, now, xdp_ts);
		err = bpf_map_update_elem(&flows, &key, &init, BPF_NOEXIST);
		if (!err) {
			stat_add(STAT_PACKETS, pkts);
			return sample;
		}
		/* another CPU inserted it first: count into the existing entry */
		fc = err == -EEXIST_ ? bpf_map_lookup_elem(&flows, &key) : NULL;
		if (!fc) {
			stat_add(STAT_FLOW_FULL_PACKETS, pkts);
			stat_add(STAT_FLOW_FULL_BYTES, bytes);
			return 0;
		}
	}

	sample = stamp(fc, hook, now, xdp_ts);
	if (!count)
		return 0;
	/* per-CPU value: this CPU's copy starts zeroed when another CPU inserted */
	if (!fc->first_seen_ns) {
		fc->first_seen_ns = now;
		fc->first_dir = dir;
	}
	fc->last_seen_ns = now;
	count_dir(fc, dir, pkts, bytes, pi->tcp_flags, hook);
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

SEC("xdp")
int xdp_ingress(struct xdp_md *ctx)
{
	struct xdp_sample_meta *sm;
	struct pkt_info pi = {};
	void *data, *meta;
	__u64 now;
	int err;

	/*
	 * Mark first: a frame we cannot mark is left for tc_ingress to count.
	 * A frame that already carries our mark (this program run twice on
	 * one frame, as BPF_PROG_TEST_RUN's repeat does) is not marked again.
	 */
	meta = (void *)(long)ctx->data_meta;
	data = (void *)(long)ctx->data;
	if (!(meta + sizeof(__u32) <= data && *(__u32 *)meta == NETPROF_XDP_MARK)) {
		if (bpf_xdp_adjust_meta(ctx, -(int)sizeof(__u32))) {
			stat_add(STAT_XDP_META_FAIL, 1);
			return XDP_PASS;
		}
		meta = (void *)(long)ctx->data_meta;
		data = (void *)(long)ctx->data;
		if (meta + sizeof(__u32) > data) {
			/* cannot happen after a successful adjust; keeps the verifier happy */
			stat_add(STAT_XDP_META_FAIL, 1);
			return XDP_PASS;
		}
		*(__u32 *)meta = NETPROF_XDP_MARK;
	}

	err = parse_xdp(ctx, &pi);
	if (err) {
		count_parse_error(err);
		return XDP_PASS;
	}
	/* bpf_xdp_get_buff_len: whole frame, including multi-buffer frags */
	if (!flow_account(&pi, ctx->ingress_ifindex, 1, bpf_xdp_get_buff_len(ctx),
			  HOOK_XDP, 1, 0, &now))
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

/* Headers TC needs in the linear part of the skb. */
#define TC_PULL_LEN	128

static __always_inline int tc_handle(struct __sk_buff *skb, enum hook hook)
{
	struct pkt_info pi = {};
	void *data, *data_end;
	__u64 pkts, bytes;
	__u64 xdp_ts = 0, now;
	__u32 want;
	int count = 1, err;

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
	err = parse_skb(skb, &pi);
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
	flow_account(&pi, skb->ifindex, pkts, bytes, hook, count, xdp_ts, &now);
	return TC_ACT_UNSPEC_;
}

SEC("tc")
int tc_ingress(struct __sk_buff *skb)
{
	return tc_handle(skb, HOOK_TC_INGRESS);
}

SEC("tc")
int tc_egress(struct __sk_buff *skb)
{
	return tc_handle(skb, HOOK_TC_EGRESS);
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
