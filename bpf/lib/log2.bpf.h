/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
#ifndef NETPROF_LOG2_BPF_H
#define NETPROF_LOG2_BPF_H

/*
 * The log2 histogram bucket of v: floor(log2(v)), 0 for 0 and 1, at most
 * last (< 32; the last bucket holds everything above). No loop, and few
 * enough branches for programs that call it in a loop.
 */
static __always_inline __u32 log2_bucket(__u64 v, __u32 last)
{
	__u32 b = 0;

	if (v >= 1ULL << 32)
		return last;
	if (v >= 1 << 16) { v >>= 16; b += 16; }
	if (v >= 1 << 8) { v >>= 8; b += 8; }
	if (v >= 1 << 4) { v >>= 4; b += 4; }
	if (v >= 1 << 2) { v >>= 2; b += 2; }
	if (v >= 1 << 1) { b += 1; }
	return b < last ? b : last;
}

#endif
