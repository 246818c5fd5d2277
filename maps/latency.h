/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * latency.h - where a TCP connection's packets spend their time on this
 * host, stage by stage (bpf/latency.bpf.c fills it, `netprof latency` reads
 * it). Stage boundaries and the hooks behind them: docs/latency.md.
 */
#ifndef NETPROF_LATENCY_H
#define NETPROF_LATENCY_H

#include "sockets.h"

enum lat_stage {
	LAT_RX_STACK,	/* netif_receive_skb -> TCP receive (tcp_rcv_established) */
	LAT_RX_SOCKQ,	/* TCP receive -> the application's read covers it */
	LAT_TX_SOCKQ,	/* the application's write -> its first byte leaves TCP (net_dev_queue) */
	LAT_TX_QDISC,	/* net_dev_queue -> net_dev_start_xmit (queueing discipline) */
	LAT_TX_DRIVER,	/* net_dev_start_xmit -> net_dev_xmit (the driver's xmit) */
	LAT_STAGES,
};

/* log2 ns: bucket b counts samples in [2^b, 2^(b+1)) ns; the last, all above */
#define LAT_BUCKETS	32

struct lat_hist {
	__u64	sum_ns;
	__u64	count;
	__u32	hist[LAT_BUCKETS];
};

#define LAT_RING	8

/* a sequence number and when it reached a stage boundary */
struct lat_mark {
	__u32	seq;
	__u32	pad;
	__u64	ns;
};

/* marks in sequence order, oldest at head */
struct lat_ring {
	__u8	head, n;
	__u8	pad[6];
	struct lat_mark m[LAT_RING];
};

/*
 * Per connection, keyed by socket cookie (map sock_lat). Created at the
 * connection's first data in either direction, folded into its edge
 * (edge_lat, same key as conn_agg) and deleted when it closes.
 */
struct sock_lat {
	struct conn_agg_key key;	/* the service-map edge half it belongs to */
	__u32	owner_tgid;		/* whose cgroup and command key holds */
	__u32	pad;
	struct lat_ring rx;		/* end_seq of data received, when */
	struct lat_ring tx;		/* write_seq when a write began, when */
	struct lat_hist st[LAT_STAGES];
};

/* Per edge half (map edge_lat, key struct conn_agg_key): closed connections. */
struct edge_lat {
	struct lat_hist st[LAT_STAGES];
};

#define SOCK_LAT_MAP		"sock_lat"
#define EDGE_LAT_MAP		"edge_lat"
#define LAT_STATS_MAP		"lat_stats"
#define SOCK_LAT_DEFAULT_MAX	16384
#define EDGE_LAT_DEFAULT_MAX	8192

/*
 * Packets are timed within a budget per CPU: at most LAT_RX_BUDGET
 * received packets (rx_stack), LAT_RX_BUDGET received data segments
 * (rx_sockq marks) and LAT_TX_BUDGET sent packets (tx_qdisc, tx_driver)
 * per jiffy (4 ms at Debian's HZ=250), i.e. 4,000 a second each per CPU;
 * below that rate every packet is timed.
 */
#define LAT_RX_BUDGET		16
#define LAT_TX_BUDGET		16

/*
 * lat_stats (PERCPU_ARRAY of __u64): what could not be recorded, what was
 * not sampled; rows as maps/flow.h's NP_FLOW_STATS.
 */
#define NP_LAT_STATS(X)											\
	X(LSTAT_TABLE_FULL,	"latency_table_full",		"Connections not timed: sock_lat was full.")	\
	X(LSTAT_RING_FULL,	"latency_marks_skipped",	"Samples skipped: more unread or unsent marks than a connection keeps.") \
	X(LSTAT_EDGE_FULL,	"latency_edges_full",		"Closed connections' times dropped: edge_lat was full.") \
	X(LSTAT_RX_UNSAMPLED,	"latency_rx_unsampled",		"Received packets past the CPU's budget: no rx_stack time.") \
	X(LSTAT_MARK_UNSAMPLED,	"latency_marks_unsampled",	"Data segments past the CPU's budget: no rx_sockq time.") \
	X(LSTAT_TX_UNSAMPLED,	"latency_tx_unsampled",		"Sent packets past the CPU's budget: no tx_qdisc, tx_driver time.")

#ifndef NP_STAT_ENUM
#define NP_STAT_ENUM(e, name, help)	e,
#endif
enum lat_stat {
	NP_LAT_STATS(NP_STAT_ENUM)
	LSTAT_MAX,
};

#endif
