/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Which of an object's BPF programs this kernel loads, and why not.
 *
 * A program is tried alone in a throwaway copy of its object (from the
 * skeleton's ELF bytes): the other programs' autoload off, every map
 * unpinned and its hash tables shrunk, so a try touches no pin and costs
 * little. A refusal comes back with the one line that says why: the
 * verifier's last word ("unknown func bpf_get_current_pid_tgid#14"), or
 * libbpf's when the kernel lacks the hook ("no BTF type sock_send_length").
 */
#ifndef NETPROF_PROGPROBE_H
#define NETPROF_PROGPROBE_H

#include <stddef.h>

struct bpf_object;

#define PROG_WHY_LEN	160

struct prog_verdict {
	char	prog[64];
	int	err;			/* 0: loads here; else negative errno */
	char	why[PROG_WHY_LEN];	/* a refusal's key line */
};

/*
 * A map only one program uses, where another program stands in for it
 * with maps of its own (a kernel may refuse the first program's maps, not
 * only its code): made only where that program loads.
 */
struct prog_map_owner {
	const char *map;
	const char *prog;
};

/* Make each owned map only where its program loads (autoload as set now). */
void prog_maps_apply(struct bpf_object *obj, const struct prog_map_owner *owners, size_t n);

/*
 * Open an object from its ELF bytes without loading it, libbpf's messages
 * captured (pin_root: where its pinned maps would go, NULL for none). NULL
 * with errno set.
 */
struct bpf_object *prog_open_quiet(const void *elf, size_t sz, const char *pin_root);

/*
 * Try one program (with only the owned maps that are its own); 0 if it
 * loads, else -errno with why filled.
 */
int prog_try(const void *elf, size_t sz, const struct prog_map_owner *owners, size_t n_owners,
	     const char *prog, char *why, size_t len);

/*
 * Try every program of the object (those marked non-autoload in their
 * SEC("?...") too): *out gets n verdicts, freed by the caller.
 */
int prog_try_all(const void *elf, size_t sz, const struct prog_map_owner *owners, size_t n_owners,
		 struct prog_verdict **out, size_t *n);

/*
 * libbpf's messages, captured instead of printed, between begin and end:
 * a load that may be refused (the daemon then tries its programs one by
 * one) must not fill the log with a verifier dump. Nesting is not
 * supported. prog_capture_end returns the text (valid until the next
 * begin), "" when nothing was said.
 */
void prog_capture_begin(void);
const char *prog_capture_end(void);

/* The key line of a failed load's libbpf output. */
void prog_why(const char *log, char *why, size_t len);

#endif
