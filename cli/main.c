// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * netprof: the command line. Reads netprofd's pinned maps directly, so it
 * works whether or not the daemon runs, and never writes to them.
 * Commands come from one table: help and dispatch cannot disagree.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli.h"
#include "log.h"
#include "pins.h"

struct cli_globals g;

struct command {
	const char	*name;
	int		(*fn)(int argc, char **argv);
	const char	*help;
};

static const struct command commands[] = {
	{ "flows",  do_flows,  "list flows: who talks to whom, packets, bytes, rates" },
	{ "sockets", do_sockets, "TCP sockets: process, cgroup, RTT, retransmits, bytes" },
	{ "status", do_status, "daemon state, attachments, map fill, loss counters" },
	{ "map",    do_map,    "service map: which services call which, how much, how fast, failures" },
	{ "latency", do_latency, "where TCP connections' time goes: stack, socket queues, qdisc, network" },
	{ "profile", do_profile, "CPU profile: hot functions and stacks, by process and by connection" },
	{ "top",    do_top,    "per process and connection: CPU beside bytes/s, RTT, retransmits" },
	{ "capture", do_capture, "write packets to pcap/pcapng, filtered in the kernel, with their processes" },
	{ "replay", do_replay, "run the datapath over a pcap/pcapng file, print its flows" },
};

/* Does the command's argv ask for its --help? */
static int asks_help(int argc, char **argv)
{
	int i;

	for (i = 1; i < argc; i++)
		if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help"))
			return 1;
	return 0;
}

static void usage(FILE *f)
{
	unsigned int i;

	fprintf(f,
		"Usage: netprof [-j] [-v] [--pin-dir DIR] COMMAND [ARGS]\n"
		"eBPF network observability: reads the maps netprofd pins.\n\n"
		"Commands:\n");
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(f, "  %-9s %s\n", commands[i].name, commands[i].help);
	fprintf(f,
		"\nGlobal options:\n"
		"  -j, --json        machine-readable output (errors too)\n"
		"  -v, --verbose     more detail on stderr\n"
		"      --pin-dir DIR where netprofd pinned its maps (default $NETPROF_PIN_DIR or "
		"/sys/fs/bpf/netprof)\n"
		"  -h, --help        this text; 'netprof COMMAND --help' for a command\n");
}

/* Exact name, or a unique prefix of one ('fl' -> flows). */
static const struct command *find_command(const char *name)
{
	const struct command *match = NULL;
	unsigned int i;

	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		if (!strcmp(commands[i].name, name))
			return &commands[i];
		if (!strncmp(commands[i].name, name, strlen(name))) {
			if (match)
				return NULL;
			match = &commands[i];
		}
	}
	return match;
}

int main(int argc, char **argv)
{
	const struct command *cmd;
	int i;

	log_init("netprof", LOG_WARN);
	for (i = 1; i < argc && argv[i][0] == '-'; i++) {
		const char *a = argv[i];

		if (!strcmp(a, "-j") || !strcmp(a, "--json")) {
			g.json = 1;
		} else if (!strcmp(a, "-v") || !strcmp(a, "--verbose")) {
			g.verbose++;
		} else if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			usage(stdout);
			return 0;
		} else if (!strcmp(a, "--pin-dir")) {
			if (++i >= argc) {
				pr_err("--pin-dir needs a directory");
				return 2;
			}
			g.pin_dir = argv[i];
		} else if (!strncmp(a, "--pin-dir=", 10)) {
			g.pin_dir = a + 10;
		} else {
			pr_err("unknown option '%s': see 'netprof --help'", a);
			return 2;
		}
	}
	log_json_errors = g.json;
	log_init("netprof", LOG_WARN + g.verbose);
	g.pin_dir = pins_dir(g.pin_dir);
	if (i >= argc) {
		usage(stderr);
		return 2;
	}
	cmd = find_command(argv[i]);
	if (!cmd) {
		pr_err("unknown or ambiguous command '%s': see 'netprof --help'", argv[i]);
		return 2;
	}
	/*
	 * Pins of another layout (an older netprof, another tool) would be
	 * read as ours: refused before any command reads them (replay reads none).
	 */
	if (cmd->fn != do_replay && !asks_help(argc - i, argv + i) && pins_check_all(g.pin_dir))
		return 1;
	/* the command sees its own name as argv[0], like a program */
	return cmd->fn(argc - i, argv + i);
}
