/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Reading captures through libpcap, kept behind this header because
 * <pcap/bpf.h> and <linux/bpf.h> both define struct bpf_insn.
 * Frames come out rewrapped as Ethernet (see pcapfile_next).
 */
#ifndef NETPROF_PCAPFILE_H
#define NETPROF_PCAPFILE_H

#include <stddef.h>
#include <stdint.h>

struct pcapfile;

#define PCAPFILE_SNAP_MAX 65535

/* NULL with a one-line reason in err (unreadable, corrupt, unsupported link type). */
struct pcapfile *pcapfile__open(const char *path, char *err, size_t errlen);
/*
 * Next frame as Ethernet in out (PCAPFILE_SNAP_MAX + 64 bytes): returns its
 * length, 0 at the end, -1 on a corrupt file (reason in err). *wire_len is
 * the length the capture records for the frame as it was on the wire, with
 * its own link header: what tshark counts (frame.len), longer than the
 * frame when the capture's snaplen cut it.
 */
int pcapfile__next(struct pcapfile *pf, uint8_t *out, uint32_t *wire_len, char *err,
		   size_t errlen);
void pcapfile__close(struct pcapfile *pf);

#endif
