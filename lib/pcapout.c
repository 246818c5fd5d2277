// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pcap/pcap.h>
#include "pcapout.h"

struct pcap_out {
	int		pcapng;
	pcap_t		*dead;		/* pcap: libpcap's dumper */
	pcap_dumper_t	*dumper;
	FILE		*f;		/* pcapng */
	int		nifaces;
	uint32_t	snaplen;
};

/* pcapng blocks and options (draft-ietf-opsawg-pcapng) */
#define BT_SHB		0x0A0D0D0A
#define BT_IDB		0x00000001
#define BT_EPB		0x00000006
#define OPT_END		0
#define OPT_COMMENT	1
#define SHB_USERAPPL	4
#define IF_NAME		2
#define IF_DESCRIPTION	3
#define IF_TSRESOL	9
#define EPB_FLAGS	2

static size_t pad4(size_t n) { return (n + 3) & ~(size_t)3; }

/* An option into buf at *off; returns the new offset. */
static size_t opt(uint8_t *buf, size_t off, uint16_t code, const void *val, uint16_t len)
{
	memcpy(buf + off, &code, 2);
	memcpy(buf + off + 2, &len, 2);
	memcpy(buf + off + 4, val, len);
	memset(buf + off + 4 + len, 0, pad4(len) - len);
	return off + 4 + pad4(len);
}

/* Frame a block: type, total length, body, total length. */
static int block(struct pcap_out *o, uint32_t type, const void *body, size_t len)
{
	uint32_t total = 12 + len;

	if (fwrite(&type, 4, 1, o->f) != 1 || fwrite(&total, 4, 1, o->f) != 1 ||
	    (len && fwrite(body, len, 1, o->f) != 1) || fwrite(&total, 4, 1, o->f) != 1)
		return -EIO;
	return 0;
}

/* path "-": stdout; else made (or emptied) with permissions mode, no symlink followed */
static FILE *out_file(const char *path, unsigned int mode)
{
	FILE *f;
	int fd;

	if (!strcmp(path, "-"))
		return stdout;
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, mode);
	if (fd < 0)
		return NULL;
	if (fchmod(fd, mode) || !(f = fdopen(fd, "wb"))) {	/* an existing file keeps no wider mode */
		close(fd);
		return NULL;
	}
	return f;
}

struct pcap_out *pcap_out__open(const char *path, int pcapng, uint32_t snaplen, unsigned int mode,
				char *err, size_t errlen)
{
	struct pcap_out *o = calloc(1, sizeof(*o));
	uint8_t shb[64];
	uint32_t magic = 0x1A2B3C4D;
	uint16_t major = 1, minor = 0;
	int64_t section = -1;
	size_t off = 0;

	if (!o) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	o->pcapng = pcapng;
	o->snaplen = snaplen;
	if (!pcapng) {
		o->dead = pcap_open_dead_with_tstamp_precision(DLT_EN10MB, snaplen,
							       PCAP_TSTAMP_PRECISION_NANO);
		FILE *f = o->dead ? out_file(path, mode) : NULL;

		o->dumper = f ? pcap_dump_fopen(o->dead, f) : NULL;
		if (!o->dumper) {
			if (f && f != stdout)
				fclose(f);
			snprintf(err, errlen, "%s: %s", path, !o->dead ? "libpcap failed" :
				 f ? pcap_geterr(o->dead) : strerror(errno));
			if (o->dead)
				pcap_close(o->dead);
			free(o);
			return NULL;
		}
		return o;
	}
	o->f = out_file(path, mode);
	if (!o->f) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		free(o);
		return NULL;
	}
	memcpy(shb, &magic, 4);
	memcpy(shb + 4, &major, 2);
	memcpy(shb + 6, &minor, 2);
	memcpy(shb + 8, &section, 8);
	off = opt(shb, 16, SHB_USERAPPL, "netprof", 7);
	off = opt(shb, off, OPT_END, NULL, 0);
	if (block(o, BT_SHB, shb, off)) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		fclose(o->f);
		free(o);
		return NULL;
	}
	return o;
}

int pcap_out__add_iface(struct pcap_out *o, const char *name, const char *descr)
{
	uint8_t idb[8 + 3 * 260 + 16];
	uint16_t linktype = DLT_EN10MB, reserved = 0;
	uint8_t tsresol = 9;	/* nanoseconds */
	size_t off;

	if (!o->pcapng)
		return o->nifaces++;
	memcpy(idb, &linktype, 2);
	memcpy(idb + 2, &reserved, 2);
	memcpy(idb + 4, &o->snaplen, 4);
	off = opt(idb, 8, IF_NAME, name, strnlen(name, 255));
	if (descr)
		off = opt(idb, off, IF_DESCRIPTION, descr, strnlen(descr, 255));
	off = opt(idb, off, IF_TSRESOL, &tsresol, 1);
	off = opt(idb, off, OPT_END, NULL, 0);
	if (block(o, BT_IDB, idb, off))
		return -EIO;
	return o->nifaces++;
}

int pcap_out__write(struct pcap_out *o, int iface, uint64_t ts_ns, const void *data,
		    uint32_t caplen, uint32_t len, int dir, const char *comment)
{
	uint32_t hdr[5], flags = dir ? 2 : 1;	/* epb_flags: 1 inbound, 2 outbound */
	size_t clen = comment ? strnlen(comment, 1024) : 0, optlen, body;
	uint8_t opts[1024 + 32], zero[4] = {};
	uint32_t type = BT_EPB, total;

	if (!o->pcapng) {
		struct pcap_pkthdr h = {
			.ts = { .tv_sec = ts_ns / 1000000000ULL, .tv_usec = ts_ns % 1000000000ULL },
			.caplen = caplen, .len = len,
		};

		pcap_dump((u_char *)o->dumper, &h, data);
		return 0;
	}
	optlen = opt(opts, 0, EPB_FLAGS, &flags, 4);
	if (clen)
		optlen = opt(opts, optlen, OPT_COMMENT, comment, clen);
	optlen = opt(opts, optlen, OPT_END, NULL, 0);
	hdr[0] = iface;
	hdr[1] = ts_ns >> 32;
	hdr[2] = (uint32_t)ts_ns;
	hdr[3] = caplen;
	hdr[4] = len;
	body = sizeof(hdr) + pad4(caplen) + optlen;
	total = 12 + body;
	if (fwrite(&type, 4, 1, o->f) != 1 || fwrite(&total, 4, 1, o->f) != 1 ||
	    fwrite(hdr, sizeof(hdr), 1, o->f) != 1 || (caplen && fwrite(data, caplen, 1, o->f) != 1) ||
	    (pad4(caplen) > caplen && fwrite(zero, pad4(caplen) - caplen, 1, o->f) != 1) ||
	    fwrite(opts, optlen, 1, o->f) != 1 || fwrite(&total, 4, 1, o->f) != 1)
		return -EIO;
	return 0;
}

int pcap_out__close(struct pcap_out *o)
{
	int err = 0;

	if (!o)
		return 0;
	if (o->dumper) {
		if (pcap_dump_flush(o->dumper))
			err = -EIO;
		pcap_dump_close(o->dumper);
		pcap_close(o->dead);
	} else if (o->f) {
		if (fflush(o->f) || (o->f != stdout && fclose(o->f)))
			err = -EIO;
	}
	free(o);
	return err;
}
