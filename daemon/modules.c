// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * netprofd's modules (module.h). The flow core loads first and stops last;
 * the early ones (the exporters) start before anything is attached, then
 * the others in this order: the flow core, sockets before latency, whose
 * programs share the socket table. They stop in reverse.
 */
#include "module.h"
#include "progload.h"

const struct np_module *const np_modules[] = {
	&flows_module,
	&metrics_module,
	&ipfix_module,
	&sockets_module,
	&latency_module,
	&profile_module,
};

const unsigned int np_n_modules = sizeof(np_modules) / sizeof(np_modules[0]);

/* netprofd's BPF objects, for --probe and --remove (progload.h) */
const struct np_object *const np_objects[] = {
	&flow_object, &sockets_object, &latency_object, &profile_object,
};

const unsigned int np_n_objects = sizeof(np_objects) / sizeof(np_objects[0]);
