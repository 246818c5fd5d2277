// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Symbol tables for the profiler (syms.h). Each table is an array sorted
 * by address with names in one pool; a lookup is a binary search.
 */
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>
#include "syms.h"
#include "grow.h"
#include "log.h"

struct sym {
	uint64_t	addr;
	uint64_t	size;	/* 0: unknown, up to the next symbol */
	uint32_t	name;	/* offset in the pool */
};

struct symtab {
	struct sym	*v;
	size_t		n, cap;
	char		*pool;
	size_t		pool_len, pool_cap;
};

static int symtab_add(struct symtab *t, uint64_t addr, uint64_t size, const char *name)
{
	size_t len = strlen(name) + 1;

	if (ARRAY_GROW(t->v, t->cap, t->n + 1, 256) ||
	    ARRAY_GROW(t->pool, t->pool_cap, t->pool_len + len, 4096))
		return -ENOMEM;
	memcpy(t->pool + t->pool_len, name, len);
	t->v[t->n++] = (struct sym){ .addr = addr, .size = size, .name = t->pool_len };
	t->pool_len += len;
	return 0;
}

static int sym_cmp(const void *a, const void *b)
{
	const struct sym *x = a, *y = b;

	if (x->addr != y->addr)
		return x->addr < y->addr ? -1 : 1;
	/* at one address the sized (real) symbol first */
	return (y->size > 0) - (x->size > 0);
}

static void symtab_finish(struct symtab *t)
{
	size_t i, j = 0;

	sort_n(t->v, t->n, sizeof(*t->v), sym_cmp);
	for (i = 0; i < t->n; i++)	/* one symbol per address */
		if (!j || t->v[j - 1].addr != t->v[i].addr)
			t->v[j++] = t->v[i];
	t->n = j;
}

/* The symbol holding addr: the last one at or below it, if addr is inside it. */
static const char *symtab_find(const struct symtab *t, uint64_t addr)
{
	size_t lo = 0, hi = t->n;
	const struct sym *s;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (t->v[mid].addr <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (!lo)
		return NULL;
	s = &t->v[lo - 1];
	if (s->size && addr >= s->addr + s->size)
		return NULL;
	return t->pool + s->name;
}

static void symtab_free(struct symtab *t)
{
	free(t->v);
	free(t->pool);
	memset(t, 0, sizeof(*t));
}

/* ---- kernel ---- */

struct ksyms {
	struct symtab	t;
};

struct ksyms *ksyms__load(void)
{
	struct ksyms *ks = calloc(1, sizeof(*ks));
	char line[512], name[256], type;
	unsigned long long addr;
	FILE *f;

	if (!ks)
		return NULL;
	f = fopen("/proc/kallsyms", "re");
	if (!f) {
		free(ks);
		return NULL;
	}
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%llx %c %255s", &addr, &type, name) != 3)
			continue;
		if (!addr || (type != 't' && type != 'T' && type != 'w' && type != 'W'))
			continue;
		if (symtab_add(&ks->t, addr, 0, name)) {
			fclose(f);
			ksyms__free(ks);
			errno = ENOMEM;
			return NULL;
		}
	}
	fclose(f);
	if (!ks->t.n) {		/* kptr_restrict hides the addresses */
		ksyms__free(ks);
		errno = EPERM;
		return NULL;
	}
	symtab_finish(&ks->t);
	return ks;
}

const char *ksyms__find(const struct ksyms *ks, uint64_t addr)
{
	return ks ? symtab_find(&ks->t, addr) : NULL;
}

void ksyms__free(struct ksyms *ks)
{
	if (!ks)
		return;
	symtab_free(&ks->t);
	free(ks);
}

/* ---- binaries ---- */

struct segment {
	uint64_t	offset, vaddr, filesz;
};

struct binary {
	struct binary	*next;		/* hash chain */
	dev_t		dev;
	uint64_t	ino;
	char		*path;
	int		loaded;		/* symbols read (or tried) */
	struct segment	*segs;		/* PT_LOAD */
	size_t		nsegs;
	struct symtab	t;
};

struct perf_map {
	struct perf_map	*next;
	uint32_t	pid;
	struct timespec	mtime;
	off_t		size;
	time_t		checked;	/* when the file was last looked at (CLOCK_MONOTONIC s) */
	int		refused;	/* said once: not a file we read */
	struct symtab	t;
};

#define SC_BUCKETS	256

struct symcache {
	struct binary	*b[SC_BUCKETS];
	struct perf_map	*maps;
	char		debug_dir[PATH_MAX];
};

static void binary_load(struct symcache *sc, struct binary *b);

struct symcache *symcache__new(const char *debug_dir)
{
	struct symcache *sc = calloc(1, sizeof(*sc));

	if (!sc)
		return NULL;
	snprintf(sc->debug_dir, sizeof(sc->debug_dir), "%s", debug_dir ? debug_dir : "/usr/lib/debug");
	elf_version(EV_CURRENT);
	return sc;
}

static unsigned int sc_hash(dev_t dev, uint64_t ino, const char *path)
{
	uint64_t h = dev * 0x9e3779b97f4a7c15ULL ^ ino;

	if (!dev && !ino)
		for (; *path; path++)
			h = h * 31 + (unsigned char)*path;
	return (h ^ (h >> 29)) % SC_BUCKETS;
}

struct binary *symcache__get(struct symcache *sc, dev_t dev, uint64_t ino, const char *path)
{
	unsigned int h = sc_hash(dev, ino, path);
	struct binary *b;

	for (b = sc->b[h]; b; b = b->next)
		if (b->dev == dev && b->ino == ino && (dev || ino || !strcmp(b->path, path)))
			return b;
	b = calloc(1, sizeof(*b));
	if (!b || !(b->path = strdup(path))) {
		free(b);
		return NULL;
	}
	b->dev = dev;
	b->ino = ino;
	b->next = sc->b[h];
	sc->b[h] = b;
	binary_load(sc, b);
	return b;
}

static Elf *elf_open(const char *path, int *fd)
{
	Elf *e;

	*fd = open(path, O_RDONLY | O_CLOEXEC);
	if (*fd < 0)
		return NULL;
	e = elf_begin(*fd, ELF_C_READ, NULL);
	if (!e || elf_kind(e) != ELF_K_ELF) {
		if (e)
			elf_end(e);
		close(*fd);
		return NULL;
	}
	return e;
}

static void elf_close(Elf *e, int fd)
{
	elf_end(e);
	close(fd);
}

/* Add the functions of every section of this type; 1 if the section exists. */
static int read_symbols(Elf *e, struct symtab *t, Elf64_Word type)
{
	Elf_Scn *scn = NULL;
	GElf_Shdr sh;
	int found = 0;

	while ((scn = elf_nextscn(e, scn))) {
		Elf_Data *data;
		size_t i, n;

		if (!gelf_getshdr(scn, &sh) || sh.sh_type != type || !sh.sh_entsize)
			continue;
		data = elf_getdata(scn, NULL);
		if (!data)
			continue;
		found = 1;
		n = sh.sh_size / sh.sh_entsize;
		for (i = 0; i < n; i++) {
			GElf_Sym s;
			const char *name;
			int st;

			if (!gelf_getsym(data, i, &s))
				continue;
			st = GELF_ST_TYPE(s.st_info);
			if ((st != STT_FUNC && st != STT_GNU_IFUNC) || s.st_shndx == SHN_UNDEF ||
			    !s.st_value)
				continue;
			name = elf_strptr(e, sh.sh_link, s.st_name);
			if (name && *name && symtab_add(t, s.st_value, s.st_size, name))
				return found;
		}
	}
	return found;
}

static Elf_Scn *find_section(Elf *e, const char *want)
{
	Elf_Scn *scn = NULL;
	size_t shstrndx;
	GElf_Shdr sh;

	if (elf_getshdrstrndx(e, &shstrndx))
		return NULL;
	while ((scn = elf_nextscn(e, scn))) {
		const char *name;

		if (gelf_getshdr(scn, &sh) && (name = elf_strptr(e, shstrndx, sh.sh_name)) &&
		    !strcmp(name, want))
			return scn;
	}
	return NULL;
}

/* The GNU build id as hex, from the .note.gnu.build-id section. */
static int build_id_hex(Elf *e, char *hex, size_t len)
{
	Elf_Scn *scn = find_section(e, ".note.gnu.build-id");
	Elf_Data *data;
	GElf_Nhdr nh;
	size_t off = 0, name_off, desc_off, i;

	if (!scn || !(data = elf_getdata(scn, NULL)))
		return -ENOENT;
	while ((off = gelf_getnote(data, off, &nh, &name_off, &desc_off)) > 0) {
		const unsigned char *d = (const unsigned char *)data->d_buf + desc_off;

		if (nh.n_type != NT_GNU_BUILD_ID || nh.n_descsz * 2 + 1 > len || nh.n_descsz < 2)
			continue;
		for (i = 0; i < nh.n_descsz; i++)
			sprintf(hex + 2 * i, "%02x", d[i]);
		return 0;
	}
	return -ENOENT;
}

/* A separate debug file for this binary: by build id, then by .gnu_debuglink. */
static int find_debug_file(struct symcache *sc, Elf *e, const char *path, char *out, size_t len)
{
	char hex[130], dir[PATH_MAX], *slash;
	const char *link;
	Elf_Scn *scn;
	Elf_Data *data;

	if (!build_id_hex(e, hex, sizeof(hex))) {
		if ((size_t)snprintf(out, len, "%s/.build-id/%.2s/%s.debug", sc->debug_dir, hex,
				     hex + 2) < len && !access(out, R_OK))
			return 0;
	}
	scn = find_section(e, ".gnu_debuglink");
	if (!scn || !(data = elf_getdata(scn, NULL)) || !data->d_size)
		return -ENOENT;
	link = data->d_buf;
	if (!memchr(link, 0, data->d_size))
		return -ENOENT;
	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (slash)
		*slash = '\0';
	else
		strcpy(dir, ".");
	/* gdb's order: next to it, in .debug/ beside it, under the debug root */
	if ((size_t)snprintf(out, len, "%s/%s", dir, link) < len && strcmp(out, path) &&
	    !access(out, R_OK))
		return 0;
	if ((size_t)snprintf(out, len, "%s/.debug/%s", dir, link) < len && !access(out, R_OK))
		return 0;
	if ((size_t)snprintf(out, len, "%s%s/%s", sc->debug_dir, dir, link) < len &&
	    !access(out, R_OK))
		return 0;
	return -ENOENT;
}

static void binary_load(struct symcache *sc, struct binary *b)
{
	char debug[PATH_MAX];
	size_t i, n = 0;
	GElf_Phdr ph;
	int fd, dfd;
	Elf *e, *de;

	b->loaded = 1;
	e = elf_open(b->path, &fd);
	if (!e)
		return;
	if (!elf_getphdrnum(e, &n) && n) {
		b->segs = calloc(n, sizeof(*b->segs));
		for (i = 0; b->segs && i < n; i++)
			if (gelf_getphdr(e, i, &ph) && ph.p_type == PT_LOAD)
				b->segs[b->nsegs++] = (struct segment){
					.offset = ph.p_offset, .vaddr = ph.p_vaddr, .filesz = ph.p_filesz,
				};
	}
	read_symbols(e, &b->t, SHT_DYNSYM);
	if (!read_symbols(e, &b->t, SHT_SYMTAB) &&
	    !find_debug_file(sc, e, b->path, debug, sizeof(debug))) {
		de = elf_open(debug, &dfd);
		if (de) {
			read_symbols(de, &b->t, SHT_SYMTAB);
			elf_close(de, dfd);
		}
	}
	elf_close(e, fd);
	symtab_finish(&b->t);
}

const char *binary__sym_at_offset(struct binary *b, uint64_t off)
{
	size_t i;

	if (!b)
		return NULL;
	for (i = 0; i < b->nsegs; i++) {
		const struct segment *s = &b->segs[i];

		if (off >= s->offset && off < s->offset + s->filesz)
			return symtab_find(&b->t, off - s->offset + s->vaddr);
	}
	return NULL;
}

/* ---- perf-PID.map ---- */

/*
 * /tmp/perf-PID.map is the process's own word, in a directory anyone may
 * write to. Read only a regular file owned by the process's user (or
 * root), opened without following a symlink and without waiting (a FIFO
 * opens at once with O_NONBLOCK, and is then refused), and at most
 * PERF_MAP_MAX bytes of it: netprofd reads it in its main loop.
 */
#define PERF_MAP_MAX	(64u << 20)

/*
 * The open file, or -1: errno ENOENT (none), EPERM (not one we read). uid:
 * the process's user, from its samples (the process may be gone by now).
 */
static int perf_map_open(uint32_t uid, const char *path, struct stat *st)
{
	int fd;

	fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ELOOP)
			errno = EPERM;	/* a symlink */
		return -1;
	}
	if (fstat(fd, st) || !S_ISREG(st->st_mode) || (st->st_uid != uid && st->st_uid != 0)) {
		close(fd);
		errno = EPERM;
		return -1;
	}
	return fd;
}

static void perf_map_read(struct perf_map *m, int fd)
{
	unsigned long long start, size;
	char line[1024];
	int pos;
	FILE *f;

	symtab_free(&m->t);
	f = fdopen(fd, "re");
	if (!f) {
		close(fd);
		return;
	}
	/* by the file position: a line of NUL bytes has no length */
	while (ftello(f) < PERF_MAP_MAX && fgets(line, sizeof(line), f)) {
		char *nl = strchr(line, '\n');

		if (nl)
			*nl = '\0';
		if (sscanf(line, "%llx %llx %n", &start, &size, &pos) != 2 || !line[pos])
			continue;
		if (symtab_add(&m->t, start, size ? size : 1, line + pos))
			break;
	}
	fclose(f);
	symtab_finish(&m->t);
}

static time_t mono_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec;
}

const char *symcache__perf_map(struct symcache *sc, uint32_t pid, uint32_t uid, uint64_t addr)
{
	char path[64];
	struct perf_map *m;
	struct stat st;
	time_t now = mono_s();
	int fd;

	for (m = sc->maps; m; m = m->next)
		if (m->pid == pid)
			break;
	/* a JIT rewrites its map as it goes: looked at again at most once a second */
	if (m && m->checked == now)
		return symtab_find(&m->t, addr);
	if (!m) {
		m = calloc(1, sizeof(*m));
		if (!m)
			return NULL;
		m->pid = pid;
		m->next = sc->maps;
		sc->maps = m;
	}
	m->checked = now;
	snprintf(path, sizeof(path), "/tmp/perf-%u.map", pid);
	fd = perf_map_open(uid, path, &st);
	if (fd < 0) {
		if (errno != EPERM)
			return symtab_find(&m->t, addr);	/* gone: what we read before */
		if (!m->refused) {
			m->refused = 1;
			pr_warn("profiler: not reading %s: not a regular file of process %u's user (its JIT frames stay [jit])\n",
				path, pid);
		}
		/* no longer one we read (replaced, given to another user): forget it */
		symtab_free(&m->t);
		m->size = 0;
		m->mtime = (struct timespec){ 0 };
		return NULL;
	}
	if (m->size != st.st_size || m->mtime.tv_sec != st.st_mtim.tv_sec ||
	    m->mtime.tv_nsec != st.st_mtim.tv_nsec) {
		perf_map_read(m, fd);	/* closes fd */
		m->size = st.st_size;
		m->mtime = st.st_mtim;
	} else {
		close(fd);
	}
	return symtab_find(&m->t, addr);
}

void symcache__free(struct symcache *sc)
{
	struct perf_map *m;
	struct binary *b;
	unsigned int i;

	if (!sc)
		return;
	for (i = 0; i < SC_BUCKETS; i++)
		while ((b = sc->b[i])) {
			sc->b[i] = b->next;
			symtab_free(&b->t);
			free(b->segs);
			free(b->path);
			free(b);
		}
	while ((m = sc->maps)) {
		sc->maps = m->next;
		symtab_free(&m->t);
		free(m);
	}
	free(sc);
}
