/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
#ifndef NETPROF_LOG_H
#define NETPROF_LOG_H

#include <stdarg.h>

enum log_level {
	LOG_WARN = 0,
	LOG_INFO = 1,
	LOG_DEBUG = 2,
};

/* Program name used as the prefix of every message ("netprof", "netprofd"). */
extern const char *log_prog;
extern int log_level;
/* When set, pr_err prints {"error": "..."} on stdout instead of text. */
extern int log_json_errors;

void log_init(const char *prog, int level);
void pr_log(enum log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The one-line user-facing error: "<prog>: <message>" (or JSON). */
void pr_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Route libbpf's messages through pr_log, one level quieter than ours. */
void log_setup_libbpf(void);

#define pr_warn(...)  pr_log(LOG_WARN, __VA_ARGS__)
#define pr_info(...)  pr_log(LOG_INFO, __VA_ARGS__)
#define pr_debug(...) pr_log(LOG_DEBUG, __VA_ARGS__)

#endif
