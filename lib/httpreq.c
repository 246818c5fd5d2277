// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <string.h>
#include "httpreq.h"

/* the next space-delimited word of [*p, end) into out (at most cap - 1 bytes); 0 if none fits */
static int word(const char **p, const char *end, char *out, size_t cap)
{
	const char *s = *p, *e;

	while (s < end && (*s == ' ' || *s == '\t'))
		s++;
	for (e = s; e < end && *e != ' ' && *e != '\t' && *e != '\r' && *e != '\n'; e++)
		;
	if (e == s || (size_t)(e - s) >= cap)
		return 0;
	memcpy(out, s, e - s);
	out[e - s] = 0;
	*p = e;
	return 1;
}

enum http_verdict http_request(const char *buf, size_t len, int *head)
{
	const char *p = buf, *eol;
	char method[16], path[256];

	*head = 0;
	if (!memmem(buf, len, "\r\n\r\n", 4) && !memmem(buf, len, "\n\n", 2))
		return HTTP_INCOMPLETE;
	/* bytes, not a C string: a NUL anywhere is a bad request */
	if (memchr(buf, 0, len))
		return HTTP_BAD;
	eol = memchr(buf, '\n', len);
	if (!word(&p, eol, method, sizeof(method)) || !word(&p, eol, path, sizeof(path)))
		return HTTP_BAD;
	if (strcmp(method, "GET") && strcmp(method, "HEAD"))
		return HTTP_METHOD;
	*head = !strcmp(method, "HEAD");
	if (!strcmp(path, "/metrics") || !strncmp(path, "/metrics?", 9))
		return HTTP_METRICS;
	return strcmp(path, "/") ? HTTP_NOT_FOUND : HTTP_INDEX;
}
