/*
 * TUN offloads, see tunoff.h. The virtio-net header (virtio spec 5.1.6):
 *
 *   flags (NEEDS_CSUM) | gso_type | hdr_len | gso_size | csum_start | csum_offset
 *
 * in host order (a TUN device's default is the host's endianness). A
 * partial checksum (NEEDS_CSUM) holds the pseudo-header sum at csum_start +
 * csum_offset; the rest is summed from csum_start to the end.
 */
#include "esp/tunoff.h"
#include "esp/inet.h"

#include <linux/virtio_net.h>
#include <netinet/in.h>
#include <string.h>

#ifndef VIRTIO_NET_HDR_GSO_UDP_L4
#define VIRTIO_NET_HDR_GSO_UDP_L4 5	/* Linux 6.2 headers */
#endif

#define TCP_FIN 0x01
#define TCP_PSH 0x08
#define TCP_ACK 0x10
#define TCP_CWR 0x80

/* The pseudo-header (RFC 793 3.1, RFC 768) of an IPv4 packet's l4_len
 * bytes of TCP or UDP. */
static uint64_t
pseudo(const uint8_t *ip, uint8_t proto, size_t l4_len)
{
	uint8_t ph[4] = { 0, proto, (uint8_t)(l4_len >> 8), (uint8_t)l4_len };

	return inet_sum(inet_sum(0, ip + 12, 8), ph, 4);
}

/* ---- one read: a packet, or a super-packet cut ------------------------------ */

static int
finish_csum(const struct virtio_net_hdr *vh, uint8_t *pkt, size_t len)
{
	size_t start = vh->csum_start, at = start + vh->csum_offset;

	if (!(vh->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM))
		return 0;
	if (start >= len || at + 2 > len)
		return -1;
	inet_put_sum(pkt + at, (uint16_t)~inet_fold(inet_sum(0, pkt + start, len - start)));
	return 0;
}

/*
 * A TCP or UDP super-packet over IPv4 (what TSO4 and USO4 hand over): the
 * headers repeated in front of each gso_size bytes of payload, total
 * length, IP identification (one more per segment) and both checksums
 * made again; TCP's sequence number advanced, FIN and PSH on the last
 * segment only, CWR on the first only (RFC 3168 6.1.2).
 */
static int
segment(const struct virtio_net_hdr *vh, const uint8_t *pkt, size_t len, uint8_t *out,
	size_t cap, const uint8_t **pkts, size_t *lens, int max)
{
	int tcp = vh->gso_type == VIRTIO_NET_HDR_GSO_TCPV4;
	size_t ihl, l4h, hl, mss = vh->gso_size, payload;
	uint16_t id0;
	int nseg;

	if (len < 28 || pkt[0] >> 4 != 4 || pkt[9] != (tcp ? IPPROTO_TCP : IPPROTO_UDP) ||
	    (ihl = (pkt[0] & 0x0fu) * 4u) < 20 || vh->csum_start != ihl ||
	    len < ihl + (tcp ? 20u : 8u) || mss == 0)
		return -1;
	l4h = tcp ? (pkt[ihl + 12] >> 4) * 4u : 8u;
	hl = ihl + l4h;
	if (l4h < (tcp ? 20u : 8u) || hl >= len)
		return -1;
	payload = len - hl;
	nseg = (int)((payload + mss - 1) / mss);
	if (nseg > max || (size_t)nseg * hl + payload > cap)
		return -1;
	id0 = inet_get16(pkt + 4);
	for (int k = 0; k < nseg; k++) {
		size_t off = (size_t)k * mss, seg = payload - off < mss ? payload - off : mss;
		uint8_t *ip = out, *l4 = out + ihl;

		memcpy(out, pkt, hl);
		memcpy(out + hl, pkt + hl + off, seg);
		inet_put16(ip + 2, (uint16_t)(hl + seg));
		inet_put16(ip + 4, (uint16_t)(id0 + k));
		inet_ip_checksum(ip, ihl);
		if (tcp) {
			uint8_t fl = pkt[ihl + 13];

			inet_put32(l4 + 4, inet_get32(pkt + ihl + 4) + (uint32_t)off);
			if (k != nseg - 1)
				fl &= (uint8_t)~(TCP_FIN | TCP_PSH);
			if (k != 0)
				fl &= (uint8_t)~TCP_CWR;
			l4[13] = fl;
			inet_put_sum(l4 + 16, 0);
			inet_put_sum(l4 + 16, (uint16_t)~inet_fold(
				inet_sum(pseudo(ip, IPPROTO_TCP, l4h + seg), l4, l4h + seg)));
		} else {
			uint16_t c;

			inet_put16(l4 + 4, (uint16_t)(l4h + seg));
			inet_put_sum(l4 + 6, 0);
			c = (uint16_t)~inet_fold(inet_sum(pseudo(ip, IPPROTO_UDP, l4h + seg), l4,
							l4h + seg));
			inet_put_sum(l4 + 6, c == 0 ? 0xffff : c);	/* 0 is "no checksum" */
		}
		pkts[k] = out;
		lens[k] = hl + seg;
		out += hl + seg;
	}
	return nseg;
}

int
tunoff_split(uint8_t *frame, size_t len, uint8_t *out, size_t cap, const uint8_t **pkts,
	     size_t *lens, int max)
{
	struct virtio_net_hdr vh;
	uint8_t *pkt = frame + TUNOFF_VNET_LEN;

	if (len <= TUNOFF_VNET_LEN || max < 1)
		return -1;
	memcpy(&vh, frame, sizeof(vh));
	len -= TUNOFF_VNET_LEN;
	switch (vh.gso_type) {
	case VIRTIO_NET_HDR_GSO_NONE:	/* where it is */
		if (finish_csum(&vh, pkt, len) == -1)
			return -1;
		pkts[0] = pkt;
		lens[0] = len;
		return 1;
	case VIRTIO_NET_HDR_GSO_TCPV4:
	case VIRTIO_NET_HDR_GSO_UDP_L4:
		return segment(&vh, pkt, len, out, cap, pkts, lens, max);
	default:
		return -1;	/* IPv6, ECN: not asked for */
	}
}

/* ---- the receive side: merging one TCP flow's segments ---------------------- */

void
tunoff_gro_init(struct tunoff_gro *g)
{
	memset(g, 0, sizeof(*g));
}

/* Header length (IPv4 without options + TCP) of a segment that may merge:
 * ACK, or ACK|PSH, with data; not a fragment; its total length right. */
static size_t
mergeable(const uint8_t *pkt, size_t len)
{
	size_t thl;

	if (len < 40 || pkt[0] != 0x45 || pkt[9] != IPPROTO_TCP ||
	    (inet_get16(pkt + 6) & 0x3fff) != 0 || inet_get16(pkt + 2) != len)
		return 0;
	thl = (pkt[32] >> 4) * 4u;
	if (thl < 20 || 20 + thl >= len || (pkt[33] & ~TCP_PSH) != TCP_ACK)
		return 0;
	return 20 + thl;
}

static void
write_alone(struct tunoff_gro *g, const uint8_t *pkt, size_t len, tunoff_write_fn fn, void *ctx)
{
	struct iovec iov[2] = {
		{ .iov_base = g->hdr, .iov_len = TUNOFF_VNET_LEN },
		{ .iov_base = (void *)pkt, .iov_len = len },
	};

	memset(g->hdr, 0, TUNOFF_VNET_LEN);
	fn(ctx, iov, 2, len, 1);
}

void
tunoff_gro_flush(struct tunoff_gro *g, tunoff_write_fn fn, void *ctx)
{
	struct virtio_net_hdr vh = { 0 };
	uint8_t *ip = g->hdr + TUNOFF_VNET_LEN;
	size_t total = g->hdr_len + g->payload;

	if (g->n == 0)
		return;
	if (g->n == 1) {	/* alone, with its own checksums */
		write_alone(g, g->first, total, fn, ctx);
		g->n = 0;
		return;
	}
	memcpy(ip, g->first, g->hdr_len);
	inet_put16(ip + 2, (uint16_t)total);
	inet_ip_checksum(ip, 20);
	if (g->last_psh)
		ip[20 + 13] |= TCP_PSH;
	/* partial: the pseudo-header sum, the kernel adds the rest */
	inet_put_sum(ip + 20 + 16, inet_fold(pseudo(ip, IPPROTO_TCP, total - 20)));
	vh.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
	vh.gso_type = VIRTIO_NET_HDR_GSO_TCPV4;
	vh.hdr_len = (uint16_t)g->hdr_len;
	vh.gso_size = (uint16_t)g->mss;
	vh.csum_start = 20;
	vh.csum_offset = 16;
	memcpy(g->hdr, &vh, sizeof(vh));
	g->iov[0] = (struct iovec){ .iov_base = g->hdr, .iov_len = TUNOFF_VNET_LEN + g->hdr_len };
	fn(ctx, g->iov, g->n + 1, total, g->n);
	g->n = 0;
}

/* Same flow, next in sequence, nothing between: addresses, ports, ack,
 * window, options, ToS, DF, TTL equal; not past a short or PSH segment. */
static int
continues(const struct tunoff_gro *g, const uint8_t *pkt, size_t len, size_t hl)
{
	const uint8_t *f = g->first;

	return hl == g->hdr_len && g->n < TUNOFF_SEGS_MAX && !g->last_psh && !g->closed &&
	    len - hl <= g->mss && g->hdr_len + g->payload + (len - hl) <= 65535 &&
	    inet_get32(pkt + 24) == g->next_seq &&
	    pkt[1] == f[1] && pkt[6] == f[6] && pkt[8] == f[8] &&
	    memcmp(pkt + 12, f + 12, 8) == 0 && memcmp(pkt + 20, f + 20, 4) == 0 &&
	    memcmp(pkt + 28, f + 28, 5) == 0 && memcmp(pkt + 34, f + 34, 2) == 0 &&
	    memcmp(pkt + 40, f + 40, hl - 40) == 0;
}

void
tunoff_gro_add(struct tunoff_gro *g, const uint8_t *pkt, size_t len, tunoff_write_fn fn,
	       void *ctx)
{
	size_t hl = mergeable(pkt, len);

	if (g->n > 0 && hl != 0 && continues(g, pkt, len, hl)) {
		g->iov[1 + g->n] = (struct iovec){ .iov_base = (void *)(pkt + hl),
						   .iov_len = len - hl };
		g->n++;
		g->payload += len - hl;
		g->next_seq += (uint32_t)(len - hl);
		g->last_psh = (pkt[33] & TCP_PSH) != 0;
		g->closed = len - hl < g->mss;
		return;
	}
	tunoff_gro_flush(g, fn, ctx);
	if (hl == 0) {
		write_alone(g, pkt, len, fn, ctx);
		return;
	}
	g->n = 1;
	g->first = pkt;
	g->hdr_len = hl;
	g->mss = len - hl;
	g->payload = len - hl;
	g->next_seq = inet_get32(pkt + 24) + (uint32_t)(len - hl);
	g->last_psh = (pkt[33] & TCP_PSH) != 0;
	g->closed = 0;
	g->iov[1] = (struct iovec){ .iov_base = (void *)(pkt + hl), .iov_len = len - hl };
}
