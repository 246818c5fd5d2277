// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <linux/magic.h>
#include <bpf/bpf.h>
#include "flow.h"
#include "sockets.h"
#include "latency.h"
#include "profile.h"
#include "caps.h"
#include "log.h"
#include "pins.h"

/*
 * What each pin netprof reads must be: the type and sizes the BPF programs
 * declare (bpf/, with the types in maps/). A pin of the same name with
 * another layout (an older netprof, another tool, a user) is refused before
 * its bytes are read as ours.
 */
static const struct pin_layout {
	const char	*name;
	__u32		type, key_size, value_size;
} pin_layouts[] = {
	{ FLOWS_MAP, BPF_MAP_TYPE_PERCPU_HASH, sizeof(struct flow_key), sizeof(struct flow_counters) },
	{ FLOWS_ENDED_MAP, BPF_MAP_TYPE_HASH, sizeof(struct flow_ended_key), sizeof(struct flow_record) },
	{ FRAGS_MAP, BPF_MAP_TYPE_LRU_HASH, sizeof(struct frag_key), sizeof(struct frag_ports) },
	{ STATS_MAP, BPF_MAP_TYPE_PERCPU_ARRAY, sizeof(__u32), sizeof(__u64) },
	{ IFACES_MAP, BPF_MAP_TYPE_HASH, sizeof(struct iface_key), sizeof(struct iface_info) },
	{ DAEMON_MAP, BPF_MAP_TYPE_ARRAY, sizeof(__u32), sizeof(struct daemon_info) },
	{ FLOW_CACHE_MAP, BPF_MAP_TYPE_ARRAY, sizeof(__u32), sizeof(struct flow_cache) },
	{ SOCKS_MAP, BPF_MAP_TYPE_HASH, sizeof(__u64), sizeof(struct sock_record) },
	{ SOCKS_CLOSED_MAP, BPF_MAP_TYPE_ARRAY, sizeof(__u32), sizeof(struct sock_closed) },
	{ SOCKS_CLOSED_HEAD_MAP, BPF_MAP_TYPE_ARRAY, sizeof(__u32), sizeof(__u64) },
	{ SOCK_STATS_MAP, BPF_MAP_TYPE_PERCPU_ARRAY, sizeof(__u32), sizeof(__u64) },
	{ CGROUP_NAMES_MAP, BPF_MAP_TYPE_HASH, sizeof(__u64), sizeof(struct cgroup_name) },
	{ CONN_AGG_MAP, BPF_MAP_TYPE_PERCPU_HASH, sizeof(struct conn_agg_key), sizeof(struct conn_agg) },
	{ SOCK_LAT_MAP, BPF_MAP_TYPE_HASH, sizeof(__u64), sizeof(struct sock_lat) },
	{ EDGE_LAT_MAP, BPF_MAP_TYPE_HASH, sizeof(struct conn_agg_key), sizeof(struct edge_lat) },
	{ LAT_STATS_MAP, BPF_MAP_TYPE_PERCPU_ARRAY, sizeof(__u32), sizeof(__u64) },
	{ PROF_STATS_MAP, BPF_MAP_TYPE_PERCPU_ARRAY, sizeof(__u32), sizeof(__u64) },
	{ PROF_DAEMON_MAP, BPF_MAP_TYPE_ARRAY, sizeof(__u32), sizeof(struct prof_daemon_stats) },
	{ NP_CAPS_MAP, BPF_MAP_TYPE_ARRAY, sizeof(__u32), sizeof(struct np_cap_info) },
};

int pins_check_layout(int fd, const char *name, char *why, size_t len)
{
	struct bpf_map_info info = {};
	__u32 ilen = sizeof(info);
	size_t i;

	for (i = 0; i < sizeof(pin_layouts) / sizeof(pin_layouts[0]); i++)
		if (!strcmp(pin_layouts[i].name, name))
			break;
	if (i == sizeof(pin_layouts) / sizeof(pin_layouts[0]))
		return 0;	/* not one of the table's: its reader checks it */
	if (bpf_obj_get_info_by_fd(fd, &info, &ilen)) {
		snprintf(why, len, "not a BPF map (%s)", strerror(errno));
		return -EINVAL;
	}
	if (info.type != pin_layouts[i].type || info.key_size != pin_layouts[i].key_size ||
	    info.value_size != pin_layouts[i].value_size) {
		snprintf(why, len, "map type %u, key %u B, value %u B where netprof's is type %u, key %u B, value %u B",
			 info.type, info.key_size, info.value_size, pin_layouts[i].type,
			 pin_layouts[i].key_size, pin_layouts[i].value_size);
		return -EINVAL;
	}
	return 0;
}

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

int pins_check_all(const char *dir)
{
	char path[512], why[160];
	size_t i;
	int fd, err;

	for (i = 0; i < sizeof(pin_layouts) / sizeof(pin_layouts[0]); i++) {
		if (pins_path(path, sizeof(path), dir, pin_layouts[i].name))
			continue;
		fd = bpf_obj_get(path);
		if (fd < 0)
			continue;	/* absent, or not ours to open: its reader says */
		err = pins_check_layout(fd, pin_layouts[i].name, why, sizeof(why));
		close(fd);
		if (err) {
			pr_err("pins of another layout in %s (%s: %s): run 'netprofd --remove -p %s' (a netprofd of this version pins them anew)",
			       dir, pin_layouts[i].name, why, dir);
			return -EPROTO;
		}
	}
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
	if (fd >= 0) {
		char why[160];

		if (!pins_check_layout(fd, name, why, sizeof(why)))
			return fd;
		close(fd);
		/* said even when quiet: a pin of another layout is never "absent" */
		pr_err("pins of another layout in %s (%s: %s): run 'netprofd --remove -p %s' (a netprofd of this version pins them anew)",
		       dir, name, why, dir);
		return -EPROTO;
	}
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
