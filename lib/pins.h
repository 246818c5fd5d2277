/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Where netprof's pins live, and opening them with errors that say what to do. */
#ifndef NETPROF_PINS_H
#define NETPROF_PINS_H

#include <stddef.h>
#include <sys/types.h>

/*
 * Files that go with a pin directory (the profiler's journal) live under
 * NETPROF_STATE_ROOT followed by the pin directory's path:
 * /run/netprof/sys/fs/bpf/netprof/profile.log for the default pins.
 */
#define NETPROF_STATE_ROOT	"/run/netprof"

/* --pin-dir, else $NETPROF_PIN_DIR, else NETPROF_PIN_DIR. */
const char *pins_dir(const char *override);
/* 0 if path is on a bpffs; -ENOENT if it does not exist, -ENOTDIR/-EINVAL if not bpffs. */
int pins_is_bpffs(const char *path);
/* Mount bpffs on /sys/fs/bpf when it is not there. 0 or -errno. */
int pins_mount_bpffs(void);
/*
 * 0 if the map fd (pinned as name) has the layout netprof's programs give
 * it, or name is not one of netprof's pins; else -EINVAL and why.
 */
int pins_check_layout(int fd, const char *name, char *why, size_t len);
/* Every pin of the table that exists in dir has its layout: 0, or -EPROTO (said). */
int pins_check_all(const char *dir);
/*
 * bpf_obj_get(dir/name) with a one-line error naming the fix; fd or
 * -errno. A pin of another layout is -EPROTO, said even when quiet.
 */
int pins_open_map(const char *dir, const char *name, int quiet);
/* 1 if pid is a live netprofd (the pid the daemon map records may be stale). */
int netprofd_alive(unsigned int pid);
/* snprintf(dir/name) that reports truncation as -ENAMETOOLONG. */
int pins_path(char *buf, size_t len, const char *dir, const char *name);

/* NETPROF_STATE_ROOT + pin_dir [+ "/" name]; 0 or -ENAMETOOLONG. */
int pins_state_path(char *buf, size_t len, const char *pin_dir, const char *name);
/* mkdir -p; 0 or -errno. */
int mkdir_p(const char *path, mode_t mode);

#endif
