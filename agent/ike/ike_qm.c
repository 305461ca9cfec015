/*
 * Quick Mode (RFC 2409 5.5), both roles, under an established ISAKMP SA:
 *   I→R* HASH(1), SA, Ni [, KE] , IDci, IDcr
 *   R→I* HASH(2), SA, Nr [, KE] , IDci, IDcr
 *   I→R* HASH(3)
 * produces one ESP SA pair (KEYMAT per direction) for the dataplane.
 */
#include "ike/ike_int.h"
#include "core/config.h"
#include "core/log.h"
#include "core/util.h"

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

static struct ike_qm *
qm_find(struct ike_sa *sa, uint32_t msgid)
{
	for (size_t i = 0; i < IKE_QM_MAX; i++) {
		if (sa->qm[i] != NULL && sa->qm[i]->msgid == msgid)
			return sa->qm[i];
	}
	return NULL;
}

static void
qm_hs_free(struct ike_qm_hs *k)
{
	if (k == NULL)
		return;
	ike_dh_free(k->dh);
	OPENSSL_cleanse(k, sizeof(*k));
	free(k);
}

void
ike_qm_free(struct ike_sa *sa, struct ike_qm *qm)
{
	struct ike *ike = sa->ike;

	if (qm->dp_installed && ike->dp.remove)	/* an answer HASH(3) never confirmed */
		ike->dp.remove(ike->dp.ctx, qm->spi_in, qm->spi_out);
	qm_hs_free(qm->k);
	free(qm->out.msg);
	wheel_cancel(&qm->out.timer);
	for (size_t i = 0; i < IKE_QM_MAX; i++) {
		if (sa->qm[i] == qm)
			sa->qm[i] = NULL;
	}
	OPENSSL_cleanse(qm, sizeof(*qm));
	free(qm);
}

/* A free slot, else a finished exchange's (its message ID stays in the
 * SA's memory, so a replay of it is still recognised), else the oldest
 * answer still waiting for HASH(3): replayed QM1s must not hold every slot. */
static struct ike_qm *
qm_new(struct ike_sa *sa, uint32_t msgid, int64_t now)
{
	size_t slot = IKE_QM_MAX;
	struct ike_qm *qm;

	for (size_t i = 0; i < IKE_QM_MAX && slot == IKE_QM_MAX; i++) {
		if (sa->qm[i] == NULL)
			slot = i;
	}
	for (size_t i = 0; i < IKE_QM_MAX && slot == IKE_QM_MAX; i++) {
		if (sa->qm[i]->state == QM_DONE)
			slot = i;
	}
	for (size_t i = 0; i < IKE_QM_MAX; i++) {
		if (sa->qm[i] != NULL && sa->qm[i]->state == QM_R1 &&
		    (slot == IKE_QM_MAX || (sa->qm[slot] != NULL && sa->qm[slot]->state == QM_R1 &&
					    sa->qm[i]->started_ms < sa->qm[slot]->started_ms)))
			slot = i;
	}
	if (slot == IKE_QM_MAX)
		return NULL;
	if (sa->qm[slot] != NULL)
		ike_qm_free(sa, sa->qm[slot]);
	qm = sa->qm[slot] = xcalloc(1, sizeof(*qm));
	ike_out_init(&qm->out, sa, qm);
	qm->k = xcalloc(1, sizeof(*qm->k));
	qm->msgid = msgid;
	qm->started_ms = now;
	ike_iv_phase2(sa->hash, sa->iv, msgid, qm->iv);
	return qm;
}

int
ike_qm_expired(struct ike_sa *sa, struct ike_qm *qm)
{
	char ip[16];

	if (qm->initiator)
		return 1;
	log_info("IPSEC: Quick Mode 0x%08x with %s got no HASH(3); abandoned", qm->msgid,
		 ipv4_str(sa->peer_be, ip));
	ike_qm_free(sa, qm);
	return 0;
}

static uint32_t
new_spi(void)
{
	uint32_t spi;

	do {
		ike_random(&spi, sizeof(spi));
	} while (ntohl(spi) < 256);	/* 1-255 are reserved (RFC 4303 2.1) */
	return ntohl(spi);
}

/* ---- transforms -------------------------------------------------------------- */

static int
udp_encap(const struct ike_sa *sa)
{
	return sa->floated;
}

/* `mode transport` is a request, as on IOS: it applies to traffic between
 * the two hosts only (host selectors); anything else goes in tunnel mode. */
static int
wants_transport(const struct ike_xform_conf *x, const struct ike_selector *sel)
{
	return x->transport && sel->src_mask_be == 0xffffffffu && sel->dst_mask_be == 0xffffffffu;
}

static void
xform_spec(const struct ike_sa *sa, const struct ike_map_conf *m, const struct ike_xform_conf *x,
	   int transport, struct ike_xf_spec *xf)
{
	size_t n = 0;
	int mode;

	if (udp_encap(sa))
		mode = transport ? IPSEC_ENCAP_UDP_TRANSPORT : IPSEC_ENCAP_UDP_TUNNEL;
	else
		mode = transport ? IPSEC_ENCAP_TRANSPORT : IPSEC_ENCAP_TUNNEL;
	memset(xf, 0, sizeof(*xf));
	xf->id = x->cipher == ESP_CIPHER_AES_GCM16 ? IPSEC_ESP_AES_GCM_16 : IPSEC_ESP_AES_CBC;
#define ATTR(t, v) do { xf->attrs[n].type = (t); xf->attrs[n].value = (v); n++; } while (0)
	ATTR(IPSEC_ATTR_LIFE_TYPE, IKE_LIFE_SECONDS);
	ATTR(IPSEC_ATTR_LIFE_DURATION, m->lifetime_s);
	ATTR(IPSEC_ATTR_LIFE_TYPE, IKE_LIFE_KILOBYTES);
	ATTR(IPSEC_ATTR_LIFE_DURATION, (uint32_t)m->lifetime_kb);
	if (m->pfs_group)
		ATTR(IPSEC_ATTR_GROUP, (uint32_t)m->pfs_group);
	ATTR(IPSEC_ATTR_ENCAP_MODE, (uint32_t)mode);
	if (x->auth != ESP_AUTH_NONE)
		ATTR(IPSEC_ATTR_AUTH, x->auth == ESP_AUTH_HMAC_SHA256_128 ? IPSEC_AUTH_HMAC_SHA256 :
		     IPSEC_AUTH_HMAC_SHA1);
	ATTR(IPSEC_ATTR_KEY_LENGTH, x->key_len * 8);
#undef ATTR
	xf->nattrs = n;
}

/* Index of the map transform set a received transform matches, or -1;
 * *transport the mode it asks for: transport only where we would (host
 * selectors, `mode transport`), tunnel also instead of our transport (IOS
 * takes it: transport is a request). */
static int
xform_match(const struct ike_sa *sa, const struct ike_map_conf *m, const struct ike_selector *sel,
	    const struct ike_transform *t, int *transport_out)
{
	uint32_t auth = ike_attr_get(t, IPSEC_ATTR_AUTH), klen = ike_attr_get(t, IPSEC_ATTR_KEY_LENGTH);
	uint32_t mode = ike_attr_get(t, IPSEC_ATTR_ENCAP_MODE), group = ike_attr_get(t, IPSEC_ATTR_GROUP);

	if (group != (uint32_t)m->pfs_group)
		return -1;
	for (size_t i = 0; i < m->nxforms; i++) {
		const struct ike_xform_conf *x = &m->xforms[i];
		uint32_t id = x->cipher == ESP_CIPHER_AES_GCM16 ? IPSEC_ESP_AES_GCM_16 : IPSEC_ESP_AES_CBC;
		uint32_t want_auth = x->auth == ESP_AUTH_NONE ? 0 :
		    x->auth == ESP_AUTH_HMAC_SHA256_128 ? IPSEC_AUTH_HMAC_SHA256 : IPSEC_AUTH_HMAC_SHA1;
		int transport = mode == IPSEC_ENCAP_TRANSPORT || mode == IPSEC_ENCAP_UDP_TRANSPORT;

		if (t->id == id && auth == want_auth && klen == x->key_len * 8 &&
		    (!transport || wants_transport(x, sel))) {
			*transport_out = transport;
			return (int)i;
		}
	}
	return -1;
}

static size_t
keymat_len(const struct ike_xform_conf *x)
{
	if (x->cipher == ESP_CIPHER_AES_GCM16)
		return x->key_len + 4;		/* key | salt (RFC 4106 8.1) */
	return x->key_len + (x->auth == ESP_AUTH_HMAC_SHA256_128 ? 32 : 20);
}

/* ---- building ------------------------------------------------------------------ */

/* One identity: a host (ID_IPV4_ADDR) when the peer sent one for it and
 * it is still a /32, else a subnet; with the selector's protocol and this
 * side's port (RFC 2407 4.6.2). */
static void
put_id(struct ike_builder *b, uint32_t addr_be, uint32_t mask_be, uint8_t type, uint8_t proto,
       uint16_t port)
{
	uint8_t d[8];

	memcpy(d, &addr_be, 4);
	memcpy(d + 4, &mask_be, 4);
	if (type == IKE_ID_IPV4_ADDR && mask_be == 0xffffffffu)
		ike_pl_id(b, IKE_ID_IPV4_ADDR, proto, port, d, 4);
	else
		ike_pl_id(b, IKE_ID_IPV4_ADDR_SUBNET, proto, port, d, sizeof(d));
}

static void
put_ids(struct ike_builder *b, const struct ike_qm *qm)
{
	const struct ike_selector *sel = &qm->sel;

	/* IDci is the initiator's side: our src when we initiate. */
	if (qm->initiator) {
		put_id(b, sel->src_be, sel->src_mask_be, IKE_ID_IPV4_ADDR_SUBNET, sel->proto,
		       sel->src_port);
		put_id(b, sel->dst_be, sel->dst_mask_be, IKE_ID_IPV4_ADDR_SUBNET, sel->proto,
		       sel->dst_port);
	} else {
		put_id(b, sel->dst_be, sel->dst_mask_be, qm->id_type[0], sel->proto, sel->dst_port);
		put_id(b, sel->src_be, sel->src_mask_be, qm->id_type[1], sel->proto, sel->src_port);
	}
}

/* Builds and sends QM1 (initiator) or QM2 (responder). */
static int
qm_send(struct ike_sa *sa, struct ike_qm *qm, const struct ike_map_conf *m, int64_t now)
{
	struct ike_xf_spec xf[IKE_XFORMS_MAX];
	size_t nxf = 0, hash_off;
	uint8_t spi[4], gx[IKE_DH_MAX], zero[IKE_HASH_MAX] = { 0 };
	struct ike_builder b;
	struct ike_hdr h;
	struct wbuf w;
	int rc = -1;

	if (qm->initiator) {
		for (size_t i = 0; i < m->nxforms; i++)
			xform_spec(sa, m, &m->xforms[i], wants_transport(&m->xforms[i], &qm->sel),
				   &xf[nxf++]);
	} else {
		xform_spec(sa, m, &m->xforms[qm->xform], qm->transport, &xf[nxf++]);	/* as asked */
	}
	memset(&h, 0, sizeof(h));
	memcpy(h.icookie, sa->icookie, IKE_COOKIE_LEN);
	memcpy(h.rcookie, sa->rcookie, IKE_COOKIE_LEN);
	h.version = 0x10;
	h.exchange = IKE_XCHG_QUICK;
	h.msgid = qm->msgid;
	wbuf_init(&w, IKE_MSG_MAX);
	ike_build_begin(&b, &w, &h);
	hash_off = w.len + 4;
	ike_pl_bytes(&b, IKE_PL_HASH, zero, sa->keys.hlen);
	spi[0] = (uint8_t)(qm->spi_in >> 24);
	spi[1] = (uint8_t)(qm->spi_in >> 16);
	spi[2] = (uint8_t)(qm->spi_in >> 8);
	spi[3] = (uint8_t)qm->spi_in;
	ike_pl_sa(&b, IKE_PROTO_IPSEC_ESP, spi, 4, xf, nxf);
	if (qm->initiator)
		ike_pl_bytes(&b, IKE_PL_NONCE, qm->k->ni, qm->k->ni_len);
	else
		ike_pl_bytes(&b, IKE_PL_NONCE, qm->k->nr, qm->k->nr_len);
	if (m->pfs_group) {
		size_t glen = ike_dh_pub_len(m->pfs_group);

		if (qm->k->dh == NULL && (qm->k->dh = ike_dh_new(m->pfs_group)) == NULL)
			goto done;
		if (ike_dh_public(qm->k->dh, gx, glen) == -1)
			goto done;
		ike_pl_bytes(&b, IKE_PL_KE, gx, glen);
	}
	put_ids(&b, qm);
	ike_fill_hash1(sa, &w, hash_off, qm->msgid, qm->initiator ? NULL : qm->k->ni,
		       qm->initiator ? 0 : qm->k->ni_len);
	if (ike_encrypt_msg(sa, &b, qm->iv) == 0)
		goto done;
	if (qm->initiator)
		ike_send(sa, &qm->out, &w, IKE_REQUEST, now);
	else
		ike_send_to(sa, &qm->out, &w, IKE_REQUEST, qm->local_port, qm->peer_port, now);
	rc = 0;
done:
	wbuf_free(&w);
	return rc;
}

int
ike_qm_initiate(struct ike_sa *sa, int64_t now)
{
	struct ike_tunnel *t = sa->tunnel;
	struct ike_qm *qm;
	uint32_t msgid;

	if (t == NULL || t->conf->nsel == 0 || t->conf->nxforms == 0)
		return -1;
	do {
		ike_random(&msgid, sizeof(msgid));
	} while (msgid == 0 || qm_find(sa, msgid) != NULL || ike_msgid_seen(sa, msgid));
	if ((qm = qm_new(sa, msgid, now)) == NULL)
		return -1;
	ike_msgid_note(&sa->seen_out, msgid);
	qm->initiator = 1;
	qm->state = QM_I1;
	qm->sel = t->conf->sel[0];
	qm->spi_in = new_spi();
	qm->k->ni_len = IKE_NONCE_LEN;
	ike_random(qm->k->ni, qm->k->ni_len);
	return qm_send(sa, qm, t->conf, now);
}

/* ---- installing ------------------------------------------------------------- */

/* KEYMAT for one direction's SPI (RFC 2409 5.5). */
static int
keymat(struct ike_sa *sa, const struct ike_qm_hs *k, const uint8_t spi[4], uint8_t *out,
       size_t len)
{
	return ike_keymat(&sa->keys, k->gqm, k->gqm_len, IKE_PROTO_IPSEC_ESP, spi, k->ni,
			  k->ni_len, k->nr, k->nr_len, out, len);
}

/* The pair a Quick Mode negotiated, its keys aside; -1 when this
 * dataplane cannot carry it. */
static int
child_describe(struct ike_sa *sa, const struct ike_qm *qm, const struct ike_tunnel *t,
	       struct ike_child_sa *child, int64_t now)
{
	const struct ike_xform_conf *x = &t->conf->xforms[qm->xform];
	char ip[16];

	if (sa->ike->conf.esp_udp_only && !udp_encap(sa)) {
		/* our ESP travels in UDP only: a plain-ESP pair would carry nothing */
		log_warnx("IPSEC: SA pair with %s not installed: the peer did not negotiate "
			  "NAT-T, and this agent carries ESP in UDP 4500 only (RFC 3948)",
			  ipv4_str(sa->peer_be, ip));
		return -1;
	}
	memset(child, 0, sizeof(*child));
	child->spi_in = qm->spi_in;
	child->spi_out = qm->spi_out;
	child->peer_be = sa->peer_be;
	child->peer_port = sa->peer_port;
	child->client_port = t->client != NULL ? t->client->port : 0;
	child->udp_encap = udp_encap(sa);
	child->sel = qm->sel;
	child->cipher = x->cipher;
	child->auth = x->auth;
	child->enc_key_len = x->key_len;
	child->transport_mode = qm->transport;
	child->key_len = keymat_len(x);
	child->lifetime_s = t->conf->lifetime_s;
	child->lifetime_kb = t->conf->lifetime_kb;
	child->created_ms = now;
	child->map = t->conf->name;
	child->seq = t->conf->seq;
	return 0;
}

static void
spi_bytes(uint32_t spi, uint8_t out[4])
{
	out[0] = (uint8_t)(spi >> 24), out[1] = (uint8_t)(spi >> 16);
	out[2] = (uint8_t)(spi >> 8), out[3] = (uint8_t)spi;
}

/* Installs the pair in the dataplane with its KEYMAT (RFC 2409 5.5), one
 * per direction, in buffers that live (and are wiped) here. */
static int
child_install(struct ike_sa *sa, const struct ike_qm *qm, struct ike_child_sa *child)
{
	uint8_t spi[4], kin[IKE_KEYMAT_MAX], kout[IKE_KEYMAT_MAX];
	int rc = -1;

	spi_bytes(qm->spi_in, spi);
	if (child->key_len > IKE_KEYMAT_MAX || keymat(sa, qm->k, spi, kin, child->key_len) == -1)
		goto done;
	spi_bytes(qm->spi_out, spi);
	if (keymat(sa, qm->k, spi, kout, child->key_len) == -1)
		goto done;
	child->key_in = kin;
	child->key_out = kout;
	if (sa->ike->dp.install)
		sa->ike->dp.install(sa->ike->dp.ctx, child);
	rc = 0;
done:
	child->key_in = child->key_out = NULL;
	OPENSSL_cleanse(kin, sizeof(kin));
	OPENSSL_cleanse(kout, sizeof(kout));
	return rc;
}

/*
 * Make before break, without a gap either way:
 *  - the responder installs the pair's inbound SA when it sends QM2 and its
 *    outbound SA only with HASH(3): the initiator sends on the new pair as
 *    soon as it has QM2, before QM3 has reached us;
 *  - the pairs a new one replaces carry on for IKE_REKEY_OVERLAP_MS (the
 *    peer may still send on them until it has the new one), then go with a
 *    Delete.
 */
static void
child_add(struct ike_sa *sa, struct ike_qm *qm, struct ike_tunnel *t,
	  const struct ike_child_sa *child, int64_t now)
{
	struct ike_child *c;
	char ip[16];

	if (t->nchildren == IKE_CHILDREN_MAX)
		ike_child_remove(sa->ike, t, 0, IKE_TELL_PEER, now);
	if (t->nchildren == t->children_cap) {
		t->children_cap = t->children_cap ? 2 * t->children_cap : 1;
		t->children = xreallocarray(t->children, t->children_cap, sizeof(*t->children));
	}
	for (size_t k = 0; k < t->nchildren; k++) {
		struct ike_child *old = &t->children[k];

		if (old->rekeying && old->hard_ms > now + IKE_REKEY_OVERLAP_MS)
			old->hard_ms = now + IKE_REKEY_OVERLAP_MS;
	}
	c = &t->children[t->nchildren++];
	memset(c, 0, sizeof(*c));
	c->sa = *child;
	c->initiator = qm->initiator;
	c->hard_ms = now + (int64_t)child->lifetime_s * 1000;
	c->soft_ms = now + (int64_t)child->lifetime_s * 900;	/* rekey at 90 % */
	qm->state = QM_DONE;
	ike_out_done(&qm->out);
	qm->dp_installed = 0;	/* the pair is the tunnel's now */
	qm_hs_free(qm->k);	/* what answers a retransmission stays */
	qm->k = NULL;
	log_info("IPSEC: SA pair with %s installed: in 0x%08x out 0x%08x (%s%s)",
		 ipv4_str(sa->peer_be, ip), qm->spi_in, qm->spi_out,
		 cfg_esp_cipher_name(child->cipher, child->enc_key_len),
		 child->udp_encap ? ", UDP-encapsulated" : "");
	ike_tunnel_children_arm(t);
	ike_tunnel_up(t, now);
}

/* Initiator, on QM2: the whole pair at once. */
static int
install(struct ike_sa *sa, struct ike_qm *qm, struct ike_tunnel *t, int64_t now)
{
	struct ike_child_sa child;

	if (child_describe(sa, qm, t, &child, now) == -1 || child_install(sa, qm, &child) == -1)
		return -1;
	child_add(sa, qm, t, &child, now);
	return 0;
}

/* Responder, sending QM2: the inbound half, ready for the initiator. */
static void
install_inbound(struct ike_sa *sa, struct ike_qm *qm, struct ike_tunnel *t, int64_t now)
{
	struct ike_child_sa child;

	if (child_describe(sa, qm, t, &child, now) == -1)
		return;
	child.outbound_later = 1;
	if (child_install(sa, qm, &child) == 0)
		qm->dp_installed = 1;
}

/* Responder, on QM3: the outbound half starts, the pair joins the tunnel. */
static void
commit(struct ike_sa *sa, struct ike_qm *qm, struct ike_tunnel *t, int64_t now)
{
	struct ike_child_sa child;

	if (!qm->dp_installed) {
		install(sa, qm, t, now);
		return;
	}
	if (child_describe(sa, qm, t, &child, now) == -1)
		return;
	if (sa->ike->dp.activate)
		sa->ike->dp.activate(sa->ike->dp.ctx, qm->spi_in);
	child_add(sa, qm, t, &child, now);
}

/* ---- receiving ------------------------------------------------------------------ */

static int
verify_hash12(struct ike_sa *sa, const struct ike_chain *c, const uint8_t *body,
	      uint32_t msgid, const uint8_t *ni, size_t ni_len)
{
	uint8_t want[IKE_HASH_MAX];
	size_t rest = c->pl[0].offset + 4 + c->pl[0].len, end = ike_chain_end(c);

	if (ni == NULL)
		ike_qm_hash1(&sa->keys, msgid, body + rest, end - rest, want);
	else
		ike_qm_hash2(&sa->keys, msgid, ni, ni_len, body + rest, end - rest, want);
	return CRYPTO_memcmp(want, c->pl[0].body, sa->keys.hlen) == 0 ? 0 : -1;
}

/* IDci/IDcr as a selector from our side (src = ours): subnets, or hosts
 * (ID_IPV4_ADDR, as a remote-access client names its address), one
 * protocol for both, a port each. Their types go to types[] (IDci
 * first) when asked. */
static int
take_ids(const struct ike_chain *c, int we_initiated, struct ike_selector *sel,
	 uint8_t types[2])
{
	static const uint32_t host = 0xffffffffu;
	struct ike_id_pl ids[2];
	uint32_t addr[2], mask[2];
	size_t n = 0;

	for (size_t i = 0; i < c->n && n < 2; i++) {
		if (c->pl[i].type != IKE_PL_ID)
			continue;
		if (ike_id_parse(c->pl[i].body, c->pl[i].len, &ids[n]) == -1)
			return -1;
		if (ids[n].type == IKE_ID_IPV4_ADDR_SUBNET && ids[n].len == 8) {
			memcpy(&addr[n], ids[n].data, 4);
			memcpy(&mask[n], ids[n].data + 4, 4);
		} else if (ids[n].type == IKE_ID_IPV4_ADDR && ids[n].len == 4) {
			memcpy(&addr[n], ids[n].data, 4);
			memcpy(&mask[n], &host, 4);
		} else {
			return -1;
		}
		if (types != NULL)
			types[n] = ids[n].type;
		n++;
	}
	if (n != 2 || ids[0].proto != ids[1].proto)
		return -1;
	/* ids[0] is the initiator's side. */
	memset(sel, 0, sizeof(*sel));
	sel->src_be = addr[we_initiated ? 0 : 1];
	sel->src_mask_be = mask[we_initiated ? 0 : 1];
	sel->dst_be = addr[we_initiated ? 1 : 0];
	sel->dst_mask_be = mask[we_initiated ? 1 : 0];
	sel->proto = ids[0].proto;
	sel->src_port = ids[we_initiated ? 0 : 1].port;
	sel->dst_port = ids[we_initiated ? 1 : 0].port;
	if ((sel->src_port != 0 || sel->dst_port != 0) && sel->proto != IPPROTO_TCP &&
	    sel->proto != IPPROTO_UDP)
		return -1;	/* ports of a protocol that has none */
	return 0;
}

static int
take_sa_nonce_ke(struct ike_sa *sa, struct ike_qm *qm, const struct ike_chain *c,
		 const struct ike_map_conf *m)
{
	const struct ike_payload *sap = ike_chain_find(c, IKE_PL_SA);
	const struct ike_payload *no = ike_chain_find(c, IKE_PL_NONCE);
	const struct ike_payload *ke = ike_chain_find(c, IKE_PL_KE);
	struct ike_sa_pl p;
	const struct ike_proposal *pr;
	uint8_t *nonce = qm->initiator ? qm->k->nr : qm->k->ni;
	int idx = -1;

	if (sap == NULL || no == NULL || ike_sa_parse(sap->body, sap->len, &p) == -1 ||
	    p.nprops < 1 || ike_nonce_check(no->len) == -1 || no->len > IKE_NONCE_MAX)
		return -1;
	pr = &p.props[0];
	if (pr->proto != IKE_PROTO_IPSEC_ESP || pr->spi_size != 4)
		return -1;
	for (size_t i = 0; i < pr->nxf && idx < 0; i++)
		idx = xform_match(sa, m, &qm->sel, &pr->xf[i], &qm->transport);
	if (idx < 0 || (qm->initiator && pr->nxf != 1))
		return -1;
	qm->xform = idx;
	qm->spi_out = (uint32_t)pr->spi[0] << 24 | (uint32_t)pr->spi[1] << 16 |
	    (uint32_t)pr->spi[2] << 8 | pr->spi[3];
	memcpy(nonce, no->body, no->len);
	if (qm->initiator)
		qm->k->nr_len = no->len;
	else
		qm->k->ni_len = no->len;
	if (m->pfs_group) {
		if (ke == NULL || ke->len != ike_dh_pub_len(m->pfs_group))
			return -1;
		if (qm->k->dh == NULL && (qm->k->dh = ike_dh_new(m->pfs_group)) == NULL)
			return -1;
		if (ike_dh_derive(qm->k->dh, ke->body, ke->len, qm->k->gqm, &qm->k->gqm_len) == -1)
			return -1;
		qm->pfs = 1;
	}
	return 0;
}

static void
send_hash3(struct ike_sa *sa, struct ike_qm *qm, int64_t now)
{
	uint8_t hash[IKE_HASH_MAX];
	struct ike_builder b;
	struct ike_hdr h;
	struct wbuf w;

	ike_qm_hash3(&sa->keys, qm->msgid, qm->k->ni, qm->k->ni_len, qm->k->nr, qm->k->nr_len, hash);
	memset(&h, 0, sizeof(h));
	memcpy(h.icookie, sa->icookie, IKE_COOKIE_LEN);
	memcpy(h.rcookie, sa->rcookie, IKE_COOKIE_LEN);
	h.version = 0x10;
	h.exchange = IKE_XCHG_QUICK;
	h.msgid = qm->msgid;
	wbuf_init(&w, IKE_MSG_MAX);
	ike_build_begin(&b, &w, &h);
	ike_pl_bytes(&b, IKE_PL_HASH, hash, sa->keys.hlen);
	if (ike_encrypt_msg(sa, &b, qm->iv) != 0)
		ike_send(sa, &qm->out, &w, IKE_REPLY, now);	/* resent if QM2 comes again */
	wbuf_free(&w);
}

/* QM1: the peer proposes; we answer within a crypto map entry or say why
 * not (INVALID-ID-INFORMATION, NO-PROPOSAL-CHOSEN). */
static void
qm_respond(struct ike_sa *sa, const struct ike_hdr *h, const struct ike_chain *c,
	   const uint8_t *body, const uint8_t iv[IKE_BLOCK], const uint8_t hash_in[IKE_HASH_MAX],
	   uint16_t local_port, uint16_t src_port, int64_t now)
{
	struct ike *ike = sa->ike;
	struct ike_client *cl = sa->tunnel != NULL ? sa->tunnel->client : NULL;
	struct ike_selector sel;
	struct ike_tunnel *t = NULL;
	struct ike_qm *qm;
	uint8_t types[2];
	char ip[16];

	if (verify_hash12(sa, c, body, h->msgid, NULL, 0) == -1) {
		ike_drop(ike, IKE_DROP_BAD_HASH, sa->peer_be, "Quick Mode HASH(1)");
		return;
	}
	/* Authentic, and its ID is spent; new only if HASH(3) follows (an
	 * old QM1 whose ID left our memory looks the same): the answer goes
	 * where it came from, the SA's ports stay. */
	ike_msgid_note(&sa->seen_in, h->msgid);
	if (cl != NULL && !ike_client_ready(cl)) {
		log_warnx("IPSEC: Quick Mode from client %s:%u before %s", ipv4_str(sa->peer_be, ip),
			  cl->port, cl->xauth_ok ? "its address was given" : "XAUTH");
		ike_drop(ike, IKE_DROP_UNEXPECTED, sa->peer_be, "Quick Mode before XAUTH/Mode Config");
		return;
	}
	if (take_ids(c, 0, &sel, types) == 0) {
		/* a client's tunnel is its own, within its entry's selectors */
		if (cl != NULL)
			t = ike_client_selector(cl, &sel) == 0 ? sa->tunnel : NULL;
		else
			t = ike_tunnel_for_selector(ike, sa->peer_be, &sel);
	}
	if (t == NULL) {
		log_warnx("IPSEC: proposal from %s: no crypto map matches its identities",
			  ipv4_str(sa->peer_be, ip));
		ike_drop(ike, IKE_DROP_NO_CRYPTO_MAP, sa->peer_be, "Quick Mode identities");
		ike_send_error(sa, IKE_ERR_INVALID_ID, now);
		return;
	}
	if ((qm = qm_new(sa, h->msgid, now)) == NULL) {
		ike_drop(ike, IKE_DROP_RATE_LIMITED, sa->peer_be, "too many Quick Modes at once");
		return;
	}
	memcpy(qm->iv, iv, IKE_BLOCK);
	memcpy(qm->last_in_hash, hash_in, IKE_HASH_MAX);
	qm->local_port = local_port;
	qm->peer_port = src_port;
	qm->sel = sel;
	memcpy(qm->id_type, types, sizeof(types));
	if (take_sa_nonce_ke(sa, qm, c, t->conf) == -1) {
		log_warnx("IPSEC: proposal from %s not acceptable (transform set or PFS)",
			  ipv4_str(sa->peer_be, ip));
		ike_qm_free(sa, qm);
		ike_drop(ike, IKE_DROP_NO_PROPOSAL, sa->peer_be, "Quick Mode proposal");
		ike_send_error(sa, IKE_ERR_NO_PROPOSAL_CHOSEN, now);
		return;
	}
	if (sa->tunnel == NULL && t->sa == NULL) {
		sa->tunnel = t;
		t->sa = sa;
	}
	qm->state = QM_R1;
	qm->spi_in = new_spi();
	qm->k->nr_len = IKE_NONCE_LEN;
	ike_random(qm->k->nr, qm->k->nr_len);
	if (qm_send(sa, qm, t->conf, now) == 0)
		install_inbound(sa, qm, t, now);
}

void
ike_qm_input(struct ike_sa *sa, const struct ike_hdr *h, uint8_t *body, size_t len,
	     uint16_t local_port, uint16_t src_port, int64_t now)
{
	struct ike *ike = sa->ike;
	struct ike_qm *qm = qm_find(sa, h->msgid);
	uint8_t iv[IKE_BLOCK], hash3[IKE_HASH_MAX], hash_in[IKE_HASH_MAX];
	struct ike_tunnel *t;
	struct ike_chain c;
	char ip[16];

	ike_msg_hash(body, len, hash_in);
	if (qm != NULL && memcmp(hash_in, qm->last_in_hash, sizeof(hash_in)) == 0) {
		ike_resend_reply(sa, &qm->out, now);	/* a repeat of what we answered */
		return;
	}
	if ((qm == NULL && ike_msgid_seen(sa, h->msgid)) || (qm != NULL && qm->state == QM_DONE)) {
		ike_drop(ike, IKE_DROP_REPLAY, sa->peer_be, "Quick Mode message ID seen before");
		return;
	}
	if (qm != NULL)
		memcpy(iv, qm->iv, sizeof(iv));
	else
		ike_iv_phase2(sa->hash, sa->iv, h->msgid, iv);
	if (ike_p2_open(sa, h, body, len, iv, &c) == -1)
		return;
	if (qm == NULL) {
		qm_respond(sa, h, &c, body, iv, hash_in, local_port, src_port, now);
		return;
	}
	t = sa->tunnel;
	if (qm->state == QM_I1) {			/* QM2 */
		struct ike_selector sel;

		if (t == NULL)
			return;
		if (verify_hash12(sa, &c, body, h->msgid, qm->k->ni, qm->k->ni_len) == -1) {
			ike_drop(ike, IKE_DROP_BAD_HASH, sa->peer_be, "Quick Mode HASH(2)");
			return;
		}
		memcpy(qm->last_in_hash, hash_in, sizeof(hash_in));
		ike_sa_peer_moved(sa, local_port, src_port);
		ike_sa_alive(sa, now);	/* bound to our nonce: new */
		if (take_sa_nonce_ke(sa, qm, &c, t->conf) == -1 || take_ids(&c, 1, &sel, NULL) == -1 ||
		    !ike_selector_equal(&sel, &qm->sel)) {
			log_warnx("IPSEC: answer from %s does not match our proposal",
				  ipv4_str(sa->peer_be, ip));
			ike_drop(ike, IKE_DROP_NO_PROPOSAL, sa->peer_be, "Quick Mode answer");
			return;
		}
		memcpy(qm->iv, iv, sizeof(iv));
		send_hash3(sa, qm, now);
		install(sa, qm, t, now);
		return;
	}
	if (qm->state == QM_R1) {			/* QM3 */
		ike_qm_hash3(&sa->keys, qm->msgid, qm->k->ni, qm->k->ni_len, qm->k->nr,
			     qm->k->nr_len, hash3);
		if (CRYPTO_memcmp(hash3, c.pl[0].body, sa->keys.hlen) != 0) {
			ike_drop(ike, IKE_DROP_BAD_HASH, sa->peer_be, "Quick Mode HASH(3)");
			return;
		}
		memcpy(qm->last_in_hash, hash_in, sizeof(hash_in));
		memcpy(qm->iv, iv, sizeof(iv));
		ike_sa_peer_moved(sa, local_port, src_port);
		ike_sa_alive(sa, now);
		if (t == NULL)
			t = ike_tunnel_for_selector(ike, sa->peer_be, &qm->sel);
		if (t != NULL)
			commit(sa, qm, t, now);
		if (qm->state == QM_DONE)	/* nothing left to answer; a replay of */
			ike_qm_free(sa, qm);	/* the exchange meets the message-ID memory */
		return;
	}
	ike_drop(ike, IKE_DROP_UNEXPECTED, sa->peer_be, "Quick Mode message after its exchange");
}
