/*
 * The transaction exchange (ISAKMP exchange type 6) of a remote-access
 * client's SA, as a headend runs it:
 *   XAUTH (draft-beaulieu-ike-xauth), when the client negotiated it:
 *     R→I* HASH, ATTR(REQUEST: type, name, password)   I→R* HASH, ATTR(REPLY)
 *     R→I* HASH, ATTR(SET: status)                     I→R* HASH, ATTR(ACK)
 *   Mode Config (draft-dukes-ike-mode-cfg), pushed (`address initiate`):
 *     R→I* HASH, ATTR(SET: address, mask, DNS, split)  I→R* HASH, ATTR(ACK)
 *   or pulled (`address respond`):
 *     I→R* HASH, ATTR(REQUEST)                         R→I* HASH, ATTR(REPLY)
 * HASH = prf(SKEYID_a, M-ID | ATTR); each message ID starts its own CBC
 * chain from the Phase 1 IV, and its answer continues it. The R-13 rules
 * of Quick Mode hold: the hash is checked before anything is read, a
 * message ID is used once, a retransmitted request gets the stored answer.
 */
#include "ike/ike_int.h"
#include "core/log.h"
#include "core/passwd.h"
#include "core/util.h"

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#define XAUTH_TYPE_GENERIC 0
#define XAUTH_BURST        5

static const char *const cfg_type_names[] = {
	[IKE_CFG_REQUEST] = "REQUEST", [IKE_CFG_REPLY] = "REPLY", [IKE_CFG_SET] = "SET",
	[IKE_CFG_ACK] = "ACK",
};

void
ike_tx_free(struct ike_tx *tx)
{
	if (tx == NULL)
		return;
	free(tx->out.msg);
	wheel_cancel(&tx->out.timer);
	OPENSSL_cleanse(tx, sizeof(*tx));
	free(tx);
}

static struct ike_tx *
tx_new(struct ike_sa *sa, uint32_t msgid)
{
	struct ike_tx *tx = xcalloc(1, sizeof(*tx));

	ike_out_init(&tx->out, sa, NULL);
	tx->msgid = msgid;
	return tx;
}

/* ---- sending ---------------------------------------------------------------------- */

/* What goes into a Mode Config SET or REPLY: the lease with its mask, the
 * DNS servers and the split-tunnel networks. `asked` limits it to what a
 * REQUEST named (NULL: everything, as a SET carries). */
static void
put_config(struct wbuf *w, const struct ike_client *cl, const struct ike_cfg_pl *asked)
{
	const struct ike_dynmap_conf *dm = ike_client_dynmap(cl);
	const struct ike_pool_conf *pc = &cl->t.ike->conf.pools[dm->pool];
	uint32_t lease_be = htonl(cl->lease);

	if (cl->lease != 0 && (asked == NULL || ike_cfg_attr(asked, IKE_CFG_IP4_ADDRESS))) {
		ike_cfg_put(w, IKE_CFG_IP4_ADDRESS, &lease_be, 4);
		if (asked == NULL || ike_cfg_attr(asked, IKE_CFG_IP4_NETMASK))
			ike_cfg_put(w, IKE_CFG_IP4_NETMASK, &pc->netmask_be, 4);
	}
	if (asked == NULL || ike_cfg_attr(asked, IKE_CFG_IP4_DNS)) {
		for (size_t i = 0; i < dm->ndns; i++)
			ike_cfg_put(w, IKE_CFG_IP4_DNS, &dm->dns_be[i], 4);
	}
	if (dm->nsplit > 0 && (asked == NULL || ike_cfg_attr(asked, IKE_UNITY_SPLIT_INCLUDE))) {
		uint8_t nets[IKE_SPLIT_MAX * 14];

		memset(nets, 0, sizeof(nets));
		for (size_t i = 0; i < dm->nsplit; i++) {
			memcpy(nets + 14 * i, &dm->split[i].addr_be, 4);
			memcpy(nets + 14 * i + 4, &dm->split[i].mask_be, 4);
		}
		ike_cfg_put(w, IKE_UNITY_SPLIT_INCLUDE, nets, 14 * dm->nsplit);
	}
}

enum tx_what { TX_XAUTH_REQUEST, TX_XAUTH_STATUS, TX_CONFIG_SET, TX_CONFIG_REPLY };

/* Builds, protects and sends one transaction message. A request of ours
 * (kind IKE_REQUEST) is retransmitted until answered; a reply is kept to
 * answer a retransmitted request. */
static int
tx_send(struct ike_client *cl, struct ike_tx *tx, enum tx_what what, int status,
	const struct ike_cfg_pl *asked, enum ike_msg_kind kind, int64_t now)
{
	static const uint8_t zero[IKE_HASH_MAX];
	struct ike_sa *sa = cl->t.sa;
	struct ike_builder b;
	struct ike_hdr h;
	struct wbuf w;
	size_t hash_off;
	char ip[16];
	int rc = -1;

	memset(&h, 0, sizeof(h));
	memcpy(h.icookie, sa->icookie, IKE_COOKIE_LEN);
	memcpy(h.rcookie, sa->rcookie, IKE_COOKIE_LEN);
	h.version = IKE_VERSION;
	h.exchange = IKE_XCHG_TRANSACTION;
	h.msgid = tx->msgid;
	wbuf_init(&w, IKE_MSG_MAX);
	ike_build_begin(&b, &w, &h);
	hash_off = w.len + 4;
	ike_pl_bytes(&b, IKE_PL_HASH, zero, sa->keys.hlen);
	switch (what) {
	case TX_XAUTH_REQUEST:
		ike_pl_cfg_begin(&b, IKE_CFG_REQUEST, 0);
		ike_attr_put_tv(&w, IKE_XAUTH_TYPE, XAUTH_TYPE_GENERIC);
		ike_cfg_put(&w, IKE_XAUTH_USER_NAME, NULL, 0);
		ike_cfg_put(&w, IKE_XAUTH_USER_PASSWORD, NULL, 0);
		tx->type = IKE_CFG_REQUEST;
		tx->xauth = 1;
		break;
	case TX_XAUTH_STATUS:
		ike_pl_cfg_begin(&b, IKE_CFG_SET, 0);
		ike_attr_put_tv(&w, IKE_XAUTH_STATUS, (uint16_t)status);
		tx->type = IKE_CFG_SET;
		tx->xauth = 1;
		break;
	case TX_CONFIG_SET:
		ike_pl_cfg_begin(&b, IKE_CFG_SET, 0);
		put_config(&w, cl, NULL);
		tx->type = IKE_CFG_SET;
		break;
	case TX_CONFIG_REPLY:
		ike_pl_cfg_begin(&b, IKE_CFG_REPLY, asked->id);
		put_config(&w, cl, asked);
		tx->type = IKE_CFG_REPLY;
		break;
	}
	ike_pl_end(&b);
	if (w.err) {
		log_warnx("ISAKMP: transaction message 0x%08x for %s:%u could not be built",
			  tx->msgid, ipv4_str(cl->peer_be, ip), cl->port);
		goto done;
	}
	ike_fill_hash1(sa, &w, hash_off, tx->msgid, NULL, 0);
	if (ike_encrypt_msg(sa, &b, tx->iv) == 0)
		goto done;
	log_debug("ISAKMP: sending %s %s 0x%08x to %s:%u", tx->xauth ? "XAUTH" : "Mode Config",
		  cfg_type_names[tx->type], tx->msgid, ipv4_str(cl->peer_be, ip), cl->port);
	if (kind == IKE_REQUEST)
		ike_send(sa, &tx->out, &w, kind, now);
	else			/* to where the request came from */
		ike_send_to(sa, &tx->out, &w, kind, tx->out.local_port, tx->out.peer_port, now);
	rc = 0;
done:
	wbuf_free(&w);
	return rc;
}

/* A request of ours under a fresh message ID. */
static void
request(struct ike_client *cl, enum tx_what what, int status, int64_t now)
{
	struct ike_sa *sa = cl->t.sa;
	uint32_t msgid;

	do {
		ike_random(&msgid, sizeof(msgid));
	} while (msgid == 0 || ike_msgid_seen(sa, msgid));
	ike_msgid_note(&sa->seen_out, msgid);
	ike_tx_free(cl->tx_out);
	cl->tx_out = tx_new(sa, msgid);
	ike_iv_phase2(sa->hash, sa->iv, msgid, cl->tx_out->iv);
	tx_send(cl, cl->tx_out, what, status, NULL, IKE_REQUEST, now);
}

/* The client cannot stay: its tunnel goes, the peer told (a Delete). */
static void
refuse(struct ike_client *cl, int64_t now)
{
	ike_tunnel_down(cl->t.ike, &cl->t, IKE_DOWN_CLEARED, now);
}

/* Pushes the configuration when the entry says so; a client of a pull
 * entry asks for it. Without a pool there is nothing to give. */
static void
config_start(struct ike_client *cl, int64_t now)
{
	const struct ike_dynmap_conf *dm = ike_client_dynmap(cl);

	if (dm->pool < 0 || !dm->cfg_push)
		return;
	if (ike_client_lease(cl, 0, now) == 0) {
		refuse(cl, now);
		return;
	}
	request(cl, TX_CONFIG_SET, 0, now);
}

void
ike_cfg_start(struct ike_client *cl, int64_t now)
{
	if (!cl->xauth_ok)
		request(cl, TX_XAUTH_REQUEST, 0, now);
	else
		config_start(cl, now);
}

/* ---- receiving ---------------------------------------------------------------------- */

static void
attr_text(const struct ike_attr *a, char *out, size_t size)
{
	size_t n = a != NULL && !a->tv ? a->len : 0;

	if (n >= size)
		n = size - 1;
	if (n > 0)
		memcpy(out, a->data, n);
	out[n] = '\0';
}

static const struct ike_user_conf *
user_find(const struct ike *ike, const char *name)
{
	for (size_t i = 0; i < ike->conf.nusers; i++) {
		if (strcmp(ike->conf.users[i].name, name) == 0)
			return &ike->conf.users[i];
	}
	return NULL;
}

/* At most a second's worth of checks at once: a burst above the rate
 * would let more through in a second than the rate says. */
static unsigned
xauth_burst(const struct ike *ike)
{
	return ike->conf.xauth_rate < XAUTH_BURST ? ike->conf.xauth_rate : XAUTH_BURST;
}

/* Whether an answer to our request is an XAUTH REPLY over the engine's
 * rate (a password check costs a KDF: a flood of them must not take the
 * loop). Such a reply is dropped before anything of the exchange moves:
 * our REQUEST stands (its CBC chain, its retransmissions), so the
 * client's retransmission, or its answer to our REQUEST sent again, tries
 * again. */
static int
xauth_over_rate(struct ike_client *cl, const struct ike_cfg_pl *p, int64_t now)
{
	struct ike *ike = cl->t.ike;
	const struct ike_tx *tx = cl->tx_out;

	if (!tx->xauth || tx->type != IKE_CFG_REQUEST || p->type != IKE_CFG_REPLY ||
	    cl->xauth_tried ||
	    ike_bucket_take(&ike->xauth_bucket, ike->conf.xauth_rate, xauth_burst(ike), now))
		return 0;
	ike->ra.xauth_rate_limited++;
	ike_drop(ike, IKE_DROP_RATE_LIMITED, cl->peer_be, "XAUTH attempts over the rate");
	return 1;
}

/* The client's XAUTH REPLY (within the rate): one attempt per connection,
 * checked against the local users. */
static void
xauth_reply(struct ike_client *cl, const struct ike_cfg_pl *p, int64_t now)
{
	struct ike *ike = cl->t.ike;
	char user[IKE_NAME_MAX], pass[IKE_PSK_MAX], ip[16];
	const struct ike_user_conf *u;
	int ok;

	if (cl->xauth_tried) {
		ike_drop(ike, IKE_DROP_UNEXPECTED, cl->peer_be, "XAUTH answer");
		return;
	}
	cl->xauth_tried = 1;
	attr_text(ike_cfg_attr(p, IKE_XAUTH_USER_NAME), user, sizeof(user));
	attr_text(ike_cfg_attr(p, IKE_XAUTH_USER_PASSWORD), pass, sizeof(pass));
	u = user_find(ike, user);
	ok = u != NULL && pass[0] != '\0' && passwd_verify(pass, u->hash) == 1;
	OPENSSL_cleanse(pass, sizeof(pass));
	str_copy(cl->user, sizeof(cl->user), user);
	if (ok) {
		ike->ra.xauth_ok++;
		log_info("ISAKMP: XAUTH user %s from %s:%u authenticated", user,
			 ipv4_str(cl->peer_be, ip), cl->port);
	} else {
		ike->ra.xauth_failed++;
		log_warnx("%%CRYPTO-4-XAUTH_FAILED: XAUTH of user \"%s\" from %s:%u failed (%s)",
			  user, ipv4_str(cl->peer_be, ip), cl->port,
			  u == NULL ? "no such user" : "wrong password");
	}
	request(cl, TX_XAUTH_STATUS, ok, now);
	cl->xauth_ok = ok;
}

/* The answer to our request (same message ID). */
static void
answer_in(struct ike_client *cl, const struct ike_cfg_pl *p, int64_t now)
{
	struct ike_tx *tx = cl->tx_out;

	ike_out_done(&tx->out);
	if (tx->xauth && tx->type == IKE_CFG_REQUEST) {
		xauth_reply(cl, p, now);
		return;
	}
	if (tx->xauth) {		/* our status was ACKed */
		if (cl->xauth_ok)
			config_start(cl, now);
		else
			refuse(cl, now);
		return;
	}
	cl->cfg_done = 1;		/* the pushed address was taken */
}

/* The client's Mode Config REQUEST (pull): its lease (the address it asks
 * for when that one is free) in the REPLY. An exhausted pool answers
 * without an address, and the client goes. */
static void
config_request(struct ike_client *cl, struct ike_tx *tx, const struct ike_cfg_pl *p,
	       int64_t now)
{
	const struct ike_dynmap_conf *dm = ike_client_dynmap(cl);
	const struct ike_attr *a = ike_cfg_attr(p, IKE_CFG_IP4_ADDRESS);
	uint32_t want = 0;

	if (p->type != IKE_CFG_REQUEST || !dm->cfg_pull || dm->pool < 0 || !cl->xauth_ok) {
		ike_drop(cl->t.ike, IKE_DROP_UNEXPECTED, cl->peer_be,
			 "Mode Config request this client may not make");
		ike_tx_free(tx);
		return;
	}
	if (a != NULL && !a->tv && a->len == 4) {
		memcpy(&want, a->data, 4);
		want = ntohl(want);
	}
	ike_client_lease(cl, want, now);
	ike_tx_free(cl->tx_in);
	cl->tx_in = tx;
	tx_send(cl, tx, TX_CONFIG_REPLY, 0, p, IKE_REPLY, now);
	if (cl->lease == 0) {
		refuse(cl, now);
		return;
	}
	cl->cfg_done = 1;
}

void
ike_cfg_input(struct ike_sa *sa, const struct ike_hdr *h, uint8_t *body, size_t len,
	      uint16_t local_port, uint16_t src_port, int64_t now)
{
	struct ike *ike = sa->ike;
	struct ike_client *cl = sa->tunnel != NULL ? sa->tunnel->client : NULL;
	uint8_t iv[IKE_BLOCK], want[IKE_HASH_MAX], hash_in[IKE_HASH_MAX];
	const struct ike_payload *pl;
	struct ike_cfg_pl p;
	struct ike_chain c;
	struct ike_tx *tx;
	int ours;
	size_t rest;

	if (cl == NULL || cl->t.sa != sa) {
		ike_drop(ike, IKE_DROP_UNSUPPORTED, sa->peer_be,
			 "transaction exchange with a peer that is no remote-access client");
		return;
	}
	ike_msg_hash(body, len, hash_in);
	if (cl->tx_in != NULL && cl->tx_in->msgid == h->msgid &&
	    memcmp(hash_in, cl->tx_in->last_in_hash, sizeof(hash_in)) == 0) {
		ike_resend_reply(sa, &cl->tx_in->out, now);	/* our answer was lost */
		return;
	}
	ours = cl->tx_out != NULL && cl->tx_out->msgid == h->msgid && cl->tx_out->out.next_ms != 0;
	if (!ours && ike_msgid_seen(sa, h->msgid)) {
		ike_drop(ike, IKE_DROP_REPLAY, sa->peer_be, "transaction message ID seen before");
		return;
	}
	if (ours)
		memcpy(iv, cl->tx_out->iv, sizeof(iv));
	else
		ike_iv_phase2(sa->hash, sa->iv, h->msgid, iv);
	if (ike_p2_open(sa, h, body, len, iv, &c) == -1)
		return;
	rest = c.pl[0].offset + 4 + c.pl[0].len;
	ike_qm_hash1(&sa->keys, h->msgid, body + rest, ike_chain_end(&c) - rest, want);
	if (CRYPTO_memcmp(want, c.pl[0].body, sa->keys.hlen) != 0) {
		ike_drop(ike, IKE_DROP_BAD_HASH, sa->peer_be, "transaction HASH");
		return;
	}
	if ((pl = ike_chain_find(&c, IKE_PL_ATTR)) == NULL || ike_cfg_parse(pl->body, pl->len, &p) == -1) {
		ike_drop(ike, IKE_DROP_MALFORMED, sa->peer_be, "attribute payload");
		return;
	}
	if (ours) {
		/* An answer to our request under its message ID: authentic and
		 * new, so it proves the client alive where it is now. */
		ike_sa_peer_moved(sa, local_port, src_port);
		ike_sa_alive(sa, now);
		/* Of the wrong type, or over the XAUTH rate, it moves nothing:
		 * the request stays outstanding, with its CBC state, and is
		 * sent again. */
		if (p.type != (cl->tx_out->type == IKE_CFG_REQUEST ? IKE_CFG_REPLY : IKE_CFG_ACK)) {
			ike_drop(ike, IKE_DROP_UNEXPECTED, sa->peer_be,
				 "transaction answer of the wrong type");
			return;
		}
		if (xauth_over_rate(cl, &p, now))
			return;
		memcpy(cl->tx_out->iv, iv, sizeof(iv));
		answer_in(cl, &p, now);
		return;
	}
	/* A request: authentic and its ID spent, but it may be an old one
	 * whose ID left our memory, so it proves nothing and is answered
	 * where it came from. */
	ike_msgid_note(&sa->seen_in, h->msgid);
	tx = tx_new(sa, h->msgid);
	memcpy(tx->iv, iv, sizeof(iv));
	memcpy(tx->last_in_hash, hash_in, sizeof(hash_in));
	tx->out.local_port = local_port;
	tx->out.peer_port = src_port;
	config_request(cl, tx, &p, now);
}
