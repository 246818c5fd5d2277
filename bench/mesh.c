// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * mesh: N services on loopback calling each other. Service i runs in the
 * cgroup CGDIR/svc<i> under the command name svc<i>, serves on port
 * BASE+i (read a request, answer, close), and calls a random other service
 * RATE/N times per second (connect, one request, read the answer, close).
 * Prints the connections completed per second, summed over the services.
 *
 * Usage: mesh CGDIR N RATE SECONDS [BASE]
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int join_cgroup(const char *dir, int i)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/svc%d/cgroup.procs", dir, i);
	f = fopen(path, "w");
	if (!f)
		return -1;
	fprintf(f, "%d\n", getpid());
	return fclose(f);
}

static void serve(int lfd)
{
	char buf[64];
	int fd;

	for (;;) {
		fd = accept(lfd, NULL, NULL);
		if (fd < 0)
			continue;
		if (read(fd, buf, sizeof(buf)) > 0 && write(fd, "OK\n", 3) < 0)
			perror("mesh: write");
		close(fd);
	}
}

static long call(int n, int self, int base, double rate, double secs)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	double t0 = now(), next = t0;
	struct timespec ts;
	char buf[64];
	long done = 0;
	int fd, peer;

	srand(getpid());
	while (now() - t0 < secs) {
		peer = rand() % (n - 1);
		peer += peer >= self;
		a.sin_port = htons(base + peer);
		fd = socket(AF_INET, SOCK_STREAM, 0);
		if (connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0 && write(fd, "GET\n", 4) == 4 &&
		    read(fd, buf, sizeof(buf)) > 0)
			done++;
		close(fd);
		next += 1.0 / rate;
		if (next > now()) {
			double d = next - now();

			ts.tv_sec = (time_t)d;
			ts.tv_nsec = (long)((d - ts.tv_sec) * 1e9);
			nanosleep(&ts, NULL);
		}
	}
	return done;
}

int main(int argc, char **argv)
{
	int n, base, i, one = 1, p[2];
	double rate, secs;
	pid_t *servers;
	long total = 0, v;

	if (argc < 5) {
		fprintf(stderr, "usage: mesh CGDIR N RATE SECONDS [BASE]\n");
		return 2;
	}
	n = atoi(argv[2]);
	rate = atof(argv[3]) / n;
	secs = atof(argv[4]);
	base = argc > 5 ? atoi(argv[5]) : 20000;
	servers = calloc(n, sizeof(*servers));
	if (n < 2 || !servers || pipe(p))
		return 2;
	for (i = 0; i < n; i++) {
		struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(base + i),
					 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
		int lfd = socket(AF_INET, SOCK_STREAM, 0);
		char name[16];

		setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (bind(lfd, (struct sockaddr *)&a, sizeof(a)) || listen(lfd, 1024)) {
			perror("mesh: listen");
			return 1;
		}
		servers[i] = fork();
		if (servers[i] == 0) {
			snprintf(name, sizeof(name), "svc%d", i);
			prctl(PR_SET_NAME, name);
			if (join_cgroup(argv[1], i)) {
				perror("mesh: cgroup");
				_exit(1);
			}
			if (fork() == 0) {	/* the service's client side */
				close(lfd);
				v = call(n, i, base, rate, secs);
				if (write(p[1], &v, sizeof(v)) != sizeof(v))
					_exit(1);
				_exit(0);
			}
			serve(lfd);
		}
		close(lfd);
	}
	close(p[1]);
	for (i = 0; i < n && read(p[0], &v, sizeof(v)) == sizeof(v); i++)
		total += v;
	for (i = 0; i < n; i++) {
		kill(servers[i], SIGKILL);
		waitpid(servers[i], NULL, 0);
	}
	printf("%.0f\n", total / secs);
	return 0;
}
