// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <linux/bpf.h>
#include "pins.h"
#include "captab.h"

#define NP_CAP_NAME(e, name) [e] = name,
static const char *const cap_names[NP_CAP_MAX] = { NP_CAPS(NP_CAP_NAME) };
#undef NP_CAP_NAME

const char *np_cap_name(unsigned int cap)
{
	return cap < NP_CAP_MAX ? cap_names[cap] : "unknown";
}

const char *np_cap_state_name(unsigned int state)
{
	switch (state) {
	case NP_CAP_ACTIVE: return "active";
	case NP_CAP_DEGRADED: return "degraded";
	case NP_CAP_OFF: return "off";
	case NP_CAP_UNAVAILABLE: return "unavailable";
	default: return "unknown";
	}
}

int caps_map_ok(int fd)
{
	struct bpf_map_info info = {};
	__u32 len = sizeof(info);

	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		return 0;
	return info.type == BPF_MAP_TYPE_ARRAY && info.key_size == sizeof(__u32) &&
	       info.value_size == sizeof(struct np_cap_info) && info.max_entries >= NP_CAP_MAX;
}

int caps_read(const char *pin_dir, struct np_cap_info caps[NP_CAP_MAX])
{
	char path[512];
	__u32 i;
	int fd, err = 0;

	if (pins_path(path, sizeof(path), pin_dir, NP_CAPS_MAP))
		return -ENAMETOOLONG;
	fd = bpf_obj_get(path);
	if (fd < 0)
		return -ENOENT;
	if (!caps_map_ok(fd)) {
		close(fd);
		return -EINVAL;
	}
	for (i = 0; i < NP_CAP_MAX && !err; i++) {
		if (bpf_map_lookup_elem(fd, &i, &caps[i]))
			err = -errno;
		caps[i].why[NP_CAP_WHY_LEN - 1] = '\0';	/* whoever wrote it */
	}
	close(fd);
	return err;
}
