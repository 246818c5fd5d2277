// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* A capture file for `netprof replay` (lib/pcapfile.c over libpcap's reader), every frame read */
#include "fuzz.h"
#include "pcapfile.h"

static uint8_t frame[PCAPFILE_SNAP_MAX + 64];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char path[64], err[512];
	struct pcapfile *pf;
	uint32_t wire;
	int fd = fuzz_file(data, size, path, sizeof(path)), n = 0;

	if (fd < 0)
		return 0;
	pf = pcapfile__open(path, err, sizeof(err));
	while (pf && n++ < 100000 && pcapfile__next(pf, frame, &wire, err, sizeof(err)) > 0)
		;
	pcapfile__close(pf);
	close(fd);
	return 0;
}
