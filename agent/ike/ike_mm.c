/*
 * Main Mode with pre-shared keys (RFC 2409 5), both roles, six messages:
 *   I→R  SA, VID(DPD), VID(NAT-T)            R→I  SA, VID, VID
 *   I→R  KE, Ni, NAT-D, NAT-D                R→I  KE, Nr, NAT-D, NAT-D
 *   I→R* IDii, HASH_I, N(INITIAL-CONTACT)    R→I* IDir, HASH_R
 * NAT detection (RFC 3947) after the key exchange floats both ends to 4500.
 */
#include "ike/ike_int.h"
#include "core/log.h"
#include "core/util.h"

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>

/* ---- proposals ------------------------------------------------------------ */

static int
hash_id(int h)
{
	return h == IKE_HASH_SHA256 ? IKE_HASH_SHA256_ID : IKE_HASH_SHA1_ID;
}

/* A policy's authentication method (a policy built without one is PSK). */
static int
policy_auth(const struct ike_policy_conf *p)
{
	return p->auth != 0 ? p->auth : IKE_AUTH_METHOD_PSK;
}

static int
is_sig(int auth)
{
	return auth == IKE_AUTH_METHOD_RSA || auth == IKE_AUTH_METHOD_ECDSA_P256;
}

static void
policy_xform(const struct ike *ike, const struct ike_policy_conf *p, struct ike_xf_spec *xf)
{
	size_t n = 0;

	memset(xf, 0, sizeof(*xf));
	xf->id = IKE_XFORM_KEY_IKE;
#define ATTR(t, v) do { xf->attrs[n].type = (t); xf->attrs[n].value = (v); n++; } while (0)
	ATTR(IKE_ATTR_ENCRYPTION, IKE_ENC_AES_CBC);
	ATTR(IKE_ATTR_KEY_LENGTH, p->enc_key_len * 8);
	ATTR(IKE_ATTR_HASH, (uint32_t)hash_id(p->hash));
	ATTR(IKE_ATTR_AUTH, is_sig(policy_auth(p)) ? (uint32_t)policy_auth(p) :
	     ike->conf.xauth_client ? IKE_AUTH_XAUTH_INIT_PSK : IKE_AUTH_PSK);
	ATTR(IKE_ATTR_GROUP, (uint32_t)p->group);
	ATTR(IKE_ATTR_LIFE_TYPE, IKE_LIFE_SECONDS);
	ATTR(IKE_ATTR_LIFE_DURATION, p->lifetime_s);
#undef ATTR
	xf->nattrs = n;
}

/* XAUTH is for remote-access clients: the responder accepts it when a
 * dynamic crypto map entry asks for it. */
static int
xauth_served(const struct ike *ike)
{
	for (size_t i = 0; i < ike->conf.ndynmaps; i++) {
		if (ike->conf.dynmaps[i].xauth)
			return 1;
	}
	return 0;
}

/* The policy a received transform matches, or -1. */
static int
policy_match(const struct ike *ike, const struct ike_transform *t)
{
	uint32_t enc = ike_attr_get(t, IKE_ATTR_ENCRYPTION), klen = ike_attr_get(t, IKE_ATTR_KEY_LENGTH);
	uint32_t hash = ike_attr_get(t, IKE_ATTR_HASH), auth = ike_attr_get(t, IKE_ATTR_AUTH);
	uint32_t group = ike_attr_get(t, IKE_ATTR_GROUP);

	if (t->id != IKE_XFORM_KEY_IKE || enc != IKE_ENC_AES_CBC)
		return -1;
	if (auth == IKE_AUTH_XAUTH_INIT_PSK && !(xauth_served(ike) || ike->conf.xauth_client))
		return -1;
	if (auth == IKE_AUTH_XAUTH_INIT_PSK)
		auth = IKE_AUTH_PSK;
	for (size_t i = 0; i < ike->conf.npolicies; i++) {
		const struct ike_policy_conf *p = &ike->conf.policies[i];

		/* a signature method only with a certificate and key of its kind */
		if (klen == p->enc_key_len * 8 && hash == (uint32_t)hash_id(p->hash) &&
		    group == (uint32_t)p->group && auth == (uint32_t)policy_auth(p) &&
		    (!is_sig(policy_auth(p)) || ike_pki_can_sign(ike->pki, policy_auth(p))))
			return (int)i;
	}
	return -1;
}

static void
sa_take_policy(struct ike_sa *sa, int idx, const struct ike_transform *t)
{
	const struct ike_policy_conf *p = &sa->ike->conf.policies[idx];
	uint32_t life = ike_attr_get(t, IKE_ATTR_LIFE_DURATION);

	sa->policy = idx;
	sa->auth = policy_auth(p);
	sa->xauth = ike_attr_get(t, IKE_ATTR_AUTH) == IKE_AUTH_XAUTH_INIT_PSK;
	sa->hash = (enum ike_hash)p->hash;
	sa->group = p->group;
	sa->enc_key_len = p->enc_key_len;
	/* The shorter lifetime wins, as IOS does. */
	sa->lifetime_s = (life != 0 && life < p->lifetime_s) ? life : p->lifetime_s;
}

static void
vendor_ids(struct ike_sa *sa, const struct ike_chain *c)
{
	for (size_t i = 0; i < c->n; i++) {
		const struct ike_payload *pl = &c->pl[i];

		if (pl->type != IKE_PL_VENDOR)
			continue;
		if (pl->len == sizeof(ike_vid_dpd) && memcmp(pl->body, ike_vid_dpd, pl->len) == 0)
			sa->peer_dpd = 1;
		if (pl->len == sizeof(ike_vid_natt_rfc3947) &&
		    memcmp(pl->body, ike_vid_natt_rfc3947, pl->len) == 0)
			sa->peer_natt = 1;
	}
}

/* The initiator offers both; a responder echoes NAT-T only to a peer that
 * offered it (RFC 3947 3.1), which also keeps its answer to a bare
 * message 1 no larger than needed. */
static void
put_vendor_ids(struct ike_builder *b, int natt)
{
	ike_pl_bytes(b, IKE_PL_VENDOR, ike_vid_dpd, sizeof(ike_vid_dpd));
	if (natt)
		ike_pl_bytes(b, IKE_PL_VENDOR, ike_vid_natt_rfc3947, sizeof(ike_vid_natt_rfc3947));
}

/* A headend (dynamic crypto maps) also says it speaks XAUTH and Cisco
 * Unity: strongSwan's unity plugin asks for the split-tunnel networks
 * only of a peer that sent the Unity ID. */
static void
put_headend_ids(const struct ike *ike, struct ike_builder *b)
{
	if (ike->conf.ndynmaps == 0)
		return;
	ike_pl_bytes(b, IKE_PL_VENDOR, ike_vid_xauth, sizeof(ike_vid_xauth));
	ike_pl_bytes(b, IKE_PL_VENDOR, ike_vid_unity, sizeof(ike_vid_unity));
}

static void
hdr_for(const struct ike_sa *sa, struct ike_hdr *h, uint8_t exchange, uint32_t msgid)
{
	memset(h, 0, sizeof(*h));
	memcpy(h->icookie, sa->icookie, IKE_COOKIE_LEN);
	memcpy(h->rcookie, sa->rcookie, IKE_COOKIE_LEN);
	h->version = 0x10;
	h->exchange = exchange;
	h->msgid = msgid;
}

static int
force_encap(const struct ike_sa *sa)
{
	return sa->tunnel != NULL && sa->tunnel->conf->force_encap;
}

/* ---- NAT-D (RFC 3947 3.2) --------------------------------------------------- */

static void
put_natd(struct ike_sa *sa, struct ike_builder *b)
{
	struct ike *ike = sa->ike;
	uint8_t h[IKE_HASH_MAX];
	size_t hlen = ike_hash_len(sa->hash);

	/* Destination (the peer as we address it) first, then ourselves. */
	ike_natd_hash(sa->hash, sa->icookie, sa->rcookie, sa->peer_be, htons(sa->peer_port), h);
	ike_pl_bytes(b, IKE_PL_NATD, h, hlen);
	if (force_encap(sa))
		ike_random(h, hlen);	/* a hash no address matches: NAT assumed */
	else
		ike_natd_hash(sa->hash, sa->icookie, sa->rcookie, ike->conf.local_be,
			      htons(sa->local_port), h);
	ike_pl_bytes(b, IKE_PL_NATD, h, hlen);
}

static void
check_natd(struct ike_sa *sa, const struct ike_chain *c, uint32_t src_be, uint16_t src_port,
	   uint16_t local_port)
{
	uint8_t me[IKE_HASH_MAX], them[IKE_HASH_MAX];
	size_t hlen = ike_hash_len(sa->hash), seen = 0;
	int me_ok = 0, them_ok = 0;
	char ip[16];

	ike_natd_hash(sa->hash, sa->icookie, sa->rcookie, sa->ike->conf.local_be, htons(local_port),
		      me);
	ike_natd_hash(sa->hash, sa->icookie, sa->rcookie, src_be, htons(src_port), them);
	for (size_t i = 0; i < c->n; i++) {
		const struct ike_payload *pl = &c->pl[i];

		if (pl->type != IKE_PL_NATD || pl->len != hlen)
			continue;
		if (seen++ == 0)
			me_ok = memcmp(pl->body, me, hlen) == 0;
		else if (memcmp(pl->body, them, hlen) == 0)
			them_ok = 1;
	}
	if (seen < 2)
		return;		/* no NAT-T from the peer */
	sa->natd_seen = 1;
	sa->nat_here = !me_ok || force_encap(sa);
	sa->nat_there = !them_ok;
	if (force_encap(sa))
		log_info("ISAKMP: NAT-D with %s: %s; ESP in UDP as forceEncapsulation asks",
			 ipv4_str(sa->peer_be, ip), !me_ok || !them_ok ? "NAT detected" : "no NAT");
	else if (sa->nat_here || sa->nat_there)
		log_info("ISAKMP: NAT-D with %s: NAT detected (%s%s%s): ESP in UDP 4500",
			 ipv4_str(sa->peer_be, ip), sa->nat_here ? "we are behind NAT" : "",
			 sa->nat_here && sa->nat_there ? ", " : "",
			 sa->nat_there ? "peer is behind NAT" : "");
	else
		log_info("ISAKMP: NAT-D with %s: no NAT: plain ESP", ipv4_str(sa->peer_be, ip));
}

/* ---- messages 1 and 2 ---------------------------------------------------- */

int
ike_mm_initiate(struct ike *ike, struct ike_tunnel *t, int64_t now)
{
	uint32_t peer = t->conf->peers_be[t->active];
	const struct ike_psk_conf *psk = ike_psk_for(ike, peer);
	struct ike_xf_spec xf[IKE_POLICIES_MAX];
	size_t order[IKE_POLICIES_MAX], n = 0, sa_off;
	struct ike_builder b;
	struct ike_hdr h;
	struct ike_sa *sa;
	struct wbuf w;
	char ip[16];

	/* The policies we can authenticate with: a pre-shared key for this
	 * peer, a certificate and key of the policy's kind. */
	for (size_t i = 0; i < ike->conf.npolicies; i++) {
		int auth = policy_auth(&ike->conf.policies[i]);

		if (is_sig(auth) ? ike_pki_can_sign(ike->pki, auth) : psk != NULL)
			order[n++] = i;
	}
	if (n == 0) {
		log_warnx("ISAKMP: cannot initiate to %s: %s", ipv4_str(peer, ip),
			  ike->conf.npolicies == 0 ? "no IKE policy" : psk == NULL ?
			  "no pre-shared key for this peer, and no certificate and key for a "
			  "signature policy" : "only signature policies, and no certificate and key "
			  "of their kind");
		return -1;
	}
	/* Policies in priority order, each one transform of one proposal. */
	for (size_t i = 1; i < n; i++)
		for (size_t j = i; j > 0 && ike->conf.policies[order[j]].priority <
		     ike->conf.policies[order[j - 1]].priority; j--) {
			size_t tmp = order[j];

			order[j] = order[j - 1];
			order[j - 1] = tmp;
		}
	for (size_t i = 0; i < n; i++)
		policy_xform(ike, &ike->conf.policies[order[i]], &xf[i]);

	sa = ike_sa_new(ike, 1, peer, IKE_PORT, NULL, now);
	sa->tunnel = t;
	sa->psk = psk;			/* NULL is fine for signatures */
	t->sa = sa;
	hdr_for(sa, &h, IKE_XCHG_ID_PROT, 0);
	wbuf_init(&w, IKE_MSG_MAX);
	ike_build_begin(&b, &w, &h);
	sa_off = w.len;
	ike_pl_sa(&b, IKE_PROTO_ISAKMP, NULL, 0, xf, n);
	sa->hs->sai_len = w.len - sa_off - 4;
	sa->hs->sai_b = xmalloc(sa->hs->sai_len);
	memcpy(sa->hs->sai_b, w.p + sa_off + 4, sa->hs->sai_len);
	put_vendor_ids(&b, 1);
	if (ike_build_finish(&b) == 0) {
		wbuf_free(&w);
		ike_sa_delete(sa, IKE_QUIET, now);
		return -1;
	}
	log_info("ISAKMP: initiating Main Mode to %s (crypto map %s %u)", ipv4_str(peer, ip),
		 t->conf->name, t->conf->seq);
	ike_send(sa, &sa->out, &w, IKE_REQUEST, now);
	wbuf_free(&w);
	return 0;
}

/* The policy of ours that the first acceptable transform of a proposal
 * matches; -1 when none does. *chosen is that transform. */
static int
choose_policy(const struct ike *ike, const struct ike_sa_pl *sap,
	      const struct ike_transform **chosen)
{
	const struct ike_proposal *pr = &sap->props[0];

	for (size_t i = 0; i < pr->nxf; i++) {
		int idx = policy_match(ike, &pr->xf[i]);

		if (idx >= 0) {
			*chosen = &pr->xf[i];
			return idx;
		}
	}
	return -1;
}

/* Responder, message 2: the chosen transform with its attributes as
 * received, and our vendor ids. */
static void
mm_r1_answer(struct ike_sa *sa, const struct ike_transform *chosen, int64_t now)
{
	struct ike_xf_spec xf;
	struct ike_builder b;
	struct ike_hdr h;
	struct wbuf w;

	memset(&xf, 0, sizeof(xf));
	xf.id = chosen->id;
	for (size_t i = 0; i < chosen->nattrs && i < IKE_ATTRS_MAX; i++) {
		xf.attrs[i].type = chosen->attrs[i].type;
		xf.attrs[i].value = chosen->attrs[i].value;
	}
	xf.nattrs = chosen->nattrs;
	hdr_for(sa, &h, IKE_XCHG_ID_PROT, 0);
	wbuf_init(&w, IKE_MSG_MAX);
	ike_build_begin(&b, &w, &h);
	ike_pl_sa(&b, IKE_PROTO_ISAKMP, NULL, 0, &xf, 1);
	put_vendor_ids(&b, sa->peer_natt);
	put_headend_ids(sa->ike, &b);
	if (ike_build_finish(&b) != 0)
		ike_send(sa, &sa->out, &w, IKE_REPLY, now);
	wbuf_free(&w);
}

void
ike_mm_respond(struct ike *ike, const struct ike_hdr *h, const uint8_t *msg, size_t len,
	       uint32_t src_be, uint16_t src_port, uint16_t local_port, int64_t now)
{
	const struct ike_transform *chosen = NULL;
	const struct ike_psk_conf *psk;
	const struct ike_payload *pl;
	struct ike_chain c;
	struct ike_sa_pl sap;
	struct ike_sa *sa;
	char ip[16];
	int idx, why;

	/* Everything is checked before any state is made for the source. */
	if (ike_chain_parse(h->next_payload, msg + IKE_HDR_LEN, len - IKE_HDR_LEN, 0, &c) == -1 ||
	    (pl = ike_chain_find(&c, IKE_PL_SA)) == NULL ||
	    ike_sa_parse(pl->body, pl->len, &sap) == -1 || sap.nprops < 1 ||
	    sap.props[0].proto != IKE_PROTO_ISAKMP) {
		ike_drop(ike, IKE_DROP_MALFORMED, src_be, "Main Mode message 1");
		return;
	}
	if ((idx = choose_policy(ike, &sap, &chosen)) < 0) {
		log_warnx("ISAKMP: no IKE policy matches the proposal of %s (atts not acceptable)",
			  ipv4_str(src_be, ip));
		ike_drop(ike, IKE_DROP_NO_PROPOSAL, src_be, "Main Mode proposal");
		ike_send_error_plain(ike, h->icookie, h->rcookie, local_port, src_be, src_port,
				     IKE_ERR_NO_PROPOSAL_CHOSEN, now);
		return;
	}
	psk = ike_psk_for(ike, src_be);
	if (!is_sig(policy_auth(&ike->conf.policies[idx])) && psk == NULL) {
		ike_drop(ike, IKE_DROP_NO_PSK, src_be, "no pre-shared key for this peer");
		return;
	}
	if ((why = ike_guard_admit(ike, src_be, now)) != 0) {
		ike_drop(ike, (enum ike_drop)why, src_be, "responder bounds");
		return;
	}
	sa = ike_sa_new(ike, 0, src_be, src_port, h->icookie, now);
	sa->local_port = local_port;
	sa->psk = psk;
	ike_guard_track(ike, sa);
	sa_take_policy(sa, idx, chosen);
	sa->hs->sai_len = pl->len;
	sa->hs->sai_b = xmalloc(pl->len);
	memcpy(sa->hs->sai_b, pl->body, pl->len);
	vendor_ids(sa, &c);
	ike_msg_hash(msg, len, sa->last_in_hash);
	mm_r1_answer(sa, chosen, now);
}

/* Initiator, message 2: take the responder's choice, send our KE. */
static int
mm_i2(struct ike *ike, struct ike_sa *sa, const struct ike_hdr *hdr, const struct ike_chain *c,
      int64_t now)
{
	const struct ike_payload *pl = ike_chain_find(c, IKE_PL_SA);
	struct ike_sa_pl sap;
	int idx;

	if (pl == NULL || ike_sa_parse(pl->body, pl->len, &sap) == -1 || sap.nprops != 1 ||
	    sap.props[0].nxf != 1)
		return ike_drop(ike, IKE_DROP_MALFORMED, sa->peer_be, "Main Mode message 2");
	if ((idx = policy_match(ike, &sap.props[0].xf[0])) < 0) {
		ike_count_failure(sa, IKE_FAIL_NO_PROPOSAL);
		return ike_drop(ike, IKE_DROP_NO_PROPOSAL, sa->peer_be, "a transform we did not offer");
	}
	sa_take_policy(sa, idx, &sap.props[0].xf[0]);
	memcpy(sa->rcookie, hdr->rcookie, IKE_COOKIE_LEN);
	vendor_ids(sa, c);
	return 0;
}

/* ---- messages 3 and 4: key exchange ------------------------------------------ */

/* CERTREQ: a certificate signed by one of the CAs we trust, each named
 * (strongSwan sends its certificate only when asked). */
static void
put_certreqs(const struct ike *ike, struct ike_builder *b)
{
	uint8_t body[1 + IKE_DN_MAX];
	size_t n = ike_pki_ca_count(ike->pki), len;

	for (size_t i = 0; i < n; i++) {
		if ((len = ike_pki_ca_name(ike->pki, i, body + 1, IKE_DN_MAX)) == 0)
			continue;
		body[0] = IKE_CERT_X509_SIG;
		ike_pl_bytes(b, IKE_PL_CERTREQ, body, 1 + len);
	}
	if (n == 0) {		/* any CA */
		body[0] = IKE_CERT_X509_SIG;
		ike_pl_bytes(b, IKE_PL_CERTREQ, body, 1);
	}
}

static int
send_ke(struct ike_sa *sa, enum ike_msg_kind kind, int64_t now)
{
	uint8_t *nonce = sa->initiator ? sa->hs->ni : sa->hs->nr;
	uint8_t *gx = sa->initiator ? sa->hs->gxi : sa->hs->gxr;
	struct ike_builder b;
	struct ike_hdr h;
	struct wbuf w;
	size_t glen = ike_dh_pub_len(sa->group);
	int rc = -1;

	if (sa->hs->dh == NULL && (sa->hs->dh = ike_dh_new(sa->group)) == NULL)
		return -1;
	if (ike_dh_public(sa->hs->dh, gx, glen) == -1)
		return -1;
	sa->hs->gx_len = glen;
	ike_random(nonce, IKE_NONCE_LEN);
	if (sa->initiator)
		sa->hs->ni_len = IKE_NONCE_LEN;
	else
		sa->hs->nr_len = IKE_NONCE_LEN;
	hdr_for(sa, &h, IKE_XCHG_ID_PROT, 0);
	wbuf_init(&w, IKE_MSG_MAX);
	ike_build_begin(&b, &w, &h);
	ike_pl_bytes(&b, IKE_PL_KE, gx, glen);
	ike_pl_bytes(&b, IKE_PL_NONCE, nonce, IKE_NONCE_LEN);
	if (is_sig(sa->auth))
		put_certreqs(sa->ike, &b);
	if (sa->peer_natt)
		put_natd(sa, &b);
	if (ike_build_finish(&b) != 0) {
		ike_send(sa, &sa->out, &w, kind, now);
		rc = 0;
	}
	wbuf_free(&w);
	return rc;
}

/* Takes the peer's KE and nonce, computes g^xy and the phase-1 keys. */
static int
take_ke(struct ike_sa *sa, const struct ike_chain *c)
{
	const struct ike_payload *ke = ike_chain_find(c, IKE_PL_KE);
	const struct ike_payload *no = ike_chain_find(c, IKE_PL_NONCE);
	uint8_t *peer_gx = sa->initiator ? sa->hs->gxr : sa->hs->gxi;
	uint8_t *peer_n = sa->initiator ? sa->hs->nr : sa->hs->ni;
	size_t glen = ike_dh_pub_len(sa->group);

	if (ke == NULL || no == NULL || ke->len != glen || ike_nonce_check(no->len) == -1 ||
	    no->len > IKE_NONCE_MAX)
		return -1;
	memcpy(peer_gx, ke->body, glen);
	memcpy(peer_n, no->body, no->len);
	if (sa->initiator)
		sa->hs->nr_len = no->len;
	else
		sa->hs->ni_len = no->len;
	if (sa->hs->dh == NULL && (sa->hs->dh = ike_dh_new(sa->group)) == NULL)
		return -1;
	if (ike_dh_derive(sa->hs->dh, peer_gx, glen, sa->hs->gxy, &sa->hs->gxy_len) == -1)
		return -1;
	return 0;
}

static int
derive_keys(struct ike_sa *sa)
{
	const struct ike_p1_hs *hs = sa->hs;

	if (!is_sig(sa->auth) && sa->psk == NULL)
		return -1;
	if (ike_p1_derive(&sa->keys, sa->hash, sa->enc_key_len,
			  is_sig(sa->auth) ? NULL : sa->psk->key,
			  is_sig(sa->auth) ? 0 : sa->psk->key_len,
			  hs->ni, hs->ni_len, hs->nr, hs->nr_len, hs->gxy, hs->gxy_len, sa->icookie,
			  sa->rcookie) == -1)
		return -1;
	return ike_iv_phase1(sa->hash, hs->gxi, hs->gx_len, hs->gxr, hs->gx_len, sa->iv);
}

static void
float_ports(struct ike_sa *sa)
{
	if (!(sa->nat_here || sa->nat_there) || sa->floated)
		return;
	sa->local_port = IKE_NATT_PORT;
	sa->peer_port = IKE_NATT_PORT;
	sa->floated = 1;
}

/* ---- messages 5 and 6: authentication ------------------------------------------ */

/* CERT payloads (ours, then its chain) and SIG, the signature of the hash. */
static int
put_cert_sig(struct ike_sa *sa, struct ike_builder *b, const uint8_t *hash)
{
	const uint8_t *der[IKE_CERTS_MAX];
	uint8_t *owned[IKE_CERTS_MAX], sig[IKE_SIG_MAX], *body;
	size_t len[IKE_CERTS_MAX], n, slen;

	n = ike_pki_certs(sa->ike->pki, der, len, IKE_CERTS_MAX, owned);
	for (size_t i = 0; i < n; i++) {
		body = xmalloc(1 + len[i]);
		body[0] = IKE_CERT_X509_SIG;
		memcpy(body + 1, der[i], len[i]);
		ike_pl_bytes(b, IKE_PL_CERT, body, 1 + len[i]);
		free(body);
		OPENSSL_free(owned[i]);
	}
	slen = ike_pki_sign(sa->ike->pki, sa->auth, hash, sa->keys.hlen, sig, sizeof(sig));
	if (n == 0 || slen == 0)
		return -1;
	ike_pl_bytes(b, IKE_PL_SIG, sig, slen);
	return 0;
}

static size_t
put_id(struct ike_sa *sa, struct ike_builder *b, uint8_t *id_b, size_t id_max)
{
	struct ike *ike = sa->ike;
	size_t off = b->w->len, len;

	uint8_t dn[IKE_DN_MAX];
	size_t dn_len;

	if (ike->conf.identity_dn && (dn_len = ike_pki_subject(ike->pki, dn, sizeof(dn))) > 0)
		ike_pl_id(b, IKE_ID_DER_ASN1_DN, 17, IKE_PORT, dn, dn_len);
	else if (ike->conf.identity_fqdn && ike->conf.hostname[0] != '\0')
		ike_pl_id(b, IKE_ID_FQDN, 0, 0, ike->conf.hostname, strlen(ike->conf.hostname));
	else
		ike_pl_id(b, IKE_ID_IPV4_ADDR, 17, IKE_PORT, &ike->conf.local_be, 4);
	len = b->w->len - off - 4;
	if (len > id_max)
		return 0;
	memcpy(id_b, b->w->p + off + 4, len);
	return len;
}

static int
send_auth(struct ike_sa *sa, enum ike_msg_kind kind, int64_t now)
{
	uint8_t id_b[IKE_DN_MAX + 8], hash[IKE_HASH_MAX];
	struct ike_builder b;
	struct ike_hdr h;
	struct wbuf w;
	size_t id_len;
	int rc = -1;

	hdr_for(sa, &h, IKE_XCHG_ID_PROT, 0);
	wbuf_init(&w, IKE_MSG_MAX);
	ike_build_begin(&b, &w, &h);
	if ((id_len = put_id(sa, &b, id_b, sizeof(id_b))) == 0)
		goto done;
	if ((sa->initiator ? ike_hash_i : ike_hash_r)(&sa->keys, sa->hs->gxi, sa->hs->gx_len, sa->hs->gxr,
						       sa->hs->gx_len, sa->icookie, sa->rcookie,
						       sa->hs->sai_b, sa->hs->sai_len, id_b, id_len,
						       hash) == -1)
		goto done;
	if (is_sig(sa->auth)) {
		if (put_cert_sig(sa, &b, hash) == -1)
			goto done;
	} else {
		ike_pl_bytes(&b, IKE_PL_HASH, hash, sa->keys.hlen);
	}
	if (sa->initiator && ike_sa_sibling(sa->ike, sa) == NULL) {
		/* first contact only: a rekey must not make the peer drop the
		 * SAs we still use */
		uint8_t spi[2 * IKE_COOKIE_LEN];

		memcpy(spi, sa->icookie, IKE_COOKIE_LEN);
		memcpy(spi + IKE_COOKIE_LEN, sa->rcookie, IKE_COOKIE_LEN);
		ike_pl_notify(&b, IKE_PROTO_ISAKMP, IKE_N_INITIAL_CONTACT, spi, sizeof(spi), NULL, 0);
	}
	if (ike_encrypt_msg(sa, &b, sa->iv) == 0)
		goto done;
	ike_send(sa, &sa->out, &w, kind, now);
	rc = 0;
done:
	wbuf_free(&w);
	return rc;
}

/* The peer's certificates (X.509, leaf first) and signature. */
static void
take_cert_sig(const struct ike_chain *c, struct ike_cert_in *in)
{
	const struct ike_payload *sig = ike_chain_find(c, IKE_PL_SIG);

	memset(in, 0, sizeof(*in));
	for (size_t i = 0; i < c->n && in->n < IKE_CERTS_MAX; i++) {
		const struct ike_payload *pl = &c->pl[i];

		if (pl->type == IKE_PL_CERT && pl->len > 1 && pl->body[0] == IKE_CERT_X509_SIG) {
			in->der[in->n] = pl->body + 1;
			in->len[in->n++] = pl->len - 1;
		}
	}
	if (sig != NULL) {
		in->sig = sig->body;
		in->sig_len = sig->len;
	}
}

/* IKE_CERT_OK when the peer authenticated: its HASH (pre-shared key), or
 * its certificate, identity and signature; else why not (a wrong HASH
 * reads as a bad signature). subject/serial name its certificate. */
static enum ike_cert_fail
verify_auth(struct ike_sa *sa, const struct ike_chain *c, char *subject, size_t ssize,
	    char *serial, size_t nsize)
{
	const struct ike_payload *id = ike_chain_find(c, IKE_PL_ID);
	const struct ike_payload *hp = ike_chain_find(c, IKE_PL_HASH);
	enum ike_cert_fail why;
	struct ike_cert_in in;
	struct ike_id_pl idp;
	uint8_t want[IKE_HASH_MAX];
	int rc;

	subject[0] = serial[0] = '\0';
	if (id == NULL || ike_id_parse(id->body, id->len, &idp) == -1)
		return IKE_CERT_INVALID;
	rc = (sa->initiator ? ike_hash_r : ike_hash_i)(&sa->keys, sa->hs->gxi, sa->hs->gx_len, sa->hs->gxr,
						       sa->hs->gx_len, sa->icookie, sa->rcookie,
						       sa->hs->sai_b, sa->hs->sai_len, id->body, id->len,
						       want);
	if (rc == -1)
		return IKE_CERT_INVALID;
	if (is_sig(sa->auth)) {
		take_cert_sig(c, &in);
		if (in.sig == NULL)
			return IKE_CERT_BAD_SIGNATURE;
		why = ike_pki_check_peer(sa->ike->pki, sa->auth, &in, &idp, want, sa->keys.hlen,
					 (int64_t)time(NULL), subject, ssize, serial, nsize);
		if (why != IKE_CERT_OK)
			return why;
		/* an address identity is the address it comes from, NAT aside:
		 * a certificate for another host does not speak for this one */
		if (idp.type == IKE_ID_IPV4_ADDR && !sa->nat_there &&
		    memcmp(idp.data, &sa->peer_be, 4) != 0)
			return IKE_CERT_IDENTITY;
	} else if (hp == NULL || hp->len != sa->keys.hlen ||
		   CRYPTO_memcmp(want, hp->body, sa->keys.hlen) != 0) {
		return IKE_CERT_BAD_SIGNATURE;
	}
	ike_msg_hash(id->body, id->len, want);
	memcpy(sa->peer_id, want, sizeof(sa->peer_id));
	sa->peer_id_set = 1;
	return IKE_CERT_OK;
}

static void
established(struct ike *ike, struct ike_sa *sa, int64_t now)
{
	uint32_t seq0;
	char ip[16];

	ike_guard_release(sa);
	sa->state = SA_ESTABLISHED;
	sa->established_ms = now;
	sa->expire_ms = now + (int64_t)sa->lifetime_s * 1000;
	ike_out_done(&sa->out);
	ike_p1_hs_free(sa->hs);	/* what an idle SA does not need */
	sa->hs = NULL;
	ike_random(&seq0, sizeof(seq0));
	seq0 = (seq0 & 0x7fffffff) | 1;
	dpd_start(&sa->dpd, &ike->conf.dpd, sa->peer_dpd, now, seq0);
	ike_sa_established_timers(sa, now);
	ike->st.established++;
	if (sa->tunnel == NULL) {
		struct ike_tunnel *t = ike_tunnel_for_peer(ike, sa->peer_be);

		if (t != NULL && t->sa == NULL) {
			t->sa = sa;
			sa->tunnel = t;
		} else if (t == NULL && !sa->initiator && ike_client_attach(sa, now) == -1 &&
			   ike->conf.ndynmaps > 0) {
			/* no crypto map names it and no dynamic entry takes it: it
			 * goes, told, once this message is done with */
			sa->refused = 1;
			ike_arm(ike, &sa->t_expire, now);
		}
	}
	log_info("ISAKMP: SA established with %s:%u (%s, %s, aes-%u, group %d, DPD %s%s)",
		 ipv4_str(sa->peer_be, ip), sa->peer_port, sa->initiator ? "initiator" : "responder",
		 ike_hash_names[sa->hash], sa->enc_key_len * 8, sa->group,
		 sa->dpd.state == DPD_DISABLED ? "off" : dpd_mode_names[sa->dpd.s.mode],
		 sa->floated ? ", NAT-T" : "");
}

/* A rekey finished: the SA it replaces goes (with a Delete to the peer);
 * the tunnel's IPsec SA pairs are renegotiated under the new one and the
 * old pairs deleted once the new pair is installed. A sibling that came up
 * while this one was negotiated is no predecessor: the peer initiated at
 * the same moment, and as its own initiator SA retires ours the same way,
 * deleting it would leave neither. Both stay, as IOS keeps both; the
 * other expires with its lifetime. */
static void
retire_predecessor(struct ike *ike, struct ike_sa *fresh, int64_t now)
{
	struct ike_tunnel *t = fresh->tunnel;
	struct ike_sa *old, *next;
	int p;

	for (old = ike_sa_of_peer(ike, fresh->peer_be); old != NULL; old = next) {
		next = ike_sa_next_of_peer(old);
		if (old == fresh || old->state != SA_ESTABLISHED || !ike_sa_same_peer(old, fresh) ||
		    old->established_ms >= fresh->created_ms)
			continue;
		if (t != NULL && (p = ike_tunnel_peer(t, fresh->peer_be)) >= 0)
			t->ps[p].rekeys++;
		ike_sa_delete(old, IKE_TELL_PEER, now);	/* its counters move into the tunnel */
	}
	for (size_t k = 0; t != NULL && k < t->nchildren; k++)
		t->children[k].rekeying = 1;
	if (t != NULL)
		ike_tunnel_children_arm(t);
}

/* ---- INITIAL-CONTACT (RFC 2407 4.6.3.3) ------------------------------------------ */

static int
has_initial_contact(const struct ike_chain *c)
{
	struct ike_notify_pl n;

	for (size_t i = 0; i < c->n; i++) {
		if (c->pl[i].type == IKE_PL_NOTIFY &&
		    ike_notify_parse(c->pl[i].body, c->pl[i].len, &n) == 0 &&
		    n.type == IKE_N_INITIAL_CONTACT)
			return 1;
	}
	return 0;
}

/* The peer starts from scratch (it rebooted or lost its state): every
 * other SA we hold with it that was up before this one began is stale. Its
 * tunnel goes down without failover and comes back with the new SA's Quick
 * Mode. An SA that came up while this one was being negotiated is not
 * stale: both ends initiated at once, each with INITIAL-CONTACT, and
 * deleting each other's would start the race again, for ever. */
static void
initial_contact(struct ike *ike, struct ike_sa *fresh, int64_t now)
{
	struct ike_sa *sa = ike_sa_of_peer(ike, fresh->peer_be);
	char ip[16];

	while (sa != NULL) {
		if (sa == fresh || sa->state != SA_ESTABLISHED || !ike_sa_same_peer(sa, fresh) ||
		    sa->established_ms >= fresh->created_ms) {
			sa = ike_sa_next_of_peer(sa);
			continue;
		}
		log_info("ISAKMP: INITIAL-CONTACT from %s: deleting its older SA",
			 ipv4_str(sa->peer_be, ip));
		if (sa->tunnel != NULL && sa->tunnel->sa == sa && sa->tunnel->client == NULL) {
			struct ike_tunnel *t = sa->tunnel;

			ike_tunnel_down(ike, t, IKE_DOWN_ENDED, now);
			t->retry_ms = 0;	/* the peer is initiating already */
			ike_tunnel_retry_arm(t);
		} else {		/* a client's goes with it */
			ike_sa_delete(sa, IKE_QUIET, now);
		}
		sa = ike_sa_of_peer(ike, fresh->peer_be);	/* the table changed */
	}
}

/* ---- dispatch --------------------------------------------------------------- */

/* Messages 5/6 authenticated: their CBC state and the ports they came
 * from are taken now, not before. */
static void
authenticated(struct ike_sa *sa, const uint8_t *iv, uint16_t local_port, uint16_t src_port)
{
	memcpy(sa->iv, iv, IKE_BLOCK);
	ike_sa_peer_moved(sa, local_port, src_port);
}

static int
auth_failed(struct ike *ike, struct ike_sa *sa, enum ike_cert_fail why, const char *subject,
	    const char *serial, int64_t now)
{
	/* each certificate failure its own reason and notify */
	static const struct {
		enum ike_drop       drop;
		enum ike_err_notify notify;
	} cert[IKE_CERT__COUNT] = {
		[IKE_CERT_EXPIRED] = { IKE_DROP_CERT_EXPIRED, IKE_ERR_INVALID_CERT },
		[IKE_CERT_NOT_YET_VALID] = { IKE_DROP_CERT_NOT_YET_VALID, IKE_ERR_INVALID_CERT },
		[IKE_CERT_UNKNOWN_CA] = { IKE_DROP_CERT_UNKNOWN_CA, IKE_ERR_INVALID_CERT_AUTHORITY },
		[IKE_CERT_REVOKED] = { IKE_DROP_CERT_REVOKED, IKE_ERR_INVALID_CERT },
		[IKE_CERT_IDENTITY] = { IKE_DROP_CERT_IDENTITY, IKE_ERR_AUTH_FAILED },
		[IKE_CERT_BAD_SIGNATURE] = { IKE_DROP_BAD_SIGNATURE, IKE_ERR_INVALID_SIGNATURE },
		[IKE_CERT_INVALID] = { IKE_DROP_CERT_INVALID, IKE_ERR_INVALID_CERT },
	};
	enum ike_drop drop = IKE_DROP_BAD_HASH;
	enum ike_err_notify notify = IKE_ERR_AUTH_FAILED;
	char ip[16];

	ike_count_failure(sa, IKE_FAIL_AUTH);
	if (!is_sig(sa->auth)) {
		log_warnx("ISAKMP: authentication of %s failed (pre-shared key mismatch?)",
			  ipv4_str(sa->peer_be, ip));
	} else {
		drop = cert[why].drop;
		notify = cert[why].notify;
		log_warnx("%%CRYPTO-4-IKE_CERT: certificate authentication of %s failed: %s "
			  "(subject %s, serial %s)", ipv4_str(sa->peer_be, ip),
			  ike_cert_fail_names[why], subject[0] ? subject : "-",
			  serial[0] ? serial : "-");
	}
	if (!sa->initiator || is_sig(sa->auth))
		ike_send_error_plain(ike, sa->icookie, sa->rcookie, sa->local_port, sa->peer_be,
				     sa->peer_port, notify, now);
	return ike_drop(ike, drop, sa->peer_be, "Main Mode authentication");
}

int
ike_mm_input(struct ike *ike, struct ike_sa *sa, const struct ike_hdr *h,
	     const struct ike_chain *c, const uint8_t *iv, uint32_t src_be, uint16_t src_port,
	     uint16_t local_port, int64_t now)
{
	char subject[256], serial[80];
	enum ike_cert_fail why;

	switch (sa->state) {
	case SA_MM_R1:				/* message 3 */
		if (take_ke(sa, c) == -1)
			return ike_drop(ike, IKE_DROP_BAD_KE, src_be, "Main Mode message 3");
		ike_guard_progress(sa);		/* it receives what we send */
		check_natd(sa, c, src_be, src_port, local_port);
		if (send_ke(sa, IKE_REPLY, now) == -1 || derive_keys(sa) == -1)
			return ike_drop(ike, IKE_DROP_BAD_KE, src_be, "key derivation");
		sa->state = SA_MM_R2;
		return 0;
	case SA_MM_R2:				/* message 5 */
		if (iv == NULL)
			return ike_drop(ike, IKE_DROP_UNEXPECTED, src_be, "message 5 in clear");
		if ((why = verify_auth(sa, c, subject, sizeof(subject), serial,
				       sizeof(serial))) != IKE_CERT_OK)
			return auth_failed(ike, sa, why, subject, serial, now);
		authenticated(sa, iv, local_port, src_port);
		if (send_auth(sa, IKE_REPLY, now) == -1)
			return ike_drop(ike, IKE_DROP_MALFORMED, src_be, "our message 6");
		if (has_initial_contact(c))
			initial_contact(ike, sa, now);
		established(ike, sa, now);
		return 0;
	case SA_MM_I1:				/* message 2 */
		if (mm_i2(ike, sa, h, c, now) == -1)
			return -1;
		if (send_ke(sa, IKE_REQUEST, now) == -1)
			return ike_drop(ike, IKE_DROP_BAD_KE, src_be, "our key exchange");
		sa->state = SA_MM_I2;
		return 0;
	case SA_MM_I2:				/* message 4 */
		if (take_ke(sa, c) == -1 || derive_keys(sa) == -1)
			return ike_drop(ike, IKE_DROP_BAD_KE, src_be, "Main Mode message 4");
		check_natd(sa, c, src_be, src_port, local_port);
		float_ports(sa);
		if (send_auth(sa, IKE_REQUEST, now) == -1)
			return ike_drop(ike, IKE_DROP_MALFORMED, src_be, "our message 5");
		sa->state = SA_MM_I3;
		return 0;
	case SA_MM_I3:				/* message 6 */
		if (iv == NULL)
			return ike_drop(ike, IKE_DROP_UNEXPECTED, src_be, "message 6 in clear");
		if ((why = verify_auth(sa, c, subject, sizeof(subject), serial,
				       sizeof(serial))) != IKE_CERT_OK)
			return auth_failed(ike, sa, why, subject, serial, now);
		authenticated(sa, iv, local_port, src_port);
		established(ike, sa, now);
		retire_predecessor(ike, sa, now);
		ike_qm_initiate(sa, now);
		return 0;
	case SA_ESTABLISHED:
	case SA_DEAD:
	case SA__COUNT:
		break;
	}
	return ike_drop(ike, IKE_DROP_UNEXPECTED, src_be, "Main Mode message in this state");
}
