// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <linux/magic.h>
#include <bpf/bpf.h>
#include "flow.h"
#include "log.h"
#include "pins.h"

const char *pins_dir(const char *override)
{
	const char *env = getenv("NETPROF_PIN_DIR");

	if (override && *override)
		return override;
	if (env && *env)
		return env;
	return NETPROF_PIN_DIR;
}

int pins_path(char *buf, size_t len, const char *dir, const char *name)
{
	int n = snprintf(buf, len, "%s/%s", dir, name);

	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

int pins_is_bpffs(const char *path)
{
	struct statfs st;

	if (statfs(path, &st))
		return -errno;
	return st.f_type == BPF_FS_MAGIC ? 0 : -EINVAL;
}

int pins_mount_bpffs(void)
{
	if (pins_is_bpffs("/sys/fs/bpf") == 0)
		return 0;
	mkdir("/sys/fs/bpf", 0700);
	if (mount("bpf", "/sys/fs/bpf", "bpf", 0, "mode=0700"))
		return -errno;
	return 0;
}

int pins_open_map(const char *dir, const char *name, int quiet)
{
	char path[512];
	int fd, err;

	err = pins_path(path, sizeof(path), dir, name);
	if (err)
		return err;
	fd = bpf_obj_get(path);
	if (fd >= 0)
		return fd;
	err = -errno;
	if (quiet)
		return err;
	if (err == -ENOENT) {
		if (pins_is_bpffs("/sys/fs/bpf"))
			pr_err("bpffs is not mounted at /sys/fs/bpf: start netprofd (it mounts it) or run 'mount -t bpf bpf /sys/fs/bpf'");
		else
			pr_err("no netprof maps pinned at %s: start netprofd first (or pass --pin-dir DIR)", dir);
	} else if (err == -EPERM || err == -EACCES) {
		pr_err("cannot open %s: %s; run as root (reading pinned BPF maps needs CAP_BPF or root)",
		       path, strerror(-err));
	} else {
		pr_err("cannot open %s: %s", path, strerror(-err));
	}
	return err;
}

int netprofd_alive(unsigned int pid)
{
	char path[64], comm[32] = "";
	FILE *f;

	if (!pid)
		return 0;
	snprintf(path, sizeof(path), "/proc/%u/comm", pid);
	f = fopen(path, "r");
	if (!f)
		return 0;
	if (!fgets(comm, sizeof(comm), f))
		comm[0] = '\0';
	fclose(f);
	return !strncmp(comm, "netprofd", 8);
}

int pins_state_path(char *buf, size_t len, const char *pin_dir, const char *name)
{
	int n = snprintf(buf, len, "%s%s%s%s", NETPROF_STATE_ROOT, pin_dir[0] == '/' ? "" : "/",
			 pin_dir, name ? "/" : "");

	if (n < 0 || (size_t)n >= len)
		return -ENAMETOOLONG;
	if (name && (size_t)snprintf(buf + n, len - n, "%s", name) >= len - n)
		return -ENAMETOOLONG;
	return 0;
}

int mkdir_p(const char *path, mode_t mode)
{
	char tmp[512], *p;

	if (snprintf(tmp, sizeof(tmp), "%s", path) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	for (p = tmp + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(tmp, mode) && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(tmp, mode) && errno != EEXIST)
		return -errno;
	return 0;
}
