// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * netprofd --probe: every BPF program netprof may use, tried alone on this
 * kernel, with the line that says why when it is refused. The kernel
 * matrix (tests/kernels.sh) records it per kernel; netprofd itself tries
 * programs the same way when a load fails (progprobe.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <bpf/libbpf.h>
#include "flow.skel.h"
#include "sockets.skel.h"
#include "latency.skel.h"
#include "profile.skel.h"
#include "progprobe.h"
#include "netprofd.h"

struct np_object {
	const char *name;
	const void *(*elf)(size_t *sz);
};

static const struct np_object objects[] = {
	{ "flow", flow_bpf__elf_bytes },
	{ "sockets", sockets_bpf__elf_bytes },
	{ "latency", latency_bpf__elf_bytes },
	{ "profile", profile_bpf__elf_bytes },
};

/* One line per program: OBJECT PROGRAM loads|refused [WHY]; 0 if every one loads. */
int probe_print(FILE *f)
{
	struct prog_verdict *v;
	size_t i, j, n, sz;
	int refused = 0, err;

	for (i = 0; i < sizeof(objects) / sizeof(objects[0]); i++) {
		const void *elf = objects[i].elf(&sz);

		err = prog_try_all(elf, sz, &v, &n);
		if (err) {
			fprintf(f, "%-8s %-22s refused  cannot open the object: %d\n", objects[i].name, "*", err);
			refused++;
			continue;
		}
		for (j = 0; j < n; j++) {
			fprintf(f, "%-8s %-22s %-8s %s\n", objects[i].name, v[j].prog,
				v[j].err ? "refused" : "loads", v[j].why);
			refused += !!v[j].err;
		}
		free(v);
	}
	return refused;
}
