// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * hotwork: a CPU-bound TCP server with known hot functions, for the
 * profiler's tests. Built with frame pointers and without inlining, so
 * every function below is a frame of its own.
 *
 *   hotwork server PORT STATS   one thread, poll(): each request is a
 *                               4-byte unit count; it costs hot_parse(u)
 *                               then hot_compute(2u) (which calls
 *                               mix_round); the reply is one byte. On
 *                               SIGTERM the thread's own CPU time in each
 *                               function, in all, and per client port goes
 *                               to STATS as JSON (CLOCK_THREAD_CPUTIME_ID):
 *                               the ground truth the profile is held to.
 *   hotwork client HOST PORT UNITS SECONDS
 *                               request/response for SECONDS; a request
 *                               costs UNITS on average, drawn uniformly from
 *                               [UNITS/2, 3*UNITS/2] (a fixed cost would beat
 *                               with the sampling period and bias it)
 *   hotwork burn MS             print its pid, spin MS ms in burn_briefly, exit
 *   hotwork jit MS              the same in code it writes at run time into
 *                               anonymous memory (x86-64), named only by
 *                               the /tmp/perf-PID.map it writes, as JITs do
 *   hotwork jit-nomap MS        the same without writing the map (the test
 *                               puts a hostile object at its path)
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define NOINLINE __attribute__((noinline))
#define UNIT_ITERS 200	/* a client's unit is 100 of these on average */

static volatile uint64_t sink;
static volatile sig_atomic_t stop;

static uint64_t cpu_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

NOINLINE static uint64_t mix_round(uint64_t x)
{
	int i;

	for (i = 0; i < 64; i++)
		x = (x ^ (x >> 31)) * 0x9e3779b97f4a7c15ULL + i;
	return x;
}

NOINLINE static void hot_parse(uint32_t units)
{
	uint64_t x = units, n = (uint64_t)units * UNIT_ITERS * 250;

	while (n--)
		x = x * 6364136223846793005ULL + 1442695040888963407ULL;
	sink = x;
}

NOINLINE static void hot_compute(uint32_t units)
{
	uint64_t x = units, n = (uint64_t)units * UNIT_ITERS / 4;

	while (n--)
		x = mix_round(x);
	sink = x;
}

struct timing {
	uint64_t parse_ns, compute_ns;
};

NOINLINE static void handle_request(uint32_t units, struct timing *t)
{
	uint64_t a = cpu_ns(), b, c;

	hot_parse(units);
	b = cpu_ns();
	hot_compute(2 * units);
	c = cpu_ns();
	t->parse_ns += b - a;
	t->compute_ns += c - b;
}

NOINLINE static void burn_briefly(uint64_t ms)
{
	uint64_t end = cpu_ns() + ms * 1000000ULL;

	while (cpu_ns() < end)
		hot_parse(100);
}

/* push rbp; mov rbp,rsp; mov rcx,N; 1: dec rcx; jnz 1b; pop rbp; ret */
static const unsigned char jit_code[] = {
	0x55, 0x48, 0x89, 0xe5, 0x48, 0xb9, 0x40, 0x42, 0x0f, 0, 0, 0, 0, 0,
	0x48, 0xff, 0xc9, 0x75, 0xfb, 0x5d, 0xc3,
};

/* nomap: write no /tmp/perf-PID.map (the test puts something else there) */
NOINLINE static int jit_run(uint64_t ms, int nomap)
{
	void (*fn)(void);
	uint64_t end = cpu_ns() + ms * 1000000ULL;
	char path[64];
	FILE *f;
	void *mem;

#ifndef __x86_64__
	fprintf(stderr, "hotwork: jit is x86-64 only\n");
	return 2;
#endif
	mem = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (mem == MAP_FAILED)
		return 1;
	memcpy(mem, jit_code, sizeof(jit_code));
	if (mprotect(mem, 4096, PROT_READ | PROT_EXEC))
		return 1;
	snprintf(path, sizeof(path), "/tmp/perf-%d.map", getpid());
	f = nomap ? NULL : fopen(path, "w");
	if (!f && !nomap)
		return 1;
	if (f) {
		fprintf(f, "%lx %zx jit_spin_loop\n", (unsigned long)mem, sizeof(jit_code));
		fclose(f);
	}
	fn = (void (*)(void))mem;
	while (cpu_ns() < end)
		fn();
	return 0;
}

static void on_term(int sig)
{
	(void)sig;
	stop = 1;
}

#define MAX_CONNS 16

NOINLINE static int server(int port, const char *stats)
{
	struct pollfd pfd[MAX_CONNS + 1];
	uint16_t cport[MAX_CONNS + 1];
	uint64_t conn_ns[MAX_CONNS + 1] = {}, conn_reqs[MAX_CONNS + 1] = {}, start;
	struct sockaddr_in6 a = { .sin6_family = AF_INET6, .sin6_port = htons(port) };
	struct sigaction sa = { .sa_handler = on_term };
	struct timing t = {};
	int ls, one = 1, n = 1, i;
	FILE *f;

	sigaction(SIGTERM, &sa, NULL);
	ls = socket(AF_INET6, SOCK_STREAM, 0);
	setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (ls < 0 || bind(ls, (void *)&a, sizeof(a)) || listen(ls, 16)) {
		perror("hotwork: listen");
		return 1;
	}
	pfd[0] = (struct pollfd){ .fd = ls, .events = POLLIN };
	start = cpu_ns();
	while (!stop) {
		if (poll(pfd, n, 200) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if ((pfd[0].revents & POLLIN) && n <= MAX_CONNS) {
			struct sockaddr_in6 peer;
			socklen_t len = sizeof(peer);
			int fd = accept(ls, (void *)&peer, &len);

			if (fd >= 0) {
				setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
				cport[n] = ntohs(peer.sin6_port);
				pfd[n++] = (struct pollfd){ .fd = fd, .events = POLLIN };
			}
		}
		for (i = 1; i < n; i++) {
			uint32_t units;
			uint64_t c0;
			char ok = 1;

			if (!(pfd[i].revents & (POLLIN | POLLHUP)) || pfd[i].fd < 0)
				continue;
			c0 = cpu_ns();
			if (recv(pfd[i].fd, &units, sizeof(units), MSG_WAITALL) != sizeof(units)) {
				close(pfd[i].fd);
				pfd[i].fd = -1;
				continue;
			}
			handle_request(ntohl(units), &t);
			send(pfd[i].fd, &ok, 1, 0);
			conn_ns[i] += cpu_ns() - c0;
			conn_reqs[i]++;
		}
	}
	f = fopen(stats, "w");
	if (!f)
		return 1;
	fprintf(f, "{\"pid\": %d, \"cpu_ns\": %llu, \"hot_parse_ns\": %llu, \"hot_compute_ns\": %llu, \"conns\": {",
		getpid(), (unsigned long long)(cpu_ns() - start), (unsigned long long)t.parse_ns,
		(unsigned long long)t.compute_ns);
	for (i = 1; i < n; i++)
		fprintf(f, "%s\"%u\": {\"cpu_ns\": %llu, \"requests\": %llu}", i > 1 ? ", " : "", cport[i],
			(unsigned long long)conn_ns[i], (unsigned long long)conn_reqs[i]);
	fprintf(f, "}}\n");
	return fclose(f) ? 1 : 0;
}

NOINLINE static int client(const char *host, int port, uint32_t units, double secs)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port) };
	struct timespec t0, t;
	uint32_t req;
	long n = 0;
	char c;
	int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;

	if (inet_pton(AF_INET, host, &a.sin_addr) != 1 || connect(fd, (void *)&a, sizeof(a))) {
		perror("hotwork: connect");
		return 1;
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	clock_gettime(CLOCK_MONOTONIC, &t0);
	srandom(getpid());
	do {
		req = htonl(units * 50 + random() % (units * 100 + 1));
		if (send(fd, &req, sizeof(req), 0) != sizeof(req) || recv(fd, &c, 1, MSG_WAITALL) != 1) {
			perror("hotwork: request");
			return 1;
		}
		n++;
		clock_gettime(CLOCK_MONOTONIC, &t);
	} while ((t.tv_sec - t0.tv_sec) + (t.tv_nsec - t0.tv_nsec) / 1e9 < secs);
	printf("%ld\n", n);
	close(fd);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 4 && !strcmp(argv[1], "server"))
		return server(atoi(argv[2]), argv[3]);
	if (argc == 6 && !strcmp(argv[1], "client"))
		return client(argv[2], atoi(argv[3]), atoi(argv[4]), atof(argv[5]));
	if (argc == 3 && !strcmp(argv[1], "burn")) {
		printf("%d\n", getpid());
		fflush(stdout);
		burn_briefly(atoi(argv[2]));
		return 0;
	}
	if (argc == 3 && (!strcmp(argv[1], "jit") || !strcmp(argv[1], "jit-nomap"))) {
		printf("%d\n", getpid());
		fflush(stdout);
		/* jit-nomap: after a moment, for the test to put its object in place */
		if (!strcmp(argv[1], "jit-nomap"))
			usleep(300000);
		return jit_run(atoi(argv[2]), !strcmp(argv[1], "jit-nomap"));
	}
	fprintf(stderr, "usage: hotwork server PORT STATS | client HOST PORT UNITS SECONDS | burn MS | jit[-nomap] MS\n");
	return 2;
}
