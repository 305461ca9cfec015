/*
 * IKEv1 wire formats (agent/ike/wire.c, wire_build.c): every payload we
 * build parses back to the same fields; real messages cut at every length,
 * lengths pointing past the end, bad counts, caps and versions are rejected
 * without reading outside the message (run under ASan: malformed inputs are
 * copied into exact-size heap buffers).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ike/wire.h"

static const uint8_t icookie[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };
static const uint8_t rcookie[8] = { 0xf1, 0xf2, 0xf3, 0xf4, 0xf5, 0xf6, 0xf7, 0xf8 };

/* Phase 1 as a Main Mode initiator offers it: AES-128/SHA-256/PSK/MODP-2048
 * for a day (86400 s needs a TLV), then 3DES/SHA-1 for 8 hours (a TV). */
static const struct ike_xf_spec p1_xf[2] = {
	{ .id = IKE_XFORM_KEY_IKE, .nattrs = 7, .attrs = {
		{ IKE_ATTR_ENCRYPTION, IKE_ENC_AES_CBC }, { IKE_ATTR_KEY_LENGTH, 128 },
		{ IKE_ATTR_HASH, IKE_HASH_SHA256_ID }, { IKE_ATTR_AUTH, IKE_AUTH_PSK },
		{ IKE_ATTR_GROUP, 14 }, { IKE_ATTR_LIFE_TYPE, IKE_LIFE_SECONDS },
		{ IKE_ATTR_LIFE_DURATION, 86400 } } },
	{ .id = IKE_XFORM_KEY_IKE, .nattrs = 6, .attrs = {
		{ IKE_ATTR_ENCRYPTION, IKE_ENC_3DES_CBC }, { IKE_ATTR_HASH, IKE_HASH_SHA1_ID },
		{ IKE_ATTR_AUTH, IKE_AUTH_PSK }, { IKE_ATTR_GROUP, 14 },
		{ IKE_ATTR_LIFE_TYPE, IKE_LIFE_SECONDS }, { IKE_ATTR_LIFE_DURATION, 28800 } } },
};

/* Quick Mode ESP: AES-GCM-16/256, tunnel, an hour. */
static const struct ike_xf_spec p2_xf[1] = {
	{ .id = IPSEC_ESP_AES_GCM_16, .nattrs = 4, .attrs = {
		{ IPSEC_ATTR_LIFE_TYPE, IKE_LIFE_SECONDS }, { IPSEC_ATTR_LIFE_DURATION, 3600 },
		{ IPSEC_ATTR_ENCAP_MODE, IPSEC_ENCAP_TUNNEL }, { IPSEC_ATTR_KEY_LENGTH, 256 } } },
};

static const uint8_t esp_spi[4] = { 0xc0, 0x01, 0xd0, 0x0d };
static const uint8_t subnet[8] = { 10, 1, 0, 0, 255, 255, 255, 0 };
static const uint8_t addr4[4] = { 192, 0, 2, 7 };

static struct ike_sa_pl sa;	/* about 70 KB: not on the stack */

static void
hdr_init(struct ike_hdr *h, uint8_t exchange, uint8_t flags, uint32_t msgid)
{
	memset(h, 0, sizeof(*h));
	memcpy(h->icookie, icookie, 8);
	memcpy(h->rcookie, rcookie, 8);
	h->exchange = exchange;
	h->flags = flags;
	h->msgid = msgid;
}

/* Main Mode 1: HDR, SA, VID(DPD), VID(NAT-T). */
static size_t
build_mm1(struct wbuf *w)
{
	struct ike_builder b;
	struct ike_hdr h;

	hdr_init(&h, IKE_XCHG_ID_PROT, 0, 0);
	memset(h.rcookie, 0, 8);
	wbuf_init(w, IKE_MSG_MAX);
	ike_build_begin(&b, w, &h);
	ike_pl_sa(&b, IKE_PROTO_ISAKMP, NULL, 0, p1_xf, 2);
	ike_pl_bytes(&b, IKE_PL_VENDOR, ike_vid_dpd, 16);
	ike_pl_bytes(&b, IKE_PL_VENDOR, ike_vid_natt_rfc3947, 16);
	return ike_build_finish(&b);
}

/* Main Mode 3: HDR, KE, Ni, NAT-D, NAT-D. */
static size_t
build_mm3(struct wbuf *w)
{
	struct ike_builder b;
	struct ike_hdr h;
	uint8_t ke[256], nonce[32], natd1[32], natd2[32];

	memset(ke, 0x11, sizeof(ke));
	memset(nonce, 0x22, sizeof(nonce));
	memset(natd1, 0x33, sizeof(natd1));
	memset(natd2, 0x44, sizeof(natd2));
	hdr_init(&h, IKE_XCHG_ID_PROT, 0, 0);
	wbuf_init(w, IKE_MSG_MAX);
	ike_build_begin(&b, w, &h);
	ike_pl_bytes(&b, IKE_PL_KE, ke, sizeof(ke));
	ike_pl_bytes(&b, IKE_PL_NONCE, nonce, sizeof(nonce));
	ike_pl_bytes(&b, IKE_PL_NATD, natd1, sizeof(natd1));
	ike_pl_bytes(&b, IKE_PL_NATD, natd2, sizeof(natd2));
	return ike_build_finish(&b);
}

/* Quick Mode 1 (before encryption): HASH, SA, Ni, IDci, IDcr. */
static size_t
build_qm1(struct wbuf *w)
{
	struct ike_builder b;
	struct ike_hdr h;
	uint8_t hash[32], nonce[16];

	memset(hash, 0x55, sizeof(hash));
	memset(nonce, 0x66, sizeof(nonce));
	hdr_init(&h, IKE_XCHG_QUICK, IKE_FLAG_ENCRYPTION, 0x01020304);
	wbuf_init(w, IKE_MSG_MAX);
	ike_build_begin(&b, w, &h);
	ike_pl_bytes(&b, IKE_PL_HASH, hash, sizeof(hash));
	ike_pl_sa(&b, IKE_PROTO_IPSEC_ESP, esp_spi, 4, p2_xf, 1);
	ike_pl_bytes(&b, IKE_PL_NONCE, nonce, sizeof(nonce));
	ike_pl_id(&b, IKE_ID_IPV4_ADDR_SUBNET, 0, 0, subnet, sizeof(subnet));
	ike_pl_id(&b, IKE_ID_IPV4_ADDR, 17, 500, addr4, sizeof(addr4));
	return ike_build_finish(&b);
}

/* Informational (before encryption): HASH, N(R-U-THERE), D(ESP, 2 SPIs). */
static size_t
build_info(struct wbuf *w)
{
	static const uint8_t seqno[4] = { 0, 0, 0x30, 0x39 };
	static const uint8_t spis[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };
	struct ike_builder b;
	struct ike_hdr h;
	uint8_t hash[20], cookies[16];

	memset(hash, 0x77, sizeof(hash));
	memcpy(cookies, icookie, 8);
	memcpy(cookies + 8, rcookie, 8);
	hdr_init(&h, IKE_XCHG_INFORMATIONAL, IKE_FLAG_ENCRYPTION, 0xa1b2c3d4);
	wbuf_init(w, IKE_MSG_MAX);
	ike_build_begin(&b, w, &h);
	ike_pl_bytes(&b, IKE_PL_HASH, hash, sizeof(hash));
	ike_pl_notify(&b, IKE_PROTO_ISAKMP, IKE_N_R_U_THERE, cookies, 16, seqno, sizeof(seqno));
	ike_pl_delete(&b, IKE_PROTO_IPSEC_ESP, spis, 4, 2);
	return ike_build_finish(&b);
}

typedef size_t (*build_fn)(struct wbuf *);
static const build_fn builders[] = { build_mm1, build_mm3, build_qm1, build_info };

/* Header + chain of a whole message. */
static int
parse_msg(const uint8_t *m, size_t len, struct ike_hdr *h, struct ike_chain *c)
{
	if (ike_hdr_parse(m, len, h) == -1)
		return -1;
	return ike_chain_parse(h->next_payload, m + IKE_HDR_LEN, len - IKE_HDR_LEN, 0, c);
}

/* An exact-size heap copy, so ASan sees any read past n. */
static uint8_t *
dup_exact(const void *p, size_t n)
{
	uint8_t *q = malloc(n ? n : 1);

	assert_non_null(q);
	if (n > 0)
		memcpy(q, p, n);
	return q;
}

static void
put16(uint8_t *p, size_t off, uint16_t v)
{
	p[off] = (uint8_t)(v >> 8);
	p[off + 1] = (uint8_t)v;
}

static void
put32(uint8_t *p, size_t off, uint32_t v)
{
	put16(p, off, (uint16_t)(v >> 16));
	put16(p, off + 2, (uint16_t)v);
}

static int
sa_parse_copy(const uint8_t *body, size_t len)
{
	uint8_t *c = dup_exact(body, len);
	int rc = ike_sa_parse(c, len, &sa);

	free(c);
	return rc;
}

/* The SA payload body of a fresh message with one SA. */
static size_t
sa_body(uint8_t *out, size_t cap, uint8_t proto, const uint8_t *spi, uint8_t spi_size,
	const struct ike_xf_spec *xf, size_t nxf)
{
	struct ike_builder b;
	struct ike_hdr h;
	struct ike_chain c;
	struct wbuf w;
	size_t len;

	hdr_init(&h, IKE_XCHG_ID_PROT, 0, 0);
	wbuf_init(&w, IKE_MSG_MAX);
	ike_build_begin(&b, &w, &h);
	ike_pl_sa(&b, proto, spi, spi_size, xf, nxf);
	len = ike_build_finish(&b);
	assert_true(len > 0);
	assert_int_equal(parse_msg(w.p, len, &h, &c), 0);
	assert_int_equal(c.n, 1);
	assert_true(c.pl[0].len <= cap);
	memcpy(out, c.pl[0].body, c.pl[0].len);
	len = c.pl[0].len;
	wbuf_free(&w);
	return len;
}

static void
test_hdr_roundtrip(void **state)
{
	struct ike_builder b;
	struct ike_hdr h, got;
	struct ike_chain c;
	struct wbuf w;
	size_t len;

	hdr_init(&h, IKE_XCHG_INFORMATIONAL, IKE_FLAG_ENCRYPTION | IKE_FLAG_COMMIT, 0xdeadbeef);
	h.version = 0x20;	/* the builder always writes 1.0 */
	h.next_payload = IKE_PL_SA;	/* and links the first payload itself */
	wbuf_init(&w, IKE_MSG_MAX);
	ike_build_begin(&b, &w, &h);
	len = ike_build_finish(&b);
	assert_int_equal(len, IKE_HDR_LEN);
	assert_int_equal(ike_hdr_parse(w.p, len, &got), 0);
	assert_memory_equal(got.icookie, icookie, 8);
	assert_memory_equal(got.rcookie, rcookie, 8);
	assert_int_equal(got.next_payload, IKE_PL_NONE);
	assert_int_equal(got.version, IKE_VERSION);
	assert_int_equal(got.exchange, IKE_XCHG_INFORMATIONAL);
	assert_int_equal(got.flags, IKE_FLAG_ENCRYPTION | IKE_FLAG_COMMIT);
	assert_int_equal(got.msgid, 0xdeadbeef);
	assert_int_equal(got.length, IKE_HDR_LEN);
	assert_int_equal(ike_chain_parse(got.next_payload, w.p + len, 0, 0, &c), 0);
	assert_int_equal(c.n, 0);
	wbuf_free(&w);
}

static void
test_hdr_rejects(void **state)
{
	static const uint8_t bad_versions[] = { 0x00, 0x11, 0x1f, 0x20, 0x01, 0xff };
	struct ike_hdr h;
	struct wbuf w;
	uint8_t *m;
	size_t len = build_mm1(&w);

	assert_true(len > IKE_HDR_LEN);
	m = dup_exact(w.p, len);
	assert_int_equal(ike_hdr_parse(m, len, &h), 0);
	for (size_t i = 0; i < sizeof(bad_versions); i++) {
		m[17] = bad_versions[i];
		assert_int_equal(ike_hdr_parse(m, len, &h), -1);
	}
	m[17] = IKE_VERSION;
	/* The length field must be the datagram length, no more, no less. */
	put32(m, 24, (uint32_t)len + 1);
	assert_int_equal(ike_hdr_parse(m, len, &h), -1);
	put32(m, 24, (uint32_t)len - 1);
	assert_int_equal(ike_hdr_parse(m, len, &h), -1);
	put32(m, 24, 0xffffffff);
	assert_int_equal(ike_hdr_parse(m, len, &h), -1);
	put32(m, 24, (uint32_t)len);
	assert_int_equal(ike_hdr_parse(m, len, &h), 0);
	assert_int_equal(ike_hdr_parse(m, len - 1, &h), -1);
	free(m);
	wbuf_free(&w);

	/* Too long even with a matching length field. */
	m = calloc(1, IKE_MSG_MAX + 1);
	assert_non_null(m);
	m[17] = IKE_VERSION;
	put32(m, 24, IKE_MSG_MAX + 1);
	assert_int_equal(ike_hdr_parse(m, IKE_MSG_MAX + 1, &h), -1);
	put32(m, 24, IKE_MSG_MAX);
	assert_int_equal(ike_hdr_parse(m, IKE_MSG_MAX, &h), 0);
	put32(m, 24, 27);
	assert_int_equal(ike_hdr_parse(m, 27, &h), -1);
	free(m);
	assert_int_equal(ike_hdr_parse(NULL, 0, &h), -1);
}

static void
test_mm1_roundtrip(void **state)
{
	struct ike_hdr h;
	struct ike_chain c;
	struct wbuf w;
	const struct ike_proposal *p;
	const struct ike_payload *pl;
	size_t len = build_mm1(&w);

	assert_true(len > 0);
	assert_int_equal(w.err, 0);
	assert_int_equal(parse_msg(w.p, len, &h, &c), 0);
	assert_int_equal(h.exchange, IKE_XCHG_ID_PROT);
	assert_int_equal(h.next_payload, IKE_PL_SA);
	assert_int_equal(c.n, 3);
	assert_int_equal(c.pl[0].type, IKE_PL_SA);
	assert_int_equal(c.pl[0].offset, 0);
	assert_int_equal(c.pl[1].type, IKE_PL_VENDOR);
	assert_int_equal(c.pl[2].type, IKE_PL_VENDOR);
	assert_int_equal(c.pl[1].offset, c.pl[0].len + 4);
	assert_true(ike_vid_match(c.pl[1].body, c.pl[1].len, ike_vid_dpd));
	assert_true(ike_vid_match(c.pl[2].body, c.pl[2].len, ike_vid_natt_rfc3947));
	assert_false(ike_vid_match(c.pl[2].body, c.pl[2].len, ike_vid_dpd));

	pl = ike_chain_find(&c, IKE_PL_SA);
	assert_ptr_equal(pl, &c.pl[0]);
	assert_int_equal(ike_sa_parse(pl->body, pl->len, &sa), 0);
	assert_int_equal(sa.doi, IKE_DOI_IPSEC);
	assert_int_equal(sa.situation, IKE_SIT_IDENTITY_ONLY);
	assert_int_equal(sa.nprops, 1);
	p = &sa.props[0];
	assert_int_equal(p->num, 1);
	assert_int_equal(p->proto, IKE_PROTO_ISAKMP);
	assert_int_equal(p->spi_size, 0);
	assert_int_equal(p->nxf, 2);
	for (size_t i = 0; i < 2; i++) {
		assert_int_equal(p->xf[i].num, i + 1);
		assert_int_equal(p->xf[i].id, IKE_XFORM_KEY_IKE);
		assert_int_equal(p->xf[i].nattrs, p1_xf[i].nattrs);
		for (size_t j = 0; j < p1_xf[i].nattrs; j++) {
			assert_int_equal(p->xf[i].attrs[j].type, p1_xf[i].attrs[j].type);
			assert_int_equal(p->xf[i].attrs[j].value, p1_xf[i].attrs[j].value);
			assert_int_equal(ike_attr_get(&p->xf[i], p1_xf[i].attrs[j].type),
					 p1_xf[i].attrs[j].value);
		}
	}
	/* 86400 does not fit a TV: a 4-byte TLV; 28800 does. */
	assert_false(p->xf[0].attrs[6].tv);
	assert_int_equal(p->xf[0].attrs[6].len, 4);
	assert_non_null(p->xf[0].attrs[6].data);
	assert_true(p->xf[0].attrs[0].tv);
	assert_true(p->xf[1].attrs[5].tv);
	assert_int_equal(ike_attr_get(&p->xf[1], IKE_ATTR_KEY_LENGTH), 0);
	assert_null(ike_chain_find(&c, IKE_PL_KE));
	wbuf_free(&w);
}

static void
test_mm3_roundtrip(void **state)
{
	static const uint8_t types[] = { IKE_PL_KE, IKE_PL_NONCE, IKE_PL_NATD, IKE_PL_NATD };
	static const size_t lens[] = { 256, 32, 32, 32 };
	struct ike_hdr h;
	struct ike_chain c;
	struct wbuf w;
	size_t len = build_mm3(&w);

	assert_int_equal(len, IKE_HDR_LEN + 4 * 4 + 256 + 32 * 3);
	assert_int_equal(parse_msg(w.p, len, &h, &c), 0);
	assert_int_equal(c.n, 4);
	for (size_t i = 0; i < 4; i++) {
		assert_int_equal(c.pl[i].type, types[i]);
		assert_int_equal(c.pl[i].len, lens[i]);
	}
	assert_int_equal(c.pl[0].body[0], 0x11);
	assert_int_equal(c.pl[3].body[31], 0x44);
	assert_int_equal(ike_ke_check(c.pl[0].len), 0);
	assert_int_equal(ike_nonce_check(c.pl[1].len), 0);
	assert_int_equal(ike_natd_check(c.pl[2].len), 0);
	wbuf_free(&w);
}

static void
test_qm1_roundtrip(void **state)
{
	struct ike_hdr h;
	struct ike_chain c;
	struct ike_id_pl id;
	struct wbuf w;
	const struct ike_proposal *p;
	size_t len = build_qm1(&w);

	assert_true(len > 0);
	assert_int_equal(parse_msg(w.p, len, &h, &c), 0);
	assert_int_equal(h.msgid, 0x01020304);
	assert_int_equal(h.flags, IKE_FLAG_ENCRYPTION);
	assert_int_equal(c.n, 5);
	assert_int_equal(c.pl[0].type, IKE_PL_HASH);
	assert_int_equal(ike_hash_check(c.pl[0].len), 0);
	assert_int_equal(c.pl[1].type, IKE_PL_SA);
	assert_int_equal(ike_sa_parse(c.pl[1].body, c.pl[1].len, &sa), 0);
	p = &sa.props[0];
	assert_int_equal(p->proto, IKE_PROTO_IPSEC_ESP);
	assert_int_equal(p->spi_size, 4);
	assert_memory_equal(p->spi, esp_spi, 4);
	assert_int_equal(p->nxf, 1);
	assert_int_equal(p->xf[0].id, IPSEC_ESP_AES_GCM_16);
	assert_int_equal(ike_attr_get(&p->xf[0], IPSEC_ATTR_LIFE_DURATION), 3600);
	assert_int_equal(ike_attr_get(&p->xf[0], IPSEC_ATTR_ENCAP_MODE), IPSEC_ENCAP_TUNNEL);
	assert_int_equal(ike_attr_get(&p->xf[0], IPSEC_ATTR_KEY_LENGTH), 256);
	assert_int_equal(c.pl[2].type, IKE_PL_NONCE);
	assert_int_equal(ike_nonce_check(c.pl[2].len), 0);

	assert_int_equal(c.pl[3].type, IKE_PL_ID);
	assert_int_equal(ike_id_parse(c.pl[3].body, c.pl[3].len, &id), 0);
	assert_int_equal(id.type, IKE_ID_IPV4_ADDR_SUBNET);
	assert_int_equal(id.proto, 0);
	assert_int_equal(id.port, 0);
	assert_int_equal(id.len, 8);
	assert_memory_equal(id.data, subnet, 8);
	assert_int_equal(ike_id_parse(c.pl[4].body, c.pl[4].len, &id), 0);
	assert_int_equal(id.type, IKE_ID_IPV4_ADDR);
	assert_int_equal(id.proto, 17);
	assert_int_equal(id.port, 500);
	assert_int_equal(id.len, 4);
	assert_memory_equal(id.data, addr4, 4);
	wbuf_free(&w);
}

static void
test_info_roundtrip(void **state)
{
	static const uint8_t seqno[4] = { 0, 0, 0x30, 0x39 };
	static const uint8_t spis[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };
	struct ike_hdr h;
	struct ike_chain c;
	struct ike_notify_pl n;
	struct ike_delete_pl d;
	struct wbuf w;
	size_t len = build_info(&w);

	assert_true(len > 0);
	assert_int_equal(parse_msg(w.p, len, &h, &c), 0);
	assert_int_equal(h.exchange, IKE_XCHG_INFORMATIONAL);
	assert_int_equal(h.msgid, 0xa1b2c3d4);
	assert_int_equal(c.n, 3);
	assert_int_equal(c.pl[1].type, IKE_PL_NOTIFY);
	assert_int_equal(ike_notify_parse(c.pl[1].body, c.pl[1].len, &n), 0);
	assert_int_equal(n.doi, IKE_DOI_IPSEC);
	assert_int_equal(n.proto, IKE_PROTO_ISAKMP);
	assert_int_equal(n.type, IKE_N_R_U_THERE);
	assert_int_equal(n.spi_size, 16);
	assert_memory_equal(n.spi, icookie, 8);
	assert_memory_equal(n.spi + 8, rcookie, 8);
	assert_int_equal(n.data_len, 4);
	assert_memory_equal(n.data, seqno, 4);

	assert_int_equal(c.pl[2].type, IKE_PL_DELETE);
	assert_int_equal(ike_delete_parse(c.pl[2].body, c.pl[2].len, &d), 0);
	assert_int_equal(d.doi, IKE_DOI_IPSEC);
	assert_int_equal(d.proto, IKE_PROTO_IPSEC_ESP);
	assert_int_equal(d.spi_size, 4);
	assert_int_equal(d.nspis, 2);
	assert_memory_equal(d.spis, spis, 8);
	wbuf_free(&w);
}

/* A notify without SPI or data, and an ISAKMP delete by cookie pair. */
static void
test_notify_delete_shapes(void **state)
{
	struct ike_builder b;
	struct ike_hdr h;
	struct ike_chain c;
	struct ike_notify_pl n;
	struct ike_delete_pl d;
	struct wbuf w;
	uint8_t cookies[16];
	size_t len;

	memcpy(cookies, icookie, 8);
	memcpy(cookies + 8, rcookie, 8);
	hdr_init(&h, IKE_XCHG_INFORMATIONAL, 0, 7);
	wbuf_init(&w, IKE_MSG_MAX);
	ike_build_begin(&b, &w, &h);
	ike_pl_notify(&b, IKE_PROTO_ISAKMP, IKE_N_INITIAL_CONTACT, NULL, 0, NULL, 0);
	ike_pl_delete(&b, IKE_PROTO_ISAKMP, cookies, 16, 1);
	len = ike_build_finish(&b);
	assert_true(len > 0);
	assert_int_equal(parse_msg(w.p, len, &h, &c), 0);
	assert_int_equal(ike_notify_parse(c.pl[0].body, c.pl[0].len, &n), 0);
	assert_int_equal(n.type, IKE_N_INITIAL_CONTACT);
	assert_int_equal(n.spi_size, 0);
	assert_int_equal(n.data_len, 0);
	assert_int_equal(ike_delete_parse(c.pl[1].body, c.pl[1].len, &d), 0);
	assert_int_equal(d.proto, IKE_PROTO_ISAKMP);
	assert_int_equal(d.spi_size, 16);
	assert_int_equal(d.nspis, 1);
	assert_memory_equal(d.spis, cookies, 16);
	wbuf_free(&w);
}

/* Every strict prefix of every real message fails, whether the header's
 * length field is left alone or rewritten to the cut length. */
static void
test_truncated_prefixes(void **state)
{
	for (size_t k = 0; k < sizeof(builders) / sizeof(builders[0]); k++) {
		struct wbuf w;
		size_t len = builders[k](&w);

		assert_true(len > IKE_HDR_LEN);
		for (size_t n = 0; n < len; n++) {
			struct ike_hdr h;
			struct ike_chain c;
			uint8_t *m = dup_exact(w.p, n);

			assert_int_equal(ike_hdr_parse(m, n, &h), -1);
			if (n >= IKE_HDR_LEN) {
				put32(m, 24, (uint32_t)n);
				assert_int_equal(ike_hdr_parse(m, n, &h), 0);
				for (int pad = 0; pad <= 1; pad++)
					assert_int_equal(ike_chain_parse(h.next_payload,
					    m + IKE_HDR_LEN, n - IKE_HDR_LEN, pad, &c), -1);
			}
			free(m);
		}
		wbuf_free(&w);
	}
}

/* Every strict prefix of an SA body and of a delete body fails. */
static void
test_truncated_bodies(void **state)
{
	uint8_t body[1024];
	size_t len = sa_body(body, sizeof(body), IKE_PROTO_ISAKMP, NULL, 0, p1_xf, 2);
	struct ike_delete_pl d;
	struct ike_id_pl id;
	struct wbuf w;
	struct ike_hdr h;
	struct ike_chain c;
	size_t mlen;

	assert_int_equal(sa_parse_copy(body, len), 0);
	for (size_t n = 0; n < len; n++)
		assert_int_equal(sa_parse_copy(body, n), -1);

	mlen = build_info(&w);
	assert_int_equal(parse_msg(w.p, mlen, &h, &c), 0);
	for (size_t n = 0; n < c.pl[2].len; n++) {
		uint8_t *m = dup_exact(c.pl[2].body, n);

		assert_int_equal(ike_delete_parse(m, n, &d), -1);
		free(m);
	}
	/* A notify needs DOI, protocol, sizes, type and its 16-byte SPI. */
	for (size_t n = 0; n < 8 + 16; n++) {
		uint8_t *m = dup_exact(c.pl[1].body, n);
		struct ike_notify_pl nt;

		assert_int_equal(ike_notify_parse(m, n, &nt), -1);
		free(m);
	}
	wbuf_free(&w);

	mlen = build_qm1(&w);
	assert_int_equal(parse_msg(w.p, mlen, &h, &c), 0);
	for (size_t n = 0; n < c.pl[4].len; n++) {
		uint8_t *m = dup_exact(c.pl[4].body, n);

		assert_int_equal(ike_id_parse(m, n, &id), -1);
		free(m);
	}
	wbuf_free(&w);
}

/* Generic lengths that are too small, zero, or run past the end. */
static void
test_chain_bad_lengths(void **state)
{
	static const uint16_t bad[] = { 0, 1, 3, 0xffff };
	struct ike_hdr h;
	struct ike_chain c;
	struct wbuf w;
	size_t len = build_mm3(&w);

	for (size_t k = 0; k < 4; k++) {
		size_t off = IKE_HDR_LEN;

		assert_int_equal(parse_msg(w.p, len, &h, &c), 0);
		/* Walk to payload k, then break its length. */
		for (size_t i = 0; i < k; i++)
			off += 4 + c.pl[i].len;
		for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
			uint8_t *m = dup_exact(w.p, len);

			put16(m, off + 2, bad[i]);
			assert_int_equal(parse_msg(m, len, &h, &c), -1);
			assert_int_equal(c.n, 0);
			/* One byte too long also runs past the end... */
			put16(m, off + 2, (uint16_t)(4 + (k == 0 ? 256 : 32) + 1));
			assert_int_equal(parse_msg(m, len, &h, &c), -1);
			free(m);
		}
	}
	/* ...and a payload claiming the whole message is past it too. */
	{
		uint8_t *m = dup_exact(w.p, len);

		put16(m, IKE_HDR_LEN + 2, (uint16_t)(len - IKE_HDR_LEN + 4));
		assert_int_equal(parse_msg(m, len, &h, &c), -1);
		free(m);
	}
	wbuf_free(&w);
}

/* Payloads of nothing but a generic header, chained from `first`. */
static size_t
empty_chain(uint8_t *out, size_t n, uint8_t type)
{
	for (size_t i = 0; i < n; i++) {
		out[4 * i] = i + 1 < n ? type : IKE_PL_NONE;
		out[4 * i + 1] = 0;
		put16(out, 4 * i + 2, 4);
	}
	return 4 * n;
}

static void
test_chain_cap(void **state)
{
	uint8_t body[4 * (IKE_PAYLOADS_MAX + 1)];
	struct ike_chain c;
	size_t len;

	len = empty_chain(body, IKE_PAYLOADS_MAX, IKE_PL_VENDOR);
	assert_int_equal(ike_chain_parse(IKE_PL_VENDOR, body, len, 0, &c), 0);
	assert_int_equal(c.n, IKE_PAYLOADS_MAX);
	assert_int_equal(c.pl[IKE_PAYLOADS_MAX - 1].len, 0);
	len = empty_chain(body, IKE_PAYLOADS_MAX + 1, IKE_PL_VENDOR);
	assert_int_equal(ike_chain_parse(IKE_PL_VENDOR, body, len, 0, &c), -1);
	assert_int_equal(ike_chain_parse(IKE_PL_VENDOR, body, len, 1, &c), -1);
	assert_int_equal(c.n, 0);
}

static void
test_chain_padding(void **state)
{
	uint8_t body[8 + 256];
	struct ike_chain c;

	memset(body, 0, sizeof(body));
	empty_chain(body, 2, IKE_PL_HASH);
	assert_int_equal(ike_chain_parse(IKE_PL_HASH, body, 8, 0, &c), 0);
	assert_int_equal(ike_chain_parse(IKE_PL_HASH, body, 9, 0, &c), -1);
	assert_int_equal(ike_chain_parse(IKE_PL_HASH, body, 9, 1, &c), 0);
	assert_int_equal(c.n, 2);
	assert_int_equal(ike_chain_parse(IKE_PL_HASH, body, 8 + 255, 1, &c), 0);
	assert_int_equal(ike_chain_parse(IKE_PL_HASH, body, 8 + 256, 1, &c), -1);
	/* No payloads at all: only padding. */
	assert_int_equal(ike_chain_parse(IKE_PL_NONE, body, 0, 0, &c), 0);
	assert_int_equal(ike_chain_parse(IKE_PL_NONE, body, 4, 0, &c), -1);
	assert_int_equal(ike_chain_parse(IKE_PL_NONE, body, 4, 1, &c), 0);
	assert_int_equal(c.n, 0);
}

/* Unknown types are walked and returned; a reserved byte is tolerated. */
static void
test_chain_unknown_and_reserved(void **state)
{
	static const uint8_t body[] = {
		99, 0xff, 0x00, 0x06, 0xaa, 0xbb,	/* first (type 13) */
		0, 0, 0x00, 0x05, 0xcc,			/* type 99 */
	};
	struct ike_chain c;

	assert_int_equal(ike_chain_parse(IKE_PL_VENDOR, body, sizeof(body), 0, &c), 0);
	assert_int_equal(c.n, 2);
	assert_int_equal(c.pl[0].type, IKE_PL_VENDOR);
	assert_int_equal(c.pl[0].len, 2);
	assert_int_equal(c.pl[1].type, 99);
	assert_int_equal(c.pl[1].offset, 6);
	assert_int_equal(c.pl[1].len, 1);
	assert_int_equal(c.pl[1].body[0], 0xcc);
	assert_ptr_equal(ike_chain_find(&c, 99), &c.pl[1]);
	assert_string_equal(ike_payload_name(99), "unknown");
}

/* Body offsets in an SA body (after its generic header). */
#define SA_PROP_LEN   10
#define SA_PROP_SPISZ 14
#define SA_PROP_NXF   15
#define SA_XF1        16	/* with no SPI */
#define SA_XF1_ESP    20	/* after a 4-byte SPI */

static void
test_sa_transform_count(void **state)
{
	uint8_t body[1024], m[1024];
	size_t len = sa_body(body, sizeof(body), IKE_PROTO_ISAKMP, NULL, 0, p1_xf, 2);
	static const uint8_t bad[] = { 0, 1, 3, IKE_TRANSFORMS_MAX + 1, 255 };

	assert_int_equal(body[SA_PROP_NXF], 2);
	for (size_t i = 0; i < sizeof(bad); i++) {
		memcpy(m, body, len);
		m[SA_PROP_NXF] = bad[i];
		assert_int_equal(sa_parse_copy(m, len), -1);
		assert_int_equal(sa.nprops, 0);
	}
	/* The first transform claims to be the last: a count mismatch. */
	memcpy(m, body, len);
	assert_int_equal(m[SA_XF1], IKE_PL_TRANSFORM);
	m[SA_XF1] = IKE_PL_NONE;
	assert_int_equal(sa_parse_copy(m, len), -1);
	/* A next-payload type other than transform inside a proposal. */
	m[SA_XF1] = IKE_PL_KE;
	assert_int_equal(sa_parse_copy(m, len), -1);
}

static void
test_sa_fields(void **state)
{
	uint8_t body[1024], m[1024];
	size_t len = sa_body(body, sizeof(body), IKE_PROTO_IPSEC_ESP, esp_spi, 4, p2_xf, 1);

	assert_int_equal(sa_parse_copy(body, len), 0);
	memcpy(m, body, len);
	put32(m, 0, 2);		/* DOI */
	assert_int_equal(sa_parse_copy(m, len), -1);
	memcpy(m, body, len);
	put32(m, 4, 2);		/* situation SIT_SECRECY */
	assert_int_equal(sa_parse_copy(m, len), -1);
	memcpy(m, body, len);
	m[8] = IKE_PL_TRANSFORM;	/* proposal followed by a non-proposal */
	assert_int_equal(sa_parse_copy(m, len), -1);
	memcpy(m, body, len);
	m[SA_PROP_SPISZ] = IKE_SPI_MAX + 1;
	assert_int_equal(sa_parse_copy(m, len), -1);
	m[SA_PROP_SPISZ] = 255;
	assert_int_equal(sa_parse_copy(m, len), -1);
	/* Proposal length past the SA, or short of its transforms. */
	memcpy(m, body, len);
	put16(m, SA_PROP_LEN, (uint16_t)(len - 8 + 1));
	assert_int_equal(sa_parse_copy(m, len), -1);
	put16(m, SA_PROP_LEN, (uint16_t)(len - 8 - 1));
	assert_int_equal(sa_parse_copy(m, len), -1);
	put16(m, SA_PROP_LEN, 0);
	assert_int_equal(sa_parse_copy(m, len), -1);
	/* Trailing bytes after the last proposal. */
	memcpy(m, body, len);
	m[len] = 0;
	assert_int_equal(sa_parse_copy(m, len + 1), -1);
	/* A transform length running past its proposal. */
	memcpy(m, body, len);
	put16(m, SA_XF1_ESP + 2, (uint16_t)(len - SA_XF1_ESP + 1));
	assert_int_equal(sa_parse_copy(m, len), -1);
	/* An attribute TLV length running past its transform. */
	memcpy(m, body, len);
	put16(m, len - 4, 0x0001);	/* last attribute: TV key length -> TLV */
	put16(m, len - 2, 0x0100);
	assert_int_equal(sa_parse_copy(m, len), -1);
	/* An odd byte left in the attributes. */
	memcpy(m, body, len);
	put16(m, SA_PROP_LEN, (uint16_t)(len - 8 + 1));
	put16(m, SA_XF1_ESP + 2, (uint16_t)(len - SA_XF1_ESP + 1));
	m[len] = 0x80;
	assert_int_equal(sa_parse_copy(m, len + 1), -1);
}

/* Hand-built SA with nprop proposals of nxf transforms of nattr attributes;
 * the counts may pass the caps (the builders refuse to). */
static size_t
raw_sa(uint8_t *out, size_t cap, size_t nprop, size_t nxf, size_t nattr)
{
	struct wbuf w;
	size_t len;

	wbuf_init(&w, cap);
	wbuf_put_u32(&w, IKE_DOI_IPSEC);
	wbuf_put_u32(&w, IKE_SIT_IDENTITY_ONLY);
	for (size_t p = 0; p < nprop; p++) {
		size_t poff = w.len;

		wbuf_put_u8(&w, p + 1 < nprop ? IKE_PL_PROPOSAL : IKE_PL_NONE);
		wbuf_put_u8(&w, 0);
		wbuf_put_u16(&w, 0);
		wbuf_put_u8(&w, (uint8_t)(p + 1));
		wbuf_put_u8(&w, IKE_PROTO_ISAKMP);
		wbuf_put_u8(&w, 0);
		wbuf_put_u8(&w, (uint8_t)nxf);
		for (size_t x = 0; x < nxf; x++) {
			size_t xoff = w.len;

			wbuf_put_u8(&w, x + 1 < nxf ? IKE_PL_TRANSFORM : IKE_PL_NONE);
			wbuf_put_u8(&w, 0);
			wbuf_put_u16(&w, 0);
			wbuf_put_u8(&w, (uint8_t)(x + 1));
			wbuf_put_u8(&w, IKE_XFORM_KEY_IKE);
			wbuf_put_u16(&w, 0);
			for (size_t a = 0; a < nattr; a++)
				ike_attr_put_tv(&w, (uint16_t)(a + 1), 1);
			wbuf_patch_u16(&w, xoff + 2, (uint16_t)(w.len - xoff));
		}
		wbuf_patch_u16(&w, poff + 2, (uint16_t)(w.len - poff));
	}
	assert_int_equal(w.err, 0);
	len = w.len;
	memcpy(out, w.p, len);
	wbuf_free(&w);
	return len;
}

static void
test_sa_caps(void **state)
{
	static uint8_t body[IKE_MSG_MAX];
	size_t len;

	len = raw_sa(body, sizeof(body), IKE_PROPOSALS_MAX, 1, 1);
	assert_int_equal(sa_parse_copy(body, len), 0);
	assert_int_equal(sa.nprops, IKE_PROPOSALS_MAX);
	assert_int_equal(sa.props[IKE_PROPOSALS_MAX - 1].num, IKE_PROPOSALS_MAX);
	len = raw_sa(body, sizeof(body), IKE_PROPOSALS_MAX + 1, 1, 1);
	assert_int_equal(sa_parse_copy(body, len), -1);

	len = raw_sa(body, sizeof(body), 1, IKE_TRANSFORMS_MAX, 2);
	assert_int_equal(sa_parse_copy(body, len), 0);
	assert_int_equal(sa.props[0].nxf, IKE_TRANSFORMS_MAX);
	len = raw_sa(body, sizeof(body), 1, IKE_TRANSFORMS_MAX + 1, 2);
	assert_int_equal(sa_parse_copy(body, len), -1);

	len = raw_sa(body, sizeof(body), 1, 1, IKE_ATTRS_MAX);
	assert_int_equal(sa_parse_copy(body, len), 0);
	assert_int_equal(sa.props[0].xf[0].nattrs, IKE_ATTRS_MAX);
	len = raw_sa(body, sizeof(body), 1, 1, IKE_ATTRS_MAX + 1);
	assert_int_equal(sa_parse_copy(body, len), -1);

	/* No proposal at all. */
	len = raw_sa(body, sizeof(body), 0, 1, 1);
	assert_int_equal(sa_parse_copy(body, len), -1);
	/* A transform without attributes is fine. */
	len = raw_sa(body, sizeof(body), 1, 1, 0);
	assert_int_equal(sa_parse_copy(body, len), 0);
	assert_int_equal(sa.props[0].xf[0].nattrs, 0);
}

static void
test_attr_encoding(void **state)
{
	static const uint8_t want[] = {
		0x80, 0x0c, 0x0e, 0x10,			/* life 3600: TV */
		0x80, 0x0e, 0xff, 0xff,			/* 0xffff still fits */
		0x00, 0x0c, 0x00, 0x04, 0x00, 0x01, 0x51, 0x80,	/* 86400: TLV */
		0x00, 0x0e, 0x00, 0x04, 0x00, 0x01, 0x00, 0x00,	/* 0x10000: TLV */
		0x80, 0x01, 0x00, 0x07,			/* explicit TV */
		0x00, 0x02, 0x00, 0x04, 0x00, 0x00, 0x00, 0x05,	/* explicit TLV */
	};
	struct wbuf w;

	wbuf_init(&w, 64);
	ike_attr_put(&w, IKE_ATTR_LIFE_DURATION, 3600);
	ike_attr_put(&w, IKE_ATTR_KEY_LENGTH, 0xffff);
	ike_attr_put(&w, IKE_ATTR_LIFE_DURATION, 86400);
	ike_attr_put(&w, IKE_ATTR_KEY_LENGTH, 0x10000);
	ike_attr_put_tv(&w, IKE_ATTR_ENCRYPTION, IKE_ENC_AES_CBC);
	ike_attr_put_tlv32(&w, IKE_ATTR_HASH, 5);
	assert_int_equal(w.err, 0);
	assert_int_equal(w.len, sizeof(want));
	assert_memory_equal(w.p, want, sizeof(want));
	/* The AF bit is not part of a type. */
	ike_attr_put_tv(&w, IKE_ATTR_AF | 1, 1);
	assert_int_equal(w.err, 1);
	wbuf_free(&w);
}

/* One transform whose attributes are the given bytes. */
static int
parse_attrs(const uint8_t *attrs, size_t alen)
{
	uint8_t body[256];
	size_t len = 8 + 8 + 8 + alen;

	assert_true(len <= sizeof(body));
	put32(body, 0, IKE_DOI_IPSEC);
	put32(body, 4, IKE_SIT_IDENTITY_ONLY);
	body[8] = 0;
	body[9] = 0;
	put16(body, 10, (uint16_t)(len - 8));
	body[12] = 1;
	body[13] = IKE_PROTO_ISAKMP;
	body[14] = 0;
	body[15] = 1;
	body[16] = 0;
	body[17] = 0;
	put16(body, 18, (uint16_t)(len - 16));
	body[20] = 1;
	body[21] = IKE_XFORM_KEY_IKE;
	body[22] = 0;
	body[23] = 0;
	memcpy(body + 24, attrs, alen);
	return sa_parse_copy(body, len);
}

static void
test_attr_tlv_sizes(void **state)
{
	static const uint8_t attrs[] = {
		0x00, 0x0c, 0x00, 0x01, 0x2a,				/* 1 byte */
		0x00, 0x0c, 0x00, 0x02, 0x01, 0x02,			/* 2 */
		0x00, 0x0c, 0x00, 0x03, 0x01, 0x02, 0x03,		/* 3 */
		0x00, 0x0c, 0x00, 0x04, 0xff, 0xff, 0xff, 0xff,	/* 4 */
		0x00, 0x0c, 0x00, 0x05, 0x01, 0x02, 0x03, 0x04, 0x05,	/* 5: no number */
		0x00, 0x0d, 0x00, 0x00,					/* empty TLV */
		0x80, 0x0b, 0x00, 0x01,					/* TV */
	};
	static const uint32_t values[] = { 0x2a, 0x0102, 0x010203, 0xffffffff, 0, 0, 1 };
	static const size_t lens[] = { 1, 2, 3, 4, 5, 0, 0 };
	const struct ike_transform *t;

	assert_int_equal(parse_attrs(attrs, sizeof(attrs)), 0);
	t = &sa.props[0].xf[0];
	assert_int_equal(t->nattrs, 7);
	for (size_t i = 0; i < 7; i++) {
		assert_int_equal(t->attrs[i].value, values[i]);
		assert_int_equal(t->attrs[i].len, lens[i]);
		assert_int_equal(t->attrs[i].tv, i == 6);
		if (!t->attrs[i].tv)
			assert_non_null(t->attrs[i].data);
	}
	assert_int_equal(t->attrs[0].type, IKE_ATTR_LIFE_DURATION);
	assert_int_equal(t->attrs[6].type, IKE_ATTR_LIFE_TYPE);
	assert_memory_equal(t->attrs[4].data, attrs + 30, 5);
	/* The first match wins. */
	assert_int_equal(ike_attr_get(t, IKE_ATTR_LIFE_DURATION), 0x2a);

	/* Cut inside an attribute header or value. */
	for (size_t n = 1; n < 5; n++)
		assert_int_equal(parse_attrs(attrs, n), -1);
	assert_int_equal(parse_attrs(attrs, 5), 0);
}

static void
test_id_rules(void **state)
{
	static const uint8_t fqdn[] = "gw.example.net";
	uint8_t body[64];
	struct ike_id_pl id;
	uint8_t *m;

	memset(body, 0, sizeof(body));
	body[0] = IKE_ID_IPV4_ADDR;
	for (size_t dlen = 0; dlen < 10; dlen++) {
		m = dup_exact(body, 4 + dlen);
		assert_int_equal(ike_id_parse(m, 4 + dlen, &id), dlen == 4 ? 0 : -1);
		free(m);
	}
	body[0] = IKE_ID_IPV4_ADDR_SUBNET;
	for (size_t dlen = 0; dlen < 12; dlen++) {
		m = dup_exact(body, 4 + dlen);
		assert_int_equal(ike_id_parse(m, 4 + dlen, &id), dlen == 8 ? 0 : -1);
		free(m);
	}
	body[0] = IKE_ID_FQDN;
	m = dup_exact(body, 4);
	assert_int_equal(ike_id_parse(m, 4, &id), -1);	/* empty name */
	free(m);
	memcpy(body + 4, fqdn, sizeof(fqdn) - 1);
	m = dup_exact(body, 4 + sizeof(fqdn) - 1);
	assert_int_equal(ike_id_parse(m, 4 + sizeof(fqdn) - 1, &id), 0);
	assert_int_equal(id.type, IKE_ID_FQDN);
	assert_int_equal(id.len, sizeof(fqdn) - 1);
	assert_memory_equal(id.data, fqdn, id.len);
	free(m);
	body[0] = 0;		/* reserved ID type */
	assert_int_equal(ike_id_parse(body, 8, &id), -1);
}

static void
test_notify_rules(void **state)
{
	uint8_t body[64];
	struct ike_notify_pl n;

	memset(body, 0, sizeof(body));
	put32(body, 0, IKE_DOI_IPSEC);
	body[4] = IKE_PROTO_ISAKMP;
	body[5] = 16;
	put16(body, 6, IKE_N_R_U_THERE_ACK);
	assert_int_equal(ike_notify_parse(body, 8 + 16, &n), 0);
	assert_int_equal(n.data_len, 0);
	assert_int_equal(ike_notify_parse(body, 8 + 15, &n), -1);	/* SPI cut */
	body[5] = IKE_SPI_MAX + 1;
	assert_int_equal(ike_notify_parse(body, sizeof(body), &n), -1);
	body[5] = 0;
	put32(body, 0, 0);	/* DOI 0: "for ISAKMP" (RFC 2408 3.14) */
	assert_int_equal(ike_notify_parse(body, 8, &n), 0);
	put32(body, 0, 2);
	assert_int_equal(ike_notify_parse(body, 8, &n), -1);
	assert_int_equal(ike_notify_parse(body, 7, &n), -1);
}

static void
test_delete_rules(void **state)
{
	uint8_t body[8 + 16 * 17];
	struct ike_delete_pl d;

	memset(body, 0, sizeof(body));
	put32(body, 0, IKE_DOI_IPSEC);
	body[4] = IKE_PROTO_IPSEC_ESP;
	body[5] = 4;
	put16(body, 6, 3);
	assert_int_equal(ike_delete_parse(body, 8 + 12, &d), 0);
	assert_int_equal(ike_delete_parse(body, 8 + 11, &d), -1);	/* short */
	assert_int_equal(ike_delete_parse(body, 8 + 13, &d), -1);	/* trailing */
	put16(body, 6, 0);
	assert_int_equal(ike_delete_parse(body, 8, &d), -1);	/* nothing to delete */
	put16(body, 6, IKE_DELETE_SPIS_MAX + 1);
	assert_int_equal(ike_delete_parse(body, 8 + 4 * (IKE_DELETE_SPIS_MAX + 1), &d), -1);
	put16(body, 6, IKE_DELETE_SPIS_MAX);
	assert_int_equal(ike_delete_parse(body, 8 + 4 * IKE_DELETE_SPIS_MAX, &d), 0);
	put16(body, 6, 0xffff);	/* 0xffff * 16 cannot fit */
	body[5] = 16;
	assert_int_equal(ike_delete_parse(body, sizeof(body), &d), -1);
	put16(body, 6, 1);
	body[5] = 0;
	assert_int_equal(ike_delete_parse(body, 8, &d), -1);
	body[5] = IKE_SPI_MAX + 1;
	assert_int_equal(ike_delete_parse(body, 8 + IKE_SPI_MAX + 1, &d), -1);
	body[5] = 4;
	put32(body, 0, 7);
	assert_int_equal(ike_delete_parse(body, 8 + 4, &d), -1);
}

static void
test_size_checks(void **state)
{
	assert_int_equal(ike_ke_check(0), -1);
	assert_int_equal(ike_ke_check(1), 0);
	assert_int_equal(ike_ke_check(1024), 0);
	assert_int_equal(ike_ke_check(1025), -1);
	assert_int_equal(ike_nonce_check(7), -1);
	assert_int_equal(ike_nonce_check(8), 0);
	assert_int_equal(ike_nonce_check(256), 0);
	assert_int_equal(ike_nonce_check(257), -1);
	assert_int_equal(ike_hash_check(0), -1);
	assert_int_equal(ike_hash_check(64), 0);
	assert_int_equal(ike_hash_check(65), -1);
	assert_int_equal(ike_natd_check(0), -1);
	assert_int_equal(ike_natd_check(20), 0);
	assert_int_equal(ike_natd_check(65), -1);
}

static void
test_vid_bytes(void **state)
{
	static const uint8_t dpd[16] = {
		0xaf, 0xca, 0xd7, 0x13, 0x68, 0xa1, 0xf1, 0xc9,
		0x6b, 0x86, 0x96, 0xfc, 0x77, 0x57, 0x01, 0x00 };
	static const uint8_t natt[16] = {
		0x4a, 0x13, 0x1c, 0x81, 0x07, 0x03, 0x58, 0x45,
		0x5c, 0x57, 0x28, 0xf2, 0x0e, 0x95, 0x45, 0x2f };
	uint8_t longer[17];

	assert_memory_equal(ike_vid_dpd, dpd, 16);
	assert_memory_equal(ike_vid_natt_rfc3947, natt, 16);
	memcpy(longer, dpd, 16);
	longer[16] = 0;
	assert_true(ike_vid_match(dpd, 16, ike_vid_dpd));
	assert_false(ike_vid_match(dpd, 15, ike_vid_dpd));
	assert_false(ike_vid_match(longer, 17, ike_vid_dpd));
	assert_false(ike_vid_match(natt, 16, ike_vid_dpd));
	assert_false(ike_vid_match(NULL, 0, ike_vid_dpd));
}

static void
test_payload_names(void **state)
{
	assert_string_equal(ike_payload_name(IKE_PL_SA), "SA");
	assert_string_equal(ike_payload_name(IKE_PL_KE), "KE");
	assert_string_equal(ike_payload_name(IKE_PL_VENDOR), "VID");
	assert_string_equal(ike_payload_name(IKE_PL_NATD), "NAT-D");
	assert_string_equal(ike_payload_name(IKE_PL_NATOA), "NAT-OA");
	assert_string_equal(ike_payload_name(IKE_PL_ATTR), "ATTR");
	assert_string_equal(ike_payload_name(15), "unknown");	/* a gap */
	assert_string_equal(ike_payload_name(22), "unknown");
	assert_string_equal(ike_payload_name(255), "unknown");
	for (unsigned t = IKE_PL_SA; t <= IKE_PL_VENDOR; t++)
		assert_string_not_equal(ike_payload_name((uint8_t)t), "unknown");
}

/* The builders stop at IKE_MSG_MAX and refuse misuse instead of emitting a
 * broken message. */
static void
test_builder_limits(void **state)
{
	static uint8_t big[IKE_MSG_MAX];
	struct ike_builder b;
	struct ike_hdr h;
	struct wbuf w;
	struct ike_xf_spec xf[IKE_TRANSFORMS_MAX + 1];
	uint8_t spis[16 * (IKE_DELETE_SPIS_MAX + 1)];

	memset(xf, 0, sizeof(xf));
	memset(spis, 0, sizeof(spis));
	hdr_init(&h, IKE_XCHG_ID_PROT, 0, 0);

	/* Exactly IKE_MSG_MAX fits; one more byte does not. */
	wbuf_init(&w, IKE_MSG_MAX);
	ike_build_begin(&b, &w, &h);
	ike_pl_bytes(&b, IKE_PL_VENDOR, big, IKE_MSG_MAX - IKE_HDR_LEN - 4);
	assert_int_equal(ike_build_finish(&b), IKE_MSG_MAX);
	wbuf_free(&w);
	wbuf_init(&w, IKE_MSG_MAX);
	ike_build_begin(&b, &w, &h);
	ike_pl_bytes(&b, IKE_PL_VENDOR, big, IKE_MSG_MAX - IKE_HDR_LEN - 3);
	assert_int_equal(ike_build_finish(&b), 0);
	wbuf_free(&w);
	/* A writer with a looser cap: the message cap still holds. */
	wbuf_init(&w, 2 * IKE_MSG_MAX);
	ike_build_begin(&b, &w, &h);
	ike_pl_bytes(&b, IKE_PL_VENDOR, big, IKE_MSG_MAX - IKE_HDR_LEN - 3);
	assert_int_equal(ike_build_finish(&b), 0);
	wbuf_free(&w);

	for (int what = 0; what < 10; what++) {
		wbuf_init(&w, IKE_MSG_MAX);
		if (what == 0)
			wbuf_put_u8(&w, 0);	/* header must start the writer */
		ike_build_begin(&b, &w, &h);
		switch (what) {
		case 1:
			ike_pl_begin(&b, IKE_PL_HASH);	/* never ended */
			break;
		case 2:
			ike_pl_end(&b);			/* never begun */
			break;
		case 3:
			ike_pl_begin(&b, IKE_PL_HASH);
			ike_pl_begin(&b, IKE_PL_HASH);	/* nested */
			ike_pl_end(&b);
			break;
		case 4:
			ike_pl_sa(&b, IKE_PROTO_ISAKMP, NULL, 0, xf, 0);
			break;
		case 5:
			ike_pl_sa(&b, IKE_PROTO_ISAKMP, NULL, 0, xf, IKE_TRANSFORMS_MAX + 1);
			break;
		case 6:
			xf[0].nattrs = IKE_ATTRS_MAX + 1;
			ike_pl_sa(&b, IKE_PROTO_ISAKMP, NULL, 0, xf, 1);
			xf[0].nattrs = 0;
			break;
		case 7:
			ike_pl_sa(&b, IKE_PROTO_ISAKMP, spis, IKE_SPI_MAX + 1, xf, 1);
			break;
		case 8:
			ike_pl_delete(&b, IKE_PROTO_IPSEC_ESP, spis, 4, IKE_DELETE_SPIS_MAX + 1);
			break;
		default:
			ike_pl_notify(&b, IKE_PROTO_ISAKMP, 1, spis, IKE_SPI_MAX + 1, NULL, 0);
			break;
		}
		assert_int_equal(ike_build_finish(&b), 0);
		wbuf_free(&w);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hdr_roundtrip),
		cmocka_unit_test(test_hdr_rejects),
		cmocka_unit_test(test_mm1_roundtrip),
		cmocka_unit_test(test_mm3_roundtrip),
		cmocka_unit_test(test_qm1_roundtrip),
		cmocka_unit_test(test_info_roundtrip),
		cmocka_unit_test(test_notify_delete_shapes),
		cmocka_unit_test(test_truncated_prefixes),
		cmocka_unit_test(test_truncated_bodies),
		cmocka_unit_test(test_chain_bad_lengths),
		cmocka_unit_test(test_chain_cap),
		cmocka_unit_test(test_chain_padding),
		cmocka_unit_test(test_chain_unknown_and_reserved),
		cmocka_unit_test(test_sa_transform_count),
		cmocka_unit_test(test_sa_fields),
		cmocka_unit_test(test_sa_caps),
		cmocka_unit_test(test_attr_encoding),
		cmocka_unit_test(test_attr_tlv_sizes),
		cmocka_unit_test(test_id_rules),
		cmocka_unit_test(test_notify_rules),
		cmocka_unit_test(test_delete_rules),
		cmocka_unit_test(test_size_checks),
		cmocka_unit_test(test_vid_bytes),
		cmocka_unit_test(test_payload_names),
		cmocka_unit_test(test_builder_limits),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
