// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * netprof capture: packets taken at TC ingress and egress of the chosen
 * interfaces, filtered in the kernel by a tcpdump expression (libpcap
 * compiles it, lib/cbpf.c translates it to eBPF), written as pcap
 * (libpcap) or pcapng with a comment naming the process that owns each
 * TCP packet's socket on this host, from netprofd's socket table.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <net/if.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <sys/stat.h>
#include <linux/if_ether.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "cbpf.h"
#include "cli.h"
#include "filter.h"
#include "flow.h"
#include "format.h"
#include "log.h"
#include "pcapout.h"
#include "pins.h"
#include "sockets.h"
#include "socktab.h"

#define MAX_IFACES	64
#define OWNERS_REFRESH_NS	200000000ULL
#define NAME_DELAY_NS		500000000ULL

static const char capture_usage[] =
"Usage: netprof capture [-i IF]... [--netns NS] -w FILE [-c N] [-s SNAPLEN]\n"
"                       [-F pcap|pcapng] [FILTER]\n"
"Capture packets at TC ingress and egress, filtered in the kernel by a\n"
"tcpdump expression. In pcapng, each TCP packet whose socket netprofd\n"
"follows carries a comment naming the process (command[pid] and cgroup).\n"
"\n"
"  -i, --interface IF  capture on IF (repeatable; default: every interface)\n"
"      --netns NS      the interfaces of network namespace NS (ip netns)\n"
"  -w, --write FILE    write to FILE (- for stdout)\n"
"  -F, --format FMT    pcap or pcapng (default: pcapng if FILE ends in .pcapng)\n"
"  -c, --count N       stop after N packets\n"
"  -s, --snaplen N     bytes kept per packet (default 262144)\n"
"      --file-mode M   FILE's permissions, in octal (default 0600: packets\n"
"                      hold payloads; 0644 to share it)\n"
"  -h, --help          this text\n"
"\n"
"Ctrl-C stops; the counts of packets written and lost go to stderr.\n";

struct iface {
	int		ifindex;
	char		name[IF_NAMESIZE];
	int		id;		/* in the output file */
	int		created;	/* we made its clsact qdisc */
	int		attached[2];
};

/* A packet waiting for the socket table to catch up with its connection. */
struct pending {
	struct pending		*next;
	struct capture_meta	m;
	int			id;
	uint32_t		caplen;
	uint8_t			data[];
};

#define PENDING_MAX	(64 << 20)	/* bytes queued at most; beyond: written without names */

struct capture {
	struct pcap_out		*out;
	unsigned int		file_mode;	/* of -w FILE */
	struct pending		*head, **tail;
	size_t			pending_bytes;
	struct iface		ifs[MAX_IFACES];
	int			nifs;
	long			count, written, lost, write_err;
	int64_t			mono_to_real;
	int			pcapng;
	uint32_t		snaplen, netns_ino;
	/* owners */
	struct sock_table	st;
	struct sock_index	*ix;
	int			socks_fd, closed_fd, names_fd;
	uint64_t		owners_at;
};

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

enum { OPT_FILE_MODE = 256 };

static const struct option capture_opts[] = {
	{ "interface", required_argument, NULL, 'i' },
	{ "netns",     required_argument, NULL, 'N' },
	{ "write",     required_argument, NULL, 'w' },
	{ "format",    required_argument, NULL, 'F' },
	{ "count",     required_argument, NULL, 'c' },
	{ "snaplen",   required_argument, NULL, 's' },
	{ "file-mode", required_argument, NULL, OPT_FILE_MODE },
	{ "help",      no_argument,       NULL, 'h' },
	{}
};

/* ---- owners ---- */

static void owners_refresh(struct capture *c, uint64_t now)
{
	if (c->socks_fd < 0 || now - c->owners_at < OWNERS_REFRESH_NS)
		return;
	c->owners_at = now;
	sock_index__free(c->ix);
	socktab_free(&c->st);
	c->ix = NULL;
	if (socktab_read(c->socks_fd, &c->st))
		return;
	if (c->closed_fd >= 0)	/* a packet may come after its socket closed */
		socktab_append_closed(c->closed_fd, 10ULL * 1000000000ULL, &c->st);
	c->ix = sock_index__new(&c->st);
}

/*
 * "netprof: src curl[12] /x; dst nginx[34] /y" for a TCP
 * packet of followed sockets, else NULL.
 */
static const char *comment_for(struct capture *c, const uint8_t *pkt, uint32_t caplen, char *buf,
			       size_t len)
{
	uint8_t src[16] = {}, dst[16] = {};
	const struct sock_record *s, *d;
	char a[300] = "", b[300] = "";
	uint16_t proto, sport, dport;
	size_t off = 14, l4;

	if (caplen < 14 || c->socks_fd < 0)
		return NULL;
	proto = pkt[12] << 8 | pkt[13];
	while ((proto == 0x8100 || proto == 0x88a8) && caplen >= off + 4) {
		proto = pkt[off + 2] << 8 | pkt[off + 3];
		off += 4;
	}
	if (proto == ETH_P_IP && caplen >= off + 20 && pkt[off + 9] == 6) {
		l4 = off + (pkt[off] & 0xf) * 4;
		src[10] = src[11] = dst[10] = dst[11] = 0xff;	/* IPv4-mapped, as the table */
		memcpy(src + 12, pkt + off + 12, 4);
		memcpy(dst + 12, pkt + off + 16, 4);
	} else if (proto == ETH_P_IPV6 && caplen >= off + 40 && pkt[off + 6] == 6) {
		l4 = off + 40;
		memcpy(src, pkt + off + 8, 16);
		memcpy(dst, pkt + off + 24, 16);
	} else {
		return NULL;
	}
	if (caplen < l4 + 4)
		return NULL;
	sport = pkt[l4] << 8 | pkt[l4 + 1];
	dport = pkt[l4 + 2] << 8 | pkt[l4 + 3];
	if (!c->ix)
		return NULL;
	s = sock_index__find(c->ix, c->netns_ino, src, sport, dst, dport);
	d = sock_index__find(c->ix, c->netns_ino, dst, dport, src, sport);
	if (!s && !d)
		return NULL;
	if (s && s->owner.tgid)
		sock_owner_text(c->names_fd, s, a, sizeof(a));
	if (d && d->owner.tgid)
		sock_owner_text(c->names_fd, d, b, sizeof(b));
	if (!a[0] && !b[0])
		return NULL;
	snprintf(buf, len, "netprof:%s%s%s%s%s", a[0] ? " src " : "", a, a[0] && b[0] ? ";" : "",
		 b[0] ? " dst " : "", b);
	return buf;
}

/* ---- the perf ring ---- */

static void write_one(struct capture *c, const struct capture_meta *m, int id, const uint8_t *pkt,
		      uint32_t caplen)
{
	const char *comment = NULL;
	char buf[640];

	if (c->pcapng)
		comment = comment_for(c, pkt, caplen, buf, sizeof(buf));
	if (pcap_out__write(c->out, id, m->ts_ns + c->mono_to_real, pkt, caplen, m->len, m->dir,
			    comment))
		c->write_err++;
}

/*
 * Write the queue. Packets are named from the socket table, read at most
 * every OWNERS_REFRESH_NS; a packet waits until the table was read
 * NAME_DELAY_NS after it, so that its connection had time to be
 * established (a SYN-ACK's socket appears with the ACK). final: all now.
 */
static void flush_pending(struct capture *c, int final)
{
	uint64_t now = now_mono_ns();
	struct pending *p;

	if (!c->head || (!final && c->head->m.ts_ns + NAME_DELAY_NS > now))
		return;
	if (final)
		c->owners_at = 0;
	owners_refresh(c, now);
	while ((p = c->head) && (final || p->m.ts_ns + NAME_DELAY_NS <= c->owners_at)) {
		c->head = p->next;
		write_one(c, &p->m, p->id, p->data, p->caplen);
		c->pending_bytes -= p->caplen;
		free(p);
	}
	if (!c->head)
		c->tail = &c->head;
}

static void on_sample(void *ctx, int cpu, void *data, __u32 size)
{
	struct capture *c = ctx;
	struct capture_meta m;
	const uint8_t *pkt = (const uint8_t *)data + sizeof(m);
	struct pending *p;
	uint32_t caplen;
	int i, id = 0;

	(void)cpu;
	if (size < sizeof(m) || (c->count && c->written >= c->count))
		return;
	memcpy(&m, data, sizeof(m));
	caplen = size - sizeof(m);	/* perf pads the record to 8 bytes */
	if (caplen > m.len)
		caplen = m.len;
	if (caplen > c->snaplen)
		caplen = c->snaplen;
	for (i = 0; i < c->nifs; i++)
		if (c->ifs[i].ifindex == (int)m.ifindex)
			id = c->ifs[i].id;
	c->written++;
	if (c->count && c->written >= c->count)
		stop = 1;
	if (!c->pcapng || c->socks_fd < 0 || c->pending_bytes + caplen > PENDING_MAX ||
	    !(p = malloc(sizeof(*p) + caplen))) {
		flush_pending(c, 1);	/* keep the order */
		write_one(c, &m, id, pkt, caplen);
		return;
	}
	p->next = NULL;
	p->m = m;
	p->id = id;
	p->caplen = caplen;
	memcpy(p->data, pkt, caplen);
	*c->tail = p;
	c->tail = &p->next;
	c->pending_bytes += caplen;
}

static void on_lost(void *ctx, int cpu, __u64 n)
{
	struct capture *c = ctx;

	(void)cpu;
	c->lost += n;
}

/* ---- attaching ---- */

/*
 * The ring a capture's programs write is named np_cap_PID: PID holds it
 * while the capture runs. A capture killed before it could detach leaves
 * its filters behind; they hold a ring nobody reads.
 */
#define RING_NAME_PREFIX	"np_cap_"

/* Does process pid hold an fd of BPF map map_id? */
static int holds_map(unsigned int pid, __u32 map_id)
{
	char path[64], line[128];
	struct dirent *de;
	int found = 0;
	DIR *dir;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%u/fdinfo", pid);
	dir = opendir(path);
	while (dir && !found && (de = readdir(dir))) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/proc/%u/fdinfo/%.16s", pid, de->d_name);
		/* fdinfo files are the kernel's: regular, small, never blocking */
		f = fopen(path, "re");
		while (f && fgets(line, sizeof(line), f))
			if (!strncmp(line, "map_id:", 7) && strtoul(line + 7, NULL, 10) == map_id) {
				found = 1;
				break;
			}
		if (f)
			fclose(f);
	}
	if (dir)
		closedir(dir);
	return found;
}

/*
 * The pid of the capture whose filter sits at (ifindex, dir) if that
 * capture is gone; 0 if it runs, or the filter is not a netprof capture's.
 */
static unsigned int dead_capture(int ifindex, int dir)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex,
		    .attach_point = dir ? BPF_TC_EGRESS : BPF_TC_INGRESS);
	LIBBPF_OPTS(bpf_tc_opts, opts, .handle = NP_CAPTURE_TC_HANDLE, .priority = NP_TC_PRIO);
	struct bpf_prog_info pi = {};
	struct bpf_map_info mi = {};
	__u32 ids[8], len, i, n;
	unsigned int pid = 0;
	int pfd, mfd;

	if (bpf_tc_query(&hook, &opts) || !opts.prog_id)
		return 0;
	pfd = bpf_prog_get_fd_by_id(opts.prog_id);
	if (pfd < 0)
		return 0;
	pi.nr_map_ids = sizeof(ids) / sizeof(ids[0]);
	pi.map_ids = (__u64)(unsigned long)ids;
	len = sizeof(pi);
	if (bpf_obj_get_info_by_fd(pfd, &pi, &len) || strncmp(pi.name, "np_cap_", 7)) {
		close(pfd);
		return 0;
	}
	close(pfd);
	n = pi.nr_map_ids < sizeof(ids) / sizeof(ids[0]) ? pi.nr_map_ids : sizeof(ids) / sizeof(ids[0]);
	for (i = 0; i < n && !pid; i++) {
		mfd = bpf_map_get_fd_by_id(ids[i]);
		if (mfd < 0)
			continue;
		len = sizeof(mi);
		memset(&mi, 0, sizeof(mi));
		if (!bpf_obj_get_info_by_fd(mfd, &mi, &len) && mi.type == BPF_MAP_TYPE_PERF_EVENT_ARRAY &&
		    !strncmp(mi.name, RING_NAME_PREFIX, strlen(RING_NAME_PREFIX)))
			pid = strtoul(mi.name + strlen(RING_NAME_PREFIX), NULL, 10);
		close(mfd);
		if (pid && holds_map(pid, ids[i]))
			return 0;	/* it runs */
	}
	return pid;
}

static int attach(struct iface *ifc, int fds[2])
{
	LIBBPF_OPTS(bpf_tc_hook, q, .ifindex = ifc->ifindex, .attach_point = BPF_TC_INGRESS);
	libbpf_print_fn_t print;
	int dir, err;

	/* clsact, unless there (EEXIST is the usual case: no kernel message for it) */
	print = libbpf_set_print(NULL);
	err = bpf_tc_hook_create(&q);
	libbpf_set_print(print);
	if (!err)
		ifc->created = 1;
	else if (err != -EEXIST)
		return err;
	for (dir = 0; dir < 2; dir++) {
		LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifc->ifindex,
			    .attach_point = dir ? BPF_TC_EGRESS : BPF_TC_INGRESS);
		LIBBPF_OPTS(bpf_tc_opts, opts, .prog_fd = fds[dir], .handle = NP_CAPTURE_TC_HANDLE,
			    .priority = NP_TC_PRIO);

		/* EEXIST is said below, better than the kernel's message */
		print = libbpf_set_print(NULL);
		err = bpf_tc_attach(&hook, &opts);
		libbpf_set_print(print);
		if (err == -EEXIST) {
			unsigned int pid = dead_capture(ifc->ifindex, dir);
			LIBBPF_OPTS(bpf_tc_opts, old, .handle = NP_CAPTURE_TC_HANDLE,
				    .priority = NP_TC_PRIO);

			if (pid && !bpf_tc_detach(&hook, &old)) {
				pr_warn("%s: removed the %s filter of a capture that is gone (pid %u)\n",
					ifc->name, dir ? "egress" : "ingress", pid);
				opts.prog_id = 0;
				err = bpf_tc_attach(&hook, &opts);
			}
		}
		if (err)
			return err;
		ifc->attached[dir] = 1;
	}
	return 0;
}

static void detach(struct iface *ifc)
{
	int dir;

	for (dir = 0; dir < 2; dir++) {
		LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifc->ifindex,
			    .attach_point = dir ? BPF_TC_EGRESS : BPF_TC_INGRESS);
		LIBBPF_OPTS(bpf_tc_opts, opts, .handle = NP_CAPTURE_TC_HANDLE, .priority = NP_TC_PRIO);

		if (ifc->attached[dir])
			bpf_tc_detach(&hook, &opts);
		ifc->attached[dir] = 0;
	}
	if (ifc->created) {
		/* the clsact qdisc we made, unless netprofd came meanwhile */
		LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifc->ifindex,
			    .attach_point = BPF_TC_INGRESS);
		LIBBPF_OPTS(bpf_tc_opts, q, .handle = NP_TC_HANDLE, .priority = NP_TC_PRIO);

		libbpf_print_fn_t print = libbpf_set_print(NULL);

		if (bpf_tc_query(&hook, &q)) {
			hook.attach_point = BPF_TC_INGRESS | BPF_TC_EGRESS;
			bpf_tc_hook_destroy(&hook);
		}
		libbpf_set_print(print);
		ifc->created = 0;
	}
}

static int add_iface(struct capture *c, const char *name, const char *netns)
{
	int idx = if_nametoindex(name);

	if (!idx) {
		pr_err("interface '%s' not found%s%s: check 'ip%s%s link'", name,
		       netns ? " in namespace " : "", netns ? netns : "", netns ? " -n " : "",
		       netns ? netns : "");
		return -ENODEV;
	}
	if (c->nifs == MAX_IFACES) {
		pr_err("more than %d interfaces: name the ones to capture on with -i", MAX_IFACES);
		return -E2BIG;
	}
	c->ifs[c->nifs].ifindex = idx;
	snprintf(c->ifs[c->nifs].name, IF_NAMESIZE, "%s", name);
	c->nifs++;
	return 0;
}

static int enter_netns(const char *name, uint32_t *ino)
{
	char path[256];
	struct stat sb;
	int fd;

	if (!name) {
		if (stat("/proc/self/ns/net", &sb))
			return -errno;
		*ino = sb.st_ino;
		return 0;
	}
	snprintf(path, sizeof(path), "/var/run/netns/%s", name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		pr_err("network namespace '%s' not found: create it (ip netns add %s) or check 'ip netns list'",
		       name, name);
		return -ENOENT;
	}
	if (fstat(fd, &sb) || setns(fd, CLONE_NEWNET)) {
		pr_err("cannot enter network namespace '%s': %s (run as root)", name, strerror(errno));
		close(fd);
		return -EPERM;
	}
	*ino = sb.st_ino;
	close(fd);
	return 0;
}

static int ends_with(const char *s, const char *suffix)
{
	size_t a = strlen(s), b = strlen(suffix);

	return a >= b && !strcmp(s + a - b, suffix);
}

int do_capture(int argc, char **argv)
{
	struct capture c = { .snaplen = 262144, .socks_fd = -1, .closed_fd = -1, .names_fd = -1,
			     .file_mode = 0600 };
	const char *ifnames[MAX_IFACES], *netns = NULL, *file = NULL, *fmt = NULL;
	int nif = 0, opt, i, err = 1, map_fd = -1, prog_fd[2] = { -1, -1 };
	char ring_name[16];
	struct perf_buffer *pb = NULL;
	struct bpf_insn *insns = NULL;
	struct sigaction sa = { .sa_handler = on_signal };
	struct timespec mono, real;
	char *expr = NULL, msg[512];
	uint64_t v;
	size_t n;

	c.tail = &c.head;
	optind = 1;
	while ((opt = getopt_long(argc, argv, "i:w:F:c:s:h", capture_opts, NULL)) != -1) {
		switch (opt) {
		case 'i':
			if (nif == MAX_IFACES) {
				pr_err("-i: at most %d interfaces", MAX_IFACES);
				return 2;
			}
			ifnames[nif++] = optarg;
			break;
		case 'N':
			if (netns_name_check(optarg)) {
				pr_err("--netns '%s': give a namespace's name as 'ip netns list' shows it (not empty, no '/', under 64 characters)",
				       optarg);
				return 2;
			}
			netns = optarg;
			break;
		case 'w':
			file = optarg;
			break;
		case 'F':
			if (strcmp(optarg, "pcap") && strcmp(optarg, "pcapng")) {
				pr_err("-F '%s': give pcap or pcapng", optarg);
				return 2;
			}
			fmt = optarg;
			break;
		case 'c':
			if (parse_u64(optarg, &v) || !v) {
				pr_err("-c '%s': give a number of packets above 0", optarg);
				return 2;
			}
			c.count = v;
			break;
		case OPT_FILE_MODE: {
			char *end;
			unsigned long m;

			errno = 0;
			m = strtoul(optarg, &end, 8);
			if (errno || end == optarg || *end || optarg[0] == '-' || m > 0666) {
				pr_err("--file-mode '%s': give octal permissions up to 0666 (e.g. 0600, 0640)",
				       optarg);
				return 2;
			}
			c.file_mode = m;
			break;
		}
		case 's':
			if (parse_u64(optarg, &v) || v < 64 || v > 262144) {
				pr_err("-s '%s': give a snap length from 64 to 262144 bytes", optarg);
				return 2;
			}
			c.snaplen = v;
			break;
		case 'h':
			fputs(capture_usage, stdout);
			return 0;
		default:
			fprintf(stderr, "%s", capture_usage);
			return 2;
		}
	}
	if (!file) {
		pr_err("capture: give the file to write with -w FILE (e.g. -w out.pcapng)");
		return 2;
	}
	c.pcapng = fmt ? !strcmp(fmt, "pcapng") : ends_with(file, ".pcapng");
	expr = optind < argc ? filter_join_args(argc - optind, argv + optind) : strdup("");
	if (!expr)
		return 1;
	if (geteuid() != 0) {
		pr_err("capture loads BPF programs: run as root (or with CAP_BPF and CAP_NET_ADMIN)");
		goto out;
	}
	/* the socket table before entering the namespace (pins are on this host) */
	if (c.pcapng) {
		c.socks_fd = pins_open_map(g.pin_dir, SOCKS_MAP, 1);
		c.closed_fd = pins_open_map(g.pin_dir, SOCKS_CLOSED_MAP, 1);
		c.names_fd = pins_open_map(g.pin_dir, CGROUP_NAMES_MAP, 1);
	}
	if (enter_netns(netns, &c.netns_ino))
		goto out;
	if (nif) {
		for (i = 0; i < nif; i++)
			if (add_iface(&c, ifnames[i], netns))
				goto out;
	} else {
		struct if_nameindex *all = if_nameindex(), *p;

		for (p = all; p && p->if_index; p++)
			if (add_iface(&c, p->if_name, netns)) {
				if_freenameindex(all);
				goto out;
			}
		if_freenameindex(all);
	}
	snprintf(ring_name, sizeof(ring_name), RING_NAME_PREFIX "%d", getpid());
	map_fd = bpf_map_create(BPF_MAP_TYPE_PERF_EVENT_ARRAY, ring_name, 4, 4,
				libbpf_num_possible_cpus(), NULL);
	if (map_fd < 0) {
		pr_err("cannot create the capture ring: %s", strerror(errno));
		goto out;
	}
	for (i = 0; i < 2; i++) {
		LIBBPF_OPTS(bpf_prog_load_opts, lo);

		if (cbpf_compile_tc(expr, c.snaplen, map_fd, i, &insns, &n, msg, sizeof(msg))) {
			pr_err("filter '%s': %s", expr, msg);
			goto out;
		}
		prog_fd[i] = bpf_prog_load(BPF_PROG_TYPE_SCHED_CLS, i ? "np_cap_egress" : "np_cap_ingress",
					   "Dual BSD/GPL", insns, n, &lo);
		free(insns);
		insns = NULL;
		if (prog_fd[i] < 0) {
			pr_err("cannot load the capture program: %s", strerror(errno));
			goto out;
		}
	}
	c.out = pcap_out__open(file, c.pcapng, c.snaplen, c.file_mode, msg, sizeof(msg));
	if (!c.out) {
		pr_err("cannot write %s (check that its directory exists and is writable)", msg);
		goto out;
	}
	for (i = 0; i < c.nifs; i++)
		c.ifs[i].id = pcap_out__add_iface(c.out, c.ifs[i].name, netns);
	pb = perf_buffer__new(map_fd, 256, on_sample, on_lost, &c, NULL);
	if (!pb) {
		pr_err("cannot open the capture ring: %s", strerror(errno));
		goto out;
	}
	clock_gettime(CLOCK_MONOTONIC, &mono);
	clock_gettime(CLOCK_REALTIME, &real);
	c.mono_to_real = (real.tv_sec - mono.tv_sec) * 1000000000LL + real.tv_nsec - mono.tv_nsec;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	for (i = 0; i < c.nifs; i++) {
		err = attach(&c.ifs[i], prog_fd);
		if (err) {
			pr_err("cannot attach to %s: %s%s", c.ifs[i].name, strerror(-err),
			       err == -EEXIST ? " (another netprof capture runs there)" : "");
			err = 1;
			goto out;
		}
	}
	fprintf(stderr, "capturing on");
	for (i = 0; i < c.nifs; i++)
		fprintf(stderr, "%s %s", i ? "," : "", c.ifs[i].name);
	fprintf(stderr, "%s%s (%s, snaplen %u); Ctrl-C stops\n", netns ? " in " : "", netns ? netns : "",
		c.pcapng ? "pcapng" : "pcap", c.snaplen);
	while (!stop) {
		int r = perf_buffer__poll(pb, 100);

		if (r < 0 && r != -EINTR) {
			pr_err("reading the capture ring: %s", strerror(-r));
			break;
		}
		flush_pending(&c, 0);
	}
	/* what is still in the rings, then the counts */
	for (i = 0; i < c.nifs; i++)
		detach(&c.ifs[i]);
	stop = 0;
	if (!c.count || c.written < c.count)
		perf_buffer__consume(pb);
	flush_pending(&c, 1);
	err = 0;
out:
	for (i = 0; i < c.nifs; i++)
		detach(&c.ifs[i]);
	c.nifs = 0;
	if (c.out && pcap_out__close(c.out)) {
		pr_err("writing '%s' failed: %s", file, strerror(EIO));
		err = 1;
	}
	if (!err) {
		fprintf(stderr, "%ld packets captured, %ld lost (capture ring full)%s\n", c.written, c.lost,
			c.write_err ? ", some not written" : "");
		if (c.write_err) {
			pr_err("%ld packets could not be written to '%s' (disk full?)", c.write_err, file);
			err = 1;
		}
	}
	perf_buffer__free(pb);
	for (i = 0; i < 2; i++)
		if (prog_fd[i] >= 0)
			close(prog_fd[i]);
	if (map_fd >= 0)
		close(map_fd);
	sock_index__free(c.ix);
	socktab_free(&c.st);
	free(expr);
	return err;
}
