/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * A flame graph SVG from folded stacks, written natively (no Perl): one
 * box per frame, root at the bottom, children sorted by name as
 * flamegraph.pl does; hover shows the frame and its share (a <title> and
 * the details line), a click zooms into a frame, "Reset zoom" undoes it.
 */
#ifndef NETPROF_FLAMEGRAPH_H
#define NETPROF_FLAMEGRAPH_H

#include <stdint.h>
#include <stdio.h>

struct flame;
struct flame *flame__new(void);
/* stack: "root;child;leaf" */
int flame__add(struct flame *fl, const char *stack, uint64_t count);
int flame__write_svg(struct flame *fl, FILE *f, const char *title, const char *unit);
void flame__free(struct flame *fl);

#endif
