/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * netprofd's command line (options.c): the daemon's own options around
 * the modules' (module.h), in one getopt_long table and one --help.
 */
#ifndef NETPROF_OPTIONS_H
#define NETPROF_OPTIONS_H

#include <stdio.h>

struct np_daemon;
struct np_option;

struct np_cmdline {
	const char *intro;		/* --help's first lines */
	const struct np_option *head;	/* the daemon's, before the modules' */
	const struct np_option *tail;	/* and after them */
	const char *outro;		/* --help's last lines */
};

/*
 * Parse argv into d through every option's set. 0; 1: an option was the
 * whole job (--help); -EINVAL: a usage error, said in one line.
 */
int options_parse(struct np_daemon *d, const struct np_cmdline *c, int argc, char **argv);

void options_usage(FILE *f, const struct np_cmdline *c);

#endif
