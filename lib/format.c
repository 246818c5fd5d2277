// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "format.h"

/* v scaled down by base until under it, with one decimal below 10 */
static char *fmt_scaled(char *buf, size_t len, uint64_t v0, double base,
			const char *const *unit, int nunits, const char *sep)
{
	double v = v0;
	int u = 0;

	while (v >= base && u < nunits - 1) {
		v /= base;
		u++;
	}
	if (u == 0)
		snprintf(buf, len, "%llu%s%s", (unsigned long long)v0, sep, unit[0]);
	else
		snprintf(buf, len, v < 10 ? "%.1f%s%s" : "%.0f%s%s", v, sep, unit[u]);
	return buf;
}

char *fmt_bytes(char *buf, size_t len, uint64_t b)
{
	static const char *const unit[] = { "B", "KiB", "MiB", "GiB", "TiB", "PiB" };

	return fmt_scaled(buf, len, b, 1024, unit, 6, " ");
}

char *fmt_count(char *buf, size_t len, uint64_t n)
{
	static const char *const unit[] = { "", "k", "M", "G", "T" };

	return fmt_scaled(buf, len, n, 1000, unit, 5, "");
}

char *fmt_rate(char *buf, size_t len, double bps)
{
	static const char *const unit[] = { "b/s", "kb/s", "Mb/s", "Gb/s", "Tb/s" };
	double v = bps * 8;
	int u = 0;

	while (v >= 1000 && u < 4) {
		v /= 1000;
		u++;
	}
	snprintf(buf, len, v < 10 && u ? "%.1f %s" : "%.0f %s", v, unit[u]);
	return buf;
}

char *fmt_duration(char *buf, size_t len, uint64_t ns)
{
	if (ns < 1000ULL)
		snprintf(buf, len, "%llu ns", (unsigned long long)ns);
	else if (ns < 1000000ULL)
		snprintf(buf, len, "%.0f µs", ns / 1e3);
	else if (ns < 1000000000ULL)
		snprintf(buf, len, "%.0f ms", ns / 1e6);
	else if (ns < 60000000000ULL)
		snprintf(buf, len, "%.1f s", ns / 1e9);
	else if (ns < 3600000000000ULL)
		snprintf(buf, len, "%llum%02llus", (unsigned long long)(ns / 60000000000ULL),
			 (unsigned long long)(ns / 1000000000ULL % 60));
	else
		snprintf(buf, len, "%lluh%02llum", (unsigned long long)(ns / 3600000000000ULL),
			 (unsigned long long)(ns / 60000000000ULL % 60));
	return buf;
}

char *fmt_addr(char *buf, size_t len, const uint8_t addr[16], int family)
{
	if (family == FLOW_FAMILY_IPV4)
		inet_ntop(AF_INET, addr + 12, buf, len);
	else
		inet_ntop(AF_INET6, addr, buf, len);
	return buf;
}

char *fmt_endpoint(char *buf, size_t len, const uint8_t addr[16], uint16_t port,
		   int family, int has_ports)
{
	char a[INET6_ADDRSTRLEN];

	fmt_addr(a, sizeof(a), addr, family);
	if (!has_ports)
		snprintf(buf, len, "%s", a);
	else if (family == FLOW_FAMILY_IPV6)
		snprintf(buf, len, "[%s]:%u", a, port);
	else
		snprintf(buf, len, "%s:%u", a, port);
	return buf;
}

int addr_is_v4(const uint8_t addr[16])
{
	static const uint8_t pfx[12] = { [10] = 0xff, [11] = 0xff };

	return !memcmp(addr, pfx, sizeof(pfx));
}

int parse_addr(const char *s, uint8_t addr[16])
{
	memset(addr, 0, 16);
	if (inet_pton(AF_INET, s, addr + 12) == 1) {
		addr[10] = addr[11] = 0xff;
		return 0;
	}
	return inet_pton(AF_INET6, s, addr) == 1 ? 0 : -EINVAL;
}

int proto_has_ports(int proto)
{
	return proto == 6 || proto == 17 || proto == 132 || proto == 136;
}

char *fmt_proto(char *buf, size_t len, int proto)
{
	switch (proto) {
	case 1: snprintf(buf, len, "icmp"); break;
	case 6: snprintf(buf, len, "tcp"); break;
	case 17: snprintf(buf, len, "udp"); break;
	case 58: snprintf(buf, len, "icmp6"); break;
	case 132: snprintf(buf, len, "sctp"); break;
	default: snprintf(buf, len, "%d", proto);
	}
	return buf;
}

char *fmt_tcp_flags(char *buf, size_t len, uint8_t f)
{
	/* tcpdump's letters: Syn Fin Rst Push Ack Urg Ece Cwr */
	static const struct { uint8_t bit; char c; } map[] = {
		{ 0x02, 'S' }, { 0x01, 'F' }, { 0x04, 'R' }, { 0x08, 'P' },
		{ 0x10, 'A' }, { 0x20, 'U' }, { 0x40, 'E' }, { 0x80, 'W' },
	};
	size_t i, n = 0;

	for (i = 0; i < sizeof(map) / sizeof(map[0]) && n + 1 < len; i++)
		if (f & map[i].bit)
			buf[n++] = map[i].c;
	buf[n] = '\0';
	return buf;
}

int parse_duration(const char *s, uint64_t *ns)
{
	char *end;
	double v;

	/* a plain decimal number: no sign, space, "inf", "nan" or hex float */
	if (!s || !(isdigit((unsigned char)*s) || (*s == '.' && isdigit((unsigned char)s[1]))))
		return -EINVAL;
	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || !isfinite(v) || v < 0 || strpbrk(s, "xXpP"))
		return -EINVAL;
	if (!*end || !strcmp(end, "s"))
		v *= 1e9;
	else if (!strcmp(end, "ms"))
		v *= 1e6;
	else if (!strcmp(end, "us"))
		v *= 1e3;
	else if (!strcmp(end, "m"))
		v *= 60e9;
	else if (!strcmp(end, "h"))
		v *= 3600e9;
	else
		return -EINVAL;
	/* at most about 31 years; below 1 ns only 0 itself */
	if (v > DURATION_MAX_NS || (v > 0 && v < 1))
		return -EINVAL;
	*ns = (uint64_t)v;
	return 0;
}

int parse_u64(const char *s, uint64_t *v)
{
	unsigned long long x;
	char *end;

	/* digits first: strtoull takes spaces and a sign, and wraps " -5" */
	if (!s || !isdigit((unsigned char)*s))
		return -EINVAL;
	errno = 0;
	x = strtoull(s, &end, 10);
	if (errno || end == s)
		return -EINVAL;
	if (*end == 'k' || *end == 'K') {
		if (x > UINT64_MAX / 1000)
			return -EINVAL;
		x *= 1000, end++;
	} else if (*end == 'M') {
		if (x > UINT64_MAX / 1000000)
			return -EINVAL;
		x *= 1000000, end++;
	}
	if (*end)
		return -EINVAL;
	*v = x;
	return 0;
}

static uint64_t clock_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

uint64_t now_mono_ns(void) { return clock_ns(CLOCK_MONOTONIC); }
uint64_t now_real_ns(void) { return clock_ns(CLOCK_REALTIME); }

int parse_host_port(const char *arg, const char *default_host, int numeric,
		    struct sockaddr_storage *ss, unsigned int *len)
{
	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_flags = AI_NUMERICSERV }, *ai;
	const char *port, *colon = strrchr(arg, ':');
	char host[256];
	size_t n;

	if (arg[0] == '[') {
		const char *end = strchr(arg, ']');

		if (!end || end[1] != ':')
			return -EINVAL;
		n = end - arg - 1;
		arg++;
		port = end + 2;
	} else if (colon) {
		n = colon - arg;
		port = colon + 1;
	} else {
		if (!default_host)
			return -EINVAL;
		port = arg;
		arg = default_host;
		n = strlen(default_host);
	}
	if (n >= sizeof(host) || !*port || strspn(port, "0123456789") != strlen(port) ||
	    atoi(port) < 1 || atoi(port) > 65535)
		return -EINVAL;
	memcpy(host, arg, n);
	host[n] = 0;
	if (!host[0] || !strcmp(host, "*"))
		strcpy(host, "::");
	if (numeric)
		hints.ai_flags |= AI_NUMERICHOST;
	if (getaddrinfo(host, port, &hints, &ai))
		return -EINVAL;
	memcpy(ss, ai->ai_addr, ai->ai_addrlen);
	*len = ai->ai_addrlen;
	freeaddrinfo(ai);
	return 0;
}

int netns_name_check(const char *name)
{
	if (!name || !*name || strchr(name, '/') || !strcmp(name, ".") || !strcmp(name, "..") ||
	    strlen(name) >= 64)
		return -EINVAL;
	return 0;
}

char *fmt_iface_hooks(char *buf, size_t len, uint32_t a)
{
	const char *tc = a & IFACE_TCX ? "tcx" : "tc";

	size_t n;

	snprintf(buf, len, "%s%s%s%s%s%s", a & IFACE_XDP_NATIVE ? "xdp(native) " : "",
		 a & IFACE_XDP_GENERIC ? "xdp(generic) " : "",
		 a & IFACE_TC_INGRESS ? tc : "", a & IFACE_TC_INGRESS ? "-ingress " : "",
		 a & IFACE_TC_EGRESS ? tc : "", a & IFACE_TC_EGRESS ? "-egress" : "");
	n = strlen(buf);
	if (n && buf[n - 1] == ' ')
		buf[n - 1] = '\0';
	return buf;
}

const char *iface_why_str(uint32_t why)
{
	switch (why) {
	case IFACE_WHY_ASKED:
		return "as --xdp asked";
	case IFACE_WHY_LOOPBACK:
		return "loopback: XDP only generic there, dearer than TC";
	case IFACE_WHY_VETH:
		return "veth: XDP would turn off its peer's TSO";
	case IFACE_WHY_VIRTUAL:
		return "virtual device: XDP costs more than TC there";
	case IFACE_WHY_NO_NATIVE:
		return "the driver has no native XDP";
	case IFACE_WHY_OFFLOADS:
		return "XDP changed the device's offloads";
	case IFACE_WHY_NATIVE:
		return "native XDP, offloads unchanged";
	case IFACE_WHY_XDP_FAILED:
		return "XDP refused: ingress counts at TC";
	}
	return "";
}
