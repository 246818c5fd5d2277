/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* IP protocol numbers, once for every BPF object (vmlinux.h has no macros). */
#ifndef NETPROF_PROTO_BPF_H
#define NETPROF_PROTO_BPF_H

#define IPPROTO_HOPOPTS_	0
#define IPPROTO_ICMP_		1
#define IPPROTO_TCP_		6
#define IPPROTO_UDP_		17
#define IPPROTO_ROUTING_	43
#define IPPROTO_FRAGMENT_	44
#define IPPROTO_AH_		51
#define IPPROTO_ICMPV6_		58
#define IPPROTO_DSTOPTS_	60

#endif
