// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* netprofd's HTTP request parser (lib/httpreq.c) on any bytes a client sends */
#include "fuzz.h"
#include "httpreq.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int head;

	if (size > 4095)	/* netprofd reads at most REQ_MAX - 1 bytes */
		return 0;
	http_request((const char *)data, size, &head);
	return 0;
}
