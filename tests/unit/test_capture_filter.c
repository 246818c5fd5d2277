// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * netprof capture's kernel filter (lib/cbpf.c) against libpcap's own
 * interpreter: every Ethernet frame of the shared captures goes through
 * the translated eBPF program with BPF_PROG_TEST_RUN, once per expression;
 * the program must send exactly the frames pcap_offline_filter accepts,
 * with the bytes the snap length keeps.
 *
 *   test_capture_filter PCAP_DIR
 */
#define bpf_insn pcap_bpf_insn
#define bpf_program pcap_bpf_program
#include <pcap/pcap.h>
#undef bpf_insn
#undef bpf_program
#include <dirent.h>
#include <stdlib.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "cbpf.h"
#include "test.h"

static const char *const exprs[] = {
	"",
	"tcp",
	"udp port 53",
	"ip6 and tcp",
	"icmp or icmp6",
	"arp",
	"vlan",
	"vlan and tcp",
	"mpls",
	"tcp[tcpflags] & (tcp-syn|tcp-fin) != 0",
	"ip[8] > 63 and not port 22",
	"greater 200",
	"less 80",
	"net 10.0.0.0/8 or net 192.168.0.0/16",
	"portrange 1-1024",
	"ip[6:2] & 0x1fff != 0",
	"tcp[((tcp[12:1] & 0xf0) >> 2):4] = 0x47455420",
	"ip and (len - 14) / 4 > 20",
	"ip[2:2] % 3 = 1",
	"ether broadcast or ether multicast",
	"ip proto 47 or ip6 proto 17",
	"udp and udp[8:2] = 0x0001",
};

#define SNAPLEN 96

struct seen {
	int		n;
	uint32_t	caplen;
	uint8_t		data[SNAPLEN + 64];
};

static void on_sample(void *ctx, int cpu, void *data, __u32 size)
{
	struct seen *s = ctx;
	struct capture_meta m;

	(void)cpu;
	memcpy(&m, data, sizeof(m));
	s->n++;
	s->caplen = size - sizeof(m);
	if (s->caplen > m.len)
		s->caplen = m.len;
	if (s->caplen > SNAPLEN)
		s->caplen = SNAPLEN;
	memcpy(s->data, (uint8_t *)data + sizeof(m), s->caplen);
}

/* Every whole Ethernet frame of the shared captures, read once. */
struct frame {
	struct pcap_pkthdr	h;
	u_char			*data;
};

static struct frame *frames;
static size_t nframes;

static int load_frames(const char *dir)
{
	char errbuf[PCAP_ERRBUF_SIZE], *path;
	struct dirent *de;
	DIR *d = opendir(dir);

	if (!d)
		return -1;
	while ((de = readdir(d))) {
		size_t l = strlen(de->d_name);
		struct pcap_pkthdr *h;
		const u_char *data;
		pcap_t *p;

		if (l < 6 || strcmp(de->d_name + l - 5, ".pcap") ||
		    asprintf(&path, "%s/%s", dir, de->d_name) < 0)
			continue;
		p = pcap_open_offline(path, errbuf);
		free(path);
		if (!p)
			continue;
		while (pcap_datalink(p) == DLT_EN10MB && pcap_next_ex(p, &h, &data) == 1) {
			/* cut frames are not what the kernel gives; over a page, a test run refuses */
			if (h->caplen < 14 || h->caplen != h->len || h->caplen > 3000)
				continue;
			frames = realloc(frames, (nframes + 1) * sizeof(*frames));
			frames[nframes].h = *h;
			frames[nframes].data = malloc(h->caplen);
			memcpy(frames[nframes].data, data, h->caplen);
			nframes++;
		}
		pcap_close(p);
	}
	closedir(d);
	return 0;
}

static int perf_fd = -1;
static struct perf_buffer *pb;
static struct seen seen;

/*
 * expr through lib/cbpf.c and the kernel against libpcap's interpreter, on
 * every step-th frame: the number of frames whose verdict or bytes differ
 * (the first is named), -1 if it does not compile here, -2 if libpcap
 * refuses it too.
 */
static long diff_expr(const char *expr, size_t step, long *accepted)
{
	char err[512];
	pcap_t *dead = pcap_open_dead(DLT_EN10MB, SNAPLEN);
	struct pcap_bpf_program ref;
	struct bpf_insn *insns;
	long bad = 0;
	size_t n, i;
	int fd;

	if (pcap_compile(dead, &ref, expr, 1, PCAP_NETMASK_UNKNOWN)) {
		pcap_close(dead);
		return -2;
	}
	if (cbpf_compile_tc(expr, SNAPLEN, perf_fd, 0, &insns, &n, err, sizeof(err))) {
		fprintf(stderr, "  '%s': libpcap compiles it, cbpf: %s\n", expr, err);
		bad = -1;
		goto out;
	}
	fd = bpf_prog_load(BPF_PROG_TYPE_SCHED_CLS, "t", "Dual BSD/GPL", insns, n, NULL);
	free(insns);
	if (fd < 0) {
		fprintf(stderr, "  '%s': the kernel refuses the program: %d\n", expr, fd);
		bad = -1;
		goto out;
	}
	for (i = 0; i < nframes; i += step) {
		struct frame *fr = &frames[i];
		LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = fr->data,
			    .data_size_in = fr->h.caplen, .repeat = 1);
		int want = pcap_offline_filter(&ref, &fr->h, fr->data) != 0, keep;

		seen.n = 0;
		if (bpf_prog_test_run_opts(fd, &o) || (int)o.retval != -1) {
			fprintf(stderr, "  '%s' frame %zu: test run failed or did not pass it on\n",
				expr, i);
			bad++;
			continue;
		}
		perf_buffer__consume(pb);
		*accepted += seen.n;
		keep = fr->h.len < SNAPLEN ? fr->h.len : SNAPLEN;
		if (seen.n != want || (want && (seen.caplen != (uint32_t)keep ||
						memcmp(seen.data, fr->data, keep)))) {
			if (!bad) {
				fprintf(stderr, "  '%s' frame %zu (%u bytes): kernel %d, libpcap %d\n   ",
					expr, i, fr->h.caplen, seen.n, want);
				for (n = 0; n < 48 && n < fr->h.caplen; n++)
					fprintf(stderr, "%02x", fr->data[n]);
				fputc('\n', stderr);
			}
			bad++;
		}
	}
	close(fd);
out:
	pcap_freecode(&ref);
	pcap_close(dead);
	return bad;
}

static void test_vs_libpcap(void)
{
	long accepted = 0;
	size_t e;

	for (e = 0; e < sizeof(exprs) / sizeof(exprs[0]); e++)
		ASSERT_EQ(diff_expr(exprs[e], 1, &accepted), 0, exprs[e]);
	printf("  %zu expressions x %zu frames: %ld accepted, every verdict as libpcap's\n",
	       sizeof(exprs) / sizeof(exprs[0]), nframes, accepted);
}

/* ---- generated expressions: arithmetic on packet bytes, as a fuzzer would ---- */

static uint64_t rng = 0x9e3779b97f4a7c15ULL;

static unsigned int pick(unsigned int n)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng % n;
}

static void gen_arith(FILE *f, int depth)
{
	static const char *const loads[] = { "ip[%u]", "ip[%u:2]", "tcp[%u]", "udp[%u:2]",
					     "ether[%u]", "ether[%u:4]", "ip6[%u]", "icmp[%u]" };
	static const char *const ops[] = { "+", "-", "*", "/", "%", "&", "|", "^", "<<", ">>" };
	static const unsigned int consts[] = { 0, 1, 2, 3, 4, 7, 8, 15, 16, 31, 32, 33, 40, 63,
					       64, 255, 4096, 65535, 0x7fffffff, 0xffffffff };

	switch (depth > 0 ? pick(5) : pick(3)) {
	case 0:
		fprintf(f, loads[pick(8)], pick(24));
		break;
	case 1:
		fprintf(f, "%u", consts[pick(sizeof(consts) / sizeof(consts[0]))]);
		break;
	case 2:
		fputs("len", f);
		break;
	default:
		fputc('(', f);
		gen_arith(f, depth - 1);
		fprintf(f, " %s ", ops[pick(10)]);
		gen_arith(f, depth - 1);
		fputc(')', f);
	}
}

static char *gen_expr(void)
{
	static const char *const rel[] = { "=", "!=", ">", "<", ">=", "<=" };
	char *s = NULL;
	size_t n = 0;
	FILE *f = open_memstream(&s, &n);

	gen_arith(f, 3);
	fprintf(f, " %s ", rel[pick(6)]);
	gen_arith(f, 2);
	if (pick(3) == 0) {
		fputs(pick(2) ? " and " : " or ", f);
		gen_arith(f, 2);
		fprintf(f, " %s ", rel[pick(6)]);
		gen_arith(f, 1);
	}
	fclose(f);
	return s;
}

#define GENERATED	300

static void test_generated(void)
{
	long accepted = 0, differ = 0, refused = 0, tried = 0, libpcap_no = 0, r;
	size_t step = nframes / 700 + 1;
	int i;

	for (i = 0; i < GENERATED; i++) {
		char *e = gen_expr();

		r = diff_expr(e, step, &accepted);
		free(e);
		if (r == -2) {
			libpcap_no++;
			continue;
		}
		tried++;
		if (r == -1)
			refused++;
		else if (r > 0)
			differ++;
	}
	printf("  %ld generated expressions (%ld more libpcap refuses) x %zu frames: "
	       "%ld accepted; %ld differ from libpcap, %ld not translated\n",
	       tried, libpcap_no, (nframes + step - 1) / step, accepted, differ, refused);
	ASSERT_TRUE(tried > GENERATED / 2, "most generated expressions compile");
	ASSERT_EQ(differ, 0, "every verdict as libpcap's");
	ASSERT_EQ(refused, 0, "every expression libpcap compiles is translated");
}

static void test_bad_expression(void)
{
	struct bpf_insn *insns;
	char err[256] = "";
	size_t n;

	ASSERT_EQ(cbpf_compile_tc("tcp port", 96, 0, 0, &insns, &n, err, sizeof(err)), -EINVAL,
		  "does not compile");
	ASSERT_TRUE(strstr(err, "syntax error") != NULL, "libpcap's message");
}

int main(int argc, char **argv)
{
	const char *dir = argc > 1 ? argv[1] : "../shared/pcaps";

	if (load_frames(dir) || !nframes) {
		fprintf(stderr, "no Ethernet frames in %s\n", dir);
		return 1;
	}
	perf_fd = bpf_map_create(BPF_MAP_TYPE_PERF_EVENT_ARRAY, "t", 4, 4,
				 libbpf_num_possible_cpus(), NULL);
	pb = perf_buffer__new(perf_fd, 8, on_sample, NULL, &seen, NULL);
	if (perf_fd < 0 || !pb) {
		fprintf(stderr, "cannot make a perf event array: %s\n", strerror(errno));
		return 1;
	}
	RUN_TEST(test_vs_libpcap);
	RUN_TEST(test_generated);
	RUN_TEST(test_bad_expression);
	return TEST_SUMMARY();
}
