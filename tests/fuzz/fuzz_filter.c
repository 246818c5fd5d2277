// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * A FILTER expression, as a user types it: the flow filter (lib/filter.c:
 * libpcap's compiler, then the walk of its program) matched on an IPv4 TCP
 * and an IPv6 UDP flow, and the capture's translation to eBPF (lib/cbpf.c).
 */
#include "fuzz.h"
#include <linux/bpf.h>
#include "cbpf.h"
#include "filter.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct flow_key v4 = { .proto = 6, .family = FLOW_FAMILY_IPV4, .port_a = 0x5000,
			       .port_b = 0x3930 };
	struct flow_key v6 = { .proto = 17, .family = FLOW_FAMILY_IPV6, .port_a = 0x3500 };
	uint8_t flags[2] = { 0x12, 0x11 };
	struct flow_filter *f;
	struct bpf_insn *insns;
	char expr[512], err[256];
	size_t n;

	if (size >= sizeof(expr))
		return 0;
	memcpy(expr, data, size);
	expr[size] = 0;
	memcpy(v4.addr_a, "\0\0\0\0\0\0\0\0\0\0\xff\xff\x0a\x00\x00\x01", 16);
	memcpy(v4.addr_b, "\0\0\0\0\0\0\0\0\0\0\xff\xff\x0a\x00\x00\x02", 16);
	v6.addr_a[0] = 0xfd, v6.addr_a[15] = 1;
	v6.addr_b[0] = 0xfd, v6.addr_b[15] = 2;
	f = flow_filter__new(expr, FILTER_TCP_FLAGS, err, sizeof(err));
	if (f) {
		flow_filter__match_flags(f, &v4, flags);
		flow_filter__match(f, &v6);
		flow_filter__free(f);
	}
	if (!cbpf_compile_tc(expr, 96, 0, 0, &insns, &n, err, sizeof(err)))
		free(insns);
	return 0;
}
