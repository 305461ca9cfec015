/*
 * Informational exchanges under the ISAKMP SA (RFC 2409 5.7): HDR*, HASH(1),
 * then a Notify or a Delete. Carries DPD R-U-THERE / R-U-THERE-ACK (RFC
 * 3706: SPI = both cookies, data = 32-bit sequence number), deletes, and
 * the error notifies we send. Nothing in a message counts before
 * its HASH verifies and its message ID proves it new.
 */
#include "ike/ike_int.h"
#include "core/log.h"
#include "core/util.h"

#include <arpa/inet.h>
#include <string.h>

#include <openssl/crypto.h>

/* Builds HDR*, HASH(1), <payload> with a fresh message id and sends it
 * (ports 0: the SA's). */
static void
info_send(struct ike_sa *sa, void (*put)(struct ike_builder *b, const void *arg),
	  const void *arg, uint16_t local_port, uint16_t peer_port)
{
	uint8_t iv[IKE_BLOCK], zero[IKE_HASH_MAX] = { 0 };
	struct ike_builder b;
	struct ike_hdr h;
	struct wbuf w;
	uint32_t msgid;
	size_t hash_off;

	if (sa->state != SA_ESTABLISHED)
		return;
	do {
		ike_random(&msgid, sizeof(msgid));
	} while (msgid == 0 || ike_msgid_seen(sa, msgid));
	ike_msgid_note(&sa->seen_out, msgid);
	memset(&h, 0, sizeof(h));
	memcpy(h.icookie, sa->icookie, IKE_COOKIE_LEN);
	memcpy(h.rcookie, sa->rcookie, IKE_COOKIE_LEN);
	h.version = 0x10;
	h.exchange = IKE_XCHG_INFORMATIONAL;
	h.msgid = msgid;
	wbuf_init(&w, IKE_MSG_MAX);
	ike_build_begin(&b, &w, &h);
	hash_off = w.len + 4;
	ike_pl_bytes(&b, IKE_PL_HASH, zero, sa->keys.hlen);
	put(&b, arg);
	ike_fill_hash1(sa, &w, hash_off, msgid, NULL, 0);
	ike_iv_phase2(sa->hash, sa->iv, msgid, iv);
	if (ike_encrypt_msg(sa, &b, iv) != 0)
		ike_send_once(sa, &w, local_port, peer_port);
	wbuf_free(&w);
}

struct notify_arg {
	const struct ike_sa *sa;
	uint16_t             type;
	const void          *data;
	size_t               len;
};

static void
put_notify(struct ike_builder *b, const void *arg)
{
	const struct notify_arg *n = arg;
	uint8_t spi[2 * IKE_COOKIE_LEN];

	memcpy(spi, n->sa->icookie, IKE_COOKIE_LEN);
	memcpy(spi + IKE_COOKIE_LEN, n->sa->rcookie, IKE_COOKIE_LEN);
	ike_pl_notify(b, IKE_PROTO_ISAKMP, n->type, spi, sizeof(spi), n->data, n->len);
}

void
ike_info_send_notify(struct ike_sa *sa, uint16_t type, const void *data, size_t len,
		     int64_t now)
{
	struct notify_arg n = { sa, type, data, len };

	info_send(sa, put_notify, &n, 0, 0);
}

struct delete_arg {
	uint8_t     proto, spi_size;
	const void *spis;
	uint16_t    nspis;
};

static void
put_delete(struct ike_builder *b, const void *arg)
{
	const struct delete_arg *d = arg;

	ike_pl_delete(b, d->proto, d->spis, d->spi_size, d->nspis);
}

void
ike_info_send_delete(struct ike_sa *sa, uint8_t proto, const void *spis, uint8_t spi_size,
		     uint16_t nspis, int64_t now)
{
	struct delete_arg d = { proto, spi_size, spis, nspis };

	info_send(sa, put_delete, &d, 0, 0);
}

/* ---- error notifies (R-13.5) ------------------------------------------------ */

static const uint16_t err_types[IKE_ERR__COUNT] = {
	[IKE_ERR_NO_PROPOSAL_CHOSEN] = IKE_N_NO_PROPOSAL_CHOSEN,
	[IKE_ERR_INVALID_ID] = IKE_N_INVALID_ID_INFO,
	[IKE_ERR_AUTH_FAILED] = IKE_N_AUTH_FAILED,
	[IKE_ERR_INVALID_CERT] = IKE_N_INVALID_CERTIFICATE,
	[IKE_ERR_INVALID_CERT_AUTHORITY] = IKE_N_INVALID_CERT_AUTHORITY,
	[IKE_ERR_INVALID_SIGNATURE] = IKE_N_INVALID_SIGNATURE,
};

static int
err_budget(struct ike *ike, int64_t now)
{
	if (ike_guard_notify_ok(ike, now))
		return 1;
	ike->st.err_suppressed++;
	return 0;
}

void
ike_send_error(struct ike_sa *sa, enum ike_err_notify err, int64_t now)
{
	struct notify_arg n = { sa, err_types[err], NULL, 0 };

	if (sa->state != SA_ESTABLISHED || !err_budget(sa->ike, now))
		return;
	info_send(sa, put_notify, &n, 0, 0);
	sa->ike->st.err_notifies[err]++;
}

/* Before the keys exist (or when the peer's do not match ours) a Phase 1
 * error goes out in clear: HDR, N, with message ID 0 (RFC 2408 5.x). */
void
ike_send_error_plain(struct ike *ike, const uint8_t icookie[IKE_COOKIE_LEN],
		     const uint8_t rcookie[IKE_COOKIE_LEN], uint16_t local_port, uint32_t dst_be,
		     uint16_t dst_port, enum ike_err_notify err, int64_t now)
{
	uint8_t spi[2 * IKE_COOKIE_LEN];
	struct ike_builder b;
	struct ike_hdr h;
	struct wbuf w;

	if (!err_budget(ike, now))
		return;
	memset(&h, 0, sizeof(h));
	memcpy(h.icookie, icookie, IKE_COOKIE_LEN);
	memcpy(h.rcookie, rcookie, IKE_COOKIE_LEN);
	h.version = IKE_VERSION;
	h.exchange = IKE_XCHG_INFORMATIONAL;
	memcpy(spi, icookie, IKE_COOKIE_LEN);
	memcpy(spi + IKE_COOKIE_LEN, rcookie, IKE_COOKIE_LEN);
	wbuf_init(&w, IKE_MSG_MAX);
	ike_build_begin(&b, &w, &h);
	ike_pl_notify(&b, IKE_PROTO_ISAKMP, err_types[err], spi, sizeof(spi), NULL, 0);
	if (ike_build_finish(&b) != 0) {
		ike->tr.send(ike->tr.ctx, local_port, dst_be, dst_port, w.p, w.len);
		ike->st.tx_packets++;
		ike->st.err_notifies[err]++;
	}
	wbuf_free(&w);
}

/* ---- receiving ------------------------------------------------------------ */

/* Where a message came from (for the DPD answers and port changes). */
struct origin {
	uint16_t local_port, src_port;
};

/* A DPD notify. R-U-THERE is answered unless it is a replay; proof of
 * liveness, and of the peer's ports, comes only from a probe newer than
 * any before or the ACK of the probe outstanding: an old message, whose
 * ID may have left our memory, moves nothing. */
static void
dpd_in(struct ike_sa *sa, const struct ike_notify_pl *n, const struct origin *o, int64_t now)
{
	struct notify_arg ack = { sa, IKE_N_R_U_THERE_ACK, NULL, 4 };
	uint32_t seq, be;
	char ip[16];

	if (n->data_len != 4) {
		ike_drop(sa->ike, IKE_DROP_MALFORMED, sa->peer_be, "DPD notify without a sequence number");
		return;
	}
	memcpy(&be, n->data, 4);
	seq = ntohl(be);
	/* RFC 3706 says the cookies SHOULD be checked; a mismatch is logged,
	 * not fatal, as other implementations do (the HASH has vouched). */
	if (n->spi_size != 2 * IKE_COOKIE_LEN ||
	    memcmp(n->spi, sa->icookie, IKE_COOKIE_LEN) != 0 ||
	    memcmp(n->spi + IKE_COOKIE_LEN, sa->rcookie, IKE_COOKIE_LEN) != 0)
		log_debug("DPD: cookies in the notify from %s do not match the SA",
			  ipv4_str(sa->peer_be, ip));
	if (n->type == IKE_N_R_U_THERE_ACK) {
		if (dpd_ack_received(&sa->dpd, seq, now) == 0) {
			ike_sa_peer_moved(sa, o->local_port, o->src_port);
			ike_sa_alive(sa, now);
		} else
			log_debug("DPD: R-U-THERE-ACK from %s with unexpected sequence %u",
				  ipv4_str(sa->peer_be, ip), seq);
		return;
	}
	ack.data = &be;
	switch (dpd_probe_received(&sa->dpd, seq, now)) {
	case DPD_PROBE_NEW:
		ike_sa_peer_moved(sa, o->local_port, o->src_port);
		ike_sa_alive(sa, now);
		info_send(sa, put_notify, &ack, 0, 0);
		break;
	case DPD_PROBE_REPEAT:
		/* answered where it came from, at most every IKE_RESEND_MS */
		if (sa->resent_ms != 0 && now - sa->resent_ms < IKE_RESEND_MS)
			return;
		sa->resent_ms = now;
		info_send(sa, put_notify, &ack, o->local_port, o->src_port);
		break;
	case DPD_PROBE_OLD:
		ike_drop(sa->ike, IKE_DROP_REPLAY, sa->peer_be, "R-U-THERE with an old sequence number");
		return;
	}
	dpd_ack_sent(&sa->dpd);
}

static void
notify_in(struct ike_sa *sa, const struct ike_payload *pl, const struct origin *o, int64_t now)
{
	struct ike_notify_pl n;
	char ip[16];

	if (ike_notify_parse(pl->body, pl->len, &n) == -1) {
		ike_drop(sa->ike, IKE_DROP_MALFORMED, sa->peer_be, "notify payload");
		return;
	}
	switch (n.type) {
	case IKE_N_R_U_THERE:
	case IKE_N_R_U_THERE_ACK:
		dpd_in(sa, &n, o, now);
		ike_sa_dpd_arm(sa);	/* a round may have ended */
		break;
	case IKE_N_INITIAL_CONTACT:
		break;
	default:
		/* Not proof of liveness: only what cannot be an old message
		 * (DPD, Quick Mode bound to our nonce, ESP) is. */
		log_info("ISAKMP: notify %u from %s", n.type, ipv4_str(sa->peer_be, ip));
		break;
	}
}

/* The ISAKMP SA a Delete names by its cookies, among the sender's. */
static struct ike_sa *
named_sa(struct ike_sa *sa, const struct ike_delete_pl *d)
{
	if (d->spi_size != 2 * IKE_COOKIE_LEN || d->nspis != 1)
		return NULL;
	for (struct ike_sa *o = ike_sa_of_peer(sa->ike, sa->peer_be); o != NULL;
	     o = ike_sa_next_of_peer(o)) {
		if (memcmp(d->spis, o->icookie, IKE_COOKIE_LEN) == 0 &&
		    memcmp(d->spis + IKE_COOKIE_LEN, o->rcookie, IKE_COOKIE_LEN) == 0)
			return o;
	}
	return NULL;
}

/* Removes an ISAKMP SA the peer deleted; a rekeyed one hands its tunnel
 * to its successor. */
static void
isakmp_deleted(struct ike_sa *sa, int64_t now)
{
	struct ike *ike = sa->ike;
	struct ike_sa *successor = ike_sa_sibling(ike, sa);
	struct ike_tunnel *t = sa->tunnel;
	char ip[16];

	log_info("ISAKMP: %s deleted the ISAKMP SA%s", ipv4_str(sa->peer_be, ip),
		 successor ? " (rekeyed)" : "");
	if (t != NULL && t->sa == sa && t->client != NULL) {
		/* A client's connection is its SA. Its successor (the client
		 * authenticated again) is another connection, which takes its
		 * address and pairs unless it has an address already. */
		struct ike_client *next = successor != NULL && successor->tunnel != NULL ?
		    successor->tunnel->client : NULL;

		if (next != NULL && next != t->client && next->dynmap == t->client->dynmap &&
		    next->lease == 0 && t->client->lease != 0)
			ike_client_take_over(next, t->client, now);
		ike_tunnel_down(ike, t, IKE_DOWN_ENDED, now);
	} else if (t != NULL && t->sa == sa && successor != NULL) {
		int p = ike_tunnel_peer(t, sa->peer_be);

		/* A rekey: the tunnel and its IPsec SAs carry on. */
		if (p >= 0)
			t->ps[p].rekeys++;
		t->sa = successor;
		successor->tunnel = t;
		ike_sa_delete(sa, IKE_QUIET, now);	/* its counters move into the tunnel */
	} else if (t != NULL && t->sa == sa) {
		ike_tunnel_down(ike, t, IKE_DOWN_ENDED, now);
	} else {
		ike_sa_delete(sa, IKE_QUIET, now);
	}
}

/* IPsec SAs the peer deleted: named by the SPI it receives on (our
 * outbound SPI), and only pairs negotiated with that peer. */
static void
esp_deleted(struct ike_sa *sa, const struct ike_delete_pl *d, int64_t now)
{
	struct ike_tunnel *t = sa->tunnel;
	char ip[16];

	if (d->spi_size != 4 || t == NULL)
		return;
	for (uint16_t i = 0; i < d->nspis; i++) {
		uint32_t spi = (uint32_t)d->spis[4 * i] << 24 | (uint32_t)d->spis[4 * i + 1] << 16 |
		    (uint32_t)d->spis[4 * i + 2] << 8 | d->spis[4 * i + 3];

		for (size_t k = 0; k < t->nchildren; k++) {
			if (t->children[k].sa.spi_out != spi ||
			    t->children[k].sa.peer_be != sa->peer_be)
				continue;
			log_info("IPSEC: %s deleted SA 0x%08x", ipv4_str(sa->peer_be, ip), spi);
			ike_child_remove(sa->ike, t, k, IKE_QUIET, now);
			break;
		}
	}
	ike_tunnel_children_arm(t);
}

/* Returns 1 when the ISAKMP SA the message came under was deleted. */
static int
delete_in(struct ike_sa *sa, const struct ike_payload *pl, int64_t now)
{
	struct ike_delete_pl d;
	struct ike_sa *named;

	if (ike_delete_parse(pl->body, pl->len, &d) == -1) {
		ike_drop(sa->ike, IKE_DROP_MALFORMED, sa->peer_be, "delete payload");
		return 0;
	}
	if (d.proto == IKE_PROTO_IPSEC_ESP) {
		esp_deleted(sa, &d, now);
		return 0;
	}
	if (d.proto != IKE_PROTO_ISAKMP)
		return 0;
	if ((named = named_sa(sa, &d)) == NULL) {
		ike_drop(sa->ike, IKE_DROP_NO_SA, sa->peer_be, "Delete of an ISAKMP SA we do not have");
		return 0;
	}
	isakmp_deleted(named, now);
	return named == sa;
}

void
ike_info_input(struct ike_sa *sa, const struct ike_hdr *h, uint8_t *body, size_t len,
	       uint16_t local_port, uint16_t src_port, int64_t now)
{
	uint8_t iv[IKE_BLOCK], want[IKE_HASH_MAX];
	struct origin o = { local_port, src_port };
	struct ike_chain c;
	size_t rest, end;

	if (ike_msgid_seen(sa, h->msgid)) {
		ike_drop(sa->ike, IKE_DROP_REPLAY, sa->peer_be, "Informational message ID seen before");
		return;
	}
	ike_iv_phase2(sa->hash, sa->iv, h->msgid, iv);
	if (ike_p2_open(sa, h, body, len, iv, &c) == -1)
		return;
	rest = c.pl[0].offset + 4 + c.pl[0].len;
	end = ike_chain_end(&c);
	ike_qm_hash1(&sa->keys, h->msgid, body + rest, end - rest, want);
	if (CRYPTO_memcmp(want, c.pl[0].body, sa->keys.hlen) != 0) {
		ike_drop(sa->ike, IKE_DROP_BAD_HASH, sa->peer_be, "Informational HASH(1)");
		return;
	}
	/* Authentic, and its ID is spent; whether it is new is each
	 * payload's to prove. */
	ike_msgid_note(&sa->seen_in, h->msgid);
	for (size_t i = 1; i < c.n; i++) {
		if (c.pl[i].type == IKE_PL_NOTIFY)
			notify_in(sa, &c.pl[i], &o, now);
		else if (c.pl[i].type == IKE_PL_DELETE && delete_in(sa, &c.pl[i], now))
			return;
	}
}
