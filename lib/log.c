// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <bpf/libbpf.h>
#include "log.h"
#include "json.h"

const char *log_prog = "netprof";
int log_level = LOG_INFO;
int log_json_errors;

void log_init(const char *prog, int level)
{
	log_prog = prog;
	log_level = level;
}

void pr_log(enum log_level level, const char *fmt, ...)
{
	va_list ap;

	if ((int)level > log_level)
		return;
	fprintf(stderr, "%s: ", log_prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
}

void pr_err(const char *fmt, ...)
{
	char buf[1024];
	size_t n;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	n = strlen(buf);
	while (n && buf[n - 1] == '\n')
		buf[--n] = '\0';
	if (log_json_errors) {
		struct json_writer *jw = jw_new(stdout, 0);

		jw_object_start(jw, NULL);
		jw_str(jw, "error", buf);
		jw_object_end(jw);
		jw_free(jw);
		fflush(stdout);
	}
	fprintf(stderr, "%s: %s\n", log_prog, buf);
}

static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	/* one level quieter: libbpf's warnings are our info, its info our debug */
	int ours = level == LIBBPF_WARN ? LOG_INFO :
		   level == LIBBPF_INFO ? LOG_DEBUG : LOG_DEBUG + 1;

	/*
	 * libbpf reports the netlink answers to our own probes (clsact exists,
	 * no filter of ours yet) as warnings; we handle those errors ourselves.
	 */
	if (strstr(fmt, "Kernel error message"))
		ours = LOG_DEBUG;
	if (ours > log_level)
		return 0;
	fprintf(stderr, "%s: ", log_prog);	/* libbpf adds "libbpf: " */
	return vfprintf(stderr, fmt, ap);
}

void log_setup_libbpf(void)
{
	libbpf_set_print(libbpf_print);
}
