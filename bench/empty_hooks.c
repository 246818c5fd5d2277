// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * empty_hooks OBJ CGROUP [NETNS DEV]...: attach every program of OBJ
 * (bench/empty_hooks.bpf.c) - sock_ops programs to the cgroup CGROUP, TC
 * programs as tcx links (ingress and egress) on each DEV of network
 * namespace NETNS (/var/run/netns/NETNS), XDP programs not at all, the
 * others where their section says - and hold them until SIGINT or SIGTERM. The benchmarks' baseline
 * for netprof's programs: the hooks' own cost.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <net/if.h>
#include <sched.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#define TCX_INGRESS	46	/* enum bpf_attach_type, 6.6; libbpf 1.1 has no tcx API */
#define TCX_EGRESS	47

/* prog as tcx links on each NETNS DEV pair of args: returns links made, -1 on error */
static int attach_tcx(struct bpf_program *prog, char **args, int n)
{
	int self = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC), made = 0;

	for (int i = 0; i + 1 < n; i += 2) {
		char path[300];
		int fd, ifindex;

		snprintf(path, sizeof(path), "/var/run/netns/%s", args[i]);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0 || setns(fd, CLONE_NEWNET)) {
			fprintf(stderr, "empty_hooks: netns %s: %s\n", args[i], strerror(errno));
			return -1;
		}
		close(fd);
		ifindex = if_nametoindex(args[i + 1]);
		if (!ifindex || bpf_link_create(bpf_program__fd(prog), ifindex, TCX_INGRESS, NULL) < 0 ||
		    bpf_link_create(bpf_program__fd(prog), ifindex, TCX_EGRESS, NULL) < 0) {
			fprintf(stderr, "empty_hooks: tcx on %s in %s: %s\n", args[i + 1], args[i],
				strerror(errno));
			return -1;
		}
		made += 2;	/* the link fds stay open: the links go with the process */
	}
	setns(self, CLONE_NEWNET);
	close(self);
	return made;
}

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

	if (argc < 3 || argc % 2 == 0) {
		fprintf(stderr, "usage: %s OBJ CGROUP [NETNS DEV]...\n", argv[0]);
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

		if (bpf_program__type(prog) == BPF_PROG_TYPE_XDP)
			continue;	/* ip link attaches those (bench/veth_throughput.sh) */
		if (bpf_program__type(prog) == BPF_PROG_TYPE_SCHED_CLS) {
			int made = attach_tcx(prog, argv + 3, argc - 3);

			if (made < 0)
				return 1;
			n += made;
			continue;
		}
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
