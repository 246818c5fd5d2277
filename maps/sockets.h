/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * maps/sockets.h - TCP sockets, shared by bpf/sockets.bpf.c, netprofd and
 * `netprof sockets`.
 *
 * Who owns a socket is decided without kprobes (docs/sockets.md):
 *  - sockops TCP_CONNECT_CB runs in connect(): the caller is the client.
 *  - sockops TCP_LISTEN_CB runs in listen(): the caller goes into
 *    listen_owners by (netns, port), which every socket accepted there
 *    starts with.
 *  - tp_btf sock_send_length / sock_recv_length run in the process doing
 *    the I/O: when that is another process (nginx: the master listens, a
 *    worker accepts and reads), the owner moves to it.
 *  - sockets that existed before netprofd: an iter/task_file program finds
 *    the processes holding them (docs/sockets.md).
 * Units: times are CLOCK_MONOTONIC ns, RTTs µs, bytes are TCP payload bytes.
 */
#ifndef NETPROF_MAPS_SOCKETS_H
#define NETPROF_MAPS_SOCKETS_H

#ifndef __BPF__
#include <linux/types.h>
#endif

#define SOCKS_MAP		"socks"		/* open sockets */
#define SOCKS_CLOSED_MAP	"socks_closed"	/* closed ones: a ring, oldest overwritten first */
#define SOCKS_CLOSED_HEAD_MAP	"socks_closed_head"	/* the ring's write position */
#define SOCK_STATS_MAP		"sock_stats"
#define CGROUP_NAMES_MAP	"cgroup_names"
#define CONN_AGG_MAP		"conn_agg"	/* closed connections, summed per endpoint pair */
#define LISTEN_OWNERS_MAP	"listen_owners"	/* (netns, port) -> listening process */

#define SOCKS_DEFAULT_MAX	65536
#define SCAN_OWNERS_MAX		65536	/* sockets the start-up scan can name an owner for */
#define CONN_AGG_DEFAULT_MAX	16384
#define RTT_HIST_BUCKETS	27	/* log2 µs: up to 2^26 µs = 67 s */

/* The owner, copied into the record. */
struct sock_owner {
	__u32	tgid;		/* process id (thread group) */
	__u32	uid;
	__u64	cgroup_id;	/* cgroup v2 id: the inode of its directory */
	char	comm[16];
	__u32	source;		/* enum owner_source */
	__u32	pad;
};

enum owner_source {
	OWNER_NONE = 0,
	OWNER_CREATE,		/* the process that connected, or that listened */
	OWNER_IO,		/* the process that last sent or received on it */
	OWNER_SCAN,		/* found holding it when netprofd started */
};

enum sock_role {
	ROLE_UNKNOWN = 0,
	ROLE_CLIENT,		/* connect()ed: active open */
	ROLE_SERVER,		/* accepted: passive open */
};

/*
 * How a connection ended. Named in lib/socktab.c (sock_end_name).
 */
enum sock_end {
	SOCK_END_NONE = 0,	/* still open */
	SOCK_END_FIN,		/* orderly close */
	SOCK_END_RST_SENT,	/* we reset it (abort, close with unread data) */
	SOCK_END_RST_RECV,	/* the peer reset it */
	SOCK_END_REFUSED,	/* connect() answered by RST */
	SOCK_END_TIMEOUT,	/* connect or retransmissions timed out */
	SOCK_END_MAX,
};

/* Record flags. */
enum sock_record_flags {
	SOCK_F_FIN	= 1 << 0,	/* closed from a state after FIN_WAIT1 or CLOSE_WAIT */
	SOCK_F_RST_SENT	= 1 << 1,
	SOCK_F_RST_RECV	= 1 << 2,
	SOCK_F_SCANNED	= 1 << 3,	/* existed before netprofd started */
	/* at close: the kernel's byte counts include these sequence numbers */
	SOCK_F_FIN_ACKED = 1 << 4,	/* our FIN was acknowledged */
	SOCK_F_PEER_FIN	= 1 << 5,	/* the peer's FIN was received */
	SOCK_F_RTT_CB	= 1 << 6,	/* per-ACK RTT samples are on */
};

/*
 * Record flags, bits 8-15: the RTT callbacks a connection has left before
 * the next pass turns them on again (bpf/sockets.bpf.c, rtt_per_pass).
 */
#define SOCK_RTT_PER_PASS	32	/* netprofd's rtt_per_pass, where the pass can re-arm */
#define SOCK_F_RTT_LEFT_SHIFT	8
#define SOCK_F_RTT_LEFT_MASK	(0xffU << SOCK_F_RTT_LEFT_SHIFT)

/*
 * One TCP socket, keyed by socket cookie (u64). Open sockets live in socks
 * (BPF_MAP_TYPE_HASH: a full table is counted, never evicts an open one);
 * at close the record is copied into socks_closed, a ring of slots (an
 * mmapable ARRAY; the position is socks_closed_head) and deleted from
 * socks. Readers show closed records younger than netprofd's --keep-ended;
 * churn beyond the ring's size overwrites the oldest first, and a record
 * overwritten before --keep-ended counts as SSTAT_CLOSED_DROPPED.
 * (An LRU hash cost about 1 µs per insert here; a slot costs a copy.)
 * Local and remote from this socket's point of view.
 */
struct sock_record {
	__u8	laddr[16];	/* IPv4-mapped for IPv4 */
	__u8	raddr[16];
	__u16	lport;		/* host order */
	__u16	rport;		/* host order */
	__u8	family;		/* FLOW_FAMILY_IPV4 / _IPV6 */
	__u8	role;		/* enum sock_role */
	__u8	state;		/* TCP_* state (1 = ESTABLISHED ... 12) */
	__u8	end_reason;	/* enum sock_end */
	__u32	netns_ino;
	__u32	flags;		/* enum sock_record_flags */
	struct sock_owner owner;
	__u64	connect_ns;	/* active: connect() sent the SYN; passive: = established_ns */
	__u64	established_ns;
	__u64	closed_ns;	/* 0 while open */
	__u64	updated_ns;	/* last callback */
	__u32	srtt_us;	/* smoothed RTT */
	__u32	min_rtt_us;	/* kernel's windowed minimum */
	__u32	total_retrans;	/* retransmitted segments (the kernel's tcpi_total_retrans) */
	__u32	retrans_cb;	/* segments seen retransmitted by BPF_SOCK_OPS_RETRANS_CB */
	__u64	bytes_acked;	/* bytes sent and acknowledged (+ SYN, FIN: sock_payload_sent) */
	__u64	bytes_received;	/* bytes received (+ FIN: sock_payload_received) */
	__u32	segs_in;
	__u32	segs_out;
	__u32	rtt_samples;
	__u32	rtt_hist[RTT_HIST_BUCKETS];	/* RTT samples, bucket i: [2^i, 2^(i+1)) µs; 0: < 2 µs */
	__u64	rtt_sum_us;	/* sum of the samples (a Prometheus histogram's _sum) */
};

/*
 * bytes_acked / bytes_received are the kernel's (tcpi_bytes_acked and
 * tcpi_bytes_received): they count the SYN an active open sent and the
 * FINs, one sequence number each. Payload only: these.
 */
static inline __u64 sock_payload_sent(const struct sock_record *r)
{
	__u64 ctl = (r->role == ROLE_CLIENT && r->established_ns) +
		    !!(r->flags & SOCK_F_FIN_ACKED);

	return r->bytes_acked > ctl ? r->bytes_acked - ctl : 0;
}

static inline __u64 sock_payload_received(const struct sock_record *r)
{
	__u64 ctl = !!(r->flags & SOCK_F_PEER_FIN);

	return r->bytes_received > ctl ? r->bytes_received - ctl : 0;
}

/*
 * Retransmitted segments: the kernel's counter, refreshed at each callback
 * and pass; the RETRANS_CB count is exact between them.
 */
static inline __u32 sock_retrans(const struct sock_record *r)
{
	return r->total_retrans > r->retrans_cb ? r->total_retrans : r->retrans_cb;
}

/* A slot of the socks_closed ring. */
struct sock_closed {
	__u64	cookie;
	__u64	seq;		/* ring position + 1 once written, 0 while empty or being written */
	struct sock_record r;
};

/*
 * The service map's raw material (docs/map.md): every connection that ends
 * is added, in the kernel, to the entry of its endpoint pair with the
 * ephemeral port left out, as seen from this socket. A client socket's
 * entry keeps the server's port (rport), a server socket's its own (lport).
 * The owner is who held the socket when it closed. Open connections are
 * added by readers from the socks table with the same key (lib/svcmap.c),
 * so short-lived connections are counted exactly whether or not anyone
 * saw them open. PERCPU_HASH: readers sum the CPUs.
 */
struct conn_agg_key {
	__u8	laddr[16];	/* this host's end, IPv4-mapped */
	__u8	raddr[16];	/* the peer */
	__u64	cgroup_id;	/* owner's cgroup */
	char	comm[16];	/* owner's command */
	__u32	netns_ino;
	__u16	port;		/* the server's port (host order) */
	__u8	role;		/* enum sock_role of this end */
	__u8	pad;
};

/*
 * The edge half a connection belongs to (conn_agg's and edge_lat's key).
 * k starts zeroed: the padding is part of the key.
 */
static inline void conn_agg_key_of(const struct sock_record *r, struct conn_agg_key *k)
{
	__builtin_memcpy(k->laddr, r->laddr, 16);
	__builtin_memcpy(k->raddr, r->raddr, 16);
	k->cgroup_id = r->owner.cgroup_id;
	__builtin_memcpy(k->comm, r->owner.comm, 16);
	k->netns_ino = r->netns_ino;
	k->role = r->role;
	k->port = r->role == ROLE_SERVER ? r->lport : r->rport;
}

struct conn_agg {
	__u64	ended[SOCK_END_MAX];	/* connections ended, by enum sock_end */
	__u64	bytes_acked;		/* payload this end sent, acknowledged */
	__u64	bytes_received;		/* payload received */
	__u64	total_retrans;
	__u64	first_ns;		/* earliest connect (CLOCK_MONOTONIC) */
	__u64	last_ns;		/* latest close */
	__u32	rtt_samples;
	__u32	rtt_hist[RTT_HIST_BUCKETS];
	__u64	rtt_sum_us;
};

/* Statistics (PERCPU_ARRAY): rows as maps/flow.h's NP_FLOW_STATS. */
#define NP_SOCK_STATS(X)											\
	X(SSTAT_TABLE_FULL,	"socket_table_full",		"Sockets not recorded: the socket table was full.") \
	X(SSTAT_NO_OWNER,	"sockets_without_owner",	"Sockets whose creation netprof did not see.")	\
	X(SSTAT_SCAN_OWNERS_FULL, "scan_owners_full",		"Sockets from before netprofd left without owner: the scan's table was full.") \
	X(SSTAT_CLOSED,		"sockets_closed",		"Sockets recorded as closed.")			\
	X(SSTAT_CLOSED_DROPPED,	"closed_sockets_dropped",	"Closed-socket records overwritten before --keep-ended.") \
	X(SSTAT_CLOSED_DROPPED_BYTES, "closed_sockets_dropped_bytes", "Payload bytes (sent and received) of the closed-socket records overwritten before --keep-ended.") \
	X(SSTAT_AGG_FULL,	"service_map_full",		"Ended connections not summed: the service map was full.")

#ifndef NP_STAT_ENUM
#define NP_STAT_ENUM(e, name, help)	e,
#endif
enum sock_stat {
	NP_SOCK_STATS(NP_STAT_ENUM)
	SSTAT_MAX,
};

/* cgroup id -> path below the cgroup v2 mount, kept by netprofd. */
struct cgroup_name {
	char	path[248];
	__u64	seen_ns;
};

#ifndef __BPF__
_Static_assert(sizeof(struct sock_owner) == 40, "sock_owner layout");
_Static_assert(sizeof(struct sock_record) == 280, "sock_record layout");
_Static_assert(sizeof(struct sock_closed) == 296, "sock_closed layout");
_Static_assert(sizeof(struct conn_agg_key) == 64, "conn_agg_key layout");
_Static_assert(sizeof(struct conn_agg) == 208, "conn_agg layout");
#endif

#endif /* NETPROF_MAPS_SOCKETS_H */
