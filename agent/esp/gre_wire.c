/*
 * GRE headers (RFC 2784 2), see gre.h:
 *
 *  |C|       Reserved0       | Ver |         Protocol Type         |
 *  |      Checksum (optional)      |       Reserved1 (Optional)    |
 */
#include "esp/gre.h"
#include "esp/inet.h"

#include <netinet/in.h>
#include <string.h>

#define GRE_HDR      4		/* flags and version, protocol type */
#define GRE_CSUM_BIT 0x8000u	/* C: checksum and reserved1 follow */
#define GRE_MUST_BE0 0x7ff8u	/* reserved0 (RFC 2784; key, sequence: RFC 2890) */
#define GRE_VERSION  0x0007u
#define GRE_IPV4     0x0800	/* protocol types (EtherTypes) */
#define GRE_IPV6     0x86dd
#define OUTER_TTL    255	/* as IOS sends GRE */

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
	inet_put16(ip + 2, (uint16_t)total);
	inet_put16(ip + 4, id);
	ip[8] = OUTER_TTL;
	ip[9] = IPPROTO_GRE;
	memcpy(ip + 12, &src_be, 4);
	memcpy(ip + 16, &dst_be, 4);
	inet_ip_checksum(ip, 20);
	inet_put16(gre, 0);
	inet_put16(gre + 2, v6 ? GRE_IPV6 : GRE_IPV4);
	return total;
}

int
gre_decap(const uint8_t *pkt, size_t len, size_t *inner_off)
{
	size_t hlen, off;
	uint16_t flags, type;

	if (len < 20 || (hlen = (pkt[0] & 0x0fu) * 4u) < 20 || len < hlen + GRE_HDR ||
	    (inet_get16(pkt + 6) & 0x3fff) != 0)
		return -1;	/* short, or a fragment of one */
	off = hlen + GRE_HDR;
	flags = inet_get16(pkt + hlen);
	type = inet_get16(pkt + hlen + 2);
	if ((flags & (GRE_MUST_BE0 | GRE_VERSION)) != 0)
		return -1;
	if (flags & GRE_CSUM_BIT) {
		if (len < off + 4 || inet_fold(inet_sum(0, pkt + hlen, len - hlen)) != 0xffff)
			return -1;
		off += 4;
	}
	if ((type != GRE_IPV4 && type != GRE_IPV6) || len == off)
		return -1;
	*inner_off = off;
	return 0;
}
