// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * prog_cost: per-packet cost of each flow program against an empty program
 * of the same type, under BPF_PROG_TEST_RUN, on the same frames.
 *
 *  hot:    one 64-byte UDP frame run `repeat` times: the flow exists after
 *          the first run (the common case on a busy link); for xdp_ingress
 *          runs are flow cache hits, with a full path and a batch fold
 *          every 65 runs as in traffic (its timer is off, as in every
 *          BPF_PROG_TEST_RUN use); xdp_ingress_direct, the program for
 *          generic XDP, looks the flow up every time;
 *  insert: N different frames (new source port each), one run each: every
 *          packet inserts a flow. Each run's kernel-measured duration is
 *          summed, so syscall overhead is not counted, for both programs.
 *
 * Prints medians over ROUNDS rounds, in ns per packet, and the difference;
 * beside them a minimal 5-tuple counter (bench/minimal.bpf.c) of the same
 * hook on the same frames, the least a flow program does.
 *
 * Usage: prog_cost [EMPTY_OBJ [precise]] (the minimal counter is read from
 * minimal.bpf.o beside EMPTY_OBJ)
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "flow.skel.h"
#include "flow.h"

#define ROUNDS		7
#define HOT_REPEAT	2000000
#define INSERTS		20000

static uint8_t frame[64];

static void build_frame(uint16_t sport)
{
	uint8_t *p = frame;
	uint16_t v;

	memset(frame, 0, sizeof(frame));
	p[12] = 0x08;			/* IPv4 */
	p += 14;
	p[0] = 0x45;
	v = htons(sizeof(frame) - 14);
	memcpy(p + 2, &v, 2);
	p[8] = 64;
	p[9] = 17;			/* UDP */
	p[12] = 10, p[15] = 1;		/* 10.0.0.1 */
	p[16] = 10, p[19] = 2;		/* 10.0.0.2 */
	p += 20;
	v = htons(sport);
	memcpy(p, &v, 2);
	v = htons(53);
	memcpy(p + 2, &v, 2);
	v = htons(sizeof(frame) - 34);
	memcpy(p + 4, &v, 2);
}

/* ns per run as the kernel measures it (duration is per repeat, in ns) */
static double run(int prog_fd, int is_xdp, int repeat)
{
	struct xdp_md xctx = { .data_end = sizeof(frame) };
	struct __sk_buff sctx = { .ifindex = 1 };
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = frame, .data_size_in = sizeof(frame),
		    .repeat = repeat);

	if (is_xdp) {
		o.ctx_in = &xctx;
		o.ctx_size_in = sizeof(xctx);
	} else {
		o.ctx_in = &sctx;
		o.ctx_size_in = sizeof(sctx);
	}
	if (bpf_prog_test_run_opts(prog_fd, &o)) {
		fprintf(stderr, "prog_cost: test run failed: %s\n", strerror(errno));
		exit(1);
	}
	return o.duration;
}

static double hot(int fd, int is_xdp)
{
	build_frame(4000);
	run(fd, is_xdp, 1);	/* create the flow */
	return run(fd, is_xdp, HOT_REPEAT);
}

static double insert(int fd, int is_xdp, int round)
{
	double total = 0;
	int i;

	for (i = 0; i < INSERTS; i++) {
		/* a new 5-tuple each time, unique across rounds */
		build_frame(1 + i % 60000);
		frame[14 + 13] = (i / 60000) + 1 + round * 2;	/* vary the source address */
		total += run(fd, is_xdp, 1);
	}
	return total / INSERTS;
}

static int cmp_dbl(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
	qsort(v, n, sizeof(*v), cmp_dbl);
	return v[n / 2];
}

static void clear_map(int fd, size_t key_size)
{
	char k[64], next[64];

	while (key_size <= sizeof(k) && bpf_map_get_next_key(fd, NULL, next) == 0) {
		memcpy(k, next, key_size);
		bpf_map_delete_elem(fd, k);
	}
}

static struct bpf_map *minimal_map;

static void clear_flows(struct flow_bpf *skel)
{
	clear_map(bpf_map__fd(skel->maps.flows), sizeof(struct flow_key));
	clear_map(bpf_map__fd(minimal_map), bpf_map__key_size(minimal_map));
}

int main(int argc, char **argv)
{
	const char *empty_path = argc > 1 ? argv[1] : ".output/bench/empty.bpf.o";
	struct bpf_object *empty, *minimal;
	char minimal_path[512];
	const char *slash;
	struct flow_bpf *skel;
	struct bpf_map *m;
	struct {
		const char *name;
		int is_xdp;
		int flow_fd;
		int empty_fd;
		int minimal_fd;
	} progs[4];
	double e[ROUNDS], f[ROUNDS], mn[ROUNDS];
	int i, r;
	FILE *stats = fopen("/proc/sys/kernel/bpf_stats_enabled", "r");
	int bpf_stats = stats ? fgetc(stats) - '0' : -1;

	if (stats)
		fclose(stats);
	skel = flow_bpf__open();
	if (!skel)
		return 1;
	/* prog_cost [EMPTY_OBJ] [precise]: measure the --precise-clock build */
	skel->rodata->precise_clock = argc > 2 && !strcmp(argv[2], "precise");
	skel->rodata->cache_timer = 0;	/* test runs are preemptible (bpf/flow.bpf.c) */
	bpf_object__for_each_map(m, skel->obj)
		bpf_map__set_pin_path(m, NULL);
	bpf_map__set_max_entries(skel->maps.flows, INSERTS * 2);
	if (flow_bpf__load(skel)) {
		fprintf(stderr, "prog_cost: cannot load the flow programs (root?)\n");
		return 1;
	}
	empty = bpf_object__open_file(empty_path, NULL);
	if (!empty || bpf_object__load(empty)) {
		fprintf(stderr, "prog_cost: cannot load %s\n", empty_path);
		return 1;
	}
	slash = strrchr(empty_path, '/');
	snprintf(minimal_path, sizeof(minimal_path), "%.*sminimal.bpf.o",
		 slash ? (int)(slash - empty_path + 1) : 0, empty_path);
	minimal = bpf_object__open_file(minimal_path, NULL);
	minimal_map = minimal ? bpf_object__find_map_by_name(minimal, "minimal_flows") : NULL;
	if (!minimal_map || bpf_map__set_max_entries(minimal_map, INSERTS * 2) ||
	    bpf_object__load(minimal)) {
		fprintf(stderr, "prog_cost: cannot load %s\n", minimal_path);
		return 1;
	}
	progs[0].name = "xdp_ingress";
	progs[0].is_xdp = 1;
	progs[0].flow_fd = bpf_program__fd(skel->progs.xdp_ingress);
	progs[0].empty_fd = bpf_program__fd(bpf_object__find_program_by_name(empty, "xdp_empty"));
	progs[3].name = "xdp_ingress_direct";
	progs[3].is_xdp = 1;
	progs[3].flow_fd = bpf_program__fd(skel->progs.xdp_ingress_direct);
	progs[3].empty_fd = progs[0].empty_fd;
	progs[1].name = "tc_ingress";
	progs[1].is_xdp = 0;
	progs[1].flow_fd = bpf_program__fd(skel->progs.tc_ingress);
	progs[1].empty_fd = bpf_program__fd(bpf_object__find_program_by_name(empty, "tc_empty"));
	progs[2].name = "tc_egress";
	progs[2].is_xdp = 0;
	progs[2].flow_fd = bpf_program__fd(skel->progs.tc_egress);
	progs[2].empty_fd = progs[1].empty_fd;
	progs[0].minimal_fd = progs[3].minimal_fd =
		bpf_program__fd(bpf_object__find_program_by_name(minimal, "xdp_minimal"));
	progs[1].minimal_fd = progs[2].minimal_fd =
		bpf_program__fd(bpf_object__find_program_by_name(minimal, "tc_minimal"));

	printf("BPF_PROG_TEST_RUN, 64-byte UDP frames, median of %d rounds, kernel.bpf_stats_enabled=%d, %s clock\n",
	       ROUNDS, bpf_stats, skel->rodata->precise_clock ? "precise" : "coarse (default)");
	printf("%-18s %-7s %10s %10s %10s %12s %10s\n", "program", "path", "empty ns", "netprof ns",
	       "added ns", "minimal ns", "added ns");
	for (i = 0; i < 4; i++) {
		double me, mf, mm;

		for (r = 0; r < ROUNDS; r++) {
			clear_flows(skel);
			e[r] = hot(progs[i].empty_fd, progs[i].is_xdp);
			f[r] = hot(progs[i].flow_fd, progs[i].is_xdp);
			mn[r] = hot(progs[i].minimal_fd, progs[i].is_xdp);
		}
		me = median(e, ROUNDS), mf = median(f, ROUNDS), mm = median(mn, ROUNDS);
		printf("%-18s %-7s %10.1f %10.1f %10.1f %12.1f %10.1f\n", progs[i].name, "hot", me, mf,
		       mf - me, mm, mm - me);
		for (r = 0; r < 3; r++) {
			clear_flows(skel);
			e[r] = insert(progs[i].empty_fd, progs[i].is_xdp, r);
			f[r] = insert(progs[i].flow_fd, progs[i].is_xdp, r);
			mn[r] = insert(progs[i].minimal_fd, progs[i].is_xdp, r);
		}
		me = median(e, 3), mf = median(f, 3), mm = median(mn, 3);
		printf("%-18s %-7s %10.1f %10.1f %10.1f %12.1f %10.1f\n", progs[i].name, "insert", me, mf,
		       mf - me, mm, mm - me);
	}
	bpf_object__close(minimal);
	bpf_object__close(empty);
	flow_bpf__destroy(skel);
	return 0;
}
