/*
 * TUN offloads (agent/esp/tunoff.c): a TCP or UDP super-packet cut into
 * packets as a NIC's TSO/USO would (lengths, IP IDs, sequence numbers,
 * flags, checksums that verify), a partial checksum completed, what the
 * offloads never produce refused; and on the way back, in-order segments
 * of one flow merged into one GSO frame whose payload is the segments'
 * bytes in order, anything else written alone and in order.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <cmocka.h>
#include <linux/virtio_net.h>

#include "esp/tunoff.h"

#define MSS 1360

static uint8_t frame[TUNOFF_FRAME_MAX], out[TUNOFF_FRAME_MAX + TUNOFF_SEGS_MAX * 120];
static size_t lens[TUNOFF_SEGS_MAX];
static const uint8_t *pkts[TUNOFF_SEGS_MAX];

static uint16_t
get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t
get32(const uint8_t *p)
{
	return (uint32_t)get16(p) << 16 | get16(p + 2);
}

/* RFC 1071 over a header or a pseudo-header and segment: 0 when right. */
static uint16_t
fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

static uint32_t
sum16(const uint8_t *p, size_t n)
{
	uint32_t s = 0;

	for (size_t i = 0; i + 1 < n; i += 2)
		s += get16(p + i);
	if (n & 1)
		s += (uint32_t)p[n - 1] << 8;
	return s;
}

static int
l4_ok(const uint8_t *ip, size_t len)
{
	size_t ihl = (ip[0] & 15) * 4u, l4 = len - ihl;
	uint32_t s = sum16(ip + 12, 8) + ip[9] + (uint32_t)l4 + sum16(ip + ihl, l4);

	return fold(s) == 0xffff;
}

/* An IPv4 super-packet of proto with `payload` bytes of pattern, behind a
 * virtio-net header asking for gso_type/gso_size and a partial checksum. */
static size_t
super(uint8_t proto, uint8_t gso_type, size_t payload, uint8_t tcp_flags)
{
	struct virtio_net_hdr vh = { .flags = VIRTIO_NET_HDR_F_NEEDS_CSUM, .gso_type = gso_type,
				     .gso_size = MSS, .csum_start = 20,
				     .csum_offset = proto == IPPROTO_TCP ? 16 : 6 };
	uint8_t *ip = frame + TUNOFF_VNET_LEN, *l4 = ip + 20;
	size_t l4h = proto == IPPROTO_TCP ? 20 : 8, len = 20 + l4h + payload;

	memset(frame, 0, TUNOFF_VNET_LEN + len);
	memcpy(frame, &vh, sizeof(vh));
	ip[0] = 0x45, ip[2] = (uint8_t)(len >> 8), ip[3] = (uint8_t)len;
	ip[4] = 0x12, ip[5] = 0x34, ip[6] = 0x40, ip[8] = 64, ip[9] = proto;
	memcpy(ip + 12, (uint8_t[]){ 10, 1, 0, 1, 10, 2, 0, 1 }, 8);
	l4[0] = 0x80, l4[1] = 0x01, l4[2] = 0x00, l4[3] = 0x50;	/* 32769 -> 80 */
	if (proto == IPPROTO_TCP) {
		memcpy(l4 + 4, (uint8_t[]){ 0x10, 0x00, 0x00, 0x00 }, 4);	/* seq 2^28 */
		memcpy(l4 + 8, (uint8_t[]){ 0, 0, 0, 7 }, 4);
		l4[12] = 5 << 4, l4[13] = tcp_flags, l4[14] = 0x10;
	}
	for (size_t i = 0; i < payload; i++)
		ip[20 + l4h + i] = (uint8_t)(i * 7 + i / 251);
	if (proto == IPPROTO_UDP) {
		ip[24] = (uint8_t)((8 + payload) >> 8), ip[25] = (uint8_t)(8 + payload);
	}
	{	/* partial, as the kernel leaves it: the pseudo-header sum, folded */
		uint16_t ph = fold(sum16(ip + 12, 8) + proto + (uint32_t)(l4h + payload));
		uint8_t *c = l4 + (proto == IPPROTO_TCP ? 16 : 6);

		c[0] = (uint8_t)(ph >> 8), c[1] = (uint8_t)ph;
	}
	return TUNOFF_VNET_LEN + len;
}

static void
test_tso4_cut(void **state)
{
	size_t payload = 10 * MSS + 123, n = super(IPPROTO_TCP, VIRTIO_NET_HDR_GSO_TCPV4, payload,
						    0x18 | 0x80 | 0x01);	/* ACK PSH CWR FIN */
	const uint8_t *src = frame + TUNOFF_VNET_LEN + 40;
	int k = tunoff_split(frame, n, out, sizeof(out), pkts, lens, TUNOFF_SEGS_MAX);
	size_t off = 0, got = 0;

	assert_int_equal(k, 11);
	for (int i = 0; i < k; i++) {
		const uint8_t *ip = out + off;
		size_t seg = i < 10 ? MSS : 123;

		assert_int_equal(lens[i], 40 + seg);
		assert_int_equal(get16(ip + 2), 40 + seg);
		assert_int_equal(get16(ip + 4), 0x1234 + i);		/* IP ID, one more each */
		assert_int_equal(fold(sum16(ip, 20)), 0xffff);	/* IP checksum */
		assert_true(l4_ok(ip, lens[i]));			/* TCP checksum */
		assert_int_equal(get32(ip + 24), 0x10000000u + (uint32_t)(i * MSS));
		assert_int_equal(ip[33] & 0x01, i == 10 ? 0x01 : 0);	/* FIN last */
		assert_int_equal(ip[33] & 0x08, i == 10 ? 0x08 : 0);	/* PSH last */
		assert_int_equal(ip[33] & 0x80, i == 0 ? 0x80 : 0);	/* CWR first */
		assert_memory_equal(ip + 40, src + got, seg);
		got += seg;
		off += lens[i];
	}
	assert_int_equal(got, payload);
	/* more segments than the caller has room for */
	assert_int_equal(tunoff_split(frame, n, out, sizeof(out), pkts, lens, 10), -1);
	assert_int_equal(tunoff_split(frame, n, out, 11 * 40 + payload - 1, pkts, lens, 64), -1);
}

static void
test_uso4_cut(void **state)
{
	size_t n = super(IPPROTO_UDP, 5 /* GSO_UDP_L4 */, 3 * MSS, 0);
	int k = tunoff_split(frame, n, out, sizeof(out), pkts, lens, TUNOFF_SEGS_MAX);
	size_t off = 0;

	assert_int_equal(k, 3);
	for (int i = 0; i < k; i++) {
		const uint8_t *ip = out + off;

		assert_int_equal(lens[i], 28 + MSS);
		assert_int_equal(get16(ip + 24), 8 + MSS);		/* UDP length */
		assert_true(get16(ip + 26) != 0 && l4_ok(ip, lens[i]));
		assert_memory_equal(ip + 28, frame + TUNOFF_VNET_LEN + 28 + (size_t)i * MSS, MSS);
		off += lens[i];
	}
}

static void
test_one_packet_and_refusals(void **state)
{
	size_t n = super(IPPROTO_UDP, VIRTIO_NET_HDR_GSO_NONE, 100, 0);
	struct virtio_net_hdr vh;

	/* a partial checksum is completed */
	assert_int_equal(tunoff_split(frame, n, out, sizeof(out), pkts, lens, 1), 1);
	assert_int_equal(lens[0], 128);
	assert_ptr_equal(pkts[0], frame + TUNOFF_VNET_LEN);	/* in place, no copy */
	assert_true(l4_ok(pkts[0], 128));
	/* no checksum asked for: as it is */
	n = super(IPPROTO_UDP, VIRTIO_NET_HDR_GSO_NONE, 100, 0);
	frame[0] = 0;
	memcpy(out, frame + TUNOFF_VNET_LEN, 128);
	assert_int_equal(tunoff_split(frame, n, out + 200, sizeof(out) - 200, pkts, lens, 1), 1);
	assert_memory_equal(pkts[0], out, 128);
	/* checksum field past the end, IPv6 and ECN GSO, no header at all */
	n = super(IPPROTO_UDP, VIRTIO_NET_HDR_GSO_NONE, 100, 0);
	memcpy(&vh, frame, sizeof(vh));
	vh.csum_start = 127;
	memcpy(frame, &vh, sizeof(vh));
	assert_int_equal(tunoff_split(frame, n, out, sizeof(out), pkts, lens, 1), -1);
	n = super(IPPROTO_TCP, VIRTIO_NET_HDR_GSO_TCPV6, 3000, 0x10);
	assert_int_equal(tunoff_split(frame, n, out, sizeof(out), pkts, lens, 64), -1);
	n = super(IPPROTO_TCP, VIRTIO_NET_HDR_GSO_TCPV4 | VIRTIO_NET_HDR_GSO_ECN, 3000, 0x10);
	assert_int_equal(tunoff_split(frame, n, out, sizeof(out), pkts, lens, 64), -1);
	assert_int_equal(tunoff_split(frame, TUNOFF_VNET_LEN, out, sizeof(out), pkts, lens, 64), -1);
	/* TSO of a UDP packet, a zero segment size, the wrong checksum start */
	n = super(IPPROTO_UDP, VIRTIO_NET_HDR_GSO_TCPV4, 3000, 0);
	assert_int_equal(tunoff_split(frame, n, out, sizeof(out), pkts, lens, 64), -1);
	n = super(IPPROTO_TCP, VIRTIO_NET_HDR_GSO_TCPV4, 3000, 0x10);
	memcpy(&vh, frame, sizeof(vh));
	vh.gso_size = 0;
	memcpy(frame, &vh, sizeof(vh));
	assert_int_equal(tunoff_split(frame, n, out, sizeof(out), pkts, lens, 64), -1);
	vh.gso_size = MSS, vh.csum_start = 24;
	memcpy(frame, &vh, sizeof(vh));
	assert_int_equal(tunoff_split(frame, n, out, sizeof(out), pkts, lens, 64), -1);
}

/* ---- merging -------------------------------------------------------------- */

struct written {
	int    frames, segs[16];
	size_t len[16];
	uint8_t data[16][70000];	/* vnet header and packet, flattened */
};
static struct written wr;

static void
record(void *ctx, const struct iovec *iov, int cnt, size_t len, int segs)
{
	size_t off = 0;

	assert_true(wr.frames < 16);
	for (int i = 0; i < cnt; i++) {
		memcpy(wr.data[wr.frames] + off, iov[i].iov_base, iov[i].iov_len);
		off += iov[i].iov_len;
	}
	assert_int_equal(off, TUNOFF_VNET_LEN + len);
	wr.len[wr.frames] = len;
	wr.segs[wr.frames++] = segs;
}

/* Cut a TCP super-packet, merge its segments back: one frame asking for
 * TSO with the segment size, whose packet is the original one. */
static void
test_merge_round_trip(void **state)
{
	size_t payload = 20 * MSS, n = super(IPPROTO_TCP, VIRTIO_NET_HDR_GSO_TCPV4, payload, 0x18);
	int k = tunoff_split(frame, n, out, sizeof(out), pkts, lens, TUNOFF_SEGS_MAX);
	struct tunoff_gro g;
	struct virtio_net_hdr vh;
	size_t off = 0;

	memset(&wr, 0, sizeof(wr));
	tunoff_gro_init(&g);
	for (int i = 0; i < k; i++) {
		tunoff_gro_add(&g, out + off, lens[i], record, NULL);
		off += lens[i];
	}
	assert_int_equal(wr.frames, 0);	/* held until the flush */
	tunoff_gro_flush(&g, record, NULL);
	assert_int_equal(wr.frames, 1);
	assert_int_equal(wr.segs[0], 20);
	assert_int_equal(wr.len[0], 40 + payload);
	memcpy(&vh, wr.data[0], sizeof(vh));
	assert_int_equal(vh.gso_type, VIRTIO_NET_HDR_GSO_TCPV4);
	assert_int_equal(vh.gso_size, MSS);
	assert_int_equal(vh.flags, VIRTIO_NET_HDR_F_NEEDS_CSUM);
	assert_int_equal(vh.csum_start, 20);
	assert_int_equal(vh.csum_offset, 16);
	assert_int_equal(get16(wr.data[0] + TUNOFF_VNET_LEN + 2), 40 + payload);
	assert_int_equal(wr.data[0][TUNOFF_VNET_LEN + 33], 0x18);	/* PSH from the last */
	assert_memory_equal(wr.data[0] + TUNOFF_VNET_LEN + 40, frame + TUNOFF_VNET_LEN + 40,
			    payload);
}

/* A gap in the sequence, another flow, a packet that is not TCP: each
 * ends the run, and everything leaves in the order it came. */
static void
test_merge_keeps_order(void **state)
{
	size_t n = super(IPPROTO_TCP, VIRTIO_NET_HDR_GSO_TCPV4, 6 * MSS, 0x10);
	int k = tunoff_split(frame, n, out, sizeof(out), pkts, lens, TUNOFF_SEGS_MAX);
	static uint8_t udp[128], other[2][1500];
	const uint8_t *seg[6];
	struct tunoff_gro g;
	size_t off = 0;

	assert_int_equal(k, 6);
	for (int i = 0; i < k; i++) {
		seg[i] = out + off;
		off += lens[i];
	}
	memcpy(udp, seg[0], 20);
	udp[9] = IPPROTO_UDP, udp[2] = 0, udp[3] = sizeof(udp);
	memcpy(other[0], seg[1], lens[1]);
	other[0][21] ^= 1;	/* another source port */
	memset(&wr, 0, sizeof(wr));
	tunoff_gro_init(&g);
	tunoff_gro_add(&g, seg[0], lens[0], record, NULL);
	tunoff_gro_add(&g, seg[1], lens[1], record, NULL);
	tunoff_gro_add(&g, seg[3], lens[3], record, NULL);	/* a gap: seg[2] is missing */
	tunoff_gro_add(&g, udp, sizeof(udp), record, NULL);	/* not TCP: alone */
	tunoff_gro_add(&g, other[0], lens[1], record, NULL);	/* another flow */
	tunoff_gro_add(&g, seg[4], lens[4], record, NULL);
	tunoff_gro_add(&g, seg[5], lens[5], record, NULL);
	tunoff_gro_flush(&g, record, NULL);
	assert_int_equal(wr.frames, 5);
	assert_int_equal(wr.segs[0], 2);	/* seg 0, 1 */
	assert_int_equal(wr.segs[1], 1);	/* seg 3, alone as it came */
	assert_memory_equal(wr.data[1] + TUNOFF_VNET_LEN, seg[3], lens[3]);
	assert_int_equal(wr.segs[2], 1);	/* udp */
	assert_memory_equal(wr.data[2] + TUNOFF_VNET_LEN, udp, sizeof(udp));
	assert_int_equal(wr.segs[3], 1);	/* the other flow */
	assert_int_equal(wr.segs[4], 2);	/* seg 4, 5 */
	for (int i = 1; i < 4; i++)	/* alone: no offload asked for */
		assert_memory_equal(wr.data[i], (uint8_t[TUNOFF_VNET_LEN]){ 0 }, TUNOFF_VNET_LEN);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tso4_cut),
		cmocka_unit_test(test_uso4_cut),
		cmocka_unit_test(test_one_packet_and_refusals),
		cmocka_unit_test(test_merge_round_trip),
		cmocka_unit_test(test_merge_keeps_order),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
