// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <fcntl.h>
#include <sys/stat.h>
#include "flow.h"
#include "format.h"
#include "profjournal.h"

/* "10.0.0.1:80" or "[::1]:80" */
static int parse_endpoint(char *s, uint8_t addr[16], uint16_t *port)
{
	char *colon = strrchr(s, ':'), *a = s;
	unsigned long p;
	int err;

	if (!colon)
		return -EINVAL;
	*colon = '\0';
	if (*a == '[') {
		a++;
		if (colon[-1] == ']')
			colon[-1] = '\0';
	}
	err = parse_addr(a, addr);
	p = strtoul(colon + 1, NULL, 10);
	/* put the text back: callers print it */
	if (s[0] == '[')
		colon[-1] = ']';
	*colon = ':';
	*port = p;
	return err;
}

static int parse_sample(char *line, struct prof_sample *s)
{
	char *f[14], *save = NULL, *t;
	int n = 0;

	for (t = strtok_r(line, "\t\n", &save); t && n < 14; t = strtok_r(NULL, "\t\n", &save))
		f[n++] = t;
	if (n != 14 || strcmp(f[0], "S"))
		return -EINVAL;
	memset(s, 0, sizeof(*s));
	s->time = strtoull(f[1], NULL, 10);
	s->count = strtoull(f[2], NULL, 10);
	s->tgid = strtoul(f[3], NULL, 10);
	s->tid = strtoul(f[4], NULL, 10);
	s->cgroup_id = strtoull(f[5], NULL, 10);
	s->comm = f[6];
	s->cookie = strtoull(f[7], NULL, 10);
	s->local = f[9];
	s->remote = f[10];
	s->peer = f[12];
	s->stack = f[13];
	if (strcmp(f[8], "-") && strcmp(f[8], "?")) {
		s->proto = !strcmp(f[8], "tcp") ? 6 : 17;
		s->netns_ino = strtoul(f[11], NULL, 10);
		s->has_conn = !parse_endpoint(f[9], s->laddr, &s->lport) &&
			      !parse_endpoint(f[10], s->raddr, &s->rport);
		s->family = addr_is_v4(s->laddr) ? FLOW_FAMILY_IPV4 : FLOW_FAMILY_IPV6;
	}
	return s->count ? 0 : -EINVAL;
}

static int read_one(const char *path, uint64_t from, uint64_t to, prof_sample_fn fn, void *ctx,
		    struct prof_journal_info *info)
{
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	int err = 0;
	FILE *f = fopen(path, "re");

	if (!f)
		return -errno;
	while ((len = getline(&line, &cap, f)) > 0) {
		struct prof_sample s;
		uint64_t t;

		if (line[len - 1] != '\n')
			break;		/* being written: the next read has it */
		if (line[0] == 'D' && line[1] == '\t') {
			t = strtoull(line + 2, NULL, 10);
			info->last_drain_ns = t;
			if (t > from && t <= to)
				info->drains++;
			continue;
		}
		if (parse_sample(line, &s)) {
			info->bad_lines++;
			continue;
		}
		if (s.time <= from || s.time > to)
			continue;
		info->samples += s.count;
		err = fn ? fn(ctx, &s) : 0;
		if (err)
			break;
	}
	free(line);
	fclose(f);
	return err;
}

int prof_journal_read(const char *path, uint64_t from_ns, uint64_t to_ns, prof_sample_fn fn,
		      void *ctx, struct prof_journal_info *info)
{
	char old[4096];
	int err, found = 0;

	memset(info, 0, sizeof(*info));
	snprintf(old, sizeof(old), "%s.1", path);
	err = read_one(old, from_ns, to_ns, fn, ctx, info);
	if (err && err != -ENOENT)
		return err;
	found |= !err;
	err = read_one(path, from_ns, to_ns, fn, ctx, info);
	if (err && err != -ENOENT)
		return err;
	found |= !err;
	return found ? 0 : -ENOENT;
}

int prof_journal_last_drain(const char *path, uint64_t *drain_ns)
{
	char buf[65536 + 1], *p;
	struct stat st;
	ssize_t n;
	off_t off;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	*drain_ns = 0;
	if (fd < 0)
		return -errno;
	/* a drain writes its D line last, so it is within the tail */
	off = !fstat(fd, &st) && st.st_size > (off_t)(sizeof(buf) - 1) ? st.st_size - (off_t)(sizeof(buf) - 1) : 0;
	n = pread(fd, buf, sizeof(buf) - 1, off);
	close(fd);
	if (n < 0)
		return -errno;
	buf[n] = '\0';
	for (p = buf; (p = strstr(p, "\nD\t")); p += 3)
		*drain_ns = strtoull(p + 3, NULL, 10);
	if (off == 0 && !strncmp(buf, "D\t", 2) && !*drain_ns)
		*drain_ns = strtoull(buf + 2, NULL, 10);
	return 0;
}
