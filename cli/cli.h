/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
#ifndef NETPROF_CLI_H
#define NETPROF_CLI_H

#include <stdint.h>

/* Global options, set by main() before a command runs. */
struct cli_globals {
	int		json;
	int		verbose;
	const char	*pin_dir;
};

extern struct cli_globals g;

int do_capture(int argc, char **argv);
int do_flows(int argc, char **argv);
int do_latency(int argc, char **argv);
int do_map(int argc, char **argv);
int do_profile(int argc, char **argv);
int do_replay(int argc, char **argv);
int do_sockets(int argc, char **argv);
int do_status(int argc, char **argv);
int do_top(int argc, char **argv);

/* The profiler's stats from the pins (cli/profile.c); a one-line error if it never ran. */
struct prof_daemon_stats;
int profiler_state(struct prof_daemon_stats *st);

/* Interface names from the pinned ifaces map; NULL-safe lookups. */
struct iface_names;
struct iface_names *iface_names__load(const char *pin_dir);
const char *iface_names__name(const struct iface_names *n, uint32_t netns_ino, uint32_t ifindex,
			      const char **netns);
void iface_names__free(struct iface_names *n);

struct iface_names;
struct flow_filter;

enum sort_key { SORT_BYTES, SORT_PACKETS, SORT_RATE, SORT_AGE };

struct flows_opts {
	enum sort_key		sort;
	long			limit;		/* -n; 0 = all */
	uint64_t		watch_ns;	/* --watch; 0 = once */
	int			live_only;
	int			wide;
	const char		*ifname;
	const char		*netns;
	struct flow_filter	*filter;
	int			optind;		/* first argument that is not an option */
};

int flows_parse_args(int argc, char **argv, struct flows_opts *o, const char *usage,
		     int allow_live, int positional);
int flows_show_once(const struct flows_opts *o, struct iface_names *names, int flows_fd,
		    int ended_fd);

#endif
