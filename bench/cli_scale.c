// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * cli_scale: `netprof flows` over a pinned flow table filled with N flows
 * (default 100000 and 1000000): wall time and peak resident memory of
 *   netprof flows -n 20            (top 20 by bytes, text)
 *   netprof flows --json -n 0      (everything, JSON to /dev/null)
 * median of RUNS runs each. The table is filled from user space with
 * BPF_MAP_UPDATE_BATCH in a pin directory of its own, removed at the end.
 *
 * Usage: cli_scale NETPROF [N...]
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "flow.skel.h"
#include "flow.h"

#define RUNS 5

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* run argv with stdout to /dev/null; wall seconds and peak RSS (KiB) */
static int timed_run(char **argv, double *wall, long *rss_kib)
{
	struct rusage ru;
	double t0 = now_s();
	int status;
	pid_t pid = fork();

	if (pid == 0) {
		int fd = open("/dev/null", O_WRONLY);

		dup2(fd, 1);
		execv(argv[0], argv);
		_exit(127);
	}
	if (pid < 0 || wait4(pid, &status, 0, &ru) < 0)
		return -1;
	*wall = now_s() - t0;
	*rss_kib = ru.ru_maxrss;
	return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -1;
}

static int cmp_dbl(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static int fill(int fd, long n, int ncpu)
{
	const long batch = 8192;
	struct flow_key *keys = calloc(batch, sizeof(*keys));
	struct flow_counters *vals = calloc(batch * ncpu, sizeof(*vals));
	long i, j;
	__u32 count;
	int c;

	if (!keys || !vals)
		return -ENOMEM;
	for (i = 0; i < n; i += batch) {
		for (j = 0; j < batch && i + j < n; j++) {
			long id = i + j;
			struct flow_key *k = &keys[j];

			memset(k, 0, sizeof(*k));
			k->addr_a[10] = k->addr_a[11] = 0xff;
			k->addr_b[10] = k->addr_b[11] = 0xff;
			k->addr_a[12] = 10, k->addr_a[13] = id >> 16, k->addr_a[14] = id >> 8, k->addr_a[15] = id;
			k->addr_b[12] = 192, k->addr_b[13] = 168, k->addr_b[15] = 1;
			k->port_a = htons(1024 + id % 50000);
			k->port_b = htons(443);
			k->proto = 6;
			k->family = FLOW_FAMILY_IPV4;
			k->ifindex = 2;
			k->netns_ino = 1;
			for (c = 0; c < ncpu; c++) {
				struct flow_counters *v = &vals[j * ncpu + c];

				memset(v, 0, sizeof(*v));
				v->packets[0] = 1 + id % 977;
				v->bytes[0] = 100 * (1 + id % 977) + c;
				v->first_seen_ns = 1000000000ULL + id;
				v->last_seen_ns = 2000000000ULL + id;
			}
		}
		count = j;
		if (bpf_map_update_batch(fd, keys, vals, &count, NULL))
			return -errno;
	}
	free(keys);
	free(vals);
	return 0;
}

int main(int argc, char **argv)
{
	static long def[] = { 100000, 1000000 };
	int ncpu = libbpf_num_possible_cpus(), a, r, nsizes = argc > 2 ? argc - 2 : 2;
	char dir[128];

	if (argc < 2) {
		fprintf(stderr, "usage: cli_scale NETPROF [N...]\n");
		return 2;
	}
	printf("%-9s %-22s %12s %14s\n", "flows", "command", "median ms", "peak RSS MiB");
	for (a = 0; a < nsizes; a++) {
		long n = argc > 2 ? atol(argv[2 + a]) : def[a];
		LIBBPF_OPTS(bpf_object_open_opts, opts);
		struct flow_bpf *skel;
		char *cmds[2][8] = {
			{ argv[1], "--pin-dir", dir, "flows", "-n", "20", NULL },
			{ argv[1], "--pin-dir", dir, "flows", "--json", "-n", "0", NULL },
		};
		const char *names[2] = { "flows -n 20", "flows --json -n 0" };
		int c;

		snprintf(dir, sizeof(dir), "/sys/fs/bpf/netprof-bench-%d", getpid());
		mkdir(dir, 0700);
		opts.pin_root_path = dir;
		skel = flow_bpf__open_opts(&opts);
		if (!skel)
			return 1;
		bpf_map__set_max_entries(skel->maps.flows, n + n / 8);
		bpf_map__set_max_entries(skel->maps.flows_ended, 1024);
		if (flow_bpf__load(skel) || fill(bpf_map__fd(skel->maps.flows), n, ncpu)) {
			fprintf(stderr, "cli_scale: cannot build a table of %ld flows\n", n);
			return 1;
		}
		for (c = 0; c < 2; c++) {
			double wall[RUNS];
			long rss = 0, kib;

			for (r = 0; r < RUNS; r++) {
				if (timed_run(cmds[c], &wall[r], &kib)) {
					fprintf(stderr, "cli_scale: netprof failed\n");
					return 1;
				}
				if (kib > rss)
					rss = kib;
			}
			qsort(wall, RUNS, sizeof(double), cmp_dbl);
			printf("%-9ld %-22s %12.1f %14.1f\n", n, names[c], wall[RUNS / 2] * 1e3, rss / 1024.0);
		}
		if (getenv("CLI_SCALE_KEEP")) {
			printf("kept %s\n", dir);
			return 0;
		}
		bpf_object__unpin_maps(skel->obj, NULL);
		flow_bpf__destroy(skel);
		rmdir(dir);
	}
	return 0;
}
