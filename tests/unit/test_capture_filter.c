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

static int dir_fd_pcaps(const char *dir, char ***out)
{
	struct dirent *de;
	DIR *d = opendir(dir);
	int n = 0;

	*out = NULL;
	if (!d)
		return -1;
	while ((de = readdir(d))) {
		size_t l = strlen(de->d_name);

		if (l < 6 || strcmp(de->d_name + l - 5, ".pcap"))
			continue;
		*out = realloc(*out, (n + 1) * sizeof(char *));
		if (asprintf(&(*out)[n], "%s/%s", dir, de->d_name) < 0)
			break;
		n++;
	}
	closedir(d);
	return n;
}

static void test_vs_libpcap(const char *dir)
{
	char **files, err[512], errbuf[PCAP_ERRBUF_SIZE];
	long frames = 0, accepted = 0, big = 0;
	int nfiles = dir_fd_pcaps(dir, &files), map_fd, f;
	struct seen seen = {};
	struct perf_buffer *pb;
	size_t e;

	if (!ASSERT_TRUE(nfiles > 0, "captures found"))
		return;
	map_fd = bpf_map_create(BPF_MAP_TYPE_PERF_EVENT_ARRAY, "t", 4, 4,
				libbpf_num_possible_cpus(), NULL);
	pb = perf_buffer__new(map_fd, 8, on_sample, NULL, &seen, NULL);
	if (!ASSERT_TRUE(map_fd >= 0 && pb, "perf ring"))
		return;
	for (e = 0; e < sizeof(exprs) / sizeof(exprs[0]); e++) {
		struct bpf_insn *insns;
		size_t n;
		int fd;
		pcap_t *dead = pcap_open_dead(DLT_EN10MB, SNAPLEN);
		struct pcap_bpf_program ref;

		if (!ASSERT_OK(cbpf_compile_tc(exprs[e], SNAPLEN, map_fd, 0, &insns, &n, err, sizeof(err)),
			       exprs[e]) ||
		    !ASSERT_OK(pcap_compile(dead, &ref, exprs[e], 1, PCAP_NETMASK_UNKNOWN), "libpcap"))
			continue;
		fd = bpf_prog_load(BPF_PROG_TYPE_SCHED_CLS, "t", "Dual BSD/GPL", insns, n, NULL);
		free(insns);
		if (!ASSERT_TRUE(fd >= 0, exprs[e]))
			continue;
		for (f = 0; f < nfiles; f++) {
			pcap_t *p = pcap_open_offline(files[f], errbuf);
			struct pcap_pkthdr *h;
			const u_char *data;

			if (!p || pcap_datalink(p) != DLT_EN10MB) {
				if (p)
					pcap_close(p);
				continue;
			}
			while (pcap_next_ex(p, &h, &data) == 1) {
				LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = data,
					    .data_size_in = h->caplen, .repeat = 1);
				int want, keep, err_run;

				if (h->caplen < 14 || h->caplen != h->len)
					continue;	/* cut frames: not what the kernel gives */
				/* the reference sees the frame as the kernel does */
				want = pcap_offline_filter(&ref, h, data) != 0;
				seen.n = 0;
				err_run = bpf_prog_test_run_opts(fd, &o);
				if (err_run == -EINVAL && h->caplen > 3000) {
					big++;	/* above what a test run's page holds (GSO captures) */
					continue;
				}
				if (!ASSERT_OK(err_run, "test run") ||
				    !ASSERT_EQ((int)o.retval, -1, "passes the packet on"))
					break;
				perf_buffer__consume(pb);
				frames++;
				accepted += seen.n;
				if (seen.n != want) {
					fprintf(stderr, "  %s frame %ld, '%s': kernel %d, libpcap %d\n",
						files[f], frames, exprs[e], seen.n, want);
					ASSERT_EQ(seen.n, want, "same verdict as libpcap");
					break;
				}
				keep = h->len < SNAPLEN ? h->len : SNAPLEN;
				if (want && (!ASSERT_EQ(seen.caplen, keep, "snap length") ||
					     !ASSERT_TRUE(!memcmp(seen.data, data, keep), "bytes")))
					break;
			}
			pcap_close(p);
		}
		pcap_freecode(&ref);
		pcap_close(dead);
		close(fd);
	}
	printf("  %zu expressions x %ld frames: %ld accepted, every verdict as libpcap's "
	       "(%ld frames over a page skipped)\n",
	       sizeof(exprs) / sizeof(exprs[0]), frames / (long)(sizeof(exprs) / sizeof(exprs[0])),
	       accepted, big / (long)(sizeof(exprs) / sizeof(exprs[0])));
	perf_buffer__free(pb);
	close(map_fd);
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

static const char *pcap_dir;

static void test_filters(void)
{
	test_vs_libpcap(pcap_dir);
}

int main(int argc, char **argv)
{
	pcap_dir = argc > 1 ? argv[1] : "../shared/pcaps";
	RUN_TEST(test_filters);
	RUN_TEST(test_bad_expression);
	return TEST_SUMMARY();
}
