// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * A device's offload features through the ethtool ioctl (SIOCETHTOOL), as
 * `ethtool -k` shows them: netprofd reads them before and after attaching
 * XDP, because a driver may turn offloads off for XDP (and so cost the
 * traffic more than netprof's programs do). Called inside the device's
 * network namespace.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <linux/ethtool.h>
#include <linux/sockios.h>
#include "netprofd.h"

static int ethtool_ioctl(const char *ifname, void *cmd)
{
	struct ifreq ifr = {};
	int fd, err = 0;

	if (strlen(ifname) >= sizeof(ifr.ifr_name))
		return -ENAMETOOLONG;
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	strcpy(ifr.ifr_name, ifname);
	ifr.ifr_data = cmd;
	if (ioctl(fd, SIOCETHTOOL, &ifr))
		err = -errno;
	close(fd);
	return err;
}

int dev_features_get(const char *ifname, struct dev_features *f)
{
	struct {
		struct ethtool_gfeatures	g;
		struct ethtool_get_features_block b[DEV_FEATURE_WORDS];
	} req = { .g = { .cmd = ETHTOOL_GFEATURES, .size = DEV_FEATURE_WORDS } };
	unsigned int i;
	int err;

	err = ethtool_ioctl(ifname, &req);
	if (err)
		return err;
	/* the kernel says how many words it has; it filled at most ours */
	f->words = req.g.size < DEV_FEATURE_WORDS ? req.g.size : DEV_FEATURE_WORDS;
	for (i = 0; i < f->words; i++)
		f->active[i] = req.b[i].active;
	return 0;
}

/* The feature names (ETH_SS_FEATURES), bit by bit; NULL if unknown. */
static char *feature_names(const char *ifname, unsigned int *count)
{
	struct {
		struct ethtool_sset_info	s;
		__u32				n;
	} info = { .s = { .cmd = ETHTOOL_GSSET_INFO, .sset_mask = 1ULL << ETH_SS_FEATURES } };
	struct ethtool_gstrings *gs;

	if (ethtool_ioctl(ifname, &info) || !(info.s.sset_mask & (1ULL << ETH_SS_FEATURES)) ||
	    !info.n || info.n > 32 * DEV_FEATURE_WORDS)
		return NULL;
	gs = calloc(1, sizeof(*gs) + (size_t)info.n * ETH_GSTRING_LEN);
	if (!gs)
		return NULL;
	gs->cmd = ETHTOOL_GSTRINGS;
	gs->string_set = ETH_SS_FEATURES;
	gs->len = info.n;
	if (ethtool_ioctl(ifname, gs) || gs->len != info.n) {
		free(gs);
		return NULL;
	}
	*count = info.n;
	/* the strings move to the start of the block */
	memmove(gs, gs->data, (size_t)info.n * ETH_GSTRING_LEN);
	return (char *)gs;
}

int dev_features_lost(const char *ifname, const struct dev_features *before,
		      const struct dev_features *after, char *buf, size_t len)
{
	unsigned int i, n = 0, count = 0, words;
	char *names = NULL;
	size_t used = 0;

	words = before->words < after->words ? before->words : after->words;
	buf[0] = '\0';
	for (i = 0; i < 32 * words; i++) {
		__u32 bit = 1U << (i % 32);

		if (!(before->active[i / 32] & bit) || (after->active[i / 32] & bit))
			continue;
		if (!n++)
			names = feature_names(ifname, &count);
		if (used < len) {
			int w;

			if (names && i < count)
				w = snprintf(buf + used, len - used, "%s%.*s", used ? ", " : "",
					     ETH_GSTRING_LEN, names + (size_t)i * ETH_GSTRING_LEN);
			else
				w = snprintf(buf + used, len - used, "%sfeature bit %u", used ? ", " : "", i);
			used += w > 0 ? (size_t)w : 0;
		}
	}
	free(names);
	return n;
}
