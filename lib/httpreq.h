/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The request of netprofd's HTTP endpoint (daemon/metrics.c), parsed from
 * the bytes a client sent: a separate unit, so it is fuzzed on its own
 * (tests/fuzz/fuzz_httpreq.c).
 */
#ifndef NETPROF_HTTPREQ_H
#define NETPROF_HTTPREQ_H

#include <stddef.h>

enum http_verdict {
	HTTP_INCOMPLETE,	/* no end of the header yet: read on */
	HTTP_METRICS,		/* GET or HEAD /metrics (with any query) */
	HTTP_INDEX,		/* GET or HEAD / */
	HTTP_NOT_FOUND,		/* another path */
	HTTP_BAD,		/* not a request line, or a NUL byte in it */
	HTTP_METHOD,		/* a method other than GET and HEAD */
};

/*
 * What the len bytes of buf ask for; *head set for HEAD. Never reads past
 * len; buf need not be NUL-terminated.
 */
enum http_verdict http_request(const char *buf, size_t len, int *head);

#endif
