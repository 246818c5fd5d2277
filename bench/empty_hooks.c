// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * empty_hooks OBJ CGROUP: attach every program of OBJ (bench/empty_hooks.bpf.c)
 * - sock_ops programs to the cgroup CGROUP, the others where their section
 * says - and hold them until SIGINT or SIGTERM. The benchmarks' baseline for
 * netprof's socket and latency programs: the hooks' own cost.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <bpf/libbpf.h>

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	stop = 1;
}

int main(int argc, char **argv)
{
	struct bpf_object *obj;
	struct bpf_program *prog;
	int cg, n = 0;

	if (argc != 3) {
		fprintf(stderr, "usage: %s OBJ CGROUP\n", argv[0]);
		return 2;
	}
	cg = open(argv[2], O_RDONLY | O_DIRECTORY);
	if (cg < 0) {
		fprintf(stderr, "empty_hooks: cannot open cgroup %s: %s\n", argv[2], strerror(errno));
		return 1;
	}
	obj = bpf_object__open_file(argv[1], NULL);
	if (!obj || bpf_object__load(obj)) {
		fprintf(stderr, "empty_hooks: cannot load %s\n", argv[1]);
		return 1;
	}
	bpf_object__for_each_program(prog, obj) {
		struct bpf_link *link;

		if (bpf_program__type(prog) == BPF_PROG_TYPE_SOCK_OPS)
			link = bpf_program__attach_cgroup(prog, cg);
		else
			link = bpf_program__attach(prog);
		if (!link) {
			fprintf(stderr, "empty_hooks: cannot attach %s: %s\n",
				bpf_program__name(prog), strerror(errno));
			return 1;
		}
		n++;	/* the links go with the process */
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	printf("empty_hooks: %d programs attached\n", n);
	fflush(stdout);
	while (!stop)
		pause();
	return 0;
}
