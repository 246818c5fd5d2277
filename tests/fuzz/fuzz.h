/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * What the fuzz harnesses share. Each harness defines LLVMFuzzerTestOneInput
 * (libFuzzer's entry: `make fuzz` builds it with clang's -fsanitize=fuzzer,
 * address, undefined); built with -DFUZZ_STANDALONE instead, main() below
 * runs it once over every file named (directories: every file in them), as
 * `make check` does over the seed corpora with ASan and UBSan, so what was
 * found once stays fixed.
 */
#ifndef NETPROF_FUZZ_H
#define NETPROF_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* data as a file (memfd), for APIs that take a path: "/proc/self/fd/N" in path */
static inline int fuzz_file(const uint8_t *data, size_t size, char *path, size_t len)
{
	int fd = memfd_create("fuzz", MFD_CLOEXEC);

	if (fd < 0)
		return -1;
	if (size && write(fd, data, size) != (ssize_t)size) {
		close(fd);
		return -1;
	}
	snprintf(path, len, "/proc/self/fd/%d", fd);
	return fd;
}

#ifdef FUZZ_STANDALONE
#include <dirent.h>
#include <sys/stat.h>

static long fuzz_runs;

static void fuzz_one(const char *path)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf;
	long n;

	if (!f || fseek(f, 0, SEEK_END) || (n = ftell(f)) < 0 || fseek(f, 0, SEEK_SET)) {
		fprintf(stderr, "cannot read %s\n", path);
		exit(1);
	}
	buf = malloc(n ? n : 1);
	if (!buf || fread(buf, 1, n, f) != (size_t)n)
		exit(1);
	fclose(f);
	LLVMFuzzerTestOneInput(buf, n);
	free(buf);
	fuzz_runs++;
}

int main(int argc, char **argv)
{
	struct dirent *de;
	struct stat st;
	char p[4096];
	int i;

	for (i = 1; i < argc; i++) {
		DIR *d = stat(argv[i], &st) == 0 && S_ISDIR(st.st_mode) ? opendir(argv[i]) : NULL;

		if (!d) {
			fuzz_one(argv[i]);
			continue;
		}
		while ((de = readdir(d)))
			if (de->d_name[0] != '.') {
				snprintf(p, sizeof(p), "%s/%s", argv[i], de->d_name);
				fuzz_one(p);
			}
		closedir(d);
	}
	printf("ok   %s: %ld inputs\n", argv[0], fuzz_runs);
	return 0;
}
#endif

#endif
