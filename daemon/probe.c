// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * netprofd --probe: every BPF program netprof may use, tried alone on this
 * kernel, with the line that says why when it is refused. The kernel
 * matrix (tests/kernels.sh) records it per kernel; netprofd itself tries
 * programs the same way when a load fails (progprobe.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/libbpf.h>
#include "progprobe.h"
#include "netprofd.h"
#include "progload.h"

/*
 * One line per program: OBJECT PROGRAM VERDICT [WHY]. The verdict: loads;
 * optional (refused, and netprofd loads an alternative or names what its
 * capability loses: progload.h); unavailable (refused, and its capability
 * is unavailable here, the daemon runs without it); refused (netprofd
 * cannot run without it). Returns the number refused.
 */
int probe_print(FILE *f)
{
	struct prog_verdict *v;
	size_t i, j, n, sz;
	int refused = 0, err;

	for (i = 0; i < np_n_objects; i++) {
		const struct np_object *o = np_objects[i];
		const void *elf = o->elf(&sz);

		err = prog_try_all(elf, sz, o->owners, o->n_owners, &v, &n);
		if (err) {
			fprintf(f, "%-8s %-22s refused  cannot open the object: %s\n", o->name, "*",
				strerror(-err));
			refused++;
			continue;
		}
		for (j = 0; j < n; j++) {
			const char *verdict = !v[j].err ? "loads" :
					      object_opt(o, v[j].prog) ? "optional" :
					      o->needed ? "refused" : "unavailable";

			fprintf(f, "%-8s %-22s %-11s %s\n", o->name, v[j].prog, verdict, v[j].why);
			refused += v[j].err && !object_opt(o, v[j].prog) && o->needed;
		}
		free(v);
	}
	return refused;
}
