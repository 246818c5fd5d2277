// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * delaybridge IF1 IF2 DELAY_MS: forward every frame between two interfaces
 * after a fixed delay (netem is not available on these machines; RIG.md).
 * One AF_PACKET socket per interface; frames wait in a FIFO per direction
 * (a fixed delay keeps arrival order = departure order). Runs until killed.
 * Built with the unit tests (tests/unit/) because it is test equipment, not
 * a test: it prints no result line.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define SLOTS	8192
#define FRAME	2048

struct fifo {
	uint8_t		data[SLOTS][FRAME];
	uint16_t	len[SLOTS];
	uint64_t	due[SLOTS];
	unsigned int	head, tail;	/* head: next to send; tail: next free */
};

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static int open_if(const char *name)
{
	struct sockaddr_ll a = { .sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_ALL) };
	int fd, one = 1;

	a.sll_ifindex = if_nametoindex(name);
	if (!a.sll_ifindex) {
		fprintf(stderr, "delaybridge: no interface %s\n", name);
		exit(1);
	}
	fd = socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK, htons(ETH_P_ALL));
	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a))) {
		perror("delaybridge: packet socket");
		exit(1);
	}
	/* do not read back the frames we send out of this interface */
	setsockopt(fd, SOL_PACKET, PACKET_IGNORE_OUTGOING, &one, sizeof(one));
	return fd;
}

int main(int argc, char **argv)
{
	static struct fifo q[2];	/* q[0]: from IF1 to IF2, q[1]: back */
	struct pollfd p[2];
	uint64_t delay;
	int fd[2], i;

	if (argc != 4) {
		fprintf(stderr, "usage: delaybridge IF1 IF2 DELAY_MS\n");
		return 2;
	}
	fd[0] = open_if(argv[1]);
	fd[1] = open_if(argv[2]);
	delay = (uint64_t)(atof(argv[3]) * 1e6);
	for (;;) {
		uint64_t now = now_ns(), wait = 100000000ULL;
		int timeout;

		for (i = 0; i < 2; i++) {
			struct fifo *f = &q[i];

			/* send what is due */
			while (f->head != f->tail && f->due[f->head % SLOTS] <= now) {
				unsigned int s = f->head % SLOTS;

				if (send(fd[!i], f->data[s], f->len[s], 0) < 0 && errno == EAGAIN)
					break;
				f->head++;
			}
			if (f->head != f->tail && f->due[f->head % SLOTS] - now < wait)
				wait = f->due[f->head % SLOTS] - now;
		}
		timeout = (int)((wait + 999999) / 1000000);
		p[0] = (struct pollfd){ .fd = fd[0], .events = POLLIN };
		p[1] = (struct pollfd){ .fd = fd[1], .events = POLLIN };
		if (poll(p, 2, timeout) < 0 && errno != EINTR)
			return 1;
		now = now_ns();
		for (i = 0; i < 2; i++) {
			struct fifo *f = &q[i];
			ssize_t n;

			while (p[i].revents & POLLIN) {
				unsigned int s = f->tail % SLOTS;

				if (f->tail - f->head >= SLOTS) {
					/* full: drop, as a full queue would */
					uint8_t junk[FRAME];

					if (recv(fd[i], junk, sizeof(junk), 0) < 0)
						break;
					continue;
				}
				n = recv(fd[i], f->data[s], FRAME, 0);
				if (n <= 0)
					break;
				f->len[s] = n;
				f->due[s] = now + delay;
				f->tail++;
			}
		}
	}
}
