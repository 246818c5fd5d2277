/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
#ifndef NETPROF_SOCK_BPF_H
#define NETPROF_SOCK_BPF_H

#include "proto.bpf.h"

/*
 * The cookie of a TCP socket, 0 when it has none: then netprof's sockops
 * program never saw it (it asks for the cookie of every socket it
 * follows), so no map of ours has it. Read, not bpf_get_socket_cookie():
 * that would give every socket of the host one, on paths that run for
 * every TCP socket (state changes, every recvmsg).
 */
static __always_inline __u64 tcp_cookie(const struct sock *sk)
{
	if (!sk || sk->sk_protocol != IPPROTO_TCP_)
		return 0;
	return sk->__sk_common.skc_cookie.counter;
}

#endif
