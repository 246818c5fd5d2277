/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Writing pprof profiles (github.com/google/pprof, proto/profile.proto):
 * gzipped protobuf, encoded here (no protobuf library). Sample types
 * samples/count and cpu/nanoseconds; one function and one location per
 * distinct frame name (netprof symbolizes in the daemon, so there are no
 * addresses to give); labels per sample.
 */
#ifndef NETPROF_PPROF_H
#define NETPROF_PPROF_H

#include <stddef.h>
#include <stdint.h>

struct pprof;

struct pprof_label {
	const char	*key;
	const char	*str;	/* NULL: a number */
	int64_t		num;
	const char	*unit;	/* for numbers, NULL: none */
};

struct pprof *pprof__new(uint64_t period_ns, uint64_t time_ns, uint64_t duration_ns);
/* One stack, leaf first, seen count times. 0 or -ENOMEM. */
int pprof__add(struct pprof *p, const char *const *frames, size_t nframes, uint64_t count,
	       const struct pprof_label *labels, size_t nlabels);
/* Write it gzipped to path. 0 or -errno. */
int pprof__write(struct pprof *p, const char *path);
void pprof__free(struct pprof *p);

#endif
