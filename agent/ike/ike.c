/*
 * The IKEv1 engine core: configuration, tunnels (one per crypto map entry,
 * with its ordered peer list), the ISAKMP SA table, inbound dispatch,
 * message encryption, retransmission and the timers (retransmit, DPD,
 * lifetimes, failover). The exchanges live in ike_mm.c, ike_qm.c and
 * ike_info.c.
 */
#include "ike/ike_int.h"
#include "core/log.h"
#include "core/util.h"

#include <arpa/inet.h>
#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

const char *const ike_sa_state_names[SA__COUNT] = {
	[SA_MM_I1] = "MM_SA_SETUP",
	[SA_MM_I2] = "MM_KEY_EXCH",
	[SA_MM_I3] = "MM_KEY_EXCH",
	[SA_MM_R1] = "MM_SA_SETUP",
	[SA_MM_R2] = "MM_KEY_EXCH",
	[SA_ESTABLISHED] = "QM_IDLE",
	[SA_DEAD] = "MM_NO_STATE",
};
static_assert(ARRAY_LEN(ike_sa_state_names) == SA__COUNT, "state names");

const char *const ike_view_state_names[IKE_VIEW__COUNT] = {
	[IKE_VIEW_DOWN] = "down",
	[IKE_VIEW_NEGOTIATING] = "negotiating",
	[IKE_VIEW_ESTABLISHED] = "established",
	[IKE_VIEW_REKEYING] = "rekeying",
	[IKE_VIEW_DELETING] = "deleting",
};
static_assert(ARRAY_LEN(ike_view_state_names) == IKE_VIEW__COUNT, "view state names");

const char *const ike_fail_reason_names[IKE_FAIL__COUNT] = {
	[IKE_FAIL_TIMEOUT] = "timeout",
	[IKE_FAIL_AUTH] = "auth",
	[IKE_FAIL_NO_PROPOSAL] = "no_proposal",
	[IKE_FAIL_INVALID] = "invalid",
	[IKE_FAIL_OTHER] = "other",
};
static_assert(ARRAY_LEN(ike_fail_reason_names) == IKE_FAIL__COUNT, "failure names");

const char *const ike_failover_reason_names[IKE_FAILOVER__COUNT] = {
	[IKE_FAILOVER_DPD] = "dpd",
	[IKE_FAILOVER_IKE] = "ike_failure",
	[IKE_FAILOVER_MANUAL] = "manual",
};
static_assert(ARRAY_LEN(ike_failover_reason_names) == IKE_FAILOVER__COUNT, "failover names");

const char *const ike_drop_names[IKE_DROP__COUNT] = {
	[IKE_DROP_MALFORMED] = "malformed",
	[IKE_DROP_NO_SA] = "no_sa",
	[IKE_DROP_UNEXPECTED] = "unexpected",
	[IKE_DROP_DECRYPT_FAILED] = "decrypt_failed",
	[IKE_DROP_BAD_HASH] = "bad_hash",
	[IKE_DROP_NO_PROPOSAL] = "no_proposal",
	[IKE_DROP_NO_PSK] = "no_psk",
	[IKE_DROP_BAD_KE] = "bad_ke",
	[IKE_DROP_NO_CRYPTO_MAP] = "no_crypto_map",
	[IKE_DROP_REPLAY] = "replay",
	[IKE_DROP_HALFOPEN_LIMIT] = "halfopen_limit",
	[IKE_DROP_RATE_LIMITED] = "rate_limited",
	[IKE_DROP_UNSUPPORTED] = "unsupported",
	[IKE_DROP_CERT_EXPIRED] = "cert_expired",
	[IKE_DROP_CERT_NOT_YET_VALID] = "cert_not_yet_valid",
	[IKE_DROP_CERT_UNKNOWN_CA] = "cert_unknown_ca",
	[IKE_DROP_CERT_REVOKED] = "cert_revoked",
	[IKE_DROP_CERT_IDENTITY] = "cert_identity_mismatch",
	[IKE_DROP_BAD_SIGNATURE] = "bad_signature",
	[IKE_DROP_CERT_INVALID] = "cert_invalid",
};
static_assert(ARRAY_LEN(ike_drop_names) == IKE_DROP__COUNT, "drop names");

const char *const ike_err_notify_names[IKE_ERR__COUNT] = {
	[IKE_ERR_NO_PROPOSAL_CHOSEN] = "no_proposal_chosen",
	[IKE_ERR_INVALID_ID] = "invalid_id_information",
	[IKE_ERR_AUTH_FAILED] = "authentication_failed",
	[IKE_ERR_INVALID_CERT] = "invalid_certificate",
	[IKE_ERR_INVALID_CERT_AUTHORITY] = "invalid_cert_authority",
	[IKE_ERR_INVALID_SIGNATURE] = "invalid_signature",
};
static_assert(ARRAY_LEN(ike_err_notify_names) == IKE_ERR__COUNT, "error notify names");

void
ike_conf_defaults(struct ike_conf *c)
{
	memset(c, 0, sizeof(*c));
	c->nat_keepalive_s = 20;
	c->dpd.keepalive_s = 0;
	c->dpd.retry_s = DPD_RETRY_DEFAULT;
	c->dpd.retries = DPD_RETRIES_DEFAULT;
	c->dpd.mode = DPD_MODE_ON_DEMAND;
	c->retransmit_ms = 2000;
	c->retransmit_tries = 5;
	c->halfopen_max = 1024;
	c->halfopen_per_source = 16;
	c->halfopen_reserve = 256;
	c->reply_rate = 200;
	c->reply_rate_source = 10;
	c->notify_rate = 10;
	c->xauth_rate = 20;
}

struct ike *
ike_new(const struct ike_transport *tr, const struct ike_dataplane *dp)
{
	return ike_new_slots(tr, dp, IKE_TIMER_SLOTS);
}

struct ike *
ike_new_slots(const struct ike_transport *tr, const struct ike_dataplane *dp, size_t timer_slots)
{
	struct ike *ike = xcalloc(1, sizeof(*ike));

	ike->tr = *tr;
	if (dp)
		ike->dp = *dp;
	ike_conf_defaults(&ike->conf);
	ike_timers_init(ike, timer_slots);
	ike_satab_init(ike);
	ike_guard_init(ike);
	return ike;
}

void
ike_free(struct ike *ike)
{
	if (ike == NULL)
		return;
	while (ike->sas)
		ike_sa_delete(ike->sas, IKE_QUIET, 0);
	ike_guard_free(ike);
	ike_satab_free(ike);
	for (size_t i = 0; i < ike->ntunnels; i++) {
		ike_tunnel_timers_cancel(&ike->tunnels[i]);
		free(ike->tunnels[i].children);
		free(ike->tunnels[i].ps);
	}
	ike_clients_free(ike);
	ike_pki_free(ike->pki);
	ike_timers_free(ike);
	free(ike->tunnels);
	ike_conf_free(&ike->conf);
	free(ike->tidx.slots);
	free(ike->tidx.ent);
	free(ike->pskidx.slots);
	free(ike->pskidx.ent);
	free(ike->psk_wide);
	free(ike);
}

/* ---- SAs ----------------------------------------------------------------- */

struct ike_sa *
ike_sa_new(struct ike *ike, int initiator, uint32_t peer_be, uint16_t peer_port,
	   const uint8_t *icookie, int64_t now)
{
	struct ike_sa *sa = xcalloc(1, sizeof(*sa));

	sa->ike = ike;
	sa->initiator = initiator;
	sa->peer_be = peer_be;
	sa->peer_port = peer_port;
	sa->local_port = IKE_PORT;
	sa->created_ms = now;
	sa->state = initiator ? SA_MM_I1 : SA_MM_R1;
	sa->dpd.state = DPD_DISABLED;
	sa->hs = xcalloc(1, sizeof(*sa->hs));
	if (initiator) {
		ike_random(sa->icookie, IKE_COOKIE_LEN);
	} else {
		memcpy(sa->icookie, icookie, IKE_COOKIE_LEN);
		ike_random(sa->rcookie, IKE_COOKIE_LEN);
	}
	ike_satab_add(ike, sa);
	ike_sa_timers_init(sa);
	return sa;
}

int
ike_sa_same_peer(const struct ike_sa *a, const struct ike_sa *b)
{
	if (a->peer_be != b->peer_be)
		return 0;
	/* An SA still negotiating has not seen the identity: the address
	 * decides, as it does for a crypto-map peer. */
	return !a->peer_id_set || !b->peer_id_set ||
	    memcmp(a->peer_id, b->peer_id, sizeof(a->peer_id)) == 0;
}

struct ike_sa *
ike_sa_sibling(struct ike *ike, const struct ike_sa *sa)
{
	for (struct ike_sa *o = ike_sa_of_peer(ike, sa->peer_be); o != NULL;
	     o = ike_sa_next_of_peer(o)) {
		if (o != sa && o->state == SA_ESTABLISHED && ike_sa_same_peer(o, sa))
			return o;
	}
	return NULL;
}

void
ike_count_failure(struct ike_sa *sa, enum ike_fail_reason why)
{
	int p = sa->tunnel ? ike_tunnel_peer(sa->tunnel, sa->peer_be) : -1;

	sa->ike->st.failures++;
	if (p >= 0)
		sa->tunnel->ps[p].failures[why]++;
}

void
ike_p1_hs_free(struct ike_p1_hs *hs)
{
	if (hs == NULL)
		return;
	ike_dh_free(hs->dh);
	free(hs->sai_b);
	OPENSSL_cleanse(hs, sizeof(*hs));
	free(hs);
}

void
ike_sa_delete(struct ike_sa *sa, enum ike_tell tell, int64_t now)
{
	struct ike *ike = sa->ike;

	if (sa->tunnel != NULL && sa->tunnel->client != NULL && sa->tunnel->sa == sa &&
	    !sa->tunnel->client->going) {
		/* a client is its SA: both go (ike_tunnel_down deletes the SA) */
		ike_tunnel_down(ike, sa->tunnel, tell == IKE_TELL_PEER ? IKE_DOWN_CLEARED :
				IKE_DOWN_ENDED, now);
		return;
	}
	if (tell == IKE_TELL_PEER && sa->state == SA_ESTABLISHED) {
		uint8_t spi[2 * IKE_COOKIE_LEN];

		memcpy(spi, sa->icookie, IKE_COOKIE_LEN);
		memcpy(spi + IKE_COOKIE_LEN, sa->rcookie, IKE_COOKIE_LEN);
		ike_info_send_delete(sa, IKE_PROTO_ISAKMP, spi, sizeof(spi), 1, now);
	}
	ike_sa_timers_cancel(sa);
	ike_satab_remove(ike, sa);
	ike_guard_release(sa);
	if (sa->tunnel != NULL)
		ike_tunnel_retire_sa(sa->tunnel, sa);
	if (sa->tunnel != NULL && sa->tunnel->sa == sa) {
		sa->tunnel->sa = NULL;
		ike_tunnel_retry_arm(sa->tunnel);	/* one waiting for it goes now */
	}
	for (size_t i = 0; i < IKE_QM_MAX; i++)
		if (sa->qm[i] != NULL)
			ike_qm_free(sa, sa->qm[i]);
	ike_p1_hs_free(sa->hs);
	free(sa->out.msg);
	ike_p1_keys_wipe(&sa->keys);
	OPENSSL_cleanse(sa, sizeof(*sa));
	free(sa);
}

/* ---- sending ------------------------------------------------------------- */

void
ike_send_to(struct ike_sa *sa, struct ike_out *out, struct wbuf *w, enum ike_msg_kind kind,
	    uint16_t local_port, uint16_t peer_port, int64_t now)
{
	struct ike *ike = sa->ike;

	free(out->msg);
	out->msg = xmalloc(w->len);
	memcpy(out->msg, w->p, w->len);
	out->len = w->len;
	out->local_port = local_port;
	out->peer_port = peer_port;
	out->tries = 0;
	out->next_ms = kind == IKE_REQUEST ? now + ike->conf.retransmit_ms : 0;
	if (kind == IKE_REPLY)
		sa->resent_ms = now;	/* a copy goes again only IKE_RESEND_MS later */
	ike_out_arm(out);
	ike->tr.send(ike->tr.ctx, local_port, sa->peer_be, peer_port ? peer_port : sa->peer_port,
		     out->msg, out->len);
	ike->st.tx_packets++;
}

void
ike_send(struct ike_sa *sa, struct ike_out *out, struct wbuf *w, enum ike_msg_kind kind,
	 int64_t now)
{
	ike_send_to(sa, out, w, kind, sa->local_port, 0, now);
}

void
ike_send_once(struct ike_sa *sa, const struct wbuf *w, uint16_t local_port, uint16_t peer_port)
{
	struct ike *ike = sa->ike;

	ike->tr.send(ike->tr.ctx, local_port ? local_port : sa->local_port, sa->peer_be,
		     peer_port ? peer_port : sa->peer_port, w->p, w->len);
	ike->st.tx_packets++;
}

size_t
ike_chain_end(const struct ike_chain *c)
{
	if (c->n == 0)
		return 0;
	return c->pl[c->n - 1].offset + 4 + c->pl[c->n - 1].len;
}

int
ike_p2_open(struct ike_sa *sa, const struct ike_hdr *h, uint8_t *body, size_t len,
	    uint8_t iv[IKE_BLOCK], struct ike_chain *c)
{
	if (ike_decrypt_body(sa, body, len, iv) == -1)
		return ike_drop(sa->ike, IKE_DROP_DECRYPT_FAILED, sa->peer_be,
				"not a whole number of blocks");
	/* Garbage decrypts to garbage: a chain that does not parse is the
	 * sign of a wrong key or a forged message, not of a malformed one. */
	if (ike_chain_parse(h->next_payload, body, len, 1, c) == -1 || c->n == 0 ||
	    c->pl[0].type != IKE_PL_HASH || c->pl[0].len != sa->keys.hlen)
		return ike_drop(sa->ike, IKE_DROP_DECRYPT_FAILED, sa->peer_be,
				"no HASH-first payload chain after decryption");
	return 0;
}

void
ike_resend(struct ike_sa *sa, struct ike_out *out)
{
	struct ike *ike = sa->ike;

	ike->tr.send(ike->tr.ctx, out->local_port, sa->peer_be,
		     out->peer_port ? out->peer_port : sa->peer_port, out->msg, out->len);
	ike->st.tx_packets++;
	ike->st.retransmits++;
}

size_t
ike_encrypt_msg(struct ike_sa *sa, struct ike_builder *b, uint8_t iv[IKE_BLOCK])
{
	struct wbuf *w = b->w;
	size_t body = w->len - IKE_HDR_LEN, pad = IKE_BLOCK - body % IKE_BLOCK;

	/* RFC 2409 5.3: pad with zeros to the block size; the last byte may
	 * count the padding but need not. Always add at least one byte as
	 * strongSwan does, so the count is present. */
	if (pad == 0)
		pad = IKE_BLOCK;
	wbuf_put_zero(w, pad - 1);
	wbuf_put_u8(w, (uint8_t)(pad - 1));
	if (w->err)
		return 0;
	wbuf_patch_u8(w, 19, (uint8_t)(w->p[19] | IKE_FLAG_ENCRYPTION));
	if (ike_cbc_encrypt(sa->keys.enc_key, sa->keys.enc_key_len, iv, w->p + IKE_HDR_LEN,
			    w->len - IKE_HDR_LEN) == -1)
		return 0;
	return ike_build_finish(b);
}

long
ike_decrypt_body(struct ike_sa *sa, uint8_t *body, size_t len, uint8_t iv[IKE_BLOCK])
{
	if (len == 0 || len % IKE_BLOCK != 0)
		return -1;
	if (ike_cbc_decrypt(sa->keys.enc_key, sa->keys.enc_key_len, iv, body, len) == -1)
		return -1;
	return (long)len;
}

void
ike_fill_hash1(struct ike_sa *sa, struct wbuf *w, size_t hash_off, uint32_t msgid,
	       const uint8_t *ni, size_t ni_len)
{
	size_t hlen = sa->keys.hlen, rest = hash_off + hlen;

	if (ni == NULL)
		ike_qm_hash1(&sa->keys, msgid, w->p + rest, w->len - rest, w->p + hash_off);
	else
		ike_qm_hash2(&sa->keys, msgid, ni, ni_len, w->p + rest, w->len - rest,
			     w->p + hash_off);
}

/* ---- inbound ----------------------------------------------------------- */

int
ike_drop(struct ike *ike, enum ike_drop why, uint32_t src_be, const char *what)
{
	char ip[16];

	ike->st.drops[why]++;
	log_debug("ISAKMP: dropped a message from %s (%s): %s", ipv4_str(src_be, ip),
		  ike_drop_names[why], what);
	return -1;
}

void
ike_sa_peer_moved(struct ike_sa *sa, uint16_t local_port, uint16_t src_port)
{
	char ip[16];

	/* RFC 3947 4: the peer floated to 4500 (it found a NAT). */
	if (local_port == IKE_NATT_PORT && sa->local_port != IKE_NATT_PORT) {
		sa->local_port = IKE_NATT_PORT;
		sa->floated = 1;
	}
	/* A NAT in front of the peer gave it a new port. */
	if (local_port == sa->local_port && src_port != sa->peer_port) {
		log_info("ISAKMP: peer %s now at port %u (was %u)", ipv4_str(sa->peer_be, ip),
			 src_port, sa->peer_port);
		sa->peer_port = src_port;
	}
}

int
ike_msgid_seen(const struct ike_sa *sa, uint32_t msgid)
{
	for (unsigned i = 0; i < sa->seen_in.n; i++) {
		if (sa->seen_in.id[i] == msgid)
			return 1;
	}
	for (unsigned i = 0; i < sa->seen_out.n; i++) {
		if (sa->seen_out.id[i] == msgid)
			return 1;
	}
	return 0;
}

void
ike_msgid_note(struct ike_msgids *m, uint32_t msgid)
{
	m->id[m->next] = msgid;
	m->next = (m->next + 1) % IKE_MSGIDS;
	if (m->n < IKE_MSGIDS)
		m->n++;
}

void
ike_resend_reply(struct ike_sa *sa, struct ike_out *out, int64_t now)
{
	if (out->msg == NULL || out->next_ms != 0)
		return;		/* no reply stored: a request is retransmitted by its timer */
	if (now - sa->resent_ms < IKE_RESEND_MS)
		return;
	if (sa->state != SA_ESTABLISHED && !ike_guard_reply_ok(sa, now))
		return;
	sa->resent_ms = now;
	ike_resend(sa, out);
}

void
ike_msg_hash(const uint8_t *msg, size_t len, uint8_t h[IKE_HASH_MAX])
{
	memset(h, 0, IKE_HASH_MAX);
	ike_hash(IKE_HASH_SHA1, (struct ike_iov[]){ { msg, len } }, 1, h);
}

/* The Phase 1 messages of an SA: only what its state waits for, from the
 * ports it uses; an encrypted one is decrypted with a copy of the CBC state
 * that is kept only if the message authenticates. */
static void
mm_input(struct ike *ike, struct ike_sa *sa, const struct ike_hdr *h, const uint8_t *msg,
	 size_t len, uint32_t src_be, uint16_t src_port, uint16_t local_port, int64_t now)
{
	uint8_t body[IKE_MSG_MAX], iv[IKE_BLOCK], hash[IKE_HASH_MAX];
	size_t blen = len - IKE_HDR_LEN;
	int encrypted = (h->flags & IKE_FLAG_ENCRYPTION) != 0, want_encrypted;
	struct ike_chain c;

	ike_msg_hash(msg, len, hash);
	if (memcmp(hash, sa->last_in_hash, sizeof(hash)) == 0) {
		ike_resend_reply(sa, &sa->out, now);	/* our answer was lost */
		return;
	}
	if (sa->state == SA_ESTABLISHED || sa->state == SA_DEAD) {
		ike_drop(ike, IKE_DROP_UNEXPECTED, src_be, "Phase 1 message to an established SA");
		return;
	}
	want_encrypted = sa->state == SA_MM_R2 || sa->state == SA_MM_I3;
	if (encrypted != want_encrypted) {
		ike_drop(ike, IKE_DROP_UNEXPECTED, src_be, encrypted ? "encrypted too early" :
			 "messages 5 and 6 must be encrypted");
		return;
	}
	/* Until it authenticates, the peer is where the exchange began; only
	 * messages 5/6 may come from its NAT-T float (taken once verified). */
	if (!(local_port == sa->local_port && src_port == sa->peer_port) &&
	    !(want_encrypted && local_port == IKE_NATT_PORT)) {
		ike_drop(ike, IKE_DROP_UNEXPECTED, src_be, "from another port than the exchange");
		return;
	}
	memcpy(body, msg + IKE_HDR_LEN, blen);
	if (encrypted) {
		memcpy(iv, sa->iv, sizeof(iv));
		if (ike_decrypt_body(sa, body, blen, iv) == -1) {
			ike_drop(ike, IKE_DROP_DECRYPT_FAILED, src_be, "not a whole number of blocks");
			return;
		}
	}
	if (ike_chain_parse(h->next_payload, body, blen, encrypted, &c) == -1) {
		ike_drop(ike, encrypted ? IKE_DROP_DECRYPT_FAILED : IKE_DROP_MALFORMED, src_be,
			 "payload chain");
		return;
	}
	if (ike_mm_input(ike, sa, h, &c, encrypted ? iv : NULL, src_be, src_port, local_port,
			 now) == 0)
		memcpy(sa->last_in_hash, hash, sizeof(hash));
}

static int
phase2_input(struct ike *ike, struct ike_sa *sa, const struct ike_hdr *h, const uint8_t *msg,
	     size_t len, uint32_t src_be, uint16_t src_port, uint16_t local_port, int64_t now)
{
	uint8_t body[IKE_MSG_MAX];

	if (sa->state != SA_ESTABLISHED)
		return ike_drop(ike, IKE_DROP_UNEXPECTED, src_be, "Phase 2 before Phase 1 is done");
	if (!(h->flags & IKE_FLAG_ENCRYPTION))
		return ike_drop(ike, IKE_DROP_UNEXPECTED, src_be, "Phase 2 message not encrypted");
	if (h->msgid == 0)
		return ike_drop(ike, IKE_DROP_MALFORMED, src_be, "Phase 2 message ID 0");
	memcpy(body, msg + IKE_HDR_LEN, len - IKE_HDR_LEN);
	if (h->exchange == IKE_XCHG_QUICK)
		ike_qm_input(sa, h, body, len - IKE_HDR_LEN, local_port, src_port, now);
	else if (h->exchange == IKE_XCHG_TRANSACTION)
		ike_cfg_input(sa, h, body, len - IKE_HDR_LEN, local_port, src_port, now);
	else
		ike_info_input(sa, h, body, len - IKE_HDR_LEN, local_port, src_port, now);
	return 0;
}

void
ike_input(struct ike *ike, uint16_t local_port, uint32_t src_be, uint16_t src_port,
	  const uint8_t *msg, size_t len, int64_t now)
{
	static const uint8_t zero[IKE_COOKIE_LEN];
	struct ike_hdr h;
	struct ike_sa *sa;

	ike->st.rx_packets++;
	if (ike_hdr_parse(msg, len, &h) == -1) {
		ike_drop(ike, IKE_DROP_MALFORMED, src_be, "ISAKMP header");
		return;
	}
	if (h.exchange != IKE_XCHG_ID_PROT && h.exchange != IKE_XCHG_QUICK &&
	    h.exchange != IKE_XCHG_INFORMATIONAL && h.exchange != IKE_XCHG_TRANSACTION) {
		ike_drop(ike, IKE_DROP_UNSUPPORTED, src_be, "exchange type");
		return;
	}
	if ((sa = ike_sa_find(ike, &h)) == NULL) {
		if (h.exchange == IKE_XCHG_ID_PROT && memcmp(h.rcookie, zero, IKE_COOKIE_LEN) == 0 &&
		    !(h.flags & IKE_FLAG_ENCRYPTION) && h.msgid == 0)
			ike_mm_respond(ike, &h, msg, len, src_be, src_port, local_port, now);
		else
			ike_drop(ike, IKE_DROP_NO_SA, src_be, "cookies of no SA");
		return;
	}
	if (sa->peer_be != src_be) {
		ike_drop(ike, IKE_DROP_NO_SA, src_be, "cookies of another peer's SA");
		return;
	}
	if (h.exchange == IKE_XCHG_ID_PROT)
		mm_input(ike, sa, &h, msg, len, src_be, src_port, local_port, now);
	else
		phase2_input(ike, sa, &h, msg, len, src_be, src_port, local_port, now);
}

void
ike_sa_alive(struct ike_sa *sa, int64_t now)
{
	struct ike *ike = sa->ike;

	dpd_liveness(&sa->dpd, now);
	if (ike->dp.alive != NULL)
		ike->dp.alive(ike->dp.ctx, sa->peer_be, ike_sa_client_port(sa), now);
}

uint16_t
ike_sa_client_port(const struct ike_sa *sa)
{
	return sa->tunnel != NULL && sa->tunnel->client != NULL ? sa->tunnel->client->port : 0;
}

void
ike_peer_outbound(struct ike *ike, uint32_t peer_be, uint16_t client_port, int64_t now)
{
	for (struct ike_sa *sa = ike_sa_of_peer(ike, peer_be); sa != NULL;
	     sa = ike_sa_next_of_peer(sa)) {
		if (sa->state == SA_ESTABLISHED && ike_sa_client_port(sa) == client_port) {
			dpd_outbound(&sa->dpd, now);
			ike_sa_dpd_arm(sa);	/* on-demand DPD wakes up */
		}
	}
}

/* The tunnels of a peer: those of the crypto map entries that list it,
 * or its client's (the hashes, not every tunnel: ). */
static struct ike_tunnel *
tunnel_each_of(struct ike *ike, uint32_t peer_be, uint16_t client_port, uint32_t *cur,
	       struct ike_client **cl)
{
	if (client_port == 0)
		return ike_tunnel_each_of_peer(ike, peer_be, cur);
	*cl = *cl == NULL ? ike_client_of_peer(ike, peer_be) : ike_client_next_of_peer(*cl);
	while (*cl != NULL && (*cl)->port != client_port)
		*cl = ike_client_next_of_peer(*cl);
	return *cl != NULL ? &(*cl)->t : NULL;
}

void
ike_child_volume(struct ike *ike, uint32_t peer_be, uint16_t client_port, uint32_t spi_in,
		 enum ike_child_limit what, int64_t now)
{
	struct ike_client *cl = NULL;
	struct ike_tunnel *t;
	uint32_t cur = 0;
	char ip[16];

	while ((t = tunnel_each_of(ike, peer_be, client_port, &cur, &cl)) != NULL) {
		for (size_t k = 0; k < t->nchildren; k++) {
			struct ike_child *c = &t->children[k];

			if (c->sa.spi_in != spi_in)
				continue;
			if (what == IKE_CHILD_HARD) {
				log_info("IPSEC: SA 0x%08x with %s reached its volume lifetime",
					 spi_in, ipv4_str(c->sa.peer_be, ip));
				ike_child_remove(ike, t, k, IKE_TELL_PEER, now);
				ike_tunnel_children_arm(t);
				if (t->nchildren == 0 && t->sa != NULL && !ike->conf.no_child_rekey &&
				    t->sa->state == SA_ESTABLISHED)
					ike_qm_initiate(t->sa, now);
				return;
			}
			if (c->rekeying || t->sa == NULL || ike->conf.no_child_rekey ||
			    t->sa->state != SA_ESTABLISHED)
				return;
			/* Both sides count the same bytes; as with the seconds
			 * lifetime, the side that set the pair up renews it, so
			 * the two never rekey at once (the other side's backstop
			 * is the hard limit). Sequence numbers are per direction:
			 * the side that sees one run out renews the pair, whoever
			 * set it up, as sequence numbers never wrap. */
			if (what == IKE_CHILD_SEQ || c->initiator) {
				if (what == IKE_CHILD_SEQ)
					log_info("IPSEC: SA pair 0x%08x with %s is near the end of its "
						 "sequence numbers; rekeying", spi_in,
						 ipv4_str(c->sa.peer_be, ip));
				c->rekeying = 1;
				ike_tunnel_children_arm(t);
				ike_qm_initiate(t->sa, now);
			}
			return;
		}
	}
}

int
ike_clear(struct ike *ike, uint32_t peer_be, int64_t now)
{
	int n = 0;

	for (size_t i = 0; i < ike->ntunnels; i++) {
		struct ike_tunnel *t = &ike->tunnels[i];

		if (t->sa == NULL || (peer_be != 0 && t->sa->peer_be != peer_be))
			continue;
		ike_tunnel_down(ike, t, IKE_DOWN_CLEARED, now);
		n++;
	}
	for (struct ike_client *cl = ike->clients, *next; cl != NULL; cl = next) {
		next = cl->next;
		if (peer_be == 0 || cl->peer_be == peer_be) {
			ike_tunnel_down(ike, &cl->t, IKE_DOWN_CLEARED, now);
			n++;
		}
	}
	for (struct ike_sa *sa = ike->sas, *next; sa != NULL; sa = next) {
		next = sa->next;
		if (peer_be == 0 || sa->peer_be == peer_be) {
			ike_sa_delete(sa, IKE_TELL_PEER, now);
			n++;
		}
	}
	return n;
}
