/*
 * Byte order and the Internet checksum (RFC 1071) for the headers the
 * dataplane writes and reads (tunnel and transport mode, GRE, TUN
 * offloads). The sum is taken in memory order, which RFC 1071 allows as
 * the one's complement sum does not depend on byte order: what is stored
 * back with inet_put_sum is right on the wire.
 */
#ifndef ESP_INET_H
#define ESP_INET_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

static inline uint16_t
inet_get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline void
inet_put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static inline uint32_t
inet_get32(const uint8_t *p)
{
	return (uint32_t)inet_get16(p) << 16 | inet_get16(p + 2);
}

static inline void
inet_put32(uint8_t *p, uint32_t v)
{
	inet_put16(p, (uint16_t)(v >> 16));
	inet_put16(p + 2, (uint16_t)v);
}

/* Adds len bytes to a running sum: 32 bytes a round as eight 32-bit
 * halves of 64-bit loads into two accumulators (no carry is lost: that
 * would take 2^32 rounds), then the tail. */
static inline uint64_t
inet_sum(uint64_t sum, const uint8_t *p, size_t len)
{
	uint64_t s2 = 0;

	for (; len >= 32; p += 32, len -= 32) {
		uint64_t w[4];

		memcpy(w, p, sizeof(w));
		sum += (w[0] & 0xffffffffu) + (w[0] >> 32) + (w[1] & 0xffffffffu) + (w[1] >> 32);
		s2 += (w[2] & 0xffffffffu) + (w[2] >> 32) + (w[3] & 0xffffffffu) + (w[3] >> 32);
	}
	sum = (sum & 0xffffffffu) + (sum >> 32) + (s2 & 0xffffffffu) + (s2 >> 32);
	for (; len >= 4; p += 4, len -= 4) {
		uint32_t w;

		memcpy(&w, p, 4);
		sum += w;
	}
	if (len >= 2) {
		uint16_t w;

		memcpy(&w, p, 2);
		sum += w;
		p += 2;
		len -= 2;
	}
	if (len > 0) {
		uint16_t w = 0;

		memcpy(&w, p, 1);
		sum += w;
	}
	return sum;
}

/* The sum folded to 16 bits (memory order): 0xffff over data whose
 * checksum is right. */
static inline uint16_t
inet_fold(uint64_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

/* Stores a memory-order 16-bit value (a folded sum, or its complement). */
static inline void
inet_put_sum(uint8_t *p, uint16_t v)
{
	memcpy(p, &v, 2);
}

/* An IPv4 header's checksum field, made right for its first ihl bytes. */
static inline void
inet_ip_checksum(uint8_t *ip, size_t ihl)
{
	inet_put_sum(ip + 10, 0);
	inet_put_sum(ip + 10, (uint16_t)~inet_fold(inet_sum(0, ip, ihl)));
}

#endif
