// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * What netprofd runs on this kernel (maps/caps.h): each module sets its
 * capability's state as it starts; the table is pinned for `netprof
 * status` and served by the metrics endpoint.
 */
#include <stdarg.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include "captab.h"
#include "log.h"
#include "pins.h"
#include "netprofd.h"

void cap_set(struct np_daemon *d, int cap, int state, const char *why)
{
	if (cap < 0 || cap >= NP_CAP_MAX)
		return;
	d->caps[cap].state = state;
	snprintf(d->caps[cap].why, sizeof(d->caps[cap].why), "%s", why ? why : "");
	caps_write(d);
}

static char *said;	/* lines for cap_say_now */

void cap_say_later(const char *fmt, ...)
{
	size_t old = said ? strlen(said) : 0;
	char *line = NULL, *more;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&line, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	more = realloc(said, old + n + 1);
	if (more) {
		memcpy(more + old, line, n + 1);
		said = more;
	}
	free(line);
}

void cap_say_now(void)
{
	char *line, *next;

	for (line = said; line && *line; line = next) {
		next = strchr(line, '\n');
		next = next ? next + 1 : line + strlen(line);
		if (strstr(line, ": degraded") == strchr(line, ':') ||
		    strstr(line, ": unavailable") == strchr(line, ':'))
			pr_warn("%.*s", (int)(next - line), line);
		else
			pr_info("%.*s", (int)(next - line), line);
	}
	free(said);
	said = NULL;
}

/* Add a note to a capability's why, its state unchanged. */
void cap_note(struct np_daemon *d, int cap, const char *note)
{
	char *w;
	size_t n;

	if (cap < 0 || cap >= NP_CAP_MAX)
		return;
	w = d->caps[cap].why;
	n = strlen(w);
	if (n + 3 < sizeof(d->caps[cap].why))
		snprintf(w + n, sizeof(d->caps[cap].why) - n, "%s%s", n ? "; " : "", note);
	caps_write(d);
}

/* The pinned table: reused, or made anew when missing or of another layout. */
int caps_open(struct np_daemon *d)
{
	char path[512];
	int fd, err;

	err = pins_path(path, sizeof(path), d->pin_dir, NP_CAPS_MAP);
	if (err)
		return err;
	fd = bpf_obj_get(path);
	if (fd >= 0 && !caps_map_ok(fd)) {
		pr_warn("%s is not netprof's capability table: replacing it\n", path);
		close(fd);
		unlink(path);
		fd = -1;
	}
	if (fd < 0) {
		fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, NP_CAPS_MAP, sizeof(__u32),
				    sizeof(struct np_cap_info), NP_CAP_MAX, NULL);
		if (fd < 0)
			return -errno;
		if (bpf_obj_pin(fd, path)) {
			err = -errno;
			close(fd);
			return err;
		}
	}
	d->caps_fd = fd;
	caps_write(d);
	return 0;
}

void caps_write(struct np_daemon *d)
{
	__u32 i;

	if (d->caps_fd < 0)
		return;
	for (i = 0; i < NP_CAP_MAX; i++)
		if (bpf_map_update_elem(d->caps_fd, &i, &d->caps[i], BPF_ANY))
			pr_warn("cannot update the capability table: %s\n", strerror(errno));
}
