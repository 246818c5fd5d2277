// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <linux/magic.h>
#include "cgroup.h"

int cgroup2_mount(char *buf, size_t len)
{
	char line[4096], mnt[2048], fstype[64];
	FILE *f = fopen("/proc/self/mountinfo", "r");
	int found = -ENOENT;

	if (!f)
		return -errno;
	/* 36 35 0:30 / /sys/fs/cgroup/unified rw,... shared:9 - cgroup2 cgroup2 rw */
	while (fgets(line, sizeof(line), f)) {
		char *dash = strstr(line, " - ");

		if (!dash || sscanf(dash, " - %63s", fstype) != 1 || strcmp(fstype, "cgroup2"))
			continue;
		if (sscanf(line, "%*s %*s %*s %*s %2047s", mnt) == 1) {
			snprintf(buf, len, "%s", mnt);
			found = 0;
			break;
		}
	}
	fclose(f);
	return found;
}

int cgroup_resolve(const char *path, char *out, size_t len)
{
	char mnt[2048];
	struct statfs sfs;
	struct stat st;
	int n;

	if (cgroup2_mount(mnt, sizeof(mnt)))
		return -ENODEV;
	if (!path || !*path)
		n = snprintf(out, len, "%s", mnt);
	else if (path[0] == '/' && !strncmp(path, mnt, strlen(mnt)))
		n = snprintf(out, len, "%s", path);
	else
		n = snprintf(out, len, "%s/%s", mnt, path[0] == '/' ? path + 1 : path);
	if (n < 0 || (size_t)n >= len)
		return -ENAMETOOLONG;
	if (stat(out, &st))
		return -errno;
	if (!S_ISDIR(st.st_mode))
		return -ENOTDIR;
	if (statfs(out, &sfs) || sfs.f_type != CGROUP2_SUPER_MAGIC)
		return -EINVAL;
	return 0;
}

uint64_t cgroup_id_of(const char *dir)
{
	struct stat st;

	return stat(dir, &st) ? 0 : st.st_ino;
}

static uint64_t want_id;
static char *found_path;
static size_t found_len, mnt_len;

static int visit(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
	if (flag != FTW_D || st->st_ino != want_id)
		return 0;
	snprintf(found_path, found_len, "%s", p[mnt_len] ? p + mnt_len : "/");
	return 1;	/* stop */
}

int cgroup_path_of(uint64_t id, char *out, size_t len)
{
	char mnt[2048];

	if (cgroup2_mount(mnt, sizeof(mnt)))
		return -ENODEV;
	want_id = id;
	found_path = out;
	found_len = len;
	mnt_len = strlen(mnt);
	return nftw(mnt, visit, 32, FTW_PHYS | FTW_MOUNT) == 1 ? 0 : -ENOENT;
}

unsigned int cgroup_level(const char *dir)
{
	char mnt[2048];
	const char *p;
	unsigned int level = 0;

	if (cgroup2_mount(mnt, sizeof(mnt)) || strncmp(dir, mnt, strlen(mnt)))
		return 0;
	for (p = dir + strlen(mnt); *p; p++)
		if (*p == '/' && p[1] && p[1] != '/')
			level++;
	return level;
}

int cgroup_path_under(const char *path, const char *prefix)
{
	size_t n = strlen(prefix);

	if (!path || strncmp(path, prefix, n))
		return 0;
	return !path[n] || path[n] == '/' || (n && prefix[n - 1] == '/');
}
