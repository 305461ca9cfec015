/*
 * Small helpers every module needs: allocation that dies loudly, bounded
 * string copies, files read with a cap, clocks, random identifiers,
 * "host:port" parsing. Files written atomically: core/files.h.
 */
#ifndef CORE_UTIL_H
#define CORE_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "core/files.h"	/* file_write_atomic, for every module that writes */

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))
#define UUID_STR_LEN 37 /* 36 characters and the NUL */

void *xmalloc(size_t n);
void *xcalloc(size_t nmemb, size_t size);
void *xreallocarray(void *p, size_t nmemb, size_t size);
char *xstrdup(const char *s);
/* Frees a secret after wiping it (OPENSSL_cleanse); NULL is fine. */
void  free_secret(char *s);

/* Copies src into dst[size]; -1 (dst still NUL-terminated) when truncated. */
int str_copy(char *dst, size_t size, const char *src);

/* Reads a whole file of at most max bytes, NUL-terminated. -1 with errno
 * (EFBIG when over max). file_read_fd reads an open one to its end. */
int file_read_all(const char *path, size_t max, char **out, size_t *len);
int file_read_fd(int fd, size_t max, char **out, size_t *len);

int64_t now_mono_ms(void);
int64_t now_real_ms(void);
/* "2026-11-21 10:50:00.123456789 +0000 UTC" as the reference status shows. */
void    time_format_utc(int64_t real_ns, char *out, size_t size);
int64_t now_real_ns(void);

/* Random lowercase hex (2 * nbytes characters). */
void random_hex(char *out, size_t nbytes);
/* Random RFC 4122 version 4 UUID. */
void uuid_v4(char out[static UUID_STR_LEN]);
int  uuid_valid(const char *s);

/* A 32-bit key (an address in network order, an SPI) mixed so that every
 * bit of it moves the low bits (MurmurHash3's finaliser): mask the result
 * for a table slot. Addresses of one site differ in their last octets,
 * which are the high bits of a network-order word. */
static inline uint32_t
hash32(uint32_t x)
{
	x ^= x >> 16;
	x *= 0x85ebca6bu;
	x ^= x >> 13;
	x *= 0xc2b2ae35u;
	x ^= x >> 16;
	return x;
}

/* Dotted quad of a network-order IPv4 address, into buf; returns buf. */
const char *ipv4_str(uint32_t be, char buf[static 16]);
/* A peer as metrics and views name it: its address, and for a
 * remote-access client (port != 0, several may share a NAT address)
 * "address:port". */
#define PEER_STR_LEN 22
const char *peer_str(uint32_t be, uint16_t client_port, char buf[static PEER_STR_LEN]);
/* The configuration's one IPv4 syntax (API, import-ios): a dotted quad of
 * four decimal parts 0..255 without leading zeros, to host byte order;
 * -1 for anything else (inet_pton takes "1.2.3.04" on some systems). */
int         ipv4_parse(const char *s, uint32_t *out);
int         ipv4_valid(const char *s);
void        ipv4_text(uint32_t host_order, char out[static 16]);
/* Prefix length of a netmask (host order): ones then zeros; else -1. */
int         ipv4_mask_len(uint32_t mask);
/* RFC 1123 host name: labels of 1..63 letters, digits and inner hyphens,
 * 253 characters at most (254 with a final dot); not an IPv4 address. */
int         hostname_valid(const char *s);

/* "host:port" → host (no brackets) and port 1..65535. */
int addr_port_parse(const char *s, char *host, size_t hostsize, uint16_t *port);
/* A non-blocking TCP socket listening on host:port (the first address
 * host resolves to); -1 with errno. */
int tcp_listen(const char *host, uint16_t port);

#endif
