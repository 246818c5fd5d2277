// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* netprofd's profile journal as `netprof profile` reads it (lib/profjournal.c) */
#include "fuzz.h"
#include "profjournal.h"

static int on_sample(void *ctx, const struct prof_sample *s)
{
	/* touch what a reader prints */
	*(size_t *)ctx += strlen(s->comm) + strlen(s->stack) + (s->local ? strlen(s->local) : 0);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct prof_journal_info info = {};
	char path[64];
	uint64_t drain;
	size_t sum = 0;
	int fd = fuzz_file(data, size, path, sizeof(path));

	if (fd < 0)
		return 0;
	prof_journal_read(path, 0, UINT64_MAX, on_sample, &sum, &info);
	prof_journal_last_drain(path, &drain);
	close(fd);
	return 0;
}
