/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* cgroup v2: where it is mounted, and ids <-> paths. */
#ifndef NETPROF_CGROUP_H
#define NETPROF_CGROUP_H

#include <stddef.h>
#include <stdint.h>

/* The cgroup2 mount point from /proc/self/mountinfo. 0 or -ENOENT. */
int cgroup2_mount(char *buf, size_t len);
/*
 * An absolute directory for PATH: absolute paths are taken as they are,
 * others are relative to the cgroup2 mount. 0, -ENOENT (no such cgroup),
 * -ENOTDIR/-EINVAL (not in cgroup2), -ENODEV (cgroup2 not mounted).
 */
int cgroup_resolve(const char *path, char *out, size_t len);
/* The cgroup id of a directory (its inode). 0 on error. */
uint64_t cgroup_id_of(const char *dir);
/* Depth below the cgroup2 root (the root is 0). */
unsigned int cgroup_level(const char *dir);
/* Path below the mount ("/" for the root) of a cgroup id; -ENOENT if gone. */
int cgroup_path_of(uint64_t id, char *out, size_t len);

/* 1 if cgroup path is prefix or below it ("/a" holds "/a/b", not "/ab"). */
int cgroup_path_under(const char *path, const char *prefix);

#endif
