/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Capabilities (maps/caps.h): their names, and reading the pinned table. */
#ifndef NETPROF_CAPTAB_H
#define NETPROF_CAPTAB_H

#include "caps.h"

const char *np_cap_name(unsigned int cap);
const char *np_cap_state_name(unsigned int state);
/* 1 if fd is a table of this layout (an array of NP_CAP_MAX struct np_cap_info or more) */
int caps_map_ok(int fd);
/*
 * The table netprofd wrote in pin_dir: 0, -ENOENT (a netprofd from before
 * capabilities, or none yet), or -EINVAL (pins of another layout).
 */
int caps_read(const char *pin_dir, struct np_cap_info caps[NP_CAP_MAX]);

#endif
