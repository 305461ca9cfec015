/*
 * libFuzzer over the payloads of Main Mode with signatures: two
 * engines on ike_pair.c's wire run a signature Main Mode with the PKI of
 * tests/lib/test_ike_pki.c, and one of messages 3-6 is rewritten in flight:
 * its CERT, CERTREQ and SIG payloads are the input's (5 and 6 decrypted and
 * encrypted again with the receiver's keys, so they reach the payload walk
 * and ike_pki_check_peer: arbitrary DER as certificates and chains, and
 * signatures). Engines are made for each input and freed after it, so a
 * leak shows on the input that made it.
 *
 * Input: a flags byte, then records [type][length, 2 bytes BE][bytes]:
 *   flags bits 0-1  the message rewritten: 3, 4, 5 or 6
 *         bit 2     EC P-256 (else RSA 2048)     bit 3  peer 1 initiates
 *         bit 4     both sides check CRLs        bit 5  identity FQDN
 *         bit 6     identity DN
 *   type 6, 7, 9    a CERT, CERTREQ or SIG payload with these bytes as its body
 *   type 0x86, 0x87, 0x89   the message's own next CERT, CERTREQ or SIG
 *                   (no length or bytes follow)
 * Its other payloads (ID, KE, nonce, NAT-D, notify) stay, first; the
 * records' follow, in order. Other types end the records.
 * Oracles: the message as it was (the records its own payloads, in order)
 * must still establish both sides, as must any rewrite of 3 or 4 that
 * parses (nobody reads CERTREQ); an RSA SIG not the signer's, under its own
 * certificates, must not establish the side that checks it.
 * FUZZ_IKE_CERTS_SEEDS=dir writes the seeds (the messages' real CERT,
 * CERTREQ and SIG payloads, as bytes and as their own) and exits.
 */
#include <arpa/inet.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/log.h"
#include "ike/ike_int.h"
#include "ike_pair.h"
#include "test_ike_pki.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define OWN 0x80		/* record type bit: the message's own payload */

static struct ike_pair_wire w;
static const uint8_t *in_p;	/* the records */
static size_t in_len;
static int target;		/* 3..6 */
static int seen;		/* Main Mode messages so far */
static int rewritten, parses;	/* the rewrite was sent; its chain parses */

/* What the capture run (FUZZ_IKE_CERTS_SEEDS) saw of messages 3-6. */
static struct {
	uint8_t type[IKE_PAYLOADS_MAX];
	uint8_t body[IKE_PAYLOADS_MAX][4096];
	size_t  len[IKE_PAYLOADS_MAX], n;
} own[4];
static int capture;

static int
is_auth_payload(uint8_t type)
{
	return type == IKE_PL_CERT || type == IKE_PL_CERTREQ || type == IKE_PL_SIG;
}

/* How the rewritten payloads compare with the message's own. */
struct verdict {
	int all_own;		/* its own, all, in order */
	int certs_same;		/* the same CERT payloads, in order */
	int sig_same;		/* the first SIG (the one checked) is its own */
};
static struct verdict verdict;

static int
equal(const struct ike_payload *pl, const uint8_t *body, size_t len)
{
	return pl != NULL && pl->len == len && memcmp(pl->body, body, len) == 0;
}

/* The records' payloads after the message's others; 0, or -1 when they
 * do not fit in a message. */
static int
build(struct ike_builder *b, const struct ike_chain *c, struct verdict *v)
{
	const struct ike_payload *orig[IKE_PAYLOADS_MAX], *cert[IKE_PAYLOADS_MAX];
	const struct ike_payload *sig = ike_chain_find(c, IKE_PL_SIG);
	size_t norig = 0, ncert_orig = 0, nrec = 0, ncert = 0, nsig = 0, off = 0;
	int used[IKE_PAYLOADS_MAX] = { 0 };

	v->all_own = v->certs_same = 1;
	v->sig_same = 0;
	for (size_t i = 0; i < c->n; i++) {
		const struct ike_payload *pl = &c->pl[i];

		if (!is_auth_payload(pl->type)) {
			ike_pl_bytes(b, pl->type, pl->body, pl->len);
			continue;
		}
		orig[norig++] = pl;
		if (pl->type == IKE_PL_CERT)
			cert[ncert_orig++] = pl;
	}
	while (off < in_len) {
		uint8_t type = in_p[off++], t = type & (uint8_t)~OWN;
		const struct ike_payload *mine = NULL;
		const uint8_t *body;
		size_t len, k;

		if (!is_auth_payload(t))
			break;
		if (type & OWN) {
			for (k = 0; k < c->n && (used[k] || c->pl[k].type != t); k++)
				;
			if (k == c->n)
				continue;	/* no more of its own */
			used[k] = 1;
			mine = &c->pl[k];
			body = mine->body;
			len = mine->len;
		} else {
			if (in_len - off < 2)
				break;
			len = (size_t)in_p[off] << 8 | in_p[off + 1];
			off += 2;
			if (len > in_len - off)
				len = in_len - off;
			body = in_p + off;
			off += len;
		}
		if (mine == NULL || nrec >= norig || orig[nrec] != mine)
			v->all_own = 0;
		if (t == IKE_PL_CERT && (ncert >= ncert_orig || !equal(cert[ncert], body, len)))
			v->certs_same = 0;
		ncert += t == IKE_PL_CERT;
		if (t == IKE_PL_SIG && nsig++ == 0)
			v->sig_same = equal(sig, body, len);
		ike_pl_bytes(b, t, body, len);
		nrec++;
	}
	if (nrec != norig)
		v->all_own = 0;
	if (ncert != ncert_orig)
		v->certs_same = 0;
	return b->w->err ? -1 : 0;
}

static void
remember(int m, const struct ike_chain *c)
{
	own[m].n = 0;
	for (size_t i = 0; i < c->n; i++) {
		if (!is_auth_payload(c->pl[i].type) || c->pl[i].len > sizeof(own[m].body[0]))
			continue;
		own[m].type[own[m].n] = c->pl[i].type;
		memcpy(own[m].body[own[m].n], c->pl[i].body, c->pl[i].len);
		own[m].len[own[m].n++] = c->pl[i].len;
	}
}

/* A message's payload chain, decrypted with the receiver's SA (*rx) when
 * it is encrypted; 0 or -1. */
static int
open_msg(struct ike_pair_wire *pw, size_t i, uint8_t *body, struct ike_sa **rx,
	 struct ike_chain *c)
{
	size_t blen = pw->q[i].len - IKE_HDR_LEN;
	uint8_t iv[IKE_BLOCK];
	struct ike_hdr h;

	*rx = NULL;
	if (ike_hdr_parse(pw->q[i].d, pw->q[i].len, &h) == -1)
		return -1;
	memcpy(body, pw->q[i].d + IKE_HDR_LEN, blen);
	if (h.flags & IKE_FLAG_ENCRYPTION) {
		if ((*rx = ike_sa_find(pw->eng[pw->q[i].to], &h)) == NULL)
			abort();	/* the receiver has the SA */
		memcpy(iv, (*rx)->iv, sizeof(iv));
		if (ike_decrypt_body(*rx, body, blen, iv) == -1)
			return -1;
	}
	return ike_chain_parse(h.next_payload, body, blen, *rx != NULL, c);
}

/* q[i] becomes the message with the records' payloads (encrypted again
 * with the receiver's keys and CBC state); 0, or -1 when they do not fit. */
static int
rewrite(struct ike_pair_wire *pw, size_t i, struct ike_sa *rx, const struct ike_chain *c)
{
	uint8_t iv[IKE_BLOCK];
	struct ike_builder b;
	struct ike_sa *tx;
	struct ike_hdr h;
	struct wbuf out;
	size_t len = 0;

	ike_hdr_parse(pw->q[i].d, pw->q[i].len, &h);
	h.flags &= (uint8_t)~IKE_FLAG_ENCRYPTION;
	wbuf_init(&out, IKE_MSG_MAX);
	ike_build_begin(&b, &out, &h);
	if (build(&b, c, &verdict) == 0) {
		if (rx != NULL)
			memcpy(iv, rx->iv, sizeof(iv));
		len = rx != NULL ? ike_encrypt_msg(rx, &b, iv) : ike_build_finish(&b);
	}
	if (len > 0) {
		memcpy(pw->q[i].d, out.p, len);
		pw->q[i].len = len;
	}
	wbuf_free(&out);
	if (len == 0)
		return -1;
	/* The CBC chain runs on through 6 and Quick Mode: the sender's
	 * state is as if it had sent this message. */
	if (rx != NULL) {
		if ((tx = ike_sa_find(pw->eng[!pw->q[i].to], &h)) == NULL)
			abort();
		memcpy(tx->iv, pw->q[i].d + len - IKE_BLOCK, IKE_BLOCK);
	}
	return 0;
}

/* The wire's tap: Main Mode message `target` rewritten (lost when the
 * records do not fit); with `capture`, 3-6 remembered. */
static int
tap(struct ike_pair_wire *pw, size_t i)
{
	static uint8_t body[IKE_MSG_MAX];
	struct ike_sa *rx;
	struct ike_chain c;
	struct ike_hdr h;

	if (ike_hdr_parse(pw->q[i].d, pw->q[i].len, &h) == -1 || h.exchange != IKE_XCHG_ID_PROT)
		return 0;
	seen++;
	if (seen < 3 || seen > 6 || (!capture && seen != target))
		return 0;
	if (open_msg(pw, i, body, &rx, &c) == -1)
		abort();	/* the engine's own message */
	if (capture) {
		remember(seen - 3, &c);
		return 0;
	}
	if (rewrite(pw, i, rx, &c) == -1)
		return 1;
	rewritten = 1;
	/* the receiver's walk of it: unless it is too long, the same as ours */
	parses = open_msg(pw, i, body, &rx, &c) == 0;
	return 0;
}

static int
established(struct ike *ike)
{
	return ike->ntunnels > 0 && ike->tunnels[0].sa != NULL &&
	    ike->tunnels[0].sa->state == SA_ESTABLISHED;
}

/* One signature Main Mode with these flags, the tap rewriting `target`. */
static void
run(uint8_t flags)
{
	static struct ike_psk_conf psk[2];
	static struct ike_map_conf maps[2];
	static char fqdn[2][32] = { "site-a.example.net", "site-b.example.net" };
	const struct tpki *pki = tpki_get(flags & 4 ? TPKI_EC : TPKI_RSA);
	int init = (flags >> 3) & 1;

	w.n = 0;
	w.tap = tap;
	seen = rewritten = parses = 0;
	for (int i = 0; i < 2; i++) {
		struct ike_transport tr = { &w, ike_pair_send };
		struct ike_conf c;

		w.eng[i] = ike_new_slots(&tr, NULL, 64);	/* few timers, made often */
		ike_pair_conf(i, w.addr, 19, IKE_HASH_SHA256, &c, &maps[i], &psk[i]);
		c.policies[0].auth = flags & 4 ? IKE_AUTH_METHOD_ECDSA_P256 : IKE_AUTH_METHOD_RSA;
		c.cert_pem = pki->leaf[i == 0 ? TPKI_SITE_A : TPKI_SITE_B].cert;
		c.key_pem = pki->leaf[i == 0 ? TPKI_SITE_A : TPKI_SITE_B].key;
		c.cas_pem = pki->root;
		c.crls_pem = flags & 0x10 ? pki->crls : NULL;
		c.identity_dn = (flags >> 6) & 1;
		c.identity_fqdn = (flags >> 5) & 1;
		memcpy(c.hostname, fqdn[i], sizeof(fqdn[i]));
		maps[i].initiate = i == init;
		ike_configure(w.eng[i], &c, 1000);
	}
	for (int round = 0; round < 8 && (round == 0 || w.n > 0); round++) {
		ike_timer(w.eng[0], 1000);
		ike_timer(w.eng[1], 1000);
		ike_pair_pump(&w, 1000);
	}
}

static void
done(void)
{
	for (int i = 0; i < 2; i++) {
		ike_free(w.eng[i]);
		w.eng[i] = NULL;
	}
	w.n = 0;
}

static void
put_record(FILE *f, uint8_t type, const uint8_t *body, size_t len)
{
	uint8_t l[2] = { (uint8_t)(len >> 8), (uint8_t)len };

	fputc(type, f);
	if (type & OWN)
		return;
	fwrite(l, 1, 2, f);
	fwrite(body, 1, len, f);
}

/* Per kind and message, its payloads: all its own (markers), all as
 * bytes; for 5 and 6 also its own certificates with the SIG as bytes, and
 * its own leaf with the rest as bytes (in a later run those bytes are
 * another run's: a signature of other hashes, a foreign intermediate). */
static void
write_seeds(const char *dir)
{
	static const char *const variant[] = { "own", "bytes", "sig", "chain" };
	char path[512];

	for (int kind = 0; kind < 2; kind++) {
		capture = 1;
		run((uint8_t)(kind << 2));
		capture = 0;
		if (!established(w.eng[0]) || !established(w.eng[1]))
			abort();
		done();
		for (int m = 0; m < 4; m++) {
			for (int var = 0; var < (m < 2 ? 2 : 4); var++) {
				FILE *f;

				snprintf(path, sizeof(path), "%s/%s-msg%d-%s", dir, kind ? "ecdsa" : "rsa",
					 m + 3, variant[var]);
				if ((f = fopen(path, "wb")) == NULL)
					abort();
				fputc((kind << 2) | m, f);
				for (size_t k = 0; k < own[m].n; k++) {
					int bytes = var == 1 || (var == 2 && own[m].type[k] == IKE_PL_SIG) ||
					    (var == 3 && k > 0);

					put_record(f, bytes ? own[m].type[k] : (uint8_t)(OWN | own[m].type[k]),
						   own[m].body[k], own[m].len[k]);
				}
				fclose(f);
			}
		}
	}
	_exit(0);	/* not exit(): libFuzzer takes that for a crash */
}

static void
setup(void)
{
	log_init("fuzz", getenv("FUZZ_LOG") ? LOG_LEVEL_DEBUG : LOG_LEVEL__COUNT);	/* silent */
	w.addr[0] = htonl(0xc0000201);		/* 192.0.2.1, 192.0.2.2: the leaves' */
	w.addr[1] = htonl(0xc0000202);
	tpki_get(TPKI_RSA);
	tpki_get(TPKI_EC);
	if (getenv("FUZZ_IKE_CERTS_SEEDS") != NULL)
		write_seeds(getenv("FUZZ_IKE_CERTS_SEEDS"));
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int ready;
	uint8_t flags;
	int checker;

	if (!ready) {
		setup();
		ready = 1;
	}
	if (size == 0)
		return 0;
	flags = data[0];
	in_p = data + 1;
	in_len = size - 1;
	target = 3 + (flags & 3);
	run(flags);
	/* 5 is the initiator's, checked by the responder; 6 the other way */
	checker = target == 5 ? !((flags >> 3) & 1) : (flags >> 3) & 1;
	if (rewritten && parses && (verdict.all_own || target <= 4) &&
	    !(established(w.eng[0]) && established(w.eng[1])))
		abort();	/* the exchange broke without cause */
	if (rewritten && parses && !(flags & 4) && target >= 5 && verdict.certs_same &&
	    !verdict.sig_same &&
	    established(w.eng[checker]))
		abort();	/* an RSA SIG not the signer's verified */
	done();
	return 0;
}
