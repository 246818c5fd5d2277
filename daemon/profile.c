// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The CPU profiler's daemon side (docs/profile.md).
 *
 *  - One PERF_COUNT_SW_CPU_CLOCK event per CPU in frequency mode runs
 *    profile_sample (bpf/profile.bpf.c), which counts whole stacks in the
 *    kernel. The same events carry perf's side-band records (mmap2, comm,
 *    fork, exit) in a small ring per CPU: that is how a process's
 *    executable mappings are known even when it exits before the next
 *    drain. Processes already running at start are read from /proc once.
 *  - Every sweep: read the side-band rings (records sorted by time across
 *    CPUs), flip the count maps, wait for samples still writing the old
 *    one, read and empty it, symbolize, append to the journal that
 *    `netprof profile` and `netprof top` read.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <linux/perf_event.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/syscall.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "profile.skel.h"
#include "profile.h"
#include "flow.h"
#include "format.h"
#include "log.h"
#include "pins.h"
#include "strcount.h"
#include "stats.h"
#include "syms.h"
#include "netprofd.h"
#include "cgroup.h"
#include "module.h"
#include "promtext.h"
#include "progload.h"
#include "grow.h"

#define RING_PAGES	64		/* data pages per CPU for side-band records */
#define PROC_BUCKETS	1024
#define BATCH		64		/* count-map entries per lookup_and_delete batch */

struct mapping {
	uint64_t	start, end, pgoff;
	dev_t		dev;
	uint64_t	ino;
	const char	*path;		/* interned */
};

struct proc {
	struct proc	*next;
	uint32_t	pid;
	struct mapping	*m;		/* sorted by start, no overlaps */
	size_t		n, cap;
	uint64_t	exited_ns;	/* perf time of its exit, 0 while alive */
};

struct sb_rec {
	uint64_t	time;
	uint32_t	cpu_seq;	/* order within one ring */
	struct perf_event_header *h;
};

struct cpu_event {
	int			fd;
	void			*ring;
	struct bpf_link		*link;
};

struct profiler {
	struct profile_bpf	*skel;
	struct bpf_program	*sample;	/* profile_sample, or _hashed before 5.11 */
	int			hashed;		/* counts by stack hash (profile.h) */
	int			ncpu;
	struct cpu_event	*ev;
	size_t			page_size;
	struct proc		*procs[PROC_BUCKETS];
	struct ksyms		*ksyms;
	struct symcache		*syms;
	struct strcount		paths;		/* interned strings (the keys) */
	int			journal_fd;
	char			journal[512];
	int			daemon_fd;
	struct prof_daemon_stats st;
	struct sb_rec		*recs;
	size_t			nrecs, recs_cap;
	char			*out;		/* the drain's journal text */
	size_t			out_len, out_cap;
};

static int perf_event_open(struct perf_event_attr *attr, int cpu)
{
	return syscall(SYS_perf_event_open, attr, -1, cpu, -1, PERF_FLAG_FD_CLOEXEC);
}

/* ---- interned paths: one copy of each, stable while netprofd runs ---- */

static const char *intern(struct profiler *p, const char *s)
{
	struct strcount_entry *e = strcount_add(&p->paths, s, strlen(s), 0);

	return e ? e->key : NULL;
}

/* ---- processes and their executable mappings ---- */

static struct proc *proc_find(struct profiler *p, uint32_t pid)
{
	struct proc *pr;

	for (pr = p->procs[pid % PROC_BUCKETS]; pr; pr = pr->next)
		if (pr->pid == pid)
			return pr;
	return NULL;
}

static struct proc *proc_get(struct profiler *p, uint32_t pid)
{
	struct proc *pr = proc_find(p, pid);

	if (pr)
		return pr;
	pr = calloc(1, sizeof(*pr));
	if (!pr)
		return NULL;
	pr->pid = pid;
	pr->next = p->procs[pid % PROC_BUCKETS];
	p->procs[pid % PROC_BUCKETS] = pr;
	return pr;
}

static void proc_free_one(struct profiler *p, struct proc *victim)
{
	struct proc **pp;

	for (pp = &p->procs[victim->pid % PROC_BUCKETS]; *pp; pp = &(*pp)->next)
		if (*pp == victim) {
			*pp = victim->next;
			free(victim->m);
			free(victim);
			return;
		}
}

/* A new mapping replaces whatever it overlaps (mmap over a range does). */
static void proc_map(struct proc *pr, const struct mapping *nm)
{
	size_t i = 0, j = 0;

	for (i = 0; i < pr->n; i++)
		if (pr->m[i].end <= nm->start || pr->m[i].start >= nm->end)
			pr->m[j++] = pr->m[i];
	pr->n = j;
	if (ARRAY_GROW(pr->m, pr->cap, pr->n + 1, 16))
		return;
	for (i = pr->n; i > 0 && pr->m[i - 1].start > nm->start; i--)
		pr->m[i] = pr->m[i - 1];
	pr->m[i] = *nm;
	pr->n++;
}

static const struct mapping *proc_lookup(const struct proc *pr, uint64_t addr)
{
	size_t lo = 0, hi = pr->n;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (pr->m[mid].start <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo && addr < pr->m[lo - 1].end)
		return &pr->m[lo - 1];
	return NULL;
}

/* Executable mappings from /proc/PID/maps. 0, or -errno when it is gone. */
static int proc_read_maps(struct profiler *p, uint32_t pid)
{
	char path[64], line[4096 + 128], perms[8], file[4096];
	unsigned long long start, end, off, ino;
	unsigned int maj, min;
	struct proc *pr;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%u/maps", pid);
	f = fopen(path, "re");
	if (!f)
		return -errno;
	pr = proc_get(p, pid);
	if (!pr) {
		fclose(f);
		return -ENOMEM;
	}
	pr->n = 0;
	while (fgets(line, sizeof(line), f)) {
		struct mapping m;
		int k;

		file[0] = '\0';
		k = sscanf(line, "%llx-%llx %7s %llx %x:%x %llu %4095[^\n]", &start, &end, perms, &off,
			   &maj, &min, &ino, file);
		if (k < 7 || perms[2] != 'x')
			continue;
		m = (struct mapping){
			.start = start, .end = end, .pgoff = off, .dev = makedev(maj, min), .ino = ino,
			.path = intern(p, file[0] ? file : "//anon"),
		};
		if (m.path)
			proc_map(pr, &m);
	}
	fclose(f);
	return 0;
}

static void scan_proc(struct profiler *p)
{
	struct dirent *de;
	DIR *dir = opendir("/proc");

	if (!dir)
		return;
	while ((de = readdir(dir))) {
		char *end;
		unsigned long pid = strtoul(de->d_name, &end, 10);

		if (*end || !pid)
			continue;
		proc_read_maps(p, pid);
	}
	closedir(dir);
}

/* ---- side-band records ---- */

struct sample_id {		/* sample_id_all with PERF_SAMPLE_TID | PERF_SAMPLE_TIME */
	uint32_t	pid, tid;
	uint64_t	time;
};

struct rec_mmap2 {
	struct perf_event_header h;
	uint32_t	pid, tid;
	uint64_t	addr, len, pgoff;
	uint32_t	maj, min;
	uint64_t	ino, ino_generation;
	uint32_t	prot, flags;
	char		filename[];
};

struct rec_task {		/* PERF_RECORD_FORK, PERF_RECORD_EXIT */
	struct perf_event_header h;
	uint32_t	pid, ppid, tid, ptid;
	uint64_t	time;
};

struct rec_comm {
	struct perf_event_header h;
	uint32_t	pid, tid;
	char		comm[];
};

struct rec_lost {
	struct perf_event_header h;
	uint64_t	id, lost;
};

static void apply_record(struct profiler *p, const struct perf_event_header *h, uint64_t time)
{
	struct proc *pr, *parent;

	switch (h->type) {
	case PERF_RECORD_MMAP2: {
		const struct rec_mmap2 *r = (const void *)h;
		struct mapping m = {
			.start = r->addr, .end = r->addr + r->len, .pgoff = r->pgoff,
			.dev = makedev(r->maj, r->min), .ino = r->ino,
		};

		if (h->misc & PERF_RECORD_MISC_MMAP_BUILD_ID)
			m.dev = m.ino = 0;	/* not asked for; do not trust the union */
		m.path = intern(p, r->filename[0] ? r->filename : "//anon");
		pr = proc_get(p, r->pid);
		if (pr && m.path)
			proc_map(pr, &m);
		break;
	}
	case PERF_RECORD_COMM: {
		const struct rec_comm *r = (const void *)h;

		/* exec: the old image is gone; its new mappings follow */
		if ((h->misc & PERF_RECORD_MISC_COMM_EXEC) && (pr = proc_find(p, r->pid)))
			pr->n = 0;
		break;
	}
	case PERF_RECORD_FORK: {
		const struct rec_task *r = (const void *)h;

		if (r->pid == r->ppid)	/* a new thread */
			break;
		parent = proc_find(p, r->ppid);
		pr = proc_get(p, r->pid);
		if (!pr)
			break;
		pr->n = 0;
		pr->exited_ns = 0;
		if (parent && parent->n) {
			struct mapping *v = malloc(parent->n * sizeof(*v));

			if (v) {
				memcpy(v, parent->m, parent->n * sizeof(*v));
				free(pr->m);
				pr->m = v;
				pr->n = pr->cap = parent->n;
			}
		}
		break;
	}
	case PERF_RECORD_EXIT: {
		const struct rec_task *r = (const void *)h;

		if (r->pid == r->tid && (pr = proc_find(p, r->pid)))
			pr->exited_ns = time ? time : 1;
		break;
	}
	case PERF_RECORD_LOST: {
		const struct rec_lost *r = (const void *)h;

		p->st.sideband_lost += r->lost;
		break;
	}
	}
}

static int rec_cmp(const void *a, const void *b)
{
	const struct sb_rec *x = a, *y = b;

	if (x->time != y->time)
		return x->time < y->time ? -1 : 1;
	return x->cpu_seq < y->cpu_seq ? -1 : x->cpu_seq > y->cpu_seq;
}

/* Copy every ring's records out, apply them in time order, release the rings. */
static void read_sideband(struct profiler *p)
{
	size_t data_size = RING_PAGES * p->page_size, i;
	uint64_t *tails = calloc(p->ncpu, sizeof(*tails));
	int c;

	if (!tails)
		return;
	p->nrecs = 0;
	for (c = 0; c < p->ncpu; c++) {
		struct perf_event_mmap_page *mp = p->ev[c].ring;
		unsigned char *data;
		uint64_t head, tail;
		uint32_t seq = 0;

		if (!mp)
			continue;
		data = (unsigned char *)mp + p->page_size;
		head = __atomic_load_n(&mp->data_head, __ATOMIC_ACQUIRE);
		tail = mp->data_tail;
		while (tail < head) {
			struct perf_event_header *h = (void *)(data + tail % data_size), *copy;
			size_t first;

			if (h->size < sizeof(*h))
				break;
			copy = malloc(h->size);
			if (!copy)
				break;
			/* a record may wrap around the ring's end (headers never do) */
			first = data_size - tail % data_size;
			if (first >= h->size) {
				memcpy(copy, h, h->size);
			} else {
				memcpy(copy, h, first);
				memcpy((char *)copy + first, data, h->size - first);
			}
			tail += h->size;
			if (ARRAY_GROW(p->recs, p->recs_cap, p->nrecs + 1, 256)) {
				free(copy);
				break;
			}
			p->recs[p->nrecs++] = (struct sb_rec){
				.time = copy->size >= sizeof(*copy) + sizeof(struct sample_id) ?
					((const struct sample_id *)((char *)copy + copy->size -
								    sizeof(struct sample_id)))->time : 0,
				.cpu_seq = seq++,
				.h = copy,
			};
		}
		tails[c] = tail;
	}
	sort_n(p->recs, p->nrecs, sizeof(*p->recs), rec_cmp);
	for (i = 0; i < p->nrecs; i++) {
		apply_record(p, p->recs[i].h, p->recs[i].time);
		free(p->recs[i].h);
	}
	for (c = 0; c < p->ncpu; c++)
		if (p->ev[c].ring)
			__atomic_store_n(&((struct perf_event_mmap_page *)p->ev[c].ring)->data_tail,
					 tails[c], __ATOMIC_RELEASE);
	free(tails);
}

/* ---- symbolizing one sample ---- */

static int out_reserve(struct profiler *p, size_t more)
{
	return ARRAY_GROW(p->out, p->out_cap, p->out_len + more, 65536);
}

/* Append a frame name, keeping the folded format's separators out of it. */
static void out_frame(struct profiler *p, const char *name, const char *suffix)
{
	size_t n = strlen(name), s = strlen(suffix), i;

	if (out_reserve(p, n + s + 2))
		return;
	if (p->out_len && p->out[p->out_len - 1] != '\t')
		p->out[p->out_len++] = ';';
	for (i = 0; i < n; i++) {
		char c = name[i];

		p->out[p->out_len++] = (c == ';' || c == '\t' || c == '\n') ? '_' : c;
	}
	memcpy(p->out + p->out_len, suffix, s);
	p->out_len += s;
}

static void out_printf(struct profiler *p, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void out_printf(struct profiler *p, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (out_reserve(p, 1024))
		return;
	va_start(ap, fmt);
	n = vsnprintf(p->out + p->out_len, p->out_cap - p->out_len, fmt, ap);
	va_end(ap);
	if (n > 0 && (size_t)n < p->out_cap - p->out_len)
		p->out_len += n;
}

/* One user frame's name, or NULL when ip is outside executable code. uid: the sample's. */
static const char *user_frame(struct profiler *p, struct proc *pr, uint32_t uid, uint64_t ip,
			      char *buf, size_t len)
{
	const struct mapping *m = pr ? proc_lookup(pr, ip) : NULL;
	const char *name, *base;
	struct binary *b;

	if (!m)
		return NULL;
	if (m->path[0] == '/' && strncmp(m->path, "/memfd:", 7) && strncmp(m->path, "//anon", 6)) {
		b = symcache__get(p->syms, m->dev, m->ino, m->path);
		name = b ? binary__sym_at_offset(b, ip - m->start + m->pgoff) : NULL;
		if (name)
			return name;
		base = strrchr(m->path, '/');
		snprintf(buf, len, "[%s]", base + 1);
		return buf;
	}
	if (!strcmp(m->path, "[vdso]"))
		return "[vdso]";
	/* anonymous executable memory: JIT code, named by the JIT's perf map */
	name = symcache__perf_map(p->syms, pr->pid, uid, ip);
	return name ? name : "[jit]";
}

static void fmt_conn_fields(struct profiler *p, uint64_t cookie)
{
	char l[64], r[64];
	struct prof_conn c;
	int role_client;

	if (!cookie || bpf_map_lookup_elem(bpf_map__fd(p->skel->maps.prof_conns), &cookie, &c)) {
		out_printf(p, "%s\t-\t-\t-\t-\t", cookie ? "?" : "-");
		return;
	}
	fmt_endpoint(l, sizeof(l), c.laddr, c.lport, c.family, 1);
	fmt_endpoint(r, sizeof(r), c.raddr, c.rport, c.family, 1);
	/*
	 * The peer service: a client's peer is its server, named with its
	 * port; a server's peer is a client, named by address (its port is
	 * ephemeral). Which end is the server: the lower port.
	 */
	role_client = c.lport > c.rport;
	out_printf(p, "%s\t%s\t%s\t%u\t", c.proto == 6 ? "tcp" : "udp", l, r, c.netns_ino);
	if (role_client)
		out_printf(p, "%s\t", r);
	else
		out_printf(p, "%s\t", fmt_addr(l, sizeof(l), c.raddr, c.family));
}

/*
 * Journal line: S time count tgid tid cgroup comm cookie proto local remote
 * netns peer stack, tab-separated; stack root first (docs/profile.md).
 */
static void emit(struct profiler *p, const struct prof_key *k, uint64_t count, uint64_t now)
{
	struct proc *pr = k->w.tgid ? proc_find(p, k->w.tgid) : NULL;
	char comm[17], buf[300];
	const char *names[PROF_USTACK_MAX];
	int i, nu = 0;

	if (k->w.tgid && k->nu && (!pr || !pr->n)) {
		/* no record of its mappings (it predates us, or a ring overflowed) */
		if (!proc_read_maps(p, k->w.tgid)) {
			pr = proc_find(p, k->w.tgid);
			p->st.procs_from_proc++;
		}
	}
	memcpy(comm, k->w.comm, 16);
	comm[16] = '\0';
	for (i = 0; comm[i]; i++)
		if (comm[i] == '\t' || comm[i] == ';' || comm[i] == '\n')
			comm[i] = '_';
	out_printf(p, "S\t%" PRIu64 "\t%" PRIu64 "\t%u\t%u\t%" PRIu64 "\t%s\t%" PRIu64 "\t", now,
		   count, k->w.tgid, k->w.tid, (uint64_t)k->w.cgroup_id, comm[0] ? comm : "?",
		   (uint64_t)k->w.cookie);
	fmt_conn_fields(p, k->w.cookie);

	/* user frames, leaf first; cut at the first one outside executable code */
	for (i = 0; i < k->nu && i < PROF_USTACK_MAX; i++) {
		/* return addresses point after the call: look up the call itself */
		uint64_t ip = i ? k->ustack[i] - 1 : k->ustack[i];
		const char *n = user_frame(p, pr, k->uid, ip, buf, sizeof(buf));

		if (!n) {
			p->st.frames_truncated++;
			break;
		}
		/* names from buf must survive the next call */
		names[nu++] = n == buf ? intern(p, buf) : n;
	}
	out_frame(p, comm[0] ? comm : "?", "");
	for (i = nu; i-- > 0;)
		out_frame(p, names[i] ? names[i] : "[unknown]", "");
	for (i = k->nk < PROF_KSTACK_MAX ? k->nk : PROF_KSTACK_MAX; i-- > 0;) {
		uint64_t ip = i ? k->kstack[i] - 1 : k->kstack[i];
		const char *n = ksyms__find(p->ksyms, ip);

		out_frame(p, n ? n : "[unknown]", "_[k]");
	}
	out_printf(p, "\n");
}

/* ---- the drain ---- */

/*
 * Wait until every sample that started before the flip is done: per CPU,
 * done (recorded + full + filtered) catches up with samples as read after the flip.
 * Samples that start later read the new active_set (profile.bpf.c).
 */
static void wait_inflight(struct profiler *p)
{
	int fd = bpf_map__fd(p->skel->maps.prof_stats), c, tries;
	uint64_t *s, *r, *f, *x;
	__u32 k;

	s = calloc(p->ncpu * 4, sizeof(*s));
	if (!s)
		return;
	r = s + p->ncpu;
	f = r + p->ncpu;
	x = f + p->ncpu;
	k = PSTAT_SAMPLES;
	if (bpf_map_lookup_elem(fd, &k, s))
		goto out;
	for (tries = 0; tries < 1000; tries++) {
		int busy = 0;

		k = PSTAT_RECORDED;
		if (bpf_map_lookup_elem(fd, &k, r))
			break;
		k = PSTAT_COUNTS_FULL;
		if (bpf_map_lookup_elem(fd, &k, f))
			break;
		k = PSTAT_FILTERED;
		if (bpf_map_lookup_elem(fd, &k, x))
			break;
		for (c = 0; c < p->ncpu; c++)
			busy |= r[c] + f[c] + x[c] < s[c];
		if (!busy)
			break;
		usleep(100);
	}
out:
	free(s);
}

static uint64_t thread_cpu_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static void journal_write(struct profiler *p)
{
	struct stat st;
	size_t off = 0;

	if (p->journal_fd < 0 || !p->out_len)
		return;
	/* rotate: keep this file and the one before */
	if (!fstat(p->journal_fd, &st) && st.st_size > 16 << 20) {
		char old[520];

		snprintf(old, sizeof(old), "%s.1", p->journal);
		rename(p->journal, old);
		close(p->journal_fd);
		p->journal_fd = open(p->journal, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
		if (p->journal_fd < 0)
			return;
	}
	while (off < p->out_len) {
		ssize_t n = write(p->journal_fd, p->out + off, p->out_len - off);

		if (n <= 0)
			break;
		off += n;
	}
	p->st.journal_bytes += off;
}

static void prof_stats_write(struct profiler *p)
{
	struct bpf_prog_info info = {};
	__u32 len = sizeof(info), zero = 0;

	if (!bpf_obj_get_info_by_fd(bpf_program__fd(p->sample), &info, &len)) {
		p->st.bpf_run_ns = info.run_time_ns;
		p->st.bpf_run_cnt = info.run_cnt;
	}
	bpf_map_update_elem(p->daemon_fd, &zero, &p->st, BPF_ANY);
}

/* Read and empty count map set: each entry to the journal. */
static void drain_counts(struct profiler *p, __u32 set, uint64_t now, uint64_t *entries,
			 uint64_t *nsamples)
{
	struct prof_key *keys = malloc(BATCH * sizeof(*keys));
	uint64_t vals[BATCH];
	__u32 in = 0, out, n, i;
	int fd, err;

	fd = bpf_map__fd(set ? p->skel->maps.prof_counts1 : p->skel->maps.prof_counts0);
	for (;;) {
		n = BATCH;
		err = keys ? bpf_map_lookup_and_delete_batch(fd, in ? &in : NULL, &out, keys, vals, &n,
							     NULL) : -ENOMEM;
		if (err && errno != ENOENT)
			break;
		for (i = 0; i < n; i++) {
			emit(p, &keys[i], vals[i], now);
			*nsamples += vals[i];
		}
		*entries += n;
		if (err)
			break;	/* ENOENT: that was the last batch */
		in = out;
	}
	free(keys);
}

/* The first n frames of the stack kept under hash in stacks_fd, into ip; the frames found. */
static unsigned int stack_get(int stacks_fd, __u64 hash, unsigned int n, __u64 *ip, unsigned int max,
			      struct prof_stack *buf)
{
	if (!hash || !n || bpf_map_lookup_elem(stacks_fd, &hash, buf))
		return 0;
	if (n > max)
		n = max;
	memcpy(ip, buf->ip, n * sizeof(*ip));
	return n;
}

/*
 * profile_sample_hashed's set (before 5.11): counts by stack hash, the
 * stacks beside them. Each count is joined with its stacks and written as
 * drain_counts would; then the set's stacks are emptied.
 */
static void drain_hashed(struct profiler *p, __u32 set, uint64_t now, uint64_t *entries,
			 uint64_t *nsamples)
{
	struct prof_hkey *keys = malloc(BATCH * sizeof(*keys));
	struct prof_stack *stacks = malloc(BATCH * sizeof(*stacks));
	struct prof_key *k = calloc(1, sizeof(*k));
	__u64 vals[BATCH], hashes[BATCH];
	__u32 in = 0, out, n, i;
	int fd, sfd, err;

	fd = bpf_map__fd(set ? p->skel->maps.prof_hcounts1 : p->skel->maps.prof_hcounts0);
	sfd = bpf_map__fd(set ? p->skel->maps.prof_stacks1 : p->skel->maps.prof_stacks0);
	for (;;) {
		n = BATCH;
		err = keys && stacks && k ?
		      bpf_map_lookup_and_delete_batch(fd, in ? &in : NULL, &out, keys, vals, &n, NULL) :
		      -ENOMEM;
		if (err && errno != ENOENT)
			break;
		for (i = 0; i < n; i++) {
			memset(k, 0, sizeof(*k));
			k->w = keys[i].w;
			k->uid = keys[i].uid;	/* whose perf maps it may name frames from */
			k->nk = stack_get(sfd, keys[i].khash, keys[i].nk, k->kstack, PROF_KSTACK_MAX,
					  stacks);
			k->nu = stack_get(sfd, keys[i].uhash, keys[i].nu, k->ustack, PROF_USTACK_MAX,
					  stacks);
			emit(p, k, vals[i], now);
			*nsamples += vals[i];
		}
		*entries += n;
		if (err)
			break;
		in = out;
	}
	/* no sample writes this set until the next flip: empty its stacks */
	in = 0;
	for (;;) {
		n = BATCH;
		err = stacks ? bpf_map_lookup_and_delete_batch(sfd, in ? &in : NULL, &out, hashes, stacks,
								&n, NULL) : -ENOMEM;
		if (err)
			break;
		in = out;
	}
	free(keys);
	free(stacks);
	free(k);
}

static void profile__drain(struct np_daemon *d)
{
	struct profiler *p = d->prof;
	uint64_t cpu0, now, entries = 0, nsamples = 0;
	__u32 old;
	struct proc *pr, *next;
	int b;

	if (!p)
		return;
	cpu0 = thread_cpu_ns();
	p->out_len = 0;
	old = p->skel->bss->active_set;
	p->skel->bss->active_set = !old;
	__sync_synchronize();
	wait_inflight(p);
	/* mappings made before any sample of the old set are in the rings now */
	read_sideband(p);
	now = now_mono_ns();

	if (p->hashed)
		drain_hashed(p, old, now, &entries, &nsamples);
	else
		drain_counts(p, old, now, &entries, &nsamples);
	out_printf(p, "D\t%" PRIu64 "\t%" PRIu64 "\t%" PRIu64 "\n", now, nsamples, entries);
	journal_write(p);

	/* processes that exited are kept until their samples were drained: now */
	for (b = 0; b < PROC_BUCKETS; b++)
		for (pr = p->procs[b]; pr; pr = next) {
			next = pr->next;
			if (pr->exited_ns)
				proc_free_one(p, pr);
		}
	if (entries > p->st.counts_peak)
		p->st.counts_peak = entries;
	p->st.drains++;
	p->st.last_drain_ns = now;
	p->st.drain_cpu_ns += thread_cpu_ns() - cpu0;
	prof_stats_write(p);
}

/* ---- start and stop ---- */

static int open_events(struct np_daemon *d, struct profiler *p)
{
	struct perf_event_attr attr = {
		.size = sizeof(attr),
		.type = PERF_TYPE_SOFTWARE,
		.config = PERF_COUNT_SW_CPU_CLOCK,
		.freq = 1,
		.sample_freq = d->prof_hz,
		/* side-band records, for mappings of processes that exit early */
		.mmap = 1, .mmap2 = 1, .comm = 1, .comm_exec = 1, .task = 1,
		.sample_id_all = 1,
		.sample_type = PERF_SAMPLE_TID | PERF_SAMPLE_TIME,
		.watermark = 1,
		.wakeup_watermark = RING_PAGES * 4096 / 2,
	};
	int c, err;

	for (c = 0; c < p->ncpu; c++) {
		struct cpu_event *e = &p->ev[c];

		e->fd = perf_event_open(&attr, c);
		if (e->fd < 0) {
			err = -errno;
			if (err == -ENODEV)	/* CPU offline */
				continue;
			pr_err("perf_event_open on CPU %d: %s%s", c, strerror(-err),
			       err == -EACCES || err == -EPERM ?
			       ": netprofd needs CAP_PERFMON (or root) to profile; or --no-profile" : "");
			return err;
		}
		e->ring = mmap(NULL, (RING_PAGES + 1) * p->page_size, PROT_READ | PROT_WRITE,
			       MAP_SHARED, e->fd, 0);
		if (e->ring == MAP_FAILED) {
			e->ring = NULL;
			pr_warn("profiler: no side-band ring on CPU %d (%s): mappings from /proc only\n",
				c, strerror(errno));
		}
		e->link = bpf_program__attach_perf_event(p->sample, e->fd);
		if (!e->link) {
			err = -errno;
			pr_err("attaching the profiler to CPU %d: %s", c, strerror(-err));
			return err;
		}
	}
	return 0;
}

static const struct prog_opt prof_opts[] = {
	/* 5.10 refuses hash keys over 512 bytes: the whole-stack key */
	{ "profile_sample", "profile_sample_hashed", "no samples", 1 },
	{ "prof_send", "prof_send_fentry", "samples are not tied to connections (sends)" },
	{ "prof_recv", "prof_recv_fentry", "samples are not tied to connections (receives)" },
	/* 5.10's tracing programs may not make a socket's cookie */
	{ "prof_send_fentry", "prof_send_fentry_skc", "samples are not tied to connections (sends)",
	  0, 0, "samples tie only to sockets sock_ops has seen (TCP in --cgroup)" },
	{ "prof_recv_fentry", "prof_recv_fentry_skc", "samples are not tied to connections (receives)",
	  0, 0, "samples tie only to sockets sock_ops has seen (TCP in --cgroup)" },
};

/* each sampler's count maps, made only where it loads */
static const struct prog_map_owner prof_map_owners[] = {
	{ "prof_counts0", "profile_sample" },
	{ "prof_counts1", "profile_sample" },
	{ "prof_hcounts0", "profile_sample_hashed" },
	{ "prof_hcounts1", "profile_sample_hashed" },
	{ "prof_stacks0", "profile_sample_hashed" },
	{ "prof_stacks1", "profile_sample_hashed" },
};

const struct np_object profile_object = {
	"profile", profile_bpf__elf_bytes, prof_opts, sizeof(prof_opts) / sizeof(prof_opts[0]), 0,
	prof_map_owners, sizeof(prof_map_owners) / sizeof(prof_map_owners[0]),
};

static void *profile_open(struct np_daemon *d, void *arg, const struct prog_plan *plan)
{
	LIBBPF_OPTS(bpf_object_open_opts, opts, .pin_root_path = d->pin_dir);
	struct profile_bpf *skel;
	int ncounts;

	skel = profile_bpf__open_opts(&opts);
	if (!skel)
		return NULL;
	/* room for two drains of every CPU sampling a distinct stack each time */
	ncounts = d->prof_hz * d->prof->ncpu * 2 * (d->sweep_interval_ns / 1000000000ULL + 1);
	if (ncounts < PROF_COUNTS_DEFAULT_MAX)
		ncounts = PROF_COUNTS_DEFAULT_MAX;
	if (ncounts > 262144)
		ncounts = 262144;
	bpf_map__set_max_entries(skel->maps.prof_counts0, ncounts);
	bpf_map__set_max_entries(skel->maps.prof_counts1, ncounts);
	bpf_map__set_max_entries(skel->maps.prof_hcounts0, ncounts);
	bpf_map__set_max_entries(skel->maps.prof_hcounts1, ncounts);
	/* a kernel and a user stack per count at most */
	bpf_map__set_max_entries(skel->maps.prof_stacks0, 2 * ncounts);
	bpf_map__set_max_entries(skel->maps.prof_stacks1, 2 * ncounts);
	skel->rodata->conn_window_ns = d->prof_window_ns;
	skel->rodata->filter_tgid = d->prof_pid;
	skel->rodata->filter_cgroup = d->prof_cgroup_fd >= 0;
	if (d->prof_comm) {
		skel->rodata->filter_comm_on = true;
		strncpy((char *)skel->rodata->filter_comm, d->prof_comm, 15);
	}
	object_apply(&profile_object, plan, skel->obj);
	return skel;
}

SKEL_OPS(profile, profile_open);

static int profile__start(struct np_daemon *d)
{
	struct profiler *p;
	char dir[512];
	int err;

	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	d->prof = p;
	p->journal_fd = -1;
	p->daemon_fd = -1;
	p->page_size = sysconf(_SC_PAGESIZE);
	p->ncpu = libbpf_num_possible_cpus();
	p->ev = calloc(p->ncpu, sizeof(*p->ev));
	if (p->ncpu <= 0 || !p->ev)
		return -ENOMEM;
	for (int c = 0; c < p->ncpu; c++)
		p->ev[c].fd = -1;

	p->skel = object_load(d, &profile_object, &profile_ops, NULL, NP_CAP_PROFILE, NULL);
	if (!p->skel)
		return -errno;
	p->hashed = bpf_program__autoload(p->skel->progs.profile_sample_hashed);
	p->sample = p->hashed ? p->skel->progs.profile_sample_hashed : p->skel->progs.profile_sample;
	if (d->prof_cgroup_fd >= 0) {
		__u32 zero = 0;

		err = bpf_map_update_elem(bpf_map__fd(p->skel->maps.prof_cgroup), &zero,
					  &d->prof_cgroup_fd, BPF_ANY);
		if (err) {
			err = -errno;
			pr_err("profiling cgroup %s: %s", d->prof_cgroup, strerror(-err));
			return err;
		}
	}
	p->daemon_fd = bpf_map__fd(p->skel->maps.prof_daemon);
	p->st = (struct prof_daemon_stats){
		.pid = getpid(), .hz = d->prof_hz, .window_ns = d->prof_window_ns,
		.counts_max = bpf_map__max_entries(p->skel->maps.prof_counts0),
	};

	p->ksyms = ksyms__load();
	if (!p->ksyms)
		pr_warn("profiler: cannot read kernel symbols from /proc/kallsyms (%s): kernel frames stay [unknown]\n",
			strerror(errno));
	p->syms = symcache__new(d->debug_dir);
	if (!p->syms)
		return -ENOMEM;

	err = pins_state_path(dir, sizeof(dir), d->pin_dir, NULL);
	if (!err)
		err = mkdir_p(dir, 0700);
	if (!err)
		err = pins_state_path(p->journal, sizeof(p->journal), d->pin_dir, PROF_JOURNAL);
	if (err) {
		pr_err("cannot create the profile journal's directory %s: %s", dir, strerror(-err));
		return err;
	}
	p->journal_fd = open(p->journal, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	if (p->journal_fd < 0) {
		err = -errno;
		pr_err("cannot open the profile journal %s: %s", p->journal, strerror(-err));
		return err;
	}

	/* the connection each thread serves: only while netprofd runs, not pinned */
	{
		struct bpf_program *io[] = {
			p->skel->progs.prof_send, p->skel->progs.prof_recv,
			p->skel->progs.prof_send_fentry, p->skel->progs.prof_recv_fentry,
			p->skel->progs.prof_send_fentry_skc, p->skel->progs.prof_recv_fentry_skc,
		};
		struct bpf_link **links[] = {
			&p->skel->links.prof_send, &p->skel->links.prof_recv,
			&p->skel->links.prof_send_fentry, &p->skel->links.prof_recv_fentry,
			&p->skel->links.prof_send_fentry_skc, &p->skel->links.prof_recv_fentry_skc,
		};

		for (size_t i = 0; i < sizeof(io) / sizeof(io[0]); i++) {
			if (!bpf_program__autoload(io[i]))
				continue;	/* left out on this kernel (progload.h) */
			*links[i] = bpf_program__attach(io[i]);
			if (!*links[i]) {
				err = -errno;
				pr_err("attaching the profiler's %s: %s", bpf_program__name(io[i]),
				       strerror(-err));
				return err;
			}
		}
	}

	err = open_events(d, p);
	if (err)
		return err;
	/* after the events: a process started in between is in the records */
	scan_proc(p);
	prof_stats_write(p);
	pr_info("profiler: %u Hz on %d CPUs, journal %s\n", d->prof_hz, p->ncpu, p->journal);
	return 0;
}

static void profile__stop(struct np_daemon *d)
{
	struct profiler *p = d->prof;
	struct proc *pr;
	int c, b;

	if (!p)
		return;
	if (p->skel && p->daemon_fd >= 0) {
		p->st.pid = 0;
		prof_stats_write(p);
	}
	for (c = 0; p->ev && c < p->ncpu; c++) {
		bpf_link__destroy(p->ev[c].link);	/* closes the event fd too */
		if (p->ev[c].ring)
			munmap(p->ev[c].ring, (RING_PAGES + 1) * p->page_size);
		if (!p->ev[c].link && p->ev[c].fd >= 0)
			close(p->ev[c].fd);
	}
	free(p->ev);
	profile_bpf__destroy(p->skel);
	for (b = 0; b < PROC_BUCKETS; b++)
		while ((pr = p->procs[b])) {
			p->procs[b] = pr->next;
			free(pr->m);
			free(pr);
		}
	strcount_free(&p->paths, NULL);
	free(p->recs);
	free(p->out);
	ksyms__free(p->ksyms);
	symcache__free(p->syms);
	if (p->journal_fd >= 0)
		close(p->journal_fd);
	free(p);
	d->prof = NULL;
}

/* The profiler's part of netprofd --metrics (names: docs/metrics.md). */
static void profile__metrics(struct np_daemon *d, FILE *f)
{
	struct profiler *p = d->prof;
	uint64_t s[PSTAT_MAX] = {};
	char name[80];
	size_t i;

	if (!p || percpu_array_sum(bpf_map__fd(p->skel->maps.prof_stats), s, PSTAT_MAX))
		return;
	for (i = 0; i < PSTAT_MAX; i++) {
		snprintf(name, sizeof(name), "netprof_profiler_%s_total", prof_stat_rows[i].metric);
		prom_write(f, name, "counter", prof_stat_rows[i].help, s[i]);
	}
	prom_write(f, "netprof_profiler_sideband_lost_records_total", "counter",
		      "Mmap, fork and exit records perf dropped.", p->st.sideband_lost);
	prom_write(f, "netprof_profiler_drains_total", "counter",
		      "Count maps read and emptied.", p->st.drains);
	prom_write(f, "netprof_profiler_drain_cpu_seconds_total", "counter",
		      "netprofd's CPU time reading and symbolizing samples.", p->st.drain_cpu_ns / 1e9);
	prom_write(f, "netprof_profiler_count_map_peak_entries", "gauge",
		      "Most entries one drain found in a count map.", p->st.counts_peak);
	prom_write(f, "netprof_profiler_count_map_max_entries", "gauge",
		      "Capacity of a count map.", p->st.counts_max);
}

static const char *profile_off(const struct np_daemon *d)
{
	return d->no_profile ? "--no-profile" : NULL;
}

/* --profile-cgroup must name a cgroup v2 directory */
static int profile_check(struct np_daemon *d)
{
	char dir[4096];
	int e;

	if (!d->prof_cgroup || d->no_profile)
		return 0;
	e = cgroup_resolve(d->prof_cgroup, dir, sizeof(dir));
	if (e == -ENODEV) {
		pr_err("--profile-cgroup: cgroup v2 is not mounted: mount it (mount -t cgroup2 none /sys/fs/cgroup)");
		return e;
	}
	if (e || (d->prof_cgroup_fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
		pr_err("--profile-cgroup '%s' not found: give a cgroup v2 directory (e.g. system.slice/nginx.service)",
		       d->prof_cgroup);
		return -ENOENT;
	}
	return 0;
}

/*
 * On by default: where perf events are not allowed it runs without the
 * profiler, and where the kernel refuses its programs, always; a failure
 * stops netprofd only when a --profile-* option asked for it.
 */
static int profile_start(struct np_daemon *d)
{
	int err;

	if (d->no_profile)
		return 0;
	err = profile__start(d);
	if (err && (!d->prof_asked || err == -ENOTSUP)) {
		if (d->caps[NP_CAP_PROFILE].state != NP_CAP_UNAVAILABLE)
			cap_set(d, NP_CAP_PROFILE, NP_CAP_UNAVAILABLE, strerror(-err));
		pr_warn("running without the CPU profiler (pass --no-profile to say so, or fix the error above)\n");
		profile__stop(d);
		return -ENOTSUP;
	}
	return err;
}

static void profile_tick(struct np_daemon *d, uint64_t now)
{
	profile__drain(d);
}

static int set_hz(struct np_daemon *d, const char *arg)
{
	uint64_t v;

	if (opt_number("profile-hz", arg, 1, 10000, &v))
		return -EINVAL;
	d->prof_hz = v;
	d->prof_asked = 1;
	return 0;
}

static int set_window(struct np_daemon *d, const char *arg)
{
	d->prof_asked = 1;
	return opt_duration("profile-window", arg, 1 * MS_, 3600 * S_, &d->prof_window_ns);
}

static int set_pid(struct np_daemon *d, const char *arg)
{
	uint64_t v;

	if (parse_u64(arg, &v) || !v || v > 0x7fffffff) {
		pr_err("--profile-pid '%s': give a process id", arg);
		return -EINVAL;
	}
	d->prof_pid = v;
	d->prof_asked = 1;
	return 0;
}

static int set_cgroup(struct np_daemon *d, const char *arg)
{
	d->prof_cgroup = arg;
	d->prof_asked = 1;
	return 0;
}

static int set_comm(struct np_daemon *d, const char *arg)
{
	if (!*arg || strlen(arg) > 15) {
		pr_err("--profile-comm '%s': give a command name of 1 to 15 characters (as in /proc/PID/comm)",
		       arg);
		return -EINVAL;
	}
	d->prof_comm = arg;
	d->prof_asked = 1;
	return 0;
}

static const struct np_option profile_options[] = {
	OPT_FLAG("no-profile", "no CPU profiler", no_profile),
	{ "profile-hz", 0, "N", "CPU samples per second on each CPU (default 99)", set_hz },
	{ "profile-window", 0, "DUR", "a sample belongs to the socket its thread last sent\n"
	  "or received on this recently (default 100ms)", set_window },
	{ "profile-pid", 0, "PID", "profile only this process", set_pid },
	{ "profile-cgroup", 0, "PATH", "profile only this cgroup v2 and below", set_cgroup },
	{ "profile-comm", 0, "NAME", "profile only threads with this command name", set_comm },
	OPT_STR("debug-dir", 0, "DIR", "separate debug files (default /usr/lib/debug)", debug_dir),
	{}
};

const struct np_module profile_module = {
	.name = "profile",
	.cap = NP_CAP_PROFILE,
	.options = profile_options,
	.off = profile_off,
	.check = profile_check,
	.start = profile_start,
	.stop = profile__stop,
	.tick = profile_tick,
	.metrics = profile__metrics,
};
