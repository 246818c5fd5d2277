// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Classic BPF (libpcap's output for a tcpdump expression) to an eBPF TC
 * program, in the way the kernel converts socket filters
 * (net/core/filter.c, bpf_convert_filter), with two differences:
 *
 *  - packet loads use bpf_skb_load_bytes, which reads non-linear skbs and
 *    fails cleanly past the end (LD_ABS would return 0 from the program,
 *    which TC reads as TC_ACT_OK and which ends classification);
 *  - "ret #k" with k > 0 sends min(k, skb->len) bytes of the packet and a
 *    struct capture_meta to the perf event array; every path returns
 *    TC_ACT_UNSPEC, so the packet goes on untouched.
 *
 * Registers: A = r9, X = r7, ctx = r6, r8 the bytes to capture. Stack:
 * M[0..15] at r10-8*(i+1), the load buffer at -136, the meta at -160.
 */
#define bpf_insn pcap_bpf_insn
#define bpf_program pcap_bpf_program
#include <pcap/pcap.h>
#undef bpf_insn
#undef bpf_program
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/bpf.h>
#include "cbpf.h"

#define RA	9
#define RX	7
#define RCTX	6
#define RCAP	8
#define OFF_M(i)	(-8 * ((int)(i) + 1))
#define OFF_BUF		(-136)
#define OFF_META	(-160)
#define TC_ACT_UNSPEC_	(-1)

struct emit {
	struct bpf_insn	*v;
	size_t		n;	/* written (or counted, when v is NULL) */
};

static void put(struct emit *e, uint8_t code, uint8_t dst, uint8_t src, int16_t off, int32_t imm)
{
	if (e->v)
		e->v[e->n] = (struct bpf_insn){ .code = code, .dst_reg = dst, .src_reg = src,
						.off = off, .imm = imm };
	e->n++;
}

#define MOV64_REG(e, d, s)	put(e, BPF_ALU64 | BPF_MOV | BPF_X, d, s, 0, 0)
#define MOV64_IMM(e, d, k)	put(e, BPF_ALU64 | BPF_MOV | BPF_K, d, 0, 0, k)
#define MOV32_IMM(e, d, k)	put(e, BPF_ALU | BPF_MOV | BPF_K, d, 0, 0, k)
#define LDX_MEM(e, sz, d, s, o)	put(e, BPF_LDX | BPF_MEM | (sz), d, s, o, 0)
#define STX_MEM(e, sz, d, s, o)	put(e, BPF_STX | BPF_MEM | (sz), d, s, o, 0)
#define ST_MEM(e, sz, d, o, k)	put(e, BPF_ST | BPF_MEM | (sz), d, 0, o, k)
#define JA(e, o)		put(e, BPF_JMP | BPF_JA, 0, 0, o, 0)
#define CALL(e, fn)		put(e, BPF_JMP | BPF_CALL, 0, 0, 0, fn)
#define EXIT(e)			put(e, BPF_JMP | BPF_EXIT, 0, 0, 0, 0)

/*
 * A packet load of size bytes at X + k (ind) or k into reg, in host order;
 * on failure, to the reject label at index rej.
 */
static void load(struct emit *e, int size, int ind, uint32_t k, int reg, size_t rej)
{
	int sz = size == 4 ? BPF_W : size == 2 ? BPF_H : BPF_B;

	MOV64_REG(e, 1, RCTX);
	if (ind) {
		put(e, BPF_ALU | BPF_MOV | BPF_X, 2, RX, 0, 0);	/* u32 */
		put(e, BPF_ALU | BPF_ADD | BPF_K, 2, 0, 0, k);
	} else {
		MOV32_IMM(e, 2, k);
	}
	MOV64_REG(e, 3, 10);
	put(e, BPF_ALU64 | BPF_ADD | BPF_K, 3, 0, 0, OFF_BUF);
	MOV64_IMM(e, 4, size);
	CALL(e, BPF_FUNC_skb_load_bytes);
	put(e, BPF_JMP | BPF_JNE | BPF_K, 0, 0, rej - (e->n + 1), 0);
	LDX_MEM(e, sz, reg, 10, OFF_BUF);
	if (size > 1)	/* network order to host order */
		put(e, BPF_ALU | BPF_END | BPF_TO_BE, reg, 0, 0, size * 8);
}

/* Emit one classic instruction; start[] maps classic indexes to eBPF ones. */
static int one(struct emit *e, const struct pcap_bpf_insn *c, size_t i, size_t nc,
	       const size_t *start, size_t rej, size_t acc)
{
	uint16_t code = c->code;
	int src = BPF_SRC(code) == BPF_X;

	switch (BPF_CLASS(code)) {
	case BPF_LD:
		switch (BPF_MODE(code)) {
		case BPF_ABS:
		case BPF_IND:
			load(e, BPF_SIZE(code) == BPF_W ? 4 : BPF_SIZE(code) == BPF_H ? 2 : 1,
			     BPF_MODE(code) == BPF_IND, c->k, RA, rej);
			return 0;
		case BPF_LEN:
			LDX_MEM(e, BPF_W, RA, RCTX, offsetof(struct __sk_buff, len));
			return 0;
		case BPF_IMM:
			MOV32_IMM(e, RA, c->k);
			return 0;
		case BPF_MEM:
			if (c->k >= 16)
				return -EINVAL;
			LDX_MEM(e, BPF_W, RA, 10, OFF_M(c->k));
			return 0;
		}
		return -EINVAL;
	case BPF_LDX:
		switch (BPF_MODE(code)) {
		case BPF_IMM:
			MOV32_IMM(e, RX, c->k);
			return 0;
		case BPF_LEN:
			LDX_MEM(e, BPF_W, RX, RCTX, offsetof(struct __sk_buff, len));
			return 0;
		case BPF_MEM:
			if (c->k >= 16)
				return -EINVAL;
			LDX_MEM(e, BPF_W, RX, 10, OFF_M(c->k));
			return 0;
		case BPF_MSH:	/* X = 4 * (P[k] & 0xf): an IPv4 header's length */
			load(e, 1, 0, c->k, RX, rej);
			put(e, BPF_ALU | BPF_AND | BPF_K, RX, 0, 0, 0xf);
			put(e, BPF_ALU | BPF_LSH | BPF_K, RX, 0, 0, 2);
			return 0;
		}
		return -EINVAL;
	case BPF_ST:
	case BPF_STX:
		if (c->k >= 16)
			return -EINVAL;
		STX_MEM(e, BPF_W, 10, BPF_CLASS(code) == BPF_ST ? RA : RX, OFF_M(c->k));
		return 0;
	case BPF_ALU:
		switch (BPF_OP(code)) {
		case BPF_NEG:
			put(e, BPF_ALU | BPF_NEG, RA, 0, 0, 0);
			return 0;
		case BPF_LSH: case BPF_RSH:
			/*
			 * libpcap's interpreter gives 0 for shifts by 32 or more;
			 * eBPF takes the amount modulo 32 (the JITs do as the CPU)
			 */
			if (!src) {
				if (c->k >= 32)
					MOV32_IMM(e, RA, 0);
				else
					put(e, BPF_ALU | BPF_OP(code) | BPF_K, RA, 0, 0, c->k);
				return 0;
			}
			put(e, BPF_JMP | BPF_JGE | BPF_K, RX, 0, 2, 32);
			put(e, BPF_ALU | BPF_OP(code) | BPF_X, RA, RX, 0, 0);
			JA(e, 1);
			MOV32_IMM(e, RA, 0);
			return 0;
		case BPF_DIV:
		case BPF_MOD:
			if (src)	/* classic BPF rejects the packet on X == 0 */
				put(e, BPF_JMP | BPF_JEQ | BPF_K, RX, 0, rej - (e->n + 1), 0);
			else if (c->k == 0)
				return -EINVAL;
			/* fall through */
		case BPF_ADD: case BPF_SUB: case BPF_MUL: case BPF_OR: case BPF_AND:
		case BPF_XOR:
			put(e, BPF_ALU | BPF_OP(code) | (src ? BPF_X : BPF_K), RA, src ? RX : 0, 0,
			    src ? 0 : (int32_t)c->k);
			return 0;
		}
		return -EINVAL;
	case BPF_JMP: {
		size_t t, f;

		if (BPF_OP(code) == BPF_JA) {
			if (i + 1 + c->k >= nc)
				return -EINVAL;
			JA(e, start[i + 1 + c->k] - (e->n + 1));
			return 0;
		}
		t = i + 1 + c->jt;
		f = i + 1 + c->jf;
		if (t >= nc || f >= nc)
			return -EINVAL;
		switch (BPF_OP(code)) {
		case BPF_JEQ: case BPF_JGT: case BPF_JGE: case BPF_JSET:
			break;
		default:
			return -EINVAL;
		}
		/* classic comparisons are unsigned 32-bit: JMP32 */
		put(e, BPF_JMP32 | BPF_OP(code) | (src ? BPF_X : BPF_K), RA, src ? RX : 0,
		    start[t] - (e->n + 1), src ? 0 : (int32_t)c->k);
		JA(e, start[f] - (e->n + 1));
		return 0;
	}
	case BPF_RET:
		if (BPF_RVAL(code) == BPF_A)
			put(e, BPF_ALU | BPF_MOV | BPF_X, RCAP, RA, 0, 0);
		else if (BPF_RVAL(code) == BPF_K)
			MOV32_IMM(e, RCAP, c->k);
		else
			return -EINVAL;
		JA(e, acc - (e->n + 1));
		return 0;
	case BPF_MISC:
		if (BPF_MISCOP(code) == BPF_TAX)
			put(e, BPF_ALU | BPF_MOV | BPF_X, RX, RA, 0, 0);
		else
			put(e, BPF_ALU | BPF_MOV | BPF_X, RA, RX, 0, 0);
		return 0;
	}
	return -EINVAL;
}

/* The whole program; with e->v NULL, only counts (start[], rej, acc filled). */
static int build(struct emit *e, const struct pcap_bpf_program *p, int map_fd, uint32_t dir,
		 size_t *start, size_t *rej, size_t *acc, size_t *bad)
{
	size_t i;
	int err;

	e->n = 0;
	MOV64_REG(e, RCTX, 1);
	MOV64_IMM(e, RA, 0);
	MOV64_IMM(e, RX, 0);
	for (i = 0; i < 16; i++)	/* the verifier wants the scratch words written */
		ST_MEM(e, BPF_DW, 10, OFF_M(i), 0);
	for (i = 0; i < p->bf_len; i++) {
		start[i] = e->n;
		err = one(e, &p->bf_insns[i], i, p->bf_len, start, *rej, *acc);
		if (err) {
			*bad = i;
			return err;
		}
	}
	/* reject: pass the packet on, capture nothing */
	*rej = e->n;
	MOV64_IMM(e, 0, TC_ACT_UNSPEC_);
	EXIT(e);
	/* accept RCAP bytes (0: reject) */
	*acc = e->n;
	put(e, BPF_JMP | BPF_JEQ | BPF_K, RCAP, 0, *rej - (e->n + 1), 0);
	CALL(e, BPF_FUNC_ktime_get_ns);
	STX_MEM(e, BPF_DW, 10, 0, OFF_META);
	LDX_MEM(e, BPF_W, 1, RCTX, offsetof(struct __sk_buff, ifindex));
	STX_MEM(e, BPF_W, 10, 1, OFF_META + 8);
	LDX_MEM(e, BPF_W, 3, RCTX, offsetof(struct __sk_buff, len));
	STX_MEM(e, BPF_W, 10, 3, OFF_META + 12);
	ST_MEM(e, BPF_W, 10, OFF_META + 16, dir);
	ST_MEM(e, BPF_W, 10, OFF_META + 20, 0);
	/* r3 = min(skb->len, RCAP) << 32 | BPF_F_CURRENT_CPU */
	put(e, BPF_JMP | BPF_JLE | BPF_X, 3, RCAP, 1, 0);
	MOV64_REG(e, 3, RCAP);
	put(e, BPF_ALU64 | BPF_LSH | BPF_K, 3, 0, 0, 32);
	put(e, BPF_LD | BPF_DW | BPF_IMM, 4, 0, 0, (int32_t)0xffffffff);	/* BPF_F_CURRENT_CPU */
	put(e, 0, 0, 0, 0, 0);
	put(e, BPF_ALU64 | BPF_OR | BPF_X, 3, 4, 0, 0);
	MOV64_REG(e, 1, RCTX);
	put(e, BPF_LD | BPF_DW | BPF_IMM, 2, BPF_PSEUDO_MAP_FD, 0, map_fd);
	put(e, 0, 0, 0, 0, 0);
	MOV64_REG(e, 4, 10);
	put(e, BPF_ALU64 | BPF_ADD | BPF_K, 4, 0, 0, OFF_META);
	MOV64_IMM(e, 5, sizeof(struct capture_meta));
	CALL(e, BPF_FUNC_perf_event_output);
	MOV64_IMM(e, 0, TC_ACT_UNSPEC_);
	EXIT(e);
	return 0;
}

int cbpf_compile_tc(const char *expr, int snaplen, int perf_map_fd, uint32_t dir,
		    struct bpf_insn **out, size_t *n, char *err, size_t errlen)
{
	pcap_t *p = pcap_open_dead(DLT_EN10MB, snaplen);
	struct pcap_bpf_program prog;
	struct emit e = {};
	size_t *start = NULL, rej = 0, acc = 0, bad = 0;
	int ret = -EINVAL;

	if (!p) {
		snprintf(err, errlen, "libpcap: out of memory");
		return -ENOMEM;
	}
	if (pcap_compile(p, &prog, expr ? expr : "", 1, PCAP_NETMASK_UNKNOWN)) {
		snprintf(err, errlen, "%s", pcap_geterr(p));
		pcap_close(p);
		return -EINVAL;
	}
	start = calloc(prog.bf_len + 1, sizeof(*start));
	if (!start)
		goto out;
	/*
	 * Count first (every instruction's size is fixed, whatever its jump
	 * offsets): where each lands and the two labels; then emit.
	 */
	if (build(&e, &prog, perf_map_fd, dir, start, &rej, &acc, &bad))
		goto unknown;
	e.v = calloc(e.n, sizeof(*e.v));
	if (!e.v)
		goto out;
	if (build(&e, &prog, perf_map_fd, dir, start, &rej, &acc, &bad))
		goto unknown;
	*out = e.v;
	*n = e.n;
	e.v = NULL;
	ret = 0;
	goto out;
unknown:
	snprintf(err, errlen, "classic BPF instruction %zu (code 0x%x) not supported",
		 bad, prog.bf_insns[bad].code);
out:
	free(e.v);
	free(start);
	pcap_freecode(&prog);
	pcap_close(p);
	return ret;
}
