// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * netprofd's modules, in the order they start (module.h), early ones
 * first: the exporters, before anything is attached; then sockets before
 * latency, whose programs share the socket table. They stop in reverse.
 */
#include "module.h"

const struct np_module *const np_modules[] = {
	&metrics_module,
	&ipfix_module,
	&sockets_module,
	&latency_module,
	&profile_module,
};

const unsigned int np_n_modules = sizeof(np_modules) / sizeof(np_modules[0]);
