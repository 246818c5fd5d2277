// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * netprof replay FILE: run every frame of a capture through the same
 * xdp_ingress program netprofd attaches, with BPF_PROG_TEST_RUN, into a
 * private flow table, and print it as `netprof flows` would.
 *
 * Captures that are not Ethernet are rewrapped as Ethernet by
 * lib/pcapfile.c for the parser; the bytes counted are those the capture
 * records for each frame, as tshark counts them (frame.len: with the
 * capture's own link header, and whole when the snaplen cut the frame).
 */
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "flow.skel.h"
#include "cli.h"
#include "filter.h"
#include "log.h"
#include "pcapfile.h"
#include "stats.h"
#include "progprobe.h"

static const char replay_usage[] =
"Usage: netprof replay [OPTIONS] FILE [FILTER]\n"
"Run netprof's datapath over every frame of a pcap or pcapng file and print\n"
"the flows it records (Ethernet, Linux cooked SLL/SLL2, BSD loopback, raw IP).\n"
"\n"
"  -s, --sort KEY   bytes|packets|rate|age (default bytes)\n"
"  -n, --limit N    show the top N flows\n"
"  -j, --json       JSON, as `netprof flows --json`\n"
"  -v               (global) print the datapath counters on stderr\n"
"  -h, --help       this text\n";

/*
 * Frames go through xdp_ingress in bursts of a NAPI poll's default budget,
 * the flow cache (maps/flow.h, struct flow_cache) folded after each, as
 * its timer would, so a replay takes the cache's paths as traffic does.
 */
#define REPLAY_BURST	64

/*
 * The flow object with only what a replay runs: xdp_ingress and the
 * cache's flush; compat: xdp_ingress_compat alone, for kernels that refuse
 * those (5.10, docs/kernels.md; it keeps no cache). A private table:
 * replay never touches netprofd's pins. NULL with errno set.
 */
static struct flow_bpf *replay_open(int compat)
{
	struct flow_bpf *skel = flow_bpf__open();
	struct bpf_program *p;
	struct bpf_map *m;
	int err;

	if (!skel)
		return NULL;
	bpf_object__for_each_program(p, skel->obj) {
		const char *name = bpf_program__name(p);

		bpf_program__set_autoload(p, compat ? !strcmp(name, "xdp_ingress_compat") :
					  !strcmp(name, "xdp_ingress") ||
					  !strcmp(name, "flow_cache_flush"));
	}
	bpf_object__for_each_map(m, skel->obj)
		bpf_map__set_pin_path(m, NULL);
	bpf_map__set_max_entries(skel->maps.flows, 262144);
	bpf_map__set_max_entries(skel->maps.flows_ended, 1);
	/* test runs of XDP are preemptible: the cache's timer stays off */
	skel->rodata->cache_timer = 0;
	skel->rodata->replay = 1;	/* count replay_wire_len, set per frame */
	if (!compat)
		prog_capture_begin();	/* a refusal here is tried again below */
	err = flow_bpf__load(skel);
	if (!compat)
		prog_capture_end();
	if (err) {
		flow_bpf__destroy(skel);
		errno = -err;
		return NULL;
	}
	return skel;
}

static int fold_cache(struct flow_bpf *skel)
{
	static const __u8 frame[14];	/* any frame: XDP test runs need one */
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = frame, .data_size_in = sizeof(frame));

	return bpf_prog_test_run_opts(bpf_program__fd(skel->progs.flow_cache_flush), &o);
}

int do_replay(int argc, char **argv)
{
	static uint8_t frame[PCAPFILE_SNAP_MAX + 64];
	uint64_t frames = 0, failed = 0, too_long = 0, stats[STAT_MAX];
	struct flow_bpf *skel = NULL;
	struct pcapfile *pf = NULL;
	cpu_set_t cpu;
	struct flows_opts o;
	const char *file;
	struct bpf_program *prog;
	char err_msg[512];
	int err, len, ret = 1, compat = 0, no_ctx = 0, damaged;
	uint32_t wire_len;
	unsigned int i;

	err = flows_parse_args(argc, argv, &o, replay_usage, 0, 1);
	if (err)
		return err == 1 ? 0 : err == 2 ? 2 : 1;
	if (o.optind >= argc) {
		pr_err("replay needs a capture file: netprof replay FILE [FILTER]");
		goto out;
	}
	file = argv[o.optind];
	pf = pcapfile__open(file, err_msg, sizeof(err_msg));
	if (!pf) {
		pr_err("%s", err_msg);
		goto out;
	}

	skel = replay_open(0);
	if (!skel && (errno == EPERM || errno == EACCES)) {
		pr_err("cannot load the flow BPF programs: %s; replay needs root (CAP_BPF)",
		       strerror(errno));
		goto out;
	}
	if (!skel) {
		compat = 1;
		skel = replay_open(1);
		if (!skel) {
			pr_err("cannot load the flow BPF programs: %s (netprofd --probe says what this kernel refuses)",
			       strerror(errno));
			goto out;
		}
		pr_info("replay: this kernel refuses xdp_ingress: frames go through xdp_ingress_compat (no flow cache)\n");
	}
	prog = compat ? skel->progs.xdp_ingress_compat : skel->progs.xdp_ingress;

	/* the flow cache is per CPU: every run on this one (see fold_cache) */
	CPU_ZERO(&cpu);
	CPU_SET(sched_getcpu(), &cpu);
	if (sched_setaffinity(0, sizeof(cpu), &cpu)) {
		pr_err("cannot stay on one CPU for the replay: %s", strerror(errno));
		goto out;
	}
	while ((len = pcapfile__next(pf, frame, &wire_len, err_msg, sizeof(err_msg))) > 0) {
		struct xdp_md ctx = { .data_end = len };
		LIBBPF_OPTS(bpf_test_run_opts, t, .data_in = frame, .data_size_in = len,
			    .ctx_in = &ctx, .ctx_size_in = sizeof(ctx), .repeat = 1);

		frames++;
		skel->bss->replay_wire_len = wire_len;
		if (no_ctx) {
			t.ctx_in = NULL;
			t.ctx_size_in = 0;
		}
		err = bpf_prog_test_run_opts(bpf_program__fd(prog), &t);
		if (err && errno == EINVAL && !no_ctx) {
			/* an XDP context in a test run is 5.12's: before it, none */
			no_ctx = 1;
			t.ctx_in = NULL;
			t.ctx_size_in = 0;
			err = bpf_prog_test_run_opts(bpf_program__fd(prog), &t);
		}
		if (err && (errno == EINVAL || errno == EMSGSIZE) && len > 3000)
			too_long++;	/* past one page (5.10: EMSGSIZE): multi-buffer test runs are 5.18's */
		else if (err)
			failed++;
		if (!compat && frames % REPLAY_BURST == 0 && fold_cache(skel))
			failed++;
	}
	if (!compat && fold_cache(skel))
		failed++;
	/* damage: what was read before it is shown (as tcpdump and tshark do), then said */
	damaged = len < 0;
	if (too_long) {
		pr_err("%s: %llu of %llu frames are longer than this kernel's XDP test runs take (about 3.5 KB before 5.18) and were not counted: replay this capture on a newer kernel",
		       file, (unsigned long long)too_long, (unsigned long long)frames);
		goto out;
	}
	if (failed) {
		pr_err("%s: the datapath could not run on %llu of %llu frames", file,
		       (unsigned long long)failed, (unsigned long long)frames);
		goto out;
	}
	if (g.verbose && np_stats_read(bpf_map__fd(skel->maps.stats), stats) == 0) {
		fprintf(stderr, "replay: %llu frames\n", (unsigned long long)frames);
		for (i = 0; i < STAT_MAX; i++)
			fprintf(stderr, "  %-28s %llu\n", np_stat_name(i), (unsigned long long)stats[i]);
	}
	ret = flows_show_once(&o, NULL, bpf_map__fd(skel->maps.flows),
			      bpf_map__fd(skel->maps.flows_ended)) ? 1 : 0;
	if (damaged) {
		fflush(stdout);
		/* on stderr even with --json: stdout holds one document, the flows */
		log_json_errors = 0;
		pr_err("%s: %s after %llu frames: the flows above are those frames'; the rest of the file is unreadable",
		       file, err_msg, (unsigned long long)frames);
		ret = 1;
	}
out:
	pcapfile__close(pf);
	flow_bpf__destroy(skel);
	flow_filter__free(o.filter);
	return ret;
}
