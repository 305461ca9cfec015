/*
 * libFuzzer target for the IKEv1 wire parsers (agent/ike/wire.c): the
 * header, the payload chain with and without padding, and every payload in
 * it through its own parser; each result must stay inside the input and
 * under the caps, and a parsed one-proposal SA must rebuild to the same
 * fields. Inputs with a bad header still reach the chain and the parsers.
 */
#include "ike/wire.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct ike_sa_pl sa, sa2;	/* 70 KB each: not on the stack */
static const uint8_t *in_p;
static size_t in_len;

/* Parsed views must point into the input. */
static void
inside(const uint8_t *p, size_t n)
{
	uintptr_t a = (uintptr_t)p, lo = (uintptr_t)in_p;

	if (n == 0)
		return;
	if (p == NULL || a < lo || a - lo > in_len || n > in_len - (a - lo))
		abort();
}

static void
check_transform(const struct ike_transform *t)
{
	if (t->nattrs > IKE_ATTRS_MAX)
		abort();
	for (size_t i = 0; i < t->nattrs; i++) {
		const struct ike_attr *a = &t->attrs[i];

		if (a->type & IKE_ATTR_AF)
			abort();
		if (!a->tv)
			inside(a->data, a->len);
		if (a->tv && a->value > UINT16_MAX)
			abort();
		(void)ike_attr_get(t, a->type);
	}
}

/* build -> parse -> the same proposal, transform ids and attributes. */
static void
rebuild_sa(const struct ike_proposal *p)
{
	static struct ike_xf_spec xf[IKE_TRANSFORMS_MAX];
	struct ike_builder b;
	struct ike_hdr h;
	struct ike_chain c;
	struct wbuf w;
	size_t len;

	memset(&h, 0, sizeof(h));
	memset(xf, 0, sizeof(xf));
	for (size_t i = 0; i < p->nxf; i++) {
		xf[i].id = p->xf[i].id;
		xf[i].nattrs = p->xf[i].nattrs;
		for (size_t j = 0; j < p->xf[i].nattrs; j++) {
			xf[i].attrs[j].type = p->xf[i].attrs[j].type;
			xf[i].attrs[j].value = p->xf[i].attrs[j].value;
		}
	}
	wbuf_init(&w, IKE_MSG_MAX);
	ike_build_begin(&b, &w, &h);
	ike_pl_sa(&b, p->proto, p->spi, p->spi_size, xf, p->nxf);
	len = ike_build_finish(&b);
	if (len == 0)
		goto done;	/* too big for one message: fine */
	if (ike_hdr_parse(w.p, len, &h) == -1 ||
	    ike_chain_parse(h.next_payload, w.p + IKE_HDR_LEN, len - IKE_HDR_LEN, 0, &c) == -1 ||
	    c.n != 1 || ike_sa_parse(c.pl[0].body, c.pl[0].len, &sa2) == -1)
		abort();
	if (sa2.nprops != 1 || sa2.props[0].proto != p->proto ||
	    sa2.props[0].spi_size != p->spi_size || sa2.props[0].nxf != p->nxf ||
	    memcmp(sa2.props[0].spi, p->spi, p->spi_size) != 0)
		abort();
	for (size_t i = 0; i < p->nxf; i++) {
		const struct ike_transform *t = &sa2.props[0].xf[i];

		if (t->num != i + 1 || t->id != p->xf[i].id || t->nattrs != p->xf[i].nattrs)
			abort();
		for (size_t j = 0; j < t->nattrs; j++) {
			if (t->attrs[j].type != p->xf[i].attrs[j].type ||
			    t->attrs[j].value != p->xf[i].attrs[j].value)
				abort();
		}
	}
done:
	wbuf_free(&w);
}

static void
check_sa(const uint8_t *body, size_t len)
{
	if (ike_sa_parse(body, len, &sa) == -1)
		return;
	if (sa.nprops == 0 || sa.nprops > IKE_PROPOSALS_MAX)
		abort();
	for (size_t i = 0; i < sa.nprops; i++) {
		const struct ike_proposal *p = &sa.props[i];

		if (p->spi_size > IKE_SPI_MAX || p->nxf == 0 || p->nxf > IKE_TRANSFORMS_MAX)
			abort();
		for (size_t j = 0; j < p->nxf; j++)
			check_transform(&p->xf[j]);
	}
	if (sa.nprops == 1)
		rebuild_sa(&sa.props[0]);
}

static void
check_payload(uint8_t type, const uint8_t *body, size_t len)
{
	struct ike_id_pl id;
	struct ike_notify_pl n;
	struct ike_delete_pl d;

	switch (type) {
	case IKE_PL_SA:
		check_sa(body, len);
		break;
	case IKE_PL_ID:
		if (ike_id_parse(body, len, &id) == 0) {
			if (id.len == 0)
				abort();
			inside(id.data, id.len);
		}
		break;
	case IKE_PL_NOTIFY:
		if (ike_notify_parse(body, len, &n) == 0) {
			if (n.spi_size > IKE_SPI_MAX)
				abort();
			inside(n.spi, n.spi_size);
			inside(n.data, n.data_len);
		}
		break;
	case IKE_PL_DELETE:
		if (ike_delete_parse(body, len, &d) == 0) {
			if (d.nspis == 0 || d.nspis > IKE_DELETE_SPIS_MAX)
				abort();
			inside(d.spis, (size_t)d.nspis * d.spi_size);
		}
		break;
	case IKE_PL_KE:
		(void)ike_ke_check(len);
		break;
	case IKE_PL_NONCE:
		(void)ike_nonce_check(len);
		break;
	case IKE_PL_HASH:
		(void)ike_hash_check(len);
		break;
	case IKE_PL_NATD:
		(void)ike_natd_check(len);
		break;
	case IKE_PL_VENDOR:
		(void)ike_vid_match(body, len, ike_vid_dpd);
		(void)ike_vid_match(body, len, ike_vid_natt_rfc3947);
		break;
	default:
		(void)ike_payload_name(type);
		break;
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t all[] = { IKE_PL_SA, IKE_PL_ID, IKE_PL_NOTIFY, IKE_PL_DELETE };
	struct ike_hdr hdr;
	struct ike_chain c;
	struct buf b;
	const uint8_t *body;
	size_t len;
	uint8_t first;

	in_p = data;
	in_len = size;
	if (ike_hdr_parse(data, size, &hdr) == 0) {
		first = hdr.next_payload;
		body = data + IKE_HDR_LEN;
		len = size - IKE_HDR_LEN;
	} else {
		/* No valid header: the first byte names the first payload. */
		buf_init(&b, data, size);
		if (buf_get_u8(&b, &first) == -1)
			return 0;
		len = buf_left(&b);
		if (buf_get_ref(&b, &body, len) == -1)
			abort();
	}
	for (int pad = 0; pad <= 1; pad++) {
		if (ike_chain_parse(first, body, len, pad, &c) == -1)
			continue;
		if (c.n > IKE_PAYLOADS_MAX)
			abort();
		for (size_t i = 0; i < c.n; i++) {
			inside(c.pl[i].body, c.pl[i].len);
			if (ike_chain_find(&c, c.pl[i].type) == NULL)
				abort();
			check_payload(c.pl[i].type, c.pl[i].body, c.pl[i].len);
		}
	}
	/* The structured parsers straight on the body as well. */
	for (size_t i = 0; i < sizeof(all); i++)
		check_payload(all[i], body, len);
	return 0;
}
