/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Human units for text output; JSON always carries the raw integers. */
#ifndef NETPROF_FORMAT_H
#define NETPROF_FORMAT_H

#include <stddef.h>
#include <stdint.h>
#include "flow.h"

/* 1536 -> "1.5 KiB" */
char *fmt_bytes(char *buf, size_t len, uint64_t bytes);
/* 12345 -> "12.3k" */
char *fmt_count(char *buf, size_t len, uint64_t n);
/* bits per second: "12.3 Mb/s" */
char *fmt_rate(char *buf, size_t len, double bytes_per_sec);
/* 350000 ns -> "350 µs", 3.2e9 -> "3.2 s", minutes as "4m05s" */
char *fmt_duration(char *buf, size_t len, uint64_t ns);
/* address only; IPv4-mapped shown dotted */
char *fmt_addr(char *buf, size_t len, const uint8_t addr[16], int family);
/* address:port, [v6]:port, or the bare address when the protocol has no ports */
char *fmt_endpoint(char *buf, size_t len, const uint8_t addr[16], uint16_t port_host,
		   int family, int has_ports);
/* 1 if addr is IPv4-mapped (::ffff:a.b.c.d), as flow keys keep IPv4 */
int addr_is_v4(const uint8_t addr[16]);
/* "10.0.0.1" (stored IPv4-mapped) or an IPv6 address; 0 or -EINVAL */
int parse_addr(const char *s, uint8_t addr[16]);
/* "tcp", "udp", "icmp", "icmp6", or the number */
char *fmt_proto(char *buf, size_t len, int proto);
/* TCP flags as "SAFRP" letters */
char *fmt_tcp_flags(char *buf, size_t len, uint8_t flags);
/* An interface's hooks (enum iface_attach bits): "tcx-ingress tcx-egress" */
char *fmt_iface_hooks(char *buf, size_t len, uint32_t attach);
/* Why ingress counts where it does (enum iface_why), a short phrase; "" unknown */
const char *iface_why_str(uint32_t why);
int proto_has_ports(int proto);

/* longest duration parse_duration takes: about 31 years */
#define DURATION_MAX_NS	1e18
/* Parse "10", "1.5s", "200ms", "2m" into ns. 0 or -EINVAL. */
int parse_duration(const char *s, uint64_t *ns);
/* Parse a decimal unsigned with optional k/M suffix. 0 or -EINVAL. */
int parse_u64(const char *s, uint64_t *v);

/* CLOCK_MONOTONIC and CLOCK_REALTIME now, in ns. */
uint64_t now_mono_ns(void);

/*
 * "HOST:PORT", "[IPV6]:PORT", or "PORT" alone (then default_host; NULL:
 * the port alone is an error) into a socket address. An empty host ("
 * :PORT") is "::", every address. numeric: the host must be an address,
 * not a name. 0 or -EINVAL.
 */
/*
 * A network namespace name as `ip netns` keeps them under /var/run/netns:
 * not empty, no '/', not "." or "..", shorter than NAME_MAX. 0 or -EINVAL.
 */
int netns_name_check(const char *name);

struct sockaddr_storage;
int parse_host_port(const char *arg, const char *default_host, int numeric,
		    struct sockaddr_storage *ss, unsigned int *len);
uint64_t now_real_ns(void);

#endif
