// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * churn: TCP connections per second on loopback. One server process
 * (accept, read the request, answer, close: the server closes first, so the
 * client's ports do not pile up in TIME_WAIT) and one client process
 * (connect, send one request, read the answer, close), pinned to CPU 1 and
 * CPU 0. Prints the client's completed connections per second.
 *
 * Usage: churn PORT SECONDS
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static void pin(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	sched_setaffinity(0, sizeof(set), &set);
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int port = argc > 1 ? atoi(argv[1]) : 7777, one = 1, lfd, fd;
	double secs = argc > 2 ? atof(argv[2]) : 3, t0;
	char buf[64];
	long n = 0;
	pid_t srv;

	a.sin_port = htons(port);
	lfd = socket(AF_INET, SOCK_STREAM, 0);
	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (lfd < 0 || bind(lfd, (struct sockaddr *)&a, sizeof(a)) || listen(lfd, 1024)) {
		perror("churn: listen");
		return 1;
	}
	srv = fork();
	if (srv == 0) {
		pin(1);
		for (;;) {
			fd = accept(lfd, NULL, NULL);
			if (fd < 0)
				continue;
			if (read(fd, buf, sizeof(buf)) > 0 && write(fd, "OK\n", 3) < 0)
				perror("churn: write");
			close(fd);
		}
	}
	close(lfd);
	pin(0);
	t0 = now();
	while (now() - t0 < secs) {
		fd = socket(AF_INET, SOCK_STREAM, 0);
		if (connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0 && write(fd, "GET\n", 4) == 4 &&
		    read(fd, buf, sizeof(buf)) > 0)
			n++;
		close(fd);
	}
	printf("%.0f\n", n / (now() - t0));
	kill(srv, SIGKILL);
	waitpid(srv, NULL, 0);
	return 0;
}
