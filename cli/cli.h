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

int do_flows(int argc, char **argv);
int do_status(int argc, char **argv);

/* Interface names from the pinned ifaces map; NULL-safe lookups. */
struct iface_names;
struct iface_names *iface_names__load(const char *pin_dir);
const char *iface_names__name(const struct iface_names *n, uint32_t netns_ino, uint32_t ifindex,
			      const char **netns);
void iface_names__free(struct iface_names *n);

#endif
