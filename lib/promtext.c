// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include "promtext.h"

void prom_label_value(FILE *f, const char *s)
{
	for (; *s; s++) {
		if (*s == '\\' || *s == '"')
			fputc('\\', f);
		if (*s == '\n')
			fputs("\\n", f);
		else
			fputc(*s, f);
	}
}

void prom_family(FILE *f, const char *name, const char *type, const char *help)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

void prom_write(FILE *f, const char *name, const char *type, const char *help, double v)
{
	prom_family(f, name, type, help);
	fprintf(f, "%s %.17g\n", name, v);
}
