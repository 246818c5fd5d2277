/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Symbols for stack frames: the kernel's from /proc/kallsyms, a binary's
 * from its ELF .symtab and .dynsym (libelf), or from a separate debug file
 * found through its build id (DEBUG_DIR/.build-id/xx/yyyy.debug) or its
 * .gnu_debuglink (next to it, in .debug/ beside it, under DEBUG_DIR), and
 * JIT code from /tmp/perf-PID.map. Binaries are cached by device and
 * inode, so every process mapping a library shares one table.
 */
#ifndef NETPROF_SYMS_H
#define NETPROF_SYMS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct ksyms;
/* /proc/kallsyms text symbols; NULL with errno set when unreadable. */
struct ksyms *ksyms__load(void);
/* The function holding addr, or NULL. */
const char *ksyms__find(const struct ksyms *ks, uint64_t addr);
void ksyms__free(struct ksyms *ks);

struct binary;
struct symcache;
/* debug_dir: where separate debug files live (NULL: /usr/lib/debug) */
struct symcache *symcache__new(const char *debug_dir);
void symcache__free(struct symcache *sc);
/*
 * The binary at path with this device and inode (0, 0: whatever is at
 * path), its symbols read the first time. NULL only without memory; a
 * binary that cannot be read has no symbols.
 */
struct binary *symcache__get(struct symcache *sc, dev_t dev, uint64_t ino, const char *path);
/*
 * The function at file offset off of a mapping of b (the mapping's offset
 * plus the distance from its start), or NULL when b has no symbol there
 * (or cannot be read).
 */
const char *binary__sym_at_offset(struct binary *b, uint64_t off);

/*
 * /tmp/perf-PID.map, the JIT's own list of "START SIZE name" lines; read
 * once per pid and again when the file changes, only if it is a regular
 * file of uid (the process's user) or root. NULL when there is none or no
 * entry holds addr.
 */
const char *symcache__perf_map(struct symcache *sc, uint32_t pid, uint32_t uid, uint64_t addr);

#endif
