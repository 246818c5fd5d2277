// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * concurrency: is the flow table lock-light? tc_egress (the counting path)
 * under BPF_PROG_TEST_RUN on one frame, first on one CPU alone, then on
 * every CPU at once: the same flow from all CPUs (the worst case for a
 * shared table: one entry, one cache line) and a different flow per CPU.
 * With a per-CPU hash, ns/packet should stay flat as CPUs are added.
 * Medians of ROUNDS rounds.
 */
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "flow.skel.h"
#include "flow.h"

#define ROUNDS	5
#define REPEAT	3000000

static void build_frame(uint8_t *f, uint16_t sport)
{
	uint16_t v;

	memset(f, 0, 64);
	f[12] = 0x08;
	f[14] = 0x45;
	v = htons(50);
	memcpy(f + 16, &v, 2);
	f[22] = 64;
	f[23] = 17;
	f[26] = 10, f[29] = 1;
	f[30] = 10, f[33] = 2;
	v = htons(sport);
	memcpy(f + 34, &v, 2);
	v = htons(53);
	memcpy(f + 36, &v, 2);
}

static double run_on(int fd, int cpu, uint16_t sport)
{
	uint8_t frame[64];
	struct __sk_buff ctx = { .ifindex = 1 };
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = frame, .data_size_in = sizeof(frame),
		    .ctx_in = &ctx, .ctx_size_in = sizeof(ctx), .repeat = REPEAT);
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	sched_setaffinity(0, sizeof(set), &set);
	build_frame(frame, sport);
	if (bpf_prog_test_run_opts(fd, &o))
		return -1;
	return o.duration;
}

/* every CPU at once; returns the median of the per-CPU ns/packet */
static double parallel(int fd, int ncpu, int same_flow, double *shared)
{
	int c;

	for (c = 0; c < ncpu; c++) {
		if (fork() == 0) {
			shared[c] = run_on(fd, c, same_flow ? 4000 : 4000 + c);
			_exit(0);
		}
	}
	while (wait(NULL) > 0)
		;
	double m = 0;
	for (c = 0; c < ncpu; c++)
		m += shared[c];
	return m / ncpu;
}

static int cmp_dbl(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

int main(void)
{
	int ncpu = sysconf(_SC_NPROCESSORS_ONLN), r, fd;
	double *shared = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	double one[ROUNDS], same[ROUNDS], diff[ROUNDS];
	struct flow_bpf *skel = flow_bpf__open();
	struct bpf_map *m;

	if (!skel)
		return 1;
	bpf_object__for_each_map(m, skel->obj)
		bpf_map__set_pin_path(m, NULL);
	if (flow_bpf__load(skel)) {
		fprintf(stderr, "concurrency: cannot load (root?)\n");
		return 1;
	}
	fd = bpf_program__fd(skel->progs.tc_egress);
	for (r = 0; r < ROUNDS; r++) {
		one[r] = run_on(fd, 0, 4000);
		same[r] = parallel(fd, ncpu, 1, shared);
		diff[r] = parallel(fd, ncpu, 0, shared);
	}
	qsort(one, ROUNDS, sizeof(double), cmp_dbl);
	qsort(same, ROUNDS, sizeof(double), cmp_dbl);
	qsort(diff, ROUNDS, sizeof(double), cmp_dbl);
	printf("tc_egress hot path, BPF_PROG_TEST_RUN x %d, median of %d rounds, %d CPUs\n",
	       REPEAT, ROUNDS, ncpu);
	printf("%-34s %10s\n", "case", "ns/packet");
	printf("%-34s %10.1f\n", "1 CPU", one[ROUNDS / 2]);
	printf("%-34s %10.1f\n", "all CPUs, the same flow", same[ROUNDS / 2]);
	printf("%-34s %10.1f\n", "all CPUs, one flow each", diff[ROUNDS / 2]);
	flow_bpf__destroy(skel);
	return 0;
}
