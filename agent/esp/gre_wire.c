/*
 * GRE headers (RFC 2784 2), see gre.h:
 *
 *  |C|       Reserved0       | Ver |         Protocol Type         |
 *  |      Checksum (optional)      |       Reserved1 (Optional)    |
 */
#include "esp/gre.h"

#include <netinet/in.h>
#include <string.h>

#define GRE_HDR      4		/* flags and version, protocol type */
#define GRE_CSUM_BIT 0x8000u	/* C: checksum and reserved1 follow */
#define GRE_MUST_BE0 0x7ff8u	/* reserved0 (RFC 2784; key, sequence: RFC 2890) */
#define GRE_VERSION  0x0007u
#define GRE_IPV4     0x0800	/* protocol types (EtherTypes) */
#define GRE_IPV6     0x86dd
#define OUTER_TTL    255	/* as IOS sends GRE */

static uint16_t
get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static void
put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* RFC 1071 over n bytes. */
static uint16_t
csum(const uint8_t *p, size_t n)
{
	uint32_t sum = 0;
	size_t i;

	for (i = 0; i + 1 < n; i += 2)
		sum += get16(p + i);
	if (i < n)
		sum += (uint32_t)p[i] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

size_t
gre_encap(uint8_t *buf, size_t inner_len, uint32_t src_be, uint32_t dst_be, uint16_t id)
{
	uint8_t *ip = buf, *gre = buf + 20;
	const uint8_t *inner = buf + GRE_OUTER;
	int v6 = inner_len > 0 && inner[0] >> 4 == 6;
	size_t total = GRE_OUTER + inner_len;

	memset(ip, 0, 20);
	ip[0] = 0x45;
	ip[1] = !v6 && inner_len > 1 ? inner[1] : 0;
	put16(ip + 2, (uint16_t)total);
	put16(ip + 4, id);
	ip[8] = OUTER_TTL;
	ip[9] = IPPROTO_GRE;
	memcpy(ip + 12, &src_be, 4);
	memcpy(ip + 16, &dst_be, 4);
	put16(ip + 10, csum(ip, 20));
	put16(gre, 0);
	put16(gre + 2, v6 ? GRE_IPV6 : GRE_IPV4);
	return total;
}

int
gre_decap(const uint8_t *pkt, size_t len, size_t *inner_off)
{
	size_t hlen, off;
	uint16_t flags, type;

	if (len < 20 || (hlen = (pkt[0] & 0x0fu) * 4u) < 20 || len < hlen + GRE_HDR ||
	    (get16(pkt + 6) & 0x3fff) != 0)
		return -1;	/* short, or a fragment of one */
	off = hlen + GRE_HDR;
	flags = get16(pkt + hlen);
	type = get16(pkt + hlen + 2);
	if ((flags & (GRE_MUST_BE0 | GRE_VERSION)) != 0)
		return -1;
	if (flags & GRE_CSUM_BIT) {
		if (len < off + 4 || csum(pkt + hlen, len - hlen) != 0)
			return -1;
		off += 4;
	}
	if ((type != GRE_IPV4 && type != GRE_IPV6) || len == off)
		return -1;
	*inner_off = off;
	return 0;
}
