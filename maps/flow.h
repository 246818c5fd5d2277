/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * maps/flow.h - the flow table, shared by bpf/flow.bpf.c, netprofd and netprof.
 *
 * This is the only place where the kernel and user space agree on the flow
 * maps: key and value layouts, statistics indices and pin names. Change it
 * and both sides change together.
 *
 * Units, stated once for every field below:
 *  - Timestamps are bpf_ktime_get_ns(): CLOCK_MONOTONIC nanoseconds.
 *  - "packets" are wire packets: a GSO/GRO super-packet seen by TC counts as
 *    gso_segs packets, so XDP (which sees frames) and TC agree.
 *  - "bytes" are wire frame bytes from the L2 header on, without FCS: the
 *    frame length a capture on the same interface reports. For a GSO
 *    super-packet it is skb->len plus the L2-L4 headers of every segment
 *    after the first, i.e. what the segments add up to on the wire.
 */
#ifndef NETPROF_MAPS_FLOW_H
#define NETPROF_MAPS_FLOW_H

#ifdef __BPF__
/* vmlinux.h provides the __u* and __be* types */
#else
#include <linux/types.h>
#endif

/* Pin names, relative to the pin directory (default NETPROF_PIN_DIR). */
#define NETPROF_PIN_DIR		"/sys/fs/bpf/netprof"
#define NETPROF_PIN_LINKS	"links"		/* directory of pinned XDP links */
#define FLOWS_MAP		"flows"
#define FLOWS_ENDED_MAP		"flows_ended"
#define FRAGS_MAP		"frags"
#define STATS_MAP		"stats"
#define IFACES_MAP		"ifaces"
#define DAEMON_MAP		"daemon"
#define FLOW_CACHE_MAP		"flow_cache"

#define FLOWS_DEFAULT_MAX	65536
#define FRAGS_MAX		4096

/*
 * TC filter identities: netprofd's is found, replaced and removed by these;
 * netprof capture's sits beside it at the same priority.
 */
#define NP_TC_HANDLE		0x6e70	/* "np" */
#define NP_TC_PRIO		1	/* run before other filters: observe everything */
#define NP_CAPTURE_TC_HANDLE	0x6e63	/* "nc" */

/*
 * Marks written by xdp_ingress into the XDP metadata area. tc_ingress sees
 * them in skb->data_meta and knows the packet was already counted, so a
 * packet is counted once when both hooks run.
 *  - NETPROF_XDP_MARK (4 bytes): counted; tc_ingress does nothing more.
 *    Constant, so GRO still merges marked packets (GRO refuses to merge
 *    skbs whose metadata differ).
 *  - NETPROF_XDP_SAMPLE (struct xdp_sample_meta): counted, and sampled for
 *    timing: tc_ingress stores its own time and the XDP time carried here
 *    in the flow. At most one packet per flow per XDP_SAMPLE_NS is sampled,
 *    so GRO merging is broken that rarely.
 */
#define NETPROF_XDP_MARK	0x6e707866	/* "npxf" */
#define NETPROF_XDP_SAMPLE	0x6e707873	/* "npxs" */
#define XDP_SAMPLE_NS		1000000ULL	/* 1 ms */

struct xdp_sample_meta {
	__u32	mark;		/* NETPROF_XDP_SAMPLE */
	__u32	pad;
	__u64	xdp_ts_ns;	/* when xdp_ingress saw this packet */
};

/*
 * A flow is one conversation on one interface in one network namespace.
 * The two endpoints are stored in canonical order (a < b, comparing address
 * then port), so both directions of a conversation find the same entry;
 * which endpoint spoke first is kept in flow_counters.first_dir.
 * IPv4 addresses are stored IPv4-mapped (::ffff:a.b.c.d).
 */
struct flow_key {
	__u8	addr_a[16];
	__u8	addr_b[16];
	__be16	port_a;		/* 0 for ICMP, ICMPv6 and other protocols */
	__be16	port_b;
	__u32	ifindex;	/* in the namespace netns_ino */
	__u32	netns_ino;	/* inode of the network namespace (ls -L /proc/PID/ns/net) */
	__u8	proto;		/* IPPROTO_* */
	__u8	family;		/* FLOW_FAMILY_* */
	__u16	pad;
};

enum flow_family {
	FLOW_FAMILY_IPV4 = 4,
	FLOW_FAMILY_IPV6 = 6,
};

/* Direction index into the per-direction arrays. */
enum flow_dir {
	FLOW_DIR_AB = 0,	/* addr_a:port_a -> addr_b:port_b */
	FLOW_DIR_BA = 1,
};

/*
 * Value of the flows map: BPF_MAP_TYPE_PERCPU_HASH, one copy per CPU, so the
 * datapath updates without atomics. User space sums the copies (see
 * lib/flowtab.c): counters add, first_seen is the smallest non-zero value,
 * last_seen and the hook timestamps the largest.
 */
struct flow_counters {
	__u64	packets[2];	/* wire packets per flow_dir */
	__u64	bytes[2];	/* wire bytes per flow_dir */
	__u64	first_seen_ns;	/* 0 until this CPU saw a packet of the flow */
	__u64	last_seen_ns;
	__u64	xdp_ts_ns;	/* xdp_ingress time of the latest packet counted there */
	/*
	 * tc_ingress time of the latest sampled packet (one per flow per
	 * XDP_SAMPLE_NS when XDP runs; every packet when it does not), and the
	 * xdp_ingress time of that same packet (0 without XDP): one packet's
	 * way from the driver hook to TC.
	 */
	__u64	tc_ingress_ts_ns;
	__u64	tc_ingress_xdp_ts_ns;
	__u64	tc_egress_ts_ns;  /* tc_egress time of the latest egress skb */
	__u64	xdp_sampled_ns;	/* xdp_ingress: when it last sampled this flow */
	__u8	tcp_flags[2];	/* OR of TCP flags seen per flow_dir */
	__u8	first_dir;	/* flow_dir of the first packet this CPU saw */
	/*
	 * Who started the flow, strongest signal first (lib/flowtab.c):
	 * syn_dir: 1 + the flow_dir that sent a SYN without ACK (the TCP
	 * client), 0 if none seen; inserted: this CPU created the entry, so
	 * its first_dir is the flow's first packet. Timestamps alone cannot
	 * tell: the coarse clock gives two CPUs the same tick.
	 */
	__u8	syn_dir;
	__u8	inserted;
	__u8	hook_dirs;	/* FLOW_SEEN_* bits: which directions arrived, which left */
	__u8	pad[2];
};

/* flow_counters.hook_dirs: direction d arrived (XDP, TC ingress) or left (TC egress) */
#define FLOW_SEEN_IN(d)		(1 << (d))
#define FLOW_SEEN_OUT(d)	(4 << (d))

/*
 * The IPv4/IPv6 fragment table: the first fragment of a datagram stores its
 * ports here, later fragments of the same datagram take them from it.
 * LRU: an evicted entry only costs ports (counted in STAT_FRAG_NO_PORTS).
 */
struct frag_key {
	__u8	saddr[16];
	__u8	daddr[16];
	__u32	id;		/* IPv4 identification or IPv6 fragment id */
	__u8	proto;
	__u8	family;
	__u16	pad;
};

struct frag_ports {
	__be16	sport;
	__be16	dport;
};

/*
 * Statistics: BPF_MAP_TYPE_PERCPU_ARRAY indexed by enum np_stat. One row
 * each: the index, the name `netprof status` prints and the metric
 * netprof_NAME_total carries (lib/stats.c), what it counts. Add rows at
 * the end: the index is the map's key.
 */
#define NP_FLOW_STATS(X)											\
	X(STAT_PACKETS,		"packets_counted",		"Wire packets counted into a flow.")		\
	X(STAT_FLOW_FULL_PACKETS, "flow_table_full_packets",	"Packets not recorded: the flow table was full.") \
	X(STAT_FLOW_FULL_BYTES,	"flow_table_full_bytes",	"Bytes of those packets.")			\
	X(STAT_NON_IP,		"non_ip_frames",		"Frames that are not IPv4/IPv6 (ARP, LLDP...).") \
	X(STAT_TRUNCATED,	"truncated_frames",		"IP frames too short for their headers.")	\
	X(STAT_FRAG_NO_PORTS,	"fragments_without_ports",	"Later fragments whose first fragment was not seen.") \
	X(STAT_IPV6_EXT_LIMIT,	"ipv6_ext_chain_too_long",	"IPv6 extension header chains longer than netprof walks.") \
	X(STAT_XDP_META_FAIL,	"xdp_mark_failed",		"Frames XDP could not mark; TC ingress counted them.") \
	X(STAT_TC_PULL_FAIL,	"tc_pull_failed",		"Frames whose headers bpf_skb_pull_data could not make readable.") \
	X(STAT_XDP_CACHED,	"xdp_cached_packets",		"Of packets_counted: counted through the XDP flow cache.")

#ifndef NP_STAT_ENUM
#define NP_STAT_ENUM(e, name, help)	e,
#endif
enum np_stat {
	NP_FLOW_STATS(NP_STAT_ENUM)
	STAT_MAX,
};

/*
 * The XDP flow cache: BPF_MAP_TYPE_ARRAY indexed by CPU, pinned so that
 * every namespace's xdp_ingress and a restarted daemon share it. A NAPI
 * poll hands XDP bursts of frames, mostly of one flow: a frame that finds
 * the cache unprimed takes the full path (flow table lookup, sampling) and
 * primes the cache with its flow; the next frames of that flow only add to
 * the cache, and the FLOW_CACHE_BATCH-th adds the batch to the flow table
 * with one lookup and unprimes the cache. A BPF timer per CPU, running
 * while the cache is in use, folds what is left every FLOW_CACHE_NS, so the
 * flow table trails the wire by at most FLOW_CACHE_BATCH - 1 frames of one
 * flow per CPU, for at most FLOW_CACHE_NS.
 * The timer is pinned to the CPU and runs in softirq context, which never
 * interrupts XDP on that CPU (it runs in softirq, or with softirqs off):
 * only that CPU ever touches its entry, without atomics.
 */
#define FLOW_CACHE_BATCH	64
#define FLOW_CACHE_NS		100000000ULL	/* 100 ms */
#define FLOW_CACHE_CPUS		256		/* default size; netprofd sizes it to the CPUs */

struct flow_cache {
	struct flow_key	key;		/* the flow being cached */
	__u64	packets[2];		/* per flow_dir, not yet in the flow table */
	__u64	bytes[2];
	__u64	seen_ns;		/* the priming frame's time */
	__u8	tcp_flags[2];
	__u8	hook_dirs;		/* FLOW_SEEN_IN bits */
	__u8	primed;			/* key is valid */
	__u8	armed;			/* the timer is running */
	__u8	pad[3];
#ifdef __BPF__
	struct bpf_timer timer;		/* folds the cache FLOW_CACHE_NS after priming */
#else
	__u64	timer[2];		/* struct bpf_timer, opaque */
#endif
	__u8	pad2[16];		/* 128 bytes: no counters on a neighbour's cache line */
};

/*
 * One entry per interface netprofd attached to, written by the daemon and
 * read by `netprof status` and `netprof flows` to name interfaces.
 */
struct iface_key {
	__u32	netns_ino;
	__u32	ifindex;
};

enum iface_attach {
	IFACE_XDP_NATIVE  = 1 << 0,
	IFACE_XDP_GENERIC = 1 << 1,
	IFACE_TC_INGRESS  = 1 << 2,
	IFACE_TC_EGRESS   = 1 << 3,
	IFACE_TCX         = 1 << 4,	/* the TC hooks are tcx links (6.6+), not clsact filters */
};

/*
 * Why ingress is counted at XDP or at TC on an interface (iface_info.why),
 * as netprofd chose it; `netprof status` says it.
 */
enum iface_why {
	IFACE_WHY_UNKNOWN = 0,	/* a netprofd from before the choice was recorded */
	IFACE_WHY_ASKED,	/* --xdp native, generic or off */
	IFACE_WHY_LOOPBACK,	/* loopback: generic XDP only, which costs more than TC */
	IFACE_WHY_VETH,		/* XDP on a veth turns off its peer's TSO/GSO */
	IFACE_WHY_VIRTUAL,	/* another virtual device: XDP there costs more than TC */
	IFACE_WHY_NO_NATIVE,	/* the driver has no native XDP */
	IFACE_WHY_OFFLOADS,	/* attaching XDP changed the device's offloads */
	IFACE_WHY_NATIVE,	/* a device with native XDP that kept its offloads */
	IFACE_WHY_XDP_FAILED,	/* XDP refused: TC counts ingress */
};

struct iface_info {
	char	name[16];	/* IFNAMSIZ */
	char	netns[32];	/* name given with --netns, "" for netprofd's own */
	__u32	attach;		/* enum iface_attach bits */
	__u32	why;		/* enum iface_why */
	__u64	attached_ns;	/* CLOCK_MONOTONIC */
};

/*
 * Flows the daemon removed from the live table (idle or closed), kept for
 * --keep-ended seconds so a flow that lived between two sweeps is still
 * listed. Keyed by flow and first-seen time: the same 5-tuple reused later
 * is a different entry.
 */
struct flow_ended_key {
	struct flow_key	flow;
	__u64		first_seen_ns;
};

struct flow_record {
	__u64	packets[2];
	__u64	bytes[2];
	__u64	first_seen_ns;
	__u64	last_seen_ns;
	__u64	xdp_ts_ns;
	__u64	tc_ingress_ts_ns;
	__u64	tc_ingress_xdp_ts_ns;
	__u64	tc_egress_ts_ns;
	__u64	ended_ns;	/* when the daemon moved it here; 0 while live */
	__u8	tcp_flags[2];
	__u8	first_dir;
	__u8	end_reason;	/* enum flow_end */
	__u8	hook_dirs;	/* FLOW_SEEN_* bits, ORed over CPUs */
	__u8	pad[3];
};

/* Why a flow left the live table. Named in lib/flowtab.c (flow_end_names). */
enum flow_end {
	FLOW_END_NONE = 0,	/* live */
	FLOW_END_IDLE,		/* no packet for --idle-timeout */
	FLOW_END_FIN,		/* TCP FIN seen in both directions */
	FLOW_END_RST,		/* TCP RST seen */
	FLOW_END_MAX,
};

/* The daemon's own record: array map with one entry. */
struct daemon_info {
	__u32	pid;
	__u32	version;
	__u64	started_ns;	/* CLOCK_MONOTONIC */
	__u64	last_sweep_ns;
	__u64	idle_timeout_ns;
	__u64	keep_ended_ns;
	__u64	flows_expired;	/* moved to flows_ended since the pins were made */
	__u64	ended_dropped;	/* ended flows that did not fit flows_ended */
	__u32	max_flows;
	__u32	ifaces;		/* interfaces attached now */
	/*
	 * What left the tables, with its packets and bytes (both directions):
	 * live + ended + dropped + pruned is all that was counted.
	 */
	__u64	ended_dropped_packets;
	__u64	ended_dropped_bytes;
	__u64	ended_pruned;	/* ended flows removed after --keep-ended */
	__u64	ended_pruned_packets;
	__u64	ended_pruned_bytes;
};

/* --keep-ended's default: ended flows and closed sockets stay visible 5 min */
#define NETPROF_KEEP_ENDED_DEFAULT_NS	(300ULL * 1000000000ULL)

#ifndef __BPF__
_Static_assert(sizeof(struct flow_key) == 48, "flow_key layout");
_Static_assert(sizeof(struct flow_counters) == 96, "flow_counters layout");
_Static_assert(sizeof(struct xdp_sample_meta) == 16, "xdp_sample_meta layout");
_Static_assert(sizeof(struct frag_key) == 40, "frag_key layout");
_Static_assert(sizeof(struct iface_info) == 64, "iface_info layout");
_Static_assert(sizeof(struct flow_ended_key) == 56, "flow_ended_key layout");
_Static_assert(sizeof(struct flow_record) == 96, "flow_record layout");
_Static_assert(sizeof(struct daemon_info) == 104, "daemon_info layout");
_Static_assert(sizeof(struct flow_cache) == 128, "flow_cache layout");
#endif

#endif /* NETPROF_MAPS_FLOW_H */
