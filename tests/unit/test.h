/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * A tiny test harness in the style of the kernel's selftests/bpf: ASSERT_*
 * return true on success so tests read `if (!ASSERT_EQ(...)) goto out;`.
 * Each test binary ends with one line "N passed, N failed, N skipped".
 */
#ifndef NETPROF_TEST_H
#define NETPROF_TEST_H

#include <stdio.h>
#include <string.h>
#include <errno.h>

static int test_passed, test_failed, test_skipped, test_cur_failed;
static const char *test_cur, *test_cur_skip;

/* This test cannot run here: say why; it counts as skipped, never as passed. */
#define TEST_SKIP(reason) do { test_cur_skip = (reason); } while (0)

#define ASSERT_TRUE(cond, name) ({						\
	int ___ok = !!(cond);							\
	if (!___ok) {								\
		fprintf(stderr, "  FAIL %s:%d %s: %s\n", __FILE__, __LINE__,	\
			test_cur, name);					\
		test_cur_failed = 1;						\
	}									\
	___ok;									\
})

#define ASSERT_EQ(a, b, name) ({						\
	long long ___a = (long long)(a), ___b = (long long)(b);			\
	int ___ok = ___a == ___b;						\
	if (!___ok) {								\
		fprintf(stderr, "  FAIL %s:%d %s: %s: got %lld, want %lld\n",	\
			__FILE__, __LINE__, test_cur, name, ___a, ___b);	\
		test_cur_failed = 1;						\
	}									\
	___ok;									\
})

#define ASSERT_OK(err, name) ASSERT_EQ(err, 0, name)

#define ASSERT_OK_PTR(p, name) ({						\
	int ___ok = (p) != NULL;						\
	if (!___ok) {								\
		fprintf(stderr, "  FAIL %s:%d %s: %s: NULL (%s)\n", __FILE__,	\
			__LINE__, test_cur, name, strerror(errno));		\
		test_cur_failed = 1;						\
	}									\
	___ok;									\
})

#define RUN_TEST(fn) do {							\
	test_cur = #fn;								\
	test_cur_failed = 0;							\
	test_cur_skip = NULL;							\
	fn();									\
	if (test_cur_failed)							\
		test_failed++;							\
	else if (test_cur_skip)							\
		test_skipped++;							\
	else									\
		test_passed++;							\
	if (test_cur_skip && !test_cur_failed)					\
		printf("skip %s: %s\n", #fn, test_cur_skip);			\
	else									\
		printf("%s %s\n", test_cur_failed ? "FAIL" : "ok  ", #fn);	\
} while (0)

#define TEST_SUMMARY() ({							\
	printf("%d passed, %d failed, %d skipped\n", test_passed, test_failed,	\
	       test_skipped);							\
	test_failed ? 1 : 0;							\
})

#endif
