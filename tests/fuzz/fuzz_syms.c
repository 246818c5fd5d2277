// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* An ELF file the profiler symbolizes (lib/syms.c): a sampled process's binary, any user's */
#include "fuzz.h"
#include "syms.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct symcache *sc = symcache__new("/nonexistent");
	struct binary *b;
	char path[64];
	uint64_t off;
	int fd = fuzz_file(data, size, path, sizeof(path));

	if (fd < 0 || !sc) {
		symcache__free(sc);
		if (fd >= 0)
			close(fd);
		return 0;
	}
	b = symcache__get(sc, 0, 0, path);
	for (off = 0; b && off < size + 4096; off += 97)
		binary__sym_at_offset(b, off);
	symcache__free(sc);
	close(fd);
	return 0;
}
