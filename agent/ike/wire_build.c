/*
 * ISAKMP/IKEv1 message builders (see wire.h): the header, the payload
 * chain with its next-payload links and lengths patched in place, and the
 * payload bodies we send. Every write goes through the capped wbuf, so an
 * oversized or misbuilt message ends in w->err and ike_build_finish == 0.
 * The wire diagrams are above the matching parsers in wire.c.
 */
#include "ike/wire.h"

#include <stdint.h>

#define IKE_HDR_NEXT_OFF   16	/* next payload byte in the header */
#define IKE_HDR_LENGTH_OFF 24	/* length field in the header */
#define IKE_NO_PAYLOAD     SIZE_MAX	/* ike_builder.pl_off: none open */

void
ike_hdr_put(struct wbuf *w, const struct ike_hdr *hdr)
{
	wbuf_put_bytes(w, hdr->icookie, IKE_COOKIE_LEN);
	wbuf_put_bytes(w, hdr->rcookie, IKE_COOKIE_LEN);
	wbuf_put_u8(w, hdr->next_payload);
	wbuf_put_u8(w, hdr->version);
	wbuf_put_u8(w, hdr->exchange);
	wbuf_put_u8(w, hdr->flags);
	wbuf_put_u32(w, hdr->msgid);
	wbuf_put_u32(w, hdr->length);
}

void
ike_build_begin(struct ike_builder *b, struct wbuf *w, const struct ike_hdr *hdr)
{
	struct ike_hdr h = *hdr;

	b->w = w;
	b->next_off = IKE_HDR_NEXT_OFF;
	b->pl_off = IKE_NO_PAYLOAD;
	if (w->len != 0) {
		w->err = 1;	/* the offsets above assume the header at 0 */
		return;
	}
	h.next_payload = IKE_PL_NONE;
	h.version = IKE_VERSION;
	h.length = 0;
	ike_hdr_put(w, &h);
}

/* A generic header with next = `next` and the length left for sub_end. */
static size_t
sub_begin(struct wbuf *w, uint8_t next)
{
	size_t off = w->len;

	wbuf_put_u8(w, next);
	wbuf_put_u8(w, 0);
	wbuf_put_u16(w, 0);
	return off;
}

static void
sub_end(struct wbuf *w, size_t off)
{
	size_t len = w->len - off;

	if (w->err || len > UINT16_MAX) {
		w->err = 1;
		return;
	}
	wbuf_patch_u16(w, off + 2, (uint16_t)len);
}

void
ike_pl_begin(struct ike_builder *b, uint8_t type)
{
	struct wbuf *w = b->w;

	if (b->pl_off != IKE_NO_PAYLOAD || type == IKE_PL_NONE) {
		w->err = 1;
		return;
	}
	wbuf_patch_u8(w, b->next_off, type);
	b->next_off = w->len;
	b->pl_off = sub_begin(w, IKE_PL_NONE);
}

void
ike_pl_end(struct ike_builder *b)
{
	if (b->pl_off == IKE_NO_PAYLOAD) {
		b->w->err = 1;
		return;
	}
	sub_end(b->w, b->pl_off);
	b->pl_off = IKE_NO_PAYLOAD;
}

size_t
ike_build_finish(struct ike_builder *b)
{
	struct wbuf *w = b->w;
	size_t len = 0;

	if (b->pl_off != IKE_NO_PAYLOAD)
		w->err = 1;
	if (w->err || w->len < IKE_HDR_LEN || w->len > IKE_MSG_MAX)
		goto done;
	if (wbuf_patch_u32(w, IKE_HDR_LENGTH_OFF, (uint32_t)w->len) == -1)
		goto done;
	len = w->len;
done:
	return len;
}

void
ike_pl_bytes(struct ike_builder *b, uint8_t type, const void *data, size_t len)
{
	ike_pl_begin(b, type);
	wbuf_put_bytes(b->w, data, len);
	ike_pl_end(b);
}

void
ike_attr_put_tv(struct wbuf *w, uint16_t type, uint16_t value)
{
	if (type & IKE_ATTR_AF) {
		w->err = 1;
		return;
	}
	wbuf_put_u16(w, IKE_ATTR_AF | type);
	wbuf_put_u16(w, value);
}

void
ike_attr_put_tlv32(struct wbuf *w, uint16_t type, uint32_t value)
{
	if (type & IKE_ATTR_AF) {
		w->err = 1;
		return;
	}
	wbuf_put_u16(w, type);
	wbuf_put_u16(w, 4);
	wbuf_put_u32(w, value);
}

void
ike_attr_put(struct wbuf *w, uint16_t type, uint32_t value)
{
	if (value <= UINT16_MAX)
		ike_attr_put_tv(w, type, (uint16_t)value);
	else
		ike_attr_put_tlv32(w, type, value);
}

/* Transform `num` (from 1); next = 3 unless it is the last one. */
static void
transform_put(struct wbuf *w, uint8_t num, const struct ike_xf_spec *xf, int last)
{
	size_t off;

	if (xf->nattrs > IKE_ATTRS_MAX) {
		w->err = 1;
		return;
	}
	off = sub_begin(w, last ? IKE_PL_NONE : IKE_PL_TRANSFORM);
	wbuf_put_u8(w, num);
	wbuf_put_u8(w, xf->id);
	wbuf_put_u16(w, 0);
	for (size_t i = 0; i < xf->nattrs; i++)
		ike_attr_put(w, xf->attrs[i].type, xf->attrs[i].value);
	sub_end(w, off);
}

/* DOI IPsec, SIT_IDENTITY_ONLY, proposal #1 (the only one, so next = 0). */
void
ike_pl_sa(struct ike_builder *b, uint8_t proto, const uint8_t *spi, uint8_t spi_size,
	  const struct ike_xf_spec *xf, size_t nxf)
{
	struct wbuf *w = b->w;
	size_t off;

	if (spi_size > IKE_SPI_MAX || (spi_size > 0 && spi == NULL) ||
	    nxf == 0 || nxf > IKE_TRANSFORMS_MAX) {
		w->err = 1;
		return;
	}
	ike_pl_begin(b, IKE_PL_SA);
	wbuf_put_u32(w, IKE_DOI_IPSEC);
	wbuf_put_u32(w, IKE_SIT_IDENTITY_ONLY);
	off = sub_begin(w, IKE_PL_NONE);
	wbuf_put_u8(w, 1);
	wbuf_put_u8(w, proto);
	wbuf_put_u8(w, spi_size);
	wbuf_put_u8(w, (uint8_t)nxf);
	wbuf_put_bytes(w, spi, spi_size);
	for (size_t i = 0; i < nxf; i++)
		transform_put(w, (uint8_t)(i + 1), &xf[i], i + 1 == nxf);
	sub_end(w, off);
	ike_pl_end(b);
}

void
ike_pl_id(struct ike_builder *b, uint8_t type, uint8_t proto, uint16_t port,
	  const void *data, size_t len)
{
	ike_pl_begin(b, IKE_PL_ID);
	wbuf_put_u8(b->w, type);
	wbuf_put_u8(b->w, proto);
	wbuf_put_u16(b->w, port);
	wbuf_put_bytes(b->w, data, len);
	ike_pl_end(b);
}

void
ike_pl_notify(struct ike_builder *b, uint8_t proto, uint16_t type, const void *spi,
	      uint8_t spi_size, const void *data, size_t len)
{
	struct wbuf *w = b->w;

	if (spi_size > IKE_SPI_MAX || (spi_size > 0 && spi == NULL)) {
		w->err = 1;
		return;
	}
	ike_pl_begin(b, IKE_PL_NOTIFY);
	wbuf_put_u32(w, IKE_DOI_IPSEC);
	wbuf_put_u8(w, proto);
	wbuf_put_u8(w, spi_size);
	wbuf_put_u16(w, type);
	wbuf_put_bytes(w, spi, spi_size);
	wbuf_put_bytes(w, data, len);
	ike_pl_end(b);
}

void
ike_pl_delete(struct ike_builder *b, uint8_t proto, const void *spis, uint8_t spi_size,
	      uint16_t nspis)
{
	struct wbuf *w = b->w;

	if (spi_size == 0 || spi_size > IKE_SPI_MAX || nspis == 0 ||
	    nspis > IKE_DELETE_SPIS_MAX || spis == NULL) {
		w->err = 1;
		return;
	}
	ike_pl_begin(b, IKE_PL_DELETE);
	wbuf_put_u32(w, IKE_DOI_IPSEC);
	wbuf_put_u8(w, proto);
	wbuf_put_u8(w, spi_size);
	wbuf_put_u16(w, nspis);
	wbuf_put_bytes(w, spis, (size_t)nspis * spi_size);
	ike_pl_end(b);
}

void
ike_pl_cfg_begin(struct ike_builder *b, uint8_t type, uint16_t id)
{
	ike_pl_begin(b, IKE_PL_ATTR);
	wbuf_put_u8(b->w, type);
	wbuf_put_u8(b->w, 0);
	wbuf_put_u16(b->w, id);
}

void
ike_cfg_put(struct wbuf *w, uint16_t type, const void *data, size_t len)
{
	if ((type & IKE_ATTR_AF) || len > UINT16_MAX) {
		w->err = 1;
		return;
	}
	wbuf_put_u16(w, type);
	wbuf_put_u16(w, (uint16_t)len);
	wbuf_put_bytes(w, data, len);
}
