// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <stdlib.h>
#include "grow.h"

int array_grow(void *v, size_t *cap, size_t need, size_t elem, size_t first)
{
	void **arr = v, *nv;
	size_t c = *cap ? *cap : first;

	if (need <= *cap)
		return 0;
	while (c < need)
		c *= 2;
	nv = realloc(*arr, c * elem);
	if (!nv)
		return -ENOMEM;
	*arr = nv;
	*cap = c;
	return 0;
}
