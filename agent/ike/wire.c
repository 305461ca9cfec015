/*
 * ISAKMP/IKEv1 wire parsers (see wire.h): the header, the generic payload
 * chain and the payload bodies we speak. Each one validates lengths, counts
 * and fields through a bounded reader and fills a struct that points into
 * the caller's message; nothing here allocates, logs or looks anything up.
 * The builders live in wire_build.c.
 */
#include "ike/wire.h"
#include "core/util.h"

#include <assert.h>
#include <string.h>

#define IKE_GENERIC_LEN  4	/* next, reserved, length */
#define IKE_PADDING_MAX  255	/* trailing bytes after a decrypted chain */
#define IKE_DOI_ISAKMP   0	/* RFC 2408 3.14/3.15: notify/delete "for ISAKMP" */

/* ID types beyond the three we send (RFC 2407 4.6.2.1), for size checks. */
#define IKE_ID_USER_FQDN        3
#define IKE_ID_IPV6_ADDR        5
#define IKE_ID_IPV6_ADDR_SUBNET 6
#define IKE_ID_IPV4_ADDR_RANGE  7
#define IKE_ID_IPV6_ADDR_RANGE  8

static const char *const ike_payload_names[] = {
	[IKE_PL_NONE] = "NONE",		[IKE_PL_SA] = "SA",
	[IKE_PL_PROPOSAL] = "PROPOSAL",	[IKE_PL_TRANSFORM] = "TRANSFORM",
	[IKE_PL_KE] = "KE",		[IKE_PL_ID] = "ID",
	[IKE_PL_CERT] = "CERT",		[IKE_PL_CERTREQ] = "CERTREQ",
	[IKE_PL_HASH] = "HASH",		[IKE_PL_SIG] = "SIG",
	[IKE_PL_NONCE] = "NONCE",	[IKE_PL_NOTIFY] = "NOTIFY",
	[IKE_PL_DELETE] = "DELETE",	[IKE_PL_VENDOR] = "VID",
	[IKE_PL_ATTR] = "ATTR",
	[IKE_PL_NATD] = "NAT-D",	[IKE_PL_NATOA] = "NAT-OA",
};
/* The highest payload type must have the last slot (gaps read "unknown"). */
static_assert(ARRAY_LEN(ike_payload_names) == IKE_PL_NATOA + 1, "payload names");

/* RFC 3706: the 16 bytes end in major/minor version 1.0. */
const uint8_t ike_vid_dpd[16] = {
	0xaf, 0xca, 0xd7, 0x13, 0x68, 0xa1, 0xf1, 0xc9,
	0x6b, 0x86, 0x96, 0xfc, 0x77, 0x57, 0x01, 0x00,
};
const uint8_t ike_vid_natt_rfc3947[16] = {
	0x4a, 0x13, 0x1c, 0x81, 0x07, 0x03, 0x58, 0x45,
	0x5c, 0x57, 0x28, 0xf2, 0x0e, 0x95, 0x45, 0x2f,
};

/* The first 8 bytes of MD5("draft-ietf-ipsra-isakmp-xauth-06.txt"), as
 * every XAUTH implementation sends them. */
const uint8_t ike_vid_xauth[8] = {
	0x09, 0x00, 0x26, 0x89, 0xdf, 0xd6, 0xb7, 0x12,
};
/* MD5("CISCO-UNITY") with its last two bytes the version, 1.0: a peer that
 * sends it reads the Unity attributes (split tunnel). */
const uint8_t ike_vid_unity[16] = {
	0x12, 0xf5, 0xf2, 0x8c, 0x45, 0x71, 0x68, 0xa9,
	0x70, 0x2d, 0x9f, 0xe2, 0x74, 0xcc, 0x01, 0x00,
};

const char *
ike_payload_name(uint8_t type)
{
	if (type >= ARRAY_LEN(ike_payload_names) || ike_payload_names[type] == NULL)
		return "unknown";
	return ike_payload_names[type];
}

int
ike_vid_match(const uint8_t *body, size_t len, const uint8_t vid[static 16])
{
	struct buf b;
	const uint8_t *got;

	buf_init(&b, body, len);
	if (len != 16 || buf_get_ref(&b, &got, 16) == -1)
		return 0;
	return memcmp(got, vid, 16) == 0;
}

/* RFC 2408 3.1; the diagram is above struct ike_hdr in wire.h. */
int
ike_hdr_parse(const uint8_t *msg, size_t len, struct ike_hdr *hdr)
{
	struct buf b;
	int rv = -1;

	memset(hdr, 0, sizeof(*hdr));
	if (len < IKE_HDR_LEN || len > IKE_MSG_MAX)
		goto done;
	buf_init(&b, msg, len);
	buf_get_bytes(&b, hdr->icookie, IKE_COOKIE_LEN);
	buf_get_bytes(&b, hdr->rcookie, IKE_COOKIE_LEN);
	buf_get_u8(&b, &hdr->next_payload);
	buf_get_u8(&b, &hdr->version);
	buf_get_u8(&b, &hdr->exchange);
	buf_get_u8(&b, &hdr->flags);
	buf_get_u32(&b, &hdr->msgid);
	buf_get_u32(&b, &hdr->length);
	if (b.err)
		goto done;
	/* RFC 2408 3.1: never accept a minor version above our own. */
	if (hdr->version != IKE_VERSION)
		goto done;
	if (hdr->length != len)
		goto done;
	rv = 0;
done:
	return rv;
}

/*
 * RFC 2408 3.2, generic payload header; Payload Length includes it:
 *
 *  0                   1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * ! Next Payload  !   RESERVED    !         Payload Length        !
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *
 * Reads one such header and its body from b: the body as a sub-reader.
 */
static int
generic_get(struct buf *b, uint8_t *next, struct buf *body)
{
	uint16_t plen;
	int rv = -1;

	buf_init(body, NULL, 0);
	buf_get_u8(b, next);
	buf_skip(b, 1);		/* reserved: peers differ, tolerated */
	buf_get_u16(b, &plen);
	if (b->err || plen < IKE_GENERIC_LEN)
		goto done;
	if (buf_sub(b, plen - IKE_GENERIC_LEN, body) == -1)
		goto done;
	rv = 0;
done:
	return rv;
}

int
ike_chain_parse(uint8_t first, const uint8_t *body, size_t len, int allow_padding,
		struct ike_chain *out)
{
	struct buf b, pb;
	struct ike_payload *pl;
	uint8_t type = first, next;
	size_t left;
	int rv = -1;

	out->n = 0;
	buf_init(&b, body, len);
	while (type != IKE_PL_NONE) {
		if (out->n == IKE_PAYLOADS_MAX)
			goto done;
		pl = &out->pl[out->n];
		pl->offset = b.off;
		if (generic_get(&b, &next, &pb) == -1)
			goto done;
		pl->type = type;
		pl->len = buf_left(&pb);
		if (buf_get_ref(&pb, &pl->body, pl->len) == -1)
			goto done;
		out->n++;
		type = next;
	}
	left = buf_left(&b);
	if (left != 0 && (!allow_padding || left > IKE_PADDING_MAX))
		goto done;
	rv = 0;
done:
	if (rv == -1)
		out->n = 0;
	return rv;
}

const struct ike_payload *
ike_chain_find(const struct ike_chain *c, uint8_t type)
{
	for (size_t i = 0; i < c->n; i++) {
		if (c->pl[i].type == type)
			return &c->pl[i];
	}
	return NULL;
}

/*
 * RFC 2408 3.3, data attributes:
 *
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * !A!       Attribute Type        !    AF=0  Attribute Length     !
 * !F!                             !    AF=1  Attribute Value      !
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * .                   AF=0  Attribute Value                       .
 * .                   AF=1  Not Transmitted                       .
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 */
static int
attr_get(struct buf *b, struct ike_attr *a)
{
	struct buf vb;
	uint16_t t, v;
	uint8_t c;
	int rv = -1;

	memset(a, 0, sizeof(*a));
	if (buf_get_u16(b, &t) == -1 || buf_get_u16(b, &v) == -1)
		goto done;
	a->type = t & (uint16_t)~IKE_ATTR_AF;
	if (t & IKE_ATTR_AF) {
		a->tv = 1;
		a->value = v;
		rv = 0;
		goto done;
	}
	a->len = v;
	if (buf_sub(b, v, &vb) == -1 || buf_get_ref(&vb, &a->data, a->len) == -1)
		goto done;
	/* Variable attributes of up to 4 bytes (life durations) as numbers. */
	if (a->len >= 1 && a->len <= 4) {
		buf_init(&vb, a->data, a->len);
		while (buf_get_u8(&vb, &c) == 0)
			a->value = a->value << 8 | c;
	}
	rv = 0;
done:
	return rv;
}

/*
 * RFC 2408 3.6, transform payload (its generic header read by the caller):
 *
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * ! Next Payload  !   RESERVED    !         Payload Length        !
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * !  Transform #  !  Transform-Id !           RESERVED2           !
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * ~                        SA Attributes                          ~
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 */
static int
transform_get(struct buf *b, struct ike_transform *t)
{
	int rv = -1;

	t->nattrs = 0;
	buf_get_u8(b, &t->num);
	buf_get_u8(b, &t->id);
	buf_skip(b, 2);
	if (b->err)
		goto done;
	while (buf_left(b) > 0) {
		if (t->nattrs == IKE_ATTRS_MAX)
			goto done;
		if (attr_get(b, &t->attrs[t->nattrs]) == -1)
			goto done;
		t->nattrs++;
	}
	rv = 0;
done:
	return rv;
}

/*
 * RFC 2408 3.5, proposal payload; its transforms follow inside its length,
 * each with next = 3 (another transform) or 0 (the last):
 *
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * ! Next Payload  !   RESERVED    !         Payload Length        !
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * !  Proposal #   !  Protocol-Id  !    SPI Size   !# of Transforms!
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * !                        SPI (variable)                         !
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 */
static int
proposal_get(struct buf *b, struct ike_proposal *p)
{
	struct buf xb;
	uint8_t nxf, next;
	int rv = -1;

	p->nxf = 0;
	buf_get_u8(b, &p->num);
	buf_get_u8(b, &p->proto);
	buf_get_u8(b, &p->spi_size);
	buf_get_u8(b, &nxf);
	if (b->err || p->spi_size > IKE_SPI_MAX)
		goto done;
	if (nxf == 0 || nxf > IKE_TRANSFORMS_MAX)
		goto done;
	if (buf_get_bytes(b, p->spi, p->spi_size) == -1)
		goto done;
	do {
		if (p->nxf == nxf)
			goto done;	/* more transforms than announced */
		if (generic_get(b, &next, &xb) == -1)
			goto done;
		if (next != IKE_PL_TRANSFORM && next != IKE_PL_NONE)
			goto done;
		if (transform_get(&xb, &p->xf[p->nxf]) == -1)
			goto done;
		p->nxf++;
	} while (next != IKE_PL_NONE);
	if (p->nxf != nxf || buf_left(b) != 0)
		goto done;
	rv = 0;
done:
	return rv;
}

/*
 * RFC 2408 3.4, SA payload body with RFC 2407 4.6.1 situation (4 bytes for
 * SIT_IDENTITY_ONLY), then proposal payloads with next = 2 or 0:
 *
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * ! Next Payload  !   RESERVED    !         Payload Length        !
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * !              Domain of Interpretation  (DOI)                  !
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * !                                                               !
 * ~                           Situation                           ~
 * !                                                               !
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 */
int
ike_sa_parse(const uint8_t *body, size_t len, struct ike_sa_pl *out)
{
	struct buf b, pb;
	uint8_t next;
	int rv = -1;

	memset(out, 0, sizeof(*out));
	buf_init(&b, body, len);
	buf_get_u32(&b, &out->doi);
	buf_get_u32(&b, &out->situation);
	if (b.err || out->doi != IKE_DOI_IPSEC || out->situation != IKE_SIT_IDENTITY_ONLY)
		goto done;
	do {
		if (out->nprops == IKE_PROPOSALS_MAX)
			goto done;
		if (generic_get(&b, &next, &pb) == -1)
			goto done;
		if (next != IKE_PL_PROPOSAL && next != IKE_PL_NONE)
			goto done;
		if (proposal_get(&pb, &out->props[out->nprops]) == -1)
			goto done;
		out->nprops++;
	} while (next != IKE_PL_NONE);
	if (buf_left(&b) != 0)
		goto done;
	rv = 0;
done:
	if (rv == -1)
		out->nprops = 0;
	return rv;
}

uint32_t
ike_attr_get(const struct ike_transform *t, uint16_t type)
{
	for (size_t i = 0; i < t->nattrs; i++) {
		if (t->attrs[i].type == type)
			return t->attrs[i].value;
	}
	return 0;
}

/* Identification data sizes per ID type; 0 means "any non-empty". */
static size_t
id_data_len(uint8_t type)
{
	switch (type) {
	case IKE_ID_IPV4_ADDR:
		return 4;
	case IKE_ID_IPV4_ADDR_SUBNET:
	case IKE_ID_IPV4_ADDR_RANGE:
		return 8;
	case IKE_ID_IPV6_ADDR:
		return 16;
	case IKE_ID_IPV6_ADDR_SUBNET:
	case IKE_ID_IPV6_ADDR_RANGE:
		return 32;
	default:
		return 0;	/* FQDN, USER_FQDN, DER_ASN1_DN, KEY_ID, ... */
	}
}

/*
 * RFC 2407 4.6.2, ID payload in the IPsec DOI:
 *
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * !  Next Payload !   RESERVED    !        Payload Length         !
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * !   ID Type     !  Protocol ID  !             Port              !
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * ~                     Identification Data                       ~
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 */
int
ike_id_parse(const uint8_t *body, size_t len, struct ike_id_pl *out)
{
	struct buf b;
	size_t want;
	int rv = -1;

	memset(out, 0, sizeof(*out));
	buf_init(&b, body, len);
	buf_get_u8(&b, &out->type);
	buf_get_u8(&b, &out->proto);
	buf_get_u16(&b, &out->port);
	if (b.err)
		goto done;
	out->len = buf_left(&b);
	want = id_data_len(out->type);
	if (out->type == 0 || out->len == 0 || (want != 0 && out->len != want))
		goto done;
	if (buf_get_ref(&b, &out->data, out->len) == -1)
		goto done;
	rv = 0;
done:
	return rv;
}

/*
 * RFC 2408 3.14, notification payload:
 *
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * ! Next Payload  !   RESERVED    !         Payload Length        !
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * !              Domain of Interpretation  (DOI)                  !
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * !  Protocol-ID  !   SPI Size    !      Notify Message Type      !
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * ~                Security Parameter Index (SPI)                 ~
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * ~                       Notification Data                       ~
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *
 * DOI is 0 (ISAKMP) or 1 (IPsec); R-U-THERE carries the two cookies as a
 * 16-byte SPI and the sequence number as data (RFC 3706).
 */
int
ike_notify_parse(const uint8_t *body, size_t len, struct ike_notify_pl *out)
{
	struct buf b;
	int rv = -1;

	memset(out, 0, sizeof(*out));
	buf_init(&b, body, len);
	buf_get_u32(&b, &out->doi);
	buf_get_u8(&b, &out->proto);
	buf_get_u8(&b, &out->spi_size);
	buf_get_u16(&b, &out->type);
	if (b.err || out->spi_size > IKE_SPI_MAX)
		goto done;
	if (out->doi != IKE_DOI_ISAKMP && out->doi != IKE_DOI_IPSEC)
		goto done;
	if (buf_get_ref(&b, &out->spi, out->spi_size) == -1)
		goto done;
	out->data_len = buf_left(&b);
	if (buf_get_ref(&b, &out->data, out->data_len) == -1)
		goto done;
	rv = 0;
done:
	return rv;
}

/*
 * RFC 2408 3.15, delete payload:
 *
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * ! Next Payload  !   RESERVED    !         Payload Length        !
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * !              Domain of Interpretation  (DOI)                  !
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * !  Protocol-Id  !   SPI Size    !           # of SPIs           !
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * ~               Security Parameter Index(es) (SPI)              ~
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *
 * A delete names at least one SPI (an ISAKMP SA by its 16-byte cookie
 * pair) and the SPIs fill the payload exactly.
 */
int
ike_delete_parse(const uint8_t *body, size_t len, struct ike_delete_pl *out)
{
	struct buf b;
	int rv = -1;

	memset(out, 0, sizeof(*out));
	buf_init(&b, body, len);
	buf_get_u32(&b, &out->doi);
	buf_get_u8(&b, &out->proto);
	buf_get_u8(&b, &out->spi_size);
	buf_get_u16(&b, &out->nspis);
	if (b.err)
		goto done;
	if (out->doi != IKE_DOI_ISAKMP && out->doi != IKE_DOI_IPSEC)
		goto done;
	if (out->spi_size == 0 || out->spi_size > IKE_SPI_MAX)
		goto done;
	if (out->nspis == 0 || out->nspis > IKE_DELETE_SPIS_MAX)
		goto done;
	if (buf_left(&b) != (size_t)out->nspis * out->spi_size)
		goto done;
	if (buf_get_ref(&b, &out->spis, buf_left(&b)) == -1)
		goto done;
	rv = 0;
done:
	return rv;
}

/* Opaque bodies: sizes from RFC 2409 5 (nonce) and our group/hash sets. */
int
ike_ke_check(size_t len)
{
	return len >= 1 && len <= 1024 ? 0 : -1;
}

int
ike_nonce_check(size_t len)
{
	return len >= 8 && len <= 256 ? 0 : -1;
}

int
ike_hash_check(size_t len)
{
	return len >= 1 && len <= 64 ? 0 : -1;
}

int
ike_natd_check(size_t len)
{
	return ike_hash_check(len);
}

/*
 * draft-dukes-ike-mode-cfg 3.2, attribute payload:
 *
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * ! Next Payload  !   RESERVED    !         Payload Length        !
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * !     Type      !   RESERVED    !           Identifier          !
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * ~                           Attributes                          ~
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *
 * Attributes are RFC 2408 data attributes; they fill the payload exactly.
 */
int
ike_cfg_parse(const uint8_t *body, size_t len, struct ike_cfg_pl *out)
{
	struct buf b;
	uint8_t reserved;
	int rv = -1;

	memset(out, 0, sizeof(*out));
	buf_init(&b, body, len);
	buf_get_u8(&b, &out->type);
	buf_get_u8(&b, &reserved);
	buf_get_u16(&b, &out->id);
	if (b.err || out->type < IKE_CFG_REQUEST || out->type > IKE_CFG_ACK)
		goto done;
	while (buf_left(&b) > 0) {
		if (out->nattrs == IKE_CFG_ATTRS_MAX ||
		    attr_get(&b, &out->attrs[out->nattrs]) == -1)
			goto done;
		out->nattrs++;
	}
	rv = 0;
done:
	return rv;
}

const struct ike_attr *
ike_cfg_attr(const struct ike_cfg_pl *c, uint16_t type)
{
	for (size_t i = 0; i < c->nattrs; i++) {
		if (c->attrs[i].type == type)
			return &c->attrs[i];
	}
	return NULL;
}
