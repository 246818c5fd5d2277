/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* The Prometheus text exposition format: what every exporter of netprofd writes with. */
#ifndef NETPROF_PROMTEXT_H
#define NETPROF_PROMTEXT_H

#include <stdio.h>

/* # HELP and # TYPE of a metric family */
void prom_family(FILE *f, const char *name, const char *type, const char *help);
/* one sample with its # HELP and # TYPE lines */
void prom_write(FILE *f, const char *name, const char *type, const char *help, double v);
/* a label value, escaped (\, ", newline) */
void prom_label_value(FILE *f, const char *s);

#endif
