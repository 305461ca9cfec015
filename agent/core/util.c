/*
 * Helpers with no knowledge of any protocol: memory, strings, files,
 * clocks, identifiers.
 */
#include "core/util.h"
#include "core/log.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

void *
xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (p == NULL)
		fatalx("out of memory (%zu bytes)", n);
	return p;
}

void *
xcalloc(size_t nmemb, size_t size)
{
	void *p = calloc(nmemb ? nmemb : 1, size ? size : 1);

	if (p == NULL)
		fatalx("out of memory (%zu x %zu bytes)", nmemb, size);
	return p;
}

void *
xreallocarray(void *p, size_t nmemb, size_t size)
{
	void *q = reallocarray(p, nmemb ? nmemb : 1, size ? size : 1);

	if (q == NULL)
		fatalx("out of memory (%zu x %zu bytes)", nmemb, size);
	return q;
}

char *
xstrdup(const char *s)
{
	char *p = strdup(s);

	if (p == NULL)
		fatalx("out of memory");
	return p;
}

void
free_secret(char *s)
{
	if (s == NULL)
		return;
	OPENSSL_cleanse(s, strlen(s));
	free(s);
}

int
str_copy(char *dst, size_t size, const char *src)
{
	size_t n = strlen(src);

	if (size == 0)
		return -1;
	if (n >= size) {
		memcpy(dst, src, size - 1);
		dst[size - 1] = '\0';
		return -1;
	}
	memcpy(dst, src, n + 1);
	return 0;
}

int
file_read_fd(int fd, size_t max, char **out, size_t *len)
{
	char *buf = NULL;
	size_t used = 0, cap = 0;
	int rc = -1;

	for (;;) {
		ssize_t n;

		if (used + 1 >= cap) {
			if (cap > max) {
				errno = EFBIG;
				goto done;
			}
			cap = cap ? cap * 2 : 4096;
			buf = xreallocarray(buf, cap, 1);
		}
		n = read(fd, buf + used, cap - used - 1);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1)
			goto done;
		if (n == 0)
			break;
		used += (size_t)n;
		if (used > max) {
			errno = EFBIG;
			goto done;
		}
	}
	buf[used] = '\0';
	*out = buf;
	if (len)
		*len = used;
	buf = NULL;
	rc = 0;
done:
	free(buf);
	return rc;
}

int
file_read_all(const char *path, size_t max, char **out, size_t *len)
{
	int fd, rc, saved;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return -1;
	rc = file_read_fd(fd, max, out, len);
	saved = errno;
	close(fd);
	errno = saved;
	return rc;
}

static int64_t
clock_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int64_t now_mono_ms(void) { return clock_ns(CLOCK_MONOTONIC) / 1000000; }
int64_t now_real_ms(void) { return clock_ns(CLOCK_REALTIME) / 1000000; }
int64_t now_real_ns(void) { return clock_ns(CLOCK_REALTIME); }

void
time_format_utc(int64_t real_ns, char *out, size_t size)
{
	time_t secs = (time_t)(real_ns / 1000000000);
	struct tm tm;
	char day[32];

	gmtime_r(&secs, &tm);
	strftime(day, sizeof(day), "%Y-%m-%d %H:%M:%S", &tm);
	snprintf(out, size, "%s.%09ld +0000 UTC", day, (long)(real_ns % 1000000000));
}

void
random_hex(char *out, size_t nbytes)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char raw[64];

	while (nbytes > 0) {
		size_t n = nbytes < sizeof(raw) ? nbytes : sizeof(raw);

		if (RAND_bytes(raw, (int)n) != 1)
			fatalx("RAND_bytes failed");
		for (size_t i = 0; i < n; i++) {
			*out++ = hex[raw[i] >> 4];
			*out++ = hex[raw[i] & 15];
		}
		nbytes -= n;
	}
	*out = '\0';
	OPENSSL_cleanse(raw, sizeof(raw));
}

void
uuid_v4(char out[static UUID_STR_LEN])
{
	unsigned char b[16];

	if (RAND_bytes(b, sizeof(b)) != 1)
		fatalx("RAND_bytes failed");
	b[6] = (b[6] & 0x0f) | 0x40;
	b[8] = (b[8] & 0x3f) | 0x80;
	snprintf(out, UUID_STR_LEN,
		 "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
		 b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11],
		 b[12], b[13], b[14], b[15]);
}

int
uuid_valid(const char *s)
{
	for (int i = 0; i < 36; i++) {
		int dash = (i == 8 || i == 13 || i == 18 || i == 23);

		if (dash ? s[i] != '-' : !strchr("0123456789abcdefABCDEF", s[i]) || s[i] == '\0')
			return 0;
	}
	return s[36] == '\0';
}

const char *
ipv4_str(uint32_t be, char buf[static 16])
{
	struct in_addr a = { .s_addr = be };

	return inet_ntop(AF_INET, &a, buf, 16);
}

const char *
peer_str(uint32_t be, uint16_t client_port, char buf[static PEER_STR_LEN])
{
	char ip[16];

	if (client_port == 0)
		return ipv4_str(be, buf);
	snprintf(buf, PEER_STR_LEN, "%s:%u", ipv4_str(be, ip), client_port);
	return buf;
}

int
ipv4_parse(const char *s, uint32_t *out)
{
	uint32_t a = 0;

	for (int part = 0; part < 4; part++) {
		unsigned v = 0, digits = 0;

		if (part > 0 && *s++ != '.')
			return -1;
		for (; *s >= '0' && *s <= '9'; s++) {
			if ((digits > 0 && v == 0) || ++digits > 3)
				return -1;
			v = v * 10 + (unsigned)(*s - '0');
		}
		if (digits == 0 || v > 255)
			return -1;
		a = a << 8 | v;
	}
	if (*s != '\0')
		return -1;
	*out = a;
	return 0;
}

int
ipv4_valid(const char *s)
{
	uint32_t a;

	return ipv4_parse(s, &a) == 0;
}

void
ipv4_text(uint32_t a, char out[static 16])
{
	snprintf(out, 16, "%u.%u.%u.%u", a >> 24, (a >> 16) & 255, (a >> 8) & 255, a & 255);
}

int
ipv4_mask_len(uint32_t m)
{
	int n = 0;

	while (n < 32 && (m & (UINT32_C(1) << (31 - n))))
		n++;
	return (n == 32 || (m << n) == 0) ? n : -1;
}

int
hostname_valid(const char *s)
{
	size_t len = strlen(s), label = 0;
	uint32_t a;

	if (len == 0 || len > 254 || (len == 254 && s[253] != '.') || ipv4_parse(s, &a) == 0)
		return 0;
	for (size_t i = 0; i < len; i++) {
		char c = s[i];

		if (c == '.') {
			if (label == 0 || s[i - 1] == '-')
				return 0;
			label = 0;
		} else if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			   (c >= '0' && c <= '9') || c == '-') {
			if ((label == 0 && c == '-') || ++label > 63)
				return 0;
		} else {
			return 0;
		}
	}
	return s[len - 1] != '-';
}

int
addr_port_parse(const char *s, char *host, size_t hostsize, uint16_t *port)
{
	const char *colon = strrchr(s, ':');
	const char *h = s;
	size_t hlen;
	char *end;
	long p;

	if (colon == NULL || colon == s)
		return -1;
	hlen = (size_t)(colon - s);
	if (h[0] == '[' && hlen >= 2 && h[hlen - 1] == ']') {
		h++;
		hlen -= 2;
	}
	if (hlen == 0 || hlen >= hostsize)
		return -1;
	errno = 0;
	p = strtol(colon + 1, &end, 10);
	if (errno || *end != '\0' || end == colon + 1 || p < 1 || p > 65535)
		return -1;
	memcpy(host, h, hlen);
	host[hlen] = '\0';
	*port = (uint16_t)p;
	return 0;
}

int
tcp_listen(const char *host, uint16_t port)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE };
	struct addrinfo *ai = NULL;
	char service[8];
	int fd = -1, one = 1, err;

	/* No AI_ADDRCONFIG (which libevent's evhttp_bind_socket asks for): it
	 * hides IPv4 on a host whose only IPv4 address is loopback. */
	snprintf(service, sizeof(service), "%u", port);
	if ((err = getaddrinfo(host, service, &hints, &ai)) != 0) {
		errno = err == EAI_SYSTEM ? errno : EADDRNOTAVAIL;
		return -1;
	}
	fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) == -1 ||
	    bind(fd, ai->ai_addr, ai->ai_addrlen) == -1 || listen(fd, 128) == -1) {
		err = errno;
		if (fd != -1)
			close(fd);
		freeaddrinfo(ai);
		errno = err;
		return -1;
	}
	freeaddrinfo(ai);
	return fd;
}
