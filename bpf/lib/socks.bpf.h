/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The open-socket table (maps/sockets.h), defined once for the objects that
 * share it through its pin: sockets.bpf.c fills it, latency.bpf.c times
 * exactly the sockets it holds. netprofd sizes both copies alike.
 */
#ifndef NETPROF_SOCKS_BPF_H
#define NETPROF_SOCKS_BPF_H

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, SOCKS_DEFAULT_MAX);	/* resized at load time */
	__type(key, __u64);			/* socket cookie */
	__type(value, struct sock_record);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} socks SEC(".maps");

#endif
