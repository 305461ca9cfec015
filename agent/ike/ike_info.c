/*
 * Informational exchanges under the ISAKMP SA (RFC 2409 5.7): HDR*, HASH(1),
 * then a Notify or a Delete. Carries DPD R-U-THERE / R-U-THERE-ACK (RFC
 * 3706: SPI = both cookies, data = 32-bit sequence number) and deletes.
 */
#include "ike/ike_int.h"
#include "core/log.h"
#include "core/util.h"

#include <arpa/inet.h>
#include <string.h>

#include <openssl/crypto.h>

/* Builds HDR*, HASH(1), <payload> with a fresh message id and sends it. */
static void
info_send(struct ike_sa *sa, void (*put)(struct ike_builder *b, const void *arg),
	  const void *arg)
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
	} while (msgid == 0);
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
		ike_send_once(sa, &w);
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

	info_send(sa, put_notify, &n);
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

	info_send(sa, put_delete, &d);
}

/* ---- receiving ------------------------------------------------------------ */

static void
notify_in(struct ike_sa *sa, const struct ike_payload *pl, int64_t now)
{
	struct ike_notify_pl n;
	uint32_t seq;
	char ip[16];

	if (ike_notify_parse(pl->body, pl->len, &n) == -1) {
		sa->ike->st.rx_malformed++;
		return;
	}
	switch (n.type) {
	case IKE_N_R_U_THERE:
	case IKE_N_R_U_THERE_ACK:
		if (n.data_len != 4) {
			sa->ike->st.rx_malformed++;
			return;
		}
		memcpy(&seq, n.data, 4);
		seq = ntohl(seq);
		/* RFC 3706 says the cookies SHOULD be checked; a mismatch is
		 * logged, not fatal, as other implementations do. */
		if (n.spi_size != 2 * IKE_COOKIE_LEN ||
		    memcmp(n.spi, sa->icookie, IKE_COOKIE_LEN) != 0 ||
		    memcmp(n.spi + IKE_COOKIE_LEN, sa->rcookie, IKE_COOKIE_LEN) != 0)
			log_debug("DPD: cookies in the notify from %s do not match the SA",
				  ipv4_str(sa->peer_be, ip));
		if (n.type == IKE_N_R_U_THERE) {
			uint32_t be = htonl(seq);

			dpd_probe_received(&sa->dpd, seq, now);
			ike_info_send_notify(sa, IKE_N_R_U_THERE_ACK, &be, sizeof(be), now);
			dpd_ack_sent(&sa->dpd);
		} else if (dpd_ack_received(&sa->dpd, seq, now) == -1) {
			log_debug("DPD: R-U-THERE-ACK from %s with unexpected sequence %u",
				  ipv4_str(sa->peer_be, ip), seq);
		}
		break;
	case IKE_N_INITIAL_CONTACT:
		dpd_liveness(&sa->dpd, now);
		break;
	default:
		dpd_liveness(&sa->dpd, now);
		log_info("ISAKMP: notify %u from %s", n.type, ipv4_str(sa->peer_be, ip));
		break;
	}
}

/* Returns 1 when the ISAKMP SA itself was deleted. */
static int
delete_in(struct ike_sa *sa, const struct ike_payload *pl, int64_t now)
{
	struct ike *ike = sa->ike;
	struct ike_delete_pl d;
	char ip[16];

	if (ike_delete_parse(pl->body, pl->len, &d) == -1) {
		ike->st.rx_malformed++;
		return 0;
	}
	if (d.proto == IKE_PROTO_ISAKMP) {
		struct ike_sa *successor = ike_sa_sibling(ike, sa);
		struct ike_tunnel *t = sa->tunnel;

		log_info("ISAKMP: %s deleted the ISAKMP SA%s", ipv4_str(sa->peer_be, ip),
			 successor ? " (rekeyed)" : "");
		if (t != NULL && t->sa == sa && successor != NULL) {
			int p = ike_tunnel_peer(t, sa->peer_be);

			/* A rekey: the tunnel and its IPsec SAs carry on. */
			if (p >= 0)
				t->rekeys[p]++;
			t->sa = successor;
			successor->tunnel = t;
			ike_sa_delete(sa, 0, now);	/* its counters move into the tunnel */
		} else if (t != NULL && t->sa == sa) {
			ike_tunnel_down(ike, t, -1, now);
		} else {
			ike_sa_delete(sa, 0, now);
		}
		return 1;
	}
	if (d.proto == IKE_PROTO_IPSEC_ESP && d.spi_size == 4 && sa->tunnel != NULL) {
		struct ike_tunnel *t = sa->tunnel;

		for (uint16_t i = 0; i < d.nspis; i++) {
			uint32_t spi = (uint32_t)d.spis[4 * i] << 24 | (uint32_t)d.spis[4 * i + 1] << 16 |
			    (uint32_t)d.spis[4 * i + 2] << 8 | d.spis[4 * i + 3];

			for (size_t k = 0; k < t->nchildren; k++) {
				if (t->children[k].sa.spi_out != spi)
					continue;
				log_info("IPSEC: %s deleted SA 0x%08x", ipv4_str(sa->peer_be, ip), spi);
				ike_child_remove(ike, t, k, 0, now);
				break;
			}
		}
	}
	return 0;
}

void
ike_info_input(struct ike_sa *sa, const struct ike_hdr *h, uint8_t *body, size_t len,
	       int64_t now)
{
	uint8_t iv[IKE_BLOCK], want[IKE_HASH_MAX];
	struct ike_chain c;
	size_t rest, end;

	ike_iv_phase2(sa->hash, sa->iv, h->msgid, iv);
	if (ike_p2_open(sa, h, body, len, iv, &c) == -1)
		return;
	rest = c.pl[0].offset + 4 + c.pl[0].len;
	end = ike_chain_end(&c);
	ike_qm_hash1(&sa->keys, h->msgid, body + rest, end - rest, want);
	if (CRYPTO_memcmp(want, c.pl[0].body, sa->keys.hlen) != 0) {
		sa->ike->st.rx_bad_hash++;
		return;
	}
	for (size_t i = 1; i < c.n; i++) {
		if (c.pl[i].type == IKE_PL_NOTIFY)
			notify_in(sa, &c.pl[i], now);
		else if (c.pl[i].type == IKE_PL_DELETE && delete_in(sa, &c.pl[i], now))
			return;
	}
}
